"""The components of the distribution at the cursor: one interface, and the built-in ones.

What the strip ranks is one distribution over words, built from several
sources of evidence (DESIGN.md, "one mixture").  Its base is the network's
next-word distribution, from the state cache, with the lexicon's words
sharing the network's ``<unk>`` (a word beyond the vocabulary is as likely
as ``P(<unk>)`` times its share of the corpus's unknown words).  Every other
source is a ``Component``, mixed in by ``mixture.combine`` in the order the
predictor holds them:

* ``DocumentCache``: the words and phrases used earlier in the document
  (``document_cache``);
* ``PhraseTables``: a bundle's word pairs and triples (``phrases``), once for
  the training corpus's tables and once for an adapted model's user tables;
* the app's personal layer (``keyboard_app.learning.PersonalLayer``): the
  user's own counts, plugged in with ``Predictor.add_component``.

A component answers at one or both of two moments, and the predictor calls a
hook only where a component overrides it:

* ``stage(at)``: at a word boundary (when the committed tokens change), its
  distributions over the vocabulary and the words beyond it, each with a
  weight: ``P = (1 - sum of weights) P_above + sum of weight * P_part``.  A
  part without evidence is left out, which gives its weight back.  The result
  is kept until the committed tokens change, so a keystroke inside the word
  calls nothing.  Parts are NumPy arrays of sorted ids, so a stage costs a
  few array operations, however many words it covers;
* ``candidates(at, typed)``: at every keystroke, its own best words for the
  letters typed, with their probabilities and its share ``w``: the strip's
  ranked words and these are mixed as ``(1 - w) P_above + w P_component``
  over both lists only (``mixture.mix_candidates``), for a component whose
  distribution is held in Python and cheap to ask for a prefix's best words
  but not for every word (the user's counts).  ``excluded()`` names tokens
  never to show (the user's blocked words).

Weights come from ``at.weights``, the predictor's one ``MixtureWeights``;
each component reads its own fields there.  A component sees the text only
through ``Cursor`` (the committed tokens' ids, the out-of-vocabulary words
among them, the token before the cursor), so, like everything else in the
engine, what it gives is a function of the text before the cursor.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import cached_property
from typing import TYPE_CHECKING, Collection, Mapping, NamedTuple, Sequence

import numpy as np

from .document_cache import RecentWords
from .phrases import ORDERS, Phrases

if TYPE_CHECKING:
    from .lexicon import LexiconIndex
    from .mixture import MixtureWeights
    from .session import State
    from .state_cache import StateCache
    from .token_cache import TokenCache

_NO_IDS = np.zeros(0, np.int64)
_NO_VALUES = np.zeros(0)
PARTS_KEPT = 1024  # a phrase table's parts kept for the contexts met most recently


class Part(NamedTuple):
    """One distribution of a stage, with its weight in the mixture."""

    weight: float  # its share (> 0)
    ids: np.ndarray = _NO_IDS  # the vocabulary ids it gives a probability: sorted, unique, int64
    log_probs: np.ndarray = _NO_VALUES  # their log-probabilities under it (aligned with ids)
    words: Mapping[str, float] = {}  # words beyond the vocabulary -> log-probability under it


class Stage(NamedTuple):
    """What one component mixes in at a word boundary."""

    parts: Sequence[Part]
    display: Mapping[str, str] = {}  # how words beyond the vocabulary were written (the document's)


class Candidate(NamedTuple):
    """A word a component offers at a keystroke."""

    token: str  # as the model sees it (lowercase)
    display: str  # as written, before the strip's capitals (``ranking.written_form``)
    prob: float  # its probability under the component


class Candidates(NamedTuple):
    """A component's offer at a keystroke: its best words for the typed letters and its share."""

    weight: float  # w in (1 - w) P_above + w P_component
    words: Sequence[Candidate]  # best first, at most ``at.weights.pool`` of them


