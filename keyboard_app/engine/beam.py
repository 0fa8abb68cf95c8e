"""Phrase suggestions: the next two to four words, decoded from the cached state.

At a word boundary the engine already holds the recurrent state after the
text before the cursor (the state cache) and the distribution of the next
word (the strip's: network, document cache and phrase tables mixed).  A
phrase is a short beam search from there: the strip's words start the
hypotheses, and each step feeds the last word of every live hypothesis to
the network in one batched run and extends it with its best continuations.
The context is never run again; a search costs at most ``max_words - 1``
small runs.

It is pruned hard, because a phrase is worth a slot only when the model is
confident about all of its words: a hypothesis whose probability falls
below the floor is dropped at once (its extensions can only be less
likely).  The floor is the larger of ``threshold`` and what the phrase has
to beat to earn its slot, the last word of the strip (times ``odds``), so
after most words the search ends before its first run, and after "as
well" it follows the two or three continuations that can still get there.
Each word after the first is scored by the network; with
``BeamSettings.mixture`` (off by default: measured, it does not pay), the
document cache's pair and triple parts after the hypothesis are mixed in
too (``continuations``: the words that followed its last one or two tokens
earlier in the text, by how often and how lately), so "the Tools menu"
that a manual keeps repeating can earn a slot the network alone would not
give it.  Only words are followed: a phrase never
holds punctuation.

Of the hypotheses of ``min_words`` or more above the floor, the one offered
is the one worth the most keystrokes: its probability times the letters and
spaces of the words it adds to its first (a person takes a phrase only when
every word of it is right, and its first word the strip offers anyway).

Where it goes (``place``): a strip of ``k`` slots shows the ``k`` likeliest
suggestions, the phrase among them by its probability, so it takes the
place of the ``k``-th word when it is likelier than that word; it always
comes after its own first word, which is at least as likely.  A one-slot
strip keeps its word.

The search has a time budget.  In the app it runs on the worker after the
word suggestions have gone out; when the budget runs out, or ``stop()``
says a newer keystroke is waiting, it gives up and no phrase is offered,
so it never holds up typing.  The evaluation runs it without a budget, so
that its figures do not depend on the machine's load.
"""

from __future__ import annotations

import logging
import math
import time
from types import EllipsisType
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Collection, Sequence

import numpy as np

from .session import RecurrentSession, State

if TYPE_CHECKING:
    from .continuations import Continuations

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BeamSettings:
    width: int = 4  # hypotheses kept after each step
    branch: int = 3  # continuations of each hypothesis looked at
    min_words: int = 2
    max_words: int = 4
    # A phrase is offered only when its probability (every word of it right) is at least
    # ``threshold`` and more than ``odds`` times that of the word whose slot it takes;
    # both chosen by measurement (benchmarks/phrases.py, docs/EVALUATION.md).
    threshold: float = math.log(0.04)
    odds: float = 1.0
    budget: float | None = 0.005  # seconds; None: no limit (the evaluation)
    # The words after the first scored with the document's copies after the hypothesis mixed
    # in (``continuations``), not by the network alone.  Off: measured, it adds +0.02 KSR@3
    # pooled (noise) for 17% more phrases shown and 1.4 times the phrase's CPU
    # (docs/EVALUATION.md).
    mixture: bool = False

    def __post_init__(self) -> None:
        if not 2 <= self.min_words <= self.max_words:
            raise ValueError(f"need 2 <= min_words <= max_words, not {self.min_words} and {self.max_words}")
        if self.width < 1 or self.branch < 1:
            raise ValueError(f"width and branch must be at least 1, not {self.width} and {self.branch}")
        if not self.threshold <= 0.0:
            raise ValueError(f"threshold is a log-probability (at most 0), not {self.threshold}")
        if not self.odds > 0.0:
            raise ValueError(f"odds must be positive, not {self.odds}")
        if self.budget is not None and not self.budget >= 0.0:
            raise ValueError(f"budget must be at least 0 seconds (or None), not {self.budget}")


@dataclass(frozen=True)
class Phrase:
    ids: tuple[int, ...]  # vocabulary ids of its words
    log_prob: float  # log P(all of its words | the text before the cursor)


@dataclass
class BeamStats:
    """What the last search did (benchmarks and tests read it)."""

    runs: int = 0  # network runs
    seconds: float = 0.0
    dropped: bool = False  # the budget ran out, or ``stop()`` asked


