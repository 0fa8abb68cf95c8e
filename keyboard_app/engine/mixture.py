"""The distribution at the cursor as the steps that make it, evaluated where asked.

The predictor mixes the network's next-word distribution with the document
cache and the phrase tables (``predictor``'s docstring has the formula).
Written out over the whole vocabulary that is a copy, two or three passes
that add a constant, several ``logaddexp`` merges (the phrase tables alone
merge thousands of followers after "the") and then a top-k over 20k words,
at every word boundary, for a strip of three words.

``Mixture`` records the mixture instead as the steps that compute it, in
order: *add* a constant to every word's log-probability, or *merge* a
component's log-probabilities into its words (``logaddexp``), and evaluates
them for the words asked about:

* ``values(ids)``: the mixture's log-probabilities of ``ids``, computed with
  the same float operations in the same order as the whole-vocabulary
  computation (``dense``) applies to those words, so bit for bit its values;
* ``best(lo, hi, k)``: the ``k`` best words of a range of the ``WordIndex``'s
  sorted words (all of them, or those with a typed prefix), best first, ties
  by id: exactly ``top_k(dense()[ids], ids, k)``.  Over all the words it
  looks only at those near the best (a threshold lowered until ``k`` pass),
  not at a partition of 20k scores;
* ``dense()``: the whole vocabulary, computed once, exactly as the predictor
  did before this module existed; the letters of a word then gather from it.

``lazy`` mixtures rank a word boundary without computing the whole array:
most words' mixed score is the network's plus the sum of the added
constants, the network's best few give a score ``t`` that the ``k``-th best
reaches at least, and a word's score exceeds its largest part by at most
``log(parts)``, so only words with a part above ``t - log(parts)`` are
candidates (a part: the network's score plus the constants, or what a merge
brings); those few are evaluated exactly (``values``) and ranked, with no
pass over the thousands of words that followed "the" in the corpus.  It cuts
the boundary's tail (benchmarks/keystroke_latency.py: "mix + top 3" rows),
but the first letter of the word then pays for the whole array instead, and
a keystroke inside a word has the tighter target (0.3 ms at p99, against
1 ms at a boundary): so the predictor computes the array at the boundary,
until it can do so while the person moves to the next key.

Ranking the candidates by the same values as the dense array, with the same
tie rule, gives the same suggestions; tests/engine/test_mixture.py checks
both against the whole-vocabulary computation on many contexts.
"""

from __future__ import annotations

import math

import numpy as np

from .ranking import WordIndex, top_k

# Slack for float rounding in the candidate bound (a log-probability; float32
# rounding of a few operations is ~1e-5 at most).
MARGIN = 1e-3
SEED_SPREAD = 6.0  # the network's words this close to its best are the first candidates
LN2 = math.log(2.0)


def logaddexp(x: float, y: float) -> float:
    """``float(numpy.logaddexp(x, y))`` for Python floats, bit for bit (NumPy's
    ``npy_logaddexp``, which calls the C library's ``exp`` and ``log1p`` as
    ``math`` does), without a NumPy call's overhead."""
    if x == y:
        return x + LN2
    d = x - y
    if d > 0:
        return x + math.log1p(math.exp(-d))
    if d <= 0:
        return y + math.log1p(math.exp(d))
    return d  # NaN


