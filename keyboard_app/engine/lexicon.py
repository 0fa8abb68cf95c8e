"""Words beyond the model's vocabulary (``lexicon.json``, optional in a bundle).

The network knows its vocabulary (20k words for the default model); every
other word of its training corpus was ``<unk>`` to it.  The lexicon lists
those other words with their corpus counts, so the engine can still complete
them: a lexicon word ``w`` gets the probability the network gives ``<unk>``,
shared out by count, ``P(<unk>) * count(w) / unknown_total``, where
``unknown_total`` is every training occurrence the vocabulary missed (rarer
words than the lexicon keeps included).  Such a word rarely wins as a next
word, but after a few letters that no vocabulary word continues
("gyr" -> "gyroscope") it is what the strip shows.

``LexiconIndex`` finds the lexicon's words starting with a typed prefix by
binary search over their sorted lowercase forms and ranks them by count.

The file may also list ``identifiers``: words of the vocabulary or the
lexicon marked as code identifiers from the corpus's documentation
("RunSQL", "fromhex", "runserver"), which the engine offers in a document
only once the document uses such words (``identifiers``; the rule and how
the marks are made are in the model card).  A bundle without the list
marks nothing, and an engine that does not know the field ignores it.

It may also hold ``small_letters``: for the words (of the vocabulary or the
lexicon) written with a capital, how many of their training occurrences
inside a sentence are in small letters, and how many there are: "Parsonage"
(Austen's house) and "Interior" (the Department) are written small in a
quarter and more of their uses, "London" never, so the strip may write the
first two as typed inside a sentence typed in small letters
(``completions``).  A bundle without it keeps every capital it has.

And it may hold ``slips``: words of the vocabulary or the lexicon that are
misspellings its corpus's casual text wrote ("becuase", "roomate", "alot"),
each with the word or words meant ("because", "roommate", "a lot"), made by
``scripts/mark_slips.py``.  The engine never offers a slip; typed in full, its
correction is offered first and auto-correction puts it in (``predictor``).
A bundle without the list offers every word it has.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .ranking import is_suggestable
from .vocab import VocabError, Vocabulary, check_header, read_json, word_lists

LEXICON_FORMAT = "keyboard-lexicon"
LEXICON_FORMAT_VERSION = 1
_BEYOND = "\U0010ffff"
MAX_IDENTIFIERS = 1_000_000  # more marks than any vocabulary and lexicon hold: not a lexicon file
MAX_SMALL_LETTERS = 1_000_000  # the same for the counts of small letters
MAX_SLIPS = 1_000_000  # the same for the slips
MAX_MEANT = 64  # characters of the words a slip means ("a lot"): more is no correction but a crafted file
# a word a slip means: letters, with an apostrophe or a hyphen inside ("don't", "well-known")
_MEANT_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_SCANNED = 8  # words of one lowercase key compared one by one before that key gets a dictionary


@dataclass
class Lexicon:
    words: list[str]  # model form (lowercase unless the tokenizer keeps case)
    display: list[str]  # the most frequent written form
    counts: list[int]
    unknown_total: int  # training occurrences outside the vocabulary, these and rarer ones
    #: tokens (of the vocabulary or of this lexicon) marked as documentation identifiers
    identifiers: frozenset[str] = field(default_factory=frozenset)
    #: token -> (occurrences inside a sentence written in small letters, occurrences inside a
    #: sentence), for the words written with a capital that are ever written small there
    small_letters: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: token (of the vocabulary or of this lexicon) -> the word or words meant, for the
    #: misspellings never offered ("becuase" -> "because", "alot" -> "a lot")
    slips: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (len(self.words) == len(self.display) == len(self.counts)):
            raise VocabError("words, display forms and counts differ in length")
        if len(set(self.words)) != len(self.words):
            raise VocabError("the lexicon lists a word twice")
        if (self.counts and min(self.counts) <= 0) or self.unknown_total < sum(self.counts):
            raise VocabError("its counts are not positive or exceed its unknown-word total")
        self.identifiers = frozenset(self.identifiers)

    def __len__(self) -> int:
        return len(self.words)

    def to_dict(self) -> dict:
        data = {
            "format": LEXICON_FORMAT,
            "format_version": LEXICON_FORMAT_VERSION,
            "size": len(self.words),
            "unknown_total": self.unknown_total,
            "words": self.words,
            "display": self.display,
            "counts": self.counts,
        }
        if self.identifiers:  # optional: a lexicon without marks is written as before
            data["identifiers"] = sorted(self.identifiers)
        if self.small_letters:  # optional too
            data["small_letters"] = {word: list(self.small_letters[word]) for word in sorted(self.small_letters)}
        if self.slips:  # optional too
            data["slips"] = {word: self.slips[word] for word in sorted(self.slips)}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Lexicon":
        check_header(data, LEXICON_FORMAT, LEXICON_FORMAT_VERSION, "lexicon")
        words, display, counts = word_lists(data, "words")
        try:
            total = int(data["unknown_total"])
        except (KeyError, TypeError, ValueError) as e:
            raise VocabError(f"a field is missing or malformed ({e})") from e
        marked = data.get("identifiers", [])
        if (not isinstance(marked, list) or len(marked) > MAX_IDENTIFIERS
                or not all(isinstance(word, str) and word for word in marked)):
            raise VocabError("its identifiers are not a list of words")
        return cls(words, display, counts, total, frozenset(marked), _small_letters(data.get("small_letters", {})),
                   _slips(data.get("slips", {})))

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Lexicon":
        return cls.from_dict(read_json(path))


def build_lexicon(
    counts: dict[str, int],
    display_form,
    in_vocabulary,
    suggestable,
    *,
    min_count: int = 1,
    max_words: int = 100_000,
) -> Lexicon | None:
    """The lexicon of a corpus: its suggestable words outside the vocabulary
    seen ``min_count`` times, the ``max_words`` most frequent (ties by word).
    Words seen once are kept by default: in an edited corpus they are mostly
    real words, and a completion that is never typed costs nothing.

    ``counts`` maps every training token to its count; ``display_form(word)``,
    ``in_vocabulary(token)`` and ``suggestable(token)`` come from the caller.
    None when no word qualifies.
    """
    unknown_total = sum(c for t, c in counts.items() if not in_vocabulary(t))
    kept = sorted(
        (t for t, c in counts.items() if c >= min_count and not in_vocabulary(t) and suggestable(t)),
        key=lambda t: (-counts[t], t),
    )[:max_words]
    if not kept:
        return None
    return Lexicon(kept, [display_form(t) for t in kept], [int(counts[t]) for t in kept], int(unknown_total))


def _small_letters(data) -> dict[str, tuple[int, int]]:
    """``small_letters`` as read: word -> (small, inside), 0 <= small <= inside."""
    if not isinstance(data, dict) or len(data) > MAX_SMALL_LETTERS:
        raise VocabError("its small_letters are not a mapping of words to two counts")
    out = {}
    for word, pair in data.items():
        if (not word or not isinstance(pair, list) or len(pair) != 2
                or not all(type(n) is int for n in pair) or not 0 <= pair[0] <= pair[1]):
            raise VocabError(f"its small_letters give {word!r} {pair!r}, not two counts, the first at most the second")
        out[word] = (pair[0], pair[1])
    return out


def _slips(data) -> dict[str, str]:
    """``slips`` as read: a misspelling -> the word or words meant (one space between them)."""
    if not isinstance(data, dict) or len(data) > MAX_SLIPS:
        raise VocabError("its slips are not a mapping of words to the words meant")
    for word, meant in data.items():
        # a token as the engine looks it up (small letters, a straight apostrophe), and words
        # meant that are words of letters (no markup, no control or format characters, no slip
        # again), one space apart
        if (not is_suggestable(word) or word != word.lower() or "\u2019" in word or not isinstance(meant, str)
                or not meant or len(meant) > MAX_MEANT or meant.split(" ") != meant.split()
                or meant.lower() == word or not all(_MEANT_WORD.fullmatch(w) and w.lower() not in data
                                                    for w in meant.split(" "))):
            raise VocabError(f"its slips give {_brief(word)} {_brief(meant)}, not a word in small letters and the "
                             f"word or words meant (letters, {MAX_MEANT} characters at most)")
    return dict(data)


def _brief(value, most: int = 24) -> str:
    """``value`` as Python writes it, cut to ``most`` characters: a crafted file's value may be
    megabytes long, and the message is one sentence in a dialog."""
    shown = repr(value)
    return shown if len(shown) <= most else shown[: most - 1] + "\u2026"


def small_letter_counts(written: Iterable[tuple[str, str]], inside: Mapping[str, int],
                        forms: Mapping[str, Mapping[str, int]]) -> dict[str, tuple[int, int]]:
    """``Lexicon.small_letters`` from a corpus count: for each ``(token, display form)`` of
    ``written`` whose display form starts with a capital, its occurrences inside a sentence
    written in small letters and all of them, where the first is not 0.  ``inside`` counts
    each token's occurrences inside a sentence, ``forms`` their written forms other than the
    token itself (``model_training.vocabulary.CorpusCounts``' ``non_initial`` and ``forms``)."""
    out = {}
    for token, display in written:
        n = inside.get(token, 0)
        if not n or not display[:1].isupper():
            continue
        others = forms.get(token) or {}
        small = sum(c for form, c in others.items() if not form[:1].isupper())
        if not token[:1].isupper():  # the token as written: the uses no other form took
            small += n - sum(others.values())
        if small > 0:
            out[token] = (small, n)
    return out


class LexiconIndex:
    """The lexicon's words not in the vocabulary (nor its slips), by lowercase prefix, ranked by count."""

    def __init__(self, lexicon: Lexicon | None, vocabulary_words, hidden: Collection[str] | None = None) -> None:
        """``hidden``: words never offered (default the lexicon's slips; ``predictor`` adds
        ``offensive.OFFENSIVE``)."""
        kept: list[int] = []
        words: list[str] = []
        lowered: list[str] = []
        self._hidden_ids: dict[str, int] = {}
        if lexicon is not None:
            words = lexicon.words
            known = vocabulary_words.__contains__
            slips = lexicon.slips if hidden is None else hidden  # (never offered: ``predictor``)
            kept = [i for i, w in enumerate(words) if not known(w) and w not in slips]
            # ... but still a context of the phrase tables, which number it (``lexicon_id``)
            self._hidden_ids = {w: i for i, w in enumerate(words) if w in slips and not known(w)}
            lowered = [w if (low := w.lower()) == w else low for w in words]  # (the same string kept)
            # By lowercase form, then most frequent, then word: three stable sorts on plain
            # keys, each nearly in order already, instead of one sort of 50k built tuples
            # (a reversed sort keeps ties in order too, and needs no list of negated counts,
            # a new number a word, which would count in the start's peak memory).
            kept.sort(key=words.__getitem__)
            kept.sort(key=lexicon.counts.__getitem__, reverse=True)
            kept.sort(key=lowered.__getitem__)
        self._keys = [lowered[i] for i in kept]
        self._crowds: dict[str, dict[str, int]] = {}  # (``_crowded``)
        self.words = [words[i] for i in kept]
        self.display = [lexicon.display[i] for i in kept] if lexicon is not None else []
        #: the bundle's counts of small letters (``Lexicon.small_letters``), of the vocabulary's words too
        self.small_letters = lexicon.small_letters if lexicon is not None else {}
        counts = np.array([lexicon.counts[i] for i in kept] if lexicon is not None else [], np.float64)
        total = lexicon.unknown_total if lexicon is not None else 1
        #: log(count / unknown_total): add the network's log P(<unk>) for a log-probability
        self.log_share = np.log(counts) - math.log(max(total, 1)) if kept else counts
        #: each listed word's id in the bundle's lexicon (its position there), by position here
        self._lexicon_ids = np.array(kept, np.int32)
        del kept, lowered
        # every word, most frequent first, ties by word (a stable sort of the sorted keys)
        self._by_count = np.argsort(-self.log_share, kind="stable")

    def __len__(self) -> int:
        return len(self.words)

    def _position(self, word: str) -> int | None:
        """``word``'s position here, or None: found among the words of its lowercase key
        (a binary search of the sorted keys, then the one to three words that differ only
        in case), not in a dictionary of every word, which the start's peak memory
        would count for a lookup made a few times a keystroke."""
        key = word.lower()
        keys, words = self._keys, self.words
        i = bisect_left(keys, key)
        end = i + _SCANNED
        while i < len(keys) and keys[i] == key:
            if words[i] == word:
                return i
            i += 1
            if i == end and i < len(keys) and keys[i] == key:  # more case variants than a corpus has
                return self._crowded(key, i - _SCANNED).get(word)  # (a crafted lexicon): their dictionary
        return None

    def _crowded(self, key: str, lo: int) -> dict[str, int]:
        """The positions of the words of ``key``, a key of more than ``_SCANNED`` words,
        made when first needed (no real lexicon has such a key: it costs nothing at the
        start), so that a lookup never compares a word with thousands of others."""
        found = self._crowds.get(key)
        if found is None:
            hi = bisect_right(self._keys, key, lo)
            found = self._crowds[key] = {self.words[p]: p for p in range(lo, hi)}
        return found

    def __contains__(self, word: str) -> bool:
        return self._position(word) is not None

    def share(self, word: str) -> float:
        """log(count / unknown_total) of ``word``, -inf when it is not listed."""
        i = self._position(word)
        return -math.inf if i is None else float(self.log_share[i])

    def lexicon_id(self, word: str) -> int | None:
        """``word``'s id in the bundle's lexicon; None when it is not listed here (a
        vocabulary word is not), but for a slip, which is left out of the rest."""
        i = self._position(word)
        return self._hidden_ids.get(word) if i is None else int(self._lexicon_ids[i])

    def display_of(self, word: str) -> str:
        """How ``word`` is written (the word itself when it is not listed)."""
        i = self._position(word)
        return word if i is None else self.display[i]

    def best(self, prefix: str, k: int) -> list[int]:
        """Up to ``k`` positions of words starting with ``prefix``, most frequent first (ties by word)."""
        if not prefix:
            return self._by_count[: max(k, 0)].tolist()
        lo = bisect_left(self._keys, prefix)
        hi = bisect_left(self._keys, prefix + _BEYOND, lo)
        if k <= 0 or hi <= lo:
            return []
        shares = self.log_share[lo:hi]
        if k < hi - lo:
            threshold = shares[np.argpartition(-shares, k - 1)[:k]].min()
            above = np.flatnonzero(shares > threshold)
            ties = np.flatnonzero(shares == threshold)[: k - len(above)]  # the first by position
            chosen = np.concatenate([above, ties])
        else:
            chosen = np.arange(hi - lo)
        # positions follow the sorted keys, so ties by position are ties by word
        order = chosen[np.lexsort((chosen, -shares[chosen]))][:k]
        return (order + lo).tolist()


class PhraseIds(Mapping):
    """Word -> id in the phrase tables, numbered as ``phrases.phrase_index`` numbers them
    (the vocabulary's ids, then the vocabulary's size plus the lexicon id), answered from
    the vocabulary's and the lexicon index's own dictionaries: a third dictionary of every
    word would hold as much memory again, for a lookup made only for the few words outside
    the vocabulary in a word boundary's context."""

    def __init__(self, vocab: Vocabulary, lexicon: LexiconIndex) -> None:
        self._vocab = vocab
        self._lexicon = lexicon

    def get(self, word: str, default: int | None = None) -> int | None:
        if word in self._vocab:
            return self._vocab.id(word)
        i = self._lexicon.lexicon_id(word)
        return default if i is None else len(self._vocab) + i

    def __getitem__(self, word: str) -> int:
        found = self.get(word)
        if found is None:
            raise KeyError(word)
        return found

    def __iter__(self) -> Iterator[str]:
        yield from self._vocab.tokens
        yield from self._lexicon.words

    def __len__(self) -> int:
        return len(self._vocab) + len(self._lexicon)
