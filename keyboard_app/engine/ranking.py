"""Which vocabulary words may be suggested, how they are ranked, and how they are written.

``WordIndex`` holds the suggestable words (never the special tokens, never
punctuation) twice: by id, for next-word suggestions over the whole
distribution, and sorted by their lowercase form, so that the words starting
with a typed prefix are one contiguous range found by binary search.  Top-k
uses ``numpy.argpartition`` (a full sort of 20k scores is about 10x slower);
ties are broken by id, so the best ``k`` are always the first ``k`` of the
best ``k + 1``, which the evaluation relies on.

``written_form`` decides the capitals of a suggestion from the word's display
form (its most frequent written form: "I", "London"), the letters typed so
far and whether a sentence starts there.
"""

from __future__ import annotations

import re
from bisect import bisect_left

import numpy as np

from .tokenizer import SPECIAL_TOKENS
from .vocab import Vocabulary

# A word as the tokenizer makes one (letters, inner apostrophes), without digits.
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_BEYOND = "\U0010ffff"  # sorts after every character a word can hold


def is_suggestable(token: str) -> bool:
    # letters only (most words) is a word; anything else asks the pattern
    return token not in SPECIAL_TOKENS and (token.isalpha() or _WORD.fullmatch(token) is not None)


class WordIndex:
    """The suggestable words of a vocabulary, by id and by lowercase form."""

    def __init__(self, vocab: Vocabulary) -> None:
        ids = [i for i, token in enumerate(vocab.tokens) if is_suggestable(token)]
        keys = [vocab.tokens[i].lower() for i in ids]
        order = sorted(range(len(ids)), key=lambda j: (keys[j], ids[j]))
        self.word_ids = np.array(ids, np.int64)
        self._keys = [keys[j] for j in order]
        self.sorted_ids = np.array([ids[j] for j in order], np.int64)  # by lowercase form, then id
        #: each id's place in ``sorted_ids`` (-1: not a suggestable word), so that "does this
        #: word start with the prefix" is ``lo <= position[id] < hi`` for the prefix's ``span``
        self.position = np.full(len(vocab), -1, np.int64)
        self.position[self.sorted_ids] = np.arange(len(ids))

    def __len__(self) -> int:
        return len(self.word_ids)

    def candidates(self, prefix: str = "") -> np.ndarray:
        """Ids of the words starting with ``prefix`` (lowercase), all words for ``""``."""
        if not prefix:
            return self.word_ids
        lo, hi = self.span(prefix)
        return self.sorted_ids[lo:hi]

    def span(self, prefix: str = "") -> tuple[int, int]:
        """The range of ``sorted_ids`` holding the words that start with ``prefix`` (lowercase)."""
        if not prefix:
            return 0, len(self._keys)
        lo = bisect_left(self._keys, prefix)
        return lo, bisect_left(self._keys, prefix + _BEYOND, lo)

    @staticmethod
    def best(log_probs: np.ndarray, ids: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` best of ``ids`` by ``log_probs``, best first, ties by id: (id, log_prob)."""
        if k <= 0 or len(ids) == 0:
            return []
        return top_k(log_probs[ids], ids, k)


def top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best ``ids`` by their ``scores`` (aligned), best first, ties by id."""
    if k <= 0 or len(ids) == 0:
        return []
    if len(ids) <= 48:  # a few: sorting Python floats is quicker than NumPy's calls
        return [(i, -negative) for negative, i in sorted(zip((-scores).tolist(), ids.tolist()))[:k]]
    if k < len(ids):
        top = np.argpartition(scores, len(ids) - k)[len(ids) - k :]
        chosen = np.flatnonzero(scores >= scores[top].min())  # every tie of the k-th
    else:
        chosen = np.arange(len(ids))
    order = np.lexsort((ids[chosen], -scores[chosen]))[:k]
    return [(int(ids[chosen[j]]), float(scores[chosen[j]])) for j in order]


def written_form(display: str, typed: str, sentence_start: bool) -> str:
    """How a suggestion is written: ``typed`` in capitals ("LON") gives "LONDON",
    a typed capital ("Lon") or a sentence start gives "London", else the display form."""
    if len(typed) >= 2 and typed.isupper():
        return display.upper()
    if sentence_start or typed[:1].isupper():
        return display[:1].upper() + display[1:]
    return display
