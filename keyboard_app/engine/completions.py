"""What the strip offers for the letters typed: four rules on top of the distribution.

The distribution at the cursor (``mixture``) says how likely each word is;
``ranking.Ranker`` shows the likeliest that start with the letters typed.
Three things a new user saw were wrong with that alone (issue 14, part 3),
and each is a rule here, switched by ``CompletionSettings`` and measured by
``benchmarks/completion_hygiene.py`` (the model card has the figures):

* **The word as typed comes first when it is the likeliest word.**  The
  strip used to leave the typed letters out (choosing them does what a
  space does), so Tab on "quick" put in "quickly", and on "Thanks"
  "Thanksgiving".  Now, where the letters typed are a word and no longer
  word alone is likelier, the first slot is the word itself (Tab: the word
  and a space) and the longer words follow; where one is likelier, the
  strip is the longer words, as before ("We need to do some" ->
  "something").  So Tab gives the likeliest word, never a less likely
  extension of what was typed.  It first came first only when it
  outweighed all its longer words *together*: in a long document the
  document cache's pairs lifted "then", "they" and "these" past "the"
  together (stop 26's hostile tester), and "and the" + Tab gave "and then"
  although "the" was the likeliest word of all.  Shown further down the
  strip too, it would cost keystrokes (a slot that saves nothing: choosing
  it does what a space does): the model card has the figures.
* **A capital typed inside a sentence is evidence.**  "by Fri" offered
  "Friendly" before "Friday": the network ranks by the words alone, while a
  person who types a capital where no sentence starts (nor a line, a quote or
  a bracket) almost always means a word written with one.  There, a word
  written in small letters (its display form) counts ``capital_evidence``
  times its probability.  Capitals typed throughout ("FRI") say nothing.
* **A word far less likely than the best word leaves its slot.**  The
  lexicon's words (the corpus's words beyond the vocabulary: names, jargon)
  are ranked by their counts alone, whatever the context, so "Then we ate"
  offered "Ater" and "atenolol" beside "ate", at a thousandth of its
  probability.  Such a word, less likely than ``lexicon_floor`` times the
  likeliest word for the letters typed (the typed word itself included), is
  not offered; the next word that passes takes the slot, or none does.  The
  vocabulary's words, whose probability the network gave in context, leave
  only far lower (``vocabulary_floor``: "Mr Ell" no longer offers
  "Ellipsis" at e^-22 beside "Elliot" at e^-4.5); the document's words stay.
* **Code identifiers from the manuals are offered only in a document that
  uses them.**  Words the bundle marks as identifiers (``lexicon.json``'s
  ``identifiers``, made by ``scripts/mark_identifiers.py``: "fromhex",
  "runserver", "RunSQL") are left out of the strip unless the last
  ``identifier_window`` tokens of the document hold a marked word, and they
  are still offered where no other word starts with the letters typed (a
  person typing "runse" means one).

All three depend on the text before the cursor alone, so a fresh engine
and one that typed its way there agree (Contract 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from .ranking import Suggestion, written_form

if TYPE_CHECKING:
    from .lexicon import LexiconIndex
    from .mixture import Scores
    from .ranking import WordIndex
    from .token_cache import TokenCache, View
    from .vocab import Vocabulary

LEXICON_FLOOR = 1 / 300  # the model card: 1/1000, 1/300 and 1/100 measured for the lexicon,
VOCABULARY_FLOOR = 1e-4  # 1/10000 and 1/3000 for the vocabulary
# A capital right after these (and at the start of a line) is the position's, not the word's.
_OPENERS = frozenset("\n\"'([{<\u201c\u2018\u00ab\u2039\u201e\u201a:;-\u2013\u2014")


@dataclass(frozen=True)
class CompletionSettings:
    """The strip's rules for the letters typed (module docstring); ``off()``: none."""

    typed_word_first: bool = True  # the word as typed first when no longer word alone is likelier
    # A small-letter word's probability is multiplied by this where a capital is typed inside a
    # sentence (1.0: capitals say nothing).  0.1 saved the most keystrokes of 0.3 / 0.1 / 0.03.
    capital_evidence: float = 0.1
    hide_identifiers: bool = True  # marked identifiers only in documents that use them
    identifier_window: int = 2000  # tokens before the cursor searched for the document's own
    # A lexicon word less likely than this share of the likeliest word is not offered (0.0: all are);
    # the same for the vocabulary's words, far lower: the network saw their context.
    lexicon_floor: float = LEXICON_FLOOR
    vocabulary_floor: float = VOCABULARY_FLOOR

    def __post_init__(self) -> None:
        for name in ("lexicon_floor", "vocabulary_floor"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), not {getattr(self, name)}")
        if not 0.0 < self.capital_evidence <= 1.0:
            raise ValueError(f"capital_evidence must be in (0, 1], not {self.capital_evidence}")
        if self.identifier_window < 0:
            raise ValueError(f"identifier_window must be at least 0, not {self.identifier_window}")

    @classmethod
    def off(cls) -> "CompletionSettings":
        """The strip as before issue 14's part 3: the distribution's order alone."""
        return cls(typed_word_first=False, capital_evidence=1.0, hide_identifiers=False, lexicon_floor=0.0,
                   vocabulary_floor=0.0)


