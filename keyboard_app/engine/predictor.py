"""The predictor: suggestions for the text before the cursor, live.

``Predictor.suggest(text_before_cursor, k)`` returns the ``k`` most likely
next words (after a space or punctuation) or completions of the word being
typed, written the way the context asks for.  Between calls it keeps the
tokenization (``token_cache``) and the recurrent states (``state_cache``) of the
text, so a keystroke inside a word runs no network, a finished word runs one
step, and any other edit reruns only what changed.

The model's context is the text before the cursor from shortly before the
last paragraph boundary: the state after a ``<s>`` (a blank line, and the
start of the text) is that of one run over the 64 tokens ending with it,
from the zero state, so what came further back does not matter.  A
paragraph longer than 2000 tokens restarts the same way at a sentence end,
at points fixed by the text itself (see ``state_cache``).  So a fresh engine runs
the network over the last paragraph and 64 tokens only (in 8-token cells,
see ``state_cache``), however long the document, and the cache makes even that
cost paid once, not per keystroke.  (The text is still tokenized from
its start, which runs no network.)  Whatever sequence of edits led to a
text, the suggestions, and the log-probabilities behind them, are bit for bit
those of a fresh engine given that text.

The distribution at the cursor is a mixture (``components``): the network's,
with the lexicon's words sharing its ``<unk>`` (``lexicon``: corpus words
beyond the vocabulary, so they can be completed), and then, each mixed in by
its weight, the document cache (``document_cache``: words and phrases used
in the last couple of thousand tokens, those outside the vocabulary
included), the bundle's phrase tables (``phrases``: the words that followed
the last one or two tokens in the training corpus) and, in a model adapted to
a user's corpus, that corpus's own pairs and triples (``bundle.user_phrases``,
with the weights tuned on the user's held-out text when the model was
trained).  These are computed from the text alone, so the rule above holds
for them too.  All the weights are one ``MixtureWeights`` (``weights``), and
``mixture.combine`` is where they are applied.  The app plugs in its own
components (the user's counts) with ``add_component``.

With ``typo_tolerance`` on, the strip inside a word may also offer
corrections (``typos``): words the typed letters may have been meant as
through a slip or a misspelling, scored ``log P(word | context) + log
P(typed | word)``, shown where that beats the completions and the typed
letters taken as a word, and marked ``kind="correction"``.  With
``auto_correct`` on, ``autocorrect`` says what a space would replace a
mistyped word with.  Both are off by default.

At a word start the strip may also offer a phrase, the next two to four
words (``phrase``, ``beam``): a short beam search from the cached state,
asked for after the words, offered where it is likelier than the word whose
slot it takes (``beam.place``), marked ``kind="phrase"``.

``accept`` says how to put a suggestion into the text: which characters to
replace (the partial word) with what (the word, or the phrase, and a space).

A predictor is used by one thread at a time (the app's worker owns it); a
lock makes a second caller wait rather than corrupt the cache.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import dataclass, replace
from types import EllipsisType
from typing import Callable, Sequence

import numpy as np

from .beam import BeamSettings, BeamStats, PhraseBeam
from .bundle import Bundle, ModelLoadError, load_bundle
from .completions import CompletionSettings, Completions, Rules, inside_a_sentence
from .components import Candidate, Component, Cursor, DocumentCache, PhraseTables, hooked
from .continuations import Continuations
from .document_cache import RecencySettings
from .lexicon import LexiconIndex, PhraseIds
from .mixture import MixtureWeights, Scores, combine, mix_candidates
from .offensive import OFFENSIVE
from .phrases import PhraseSettings
from .ranking import Ranker, Suggestion, WordIndex, in_capitals, written_form
from .session import RecurrentSession
from .state_cache import StateCache
from .token_cache import TokenCache, View
from .tokenizer import BOS, WORD_APOSTROPHES, Tokenizer, normalise_apostrophes, partial_start
from .typos import (AUTO_CORRECT_MARGIN, AUTO_CORRECT_MINIMUM, AUTO_CORRECT_SHORT, AUTO_CORRECT_SHORT_ERROR, ErrorModel,
                    TypoChannel)

log = logging.getLogger(__name__)

__all__ = ["Component", "Edit", "MixtureWeights", "ModelLoadError", "PhraseSettings", "Predictor", "RecencySettings",
           "Suggestion"]

# The pronoun "I" and its contractions: auto-correct capitalises these only.
_PRONOUN_I = frozenset({"i", "i'm", "i'll", "i'd", "i've"})
# ... and typed without its apostrophe where that is no other word ("im"; "ive" is found by the
# typo search, "id" and "ill" are words): what auto-correction writes for it.
_PRONOUN_I_SHORT = {"im": "I'm"}
# Before a word auto-correction may replace: white space (or nothing), an opening bracket, quote
# or dash.  Anything else glues it to a tag, a name, a path, a web address or a number ("#teh",
# "@alot", "/home/teh", "www.teh", "3.teh"): left alone.
WORD_OPENERS = frozenset("([{<\"'\u201c\u2018\u00ab\u2039\u201e\u201a\u00bf\u00a1\u2013\u2014")
# After these characters a next word is put in without a space before it.
_NO_SPACE_AFTER = set("([{<\"'\u201c\u2018\u00ab\u2039\u201e\u201a\u00bf\u00a1-\u2010\u2013\u2014/\\@#_~")
# Before these characters an accepted word gets no space after it ("rep|." -> "report|.").
# Straight quotes are left out: one may open the next phrase as well as close this one.
# (and the editor and the on-screen keyboard take an accepted word's space back before these)
NO_SPACE_BEFORE = frozenset(".,;:!?)]}>\u201d\u2019\u00bb\u203a\u2026")
# A space already here after the cursor is used instead of a new one.
_SPACES = frozenset(" \t")


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``replacement`` (offsets into the text before the
    cursor, then on into the text after it: ``accept`` with the cursor inside a word), then
    move the cursor ``skip`` characters on, over a space already there."""

    start: int
    end: int
    replacement: str
    skip: int = 0