class Mixture:
    """A distribution over the vocabulary as ``network`` plus steps (module docstring).

    ``add(c)``: every word's log-probability + ``c`` (in float32, as
    ``array + c`` does).  ``merge(ids, values, offset)``: for the words
    ``ids`` (sorted, unique), ``logaddexp(current, offset + values)``
    (``offset`` a Python float or None; ``values`` float32 or float64, and
    the result stored as float32 as an assignment into the array does).
    """

    def __init__(self, network: np.ndarray, index: WordIndex, *, lazy: bool = False) -> None:
        self.network = network
        self.index = index
        #: rank a word boundary from the candidates alone, never computing the whole array
        #: (module docstring: why the engine does not, yet)
        self.lazy = lazy
        self._steps: list = []  # floats (add) and (ids, values, offset) tuples (merge)
        self._added = 0.0  # the sum of the constants added
        self._dense: np.ndarray | None = None

    @property
    def plain(self) -> bool:
        """No step: the network's distribution itself."""
        return not self._steps

    def add(self, constant: float) -> None:
        self._steps.append(float(constant))
        self._added += constant

    def merge(self, ids: np.ndarray, values: np.ndarray, offset: float | None = None) -> None:
        if len(ids):
            self._steps.append((ids, values, offset))

    # -- evaluation -------------------------------------------------------------

    def values(self, ids: np.ndarray) -> np.ndarray:
        """Log-probabilities (float32) of ``ids`` (unique; any order), bit for bit ``dense()[ids]``."""
        if self._dense is not None:
            return self._dense[ids]
        v = self.network[ids]
        for step in self._steps:
            if type(step) is float:
                v += step
                continue
            merged, values, offset = step
            pos = merged.searchsorted(ids)
            hit = (merged.take(pos, mode="clip") == ids).nonzero()[0]
            if len(hit):
                at = pos[hit]
                other = values[at] if offset is None else offset + values[at]
                v[hit] = np.logaddexp(v[hit], other)
        return v

    def dense(self) -> np.ndarray:
        """The whole vocabulary's log-probabilities (read-only; computed once)."""
        if self._dense is None:
            if not self._steps:
                self._dense = self.network
                return self._dense
            v = self.network.copy()
            for step in self._steps:
                if type(step) is float:
                    v += step
                    continue
                merged, values, offset = step
                v[merged] = np.logaddexp(v[merged], values if offset is None else offset + values)
            v.flags.writeable = False
            self._dense = v
        return self._dense

    def _best_of_all(self, dense: np.ndarray, k: int) -> list[tuple[int, float]]:
        """``top_k`` over every suggestable word, from the few near the best: the words at
        least as likely as a threshold, lowered until ``k`` of them pass (all the words
        tied with the k-th pass too), instead of a partition of 20k."""
        position = self.index.position
        top = float(dense.max())
        threshold = top - SEED_SPREAD
        while True:
            found = (dense >= threshold).nonzero()[0]
            found = found[position[found] >= 0]
            if len(found) >= k or top - threshold > 64.0:
                break
            threshold -= SEED_SPREAD
        if len(found) < k:  # scores spread wider than that: all of them
            found = self.index.sorted_ids
        return top_k(dense[found], found, k)

    def best(self, lo: int, hi: int, k: int) -> list[tuple[int, float]]:
        """The ``k`` best of the index's sorted words ``lo:hi``: (id, log-probability),
        best first, ties by id; exactly ``top_k(dense()[ids], ids, k)`` (module docstring)."""
        index = self.index
        if k <= 0 or hi <= lo:
            return []
        ids = index.sorted_ids[lo:hi]
        whole = hi - lo == len(index.sorted_ids)
        if not (self.lazy and whole) or self._dense is not None or not self._steps:
            dense = self.dense()
            return self._best_of_all(dense, k) if whole else top_k(dense[ids], ids, k)
        network, position = self.network, index.position

        def above(threshold: float) -> np.ndarray:
            """The suggestable words whose network score is at least ``threshold``."""
            found = (network >= threshold).nonzero()[0]
            return found[position[found] >= 0]

        # Every word scores at least its network score plus the constants added (less
        # rounding), so the k-th best network score bounds the k-th best mixed score
        # from below.
        top = float(network.max())
        threshold = top - SEED_SPREAD
        while True:
            seed = above(threshold)
            if len(seed) >= k:
                break
            if top - threshold > 64.0:  # scores spread wider than this: evaluate them all
                return top_k(self.values(ids), ids, k)
            threshold -= SEED_SPREAD
        seed_scores = network[seed]
        kth = float(np.partition(seed_scores, len(seed) - k)[len(seed) - k])
        parts = 1 + sum(1 for step in self._steps if type(step) is not float)
        # a word's mixed score exceeds its largest part by at most log(parts)
        bound = kth + self._added - math.log(parts) - 2 * MARGIN
        wanted = bound - self._added
        candidates = [seed[seed_scores >= wanted] if wanted >= threshold else above(wanted)]
        for step in self._steps:
            if type(step) is float:
                continue
            merged, values, offset = step
            # a merge brings at most offset + value (the constants added after it are <= 0)
            found = merged[values >= (bound if offset is None else bound - offset)]
            if len(found):
                found = found[position[found] >= 0]
                candidates.append(found.astype(np.int64, copy=False))
        chosen = np.unique(np.concatenate(candidates)) if len(candidates) > 1 else candidates[0]
        return top_k(self.values(chosen), chosen, k)