@dataclass(frozen=True)
class Rules:
    """What applies at one keystroke: given to ``Ranker.rank`` (``adjust``) and ``Completions.finish``."""

    hidden_vocab: np.ndarray | None  # bool per vocabulary id: leave out (marked, the document uses none)
    hidden_words: frozenset[str]  # the same for the words beyond the vocabulary
    lower_penalty: float  # added to a small-letter word's negated log-probability (0: none)
    small_letters: np.ndarray  # bool per vocabulary id: written in small letters
    lexicon: "LexiconIndex"
    #: a lexicon word this much less likely than the pool's best (in log-probability) is left
    #: out (``lexicon_floor``; inf: none is)
    lexicon_gap: float = math.inf
    vocabulary_gap: float = math.inf  # the same for the vocabulary's words (``vocabulary_floor``)

    def adjust(self, pool: list[tuple], scores: "Scores") -> list[tuple]:
        """``Ranker``'s pool entries ``(negated log-probability, source, key, token)``
        (source 0: a vocabulary id, 1: a document's word, 2: a lexicon word) with the
        hidden ones left out and the capitals' evidence added.  Penalties only lower a
        score, so the ranker's floor (what it has not fetched ranks below) still holds.
        The words far below the best are left out afterwards (``limits``)."""
        out = []
        hidden_vocab, hidden_words, penalty = self.hidden_vocab, self.hidden_words, self.lower_penalty
        if hidden_vocab is None and not hidden_words and not penalty:
            return pool
        for entry in pool:
            negative, source, key, token = entry
            if source == 0:
                if hidden_vocab is not None and hidden_vocab[key]:
                    continue
                small = penalty and self.small_letters[key]
            else:
                if token in hidden_words:
                    continue
                small = penalty and _small(scores.others_display.get(key) or self.lexicon.display_of(key))
            out.append((negative + penalty, source, key, token) if small else entry)
        return out

    def limits(self, pool: list[tuple]) -> tuple[float, float]:
        """The negated log-probabilities beyond which the pool's vocabulary words and its
        lexicon words are left out: their gaps below its best entry, which is exact (the top
        of every list the ranker read), so the limits, like the strip, do not depend on how
        deep it read."""
        if not pool or self.lexicon_gap == self.vocabulary_gap == math.inf:
            return math.inf, math.inf
        best = min(pool)[0]
        return best + self.vocabulary_gap, best + self.lexicon_gap


def _small(written: str) -> bool:
    return not written[:1].isupper()


