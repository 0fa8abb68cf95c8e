"""scripts/corpus_sources/chitchat.py: chat messages as the corpus keeps them.

The conversations here are written in the dataset's layout (a mapping from id
to messages grouped in turns), so the package is not needed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from corpus_sources import chitchat  # noqa: E402
from corpus_sources.source import Context  # noqa: E402


def message(text: str) -> dict:
    return {"text": text, "timestamp": "2018-04-19T19:57:51", "sender": "x"}


def test_contractions_get_their_apostrophe_back_where_the_bare_form_is_no_word():
    assert chitchat.clean_message("im doing good, dont worry") == "I'm doing good, don't worry"
    assert chitchat.clean_message("Thats what i said") == "That's what I said"
    assert chitchat.clean_message("ive been there and youre right") == "I've been there and you're right"
    # bare forms that are words of their own stay as written
    assert chitchat.clean_message("its tail, ill health, well done, were there") == \
        "its tail, ill health, well done, were there"
    # "i" alone, and in its own contractions, is a capital; inside words it is not touched
    assert chitchat.clean_message("i think i'm ok, i've an iPhone") == "I think I'm ok, I've an iPhone"
    assert chitchat.clean_message("it\u2019s  fine\u00a0now") == "it's fine now"
    assert chitchat.clean_message("i.e. the small one, i guess") == "i.e. the small one, I guess"


def test_each_message_is_a_paragraph_and_punctuation_alone_ends_the_one_before():
    conversation = {"messages": [[message("Hello"), message("was it a corgi"), message("?")],
                                 [message("  "), message("yes haha")]]}
    assert chitchat.conversation_paragraphs(conversation) == ["Hello", "was it a corgi?", "yes haha"]


def test_the_dataset_becomes_one_document_per_conversation_of_two_messages_or_more(tmp_path):
    folder = tmp_path / "pip" / "chitchat_dataset"
    folder.mkdir(parents=True)
    data = {"a": {"messages": [[message("hi")], [message("hey, whats up")]]},
            "b": {"messages": [[message("anyone here?")]]},
            "c": {"messages": [[message("good morning")], [message("morning!"), message("how are you")]]}}
    (folder / "dataset.json").write_text(json.dumps(data), encoding="utf-8")
    ctx = Context(cache_dir=tmp_path)
    assert chitchat.find_chitchat_json(ctx) == folder / "dataset.json"
    assert chitchat.extract_chitchat(ctx) == [["hi", "hey, what's up"], ["good morning", "morning!", "how are you"]]