class Predictor:
    """Suggestions from a model bundle, with the state cache of Contract 3.

    ``session`` may be an ``onnxruntime.InferenceSession`` (or a stand-in
    with its methods) or a ``RecurrentSession`` made elsewhere; it is checked
    against the bundle.  By default the bundle's graph is opened with
    ``threads`` intra-op threads.  ``state_cache`` makes the state cache from
    the session (tests shrink its checkpoint spacing with it).  ``weights``
    are the mixture's (``MixtureWeights.off()``: the network and the lexicon
    alone); ``recency``, ``phrases`` and ``user_phrases``, where given,
    replace the document cache's, the phrase tables' and an adapted model's
    user tables' settings in them (``user_phrases`` None: the weights tuned
    when the model was adapted, recorded in its manifest).  ``components``
    are mixed in after the built-in ones (``add_component``).
    """

    def __init__(
        self,
        bundle: Bundle,
        session=None,
        *,
        threads: int = 1,
        state_cache: Callable[[RecurrentSession], StateCache] = StateCache,
        weights: MixtureWeights = MixtureWeights(),
        recency: RecencySettings | None = None,
        phrases: PhraseSettings | None = None,
        user_phrases: PhraseSettings | None = None,
        components: Sequence[Component] = (),
    ) -> None:
        if session is None:
            session = RecurrentSession.open(bundle, threads)
        elif not isinstance(session, RecurrentSession):
            session = RecurrentSession(session, bundle)
        self.bundle = bundle
        self.session = session
        self.tokenizer = Tokenizer(bundle.tokenizer_settings)
        #: the bundle's misspellings, never offered, and the word or words each means (``Lexicon.slips``)
        self.slips: dict[str, str] = bundle.lexicon.slips if bundle.lexicon is not None else {}
        #: never offered, though typed: the slips and the slurs and strong profanity (``offensive``)
        self.never_offered: frozenset[str] = frozenset(self.slips) | OFFENSIVE
        self.words = WordIndex(bundle.vocab, hidden=self.never_offered)
        self._tokens = TokenCache(self.tokenizer, bundle.vocab)
        self._states = state_cache(session)
        self._lock = threading.Lock()
        vocab = bundle.vocab
        self.lexicon = LexiconIndex(bundle.lexicon, vocab, self.never_offered)
        self._ranker = Ranker(self.words, vocab, self.lexicon)
        self.phrases = bundle.phrases
        self._components: list = self._built_in_components()
        self._components.extend(components)
        self._hooks()
        self._memo: tuple[tuple[int, int], Scores, Cursor] | None = None
        self.weights = weights  # (set_weights below resolves it)
        self.set_weights(_with(weights, recency=recency, phrases=phrases, user_phrases=user_phrases))
        self._bos = vocab.id(BOS)
        #: compute a new paragraph's start state ahead, after a line break (``state_cache``)
        self.run_ahead = True
        #: offer corrections of mistyped letters in the strip (``typos``); off by default
        #: until the app turns it on (the strip has been completions only so far)
        self.typo_tolerance = False
        #: ``autocorrect`` replaces a mistyped word when a space is typed (off by default)
        self.auto_correct = False
        self.typo_model = ErrorModel()
        self._typos: TypoChannel | None = None
        #: the strip's rules for the letters typed (``completions``: the word as typed first when
        #: it is likely finished, typed capitals as evidence, identifiers only where used)
        self.completions = CompletionSettings()
        self._completions = Completions(self.words, vocab, self.lexicon,
                                        bundle.lexicon.identifiers if bundle.lexicon is not None else frozenset())
        #: phrase suggestions at word starts (``phrase``; None: none)
        self.phrase_beam: BeamSettings | None = BeamSettings()
        self._beam: PhraseBeam | None = None

    def _built_in_components(self) -> list[Component]:
        """The document cache, then the bundle's phrase tables: the corpus's, the user's."""
        bundle, vocab = self.bundle, self.bundle.vocab
        counted = np.zeros(len(vocab), bool)
        counted[self.words.word_ids] = True  # not <unk>: unknown words count by their written form
        components: list[Component] = [DocumentCache(counted, vocab.unk_id, hidden=self.never_offered)]
        tables = [(table, field) for table, field in ((bundle.phrases, "phrases"),
                                                      (bundle.user_phrases, "user_phrases")) if table is not None]
        if tables:
            phrase_ids = PhraseIds(vocab, self.lexicon)  # (phrases.phrase_index, without a third dictionary)
            lexicon_words = bundle.lexicon.words if bundle.lexicon is not None else []
            for table, field in tables:
                components.append(PhraseTables(table, field, vocab_size=len(vocab), unk_id=vocab.unk_id,
                                               phrase_ids=phrase_ids, lexicon_words=lexicon_words,
                                               lexicon=self.lexicon))
        return components

    def _hooks(self) -> None:
        """Which components to call at a word boundary and which at every keystroke."""
        self._at_boundary = hooked(self._components, "stage")
        self._at_keystroke = hooked(self._components, "candidates", "excluded")

    @property
    def components(self) -> tuple[Component, ...]:
        """The mixture's components, in the order they are mixed in."""
        return tuple(self._components)

    def add_component(self, component: Component, *, first: bool = False) -> None:
        """Mix ``component`` in too, after those there (``components``), or, ``first``, before
        them all: right after the network, under the document cache and the phrase tables."""
        with self._lock:
            self._components.insert(0 if first else len(self._components), component)
            self._hooks()
            self._memo = None

    def remove_component(self, component: Component) -> None:
        with self._lock:
            self._components.remove(component)
            self._hooks()
            self._memo = None

    def set_weights(self, weights: MixtureWeights) -> None:
        """Mix with ``weights`` from now on (``user_phrases`` None: the bundle's tuned ones)."""
        if weights.user_phrases is None:
            weights = replace(weights, user_phrases=self.bundle.user_phrase_settings)
        with self._lock:
            self.weights = weights
            self._memo = None

    def set_phrase_settings(self, phrases: PhraseSettings, user_phrases: PhraseSettings | None = None) -> None:
        """Change the phrase tables' weights (``user_phrases`` None: the bundle's tuned ones)."""
        self.set_weights(replace(self.weights, phrases=phrases, user_phrases=user_phrases))

    @property
    def recency(self) -> RecencySettings:
        return self.weights.recency

    @property
    def phrase_settings(self) -> PhraseSettings:
        return self.weights.phrases

    @property
    def user_phrase_settings(self) -> PhraseSettings:
        return self.weights.user_phrases

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        threads: int = 1,
        *,
        weights: MixtureWeights = MixtureWeights(),
        recency: RecencySettings | None = None,
        phrases: PhraseSettings | None = None,
        user_phrases: PhraseSettings | None = None,
    ) -> "Predictor":
        """Open a bundle folder or .zip; raise ``ModelLoadError`` (one sentence naming the file)."""
        bundle = load_bundle(path)
        try:
            return cls(bundle, threads=threads, weights=weights, recency=recency, phrases=phrases,
                       user_phrases=user_phrases)
        except BaseException:
            bundle.close()
            raise

    @property
    def states(self) -> StateCache:
        """The state cache (its ``runs`` and ``tokens_run`` count network work)."""
        return self._states

    def reset(self) -> None:
        """Forget the cached text and states (the next call starts fresh)."""
        with self._lock:
            self._tokens.reset()
            self._states.reset()

    def close(self) -> None:
        self.bundle.close()

    # -- suggestions --------------------------------------------------------

    def suggest(self, text_before_cursor: str, k: int = 3, *, end: int | None = None) -> list[Suggestion]:
        """The ``k`` best next words or completions for the text before the cursor.

        ``end``: the cursor offset when ``text_before_cursor`` is the whole
        text (saves the caller a copy of a long document).
        """
        if k < 0:
            raise ValueError(f"k must be at least 0, not {k}")
        with self._lock:
            scores, view, at = self._distribution(text_before_cursor, end)
            rules = self._completions.rules(self.completions, view, self._tokens, text_before_cursor)
            if self._at_keystroke:
                shown = self._with_components(scores, view, at, k, rules)
            else:
                shown = self._ranked(scores, view, k, rules)
            if self.run_ahead and not view.partial:
                self._run_ahead(text_before_cursor, len(text_before_cursor) if end is None else end, view)
            return shown

    def _ranked(self, scores: Scores, view: View, k: int, rules: Rules | None = None) -> list[Suggestion]:
        """The engine's own strip: the best words for the typed letters (``completions``'
        rules applied), and corrections."""
        shown = self._ranker.rank(scores, view.partial, view.capital_next, k, rules)
        shown = self._completions.finish(shown, self.completions, rules, scores, view, k,
                                         lambda: self._ranker.rank(scores, view.partial, view.capital_next, k))
        if self.typo_tolerance and len(view.partial) >= self.typo_model.min_typed:
            shown = self._with_corrections(shown, scores, view, k)
        return shown

    def _with_components(self, scores: Scores, view: View, at: Cursor, k: int,
                         rules: Rules | None = None) -> list[Suggestion]:
        """The strip with the keystroke components' candidates mixed in (``components``):
        over the best ``weights.pool`` ranked words (more where words are excluded) and
        each component's own, none of the excluded words."""
        components = self._at_keystroke
        excluded = set().union(*(c.excluded() for c in components))
        typed = view.partial
        offers = [offer for offer in (c.candidates(at, typed) for c in components) if offer is not None]
        # (the user's learned words too: a slip or a slur typed is counted, never offered)
        hidden = self.never_offered
        offers = [offer._replace(words=[c for c in offer.words if c.token not in hidden]) for offer in offers]
        if not offers and not excluded:
            return self._ranked(scores, view, k, rules)
        shown = self._ranked(scores, view, max(self.weights.pool, k + len(excluded)), rules)
        shown = [s for s in shown if s.token not in excluded]
        if not offers:
            return shown[:k]
        vocab = self.bundle.vocab

        def engine_log_prob(token: str) -> float | None:
            return float(scores.log_probs[vocab.id(token)]) if token in vocab else None

        def suggestion(candidate: Candidate) -> Suggestion:
            text = written_form(candidate.display, typed, view.capital_next)
            return Suggestion(text, candidate.token, math.log(max(candidate.prob, 1e-12)), bool(typed))

        for i, offer in enumerate(offers):
            keep = k if i == len(offers) - 1 else len(shown) + len(offer.words)  # cut after the last
            shown = mix_candidates(shown, offer, engine_log_prob, suggestion, keep)
        return shown

    def _run_ahead(self, text: str, end: int, view: View) -> None:
        """After a line break, start the start state of the paragraph that a second one
        would begin (``state_cache``: running ahead), so that keystroke does not wait for it."""
        tail = text[max(0, end - 16) : end].rstrip(" \t\r\f\v")
        if tail.endswith("\n") and self._tokens.ids[view.length - 1] != self._bos:
            self._states.run_ahead(self._tokens.ids, view.length)

    def next_word_log_probs(self, text_before_cursor: str, *, end: int | None = None) -> tuple[np.ndarray, View]:
        """The distribution behind ``suggest`` over the vocabulary: log-probabilities
        (vocab,) of the word at the cursor, and how the text was split (read-only)."""
        with self._lock:
            scores, view, _ = self._distribution(text_before_cursor, end)
            return scores.log_probs, view

    def _distribution(self, text: str, end: int | None) -> tuple[Scores, View, Cursor]:
        if not isinstance(text, str):
            raise TypeError(f"the text must be a str, not {type(text).__name__}")
        if end is not None and not 0 <= end <= len(text):
            raise ValueError(f"end {end} is outside the text (0..{len(text)})")
        view = self._tokens.update(text, end)
        if view.changed_from is not None:
            self._states.invalidate(view.changed_from)
        key = (self._tokens.generation, view.length)
        memo = self._memo
        if memo is not None and memo[0] == key:  # a keystroke inside a word
            return memo[1], view, memo[2]
        at = self._cursor(view.length)
        # The stages first: they need only the tokens, and their arrays are still in the CPU's
        # caches, which the network's run (megabytes of weights) then sweeps out.
        stages = self._stages(at)
        scores = self._mix(self._states.log_probs(self._tokens.ids, view.length), view.length, at, stages)
        self._memo = (key, scores, at)
        return scores, view, at

    def _cursor(self, length: int) -> Cursor:
        return Cursor(self._tokens, self._states, length, self.weights)

    def _mix(self, network: np.ndarray, length: int, at: Cursor | None = None, stages: list | None = None) -> Scores:
        """The network's distribution with every word-boundary component's stage mixed in
        (``mixture.combine``): the steps are recorded, and computed when the strip ranks."""
        if stages is None:
            stages = self._stages(self._cursor(length) if at is None else at)
        return combine(network, self.words, self.lexicon, self.bundle.vocab.unk_id, stages)

    def _stages(self, at: Cursor) -> list:
        """What each word-boundary component mixes in at ``at`` (a function of the text alone)."""
        return [stage for stage in (c.stage(at) for c in self._at_boundary) if stage is not None]

    @property
    def typos(self) -> TypoChannel:
        """The typo channel over the vocabulary and the lexicon (built at its first use:
        one sort of their words, about a tenth of a second)."""
        if self._typos is None or self._typos.model != self.typo_model:
            self._typos = TypoChannel(self.words, self.bundle.vocab, self.lexicon, self.typo_model)
        return self._typos

    def _with_corrections(self, shown: list[Suggestion], scores: Scores, view: View, k: int) -> list[Suggestion]:
        """``shown`` with the corrections of the typed letters that outscore its ``k``-th,
        best first (a completion before a correction on a tie)."""
        if k == 0:
            return shown
        typed = view.partial
        floor = shown[-1].log_prob if len(shown) >= k else -math.inf
        found = self.typos.corrections(typed, scores.log_probs, scores.lexicon_base, k, floor=floor,
                                       best_completion=shown[0].log_prob if shown else None)
        meant = self._slip_meant(typed, view)
        if meant is not None and self._blocked().intersection(meant.lower().split(" ")):
            meant = None  # never offer a word the user blocked
        if meant is not None:  # a known misspelling typed in full: the word meant first
            first = self._slip_log_prob(meant, scores)
            if shown or found:
                first = max(first, *(s.log_prob for s in shown), *(c.score for c in found))
            shown = [Suggestion(meant, meant.lower(), first, True, kind="correction")] + [
                s for s in shown if s.text.lower() != meant.lower()]
        if not found:
            return shown[:k]
        seen = {s.text.lower() for s in shown}
        merged = list(shown)
        for correction in found:
            text = written_form(self.typos.display(correction.word), typed, view.capital_next)
            if text.lower() not in seen:
                seen.add(text.lower())
                merged.append(Suggestion(text, correction.word, correction.score, True, kind="correction"))
        merged.sort(key=lambda s: -s.log_prob)  # (stable: the word meant by a slip stays first)
        return merged[:k]

    def _slip_meant(self, typed: str, view: View, capital: bool | None = None) -> str | None:
        """What ``typed`` means when it is one of the bundle's slips, written as typed
        ("Alot" -> "A lot", "BECUASE" -> "BECAUSE"), with a capital where ``capital`` asks
        (default: where the strip gives one, ``View.capital_next``); None when it is none."""
        meant = self.slips.get(normalise_apostrophes(typed.lower())) if self.slips else None
        if meant is None:
            return None
        display = " ".join(self.typos.display(word) for word in meant.split(" "))  # ("i think": "I think")
        return written_form(display, typed, view.capital_next if capital is None else capital)

    @staticmethod
    def _written_as_a_name(typed: str, view: View, text: str) -> bool:
        """Whether ``typed`` is written with a capital that only a name explains: inside a
        sentence ("I met Anya", "Mr Teh"), not at the start of a sentence, a line or a list's
        item ("Hi Tom,\nThnaks", "- Recieve"), and not in capitals throughout ("TEH")."""
        if not typed[:1].isupper() or view.sentence_start or in_capitals(typed):
            return False
        return inside_a_sentence(text, view.partial_start)

    def _own_word(self, typed: str, scores: Scores, at: Cursor) -> bool:
        """Whether ``typed``, a finished word, is the writer's own rather than a slip: a word
        beyond the vocabulary the document has (``Scores.others``), or one a keystroke
        component offers for these letters (the user's learned words), or a word never offered
        but typed in full (``offensive``: hidden from the typo search, it would be "corrected"
        to its neighbour, "whore" to "where")."""
        lowered = typed.lower()
        if lowered in OFFENSIVE:
            return True
        if any(word.lower() == lowered for word in scores.others):
            return True
        offers = (c.candidates(at, typed) for c in self._at_keystroke)
        return any(c.token == lowered for offer in offers if offer is not None for c in offer.words)

    def _blocked(self) -> set[str]:
        """The words the user blocked (the keystroke components' ``excluded``)."""
        return {t for c in self._at_keystroke for t in c.excluded()}

    def _slip_log_prob(self, meant: str, scores: Scores) -> float:
        """The log-probability of the first word ``meant`` (a slip's correction) here."""
        first = meant.split(" ", 1)[0].lower()
        return self.typos.word_score(first, scores.log_probs, scores.lexicon_base)

    # -- phrases ----------------------------------------------------------------

    def phrase(self, text_before_cursor: str, k: int = 3, *, end: int | None = None,
               budget: float | None | EllipsisType = ..., stop: Callable[[], bool] | None = None,
               ) -> Suggestion | None:
        """The phrase a strip of ``k`` slots offers for the text before the cursor, or None
        (``beam``): only at a word start, only when it is likely enough to earn a slot.

        ``budget`` (seconds; ``...``: ``phrase_beam.budget``, None: no limit) and
        ``stop()`` (asked between steps) drop it.  The beam runs outside the lock
        (from the cached state, read-only), so a ``suggest`` from another thread
        is not held up by it; one caller of ``phrase`` at a time.
        """
        found = self._phrases(text_before_cursor, k, end, budget, stop, None, best=True)
        return found[0] if found else None

    def phrase_candidates(self, text_before_cursor: str, k: int | None = 3, *, end: int | None = None,
                          threshold: float | None = None) -> list[Suggestion]:
        """Every phrase the beam keeps, the one ``phrase`` would offer first (for measuring:
        benchmarks/phrases.py).  ``k`` None: whatever the strip shows; ``threshold``: a
        log-probability in place of ``phrase_beam.threshold``.  No budget."""
        return self._phrases(text_before_cursor, k, end, None, None, threshold, best=False)

    @property
    def phrase_stats(self) -> BeamStats:
        """What the last phrase search did (network runs, seconds, dropped)."""
        return self._beam.stats if self._beam is not None else BeamStats()

    def _phrases(self, text: str, k: int | None, end: int | None, budget, stop, threshold: float | None,
                 *, best: bool) -> list[Suggestion]:
        """What the beam starts from is taken under the lock (the strip's words, the floor,
        the cached state); the beam itself runs outside it."""
        settings = self.phrase_beam
        if settings is None or (k is not None and k < 2):
            return []
        floor = settings.threshold if threshold is None else threshold
        with self._lock:
            scores, view, at = self._distribution(text, end)
            if view.partial:
                return []
            vocab = self.bundle.vocab
            if k is None:  # whatever the strip: the likeliest words
                shown = [Suggestion(written_form(vocab.display[i], "", view.capital_next), vocab.tokens[i], p, False)
                         for i, p in scores.mixture.best(0, len(self.words), settings.width)]
            else:  # the strip's words, as ``suggest`` gives them (its completion rules too)
                rules = self._completions.rules(self.completions, view, self._tokens, text)
                shown = (self._with_components(scores, view, at, k, rules) if self._at_keystroke
                         else self._ranked(scores, view, k, rules))
                if len(shown) >= k:  # it must beat the word whose slot it would take
                    floor = max(floor, shown[k - 1].log_prob + math.log(settings.odds))
            first = {vocab.id(s.token): s for s in shown if s.kind == "word" and s.token in vocab}
            banned = {vocab.id(t) for c in self._at_keystroke for t in c.excluded() if t in vocab}
            state = at.state()
            follow = Continuations.at(at, self._components, vocab.unk_id) if settings.mixture else None
            if self._beam is None or self._beam.settings != settings:
                lengths = np.array([len(token) for token in vocab.tokens])
                self._beam = PhraseBeam(self.session, self.words.position >= 0, lengths, settings)
            beam = self._beam
        starts = [(i, s.log_prob) for i, s in first.items()]
        if best:
            found = beam.search(state, starts, floor=floor, budget=budget, stop=stop, banned=banned, follow=follow)
            phrases = [] if found is None else [found]
        else:
            phrases = sorted(beam.candidates(state, starts, floor=floor, budget=None, banned=banned, follow=follow),
                             key=beam.worth, reverse=True)
        display = vocab.display  # the first word as the strip writes it, the others as the model does
        return [Suggestion(" ".join([first[p.ids[0]].text] + [display[i] for i in p.ids[1:]]),
                           " ".join(vocab.tokens[i] for i in p.ids), p.log_prob, False, kind="phrase")
                for p in phrases]

    # -- accepting ------------------------------------------------------------

    def autocorrect(self, text_before_cursor: str) -> Edit | None:
        """With ``auto_correct`` on, what to put in place of the word just typed when a
        space follows it (the caller adds the space; None: the word stays).

        A word one or two typos away whose score (``typos``) beats the word as typed
        by a wide margin and is likely enough in its own right, or else the word's
        capital of the pronoun "I" ("i", "i'm", ... typed in small letters).  Other
        words keep the letters as typed: the vocabulary records only each word's most
        frequent form, not how often it is written in small letters, so capitalising
        "london" would also turn "fox" into "Fox" (a name in the corpus); the strip
        still offers the capitalised form.  A word glued to what comes before it (a
        hashtag, a mention, a path, a web address, a number: ``WORD_OPENERS``) is left
        alone, and so is a word written with a capital inside a sentence, a name ("I met
        Anya" became "I met Any"; "Mr Teh", though "teh" is one of the bundle's slips:
        ``_written_as_a_name``), and a word the document or the user's learned words have
        (the components' words beyond the vocabulary).  A correction keeps the letters'
        case as typed, with a capital at a sentence's start only.  Keeping the old word
        for a Backspace right after is the caller's (an ordinary undo of this edit).
        """
        if not self.auto_correct:
            return None
        with self._lock:
            scores, view, at = self._distribution(text_before_cursor, None)
            typed = view.partial
            before = text_before_cursor[view.partial_start - 1 : view.partial_start]
            if not typed or (before and not before.isspace() and before not in WORD_OPENERS):
                return None  # part of something else, not a slip (``WORD_OPENERS``)
            word = typed
            name = self._written_as_a_name(typed, view, text_before_cursor)
            # (written as typed, or at a sentence's start: a title's capital is the strip's offer only)
            meant = None if name else self._slip_meant(typed, view, view.sentence_start)
            found = None if meant is not None or name or self._own_word(typed, scores, at) else self.typos.replacement(
                typed, scores.log_probs, scores.lexicon_base, AUTO_CORRECT_MARGIN, AUTO_CORRECT_MINIMUM)
            if found is not None and len(typed) <= AUTO_CORRECT_SHORT and found.error < AUTO_CORRECT_SHORT_ERROR:
                found = None  # a short word: a hand's slip only ("thx" is no slip of "the")
            blocked = self._blocked()
            if meant is not None:  # a known misspelling: the word or words it means, unless blocked
                if not blocked.intersection(meant.lower().split(" ")):
                    word = meant
            elif found is not None and found.word not in blocked:  # never type a word the user blocked
                word = written_form(self.typos.display(found.word), typed, view.sentence_start)
            elif typed.islower() and typed.replace("\u2019", "'") in _PRONOUN_I:
                display = self.typos.display(typed)
                if display[:1].isupper() and display.lower() == typed:
                    word = display
            elif typed.lower() in _PRONOUN_I_SHORT and not in_capitals(typed):
                word = _PRONOUN_I_SHORT[typed.lower()]  # "im", "Im": "I'm"
            if word == typed:
                return None
            return Edit(view.partial_start, len(text_before_cursor), word)

    def accept(self, text_before_cursor: str, suggestion: Suggestion, text_after_cursor: str = "") -> Edit:
        """How to put ``suggestion`` in: replace the word being typed, add a space.

        A next word right after punctuation or a word ("Hello.|") gets a space
        before it too; after an opening bracket or quote it does not.  With the
        cursor inside a word, the word's letters after the cursor are replaced
        too, so the ``Edit`` then ends past the cursor: its offsets run on into
        ``text_after_cursor`` ("We like it alo|t" + "along" -> "We like it
        along |"; ``end`` is ``len(text_before_cursor)`` plus the letters
        after it).  A possessive or a contraction's ending after them stays,
        unless the word chosen has an apostrophe of its own ("Joh|n's" +
        "Johnson" -> "Johnson's"; "do|nt" + "don't" -> "don't").  The
        suggestions themselves are for the text before the cursor only.  The
        character after the word then decides the space after it (a caller
        may pass a short slice of the text after the cursor, long enough to
        hold the rest of the word and one more): a space already there is not
        doubled, the cursor moves over it instead ("The function| returns" ->
        "The functions |returns"), and closing punctuation gets none before it
        ("Send the rep|." -> "Send the report|.").
        """
        end = len(text_before_cursor)
        start = partial_start(text_before_cursor, end)
        replacement = suggestion.text
        if start == end and end and _needs_space(text_before_cursor[end - 1]):
            replacement = " " + replacement
        rest, glued = _word_rest(text_after_cursor, replacement) if start < end else (0, False)
        if glued:  # an ending kept ("'s"): no space between it and the word
            return Edit(start, end + rest, replacement)
        following = text_after_cursor[rest : rest + 1]
        if following in _SPACES:
            return Edit(start, end + rest, replacement, skip=1)
        if following in NO_SPACE_BEFORE:
            return Edit(start, end + rest, replacement)
        return Edit(start, end + rest, replacement + " ")