class Cursor:
    """The text before the cursor, as the components see it (made at a word boundary)."""

    def __init__(self, tokens: "TokenCache", states: "StateCache", length: int, weights: "MixtureWeights") -> None:
        self._tokens = tokens
        self._states = states
        self.length = length  # committed tokens, ``<s>`` first
        self.weights = weights  # the predictor's ``MixtureWeights``

    @property
    def ids(self) -> np.ndarray:
        """The committed tokens' ids (int64, read-only): a view of the token cache's list,
        to be let go of before the call returns (the list cannot grow while one is held)."""
        return np.frombuffer(self._tokens.ids, np.int64, self.length)

    def unknown_words(self, lo: int, hi: int) -> list[tuple[int, str, str]]:
        """The out-of-vocabulary words among ``ids[lo:hi]``: (index, word, written form)."""
        return self._tokens.unknown_words(lo, hi)

    def state(self) -> "State":
        """The network's recurrent state after the committed tokens (the state cache's: at a
        word boundary it has just been computed).  Read-only."""
        return self._states.state_at(self._tokens.ids, self.length)

    @cached_property
    def previous(self) -> str:
        """The token before the cursor as the model sees it: a lowercase word, a punctuation
        mark, ``<s>`` at a paragraph start, and a word beyond the vocabulary as itself."""
        return self._tokens.token(self.length - 1)


class Component:
    """One source of evidence about the word at the cursor (module docstring).

    Subclass it and override ``stage``, ``candidates`` and ``excluded`` as
    needed; the defaults add nothing.  A component is called under the
    predictor's lock, one call at a time.
    """

    def stage(self, at: Cursor) -> Stage | None:
        """At a word boundary: the parts to mix in, or None where there is no evidence."""
        return None

    def candidates(self, at: Cursor, typed: str) -> Candidates | None:
        """At every keystroke: the component's best words starting with ``typed`` (any case),
        or None where it has nothing to add (the strip is then the engine's own)."""
        return None

    def excluded(self) -> Collection[str]:
        """Tokens never to show, whatever the scores."""
        return ()


def overrides(component: object, hook: str) -> bool:
    """Whether ``component`` has its own ``hook`` (a class that implements the interface
    without subclassing ``Component`` counts with every hook it defines)."""
    own = getattr(type(component), hook, None)
    return own is not None and own is not getattr(Component, hook)


class DocumentCache(Component):
    """The document cache as a stage: recent words, and the words that followed the last
    one or two tokens earlier in the text (``document_cache``; ``weights.recency``)."""

    def __init__(self, counted: np.ndarray, unknown_id: int, hidden: Collection[str] = ()) -> None:
        self.counted = counted  # bool per vocabulary id: a word the cache counts
        self._unknown_id = unknown_id
        self._recent: RecentWords | None = None
        #: words beyond the vocabulary it never counts, though typed (the bundle's slips: "upto")
        self.hidden = frozenset(hidden)

    def stage(self, at: Cursor) -> Stage | None:
        settings = at.weights.recency
        if not settings.enabled:
            return None
        recent = self._recent
        if recent is None or recent.settings is not settings:
            recent = self._recent = RecentWords(self.counted, settings, self._unknown_id)
        unknown_words = at.unknown_words
        if self.hidden:
            hidden = self.hidden

            def unknown_words(lo: int, hi: int) -> list[tuple[int, str, str]]:
                return [found for found in at.unknown_words(lo, hi) if found[1] not in hidden]

        cache = recent.distribution(at.ids, at.length, unknown_words)
        if cache.empty:
            return None
        single = settings.weight
        if settings.ramp > 0.0:  # little text yet: little trust in its word counts
            single *= cache.words / (cache.words + settings.ramp)
        parts = []
        if single > 0.0:
            words = {word: math.log(p) for word, p in cache.others.items()}
            parts.append(Part(single, cache.ids, np.log(cache.probs), words))
        b = settings.evidence  # (a context seen once in the document gives its follower less than its weight)
        if len(cache.pair_ids):
            weight = settings.pair_weight * (cache.pair_seen / (cache.pair_seen + b) if b else 1.0)
            parts.append(Part(weight, cache.pair_ids, np.log(cache.pair_probs)))
        if len(cache.triple_ids):
            weight = settings.triple_weight * (cache.triple_seen / (cache.triple_seen + b) if b else 1.0)
            parts.append(Part(weight, cache.triple_ids, np.log(cache.triple_probs)))
        return Stage(parts, cache.display)


