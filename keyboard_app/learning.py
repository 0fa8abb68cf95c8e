"""The personal layer: what the app learns from the user's own typing.

Local, opt-in and private: it keeps **counts only** -- how often each word
was typed or accepted, how often each word followed another, and the way
the user writes it ("Zanzibar") -- never the text itself, and nothing leaves
the machine.  The counts live in one JSON file in the user's data folder,
written atomically (the app debounces the writes).  Two copies of the app
(or the app and a script) may learn at once: ``save`` adds what this copy
learned since it last read the file to what the file holds now, under a
file lock, so neither loses the other's words and nothing is counted twice.
A damaged file is kept aside as ``NAME.corrupt``, never written over.

``PersonalModel.candidates`` gives, for the previous token and the prefix
being typed, a small bigram distribution (interpolated with the unigram
counts).  ``PersonalLayer`` makes that distribution a component of the
engine's mixture (``engine.components``): plugged into the ``Predictor``
(``add_component``), it offers its best words at each keystroke and the
engine mixes them into the strip, so a new name or phrase appears after a
few uses.  The data and its storage stay here; the engine defines the
interface, the weights (``MixtureWeights.personal``, ``personal_ramp``,
``pool``) and the formula.

Nothing here imports Qt: it is tested without a display.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import threading
from bisect import bisect_left
from pathlib import Path
from typing import Any

from .engine import jsonfile
from .engine.components import Candidate, Candidates, Component, Cursor
from .engine.mixture import MixtureWeights
from .engine.tokenizer import BOS, Context, Tokenizer
from .storage import atomic_write_json, locked, set_aside

log = logging.getLogger(__name__)

PERSONAL_FORMAT = "keyboard-personal-counts"
PERSONAL_VERSION = 1
MAX_WORDS = 50_000  # beyond this, the words seen once are dropped
MAX_WORD_LENGTH = 40  # longer "words" are pasted junk, not vocabulary
MAX_COUNT = 10**9  # no one types a word this often: a larger count is damage


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
        # What the file held when this copy last read or wrote it, less what the user
        # asked to forget since: ``save`` adds (our counts - base) to the file's counts.
        self._base = _Counts()
        self._forgotten: set[str] = set()  # since the last save: dropped from the file too
        self._cleared = False  # since the last save: the file's counts are dropped
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
        self._base.drop(token)
        self._forgotten.add(token)
        self.changes += 1
        return found

    @_locked
    def block(self, token: str) -> bool:
        """Never suggest ``token`` again (until unblocked or cleared); False, and nothing
        blocked, for what is not a word (a phrase such as "of the"): the saved file keeps
        words only, so blocking it would last for this session and be dropped at the next."""
        token = token.lower()
        if not _is_word(token):
            return False
        self.blocked.add(token)
        self.changes += 1
        return True

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
        self._base, self._forgotten, self._cleared = _Counts(), set(), True
        self.changes = changes + 1

    @_locked
    def excluded(self) -> set[str]:
        """The tokens never to show: blocked, and forgotten this session."""
        return self.blocked | self.hidden

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

    @_locked
    def candidates(self, previous: str, prefix: str = "", limit: int = 10) -> list[Candidate]:
        """The personal distribution's best tokens starting with ``prefix``, after ``previous``.

        P(w | prev) = (c(prev, w) + a * c(w) / N) / (c(prev) + a): a bigram
        estimate smoothed towards the user's unigram counts.
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
        return [Candidate(t, self.display(t), p) for p, t in scored[:limit]]

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
        return _Counts.of(self).to_dict()

    @classmethod
    def from_dict(cls, data: Any) -> "PersonalModel":
        """The counts in parsed JSON.  ``ValueError`` (a clause: "it is ...") if the
        file is not ours; single unusable entries are dropped, with a log warning."""
        counts = _Counts.from_dict(data)
        model = cls()
        model._set_counts(counts)
        if len(model.unigrams) > MAX_WORDS:
            model._prune()
        model._base = _Counts.of(model).copy()
        return model

    def save(self, path: str | os.PathLike) -> None:
        """Write the counts, merged with what another copy of the app saved meanwhile.

        Called from the thread that learns (the UI thread); the predictor's
        thread may read meanwhile.  ``OSError`` if the file cannot be written
        (the old file is then whole) or a damaged one cannot be moved aside.
        """
        path = Path(path)
        with locked(path):
            on_disk = None if self._cleared else _read_for_merge(path)
            with self._lock:
                merged = self._merged(on_disk)
                forgotten = set(self._forgotten)
            atomic_write_json(path, merged.to_dict())
            with self._lock:
                self._set_counts(merged)
                self._base = merged.copy()
                self._forgotten -= forgotten
                self._cleared = False

    def _merged(self, on_disk: "_Counts | None") -> "_Counts":
        mine = _Counts.of(self)
        if on_disk is None:  # no file (or we cleared it): ours are all there is
            return mine.copy()
        for token in self._forgotten:
            on_disk.drop(token)
        on_disk.add_difference(mine, self._base)
        on_disk.prune(MAX_WORDS)
        return on_disk

    def _set_counts(self, counts: "_Counts") -> None:
        self.unigrams, self.bigrams, self.forms = counts.unigrams, counts.bigrams, counts.forms
        self.blocked = counts.blocked
        self.total = sum(self.unigrams.values())
        self._sorted = None

    @classmethod
    def load(cls, path: str | os.PathLike) -> tuple["PersonalModel", str | None]:
        """The saved counts (empty if none), and a sentence for the user if the file was unusable.

        A damaged file is moved aside (``.corrupt``) so the sentence is shown once;
        where it cannot be moved, it is left as it is and never written over.
        """
        path = Path(path)
        try:
            return cls.from_dict(jsonfile.load(path)), None
        except FileNotFoundError:
            return cls(), None
        except ValueError as e:  # jsonfile.JSONFileError too
            log.warning("damaged learned words %s: %s", path, e)
            reason = str(e)
        except OSError as e:
            return cls(), (
                f"The learned words in {path} cannot be read ({e.strerror or e}); "
                "learning starts afresh for now."
            )
        backup, why_not = set_aside(path)
        if backup is None:
            return cls(), (
                f"The file of learned words {path} is damaged ({reason}) and could not be "
                f"moved aside ({why_not}), so it was left as it is; learning starts afresh for now."
            )
        return cls(), (
            f"The file of learned words {path} was damaged ({reason}) and has been set aside "
            f"as {backup}; learning starts afresh."
        )


