"""The distribution at the cursor: its weights, the one place its components are
combined, and the steps that compute it, evaluated where asked.

The predictor mixes the network's next-word distribution with its components
(``components``: the document cache, the phrase tables, the user's counts).
``MixtureWeights`` holds every weight of that mixture in one frozen value
(the predictor's ``weights``; benchmarks/tune_recency.py tunes it, and
``to_dict``/``from_dict`` let a manifest or the settings carry it).
``combine`` is where a word boundary's stages are mixed in, in order, each
``P = (1 - sum of its weights) P_above + sum of weight * P_part``, and
``mix_candidates`` where a keystroke's candidates are (``(1 - w) P_above + w
P_component`` over the ranked words and the component's own).

Written out over the whole vocabulary as log-probabilities, a word
boundary's mixture is a copy, two or three passes that add a constant, and a
``logaddexp`` merge per part: an ``exp`` and a ``log1p`` of the C library per
word merged, one word at a time, and the phrase tables alone merge
thousands of followers after "the".  That was the largest item in a word
boundary's tail (docs/ARCHITECTURE.md has the figures).

``Mixture`` records the mixture instead as the steps that compute it, in
order: *add* a constant to every word's log-probability, or *merge* a
component's probabilities into its words, and evaluates them in probability
space: ``exp`` of the network's log-probabilities once, each merge's words
added to (``exp(values + shift)``, where the shift divides a part's weight by
the constants added before it, so that no pass scales the whole array), and
one ``log`` at the end plus the sum of the constants.  NumPy vectorises
float32 ``exp`` and ``log``, so a merge costs a gather and a scatter, and the
passes over 20k words are two.  The numbers are those of the log-space
computation to float32's precision (a few units in the last place), not bit
for bit: the held-out KSR table is unchanged (docs/ARCHITECTURE.md,
tests/engine/test_mixture.py).  A network whose lowest log-probability is below
``LOWEST`` (float32's exp() runs out of range at -87), or constants added that sum
below it (a merge's shift would pass float32's exp() range at +88), is summed in
float64, the merges' probabilities too.
A mixture of constants alone adds them one after another, as before.  It
evaluates the steps for the words asked about:

* ``values(ids)``: the mixture's log-probabilities of ``ids``, computed with
  the same float operations, element for element, as the whole-vocabulary
  computation (``dense``) applies to those words, so bit for bit its values;
* ``best(lo, hi, k)``: the ``k`` best words of a range of the ``WordIndex``'s
  sorted words (all of them, or those with a typed prefix), best first, ties
  by id: exactly ``top_k(dense()[ids], ids, k)``.  Over all the words it
  looks only at those near the best (a threshold lowered until ``k`` pass),
  not at a partition of 20k scores;
* ``dense()``: the whole vocabulary, computed once; the letters of a word
  then gather from it.

``lazy`` mixtures rank a word boundary without computing the whole array:
most words' mixed score is the network's plus the sum of the added
constants, the network's best few give a score ``t`` that the ``k``-th best
reaches at least, and a word's score exceeds its largest part by at most
``log(parts)``, so only words with a part above ``t - log(parts)`` are
candidates (a part: the network's score plus the constants, or what a merge
brings); those few are evaluated exactly (``values``) and ranked, with no
pass over the thousands of words that followed "the" in the corpus.  But
the first letter of the word then pays for the whole array instead, and a
keystroke inside a word has the tighter target (docs/ARCHITECTURE.md): so
the predictor computes the array at the boundary (a helper thread that built it
while the person moves to the next key passed the interpreter's lock back and
forth with the keystrokes and cost more than it saved on a busy machine:
docs/ARCHITECTURE.md).  In probability space the array costs little more
than the candidates' search did.

Ranking the candidates by the same values as the dense array, with the same
tie rule, gives the same suggestions; tests/engine/test_mixture.py checks
both against the log-space computation on many contexts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from .document_cache import RecencySettings
from .phrases import EVIDENCE, PhraseSettings
from .ranking import WordIndex, top_k

if TYPE_CHECKING:
    from .components import Candidate, Candidates, Stage
    from .lexicon import LexiconIndex

# Slack for float rounding in the candidate bound (a log-probability; float32
# rounding of a few operations is ~1e-5 at most).
MARGIN = 1e-3
SEED_SPREAD = 3.0  # log-probability: the words this close to the best are looked at first (more if too few)
LN2 = math.log(2.0)
# A network log-probability below this, or constants added that sum below it, make ``Mixture``
# sum probabilities in float64: float32's exp() reaches its subnormal range at -87.3, where it
# loses precision and then gives 0, and overflows at +88.7, which a merge's shift (its weight
# divided by the constants added before it) reaches when they sum below -88 (a trained model's
# distribution and the default weights stay far from both; the check costs one pass over the
# network's array).
LOWEST = -80.0


@dataclass(frozen=True)
class MixtureWeights:
    """Every weight of the distribution at the cursor (module docstring).

    ``user_phrases`` None stands for what an adapted bundle's manifest
    records (the predictor puts those in); the other defaults were chosen on
    development text (benchmarks/tune_recency.py).
    """

    recency: RecencySettings = RecencySettings()  # the document cache: its weights, window and decays
    # the bundle's phrase tables (the training corpus's), a context's weight by its evidence
    phrases: PhraseSettings = PhraseSettings(evidence=EVIDENCE)
    user_phrases: PhraseSettings | None = None  # an adapted bundle's user tables (None: its manifest's)
    personal: float = 0.05  # the user's counts' share, reached as they grow (benchmarks/personal_share.py):
    personal_ramp: float = 20.0  # with n words counted, the share is personal * n / (n + personal_ramp)
    pool: int = 12  # the ranked words the user's counts are mixed over, and their own best as many

    def __post_init__(self) -> None:
        if not 0.0 <= self.personal < 1.0 or not self.personal_ramp >= 0.0:
            raise ValueError(f"the personal share must be in [0, 1) and its ramp >= 0, not "
                             f"{self.personal} and {self.personal_ramp}")
        if isinstance(self.pool, bool) or not isinstance(self.pool, int) or self.pool < 1:
            raise ValueError(f"the pool must be a whole number of words, at least 1, not {self.pool!r}")

    @classmethod
    def off(cls) -> "MixtureWeights":
        """The network and the lexicon alone."""
        return cls(RecencySettings.off(), PhraseSettings.off(), PhraseSettings.off(), personal=0.0)

    def to_dict(self) -> dict[str, Any]:
        """As plain JSON values (the form ``from_dict`` reads)."""
        return {
            "recency": asdict(self.recency),
            # (with the evidence even where it is 0, which a manifest leaves out: here a missing
            # value is the default's)
            "phrases": {**self.phrases.to_dict(), "evidence": self.phrases.evidence},
            "user_phrases": None if self.user_phrases is None
            else {**self.user_phrases.to_dict(), "evidence": self.user_phrases.evidence},
            "personal": self.personal,
            "personal_ramp": self.personal_ramp,
            "pool": self.pool,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "MixtureWeights":
        """From ``to_dict``'s form; what is missing keeps its default.  ``ValueError``, one
        sentence, for anything else (an unknown key, a value of the wrong kind)."""
        if not isinstance(data, dict):
            raise ValueError("the mixture weights are not a table")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"the mixture weights have unknown entries: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        if "recency" in data:
            values["recency"] = _recency_from_dict(data["recency"])
        for key in ("phrases", "user_phrases"):
            if data.get(key) is not None:
                if not isinstance(data[key], dict):
                    raise ValueError(f"the mixture weights' {key} are not a table")
                values[key] = PhraseSettings.from_dict(data[key])
                if key == "phrases" and "evidence" not in data[key]:  # (a user's tables' default is 0)
                    values[key] = replace(values[key], evidence=cls.phrases.evidence)
        for key, kind in (("personal", float), ("personal_ramp", float), ("pool", int)):
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int) \
                        or not math.isfinite(value):
                    raise ValueError(f"the mixture weight {key} {value!r} is not a number")
                values[key] = kind(value)
        return cls(**values)


def _recency_from_dict(data: Any) -> RecencySettings:
    if not isinstance(data, dict):
        raise ValueError("the mixture weights' recency is not a table")
    known = {f.name: f for f in fields(RecencySettings)}
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"the mixture weights' recency has unknown entries: {', '.join(sorted(unknown))}")
    values = {}
    for key, value in data.items():
        whole = isinstance(RecencySettings.__dataclass_fields__[key].default, int)
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) \
                or not math.isfinite(value):
            raise ValueError(f"the document cache's {key} {value!r} is not a {'whole ' if whole else ''}number")
        values[key] = value if whole else float(value)
    return RecencySettings(**values)


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

    ``add(c)``: every word's log-probability + ``c``.  ``merge(ids, values,
    offset)``: for the words ``ids`` (sorted, unique), the probability ``exp(offset
    + values)`` added to theirs (``offset`` a Python float or None; ``values``
    float32 or float64 log-probabilities).  Evaluated in probability space, the
    constants added so far folded into each merge's shift (module docstring).
    """

    def __init__(self, network: np.ndarray, index: WordIndex, *, lazy: bool = False) -> None:
        self.network = network
        self.index = index
        #: rank a word boundary from the candidates alone, never computing the whole array
        #: (module docstring: why the engine does not, yet)
        self.lazy = lazy
        self._steps: list = []  # floats (add) and (ids, values, offset, shift) tuples (merge)
        self._added = 0.0  # the sum of the constants added
        self._merged = False  # whether a merge step was recorded
        self._dense: np.ndarray | None = None
        self._wide: bool | None = None  # the network's probabilities need float64 (``_exp``)

    @property
    def plain(self) -> bool:
        """No step: the network's distribution itself."""
        return not self._steps

    def add(self, constant: float) -> None:
        self._steps.append(float(constant))
        self._added += constant

    def merge(self, ids: np.ndarray, values: np.ndarray, offset: float | None = None) -> None:
        if len(ids):
            # P = exp(added) * (exp(network) + sum of exp(values + shift)): the constants added
            # before a merge scale only what was there, so its own share is divided by them.
            shift = (0.0 if offset is None else offset) - self._added
            self._steps.append((ids, values, offset, shift))
            self._merged = True

    # -- evaluation -------------------------------------------------------------

    def _exp(self, scores: np.ndarray) -> np.ndarray:
        """``exp(scores)`` (network log-probabilities) as a new array: float32, unless the
        network holds a log-probability so low that float32 would round it to a
        subnormal or to 0, or the constants added sum below ``LOWEST`` (then a merge's
        ``exp(values + shift)`` could pass float32's largest, 88.7: a stage whose weights
        the settings accept, a sum just below 1, adds down to -36.7, and three such
        stages overflowed to +inf).  In float64, a word keeps its own score and a part
        its own probability (``_brought``)."""
        if self._wide is None:
            self._wide = self._added < LOWEST or (
                bool(len(self.network)) and float(self.network.min()) < LOWEST)
        if self._wide:
            return np.exp(scores.astype(np.float64))
        return np.exp(scores)

    def _brought(self, values: np.ndarray, shift: float) -> np.ndarray:
        """``exp(values + shift)``, a merge's probabilities as a new array, in float64 where
        the network's are (``_exp``): float32 values would otherwise be summed in float32
        and a part below -87 lost."""
        brought = np.add(values, shift, dtype=np.float64) if self._wide else values + shift
        return np.exp(brought, out=brought)

    def _log(self, probs: np.ndarray) -> np.ndarray:
        """The log-probabilities (float32) of ``_exp``'s sums, the constants added."""
        if probs.dtype == np.float32:
            v = np.log(probs, out=probs)
        else:
            with np.errstate(divide="ignore"):  # (a probability below float64's range: -inf)
                v = np.log(probs).astype(np.float32)
        v += self._added
        return v

    def _added_only(self, v: np.ndarray) -> np.ndarray:
        """``v`` (a new array) with the constants added, one after another, in float32."""
        for step in self._steps:
            v += step
        return v

    def values(self, ids: np.ndarray) -> np.ndarray:
        """Log-probabilities (float32) of ``ids`` (unique; any order), bit for bit ``dense()[ids]``:
        the same float operations, element for element, on fewer elements."""
        if self._dense is not None:
            return self._dense[ids]
        if not self._merged:
            return self._added_only(self.network[ids])
        probs = self._exp(self.network[ids])
        for step in self._steps:
            if type(step) is float:
                continue
            merged, values, _, shift = step
            pos = merged.searchsorted(ids)
            hit = (merged.take(pos, mode="clip") == ids).nonzero()[0]
            if len(hit):
                probs[hit] += self._brought(values[pos[hit]], shift)
        return self._log(probs)

    def dense(self) -> np.ndarray:
        """The whole vocabulary's log-probabilities (read-only; computed once): one pass of
        ``exp`` over the network, each merge's words added to, one pass of ``log``."""
        if self._dense is None:
            if not self._steps:
                self._dense = self.network
                return self._dense
            if not self._merged:
                v = self._added_only(self.network.copy())
            else:
                probs = self._exp(self.network)
                for step in self._steps:
                    if type(step) is float:
                        continue
                    merged, values, _, shift = step
                    probs[merged] += self._brought(values, shift)
                v = self._log(probs)
            v.flags.writeable = False
            self._dense = v
        return self._dense

    def log_space(self, dtype=np.float32) -> np.ndarray:
        """The whole array as the engine computed it before it summed in probability
        space: each constant added to every word, each merge a ``logaddexp`` over the
        words it names, in ``dtype`` (float32: that computation bit for bit; float64: what
        the steps mean).  The yardstick of tests/engine/test_mixture.py and of
        benchmarks/keystroke_latency.py's "as before" row; the engine never calls it."""
        v = self.network.astype(dtype)  # (a copy)
        for step in self._steps:
            if type(step) is float:
                v += step
                continue
            merged, values, offset = step[:3]
            if v.dtype != values.dtype and v.dtype == np.float64:
                values = values.astype(np.float64)  # (float32 values widened before the offset)
            v[merged] = np.logaddexp(v[merged], values if offset is None else offset + values)
        return v

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
            merged, values, offset, _ = step
            # a merge brings at most offset + value (the constants added after it are <= 0)
            found = merged[values >= (bound if offset is None else bound - offset)]
            if len(found):
                found = found[position[found] >= 0]
                candidates.append(found.astype(np.int64, copy=False))
        chosen = np.unique(np.concatenate(candidates)) if len(candidates) > 1 else candidates[0]
        return top_k(self.values(chosen), chosen, k)