def _word_rest(after: str, chosen: str) -> tuple[int, bool]:
    """How many characters at the start of ``after`` (the text after a cursor inside a word)
    belong to the word that ``chosen`` replaces, and whether an ending stays glued to it
    after them ("n's" -> 1, True, unless ``chosen`` has an apostrophe: 3, False).  The word
    is the tokenizer's partial word (letters and digits, parts joined by apostrophes, a
    final apostrophe); one glued to a number ("ab|c12") is left as it is: 0."""
    letters = _letters_end(after, 0)
    end = letters
    while end < len(after) and after[end] in WORD_APOSTROPHES:
        part = _letters_end(after, end + 1)
        ending = after[end + 1 : part]
        if letters == 0 and not ending:
            break  # "word|' ": a closing quote, not the word's
        if (end == letters and ending.lower() in _KEPT_ENDINGS and after[part : part + 1] not in WORD_APOSTROPHES
                and not any(c in WORD_APOSTROPHES for c in chosen)):
            return letters, True
        end = part
        if not ending:
            break  # a final apostrophe ends the word
    if any(c.isdigit() for c in after[:end]):
        return 0, False
    return end, False


def _letters_end(text: str, start: int) -> int:
    """Where the run of letters and digits from ``start`` ends (``[^\\W_]``, as the tokenizer's)."""
    end = start
    while end < len(text) and text[end].isalnum():
        end += 1
    return end

#: Endings after a word the cursor is inside that stay when the word is replaced: a possessive
#: ("'s", and the plural's bare "'") or a contraction's clitic ("'ll", "'re", ...).
_KEPT_ENDINGS = frozenset({"", "s", "d", "ll", "re", "ve", "m"})


def _needs_space(previous: str) -> bool:
    return not previous.isspace() and previous not in _NO_SPACE_AFTER


def _with(weights: MixtureWeights, **settings) -> MixtureWeights:
    """``weights`` with the settings given (not None) in place of its own."""
    given = {name: value for name, value in settings.items() if value is not None}
    return replace(weights, **given) if given else weights