class PhraseTables(Component):
    """A bundle's phrase tables as a stage: ``P_corpus(w | previous token)`` and
    ``P_corpus(w | two previous tokens)`` with the weights of ``weights.<field>``
    (``"phrases"``: the corpus's tables; ``"user_phrases"``: an adapted model's own).

    With ``evidence`` b above 0, a part's weight is ``weight * T / (T + b)``, T its
    context's occurrences in training (``PhraseSettings.share``; engine/phrases.py):
    a context seen once or twice no longer gives its one-off follower the whole weight.

    A part is a function of its context, weight and evidence alone, and a text meets
    the same contexts again and again ("of the", "the"): the parts of the ``PARTS_KEPT``
    contexts met last are kept, so a word boundary after one of them does no table
    lookup, no logarithm and no split of the lexicon's words.
    """

    def __init__(self, table: Phrases, field: str, *, vocab_size: int, unk_id: int,
                 phrase_ids: Mapping[str, int], lexicon_words: Sequence[str], lexicon: "LexiconIndex") -> None:
        self.table = table
        self.field = field
        self._vocab_size = vocab_size
        self._unk_id = unk_id
        self._phrase_ids = phrase_ids  # word -> id in the tables (vocabulary, then lexicon)
        self._lexicon_words = lexicon_words  # the bundle's lexicon, by lexicon id
        self._lexicon = lexicon
        self._kept: OrderedDict[tuple, Part | None] = OrderedDict()  # (weight, evidence, *context) -> its part

    def stage(self, at: Cursor) -> Stage | None:
        settings = getattr(at.weights, self.field)
        if settings is None or not settings.enabled:
            return None
        context = self._context(at)
        kept = self._kept
        parts = []
        for order in ORDERS:
            weight = settings.weight(order)
            if weight <= 0.0 or len(context) < order - 1:
                continue
            key = (weight, settings.evidence, *context[len(context) - order + 1 :])
            part = kept.get(key, False)
            if part is False:
                found = self.table.followers(context, order)
                if found is not None and settings.evidence:
                    weight = settings.share(order, self.table.total(context, order))
                part = kept[key] = None if found is None else self._part(weight, *found)
                while len(kept) > PARTS_KEPT:
                    kept.popitem(last=False)
            else:
                kept.move_to_end(key)
            if part is not None:
                parts.append(part)
        return Stage(parts) if parts else None

    def _context(self, at: Cursor) -> list[int]:
        """The last two tokens' ids for the tables: a word outside the vocabulary by its
        lexicon id (vocabulary size + position), ``<unk>`` if it has none."""
        length = at.length
        context = at.ids[max(0, length - 2) : length].tolist()
        if self._unk_id in context:
            start = length - len(context)
            for index, word, _ in at.unknown_words(start, length):
                position = self._phrase_ids.get(word)
                if position is not None:
                    context[index - start] = position
        return context

    def _part(self, weight: float, found: np.ndarray, log_probs: np.ndarray) -> Part:
        """The followers as a part: vocabulary ids, and lexicon words by their written form."""
        vocab_size = self._vocab_size
        if found[-1] < vocab_size:  # followers are sorted: lexicon words come last
            return Part(weight, found, log_probs)
        split = int(np.searchsorted(found, vocab_size))
        words = {}
        for i, score in zip(found[split:].tolist(), log_probs[split:].tolist()):
            word = self._lexicon_words[i - vocab_size]
            if word in self._lexicon:  # (not a vocabulary word too)
                words[word] = score
        return Part(weight, found[:split], log_probs[:split], words)


def hooked(components: Sequence[object], *hooks: str) -> tuple:
    """The components that override any of ``hooks``, in order."""
    return tuple(c for c in components if any(overrides(c, hook) for hook in hooks))