class PhraseBeam:
    """The beam search over a ``RecurrentSession`` (module docstring).

    ``words``: a boolean mask over the vocabulary, True for the tokens a
    phrase may hold (no punctuation, no special tokens); ``lengths``: each
    token's length, for the keystrokes a phrase is worth.  ``clock`` is
    injectable so that tests can make a step slow.
    """

    def __init__(
        self,
        session: RecurrentSession,
        words: np.ndarray,
        lengths: np.ndarray,
        settings: BeamSettings = BeamSettings(),
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.session = session
        self.settings = settings
        self._clock = clock
        self._lengths = np.asarray(lengths, np.int64)
        self._is_word = np.asarray(words, bool)
        # the best ``branch + this`` tokens of a row always hold ``branch`` words
        self._not_words = int((~self._is_word).sum())
        self.stats = BeamStats()

    def search(
        self,
        state: State,
        first: Sequence[tuple[int, float]],
        *,
        floor: float | None = None,
        budget: float | None | EllipsisType = ...,
        stop: Callable[[], bool] | None = None,
        banned: Collection[int] = (),
        follow: "Continuations | None" = None,
    ) -> Phrase | None:
        """The phrase to offer after ``state``, or None (arguments: ``candidates``)."""
        found = self.candidates(state, first, floor=floor, budget=budget, stop=stop, banned=banned,
                                follow=follow)
        return max(found, key=self.worth) if found else None

    def worth(self, phrase: Phrase) -> tuple[float, float, tuple[int, ...]]:
        """Expected keystrokes saved beyond the first word; ties: the likelier, then by ids."""
        added = int(self._lengths[list(phrase.ids[1:])].sum()) + len(phrase.ids) - 1
        return (math.exp(phrase.log_prob) * added, phrase.log_prob, tuple(-i for i in phrase.ids))

    def candidates(
        self,
        state: State,
        first: Sequence[tuple[int, float]],
        *,
        floor: float | None = None,
        budget: float | None | EllipsisType = ...,
        stop: Callable[[], bool] | None = None,
        banned: Collection[int] = (),
        follow: "Continuations | None" = None,
    ) -> list[Phrase]:
        """Every hypothesis of ``min_words`` to ``max_words`` words that the search kept.

        ``state``: the recurrent state after the text (batch 1).  ``first``:
        the words a phrase may start with, ``(id, log_prob)`` (the strip's,
        with the mixture's log-probabilities).  ``floor``: the log-probability
        a phrase must reach (None: the settings' ``threshold``).  ``budget``:
        seconds (``...``: the settings'; None: no limit).  ``banned``: ids never
        to put in a phrase (words the person blocked).  ``follow``: the document's
        copies after each hypothesis (``continuations``; None: the network's
        log-probabilities alone score the words after the first).  [] when the
        budget ran out or ``stop()`` returned True between two steps.
        """
        settings = self.settings
        if floor is None:
            floor = settings.threshold
        if budget is ...:
            budget = settings.budget
        started = self._clock()
        deadline = None if budget is None else started + budget
        self.stats = stats = BeamStats()
        # live hypotheses: (log_prob, ids, the row of ``states`` they continue from)
        live = sorted(((float(score), (int(i),), 0) for i, score in first
                       if score >= floor and self._is_word[i] and i not in banned), key=lambda h: (-h[0], h[1]))
        live = live[: settings.width]
        states = state
        found: list[Phrase] = []
        for words in range(2, settings.max_words + 1):
            if not live:
                break
            if (deadline is not None and self._clock() >= deadline) or (stop is not None and stop()):
                return self._dropped(started)
            rows = [row for _, _, row in live]
            tokens = np.array([[ids[-1]] for _, ids, _ in live], np.int64)  # (batch, 1)
            parent = tuple(s[:, rows, :] for s in states)  # (layers, batch, hidden)
            log_probs, states = self.session.run(tokens, parent)  # (batch, vocab)
            stats.runs += 1
            take = min(settings.branch + self._not_words + len(banned), log_probs.shape[1])
            top = np.argpartition(log_probs, -take, axis=1)[:, -take:]
            grown = []
            for row, (score, ids, _) in enumerate(live):
                if follow is None:
                    scores = log_probs[row]
                    ranked = [(i, float(scores[i])) for i in top[row].tolist()]
                else:  # with the document's copies after this hypothesis (``continuations``)
                    candidates, mixed = follow.scored(log_probs[row], ids, top[row])
                    ranked = list(zip(candidates.tolist(), mixed.tolist()))
                ranked.sort(key=lambda pair: (-pair[1], pair[0]))
                kept = 0
                for i, next_score in ranked:
                    if not self._is_word[i] or i in banned:
                        continue
                    total = score + next_score
                    if total < floor:
                        break  # the rest are less likely still
                    grown.append((total, ids + (i,), row))
                    kept += 1
                    if kept == settings.branch:
                        break
            grown.sort(key=lambda h: (-h[0], h[1]))
            live = grown[: settings.width]
            if words >= settings.min_words:
                found.extend(Phrase(ids, score) for score, ids, _ in live)
        if deadline is not None and self._clock() > deadline:
            return self._dropped(started)
        stats.seconds = self._clock() - started
        return found

    def _dropped(self, started: float) -> list[Phrase]:
        self.stats.dropped = True
        self.stats.seconds = self._clock() - started
        return []


def place(shown: Sequence, phrase, k: int, odds: float = 1.0) -> list:
    """A strip of ``k`` slots: the first ``k`` of ``shown`` (best first), with ``phrase``
    (a suggestion with a ``log_prob``, or None) among them by its probability, in place
    of the last when it is more than ``odds`` times likelier than that one (module
    docstring; a tie keeps the word).  A strip of one slot keeps its word."""
    strip = list(shown[:k])
    if phrase is None or k < 2:
        return strip
    if len(strip) == k:
        if not phrase.log_prob > strip[-1].log_prob + math.log(odds):
            return strip
        strip.pop()
    at = next((i for i, s in enumerate(strip) if s.log_prob < phrase.log_prob), len(strip))
    strip.insert(at, phrase)
    return strip
