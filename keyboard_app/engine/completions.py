"""What the strip offers for the letters typed: six rules on top of the distribution.

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
  "something"), unless one is likelier by no more than ``typed_word_within``
  (twice): then the typed word is kept in the third slot.  So Tab
  gives the likeliest word, never a less likely extension of what was typed.
  It first came first only when it outweighed all its longer words
  *together*: in a long document the document cache's pairs lifted "then",
  "they" and "these" past "the" together (stop 26's hostile tester), and
  "and the" + Tab gave "and then" although "the" was the likeliest word of
  all.  Shown further down the strip always, it would cost keystrokes (a
  slot that saves nothing: choosing it does what a space does): the model
  card has the figures.
* **A capital typed inside a sentence is evidence.**  "by Fri" offered
  "Friendly" before "Friday": the network ranks by the words alone, while a
  person who types a capital where no sentence starts (nor a line, a quote or
  a bracket) almost always means a word written with one.  There, a word
  written in small letters (its display form) counts ``capital_evidence``
  times its probability.  Capitals typed throughout ("FRI") say nothing;
  "I'" is not typed in capitals (letters are counted, not the apostrophe).
* **Small letters typed inside a sentence are milder evidence the other
  way** (H41's report, class 3): "toilet paper, washing" offered
  "Washington" first and not "washing".  There a word written with a
  capital counts ``small_letter_evidence`` times its probability (the word
  typed too, so that it is measured as its longer words are), but not the
  pronoun "I", which people type in small letters; a name typed in small
  letters ("lon") still finds "London" a letter or two later at most.  A
  one-letter word written as a capital ("C", "J") is offered only where a
  capital is typed (``letters_as_typed``).
* **A capital the corpus gives a word by habit is dropped there**
  (``small_forms``, class 5): each token has one display form, its most
  frequent written form, and the corpus's Austen and State of the Union
  addresses make it "Miss" and "Government", so "I'll miss" put in "Miss".
  The bundle keeps no count of the small-letter uses, but it writes the
  word's own endings: where one of them is in small letters ("missed",
  "governments"), the capital is the corpus's habit and the word is written
  in small letters inside a sentence typed so, as a next word there too;
  "Monday", "English", "London" and "I" have no such ending and keep it.
  Where the bundle counts the small-letter uses (``lexicon.json``'s
  ``small_letters``), a word written small in at least ``small_share`` of its
  uses inside a sentence is so written too, though its endings say nothing:
  Austen's "the Parsonage" (a house's name, 26% small) and the addresses'
  "Secretary of the Interior" (40%) gave "we walked to the pars" Parsonage
  and "the inter" Interior; "London" (never small), "Python" (3%) and
  "PostgreSQL" (9%) keep their capital.  In a sentence written with
  capitals the endings' habit is dropped for a next word only where the
  corpus writes the word small in at least ``NAME_SHARE`` of its uses: the
  chat's "smiths" had "Dear Mrs " offer "smith" (small 3%).
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

All of them depend on the text before the cursor alone, so a fresh engine
and one that typed its way there agree (Contract 3).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from .ranking import Suggestion, in_capitals, written_form

if TYPE_CHECKING:
    from .lexicon import LexiconIndex
    from .mixture import Scores
    from .ranking import WordIndex
    from .token_cache import TokenCache, View
    from .vocab import Vocabulary

LEXICON_FLOOR = 1 / 300  # the model card: 1/1000, 1/300 and 1/100 measured for the lexicon,
VOCABULARY_FLOOR = 1e-4  # 1/10000 and 1/3000 for the vocabulary
# A capital right after these (and at the start of a line) is the position's, not the word's.
#: What a sentence or a line may begin after, a capital then being its place's, not a name's
#: (a line break, a quote, a bracket, a colon, a dash, a list's bullet).
OPENERS = frozenset("\n\"'([{<\u201c\u2018\u00ab\u2039\u201e\u201a:;-\u2013\u2014*\u2022>")


def inside_a_sentence(text: str, at: int) -> bool:
    """Whether the word starting at offset ``at`` of ``text`` stands inside a sentence: a word
    before it on its line, not an opener (``OPENERS``) right before it.  (The tokenizer's
    sentence start is the caller's to check too.)"""
    before = text[max(0, at - 16) : at].rstrip(" \t")
    return bool(before) and before[-1] not in OPENERS
# A word's own endings: where the bundle writes them in small letters ("governments",
# "missed"), the word's capital is the corpus's habit ("Government", Austen's "Miss"), not
# its spelling.  Words of fewer letters than ``_STEM`` are left as they are ("I": "is").
_ENDINGS = ("s", "es", "ed", "ing", "ly")
_STEM = 3
# A word's share of small letters is read only where it was seen this often inside a sentence:
# a name seen five times, once in a title's small letters, is no word people write small.
SHARE_EVIDENCE = 20
# A word the corpus writes with its capital in all but this share of its uses inside a sentence
# keeps it for a next word in a sentence written with capitals, whatever its endings say ("Dear
# Mrs " Smith: small 3% of the time, but the chat's "smiths" made it a habit; "Jean", "Korean");
# "Government" (small 30%) still loses it there.  Only where the bundle counts small letters.
NAME_SHARE = 0.05
TYPED_WORD_SLOT = 2  # where ``typed_word_within`` puts the typed word: the third slot
_WORD = re.compile(r"[^\W\d_][\w'\u2019]*")
_SENTENCE_LOOK_BACK = 200  # characters of the sentence read for its capitals (``_writes_capitals``)


@dataclass(frozen=True)
class CompletionSettings:
    """The strip's rules for the letters typed (module docstring); ``off()``: none."""

    typed_word_first: bool = True  # the word as typed first when no longer word alone is likelier
    # A small-letter word's probability is multiplied by this where a capital is typed inside a
    # sentence (1.0: capitals say nothing).  0.1 saved the most keystrokes of 0.3 / 0.1 / 0.03.
    capital_evidence: float = 0.1
    # A word written with a capital counts this times its probability where small letters are typed
    # inside a sentence ("washi": "washing" before "Washington"; 1.0: small letters say nothing).
    # Of 1 / 0.5 / 0.3 / 0.1 (H43): held-out KSR barely moves (its words are typed in their own
    # case), the everyday texts' capitals among small letters fall 117 -> 40, and a name typed
    # in small letters takes at most two letters more than at 1.0.
    small_letter_evidence: float = 0.3
    letters_as_typed: bool = True  # a one-letter word written as a capital ("C", "J") only where one is typed
    small_forms: bool = True  # inside a sentence typed in small letters, capitals by habit dropped ("government")
    # ... and those of the words the corpus writes in small letters in at least this share of their uses
    # inside a sentence ("Parsonage": 26%; the bundle's ``small_letters``; 1.0: none, as no word written
    # with a capital is written small half the time).  Of 0.1 / 0.15 / 0.2 / 0.25 (H56), 0.2 keeps more
    # names ("Bible", "Arabic", "XML": 13-15%) and drops the capital of "Windows" (22%).
    small_share: float = 0.2
    # The typed word in the third slot when a longer word is likelier, but by no more than this
    # factor (0.0: never; the first slot when none is likelier, as ``typed_word_first`` says).
    # Of 2 / 2.5 / 3 (H43), 2 keeps held-out KSR@3 within 0.05 (-0.03) and leaves out the typed
    # word a third less often on everyday texts (36 -> 24 of 604 words).
    typed_word_within: float = 2.0
    hide_identifiers: bool = True  # marked identifiers only in documents that use them
    # Chat's stretched words ("yesss", "helloooo": a letter three times or more, one or two of it
    # a word the model knows) only once the person stretches one (``elongated``).
    hide_elongations: bool = True
    identifier_window: int = 2000  # tokens before the cursor searched for the document's own
    # A lexicon word less likely than this share of the likeliest word is not offered (0.0: all are);
    # the same for the vocabulary's words, far lower: the network saw their context.
    lexicon_floor: float = LEXICON_FLOOR
    vocabulary_floor: float = VOCABULARY_FLOOR

    def __post_init__(self) -> None:
        for name in ("lexicon_floor", "vocabulary_floor"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), not {getattr(self, name)}")
        for name in ("capital_evidence", "small_letter_evidence", "small_share"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], not {getattr(self, name)}")
        if not (self.typed_word_within == 0.0 or self.typed_word_within >= 1.0):
            raise ValueError(f"typed_word_within must be 0 or at least 1, not {self.typed_word_within}")
        if self.identifier_window < 0:
            raise ValueError(f"identifier_window must be at least 0, not {self.identifier_window}")

    @classmethod
    def off(cls) -> "CompletionSettings":
        """The strip as before issue 14's part 3: the distribution's order alone."""
        return cls(typed_word_first=False, capital_evidence=1.0, small_letter_evidence=1.0, letters_as_typed=False,
                   small_forms=False, typed_word_within=0.0, hide_identifiers=False, lexicon_floor=0.0,
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
    #: added to the negated log-probability of a word written with a capital here, where small
    #: letters are typed inside a sentence (``small_letter_evidence``; 0: none)
    upper_penalty: float = 0.0
    lowered: np.ndarray | None = None  # bool per vocabulary id: written as its token here ("government")
    #: bool per vocabulary id: written with a capital that ``upper_penalty`` lowers (not the pronoun "I")
    capitals: np.ndarray | None = None
    capital_letters: np.ndarray | None = None  # bool per vocabulary id: a capital letter ("C"), left out here
    lowered_words: frozenset[str] = frozenset()  # the lexicon's words written as their token here ("lowered")

    def adjust(self, pool: list[tuple], scores: "Scores") -> list[tuple]:
        """``Ranker``'s pool entries ``(negated log-probability, source, key, token)``
        (source 0: a vocabulary id, 1: a document's word, 2: a lexicon word) with the
        hidden ones (and the capital letters not typed as one) left out and the capitals'
        evidence, typed or not, added.  Penalties only lower a score, so the ranker's floor
        (what it has not fetched ranks below) still holds.  The words far below the best are
        left out afterwards (``limits``)."""
        out = []
        hidden_vocab, hidden_words, letters = self.hidden_vocab, self.hidden_words, self.capital_letters
        lower, upper = self.lower_penalty, self.upper_penalty
        if hidden_vocab is None and not hidden_words and not lower and not upper and letters is None:
            return pool
        for entry in pool:
            negative, source, key, token = entry
            if source == 0:
                if (hidden_vocab is not None and hidden_vocab[key]) or (letters is not None and letters[key]):
                    continue
                small = not self.capitals[key] if upper else self.small_letters[key]
            else:
                if token in hidden_words:
                    continue
                written = scores.others_display.get(key) or self.lexicon.display_of(key)
                if letters is not None and _capital_letter(written):
                    continue
                small = _small(written) or (upper and _pronoun(key)) or (source == 2 and key in self.lowered_words)
            penalty = lower if small else upper
            out.append((negative + penalty, source, key, token) if penalty else entry)
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


def _pronoun(token: str) -> bool:
    """The pronoun "I" and its contractions, which people type in small letters ("i", "i'm")."""
    return token == "i" or token.startswith(("i'", "i\u2019"))


def _capital_letter(written: str) -> bool:
    """A one-letter word written as a capital ("C", "J"), but not the pronoun "I"."""
    return len(written) == 1 and written.isupper() and written != "I"


_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")  # a letter three times or more in a row


def elongated(token: str, known: Callable[[str], bool]) -> bool:
    """Whether ``token`` is a word stretched for emphasis, as chat writes them ("yesss",
    "helloooo", "soooo"): a letter three times or more in a row, and the word with each such
    run cut to one or two letters is ``known`` ("yes", "hello", "so").  Not "hahaha", nor a
    roman numeral ("viii": written in capitals, the caller leaves those out)."""
    runs = len(_STRETCHED.findall(token))
    if not runs or runs > 3:
        return False
    forms = {_STRETCHED.sub(lambda m: m.group(1) * n, token) for n in (1, 2)}  # every run cut alike
    for j in range(runs if runs > 1 else 0):  # ... or one run cut to two letters, the others to one
        count = iter(range(runs))
        forms.add(_STRETCHED.sub(lambda m: m.group(1) * (2 if next(count) == j else 1), token))
    return any(known(form) for form in forms)


def _stretching(typed: str) -> bool:
    """Whether the letters typed stretch a word themselves ("sooo"): then its stretched forms
    are what the person is typing."""
    return bool(_STRETCHED.search(typed.lower()))


# Names of months and days keep their capital whatever their endings ("March": "marched";
# "Sat": "sated"), as English writes them.
_CALENDAR = frozenset(("january february march april may june july august september october "
                       "november december jan feb mar apr jun jul aug sep sept oct nov dec monday "
                       "tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur "
                       "thurs fri sat sun").split())


def _capital_by_habit(token: str, written: str, vocab: "Vocabulary") -> bool:
    """Whether ``written`` has a capital its own endings have not ("Government":
    "governments"; "Miss": "missed"), where "Monday", "English", "March" and "I" have none."""
    if _small(written) or len(token) < _STEM or written.lower() != token or token in _CALENDAR:
        return False
    endings = [token + ending for ending in _ENDINGS]
    if token.endswith("y"):
        endings.append(token[:-1] + "ies")
    return any(_small(vocab.display[vocab.id(ending)]) for ending in endings if ending in vocab)


def _writes_capitals(text: str, end: int) -> bool:
    """Whether a word of the sentence before ``end``, after its first, starts with a capital
    (but "I"): the person writes capitals, and a next word is offered with the capital the
    corpus gives it in most of its uses, not small for the share it does not (``small_share``)."""
    span = text[max(0, end - _SENTENCE_LOOK_BACK) : end]
    words = _WORD.findall(span[max(span.rfind(c) for c in ".!?\n") + 1 :])
    return any(word[:1].isupper() and not _pronoun(word.lower()) for word in words[1:])


def _small_by_share(token: str, small: int, inside: int, share: float) -> bool:
    """Whether a word written with a capital is written in small letters often enough inside a
    sentence (``small`` of ``inside`` uses) to be so written where small letters are typed; never
    the pronoun "I", a one-letter word (``letters_as_typed``'s) or a month or day."""
    return (inside >= SHARE_EVIDENCE and small >= share * inside and len(token) > 1
            and not _pronoun(token) and token not in _CALENDAR)


def _capital_of(token: str, written: str) -> bool:
    """Whether ``written`` is ``token`` with a capital first letter (as "Parsonage" is, "iPhone" not)."""
    return not _small(written) and written.lower() == token


class Completions:
    """The rules over one model's words: its vocabulary, lexicon and identifier marks."""

    def __init__(self, words: "WordIndex", vocab: "Vocabulary", lexicon: "LexiconIndex",
                 identifiers: frozenset[str] = frozenset()) -> None:
        self.words = words
        self.vocab = vocab
        self.lexicon = lexicon
        self._small = np.array([_small(d) for d in vocab.display], bool)
        self._by_endings = np.array([_capital_by_habit(token, written, vocab)
                                     for token, written in zip(vocab.tokens, vocab.display)], bool)
        # ... and those of them a sentence written with capitals drops (``NAME_SHARE``)
        counted = lexicon.small_letters
        self._by_endings_in_capitals = self._by_endings.copy()
        if counted:
            for i in np.flatnonzero(self._by_endings):
                small, inside = counted.get(vocab.tokens[i], (0, 0))
                if small < NAME_SHARE * inside or not inside:
                    self._by_endings_in_capitals[i] = False
        self._capital_letters = np.array([_capital_letter(d) for d in vocab.display], bool)
        # what small letters typed count against: words written with a capital, but the pronoun,
        # and those whose capital is a habit where they are written in small letters (``small_forms``)
        self._capitals_shown = ~(self._small | np.array([_pronoun(t) for t in vocab.tokens], bool))
        # (nor the names of months and days: "see you on fri" means Friday, typed small or not)
        self._not_calendar = ~np.array([t in _CALENDAR for t in vocab.tokens], bool)
        self._habits: dict[float, tuple[np.ndarray, np.ndarray, frozenset[str]]] = {}  # (``habits``)
        marked = np.zeros(len(vocab), bool)
        for token in identifiers:
            if token in vocab:
                marked[vocab.id(token)] = True
        self._marked_vocab = marked
        self._marked_words = frozenset(w for w in identifiers if w not in vocab)
        self._has_marks = bool(identifiers)
        # chat's stretched words (``elongated``), and the marks and them together
        known = lambda word: word in vocab or word in lexicon  # noqa: E731
        self._stretched_vocab = np.array([not display.isupper() and elongated(token, known)
                                          for token, display in zip(vocab.tokens, vocab.display)], bool)
        self._stretched_words = frozenset(w for w in lexicon.words
                                          if elongated(w, known) and not lexicon.display_of(w).isupper())
        self._hidden_both = (self._marked_vocab | self._stretched_vocab,
                             self._marked_words | self._stretched_words)
        self._has_stretched = bool(self._stretched_vocab.any() or self._stretched_words)
        self._memo: tuple[tuple[int, int], bool] | None = None

    def rules(self, settings: CompletionSettings, view: "View", tokens: "TokenCache", text: str) -> Rules | None:
        """The rules at this keystroke (None: none applies, the ranking is the distribution's)."""
        hide = settings.hide_identifiers and self._has_marks and not self._document_uses_identifiers(
            tokens, view.length, settings.identifier_window)
        stretch = settings.hide_elongations and self._has_stretched and not _stretching(view.partial)
        hidden = (self._hidden_both if hide and stretch else (self._marked_vocab, self._marked_words) if hide
                  else (self._stretched_vocab, self._stretched_words) if stretch else (None, frozenset()))
        penalty = upper_penalty = 0.0
        lowered = None
        lowered_words: frozenset[str] = frozenset()
        habits = self.habits(settings.small_share)
        typed = view.partial
        small_typed = not typed[:1].isupper()  # (nothing typed yet counts: a next word)
        if small_typed:
            wanted = (settings.small_letter_evidence < 1.0 and typed) or settings.small_forms
        else:
            wanted = settings.capital_evidence < 1.0 and not in_capitals(typed)
        if wanted and not view.capital_next:
            if inside_a_sentence(text, view.partial_start):
                if not small_typed:
                    penalty = -math.log(settings.capital_evidence)
                else:
                    if typed:
                        upper_penalty = -math.log(settings.small_letter_evidence)
                    # A next word (nothing typed) in a sentence whose writer writes capitals ("It runs
                    # on Microsoft "): the capital most of the word's uses have stays ("Windows"),
                    # only the endings' habits go; letters typed small are the evidence otherwise.
                    by_share = bool(typed) or not _writes_capitals(text, view.partial_start)
                    lowered = ((habits[0] if by_share else self._by_endings_in_capitals) if settings.small_forms
                               else None)
                    lowered_words = habits[2] if settings.small_forms and by_share else frozenset()
        letters = self._capital_letters if settings.letters_as_typed and typed[:1].islower() else None
        gaps = [-math.log(floor) if floor > 0.0 and typed else math.inf
                for floor in (settings.lexicon_floor, settings.vocabulary_floor)]
        if (hidden[0] is None and not penalty and not upper_penalty and lowered is None and letters is None
                and gaps == [math.inf, math.inf]):
            return None
        return Rules(*hidden, penalty, self._small, self.lexicon, *gaps, upper_penalty, lowered,
                     habits[1] if settings.small_forms else self._capitals_shown, letters, lowered_words)

    def habits(self, share: float) -> tuple[np.ndarray, np.ndarray, frozenset[str]]:
        """The capitals dropped inside a sentence typed in small letters, for ``small_share``
        ``share``: per vocabulary id, those dropped (by the word's endings or its share of
        small letters) and those small letters count against (the rest, but months and days),
        and the lexicon's words dropped.  Made once a share (a settings change, not a keystroke)."""
        found = self._habits.get(share)
        if found is None:
            vocab, lexicon = self.vocab, self.lexicon
            by_habit = self._by_endings.copy()
            words = set()
            for token, (small, inside) in lexicon.small_letters.items():
                if not _small_by_share(token, small, inside, share):
                    continue
                if token in vocab:
                    i = vocab.id(token)
                    by_habit[i] |= _capital_of(token, vocab.display[i])
                elif token in lexicon and _capital_of(token, lexicon.display_of(token)):
                    words.add(token)
            found = self._habits[share] = (by_habit, self._capitals_shown & ~by_habit & self._not_calendar,
                                           frozenset(words))
        return found

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
        likelier (third where one is, by no more than ``typed_word_within``), and the hidden
        identifiers back where nothing else fits the letters.  ``unhidden()`` ranks again
        without hiding them.  Where it goes depends on the first word alone, so a strip of
        ``k`` is the first ``k`` of a longer one."""
        typed = view.partial
        if not typed or k == 0:
            return shown
        found = self._typed_word(typed, scores) if settings.typed_word_first or rules is not None else None
        if (found is not None and rules is not None and rules.capital_letters is not None
                and found[0] in self.vocab and rules.capital_letters[self.vocab.id(found[0])]):
            found = None  # "c" typed: not the letter "C"
        if not shown and found is None and rules is not None and rules.hidden_vocab is not None:
            shown = unhidden()  # only identifiers start so: the person means one
        if not settings.typed_word_first or found is None:
            return shown
        token, score = found
        if token in self.vocab:
            i = self.vocab.id(token)
            lowered = rules is not None and rules.lowered is not None and rules.lowered[i]
            display = token if lowered else self.vocab.display[i]
            capital = rules is not None and rules.capitals is not None and rules.capitals[i]
        elif rules is not None and token in rules.lowered_words and token not in scores.others:
            display, capital = token, False  # (the document's own words are written as it writes them)
        else:
            display = scores.others_display.get(token) or self.lexicon.display_of(token)
            capital = not _small(display) and not _pronoun(token)
        if capital and rules is not None and rules.upper_penalty:
            score -= rules.upper_penalty  # counted as the longer words written with a capital are
        slot = 0
        if shown and score < shown[0].log_prob:  # a longer word alone is likelier: Tab gives that one
            within = settings.typed_word_within
            if not within or k <= TYPED_WORD_SLOT or score < shown[0].log_prob - math.log(within):
                return shown
            slot = TYPED_WORD_SLOT  # but a close second: the typed word stays in sight
        text = written_form(display, typed, view.capital_next)
        if text.lower() != typed.lower():
            text = typed  # (a display form that is not this word's letters: keep the letters)
        elif in_capitals(display) and typed[:1].isupper() and not in_capitals(typed) and len(typed) > 1:
            text = typed  # "Ms", "Lol": a capital then small letters, not "MS", "LOL"
        rest = [s for s in shown if s.text.lower() != text.lower()]
        return (rest[:slot] + [Suggestion(text, token, score, True)] + rest[slot:])[:k]

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
