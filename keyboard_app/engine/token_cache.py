"""Contract 3, first half: the committed tokens of the text before the cursor,
kept between keystrokes and rescanned only where the text changed.

The cache holds a *branch*: a text, the offset where its committed part ends
(before the word being typed), and the tokens of that part (ids, start
offsets, whether each ends a sentence).  A new text before the cursor is
compared with it:

* the same committed text (a keystroke inside a word): nothing is scanned;
* a prefix of it (the cursor moved left, a backspace): the branch is kept,
  so moving back to where it was costs nothing either, and the view is the
  branch's first ``length`` tokens;
* anything else (typing on, a paste, an edit in the middle): the branch is
  rewritten from the last safe restart point before the first changed
  character, and the caller learns the first token index whose id changed.

The safe restart point: every alternative of the tokenizer's pattern stops at
whitespace, except a paragraph break, which stops at the first non-blank
character after it.  So a match attempted before a position ``J`` where a
non-blank character follows a blank one examines nothing past ``J``, and no
token spans ``J``.  Tokens starting before the last such ``J`` inside the
unchanged text are therefore unchanged, and scanning from ``J`` gives what a
full scan gives from there (the tokenizer's scanner is restartable).
``tests/engine/test_token_cache.py`` checks both against full scans.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from .ranking import NAME_CAPITAL, is_suggestable
from .tokenizer import BOS, Tokenizer, normalise_apostrophes, partial_start
from .vocab import Vocabulary

_TRANSITION = re.compile(r"\s(?=\S)")  # a blank followed by a non-blank
_TRANSITION_WINDOW = 32  # characters searched first (the window grows where it holds none)


@dataclass(frozen=True)
class View:
    """The text before the cursor, as the cache sees it."""

    length: int  # committed tokens (BOS included): the branch's ids[:length]
    partial: str  # the word being typed, as written, apostrophes normalised
    partial_start: int  # its offset in the text
    sentence_start: bool  # the next word starts a sentence
    changed_from: int | None  # the branch's ids changed from this index on (None: not at all)
    # the next word is written with a capital: a sentence's start (1), or a name after a title
    # written with its capital (``ranking.NAME_CAPITAL``: "Mrs Clay", "Dr Brown", but "Dr and";
    # ``NAME_TITLES``); 0: none
    capital_next: int = 0


#: Titles before a name, as written with their capital: the word after one is shown with a
#: capital ("Mrs " offers Clay, not clay); "mrs " typed small asks for nothing.
NAME_TITLES = frozenset({"Mr", "Mrs", "Ms", "Mx", "Dr", "Messrs", "Mme", "Mlle", "Prof"})
_ENDS_SENTENCE, _BEFORE_NAME = 1, NAME_CAPITAL  # TokenCache._ends_sentence's marks


def last_restart_point(text: str, limit: int) -> int:
    """The last offset ``j < limit`` where a non-blank follows a blank (0 if none)."""
    size = _TRANSITION_WINDOW
    while True:
        lo = max(0, limit - size)
        last = None
        for last in _TRANSITION.finditer(text, lo, limit):
            pass
        if last is not None:
            return last.end()
        if lo == 0:
            return 0
        size *= 4


def common_prefix_length(a: str, b: str, a_end: int | None = None, b_end: int | None = None) -> int:
    """Length of the common prefix of ``a[:a_end]`` and ``b[:b_end]`` (the whole strings by
    default), without copying either whole: slices compared at C speed, doubling, then halving."""
    a_end = len(a) if a_end is None else a_end
    b_end = len(b) if b_end is None else b_end
    limit = min(a_end, b_end)
    if a is b:
        return limit
    if a_end == len(a) <= b_end and b.startswith(a):
        return a_end
    lo, step = 0, 1024
    while lo < limit:
        hi = min(limit, lo + step)
        if a[lo:hi] != b[lo:hi]:
            break
        lo, step = hi, step * 2
    else:
        return limit
    while hi - lo > 1:  # a[:lo] == b[:lo] and a[lo:hi] != b[lo:hi]
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def first_difference(a: array, b: array, start: int = 0) -> int:
    """The first index ``>= start`` where ``a`` and ``b`` differ (or the shorter length)."""
    n = min(len(a), len(b))
    if n - start <= 16:
        for i in range(start, n):
            if a[i] != b[i]:
                return i
        return n
    x = np.frombuffer(a, np.int64, n - start, start * 8)
    y = np.frombuffer(b, np.int64, n - start, start * 8)
    diff = np.flatnonzero(x != y)
    return start + int(diff[0]) if diff.size else n


class TokenCache:
    """The committed tokens of the text before the cursor (see the module docstring)."""

    def __init__(self, tokenizer: Tokenizer, vocab: Vocabulary) -> None:
        self._tokenizer = tokenizer
        self._vocab = vocab
        self._bos = vocab.id(BOS)
        self._unk = vocab.unk_id
        self.generation = 0  # grows whenever the branch is rewritten
        self.reset()

    def reset(self) -> None:
        self._text = ""  # the branch's text (a reference, not a copy)
        self._end = 0  # where its committed part ends
        self.ids = array("q", [self._bos])  # token ids of the committed part, BOS first
        self._starts = array("q", [-1])  # their offsets (BOS: before the text)
        self._ends_sentence = bytearray([_ENDS_SENTENCE])  # where a token ends a sentence (or is a title)
        # out-of-vocabulary words of the branch: their indexes, and (index, word, written form)
        self._unknown_at = array("q")
        self._unknown: list[tuple[int, str, str]] = []
        self.generation += 1

    def __len__(self) -> int:
        return len(self.ids)

    def update(self, text: str, end: int | None = None) -> View:
        """Bring the cache to ``text[:end]`` (the text before the cursor)."""
        end = len(text) if end is None else end
        start = partial_start(text, end)
        partial = normalise_apostrophes(text[start:end])
        shared = common_prefix_length(self._text, text, self._end, start)
        if shared == start == self._end:
            return self._view(len(self.ids), partial, start, None)

        restart = last_restart_point(text, shared)
        keep = bisect_left(self._starts, restart)  # tokens that start before it
        tokens = list(self._tokenizer.iter_tokens(text, restart, start))
        ids = array("q", self._vocab.encode([t.token for t in tokens]))
        starts = array("q", [t.start for t in tokens])
        length = keep + len(tokens)
        if shared == start < self._end and self.ids[keep:length] == ids and self._starts[keep:length] == starts:
            return self._view(length, partial, start, None)  # a prefix of the branch

        old_ids = self.ids[keep:]
        same = first_difference(old_ids, ids)
        changed = None if same == len(old_ids) == len(ids) else keep + same
        del self.ids[keep:], self._starts[keep:], self._ends_sentence[keep:]
        self.ids.extend(ids)
        self._starts.extend(starts)
        self._ends_sentence.extend(_ENDS_SENTENCE if self._tokenizer.is_sentence_end(t.token)
                                   else _BEFORE_NAME if t.surface in NAME_TITLES else 0 for t in tokens)
        self._note_unknown(keep, tokens, ids)
        self._text, self._end = text, start
        self.generation += 1
        return self._view(length, partial, start, changed)

    def _note_unknown(self, keep: int, tokens: list, ids: array) -> None:
        cut = bisect_left(self._unknown_at, keep)
        del self._unknown_at[cut:], self._unknown[cut:]
        if not ids:
            return
        unk = self._unk
        found = ([j for j, i in enumerate(ids) if i == unk] if len(ids) <= 16  # a word or two: no NumPy call
                 else np.flatnonzero(np.frombuffer(ids, np.int64) == unk).tolist())
        for j in found:
            token = tokens[j]
            if is_suggestable(token.token):
                index = keep + j
                initial = self._ends_sentence[index - 1] == _ENDS_SENTENCE  # its capital may be the sentence's
                self._unknown_at.append(index)
                self._unknown.append((index, token.token, "" if initial else token.surface))

    def unknown_words(self, lo: int, hi: int) -> list[tuple[int, str, str]]:
        """The out-of-vocabulary words among tokens ``lo .. hi - 1``: (index, word, written form)."""
        return self._unknown[bisect_left(self._unknown_at, lo) : bisect_left(self._unknown_at, hi)]

    def token(self, index: int) -> str:
        """The token at ``index`` as the model sees it; one outside the vocabulary as itself."""
        token_id = self.ids[index]
        if token_id != self._unk:
            return self._vocab.tokens[token_id]
        found = self.unknown_words(index, index + 1)
        if found:
            return found[0][1]
        # not a word (an unknown mark): scan it again where it starts
        return next(self._tokenizer.iter_tokens(self._text, self._starts[index], self._end)).token

    def _view(self, length: int, partial: str, start: int, changed: int | None) -> View:
        mark = self._ends_sentence[length - 1]  # (0, 1 or ``ranking.NAME_CAPITAL``, as ``capital_next`` says)
        return View(length, partial, start, mark == _ENDS_SENTENCE, changed, mark)
