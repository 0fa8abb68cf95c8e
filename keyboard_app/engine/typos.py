"""Typo tolerance: the words a person meant when the letters typed are a little wrong.

A noisy channel: the word meant is ``w`` with the language model's probability
``P(w | context)``, and the letters typed are ``w``'s first letters passed
through keyboard slips and misspellings with probability ``P(typed | w)``.
Corrections are ranked by ``log P(w | context) + log P(typed | w)``; an
ordinary completion (the typed letters begin the word) has no error and
costs nothing, so a correction reaches the strip only when the language
model likes it enough to pay for its edits.

``ErrorModel`` gives each edit a log-probability, with a few parameters:
a substitution by a neighbouring key on a QWERTY layout ("procwss"), by
another vowel ("definately") or by any letter; two neighbouring letters
swapped ("teh", "recieve"); a letter of the word left out (cheaper when it
is one of a double letter: "acomodate"); an extra letter typed (cheaper when
it repeats or neighbours a letter beside it).  An edit on the first letter
costs more: people rarely get it wrong.

``TypoIndex`` finds the candidates without looking at every word.  It holds
the words' lowercase forms (vocabulary and lexicon) sorted, so "does some word
start with this?" is one binary search, and a trie node's children (the
letters that follow a prefix) are found by a few (remembered once found):
building it is one sort.  The search is *prefix-aware*: it asks which known
prefixes the typed letters may have been meant as ("acomo" -> "accomo", whose
words are "accommodate", "accommodation"...), so a correction is offered
before the word is finished.  It generates the typed letters' one-edit
variants at each position up to where they stop being a known prefix (a
letter changed to one that can follow there, a letter inserted, one
dropped, two swapped) and keeps those that are known prefixes, with the
edit's cost; only if none is and five letters or more are typed, it adds a
second edit after a first one that lets more of the letters be read
("acomodate": two letters left out).  The language model bounds it: an edit
after a start whose words cannot reach the strip at that cost is not tried.
A few hundred binary searches at most, usually tens, per keystroke.

``TypoChannel`` turns those prefixes into words with the model's
log-probabilities in context (the best few words under each prefix, the
prefixes visited best bound first, with a per-context table of the best score
under each prefix of up to three letters to skip the hopeless ones); this is
what ``Predictor`` does with ``typo_tolerance`` on.  ``replacement`` is the
same for a finished word (auto-correction on a space).

Its index and tables (a sort and a walk of the vocabulary's and the
lexicon's words) are the slow part of it, a stall the user's first word of
three letters used to wait for (benchmarks/first_word.py prints it).
Making a channel costs nothing; the index is
built by ``prepare``, which the app's predictor worker calls on its own
thread once a model is loaded and nothing else is asked of it, or else at
the channel's first use.  Two threads never build it twice: one waits for
the other's build.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from .ranking import top_k

__all__ = ["AUTO_CORRECT_MARGIN", "AUTO_CORRECT_MINIMUM", "AUTO_CORRECT_SHORT", "AUTO_CORRECT_SHORT_ERROR", "Correction", "ErrorModel", "TypoChannel", "TypoIndex",
           "best_corrections", "keyboard_neighbours"]

_BEYOND = "\U0010ffff"  # sorts after every character a word can hold
_INF = math.inf
VOWELS = frozenset("aeiouy")
QWERTY = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_ROW_OFFSETS = (0.0, 0.25, 0.75)  # how far each row is shifted right, in key widths
_KEYS = frozenset("".join(QWERTY) + "'")
GROUP = 3  # letters: a channel bounds the best word under each prefix this long or shorter
# Auto-correction replaces a finished word only with one whose score is 20 times the word's
# as typed (a word the model does not know counts as impossible) and not below e^-15.
AUTO_CORRECT_MARGIN = math.log(20.0)
AUTO_CORRECT_MINIMUM = -15.0
# ... and a word of three letters or fewer only for a slip a hand makes (a neighbouring key, two
# letters swapped, a double letter: an edit at least this likely), not any letter for another:
# chat's "thx" became "the" (H77), while "teh", "hte" and "adn" are still put right.
AUTO_CORRECT_SHORT = 3
AUTO_CORRECT_SHORT_ERROR = -6.0


def keyboard_neighbours(rows: Sequence[str] = QWERTY, offsets: Sequence[float] = _ROW_OFFSETS,
                        reach: float = 1.3) -> dict[str, frozenset[str]]:
    """Each key's neighbours on a staggered layout: the keys whose centres are
    within ``reach`` key widths: the keys beside it and the two above and below."""
    where = {key: (x + offsets[y], float(y)) for y, row in enumerate(rows) for x, key in enumerate(row)}
    return {
        a: frozenset(b for b, (bx, by) in where.items()
                     if b != a and math.hypot(ax - bx, ay - by) <= reach)
        for a, (ax, ay) in where.items()
    }


@dataclass(frozen=True)
class ErrorModel:
    """Log-probabilities (natural logarithm) of the edits between a word and what was typed.

    The defaults were chosen with benchmarks/typos.py (500 codespell pairs, 1,500
    held-out words).  A first guess, every edit half a nat likelier than these,
    found 86.0% of the misspellings among three suggestions and cost clean text
    0.11 points of KSR; one nat likelier than that guess, 87.4% but 0.31 points (a
    correction that ranks too easily pushes the word being typed out of the
    strip); one nat less likely than it, 82.6% and 0.04 points.  These lie half
    way between the guess and the last.
    """

    substitute_near: float = -5.0  # a neighbouring key: "procwss" for "process"
    substitute_vowel: float = -6.0  # another vowel: "definately"
    substitute: float = -8.5  # any other letter
    transpose: float = -5.5  # two neighbouring letters swapped: "teh", "recieve"
    omit: float = -6.5  # a letter of the word left out
    omit_double: float = -5.0  # one of a double letter left out: "acomodate"
    # a contraction's apostrophe left out ("dont", "theyre", "cant"): a shortcut people take on
    # purpose, not a slip; at ``omit`` "cant" became "can" and "theyre" "there" (H74)
    omit_apostrophe: float = -1.5
    insert: float = -7.5  # an extra letter typed
    insert_near: float = -5.5  # an extra letter repeating or neighbouring a letter beside it
    first_letter: float = -2.5  # added to an edit on the first letter
    budget: float = -12.5  # the lowest log P(typed | word) searched (two edits at most)
    two_edits_from: int = 5  # letters typed before a second edit is looked for
    min_typed: int = 3  # fewer letters typed: no correction (two letters are too few to tell)
    # Where the typed letters begin known words, a correction is shown only if its score is
    # at least the best completion's less this (a log ratio): a slip is likelier than a word
    # only when that word is much likelier too.  (math.inf: ranked with the others alone.)
    completion_margin: float = 2.3

    def off(self) -> bool:
        return self.budget >= 0.0


def _nothing_better(start: str) -> float:
    return 0.0  # log P(word | context) <= 0


class TypoIndex:
    """Known prefixes near a typed prefix, over a fixed list of words (module docstring)."""

    def __init__(self, words: Iterable[str], model: ErrorModel = ErrorModel(),
                 neighbours: dict[str, frozenset[str]] | None = None) -> None:
        self.model = model
        self._keys = sorted({w.lower() for w in words if w})
        self._neighbours = keyboard_neighbours() if neighbours is None else neighbours
        self._next: dict[str, str] = {}  # prefix -> the letters that follow it in some word

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, word: str) -> bool:
        i = bisect_left(self._keys, word)
        return i < len(self._keys) and self._keys[i] == word

    def is_prefix(self, prefix: str) -> bool:
        """Whether some word starts with ``prefix`` (lowercase)."""
        i = bisect_left(self._keys, prefix)
        return i < len(self._keys) and self._keys[i].startswith(prefix)

    def valid_length(self, typed: str) -> int:
        """The length of the longest start of ``typed`` that starts some word."""
        lo, hi = 0, len(typed)  # typed[:lo] starts a word; typed[:hi + 1] ... searched
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.is_prefix(typed[:mid]):
                lo = mid
            else:
                hi = mid - 1
        return lo

    def next_letters(self, prefix: str) -> str:
        """The letters that follow ``prefix`` in the words (the trie node's children)."""
        found = self._next.get(prefix)
        if found is not None:
            return found
        keys, depth = self._keys, len(prefix)
        i = bisect_left(keys, prefix)
        hi = bisect_left(keys, prefix + _BEYOND, i)
        letters = []
        if i < hi and len(keys[i]) == depth:  # the prefix is itself a word
            i += 1
        while i < hi:
            letter = keys[i][depth]
            letters.append(letter)
            i = bisect_left(keys, prefix + letter + _BEYOND, i, hi)
        if len(self._next) > 100_000:  # bounded: the prefixes near what is typed now stay
            self._next.clear()
        found = self._next[prefix] = "".join(letters)
        return found

    def alternatives(self, typed: str, floor: float = -_INF,
                     best_under: Callable[[str], float] | None = None) -> list[tuple[str, float]]:
        """Known prefixes that ``typed`` (lowercase) may have been meant as, with
        ``log P(typed | prefix)`` (< 0, within the budget), best first, ties by prefix.

        The typed letters themselves are left out (their words are ordinary
        completions).  An empty list when fewer than ``min_typed`` letters are
        typed or nothing is within the budget.  ``floor`` is a score
        (``log P(word | context) + log P(typed | word)``) not worth reaching, and
        ``best_under(start)`` bounds ``log P(word | context)`` for the words that
        begin with ``start`` (default 0): an edit after ``start`` whose cost alone
        takes every such word to ``floor`` is not looked at.  With the language
        model's bounds this makes the search small where good completions exist.
        """
        m = self.model
        if len(typed) < m.min_typed or m.off() or not self._keys or floor >= 0.0:
            return []
        if best_under is None:
            best_under = _nothing_better
        found = self._search(typed, floor, best_under)
        return sorted(((prefix, -cost) for prefix, cost in found.items()), key=lambda pc: (-pc[1], pc[0]))

    def _search(self, typed: str, floor: float, best_under: Callable[[str], float]) -> dict[str, float]:
        """Every known prefix one edit from ``typed`` within the budget (a cost: -log P),
        and, when there is none and enough letters are typed, two edits from it."""
        found: dict[str, float] = {}
        misses: list[tuple[str, float, int]] = []  # edits that are no known prefix yet
        self._edits(typed, 0, 0.0, floor, best_under, found, misses)
        found.pop(typed, None)
        if found or len(typed) < self.model.two_edits_from:
            return found
        # Two edits: only after a first edit that lets more of the letters be read as
        # a known prefix than before ("acomodate" -> "accomodate": "accomo" is known).
        m = self.model
        cheapest = min(-m.substitute_near, -m.omit_double, -m.transpose, -m.insert_near)
        known = self.valid_length(typed)
        for variant, cost, after in misses:
            if cost + cheapest > -m.budget:
                continue
            length = self.valid_length(variant)
            if length >= after and length > known:
                self._edits(variant, after, cost, floor, best_under, found, None)
        found.pop(typed, None)
        return found

    def _edits(self, typed: str, start: int, spent: float, floor: float, best_under: Callable[[str], float],
               found: dict[str, float], misses: list[tuple[str, float, int]] | None) -> None:
        """The one-edit variants of ``typed`` at positions ``start`` on that are known
        prefixes, at cost ``spent`` + the edit's, into ``found`` (the lowest cost kept);
        those that are not, into ``misses`` with the position after the edit."""
        m = self.model
        n = len(typed)
        near = self._neighbours
        known = self.valid_length(typed)
        is_prefix = self.is_prefix

        def add(variant: str, cost: float, after: int) -> None:
            if is_prefix(variant):
                if cost < found.get(variant, _INF):
                    found[variant] = cost
            elif misses is not None:
                misses.append((variant, cost, after))

        for i in range(start, min(known, n - 1) + 1):  # typed[:i] starts a word
            before, here = typed[:i], typed[i]
            # the words meant start with ``before``: an edit costing more than their
            # best score above ``floor`` cannot matter
            budget = min(-m.budget, best_under(before) - floor)
            first = -m.first_letter if i == 0 else 0.0
            after = typed[i + 1 :]
            base = spent + first
            previous = typed[i - 1] if i else ""
            letters = self.next_letters(before)
            if not letters.isascii():  # a keyboard's letters only (the layout is for them)
                letters = "".join(letter for letter in letters if letter in _KEYS)
            if base - m.omit > budget and base - m.substitute > budget:
                # only a few letters can be within the budget: look at those alone
                wanted = set()
                if base - m.omit_double <= budget:
                    wanted.update((here, previous))
                if base - m.omit_apostrophe <= budget:
                    wanted.add("'")
                if base - m.substitute_near <= budget:
                    wanted.update(near.get(here, ()))
                if base - m.substitute_vowel <= budget and here in VOWELS:
                    wanted.update(VOWELS)
                letters = [letter for letter in sorted(wanted) if letter and letter in letters]
            narrow = i < GROUP  # the bound knows the words under ``before + letter`` apart
            for letter in letters:
                room = min(budget, best_under(before + letter) - floor) if narrow else budget
                # the letter meant was ``letter`` and was left out (``here`` is the next one)
                cost = base - (m.omit_apostrophe if letter == "'" else
                               m.omit_double if letter == here or letter == previous else m.omit)
                if cost <= room:
                    add(before + letter + here + after, cost, i + 1)
                if letter == here:
                    continue
                # or ``here`` was typed for it
                if here in near.get(letter, ()):
                    cost = base - m.substitute_near
                elif here in VOWELS and letter in VOWELS:
                    cost = base - m.substitute_vowel
                else:
                    cost = base - m.substitute
                if cost <= room:
                    add(before + letter + after, cost, i + 1)
            # ``here`` typed by mistake: an extra letter
            beside = near.get(here, ())
            close = (i > 0 and (typed[i - 1] == here or typed[i - 1] in beside)) or (
                i + 1 < n and (typed[i + 1] == here or typed[i + 1] in beside))
            cost = base - (m.insert_near if close else m.insert)
            if n > 1 and cost <= budget:
                add(before + after, cost, i)
            if i + 1 < n and typed[i + 1] != here and base - m.transpose <= budget:  # two letters swapped
                add(before + typed[i + 1] + here + typed[i + 2 :], base - m.transpose, i + 2)


@dataclass(frozen=True)
class Correction:
    """A word the typed letters may have been meant as."""

    word: str  # its token (vocabulary or lexicon form)
    prefix: str  # the known prefix the typed letters were read as
    score: float  # log P(word | context) + log P(typed | prefix)
    error: float  # log P(typed | prefix)


# (prefix, k, threshold) -> up to k of the best words starting with prefix whose
# log P(word | context) is above threshold: (token, log P(token | context)), best first
WordsUnder = Callable[[str, int, float], list[tuple[str, float]]]


def best_corrections(index: TypoIndex, typed: str, words_under: WordsUnder, k: int, *,
                     floor: float = -_INF, best_possible: float = 0.0,
                     best_under: Callable[[str], float] | None = None) -> list[Correction]:
    """The ``k`` best corrections of ``typed`` by ``log P(w | context) + log P(typed | w)``,
    best first (ties by word), none starting with the typed letters themselves.

    ``words_under(prefix, k, threshold)`` gives the language model's best words under
    a prefix.  ``floor``: a score a correction must beat to matter (the ``k``-th best
    completion); ``best_possible``: the best log-probability of any word in context
    (a prefix whose error alone drops every word to ``floor`` is not looked at), and
    ``best_under(start)`` the same for the words beginning with ``start``.
    """
    lowered = typed.lower()
    found: dict[str, Correction] = {}
    threshold = floor
    # the prefixes by the best their words can score (at least), best first
    bounded = []
    for prefix, error in index.alternatives(lowered, floor, best_under):
        upper = error + (best_possible if best_under is None else min(best_possible, best_under(prefix)))
        if upper > floor:
            bounded.append((-upper, prefix, error))
    bounded.sort()
    for negative, prefix, error in bounded:
        if -negative <= threshold:
            break  # no later prefix can do better
        for word, log_prob in words_under(prefix, k + 1, threshold - error):
            if word.startswith(lowered):
                continue  # a completion, ranked as one
            score = log_prob + error
            if word not in found or found[word].score < score:
                found[word] = Correction(word, prefix, score, error)
        if len(found) >= k:
            threshold = max(floor, sorted(c.score for c in found.values())[-k])
    return sorted(found.values(), key=lambda c: (-c.score, c.word))[:k]


class _PrefixBounds:
    """The best of some scores over the words that start with each short prefix.

    ``heads`` numbers every prefix of at most ``GROUP`` letters of the words (of
    both lists a channel bounds).  For sorted ``keys``, ``maxima(values)`` gives,
    for each head, the largest of ``values`` (aligned with ``keys``) over the keys
    starting with it, -inf where none does: one ``reduceat`` over the keys'
    segments (the keys sharing their first ``GROUP`` letters), then two over the
    segments' maxima for the shorter heads.
    """

    def __init__(self, keys: list[str], heads: dict[str, int]) -> None:
        self.size = len(heads)
        starts, segments = [], []
        for i, key in enumerate(keys):
            head = key[:GROUP]
            if not segments or segments[-1] != head:
                starts.append(i)
                segments.append(head)
        self.starts = np.array(starts, np.int64)
        self.where = np.array([heads[head] for head in segments], np.int64)
        self.shorter = []  # per shorter length: (where its groups start among the segments, head numbers)
        for length in range(GROUP - 1, 0, -1):
            group_starts, where = [], []
            for j, segment in enumerate(segments):
                head = segment[:length]
                if len(head) == length and (not where or where[-1] != heads[head]):
                    group_starts.append(j)
                    where.append(heads[head])
            self.shorter.append((np.array(group_starts, np.int64), np.array(where, np.int64)))

    def maxima(self, values: np.ndarray) -> np.ndarray:
        out = np.full(self.size, -np.inf, np.float64)
        if not len(self.starts):
            return out
        best = np.maximum.reduceat(values, self.starts)
        out[self.where] = best
        for group_starts, where in self.shorter:  # a shorter head's group holds its own segment too
            if len(group_starts):
                out[where] = np.maximum.reduceat(best, group_starts)
        return out


class TypoChannel:
    """Corrections over a model's vocabulary and lexicon, ranked with its distribution.

    ``word_index`` is the predictor's ``ranking.WordIndex``, ``vocab`` its
    ``Vocabulary`` and ``lexicon`` its ``lexicon.LexiconIndex``.  The trie holds
    the suggestable vocabulary words and the lexicon's (built once: one sort).
    A correction's score is ``log P(w | context) + log P(typed | w)``: comparable
    with a completion's log-probability, whose error is none.
    """

    def __init__(self, word_index, vocab, lexicon, model: ErrorModel = ErrorModel()) -> None:
        self.word_index = word_index
        self.vocab = vocab
        self.lexicon = lexicon
        self._model = model
        self._ready = False  # ``prepare`` has built what follows
        self._building = threading.Lock()
        self._sorted_for = None
        self._sorted_scores = None
        self._vocab_best = np.zeros(0)

    @property
    def ready(self) -> bool:
        """Whether the index is built (a correction now costs only its search)."""
        return self._ready

    def prepare(self) -> None:
        """Build the index and the prefix tables now, on the calling thread, unless done
        (module docstring); a second caller waits for the first's build."""
        if self._ready:
            return
        with self._building:
            if not self._ready:
                self._build()
                self._ready = True

    def _build(self) -> None:
        vocab, word_index, lexicon = self.vocab, self.word_index, self.lexicon
        words = [vocab.tokens[i] for i in word_index.word_ids.tolist()]
        words.extend(lexicon.words)
        self._index = TypoIndex(words, self._model)
        # the lexicon's words are sorted by their lowercase form (``LexiconIndex``)
        self._lexicon_keys = [word.lower() for word in lexicon.words]
        self._lexicon_best_share = float(lexicon.log_share.max()) if len(lexicon) else -_INF
        # For a quick bound on a prefix's best word: every prefix of up to GROUP letters,
        # and its best score (per context for the vocabulary, once for the lexicon).  The
        # shorter prefixes are those of the distinct GROUP-letter heads (far fewer keys).
        vocab_keys = [vocab.tokens[i].lower() for i in word_index.sorted_ids.tolist()]
        longest = {key[:GROUP] for keys in (vocab_keys, self._lexicon_keys) for key in keys}
        heads = sorted({head[:n] for head in longest for n in range(1, len(head) + 1)})
        self._heads = {head: i for i, head in enumerate(heads)}
        self._vocab_bounds = _PrefixBounds(vocab_keys, self._heads)
        self._lexicon_best = _PrefixBounds(self._lexicon_keys, self._heads).maxima(
            np.asarray(lexicon.log_share, np.float64)).tolist()

    @property
    def index(self) -> TypoIndex:
        """The known prefixes' index (built at the first use, if ``prepare`` was not called)."""
        self.prepare()
        return self._index

    @property
    def model(self) -> ErrorModel:
        return self._model

    def word_score(self, word: str, log_probs, lexicon_base: float) -> float:
        """``word``'s log-probability in context (-inf when the model does not know it)."""
        if word in self.vocab and self.word_index.position[self.vocab.id(word)] >= 0:
            return float(log_probs[self.vocab.id(word)])
        return lexicon_base + self.lexicon.share(word)

    def display(self, word: str) -> str:
        """How ``word`` (a vocabulary or lexicon token) is written."""
        if word in self.vocab:
            return self.vocab.display[self.vocab.id(word)]
        return self.lexicon.display_of(word)

    def corrections(self, typed: str, log_probs, lexicon_base: float, k: int, *,
                    floor: float = -_INF, best_completion: float | None = None) -> list[Correction]:
        """The ``k`` best corrections of ``typed`` scoring above ``floor`` and above the
        typed letters taken as a word, given the vocabulary's log-probabilities in
        context (``log_probs``, the whole array) and the lexicon's base (a lexicon
        word's log-probability is this plus its share).  ``best_completion``: the best
        completion's score, if there is one (see ``ErrorModel.completion_margin``)."""
        lowered = typed.lower()
        if k <= 0 or len(lowered) < self.model.min_typed:
            return []
        self.prepare()
        if best_completion is not None:
            floor = max(floor, best_completion - self.model.completion_margin)
        # A correction must also beat the letters as typed when they are a word
        # themselves: a correctly typed word is not "corrected" to a likelier one
        # unless the likelier one pays for its edits.
        floor = max(floor, self.word_score(lowered, log_probs, lexicon_base))
        if self._sorted_for is not log_probs:  # once per context: the scores in prefix order
            self._sorted_for = log_probs
            self._sorted_scores = log_probs[self.word_index.sorted_ids]
            self._vocab_best = self._vocab_bounds.maxima(self._sorted_scores)
        scores = self._sorted_scores
        sorted_ids, tokens, lexicon = self.word_index.sorted_ids, self.vocab.tokens, self.lexicon
        lexicon_share, lexicon_keys = lexicon.log_share, self._lexicon_keys
        heads, vocab_best, lexicon_best = self._heads, self._vocab_best, self._lexicon_best
        best_possible = max(float(scores.max()) if len(scores) else -_INF,
                            lexicon_base + self._lexicon_best_share)

        def bound(prefix: str) -> float:
            """At least the best score of a word starting with ``prefix`` (quick)."""
            if not prefix:
                return best_possible
            i = heads.get(prefix[:GROUP])
            if i is None:
                return -_INF  # no word starts so
            return max(vocab_best[i], lexicon_base + lexicon_best[i])

        def words_under(prefix: str, want: int, threshold: float) -> list[tuple[str, float]]:
            found = []
            if bound(prefix) <= threshold:
                return found
            lo, hi = self.word_index.span(prefix)
            if hi > lo:
                part = scores[lo:hi]
                if float(part.max()) > threshold:
                    found = [(tokens[i], score) for i, score in top_k(part, sorted_ids[lo:hi], want)
                             if score > threshold]
            lo = bisect_left(lexicon_keys, prefix)
            hi = bisect_left(lexicon_keys, prefix + _BEYOND, lo)
            if hi > lo and lexicon_base + float(lexicon_share[lo:hi].max()) > threshold:
                found.extend((lexicon.words[i], lexicon_base + float(lexicon_share[i]))
                             for i in lexicon.best(prefix, want))
                found.sort(key=lambda ws: -ws[1])
            return found[:want]

        return best_corrections(self.index, lowered, words_under, k, floor=floor, best_possible=best_possible,
                                best_under=bound)

    def replacement(self, typed: str, log_probs, lexicon_base: float, margin: float = 3.0,
                    minimum: float = -_INF) -> Correction | None:
        """The word to put in place of the finished word ``typed`` (auto-correction on a
        space), or None: the likeliest known word within the budget whose score beats
        both the typed letters taken as a word by ``margin`` (a log-probability ratio)
        and ``minimum``."""
        lowered = typed.lower()
        if len(lowered) < self.model.min_typed:
            return None
        floor = max(self.word_score(lowered, log_probs, lexicon_base) + margin, minimum)
        best = None
        for prefix, error in self.index.alternatives(lowered, floor):
            if prefix not in self.index:
                continue  # only a whole word replaces a finished one
            score = self.word_score(prefix, log_probs, lexicon_base) + error
            if score > floor and (best is None or score > best.score or (score == best.score and prefix < best.word)):
                best = Correction(prefix, prefix, score, error)
        return best