@dataclass(frozen=True)
class Scores:
    """The distribution of the word at the cursor, as ``combine`` makes it."""

    mixture: Mixture  # over the vocabulary: the network's and the stages' parts there
    others: dict[str, float]  # words beyond the vocabulary that a stage gave a probability -> log-probability
    others_display: dict[str, str]  # how those were written (the document's words)
    lexicon_base: float  # log-probability of any other lexicon word = this + its log share

    @property
    def log_probs(self) -> np.ndarray:
        """(vocab,) log-probabilities, read-only (computed whole on first use)."""
        return self.mixture.dense()


def combine(network: np.ndarray, index: WordIndex, lexicon: "LexiconIndex", unk_id: int,
            stages: Iterable["Stage"]) -> Scores:
    """The network's distribution (``network``, log-probabilities over the vocabulary)
    with the lexicon under its ``<unk>`` and each stage mixed in, in order:
    ``P = (1 - sum of weights) P_above + sum of weight * P_part``.

    Over the vocabulary the steps are recorded (``Mixture``); beyond it, a word a
    part names starts from what the stages above give it (the lexicon's share of
    ``<unk>``, or nothing) and every other lexicon word keeps ``lexicon_base`` plus
    its share.  Over the vocabulary the sums are taken in probability space
    (``Mixture``), so the numbers are the log-space computation's to float32's
    precision (tests/engine/test_mixture.py); beyond it, in Python floats, with
    ``logaddexp``.
    """
    mixture = Mixture(network, index)
    base = float(network[unk_id])
    others: dict[str, float] = {}
    display: dict[str, str] = {}
    for parts, written in stages:
        keep = math.log1p(-sum((part.weight for part in parts), 0.0))
        mixture.add(keep)
        base += keep
        if others:
            others = {word: score + keep for word, score in others.items()}
        for part in parts:
            log_weight = math.log(part.weight)
            mixture.merge(part.ids, part.log_probs, log_weight)
            for word, log_prob in part.words.items():
                before = others.get(word)
                if before is None:
                    before = base + lexicon.share(word)
                others[word] = logaddexp(before, log_weight + log_prob)
        if written:
            display.update(written)
    return Scores(mixture, others, display, base)