def _read_for_merge(path: Path) -> "_Counts | None":
    """What the file holds now; None if there is none.  A file damaged since we read
    it is moved aside first, never written over."""
    try:
        return _Counts.from_dict(jsonfile.load(path))
    except FileNotFoundError:
        return None
    except ValueError as e:
        backup, why_not = set_aside(path)
        if backup is None:
            raise OSError(errno.EIO, f"it is damaged and cannot be moved aside ({why_not})") from None
        log.warning("%s was damaged (%s); kept as %s", path, e, backup)
        return None


class _Counts:
    """The saved part of a ``PersonalModel``: plain dicts, for reading, merging and writing."""

    def __init__(self) -> None:
        self.unigrams: dict[str, int] = {}
        self.bigrams: dict[str, dict[str, int]] = {}
        self.forms: dict[str, dict[str, int]] = {}
        self.blocked: set[str] = set()

    @classmethod
    def of(cls, model: PersonalModel) -> "_Counts":
        """A view of ``model``'s counts (shared, not copied)."""
        counts = cls()
        counts.unigrams, counts.bigrams, counts.forms = model.unigrams, model.bigrams, model.forms
        counts.blocked = model.blocked
        return counts

    def copy(self) -> "_Counts":
        counts = _Counts()
        counts.unigrams = dict(self.unigrams)
        counts.bigrams = {p: dict(f) for p, f in self.bigrams.items()}
        counts.forms = {t: dict(f) for t, f in self.forms.items()}
        counts.blocked = set(self.blocked)
        return counts

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
    def from_dict(cls, data: Any) -> "_Counts":
        if not isinstance(data, dict) or data.get("format") != PERSONAL_FORMAT:
            raise ValueError("it is not a file of learned words")
        if data.get("format_version") != PERSONAL_VERSION:
            version = repr(data.get("format_version"))[:20]
            raise ValueError(f"its format version {version} is not one this app reads")
        for key, kind in (("unigrams", dict), ("bigrams", dict), ("forms", dict), ("blocked", list)):
            if not isinstance(data.get(key, kind()), kind):
                raise ValueError(f"its {key} are not a {'table' if kind is dict else 'list'}")
        dropped = 0

        def table(raw: Any, key_ok: Any) -> dict[str, int]:
            nonlocal dropped
            if not isinstance(raw, dict):
                dropped += 1
                return {}
            kept = {k: c for k, c in raw.items() if key_ok(k) and _is_count(c)}
            dropped += sum(1 for k, c in raw.items() if k not in kept and c != 0)
            return kept

        counts = cls()
        counts.unigrams = table(data["unigrams"], _is_word)
        for previous, followers in data["bigrams"].items():
            if previous == BOS or _is_word(previous):
                if kept := table(followers, _is_word):
                    counts.bigrams[previous] = kept
            else:
                dropped += 1
        for token, forms in data.get("forms", {}).items():
            if _is_word(token):
                if kept := table(forms, lambda w, t=token: w.lower() == t):
                    counts.forms[token] = kept
            else:
                dropped += 1
        for token in data.get("blocked", []):
            if isinstance(token, str) and _is_word(token.lower()):
                counts.blocked.add(token.lower())
            else:
                dropped += 1
        if dropped:
            log.warning("learned words: dropped %d unusable entries", dropped)
        return counts

    def drop(self, token: str) -> None:
        """Everything about ``token`` (the user asked to forget it)."""
        self.unigrams.pop(token, None)
        self.bigrams.pop(token, None)
        for followers in self.bigrams.values():
            followers.pop(token, None)
        self.bigrams = {p: f for p, f in self.bigrams.items() if f}
        self.forms.pop(token, None)

    def add_difference(self, mine: "_Counts", base: "_Counts") -> None:
        """Add ``mine - base`` (what one copy learned since its base) to these counts."""
        _add_difference(self.unigrams, mine.unigrams, base.unigrams)
        for outer, mine_table, base_table in ((self.bigrams, mine.bigrams, base.bigrams),
                                              (self.forms, mine.forms, base.forms)):
            for key in mine_table.keys() | base_table.keys():
                inner = outer.setdefault(key, {})
                _add_difference(inner, mine_table.get(key, {}), base_table.get(key, {}))
                if not inner:
                    del outer[key]
        unblocked = base.blocked - mine.blocked
        self.blocked = (self.blocked - unblocked) | (mine.blocked - base.blocked)

    def prune(self, max_words: int) -> None:
        if len(self.unigrams) > max_words:
            model = PersonalModel()
            model._set_counts(self)
            model._prune()
            self.unigrams, self.bigrams, self.forms = model.unigrams, model.bigrams, model.forms


