"""The BYU Chit-Chat Challenge dataset (PyPI ``chitchat-dataset``; MIT): everyday chat.

7,168 conversations between 1,315 people who chatted to each other in 2018
(BYU's Perception, Control and Cognition lab), 258k messages, 2.5M words: the
everyday, first-person English ("how are you doing?", "see you later") the
other sources lack.  The package ships the whole dataset as one JSON file
(a mapping from conversation id to ``{"messages": [[{"text": ...}, ...], ...]}``,
a turn being a list of one person's messages in a row).

Each conversation is a document and each message a paragraph: in a chat every
message is a line of its own, as a line typed in the editor is.  Cleaning,
so that the model learns what a person types and offers what they would want
to see:

* a message of punctuation alone ("?", "!!") ends the message before it, as
  its writer meant;
* the contractions chat writes without their apostrophe are given it back
  where the bare form is not a word of its own ("im" -> "I'm", "dont" ->
  "don't", "thats" -> "that's"; not "its", "ill", "id", "were", "well",
  "hell", "lets", "wont", "shell", whose bare forms are words), and "i" alone
  is "I": a strip that offers "dont" teaches a misspelling;
* conversations of fewer than two messages are left out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .packages import package_folders
from .source import Context
from .text import Document, norm_space

# bare form -> with its apostrophe; only forms that are not words of their own
CONTRACTIONS = {
    "im": "i'm", "ive": "i've", "dont": "don't", "doesnt": "doesn't", "didnt": "didn't",
    "cant": "can't", "isnt": "isn't", "arent": "aren't", "wasnt": "wasn't", "werent": "weren't",
    "havent": "haven't", "hasnt": "hasn't", "hadnt": "hadn't", "couldnt": "couldn't",
    "wouldnt": "wouldn't", "shouldnt": "shouldn't", "thats": "that's", "whats": "what's",
    "theres": "there's", "youre": "you're", "theyre": "they're", "youve": "you've",
    "theyve": "they've", "weve": "we've", "wouldve": "would've", "couldve": "could've",
    "shouldve": "should've", "youll": "you'll", "theyll": "they'll", "itll": "it'll",
    "hes": "he's", "shes": "she's", "whos": "who's", "wheres": "where's",
    "aint": "ain't", "yall": "y'all",
}
_WORD = re.compile(r"(?<![\w'])([A-Za-z]+)(?![\w'])")
_I_FORMS = re.compile(r"(?<![\w'])i(?=(?:'(?:m|ve|ll|d))?(?![\w']))(?!\.\w)")  # (not "i.e.")
_ONLY_PUNCTUATION = re.compile(r"^[.!?,;:…]+$")


def find_chitchat_json(ctx: Context) -> Path | None:
    """chitchat_dataset/dataset.json, installed anywhere or in the cache."""
    for folder in package_folders("chitchat_dataset", ctx):
        if (folder / "dataset.json").is_file():
            return folder / "dataset.json"
    return None


def _restore(match: re.Match) -> str:
    word = match.group(1)
    full = CONTRACTIONS.get(word.lower())
    if full is None:
        return word
    if full.startswith("i'"):
        return "I" + full[1:]
    return full[0].upper() + full[1:] if word[0].isupper() else full


def clean_message(text: str) -> str:
    """One chat message as the corpus keeps it (module docstring)."""
    text = norm_space(text.replace("\u2019", "'"))
    text = _WORD.sub(_restore, text)
    return _I_FORMS.sub("I", text)


def conversation_paragraphs(conversation: dict) -> Document:
    """The messages of one conversation, in order, cleaned; punctuation alone joins the one before."""
    out: Document = []
    for turn in conversation.get("messages", []):
        for message in turn:
            text = clean_message(str(message.get("text", "")))
            if not text:
                continue
            if _ONLY_PUNCTUATION.match(text):
                if out:
                    out[-1] = out[-1].rstrip() + text
                continue
            out.append(text)
    return out


def extract_chitchat(ctx: Context) -> list[Document]:
    """One document per conversation (two messages or more), in the dataset's order."""
    path = find_chitchat_json(ctx)
    assert path is not None
    data = json.loads(path.read_text(encoding="utf-8"))
    docs = [conversation_paragraphs(c) for c in data.values()]
    return [d for d in docs if len(d) >= 2]
