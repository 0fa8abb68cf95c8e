"""Contract 1: the tokenizer that training and prediction share.

One regular expression decides what a token is, so the two sides can never
disagree:

* a run of word characters with inner apostrophes ("don't", "o'clock") is one
  word token, lowercased for the model; its written form is kept for display;
* a number ("42", "1,000.5", "3rd", "12:30") becomes ``<num>``, a URL ``<url>``,
  an e-mail address ``<email>``;
* each of ``. , ! ? ; :`` (``PUNCTUATION``) is a token of its own (a run of
  the same mark, as in "...", is one token);
* a blank line (paragraph break) becomes the boundary token ``<s>``; every
  text also starts with ``<s>``;
* anything else (quotes, brackets, dashes, symbols, emoji, control
  characters) is skipped.

The scanner is restartable: tokenizing ``text[pos:]`` from the start offset of
any token gives the same tokens as the full scan from there on, which is what
lets the engine retokenize only the end of a long document.

This module imports nothing outside the standard library: the app, the engine
and ``model_training`` all use it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Iterable, Iterator, NamedTuple

UNK = "<unk>"
BOS = "<s>"
NUM = "<num>"
URL = "<url>"
EMAIL = "<email>"
#: Special tokens, in the order they take the first vocabulary ids.
SPECIAL_TOKENS: tuple[str, ...] = (UNK, BOS, NUM, URL, EMAIL)

TOKENIZER_VERSION = 1

#: The marks that are tokens of their own.  A rule of this tokenizer version, not a
#: setting: changing it changes what the model was trained on, so it would be a new
#: ``TOKENIZER_VERSION``.  (Manifests written before may record it as
#: ``tokenizer.punctuation``, always this value; loading ignores it.)
PUNCTUATION = ".,!?;:"
_PUNCT = "|".join(re.escape(mark) + "+" for mark in PUNCTUATION)  # a run of one mark

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'"})
#: The apostrophes that join a word's parts ("isn't", "isn’t"), as the patterns below read them.
WORD_APOSTROPHES = frozenset("'\u2019\u02bc")

_PATTERN = re.compile(
    r"""
    (?P<para>\n[^\S\n]*\n\s*)                               # blank line(s)
  | (?P<url>(?:https?://|www\.)[^\s<>"'()\[\]{}]*[^\s<>"'()\[\]{}.,;:!?])
  | (?P<email>(?<![\w.+-])[\w.+-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+)
  | (?P<number>\d+(?:[.,:/]\d+)*(?:[^\W_]+)?)
  | (?P<word>[^\W_]+(?:['\u2019\u02bc][^\W_]+)*)
  | (?P<punct>""" + _PUNCT + r""")
    """,
    re.VERBOSE,
)

_DIGIT = re.compile(r"\d")

# The word being typed at the end of the text: letters, and apostrophes inside
# (a trailing apostrophe, as in "don'", still belongs to it).
_PARTIAL_WINDOW = 16  # characters searched first for the word being typed (it grows as needed)
_PARTIAL = re.compile(r"[^\W_]+(?:['\u2019\u02bc][^\W_]+)*['\u2019\u02bc]?\Z")


@dataclass(frozen=True)
class TokenizerSettings:
    """Recorded in every bundle's manifest; loading checks it matches."""

    version: int = TOKENIZER_VERSION
    lowercase: bool = True  # the model sees lowercase; display forms keep case
    sentence_end: str = ".!?"  # marks (of PUNCTUATION) after which a sentence starts
    special_tokens: tuple[str, ...] = field(default=SPECIAL_TOKENS)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["special_tokens"] = list(self.special_tokens)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TokenizerSettings":
        """From a manifest's ``tokenizer``; fields this version does not have (an old
        manifest's ``punctuation``) are ignored."""
        known = {f: data[f] for f in cls.__dataclass_fields__ if f in data}
        if "special_tokens" in known:
            known["special_tokens"] = tuple(known["special_tokens"])
        return cls(**known)


class Token(NamedTuple):
    """One token: what the model sees, how it was written, and where."""

    token: str  # model form: lowercased word, punctuation mark or special
    surface: str  # the text as written ("London", "don't", "1,000")
    start: int  # offsets into the scanned text
    end: int
    initial: bool  # first word of a sentence (its capital says nothing)


@dataclass(frozen=True)
class Context:
    """The text before the cursor, split the way the predictor needs it."""

    tokens: list[str]  # committed tokens, starting with BOS
    partial: str  # the word being typed, as written ("" after a space)
    partial_start: int  # offset of the partial word in the text
    sentence_start: bool  # the next word starts a sentence


class Tokenizer:
    """Splits text into model tokens; see the module docstring for the rules."""

    def __init__(self, settings: TokenizerSettings | None = None) -> None:
        self.settings = settings or TokenizerSettings()
        if self.settings.version != TOKENIZER_VERSION:
            raise ValueError(
                f"tokenizer version {self.settings.version} is not supported "
                f"(this program has version {TOKENIZER_VERSION})"
            )
        self._sentence_end = frozenset(self.settings.sentence_end)

    def is_sentence_end(self, token: str) -> bool:
        return token == BOS or (bool(token) and token[0] in self._sentence_end)

    def iter_tokens(
        self, text: str, pos: int = 0, endpos: int | None = None, *, initial: bool = True
    ) -> Iterator[Token]:
        """Scan ``text[pos:endpos]``; ``initial`` says whether a sentence starts at ``pos``."""
        end = len(text) if endpos is None else endpos
        lower = self.settings.lowercase
        for match in _PATTERN.finditer(text, pos, end):
            kind = match.lastgroup
            surface = match.group()
            if kind == "word":
                surface = surface.translate(_APOSTROPHES)
                if _DIGIT.search(surface):
                    yield Token(NUM, surface, match.start(), match.end(), initial)
                else:
                    token = surface.lower() if lower else surface
                    yield Token(token, surface, match.start(), match.end(), initial)
                initial = False
            elif kind == "punct":
                yield Token(surface[0], surface, match.start(), match.end(), False)
                initial = surface[0] in self._sentence_end
            elif kind == "para":
                yield Token(BOS, surface, match.start(), match.end(), False)
                initial = True
            else:
                yield Token(_CLASS_TOKENS[kind], surface, match.start(), match.end(), initial)
                initial = False

    def tokenize(self, text: str) -> list[str]:
        """Model tokens of ``text``, without the leading BOS."""
        return [t.token for t in self.iter_tokens(text)]

    def iter_stream(self, lines: Iterable[str]) -> Iterator[Token]:
        """Tokens of a file read line by line: BOS first and at each blank line.

        Memory stays bounded by the longest line, so corpora far larger than
        memory can be streamed.  Offsets are relative to each line.
        """
        yield Token(BOS, "", 0, 0, False)
        initial = True
        previous_blank = True
        for line in lines:
            if not line.strip():
                if not previous_blank:
                    yield Token(BOS, "", 0, 0, False)
                    initial = True
                previous_blank = True
                continue
            previous_blank = False
            for token in self.iter_tokens(line, initial=initial):
                yield token
                initial = self.is_sentence_end(token.token)

    def split_context(self, text: str) -> Context:
        """Split the text before the cursor into committed tokens and the partial word."""
        start = partial_start(text)
        tokens = [BOS]
        tokens.extend(t.token for t in self.iter_tokens(text, 0, start))
        return Context(
            tokens=tokens,
            partial=normalise_apostrophes(text[start:]),
            partial_start=start,
            sentence_start=self.is_sentence_end(tokens[-1]),
        )


def normalise_apostrophes(text: str) -> str:
    """Curly and modifier apostrophes as the tokenizer writes them (')."""
    return text.translate(_APOSTROPHES)


def partial_start(text: str, end: int | None = None) -> int:
    """Where the word being typed starts in ``text[:end]`` (``end`` if there is none).

    Searches a window before ``end`` rather than the whole text, so it costs
    the same on a long document: the pattern has no look-behind, so a match
    found more than one character after the start of a window cannot extend
    further left (a suffix of a match, from a letter or from the letter after
    an inner apostrophe, is a match too); otherwise the window grows.
    A partial word glued to or inside a number ("12ab", "1,00") is not a
    word being typed.
    """
    end = len(text) if end is None else end
    size = _PARTIAL_WINDOW
    while True:
        lo = max(0, end - size)
        match = _PARTIAL.search(text, lo, end)
        if lo == 0 or match is None or match.start() > lo + 1:
            break
        size *= 4
    if match is None or _DIGIT.search(match.group()):
        return end
    return match.start()


_CLASS_TOKENS = {"url": URL, "email": EMAIL, "number": NUM}
