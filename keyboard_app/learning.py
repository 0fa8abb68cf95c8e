"""The personal layer: what the app learns from the user's own typing.

Local, opt-in and private: it keeps **counts only** -- how often each word
was typed or accepted, how often each word followed another, and the way
the user writes it ("Zanzibar") -- never the text itself, and nothing leaves
the machine.  The counts live in one JSON file in the user's data folder,
written atomically (the app debounces the writes).

``PersonalModel.candidates`` gives, for the previous token and the prefix
being typed, a small bigram distribution (interpolated with the unigram
counts).  ``PersonalizedPredictor`` wraps the engine's ``Predictor`` and
mixes that distribution into the LSTM's suggestions, so a new name or
phrase appears after a few uses.  The wrapper exists because the engine's
``Predictor`` has no hook for it; see ``PersonalModel.candidates`` for the
hook the engine could call instead.

Nothing here imports Qt: it is tested without a display.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import threading
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine.tokenizer import BOS, Context, Tokenizer
from .storage import atomic_write_json

log = logging.getLogger(__name__)

PERSONAL_FORMAT = "keyboard-personal-counts"
PERSONAL_VERSION = 1
MAX_WORDS = 50_000  # beyond this, the words seen once are dropped
MAX_WORD_LENGTH = 40  # longer "words" are pasted junk, not vocabulary


@dataclass(frozen=True)
class PersonalCandidate:
    token: str  # lowercased, as the model sees it
    display: str  # the user's own written form
    prob: float  # P(token | previous) under the personal counts


def _locked(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class PersonalModel:
    """Counts of the user's words and word pairs, with a prefix index (thread-safe)."""

    #: Bigram smoothing: the unigram distribution counts as this many observations.
    UNIGRAM_WEIGHT = 2.0

    def __init__(self) -> None:
        self.unigrams: dict[str, int] = {}
        self.bigrams: dict[str, dict[str, int]] = {}
        self.forms: dict[str, dict[str, int]] = {}  # written forms other than the token
        self.blocked: set[str] = set()
        # Forgotten this session: hidden from the strip even where the engine's document
        # cache would bring the word back (it is in the text); not saved; typing it again
        # (a new observation) shows it again.
        self.hidden: set[str] = set()
        self.total = 0
        self.changes = 0  # bumped on every change: the app saves when it moves
        self._sorted: list[str] | None = None
        # The UI thread learns while the predictor's worker may be reading.
        self._lock = threading.RLock()

    # --- learning -------------------------------------------------------
    @_locked
    def observe(self, previous: str, word: str, *, initial: bool = False) -> bool:
        """Count ``word`` (as written) after the token ``previous``.

        ``initial``: the word starts a sentence, so its capital says nothing
        about how the user writes it.  Returns False if the word was ignored.
        """
        token = word.lower()
        if not _is_word(token):
            return False
        self.hidden.discard(token)
        if token not in self.unigrams:
            self._sorted = None
        self.unigrams[token] = self.unigrams.get(token, 0) + 1
        self.total += 1
        previous = previous.lower() if previous else BOS
        followers = self.bigrams.setdefault(previous, {})
        followers[token] = followers.get(token, 0) + 1
        if not initial and word != token:
            forms = self.forms.setdefault(token, {})
            forms[word] = forms.get(word, 0) + 1
        elif not initial:
            forms = self.forms.get(token)
            if forms is not None:  # the lowercase form competes with the others
                forms[token] = forms.get(token, 0) + 1
        if len(self.unigrams) > MAX_WORDS:
            self._prune()
        self.changes += 1
        return True

    @_locked
    def forget(self, token: str) -> bool:
        """Drop everything learned about ``token``; True if there was something."""
        token = token.lower()
        found = token in self.unigrams or token in self.bigrams
        self.total -= self.unigrams.pop(token, 0)
        self.bigrams.pop(token, None)
        for followers in self.bigrams.values():
            if followers.pop(token, None) is not None:
                found = True
        self.bigrams = {p: f for p, f in self.bigrams.items() if f}
        self.forms.pop(token, None)
        self.hidden.add(token)
        self._sorted = None
        self.changes += 1
        return found

    @_locked
    def block(self, token: str) -> None:
        """Never suggest ``token`` again (until unblocked or cleared)."""
        self.blocked.add(token.lower())
        self.changes += 1

    @_locked
    def unblock(self, token: str) -> None:
        self.blocked.discard(token.lower())
        self.changes += 1

    @_locked
    def clear(self) -> None:
        changes = self.changes
        self.unigrams, self.bigrams, self.forms = {}, {}, {}
        self.blocked, self.hidden = set(), set()
        self.total = 0
        self._sorted = None
        self.changes = changes + 1

    def knows(self, token: str) -> bool:
        return token.lower() in self.unigrams

    def __len__(self) -> int:
        return len(self.unigrams)

    def _prune(self) -> None:
        rare = {t for t, c in self.unigrams.items() if c <= 1}
        for token in rare:
            self.total -= self.unigrams.pop(token)
            self.forms.pop(token, None)
            self.bigrams.pop(token, None)
        for followers in self.bigrams.values():
            for token in rare & followers.keys():
                del followers[token]
        self.bigrams = {p: f for p, f in self.bigrams.items() if f}
        self._sorted = None

    # --- predicting -----------------------------------------------------
    @_locked
    def display(self, token: str) -> str:
        """The user's most frequent written form of ``token``."""
        forms = self.forms.get(token)
        if not forms:
            return token
        return max(forms.items(), key=lambda item: (item[1], item[0] == token))[0]

    def weight(self) -> float:
        """How much of the mixture the personal layer gets: grows with what it has seen."""
        return 0.3 * self.total / (self.total + 20.0) if self.total else 0.0

    @_locked
    def candidates(self, previous: str, prefix: str = "", limit: int = 10) -> list[PersonalCandidate]:
        """The personal distribution's best tokens starting with ``prefix``, after ``previous``.

        P(w | prev) = (c(prev, w) + a * c(w) / N) / (c(prev) + a): a bigram
        estimate smoothed towards the user's unigram counts.  This is the
        hook an engine ``Predictor`` could call to mix the layer in itself.
        """
        if not self.total:
            return []
        prefix = prefix.lower()
        followers = self.bigrams.get((previous or BOS).lower(), {})
        context_total = sum(followers.values())
        alpha = self.UNIGRAM_WEIGHT
        scored: list[tuple[float, str]] = []
        for token in self._with_prefix(prefix):
            if token in self.blocked:
                continue
            p = (followers.get(token, 0) + alpha * self.unigrams[token] / self.total) / (
                context_total + alpha
            )
            scored.append((p, token))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [PersonalCandidate(t, self.display(t), p) for p, t in scored[:limit]]

    def _with_prefix(self, prefix: str) -> list[str]:
        if not prefix:
            return list(self.unigrams)
        if self._sorted is None:
            self._sorted = sorted(self.unigrams)
        words = self._sorted
        start = bisect_left(words, prefix)
        end = bisect_left(words, prefix + "\U0010ffff", start)
        return words[start:end]

    # --- storage --------------------------------------------------------
    @_locked
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PERSONAL_FORMAT,
            "format_version": PERSONAL_VERSION,
            "unigrams": self.unigrams,
            "bigrams": self.bigrams,
            "forms": self.forms,
            "blocked": sorted(self.blocked),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PersonalModel":
        if not isinstance(data, dict) or data.get("format") != PERSONAL_FORMAT:
            raise ValueError("not a personal counts file")
        if data.get("format_version") != PERSONAL_VERSION:
            raise ValueError(f"unsupported format version {data.get('format_version')!r}")
        model = cls()
        model.unigrams = {str(t): int(c) for t, c in data["unigrams"].items() if int(c) > 0}
        model.bigrams = {
            str(p): {str(t): int(c) for t, c in f.items() if int(c) > 0}
            for p, f in data["bigrams"].items()
        }
        model.forms = {
            str(t): {str(w): int(c) for w, c in f.items()} for t, f in data.get("forms", {}).items()
        }
        model.blocked = {str(t) for t in data.get("blocked", [])}
        model.total = sum(model.unigrams.values())
        return model

    def save(self, path: str | os.PathLike) -> None:
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> tuple["PersonalModel", str | None]:
        """The saved counts (empty if none), and a message if the file was unusable.

        A damaged file is moved aside (``.corrupt``) so the message is shown once.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(), None
        except OSError as e:
            return cls(), f"The learned words in {path} cannot be read ({e.strerror})."
        try:
            return cls.from_dict(json.loads(text)), None
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            log.warning("corrupt personal counts %s: %s", path, e)
        backup = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, backup)
        except OSError:
            pass
        return cls(), (
            f"The file of learned words was damaged and has been set aside "
            f"as {backup}; learning starts afresh."
        )


def _is_word(token: str) -> bool:
    return (
        0 < len(token) <= MAX_WORD_LENGTH
        and token[0].isalpha()
        and all(ch.isalpha() or ch == "'" for ch in token)
    )


CONTEXT_WINDOW = 400  # characters before the word being typed that decide the previous token


def local_context(tokenizer: Tokenizer, text: str, window: int = CONTEXT_WINDOW) -> Context:
    """``split_context`` of the end of ``text`` only: the previous token and the partial word.

    Cheap on a long document (the engine keeps the full context itself).
    ``partial_start`` is an offset into the whole ``text``.
    """
    offset = max(0, len(text) - window)
    context = tokenizer.split_context(text[offset:])
    if not offset:
        return context
    return Context(
        tokens=context.tokens, partial=context.partial,
        partial_start=context.partial_start + offset, sentence_start=context.sentence_start,
    )


class PersonalizedPredictor:
    """An engine ``Predictor`` with the personal layer mixed into its suggestions.

    Score of a candidate ``w``: ``(1 - lam) * P_lstm(w) + lam * P_personal(w)``,
    with ``lam = personal.weight()``.  The LSTM's candidates come from its own
    ``suggest`` (a larger pool than is shown) and its probability of each
    personal candidate from ``next_word_log_probs`` (zero for a word it does
    not know).  Blocked words are never shown, whether the personal layer is
    in use or not.
    """

    def __init__(self, predictor: Any, personal: PersonalModel | None = None, *, pool: int = 12) -> None:
        self.predictor = predictor
        self.personal = personal
        self.use_personal = personal is not None
        self.pool = pool
        self.tokenizer = Tokenizer(predictor.bundle.tokenizer_settings)

    @property
    def bundle(self) -> Any:
        return self.predictor.bundle

    def reset(self) -> None:
        self.predictor.reset()

    def suggest(self, text: str, k: int = 3) -> list:
        personal = self.personal
        blocked = (personal.blocked | personal.hidden) if personal is not None else ()
        mixing = self.use_personal and personal is not None and personal.total > 0
        if not mixing and not blocked:
            return self.predictor.suggest(text, k)
        base = self.predictor.suggest(text, max(self.pool, k + len(blocked)))
        base = [s for s in base if s.token not in blocked]
        if not mixing:
            return base[:k]
        context = local_context(self.tokenizer, text)
        extra = personal.candidates(context.tokens[-1], context.partial, limit=self.pool)
        lam = personal.weight()
        scores: dict[str, float] = {}
        chosen: dict[str, Any] = {}
        for s in base:
            scores[s.token] = (1.0 - lam) * math.exp(s.log_prob)
            chosen[s.token] = s
        lstm_log_probs = None
        vocab = self.predictor.bundle.vocab
        for c in extra:
            if c.token not in chosen:
                lstm = 0.0
                if c.token in vocab:
                    if lstm_log_probs is None:
                        lstm_log_probs = self._log_probs(text)
                    if lstm_log_probs is not None:
                        lstm = math.exp(float(lstm_log_probs[vocab.id(c.token)]))
                scores[c.token] = (1.0 - lam) * lstm
                chosen[c.token] = self._suggestion(c, context)
            scores[c.token] += lam * c.prob
        ranked = sorted(scores, key=lambda t: -scores[t])[:k]
        return [_with_log_prob(chosen[t], math.log(max(scores[t], 1e-300))) for t in ranked]

    def _log_probs(self, text: str) -> Any:
        method = getattr(self.predictor, "next_word_log_probs", None)
        if method is None:
            return None
        log_probs, _view = method(text)
        return log_probs

    def _suggestion(self, candidate: PersonalCandidate, context: Context) -> Any:
        from .engine.predictor import Suggestion
        from .engine.ranking import written_form

        text = written_form(candidate.display, context.partial, context.sentence_start)
        return Suggestion(
            text=text, token=candidate.token, log_prob=math.log(max(candidate.prob, 1e-12)),
            is_completion=bool(context.partial),
        )

    def accept(self, text: str, suggestion: Any) -> Any:
        """The edit that puts ``suggestion`` in (the engine's rule works for any word)."""
        return self.predictor.accept(text, suggestion)


def _with_log_prob(suggestion: Any, log_prob: float) -> Any:
    from dataclasses import replace

    return replace(suggestion, log_prob=log_prob)
