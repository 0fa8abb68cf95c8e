"""The vocabulary that travels in every model bundle (``vocab.json``).

Ids are positions in ``tokens``: the special tokens first (in
``tokenizer.SPECIAL_TOKENS`` order), then punctuation and words, most
frequent first.  ``display`` holds each token's most frequent written form
("i" -> "I", "london" -> "London"), which is what the suggestion strip shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from . import jsonfile
from .tokenizer import SPECIAL_TOKENS, UNK

VOCAB_FORMAT = "keyboard-vocab"
VOCAB_FORMAT_VERSION = 1


class VocabError(ValueError):
    """The vocabulary file is malformed."""


@dataclass
class Vocabulary:
    tokens: list[str]
    display: list[str]
    counts: list[int]
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not (len(self.tokens) == len(self.display) == len(self.counts)):
            raise VocabError("tokens, display forms and counts differ in length")
        if tuple(self.tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise VocabError(f"the first tokens must be the special tokens {SPECIAL_TOKENS}")
        self._index = {token: i for i, token in enumerate(self.tokens)}
        if len(self._index) != len(self.tokens):
            raise VocabError("the vocabulary lists a token twice")

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    @property
    def unk_id(self) -> int:
        return self._index[UNK]

    def id(self, token: str) -> int:
        """The id of ``token``, or the unknown-word id."""
        return self._index.get(token, self._index[UNK])

    def encode(self, tokens: list[str]) -> list[int]:
        index, unk = self._index, self._index[UNK]
        return [index.get(t, unk) for t in tokens]

    def to_dict(self) -> dict:
        return {
            "format": VOCAB_FORMAT,
            "format_version": VOCAB_FORMAT_VERSION,
            "size": len(self.tokens),
            "tokens": self.tokens,
            "display": self.display,
            "counts": self.counts,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Vocabulary":
        check_header(data, VOCAB_FORMAT, VOCAB_FORMAT_VERSION, "vocabulary")
        return cls(*word_lists(data, "tokens"))

    def save(self, path: Path) -> None:
        """Write as JSON (the caller makes it atomic; see ``bundle.write_bundle``)."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Vocabulary":
        return cls.from_dict(read_json(path))


# -- shared by the bundle's word files (vocab.json, lexicon.json) -----------------------


def read_json(path: Path):
    """The file's JSON (``jsonfile``'s limits); ``VocabError`` (one clause) otherwise."""
    try:
        return jsonfile.load(path)
    except jsonfile.JSONFileError as e:
        raise VocabError(str(e)) from e
    except OSError as e:
        raise VocabError(f"it cannot be read ({e.strerror or e})") from e


def check_header(data, format_name: str, version: int, what: str) -> None:
    if not isinstance(data, dict) or data.get("format") != format_name:
        raise VocabError(f"it is not a keyboard {what} file")
    if data.get("format_version") != version:
        raise VocabError(
            f"its format version {data.get('format_version')!r} is not supported (expected {version})"
        )


def word_lists(data: dict, key: str) -> tuple[list[str], list[str], list[int]]:
    """``data[key]``, its display forms and counts, checked against the declared size."""
    try:
        words = list(map(str, data[key]))  # (map: quicker than a comprehension)
        display = list(map(str, data["display"]))
        counts = list(map(int, data["counts"]))
    except (KeyError, TypeError, ValueError) as e:
        raise VocabError(f"a field is missing or malformed ({e})") from e
    if data.get("size") != len(words):
        raise VocabError(f"it declares {data.get('size')} {key} but lists {len(words)}")
    if len(display) == len(words):
        # most words are written as they are: their display form is then the word's own
        # string, not the copy the JSON parser made (a second string a word, kept for good)
        display = [w if d == w else d for w, d in zip(words, display)]
    return words, display, counts
