"""The document cache: words used shortly before the cursor are likely again.

A person writing about "gyroscopes" or "Selivanov" types them again a few
lines later, while the network, whose context starts at the paragraph and
whose vocabulary stops at its size, may give them little or nothing.  The
classic remedy (Kuhn and De Mori's cache model; Presage's recency predictor)
mixes a distribution over the recent words into the model's::

    P(w) = (1 - weight) * P_model(w) + weight * P_cache(w)

``P_cache`` is a decayed count over the ``window`` tokens before the word
being typed (across paragraph breaks): an occurrence ``d`` tokens back
counts ``exp(-d / decay)``, and only words count (not punctuation, numbers
or specials).  Words outside the vocabulary count too, by their written
form, which is how a name the model has never seen becomes a suggestion
after it was typed once.  Everything is computed from the text alone, so the
suggestions stay a function of the text, whatever edits led to it.

Two more parts do the same for phrases: among the words that followed the
token before the cursor elsewhere in the window (``P_pair``, decayed by
``pair_decay``, weight ``pair_weight``), and those that followed the two
tokens before the cursor (``P_triple``, weight ``triple_weight``).  Where the
text has no such earlier occurrence, that part's weight goes back to the
network::

    P(w) = (1 - weight - pair_weight - triple_weight) * P_model(w) + weight * P_cache(w)
           + pair_weight * P_pair(w | previous) + triple_weight * P_triple(w | two previous)

At the start of a document a handful of words would each get a large
share of ``P_cache`` ("For God so loved the " would offer "God", "loved" and
"so" before the network's "world"), so the single-word part's weight grows
with the evidence: ``weight * n / (n + ramp)`` with ``n`` the words counted.

The default weights were chosen on development text (words 2,000 to 2,700 of
each held-out source, not the words the published figures score); see
benchmarks/tune_recency.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class RecencySettings:
    weight: float = 0.1  # share of the cache in the mixture; 0 turns it off
    window: int = 2000  # tokens before the cursor that are looked at
    decay: float = 100.0  # tokens: an occurrence d tokens back counts exp(-d / decay)
    pair_weight: float = 0.15  # share of the word-pair cache
    pair_decay: float = 2000.0  # the same for pairs and triples
    triple_weight: float = 0.15  # share of the three-token cache
    # the last tokens before the cursor left out of the single-word cache: the word just typed,
    # and the one before it, which took the name's slot in "Dear Mr " (dear) and "Hello Mrs "
    # (Hello) at a document's start (1 and 2 give the same KSR@3 on development text, 57.72)
    skip: int = 2
    # words: with n words counted, the single-word share is weight * n / (n + ramp); of 30 / 60 / 100
    # (stop 32, skip 2) 100 gave KSR@3 57.72 / 57.73 / 57.73 on development text and 58.43 / 58.44 /
    # 58.44 on the held-out starts, and a first word or two of a letter less say over a name slot
    ramp: float = 100.0
    # b: the pair and triple parts' weights are scaled by T / (T + b), T the earlier copies of their
    # context in the window, as the corpus's phrase tables' are (0: their whole weight, however few).
    # A word taken once after "the" was offered after every "the" (H69: "walked to the " -> four).
    # Of 0 / 1 / 3 / 10 (stop 32), 3: KSR@3 57.73 / 57.81 / 57.83 / 57.65 on development text, and
    # on the held-out texts' first 2,000 words 58.53 (0), 58.62 (3), 58.54 (10), pooled.
    evidence: float = 3.0

    def __post_init__(self) -> None:
        weights = (self.weight, self.pair_weight, self.triple_weight)
        if min(weights) < 0.0 or sum(weights) >= 1.0:
            raise ValueError(f"the cache weights must be >= 0 with a sum below 1, not {weights}")
        if (self.window < 1 or self.decay <= 0 or self.pair_decay <= 0 or not 0 <= self.skip < self.window
                or self.ramp < 0 or self.evidence < 0):
            raise ValueError("the cache window and decays must be positive")

    @classmethod
    def off(cls) -> "RecencySettings":
        """The network (and the lexicon) alone."""
        return cls(weight=0.0, pair_weight=0.0, triple_weight=0.0)

    @property
    def enabled(self) -> bool:
        return self.weight > 0.0 or self.pair_weight > 0.0 or self.triple_weight > 0.0


@dataclass(frozen=True)
class CacheDistribution:
    """``P_cache`` over the recent words: vocabulary ids and other words, apart."""

    ids: np.ndarray  # vocabulary ids (int64), each once
    probs: np.ndarray  # their cache probabilities
    others: dict[str, float]  # words outside the vocabulary -> cache probability
    display: dict[str, str]  # those words as last written (not at a sentence start)
    pair_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # followed the previous token
    pair_probs: np.ndarray = field(default_factory=lambda: np.zeros(0))  # P_pair over them (empty: no evidence)
    triple_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # followed the two previous
    triple_probs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    words: int = 0  # occurrences the single-word part counted
    pair_seen: int = 0  # the earlier copies of the pair's context (the token before the cursor)
    triple_seen: int = 0  # ... and of the triple's (the two tokens before it)

    @property
    def empty(self) -> bool:
        return len(self.ids) == 0 and not self.others and len(self.pair_ids) == 0


EMPTY = CacheDistribution(np.zeros(0, np.int64), np.zeros(0), {}, {})


class RecentWords:
    """Computes ``CacheDistribution`` for a token sequence (see the module docstring)."""

    def __init__(self, counted: np.ndarray, settings: RecencySettings, unknown_id: int = -1) -> None:
        self.counted = counted  # bool per vocabulary id: a word the cache counts
        self.settings = settings
        self.unknown_id = unknown_id  # after an unknown word there is no pair to look up
        # weights of the window, nearest last: exp(-d / decay) for d = window-1 .. 0
        distance = np.arange(settings.window - 1, -1, -1, dtype=np.float64)
        self._weights = np.exp(-distance / settings.decay)
        self._pair_weights = np.exp(-distance / settings.pair_decay)

    def distribution(
        self, ids: np.ndarray, length: int, unknown_words: Callable[[int, int], list[tuple[int, str, str]]]
    ) -> CacheDistribution:
        """The cache over ``ids[:length]`` (ids[0] is ``<s>``).

        ``unknown_words(lo, hi)``: (index, word, written form) of the
        out-of-vocabulary word tokens among ``ids[lo:hi]``, in order
        (``token_cache.TokenCache.unknown_words``).
        """
        settings = self.settings
        window = settings.window
        lo = max(1, length - window)
        if length <= lo:
            return EMPTY
        everything = ids[lo:length]
        n = len(everything)
        # single words: only the last 6 decays count (the rest would weigh under exp(-6))
        near = max(0, n - int(6 * settings.decay))
        # nor the last ``skip`` tokens: a word seldom follows itself or the word before it
        # ("Hello Hello", "Dear Mr Dear")
        far = max(near, n - settings.skip)  # (fewer tokens than ``skip``: none; no slice from the end)
        nearby = everything[near:far]
        chosen = self.counted[nearby]
        recent = nearby[chosen]
        w = self._weights[window - n + near : window - n + far][chosen]
        # where the token before the cursor occurred earlier: the pairs' contexts, and the
        # triples' among them (one pass over the window for both)
        last = everything[n - 1] if n > 1 else -1
        after_last = (everything[: n - 1] == last).nonzero()[0] if n > 1 and last != self.unknown_id else None
        pair_ids, pair_probs, pair_seen = self._followers(everything, after_last, 2, settings.pair_weight)
        triple_ids, triple_probs, triple_seen = self._followers(everything, after_last, 3, settings.triple_weight)
        others: dict[str, float] = {}
        display: dict[str, str] = {}
        unknown = unknown_words(lo + near, lo + far)
        for index, word, written in unknown:
            others[word] = others.get(word, 0.0) + math.exp(-(length - 1 - index) / settings.decay)
            if written:
                display[word] = written
        total = float(w.sum()) + sum(others.values())
        if total <= 0.0:
            return EMPTY
        # np.unique with return_inverse, in fewer steps: the same ids and the same sums
        # (bincount adds each word's weights in their order in the text either way)
        unique = _unique(recent)
        probs = np.bincount(unique.searchsorted(recent), weights=w, minlength=len(unique)) / total
        return CacheDistribution(unique, probs, {k: v / total for k, v in others.items()}, display,
                                 pair_ids, pair_probs, triple_ids, triple_probs, len(recent) + len(unknown),
                                 pair_seen, triple_seen)

    def _followers(self, window: np.ndarray, after_last: np.ndarray | None, order: int, weight: float):
        """The words that followed the last ``order - 1`` tokens of ``window`` earlier in it,
        and their decayed shares: (ids, probabilities), both empty without evidence.
        ``after_last``: the positions ``j < n - 1`` holding the window's last token (None
        where it is ``<unk>``)."""
        n, c = len(window), order - 1
        if weight <= 0.0 or n <= c or after_last is None:
            return EMPTY.pair_ids, EMPTY.pair_probs, 0
        if c == 1:
            before = after_last
        else:  # an earlier copy of the context starts at j (0 <= j < n - c): its last token at j + c - 1
            context = window[n - c :].tolist()
            if self.unknown_id in context:
                return EMPTY.pair_ids, EMPTY.pair_probs, 0
            before = after_last[after_last >= c - 1] - (c - 1)
            for t in range(c - 1):
                before = before[window[before + t] == context[t]]
        # ... and is followed by a word the cache counts
        followers = window[before + c]
        chosen = self.counted[followers]
        followers = followers[chosen]
        if len(followers) == 0:
            return EMPTY.pair_ids, EMPTY.pair_probs, 0
        w = self._pair_weights[self.settings.window - n + c + before[chosen]]
        if len(followers) <= 64:  # a few (most contexts): a dictionary is quicker than NumPy's calls,
            sums: dict[int, float] = {}  # and adds each word's weights in the same order as bincount
            for word, weight in zip(followers.tolist(), w.tolist()):
                sums[word] = sums.get(word, 0.0) + weight
            unique = sorted(sums)
            probs = np.array([sums[word] for word in unique])
            return np.array(unique, np.int64), probs / probs.sum(), len(before)
        unique = _unique(followers)
        probs = np.bincount(unique.searchsorted(followers), weights=w, minlength=len(unique))
        return unique, probs / probs.sum(), len(before)


def _unique(a: np.ndarray) -> np.ndarray:
    """``np.unique(a)`` for int64 ids, in fewer steps (it is called at every word boundary)."""
    if len(a) <= 32:
        return np.array(sorted(set(a.tolist())), np.int64)
    a = np.sort(a)
    keep = np.empty(len(a), bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]