def _add_difference(target: dict[str, int], mine: dict[str, int], base: dict[str, int]) -> None:
    for key in mine.keys() | base.keys():
        delta = mine.get(key, 0) - base.get(key, 0)
        if delta:
            value = min(target.get(key, 0) + delta, MAX_COUNT)
            if value > 0:
                target[key] = value
            else:
                target.pop(key, None)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_COUNT


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


class PersonalLayer(Component):
    """The personal layer as a component of the engine's mixture (module docstring).

    At each keystroke it offers the personal distribution's best words for the
    letters typed after the token before the cursor, with the share
    ``personal * n / (n + personal_ramp)`` of the engine's ``MixtureWeights``
    (``n`` the words counted), so a little data does not drown the model.
    Blocked and forgotten words are never shown, whether it is ``enabled`` or not.
    """

    def __init__(self, model: PersonalModel) -> None:
        self.model = model
        #: mix the counts in (off: the engine's suggestions, less the excluded words)
        self.enabled = True

    def share(self, weights: MixtureWeights) -> float:
        """The layer's share of the mixture now: it grows with what it has seen."""
        total = self.model.total
        return weights.personal * total / (total + weights.personal_ramp) if total > 0 else 0.0

    def candidates(self, at: Cursor, typed: str) -> Candidates | None:
        if not self.enabled or self.model.total <= 0:
            return None
        weights = at.weights
        return Candidates(self.share(weights), self.model.candidates(at.previous, typed, limit=weights.pool))

    def excluded(self) -> set[str]:
        return self.model.excluded()