class Completions:
    """The rules over one model's words: its vocabulary, lexicon and identifier marks."""

    def __init__(self, words: "WordIndex", vocab: "Vocabulary", lexicon: "LexiconIndex",
                 identifiers: frozenset[str] = frozenset()) -> None:
        self.words = words
        self.vocab = vocab
        self.lexicon = lexicon
        self._small = np.array([_small(d) for d in vocab.display], bool)
        marked = np.zeros(len(vocab), bool)
        for token in identifiers:
            if token in vocab:
                marked[vocab.id(token)] = True
        self._marked_vocab = marked
        self._marked_words = frozenset(w for w in identifiers if w not in vocab)
        self._has_marks = bool(identifiers)
        self._memo: tuple[tuple[int, int], bool] | None = None

    def rules(self, settings: CompletionSettings, view: "View", tokens: "TokenCache", text: str) -> Rules | None:
        """The rules at this keystroke (None: none applies, the ranking is the distribution's)."""
        hide = settings.hide_identifiers and self._has_marks and not self._document_uses_identifiers(
            tokens, view.length, settings.identifier_window)
        penalty = 0.0
        typed = view.partial
        if (settings.capital_evidence < 1.0 and typed[:1].isupper() and not view.sentence_start
                and not (len(typed) >= 2 and typed.isupper())):
            before = text[max(0, view.partial_start - 16) : view.partial_start].rstrip(" \t")
            if before and before[-1] not in _OPENERS:
                penalty = -math.log(settings.capital_evidence)
        gaps = [-math.log(floor) if floor > 0.0 and typed else math.inf
                for floor in (settings.lexicon_floor, settings.vocabulary_floor)]
        if not hide and not penalty and gaps == [math.inf, math.inf]:
            return None
        return Rules(self._marked_vocab if hide else None, self._marked_words if hide else frozenset(),
                     penalty, self._small, self.lexicon, *gaps)

    def _document_uses_identifiers(self, tokens: "TokenCache", length: int, window: int) -> bool:
        """Whether the ``window`` tokens before the cursor hold a marked word (once per word boundary)."""
        key = (tokens.generation, length)
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        start = max(0, length - window)
        ids = np.frombuffer(tokens.ids, np.int64, length)[start:]
        used = bool(self._marked_vocab[ids].any())
        if not used and self._marked_words:
            used = any(word in self._marked_words for _, word, _ in tokens.unknown_words(start, length))
        self._memo = (key, used)
        return used

    def finish(self, shown: list[Suggestion], settings: CompletionSettings, rules: Rules | None,
               scores: "Scores", view: "View", k: int,
               unhidden: Callable[[], list[Suggestion]]) -> list[Suggestion]:
        """The ranked ``shown`` with the typed word first where no longer word alone is
        likelier, and the hidden identifiers back where nothing else fits the letters.
        ``unhidden()`` ranks again without hiding them.  Whether it comes first depends on
        the first word alone, so a strip of ``k`` is the first ``k`` of a longer one."""
        typed = view.partial
        if not typed or k == 0:
            return shown
        found = self._typed_word(typed, scores) if settings.typed_word_first or rules is not None else None
        if not shown and found is None and rules is not None and rules.hidden_vocab is not None:
            shown = unhidden()  # only identifiers start so: the person means one
        if not settings.typed_word_first or found is None:
            return shown
        token, score = found
        if shown and score < shown[0].log_prob:
            return shown  # a longer word alone is likelier: Tab gives that one
        display = self.vocab.display[self.vocab.id(token)] if token in self.vocab else (
            scores.others_display.get(token) or self.lexicon.display_of(token))
        text = written_form(display, typed, view.sentence_start)
        if text.lower() != typed.lower():
            text = typed  # (a display form that is not this word's letters: keep the letters)
        first = Suggestion(text, token, score, True)
        return [first] + [s for s in shown if s.text.lower() != text.lower()][: k - 1]

    def _typed_word(self, typed: str, scores: "Scores") -> tuple[str, float] | None:
        """The typed letters as a word the model knows, and its log-probability."""
        word = typed.lower()
        vocab = self.vocab
        if word in vocab:
            i = vocab.id(word)
            if self.words.position[i] >= 0:
                return word, float(scores.log_probs[i])
        for token in (typed, word):
            if token in scores.others:
                return token, scores.others[token]
        if word in self.lexicon:
            return word, scores.lexicon_base + self.lexicon.share(word)
        return None
