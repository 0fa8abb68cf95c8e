"""The predictor: suggestions for the text before the cursor, live.

``Predictor.suggest(text_before_cursor, k)`` returns the ``k`` most likely
next words (after a space or punctuation) or completions of the word being
typed, written the way the context asks for.  Between calls it keeps the
tokenization (``textcache``) and the recurrent states (``cache``) of the
text, so a keystroke inside a word runs no network, a finished word runs one
step, and any other edit reruns only what changed.

The model's context is the text before the cursor from shortly before the
last paragraph boundary: the state after a ``<s>`` (a blank line, and the
start of the text) is that of one run over the 64 tokens ending with it,
from the zero state, so what came further back does not matter.  A
paragraph longer than 2000 tokens restarts the same way at a sentence end,
at points fixed by the text itself (see ``cache``).  So a fresh engine runs
the network over the last paragraph and 64 tokens only (in 8-token cells,
see ``cache``), however long the document, and the cache makes even that
cost paid once, not per keystroke.  (The text is still tokenized from
its start, which runs no network.)  Whatever sequence of edits led to a
text, the suggestions, and the log-probabilities behind them, are bit for bit
those of a fresh engine given that text.

Three things beyond the network shape the distribution (all computed from the
text alone, so the rule above holds for them too): the document cache
(``recency``: words used in the last couple of thousand tokens are mixed in,
those outside the vocabulary included), the bundle's phrase tables
(``phrases``: the words that followed the last one or two tokens in the
training corpus) and its lexicon (``lexicon``: corpus words beyond the
vocabulary share the network's ``<unk>`` probability, so they can be
completed).  The network and the document cache are mixed first, then the
phrases: ``P = (1 - a - b) P_mixed + a P_pair + b P_triple``, and then, in a
model adapted to a user's corpus, the same again with that corpus's own pairs
and triples (``bundle.user_phrases``) and their own weights, tuned on the
user's held-out text when the model was trained.

With ``typo_tolerance`` on, the strip inside a word may also offer
corrections (``typos``): words the typed letters may have been meant as
through a slip or a misspelling, scored ``log P(word | context) + log
P(typed | word)``, shown where that beats the completions and the typed
letters taken as a word, and marked ``kind="correction"``.  With
``auto_correct`` on, ``autocorrect`` says what a space would replace a
mistyped word with.  Both are off by default.

``accept`` says how to put a suggestion into the text: which characters to
replace (the partial word) with what (the word and a space).

A predictor is used by one thread at a time (the app's worker owns it); a
lock makes a second caller wait rather than corrupt the cache.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .bundle import Bundle, ModelLoadError, load_bundle
from .cache import StateCache
from .lexicon import LexiconIndex
from .mixture import Mixture, logaddexp
from .phrases import ORDERS, PhraseSettings, phrase_index
from .ranking import WordIndex, written_form
from .recency import EMPTY, RecencySettings, RecentWords
from .session import RecurrentSession
from .textcache import TokenCache, View
from .tokenizer import BOS, Tokenizer, partial_start
from .typos import AUTO_CORRECT_MARGIN, AUTO_CORRECT_MINIMUM, ErrorModel, TypoChannel

log = logging.getLogger(__name__)

__all__ = ["Edit", "ModelLoadError", "PhraseSettings", "Predictor", "RecencySettings", "Suggestion"]

# After these characters a next word is put in without a space before it.
_NO_SPACE_AFTER = set("([{<\"'\u201c\u2018\u00ab\u2039\u201e\u201a\u00bf\u00a1-\u2010\u2013\u2014/\\@#_~")
# Before these characters an accepted word gets no space after it ("rep|." -> "report|.").
# Straight quotes are left out: one may open the next phrase as well as close this one.
_NO_SPACE_BEFORE = frozenset(".,;:!?)]}>\u201d\u2019\u00bb\u203a\u2026")
# A space already here after the cursor is used instead of a new one.
_SPACES = frozenset(" \t")


@dataclass(frozen=True)
class Suggestion:
    text: str  # as shown and inserted: "London", "LONDON", "The"
    token: str  # the word's token: "london" (a vocabulary token, or a lexicon or document word)
    log_prob: float  # its log-probability (network, document cache and lexicon mixed); a correction's
    #                  plus log P(typed | word), the error model's
    is_completion: bool  # completes the word being typed (else a next word)
    kind: str = "word"  # "correction": the typed letters read as this word's through a typo (``typos``)


@dataclass(frozen=True)
class Scores:
    """The distribution of the word at the cursor."""

    mixture: Mixture  # over the vocabulary: the network's, the document cache's and the phrases'
    others: dict[str, float]  # recent words outside the vocabulary -> log-probability
    others_display: dict[str, str]  # how those were written
    lexicon_base: float  # log-probability of a lexicon word = this + its log share

    @property
    def log_probs(self) -> np.ndarray:
        """(vocab,) log-probabilities, read-only (computed whole on first use)."""
        return self.mixture.dense()


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``replacement`` (offsets into the text before the
    cursor), then move the cursor ``skip`` characters on, over a space already there."""

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
    the session (tests shrink its checkpoint spacing with it).  ``recency``
    sets the document cache (``RecencySettings.off()`` turns it off),
    ``phrases`` the share of the bundle's phrase tables (``PhraseSettings.off()``)
    and ``user_phrases`` that of the user's phrase tables in an adapted model
    (None: the weights tuned when it was adapted, recorded in its manifest).
    """

    def __init__(
        self,
        bundle: Bundle,
        session=None,
        *,
        threads: int = 1,
        state_cache: Callable[[RecurrentSession], StateCache] = StateCache,
        recency: RecencySettings = RecencySettings(),
        phrases: PhraseSettings = PhraseSettings(),
        user_phrases: PhraseSettings | None = None,
    ) -> None:
        if session is None:
            session = RecurrentSession.open(bundle, threads)
        elif not isinstance(session, RecurrentSession):
            session = RecurrentSession(session, bundle)
        self.bundle = bundle
        self.session = session
        self.tokenizer = Tokenizer(bundle.tokenizer_settings)
        self.words = WordIndex(bundle.vocab)
        self._display = bundle.vocab.display
        self._tokens = TokenCache(self.tokenizer, bundle.vocab)
        self._states = state_cache(session)
        self._lock = threading.Lock()
        vocab = bundle.vocab
        self.lexicon = LexiconIndex(bundle.lexicon, vocab)
        counted = np.zeros(len(vocab), bool)
        counted[self.words.word_ids] = True  # not <unk>: unknown words count by their written form
        self.recency = recency
        self._recent = RecentWords(counted, recency, vocab.unk_id)
        self.phrases = bundle.phrases
        self._lexicon_words = bundle.lexicon.words if bundle.lexicon is not None else []
        has_tables = bundle.phrases is not None or bundle.user_phrases is not None
        self._phrase_ids = phrase_index(vocab.tokens, bundle.lexicon) if has_tables else {}
        self.set_phrase_settings(phrases, user_phrases)
        self._memo: tuple[tuple[int, int], Scores] | None = None
        self._bos = vocab.id(BOS)
        #: compute a new paragraph's start state ahead, after a line break (``cache``)
        self.run_ahead = True
        #: offer corrections of mistyped letters in the strip (``typos``); off by default
        #: until the app turns it on (the strip has been completions only so far)
        self.typo_tolerance = False
        #: ``autocorrect`` replaces a mistyped word when a space is typed (off by default)
        self.auto_correct = False
        self.typo_model = ErrorModel()
        self._typos: TypoChannel | None = None

    def set_phrase_settings(self, phrases: PhraseSettings, user_phrases: PhraseSettings | None = None) -> None:
        """Change the phrase tables' weights (``user_phrases`` None: the bundle's tuned ones)."""
        with self._lock:
            self.phrase_settings = phrases
            self.user_phrase_settings = (self.bundle.user_phrase_settings if user_phrases is None
                                         else user_phrases)
            self._phrase_tables = [
                (table, settings) for table, settings in ((self.bundle.phrases, self.phrase_settings),
                                                          (self.bundle.user_phrases, self.user_phrase_settings))
                if table is not None and settings.enabled
            ]
            self._memo = None

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        threads: int = 1,
        *,
        recency: RecencySettings = RecencySettings(),
        phrases: PhraseSettings = PhraseSettings(),
        user_phrases: PhraseSettings | None = None,
    ) -> "Predictor":
        """Open a bundle folder or .zip; raise ``ModelLoadError`` (one sentence naming the file)."""
        bundle = load_bundle(path)
        try:
            return cls(bundle, threads=threads, recency=recency, phrases=phrases, user_phrases=user_phrases)
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
            scores, view = self._distribution(text_before_cursor, end)
            shown = self._rank(scores, view, k)
            if self.typo_tolerance and len(view.partial) >= self.typo_model.min_typed:
                shown = self._with_corrections(shown, scores, view, k)
            if self.run_ahead and not view.partial:
                self._run_ahead(text_before_cursor, len(text_before_cursor) if end is None else end, view)
            return shown

    def _run_ahead(self, text: str, end: int, view: View) -> None:
        """After a line break, start the start state of the paragraph that a second one
        would begin (``cache``: running ahead), so that keystroke does not wait for it."""
        tail = text[max(0, end - 16) : end].rstrip(" \t\r\f\v")
        if tail.endswith("\n") and self._tokens.ids[view.length - 1] != self._bos:
            self._states.run_ahead(self._tokens.ids, view.length)

    def next_word_log_probs(self, text_before_cursor: str, *, end: int | None = None) -> tuple[np.ndarray, View]:
        """The distribution behind ``suggest`` over the vocabulary: log-probabilities
        (vocab,) of the word at the cursor, and how the text was split (read-only)."""
        with self._lock:
            scores, view = self._distribution(text_before_cursor, end)
            return scores.log_probs, view

    def _distribution(self, text: str, end: int | None) -> tuple[Scores, View]:
        if not isinstance(text, str):
            raise TypeError(f"the text must be a str, not {type(text).__name__}")
        if end is not None and not 0 <= end <= len(text):
            raise ValueError(f"end {end} is outside the text (0..{len(text)})")
        view = self._tokens.update(text, end)
        if view.changed_from is not None:
            self._states.invalidate(view.changed_from)
        key = (self._tokens.generation, view.length)
        if self._memo is not None and self._memo[0] == key:  # a keystroke inside a word
            return self._memo[1], view
        scores = self._mix(self._states.log_probs(self._tokens.ids, view.length), view.length)
        self._memo = (key, scores)
        return scores, view

    def _mix(self, network: np.ndarray, length: int) -> Scores:
        """The network's distribution with the document cache, the corpus's phrases
        and the lexicon (module docstring), as a ``Mixture``: the steps are recorded
        here, and computed when the strip ranks (``mixture``)."""
        unk = float(network[self.bundle.vocab.unk_id])
        ids = np.frombuffer(self._tokens.ids, np.int64, length)
        cache = EMPTY
        if self.recency.enabled:
            cache = self._recent.distribution(ids, length, self._tokens.unknown_words)
        stages = []  # the corpus's phrases, then the user's: each mixed into what came before
        if self._phrase_tables:
            context = self._phrase_context(ids, length)
            for table, settings in self._phrase_tables:
                found_here = []
                for order in ORDERS:
                    weight = settings.weight(order)
                    found = table.followers(context, order) if weight > 0.0 else None
                    if found is not None:
                        found_here.append((weight, *found))
                if found_here:
                    stages.append(found_here)
        mixture = Mixture(network, self.words)
        if cache.empty and not stages:
            return Scores(mixture, {}, {}, unk)
        others, base = {}, unk
        if not cache.empty:
            others, base = self._mix_cache(mixture, cache, unk)
        vocab_size = len(network)
        for phrases in stages:  # P = (1 - sum of weights) P + sum of weight * P_corpus
            keep = math.log1p(-sum(weight for weight, _, _ in phrases))
            mixture.add(keep)
            base += keep
            others = {word: score + keep for word, score in others.items()}
            for weight, found, corpus in phrases:
                log_weight = math.log(weight)
                if found[-1] < vocab_size:  # followers are sorted: lexicon words come last
                    mixture.merge(found, corpus, log_weight)
                    continue
                split = int(np.searchsorted(found, vocab_size))
                mixture.merge(found[:split], corpus[:split], log_weight)
                for i, score in zip(found[split:].tolist(), corpus[split:].tolist()):
                    word = self._lexicon_words[i - vocab_size]
                    if word in self.lexicon:  # (not a vocabulary word too)
                        before = others.get(word, base + self.lexicon.share(word))
                        others[word] = logaddexp(before, log_weight + score)
        return Scores(mixture, others, cache.display, base)

    def _phrase_context(self, ids: np.ndarray, length: int) -> list[int]:
        """The last two tokens' ids for the phrase tables: a word outside the vocabulary
        by its lexicon id (vocabulary size + position), ``<unk>`` if it has none."""
        context = ids[max(0, length - 2) : length].tolist()
        unk = self.bundle.vocab.unk_id
        if unk in context:
            start = length - len(context)
            for index, word, _ in self._tokens.unknown_words(start, length):
                position = self._phrase_ids.get(word)
                if position is not None:
                    context[index - start] = position
        return context

    def _mix_cache(self, mixture: Mixture, cache, unk: float) -> tuple[dict[str, float], float]:
        """The document cache mixed in: recent unknown words' log-probabilities and the lexicon's base."""
        settings = self.recency
        single = settings.weight
        if settings.ramp > 0.0:  # little text yet: little trust in its word counts
            single *= cache.words / (cache.words + settings.ramp)
        pairs, triples = len(cache.pair_ids) > 0, len(cache.triple_ids) > 0
        keep = math.log1p(
            -single - (settings.pair_weight if pairs else 0.0) - (settings.triple_weight if triples else 0.0)
        )
        mixture.add(keep)
        base = keep + unk
        others: dict[str, float] = {}
        if single > 0.0:
            weight = math.log(single)
            if len(cache.ids):
                mixture.merge(cache.ids, weight + np.log(cache.probs))
            share = self.lexicon.share
            others = {word: logaddexp(base + share(word), weight + math.log(p)) for word, p in cache.others.items()}
        for used, weight, ids, probs in ((pairs, settings.pair_weight, cache.pair_ids, cache.pair_probs),
                                         (triples, settings.triple_weight, cache.triple_ids, cache.triple_probs)):
            if used:
                mixture.merge(ids, math.log(weight) + np.log(probs))
        return others, base

    def _rank(self, scores: Scores, view: View, k: int) -> list[Suggestion]:
        """The best ``k`` of the vocabulary's, the document's and the lexicon's words that
        fit the typed letters; ties: vocabulary first, then by id or word.  The word
        exactly as typed is left out (choosing it would do what a space does)."""
        if k == 0:
            return []
        typed = view.partial
        prefix = typed.lower()
        lo, hi = self.words.span(prefix)
        others = sorted(
            (-score, 1, word, word) for word, score in scores.others.items() if word.lower().startswith(prefix)
        )
        lexicon = self.lexicon
        vocab_tokens = self.bundle.vocab.tokens
        want = k
        while True:
            best = scores.mixture.best(lo, hi, want)
            pool = [(-score, 0, token_id, vocab_tokens[token_id]) for token_id, score in best]
            found = lexicon.best(prefix, want + len(others))
            from_lexicon = [
                (-(scores.lexicon_base + float(lexicon.log_share[i])), 2, lexicon.words[i], lexicon.words[i])
                for i in found if lexicon.words[i] not in scores.others
            ]
            # A list cut at ``want`` may hold, below its last entry fetched, words that
            # outrank what the other lists offer: the pool is exact only down to that
            # entry (its "floor").  Without this, a skipped word (the one typed, a
            # repeat) let a lexicon rarity into the strip ahead of the next vocabulary word.
            floor = math.inf  # as a negated score, like the pool's
            if len(best) == want:
                floor = min(floor, -best[-1][1])
            if len(from_lexicon) > want or len(found) == want + len(others):
                from_lexicon = from_lexicon[:want]
                if from_lexicon:
                    floor = min(floor, from_lexicon[-1][0])
            pool += from_lexicon + others
            pool.sort()
            shown: list[Suggestion] = []
            seen: set[str] = set()
            for negative, source, key, token in pool:
                if negative > floor:
                    break  # a word not fetched may rank here: fetch more
                text = written_form(self._display_of(source, key, scores), typed, view.sentence_start)
                if text.lower() in seen or (typed and text == typed):
                    continue
                seen.add(text.lower())
                shown.append(Suggestion(text, token, -negative, bool(typed)))
                if len(shown) == k:
                    return shown
            if floor == math.inf:  # every list was complete
                return shown
            want *= 2

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
        if not found:
            return shown
        seen = {s.text.lower() for s in shown}
        merged = list(shown)
        for correction in found:
            text = written_form(self.typos.display(correction.word), typed, view.sentence_start)
            if text.lower() not in seen:
                seen.add(text.lower())
                merged.append(Suggestion(text, correction.word, correction.score, True, kind="correction"))
        merged.sort(key=lambda s: -s.log_prob)
        return merged[:k]

    def _display_of(self, source: int, key: int | str, scores: Scores) -> str:
        """How a pool entry is written: ``key`` is a vocabulary id (source 0) or the word."""
        if source == 0:
            return self._display[key]
        written = scores.others_display.get(key) if source == 1 else None
        return written or self.lexicon.display_of(key)

    # -- accepting ------------------------------------------------------------

    def autocorrect(self, text_before_cursor: str) -> Edit | None:
        """With ``auto_correct`` on, what to put in place of the word just typed when a
        space follows it (the caller adds the space; None: the word stays).

        A word one or two typos away whose score (``typos``) beats the word as typed
        by a wide margin and is likely enough in its own right, or else the word's
        capitals where the model writes it capitalised and it was typed in small
        letters ("i" -> "I", "london" -> "London").  Keeping the old word for a
        Backspace right after is the caller's (an ordinary undo of this edit).
        """
        if not self.auto_correct:
            return None
        with self._lock:
            scores, view = self._distribution(text_before_cursor, None)
            typed = view.partial
            if not typed:
                return None
            word = typed
            found = self.typos.replacement(typed, scores.log_probs, scores.lexicon_base,
                                           AUTO_CORRECT_MARGIN, AUTO_CORRECT_MINIMUM)
            if found is not None:
                word = written_form(self.typos.display(found.word), typed, view.sentence_start)
            elif typed.islower():
                display = self.typos.display(typed)
                if display[:1].isupper() and display.lower() == typed:
                    word = display
            if word == typed:
                return None
            return Edit(view.partial_start, len(text_before_cursor), word)

    def accept(self, text_before_cursor: str, suggestion: Suggestion, text_after_cursor: str = "") -> Edit:
        """How to put ``suggestion`` in: replace the word being typed, add a space.

        A next word right after punctuation or a word ("Hello.|") gets a space
        before it too; after an opening bracket or quote it does not.  In the
        middle of a text the characters after the cursor decide the space after
        it (only the first one is looked at, so a caller may pass a short
        slice): a space already there is not doubled, the cursor moves over it
        instead ("The function| returns" -> "The functions |returns"), and
        closing punctuation gets none before it ("Send the rep|." ->
        "Send the report|.").
        """
        end = len(text_before_cursor)
        start = partial_start(text_before_cursor, end)
        replacement = suggestion.text
        if start == end and end and _needs_space(text_before_cursor[end - 1]):
            replacement = " " + replacement
        following = text_after_cursor[:1]
        if following in _SPACES:
            return Edit(start, end, replacement, skip=1)
        if following in _NO_SPACE_BEFORE:
            return Edit(start, end, replacement)
        return Edit(start, end, replacement + " ")


def _needs_space(previous: str) -> bool:
    return not previous.isspace() and previous not in _NO_SPACE_AFTER