def mix_candidates(ranked: list, offer: "Candidates", engine_log_prob: Callable[[str], float | None],
                   suggestion: Callable[["Candidate"], Any], k: int) -> list:
    """The best ``k`` of ``(1 - w) P_above + w P_component`` over the ranked suggestions
    and a component's candidates (``offer``), in probability space; each suggestion's
    ``log_prob`` becomes its mixed one.

    A ranked word keeps its suggestion (written form, kind) and its score; a candidate
    not among them gets ``suggestion(candidate)`` and the engine's probability of it,
    ``engine_log_prob(token)`` (the distribution over the vocabulary; None: none
    counted).  Words in neither list are not looked at, which is what makes this cheap
    for a distribution held in Python (the user's counts).  Ties keep the order of the
    lists, ranked first.
    """
    share = offer.weight
    scores: dict[str, float] = {}
    chosen: dict[str, Any] = {}
    for s in ranked:
        scores[s.token] = (1.0 - share) * math.exp(s.log_prob)
        chosen[s.token] = s
    for candidate in offer.words:
        token = candidate.token
        if token not in chosen:
            log_prob = engine_log_prob(token)
            scores[token] = (1.0 - share) * (0.0 if log_prob is None else math.exp(log_prob))
            chosen[token] = suggestion(candidate)
        scores[token] += share * candidate.prob
    best = sorted(scores, key=lambda t: -scores[t])[:k]
    return [replace(chosen[t], log_prob=math.log(max(scores[t], 1e-300))) for t in best]
