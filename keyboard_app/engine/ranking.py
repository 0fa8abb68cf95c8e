"""Which words may be suggested, how the strip's words are ranked, and how they are written.

``Ranker`` picks the strip's ``k`` words from the distribution at the cursor
(``mixture.Scores``): the vocabulary's, the words beyond it that a component
gave a probability (the document's), and the lexicon's, among those that
start with the typed letters.

``WordIndex`` holds the suggestable words (never the special tokens, never
punctuation) twice: by id, for next-word suggestions over the whole
distribution, and sorted by their lowercase form, so that the words starting
with a typed prefix are one contiguous range found by binary search.  Top-k
uses ``numpy.argpartition`` (a full sort of the whole vocabulary is far slower);
ties are broken by id, so the best ``k`` are always the first ``k`` of the
best ``k + 1``, which the evaluation relies on.

``written_form`` decides the capitals of a suggestion from the word's display
form (its most frequent written form: "I", "London"), the letters typed so
far and whether a sentence starts there.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection

import numpy as np

from .tokenizer import SPECIAL_TOKENS
from .vocab import Vocabulary

if TYPE_CHECKING:
    from .completions import Rules
    from .lexicon import LexiconIndex
    from .mixture import Scores

# A word as the tokenizer makes one (letters, inner apostrophes), without digits.
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_BEYOND = "\U0010ffff"  # sorts after every character a word can hold
LEXICON_KEPT = 4096  # the lexicon's best words kept for the prefixes typed most recently
FIRST_DEPTH = 2  # times k: how deep the ranker reads its lists at once
PENALISED_DEPTH = 8  # ... and where small letters are penalised (capitals typed inside a sentence)


@dataclass(frozen=True)
class Suggestion:
    text: str  # as shown and inserted: "London", "LONDON", "The"
    token: str  # the word's token: "london" (a vocabulary token, or a lexicon or document word)
    log_prob: float  # its log-probability (network, document cache and lexicon mixed); a correction's
    #                  plus log P(typed | word), the error model's
    is_completion: bool  # completes the word being typed (else a next word)
    kind: str = "word"  # "correction": the typed letters read as this word's through a typo (``typos``);
    #                     "phrase": the next few words in one slot (``beam``; text and token hold them all)


def is_suggestable(token: str) -> bool:
    # letters only (most words) is a word; anything else asks the pattern
    return token not in SPECIAL_TOKENS and (token.isalpha() or _WORD.fullmatch(token) is not None)


class WordIndex:
    """The suggestable words of a vocabulary, by id and by lowercase form; ``hidden``: tokens
    never offered though they look like words (the bundle's slips: ``lexicon.Lexicon.slips``)."""

    def __init__(self, vocab: Vocabulary, hidden: Collection[str] = ()) -> None:
        ids = [i for i, token in enumerate(vocab.tokens) if is_suggestable(token) and token not in hidden]
        keys = [vocab.tokens[i].lower() for i in ids]
        order = sorted(range(len(ids)), key=keys.__getitem__)  # stable: ties by id, as ids ascend
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


def in_capitals(typed: str) -> bool:
    """Whether ``typed`` is written in capitals: two letters or more, all of them capitals
    ("LON", "I'M"; not "I'", whose apostrophe ``str.isupper`` passes over: "I'm" follows)."""
    letters = [c for c in typed if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


#: ``written_form``'s ``capital`` after a title written with its capital ("Mrs "): a name's
#: capital, which the small words of a sentence do not take ("Mrs Clay", not "Mrs And"; not
#: "may" nor "will", which are names too: "Mrs May").
NAME_CAPITAL = 2
SMALL_WORDS = frozenset("""
a an the and or but nor so yet for of in on at to by with from as into onto upon about over under
after before than then if is are was were be been being am do does did has have had would can
could shall should might must it its this that these those he she we they you me him her us
them my your his our their not no who whom which what when where why how all any some there here
up down out off just only very too also
""".split())


def written_form(display: str, typed: str, capital: int) -> str:
    """How a suggestion is written: ``typed`` in capitals ("LON") gives "LONDON",
    a typed capital ("Lon") or ``capital`` (a sentence start, or ``NAME_CAPITAL`` but for
    ``SMALL_WORDS``) gives "London", else the display form."""
    if in_capitals(typed):
        return display.upper()
    if capital == NAME_CAPITAL and display in SMALL_WORDS:
        capital = False
    if capital or typed[:1].isupper():
        return display[:1].upper() + display[1:]
    return display


class Ranker:
    """The strip's words from the distribution at the cursor (module docstring)."""

    def __init__(self, words: WordIndex, vocab: Vocabulary, lexicon: "LexiconIndex") -> None:
        self.words = words
        self.lexicon = lexicon
        self._tokens = vocab.tokens
        self._display = vocab.display
        # The lexicon's order is its counts', the same in every context: its best words
        # for a prefix are kept (a dozen array operations each, at every keystroke).
        self._lexicon_kept: OrderedDict[tuple[str, int], list[int]] = OrderedDict()

    def rank(self, scores: "Scores", typed: str, sentence_start: bool, k: int,
             rules: "Rules | None" = None) -> list[Suggestion]:
        """The best ``k`` of the vocabulary's, the document's and the lexicon's words that
        fit the ``typed`` letters; ties: vocabulary first, then by id or word.  The word
        exactly as typed is left out here (``completions`` decides where it goes).
        ``rules`` (``completions.Rules``) leave words out and lower scores."""
        if k == 0:
            return []
        prefix = typed.lower()
        lo, hi = self.words.span(prefix)
        others = sorted(
            (-score, 1, word, word) for word, score in scores.others.items() if word.lower().startswith(prefix)
        )
        lexicon = self.lexicon
        vocab_tokens = self._tokens
        # The lists are read deeper than k at once (the word as typed, a repeat or a hidden
        # identifier is skipped), deeper still where capitals typed inside a sentence lower
        # the small-letter words (``rules``): one pass, where reading k and doubling took two
        # to five.  The answer is the same from any depth (the floor below).
        want = k * (PENALISED_DEPTH if rules is not None and rules.lower_penalty else FIRST_DEPTH)
        # inside a sentence typed in small letters, words the bundle writes with a capital
        # only by habit ("Government": "governments") are written as typed (``completions``)
        lowered = rules.lowered if rules is not None else None
        lowered_words = rules.lowered_words if rules is not None else frozenset()
        while True:
            best = scores.mixture.best(lo, hi, want)
            pool = [(-score, 0, token_id, vocab_tokens[token_id]) for token_id, score in best]
            found = self._lexicon_best(prefix, want + len(others))
            from_lexicon = [
                (-(scores.lexicon_base + float(lexicon.log_share[i])), 2, lexicon.words[i], lexicon.words[i])
                for i in found if lexicon.words[i] not in scores.others
            ]
            # A list cut at ``want`` may hold, below its last entry fetched, words that
            # outrank what the other lists offer: the pool is exact only down to that
            # entry (its "floor").  Without this, a skipped word (the one typed, a
            # repeat) let a lexicon rarity into the strip ahead of the next vocabulary word.
            floor = lexicon_floor = math.inf  # as a negated score, like the pool's
            if len(best) == want:
                floor = -best[-1][1]
            if len(from_lexicon) > want or len(found) == want + len(others):
                from_lexicon = from_lexicon[:want]
                if from_lexicon:
                    lexicon_floor = from_lexicon[-1][0]
            pool += from_lexicon + others
            if rules is not None:
                pool = rules.adjust(pool, scores)
                vocabulary_limit, lexicon_limit = rules.limits(pool)
                if vocabulary_limit != math.inf or lexicon_limit != math.inf:  # far below the best: left out
                    pool = [entry for entry in pool if entry[0] <= (
                        vocabulary_limit if entry[1] == 0 else lexicon_limit if entry[1] == 2 else math.inf)]
                    # Those not fetched are further below than the last fetched: left out too.
                    if floor > vocabulary_limit:
                        floor = math.inf
                    if lexicon_floor > lexicon_limit:
                        lexicon_floor = math.inf
            floor = min(floor, lexicon_floor)
            pool.sort()
            shown: list[Suggestion] = []
            seen: set[str] = set()
            for negative, source, key, token in pool:
                if negative > floor or (negative == floor != math.inf):
                    break  # a word not fetched may rank here, or tie with this one: fetch more
                if (lowered is not None and source == 0 and lowered[key]) or (source == 2 and key in lowered_words):
                    text = token
                else:
                    text = written_form(self._display_of(source, key, scores), typed, sentence_start)
                if text.lower() in seen or (typed and text == typed):
                    continue
                seen.add(text.lower())
                shown.append(Suggestion(text, token, -negative, bool(typed)))
                if len(shown) == k:
                    return shown
            if floor == math.inf:  # every list was complete
                return shown
            want *= 2

    def _lexicon_best(self, prefix: str, k: int) -> list[int]:
        """``lexicon.best(prefix, k)``, kept for the prefixes met last (read-only)."""
        kept = self._lexicon_kept
        key = (prefix, k)
        found = kept.get(key)
        if found is None:
            found = kept[key] = self.lexicon.best(prefix, k)
            while len(kept) > LEXICON_KEPT:
                kept.popitem(last=False)
        else:
            kept.move_to_end(key)
        return found

    def _display_of(self, source: int, key: int | str, scores: "Scores") -> str:
        """How a pool entry is written: ``key`` is a vocabulary id (source 0) or the word."""
        if source == 0:
            return self._display[key]
        written = scores.others_display.get(key) if source == 1 else None
        return written or self.lexicon.display_of(key)
