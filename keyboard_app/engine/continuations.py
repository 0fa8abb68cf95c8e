"""What a phrase's later words are worth: the document's copies after each hypothesis.

The strip ranks the word at the cursor by a mixture (``components``): the
network, the document cache and the phrase tables.  The phrase beam
(``beam``) used to score the words after the first by the network alone, and
so missed exactly the phrases a person repeats: help pages and manuals say
"the Tools menu", "click OK", "in the following example" again and again,
letters repeat names and closings, and the network, whose context starts at
the paragraph, gives their later words little.  Measured on the held-out
texts (benchmarks/phrases.py, the oracles): a correct phrase copied from
earlier in the same document, after the same previous token, is there at
about as many word starts as a correct phrase among the network beam's
candidates, and at many where the beam has none.

So each step of the beam scores a hypothesis' next word as the strip would
score the word at a cursor placed after it, with the document cache's pairs
and triples mixed in (``document_cache``'s ``P_pair`` and ``P_triple``): the
words that followed the hypothesis' last one or two tokens in the window of
text before the cursor, the hypothesis' own words counted as typed.  A
copy's share grows with how often it was repeated, decayed by how long ago,
and it is mixed in with the same weights as at a word boundary
(``MixtureWeights.recency``): ``P = (1 - sum of the weights with evidence)
P_network + sum of weight * P_part``, a part without evidence giving its
weight back.  A phrase's probability stays the product of its words'
probabilities, and the beam's floor decides as before: a copy is offered
only when that product earns it the slot.  That rule is what keeps the gain
small (docs/EVALUATION.md, "What limits it"): most copies are less likely
than the strip's third word.

Left out, by measurement (benchmarks/phrases.py, KSR with phrases): the
phrase tables after the hypothesis (the corpus's pairs and triples), which
changed no text's KSR by more than a few hundredths while costing a lookup
per hypothesis and step; and the document cache's single-word part, which
does not depend on the words before and would add the same recent words to
every hypothesis.

The snapshot (``Continuations.at``) is taken under the predictor's lock (a
copy of the window's token ids, a few kilobytes), so the beam can run
outside it while the text changes.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .components import Cursor, DocumentCache
from .document_cache import RecencySettings

#: One part: its weight, the ids it gives a probability (sorted) and their logs.
Part = tuple[float, np.ndarray, np.ndarray]


class Continuations:
    """The document's copies after a hypothesis (module docstring).

    ``window``: the token ids the document cache looks at (the last
    ``recency.window`` committed tokens, without the first ``<s>``);
    ``counted``: bool per vocabulary id, a word the cache counts.
    """

    def __init__(self, window: np.ndarray, counted: np.ndarray, unknown_id: int, recency: RecencySettings) -> None:
        self.window = window
        self.counted = counted
        self.unknown_id = unknown_id
        self.recency = recency

    @classmethod
    def at(cls, at: Cursor, components: Iterable, unknown_id: int) -> "Continuations | None":
        """The snapshot for the cursor ``at`` from the predictor's document cache (None: it is
        not there, or its pairs and triples are off)."""
        cache = next((c for c in components if isinstance(c, DocumentCache)), None)
        recency = at.weights.recency
        if cache is None or not (recency.pair_weight > 0.0 or recency.triple_weight > 0.0):
            return None
        window = np.array(at.ids[max(1, at.length - recency.window) : at.length])
        return cls(window, cache.counted, unknown_id, recency)

    def parts(self, hypothesis: Sequence[int]) -> list[Part]:
        """The pairs and triples with evidence after the text and ``hypothesis`` (vocabulary
        ids), as ``(weight, sorted ids, log shares)``."""
        recency = self.recency
        sequence = np.concatenate([self.window, np.asarray(hypothesis, np.int64)])[-recency.window :]
        return [(weight, *found) for weight, found in zip((recency.pair_weight, recency.triple_weight),
                                                          self._copies(sequence))
                if weight > 0.0 and found is not None]

    def _copies(self, sequence: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray] | None, ...]:
        """The words that followed the last token of ``sequence`` earlier in it, and those that
        followed its last two, each with the logs of their decayed shares, or None
        (``document_cache.RecentWords``' pairs and triples)."""
        n = len(sequence)
        if n < 2:
            return None, None
        last, before_last = int(sequence[-1]), int(sequence[-2])
        if last == self.unknown_id:
            return None, None
        after = (sequence[: n - 1] == last).nonzero()[0] + 1  # where an earlier copy's follower is
        if len(after) == 0:
            return None, None
        after = after[self.counted[sequence[after]]]
        pairs = self._shares(sequence, after)
        if before_last == self.unknown_id or pairs is None:
            return pairs, None
        after = after[after >= 2]
        return pairs, self._shares(sequence, after[sequence[after - 2] == before_last])

    def _shares(self, sequence: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The words at ``after`` and the logs of their shares, each occurrence counted
        ``exp(-distance / pair_decay)``."""
        if len(after) == 0:
            return None
        weights = np.exp((after - (len(sequence) - 1)) / self.recency.pair_decay)
        ids, where = np.unique(sequence[after], return_inverse=True)
        shares = np.bincount(where, weights=weights, minlength=len(ids))
        return ids, np.log(shares / shares.sum())

    def scored(self, network: np.ndarray, hypothesis: Sequence[int], top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The next word's candidates after ``hypothesis`` and their mixed log-probabilities:
        the network's best (``top``: their ids; ``network``: its log-probabilities over the
        vocabulary) and every word a copy offers."""
        parts = self.parts(hypothesis)
        if not parts:
            return top, network[top].astype(np.float64)
        candidates = np.unique(np.concatenate([top] + [ids for _, ids, _ in parts]))
        probs = np.exp(network[candidates].astype(np.float64))
        probs *= 1.0 - sum(weight for weight, _, _ in parts)
        for weight, ids, log_shares in parts:
            where = np.minimum(ids.searchsorted(candidates), len(ids) - 1)
            hit = ids[where] == candidates
            probs[hit] += weight * np.exp(log_shares[where[hit]])
        with np.errstate(divide="ignore"):  # a word the network gives 0 (float32) and no copy
            return candidates, np.log(probs)
