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

A save takes a snapshot of the counts under the model's lock and does the
rest -- reading the file if another copy wrote it since, merging, turning
the counts into text, writing -- without holding it, so
``LearnedWordsSaver`` runs it on a thread of its own while the user types
on: near ``MAX_WORDS`` a whole save takes long enough to freeze the typing
when it ran on the UI thread (benchmarks/learned_words_save.py).  The
snapshot copies the three tables, not their rows: a row (a word's
followers, its written forms) is shared until the model next changes it,
which then copies that row alone (copy on write), so the model's lock is
held for three dictionary copies, not a copy of every row (the benchmark
prints both).  The text is made by the JSON module's C encoder a few
hundred rows at a time, so the saving thread lets go of the interpreter
between two pieces, where one call over the whole file would keep it for as
long as the call takes.  A file this copy wrote itself, and nobody replaced
since, is not read back for the merge (that read, one C call of the JSON
parser, still holds the interpreter while it parses).  What is learned
during a save waits for the next one.

How a word is shown (the strip, the learned-words list): the way the user
writes it inside a sentence ("Zanzibar", "iPhone", "london" too where the
model writes "London"); a capital at a sentence start says nothing, so a
word only ever typed there ("I" at the start of a sentence) is shown as
the loaded model writes it (``PersonalModel.known_form``, which the
predictor's worker sets: "I", "London"), and in lowercase where the model
does not know it.

``export_words`` and ``import_words`` carry the learned words to another
computer: a JSON file of the format ``keyboard-learned-words`` (the counts,
the written forms and the blocked words; docs/CONTRACTS.md), written
atomically; an import adds its counts to the model's, and refuses a file
that is not one, or too large, in one sentence (``LearnedWordsFileError``).

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
import json
import logging
import os
import threading
import time
from bisect import bisect_left
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Callable

from .engine import jsonfile
from .engine.components import Candidate, Candidates, Component, Cursor
from .engine.mixture import MixtureWeights
from .engine.tokenizer import BOS, EMAIL, NUM, PUNCTUATION, URL, Context, Tokenizer
from .storage import atomic_write_text, locked, set_aside

log = logging.getLogger(__name__)

PERSONAL_FORMAT = "keyboard-personal-counts"
PERSONAL_VERSION = 1
EXPORT_FORMAT = "keyboard-learned-words"  # what Export... writes (docs/CONTRACTS.md)
EXPORT_VERSION = 1
MAX_IMPORT_BYTES = 64 * 1024**2  # a full export is a few MB; more is not ours
_VERSIONS = {PERSONAL_FORMAT: PERSONAL_VERSION, EXPORT_FORMAT: EXPORT_VERSION}
MAX_WORDS = 50_000  # the cap: beyond it, the words seen once go, then the least counted
PRUNE_ROOM = 0.02  # a prune leaves this share of MAX_WORDS free (``_kept_by_prune``)
MAX_WORD_LENGTH = 40  # longer "words" are pasted junk, not vocabulary
MAX_COUNT = 10**9  # no one types a word this often: a larger count is damage


class LearnedWordsFileError(ValueError):
    """A file given to ``import_words`` that cannot be used: one sentence naming it."""


@dataclass(frozen=True)
class Imported:
    """What an import added: the words it counted, how many of them were new here,
    the words it blocked that were not blocked before, and how many learned words
    (here or imported) were dropped to stay within ``MAX_WORDS``."""

    words: int
    new_words: int
    blocked: int
    dropped: int = 0


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
        self._save_lock = threading.Lock()  # one save at a time, whichever thread asks
        self._base_shared = False  # a save in progress reads ``_base``: copy before changing it
        self._clears = 0  # ``clear`` calls: a save that began before one must not undo it
        self._file_seen: tuple[int, ...] | None = None  # the file's identity when last read or written
        # Copy on write: the rows (``bigrams[p]``, ``forms[t]``) a snapshot may share are
        # copied before they change; these hold the keys of rows copied since the last
        # snapshot (None: no snapshot shares any row).
        self._own_pairs: set[str] | None = None
        self._own_forms: set[str] | None = None
        #: How the loaded model writes a token it knows ("I", "London"), or None: the form
        #: shown for a word the user typed only where a capital says nothing.  Set by the
        #: predictor's worker when a model loads; called under this model's lock.
        self.known_form: Callable[[str], str | None] | None = None

    # --- learning -------------------------------------------------------
    @_locked
    def observe(self, previous: str, word: str, *, initial: bool = False) -> bool:
        """Count ``word`` (as written) after the token ``previous``.

        ``initial``: the word starts a sentence, so its capital says nothing
        about how the user writes it.  Returns False if the word was ignored.
        """
        token = word.lower()
        if not _is_word(token) or (len(token) == 1 and token not in _ONE_LETTER_WORDS):
            return False  # (a letter alone is an initial's or an abbreviation's: "P.S." taught "P" and "s", H77)
        self.hidden.discard(token)
        if token not in self.unigrams:
            self._sorted = None
        self.unigrams[token] = self.unigrams.get(token, 0) + 1
        self.total += 1
        previous = previous.lower() if previous else BOS
        if _is_context(previous):  # (the file keeps pairs only after what the tokenizer gives)
            followers = self._row(self.bigrams, self._own_pairs, previous)
            followers[token] = followers.get(token, 0) + 1
        if not initial and (word != token or token in self.forms or self._model_writes_otherwise(token)):
            # the lowercase form competes with the others (and with the model's: "london"
            # where the model writes "London")
            forms = self._row(self.forms, self._own_forms, token)
            forms[word] = forms.get(word, 0) + 1
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
        if self._drop_followers({token}):
            found = True
        self.forms.pop(token, None)
        self.hidden.add(token)
        self._sorted = None
        if self._base_shared:  # a save in progress is reading it (its rows are never changed)
            self._base, self._base_shared = self._base.shallow(), False
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
        self._own_pairs = self._own_forms = None  # no snapshot shares the new rows
        self.blocked, self.hidden = set(), set()
        self.total = 0
        self._sorted = None
        self._base, self._forgotten, self._cleared = _Counts(), set(), True
        self._base_shared = False
        self._clears += 1
        self.changes = changes + 1

    @_locked
    def excluded(self) -> set[str]:
        """The tokens never to show: blocked, and forgotten this session."""
        return self.blocked | self.hidden

    def knows(self, token: str) -> bool:
        return token.lower() in self.unigrams

    def _model_writes_otherwise(self, token: str) -> bool:
        known = self.known_form(token) if self.known_form is not None else None
        return known is not None and known != token

    @staticmethod
    def _row(table: dict[str, dict[str, int]], own: set[str] | None, key: str) -> dict[str, int]:
        """``table[key]`` to change in place (made if missing): copied first if a
        snapshot may share it (``own`` lists the rows copied since the snapshot)."""
        row = table.get(key)
        if row is None:
            row = table[key] = {}
        elif own is not None and key not in own:
            row = table[key] = dict(row)
        if own is not None:
            own.add(key)
        return row

    def __len__(self) -> int:
        return len(self.unigrams)

    def _prune(self) -> int:
        """Over ``MAX_WORDS``: drop the words seen once and, if more than
        ``_kept_by_prune()`` remain, every word but that many most counted (ties by
        word), with their rows and written forms, in one pass; the number dropped.
        The room left means the next prune is that many new words away, not one
        (an import can bring many words counted more than once)."""
        keep = _kept_by_prune()
        gone = {t for t, c in self.unigrams.items() if c <= 1}
        if len(self.unigrams) - len(gone) > keep:
            gone = _beyond_the_most_counted(self.unigrams, keep)
        for token in gone:
            self.total -= self.unigrams.pop(token)
            self.forms.pop(token, None)
            self.bigrams.pop(token, None)
        if gone:
            self._drop_followers(gone)
        self._sorted = None
        return len(gone)

    def _drop_followers(self, tokens: set[str]) -> bool:
        """Remove ``tokens`` from every row of followers (a row left empty goes); True if
        any was there.  A row that holds one is replaced, never changed in place."""
        found = False
        (single,) = tokens if len(tokens) == 1 else (None,)
        for previous, followers in list(self.bigrams.items()):
            if single not in followers if single is not None else tokens.isdisjoint(followers):
                continue
            found = True
            kept = {t: c for t, c in followers.items() if t not in tokens}
            if kept:
                self.bigrams[previous] = kept
                if self._own_pairs is not None:
                    self._own_pairs.add(previous)
            else:
                del self.bigrams[previous]
        return found

    # --- predicting -----------------------------------------------------
    @_locked
    def display(self, token: str) -> str:
        """The user's most frequent written form of ``token``; without one, the loaded
        model's (``known_form``), else the token."""
        forms = self.forms.get(token)
        if not forms:
            known = self.known_form(token) if self.known_form is not None else None
            return known if known and known.lower() == token else token
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

    def export_words(self, path: str | os.PathLike) -> int:
        """Write the learned words (counts, word pairs, written forms) and the blocked
        words to ``path`` as ``EXPORT_FORMAT``, atomically; the number of words written.
        The text is made outside the lock (the snapshot of a save).  ``OSError`` if the
        file cannot be written (a file already there is then whole)."""
        with self._lock:
            counts = self._shared_copy()
        exported = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        atomic_write_text(path, counts.to_json(EXPORT_FORMAT, extra={"exported": exported}))
        return len(counts.unigrams)

    def import_words(self, path: str | os.PathLike) -> Imported:
        """Add the counts and blocked words of an exported file (or of the app's own file
        of learned words, copied from another computer) to these.  A file that is not
        one, is damaged, of a newer version or larger than ``MAX_IMPORT_BYTES`` is a
        ``LearnedWordsFileError`` (one sentence naming it), and nothing changes; single
        unusable entries are dropped, as at a load."""
        path = Path(path)
        try:
            counts = _Counts.from_dict(jsonfile.load(path, max_bytes=MAX_IMPORT_BYTES),
                                       formats=(EXPORT_FORMAT, PERSONAL_FORMAT))
        except ValueError as e:  # jsonfile.JSONFileError too
            raise LearnedWordsFileError(f"{path} cannot be imported: {e}.") from None
        except OSError as e:
            raise LearnedWordsFileError(f"{path} cannot be read ({e.strerror or e}).") from None
        with self._lock:
            return self._add_counts(counts)

    def _add_counts(self, counts: "_Counts") -> Imported:
        new = sum(1 for token in counts.unigrams if token not in self.unigrams)
        if new:
            self._sorted = None
        _add_signed(self.unigrams, counts.unigrams)
        for outer, own, table in ((self.bigrams, self._own_pairs, counts.bigrams),
                                  (self.forms, self._own_forms, counts.forms)):
            for key, row in table.items():
                _add_signed(self._row(outer, own, key), row)
        blocked = counts.blocked - self.blocked
        self.blocked |= counts.blocked
        self.hidden -= counts.unigrams.keys()
        self.total = sum(self.unigrams.values())
        dropped = self._prune() if len(self.unigrams) > MAX_WORDS else 0
        self.changes += 1
        return Imported(len(counts.unigrams), new, len(blocked), dropped)

    @classmethod
    def from_dict(cls, data: Any) -> "PersonalModel":
        """The counts in parsed JSON.  ``ValueError`` (a clause: "it is ...") if the
        file is not ours; single unusable entries are dropped, with a log warning."""
        counts = _Counts.from_dict(data)
        model = cls()
        model._set_counts(counts)
        if len(model.unigrams) > MAX_WORDS:
            model._prune()
        model._base = model._shared_copy()
        return model

    def save(self, path: str | os.PathLike) -> int:
        """Write the counts, merged with what another copy of the app saved meanwhile;
        the ``changes`` count the file now holds (later changes wait for the next save).

        Any thread may call it (``LearnedWordsSaver`` does, off the UI thread), one save
        at a time: the model's lock is held only to copy the counts and, at the end, to
        take in what other copies added, so learning and predicting go on meanwhile.
        ``OSError`` if the file cannot be written (the old file is then whole) or a
        damaged one cannot be moved aside.
        """
        path = Path(path)
        with self._save_lock:
            with self._lock:
                taken = self._take_snapshot()
            try:
                with locked(path):
                    merged = self._merged(taken, path)
                    atomic_write_text(path, merged.to_json())
                    seen = _identity(path)
            except BaseException:
                with self._lock:  # not saved: the next save tries again with all of it
                    self._forgotten |= taken.forgotten
                    self._cleared = self._cleared or taken.cleared
                    self._base_shared = False
                raise
            # Outside the model's lock: what other copies changed, usually nothing.
            others = None if merged is taken.mine else _Difference.between(merged, taken.mine)
            with self._lock:
                self._took_in(taken, merged, others, seen)
            return taken.changes

    def _take_snapshot(self) -> "_Snapshot":
        """This copy's counts (``_shared_copy``: the save works on them unlocked), and
        what the merge needs; the forgotten words and the clear move to the snapshot."""
        taken = _Snapshot(mine=self._shared_copy(), base=self._base, forgotten=self._forgotten,
                          cleared=self._cleared, clears=self._clears, changes=self.changes,
                          file_seen=self._file_seen)
        self._forgotten, self._cleared, self._base_shared = set(), False, True
        return taken

    def _shared_copy(self) -> "_Counts":
        """The counts as they are now, for reading without the lock: the tables copied,
        their rows shared until the model next changes one (copy on write, ``_row``).
        Under the lock; the cost of three dictionary copies."""
        self._own_pairs, self._own_forms = set(), set()
        return _Counts.of(self).shallow()

    @staticmethod
    def _merged(taken: "_Snapshot", path: Path) -> "_Counts":
        """What the file is to hold: its counts now plus what this copy learned since it
        last read or wrote it (``mine - base``).  Under the file lock, unlocked model.
        A file unchanged since then holds ``base`` (less the words forgotten since), so
        it is not read again: the sum is this copy's counts."""
        unchanged = taken.file_seen is not None and _identity(path) == taken.file_seen
        on_disk = None if taken.cleared or unchanged else _read_for_merge(path)
        if on_disk is None:  # no file, cleared, or ours: ours are all there is
            return taken.mine
        for token in taken.forgotten:
            on_disk.drop(token)
        on_disk.add_difference(taken.mine, taken.base)
        on_disk.prune(MAX_WORDS)
        return on_disk

    def _took_in(self, taken: "_Snapshot", merged: "_Counts", others: "_Difference | None",
                 seen: tuple[int, ...] | None) -> None:
        """After a save: the file holds ``merged``.  The counts here keep what was learned
        during the save and take in what other copies added (``others``), except words
        forgotten meanwhile, which the next save drops from the file too."""
        self._base_shared = False
        if self._clears != taken.clears:
            return  # cleared meanwhile: the next save writes this copy's counts alone
        for token in self._forgotten:
            merged.drop(token)
            if others is not None:
                others.drop(token)
        self._base = merged
        self._file_seen = seen
        if others is not None:
            others.apply(self)
            if others.unigrams:
                self._sorted = None
                self.total = sum(self.unigrams.values())

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
            before = _identity(path)
            model = cls.from_dict(jsonfile.load(path))
            if before is not None and _identity(path) == before:  # (not replaced while read)
                model._file_seen = before
            return model, None
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


def _identity(path: Path) -> tuple[int, ...] | None:
    """What tells one version of the file from another: every write replaces it (a new
    inode), and any change moves its change time; None if there is no file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class LearnedWordsSaver:
    """Saves a ``PersonalModel`` to ``path`` on a thread of its own, one save at a time.

    ``request`` returns at once (the app calls it a few seconds after the user learned
    something): the save copies the counts when it starts, so requests made while one
    waits to start are that one save, and one made during a save is the next.  A failed
    save goes to ``on_failed(error)``, called on the saving thread; its changes stay
    unsaved and are tried again.  ``save_now`` waits for the save under way, then saves
    on the calling thread and raises its ``OSError``: for closing and clearing, so the
    last save is complete before the program ends.  Nothing here imports Qt.
    """

    def __init__(self, model: PersonalModel, path: str | os.PathLike, *,
                 on_failed: Callable[[OSError], None] | None = None) -> None:
        self.model = model
        self.path = Path(path)
        self.saved_changes = model.changes  # the model's ``changes`` the file holds
        self._on_failed = on_failed
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="learned-words-save")
        self._lock = threading.Lock()
        self._waiting: Future | None = None  # requested, not started
        self._last: Future | None = None
        self._closed = False

    def unsaved(self) -> bool:
        return self.model.changes != self.saved_changes

    def busy(self) -> bool:
        """A save is under way or waiting to start."""
        last = self._last
        return last is not None and not last.done()

    def request(self) -> None:
        """Save soon, off the calling thread (nothing once closed: ``save_now`` is the last)."""
        with self._lock:
            if self._waiting is None and not self._closed:
                self._waiting = self._last = self._executor.submit(self._run)

    def _run(self) -> None:
        with self._lock:
            self._waiting = None
        if not self.unsaved():
            return
        try:
            self._save()
        except OSError as e:
            log.warning("saving %s failed: %s", self.path, e)
            if self._on_failed is not None:
                self._on_failed(e)

    def _save(self) -> None:
        self.saved_changes = self.model.save(self.path)

    def wait(self) -> None:
        """Until no save is under way or waiting (a failure went to ``on_failed``)."""
        last = self._last
        if last is not None:
            last.result()

    def save_now(self) -> None:
        """Wait for the save under way, then save what is still unsaved, here."""
        self.wait()
        if self.unsaved():
            self._save()

    def close(self) -> None:
        """Wait for the save under way and stop the thread (idempotent)."""
        with self._lock:
            self._closed = True
        self.wait()
        self._executor.shutdown(wait=True)


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
    """The saved part of a ``PersonalModel``: plain dicts, for reading, merging and writing.

    Its rows (a word's followers, its written forms) may be shared with the model
    and with other ``_Counts`` (``shallow``): they are replaced, never changed in
    place, except in counts read from a file (``add_difference``, ``prune``), which
    share nothing.
    """

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

    def shallow(self) -> "_Counts":
        """The tables copied, the rows shared (see the class docstring)."""
        counts = _Counts()
        counts.unigrams, counts.bigrams = dict(self.unigrams), dict(self.bigrams)
        counts.forms, counts.blocked = dict(self.forms), set(self.blocked)
        return counts

    def to_dict(self, format: str = PERSONAL_FORMAT) -> dict[str, Any]:
        return {
            "format": format,
            "format_version": _VERSIONS[format],
            "unigrams": self.unigrams,
            "bigrams": self.bigrams,
            "forms": self.forms,
            "blocked": sorted(self.blocked),
        }

    def to_json(self, format: str = PERSONAL_FORMAT, *, extra: dict[str, Any] | None = None) -> str:
        """``to_dict`` as JSON text, a row a line, made by the C encoder ``_ROWS_A_PIECE``
        rows at a time (module docstring: a saving thread lets the interpreter go between
        two pieces); the tables in their own order, each row's keys sorted."""
        encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
        head = {"format": format, "format_version": _VERSIONS[format], **(extra or {})}
        parts = [encode(head)[:-1]]
        for name, table in (("unigrams", self.unigrams), ("bigrams", self.bigrams), ("forms", self.forms)):
            # (pieces taken from one iterator: a list of every item would be thousands of
            # tuples that live through the save, and bring the collector's full passes on)
            items = iter(table.items())
            separator = ',"' if name == "unigrams" else '},"'  # between two entries (words hold no quote)
            pieces = []
            while piece := dict(islice(items, _ROWS_A_PIECE)):
                pieces.append(encode(piece)[1:-1].replace(separator, separator[:-1] + '\n"'))
            parts.append(f',\n"{name}":{{\n' + ",\n".join(pieces) + "\n}")
        parts.append(',\n"blocked":' + encode(sorted(self.blocked)) + "}\n")
        return "".join(parts)

    @classmethod
    def from_dict(cls, data: Any, formats: tuple[str, ...] = (PERSONAL_FORMAT,)) -> "_Counts":
        if not isinstance(data, dict) or data.get("format") not in formats:
            raise ValueError("it is not a file of learned words")
        version = data.get("format_version")
        if type(version) is not int or version != _VERSIONS[data["format"]]:  # not True, not 1.0
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
        # a table left out is an empty one (a hand-made file may hold only words)
        counts.unigrams = table(data.get("unigrams", {}), _is_word)
        for previous, followers in data.get("bigrams", {}).items():
            if _is_context(previous):
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
        """Everything about ``token`` (the user asked to forget it); the rows that hold
        it are replaced (they may be shared)."""
        self.unigrams.pop(token, None)
        self.bigrams.pop(token, None)
        for previous, followers in list(self.bigrams.items()):
            if token in followers:
                kept = {t: c for t, c in followers.items() if t != token}
                if kept:
                    self.bigrams[previous] = kept
                else:
                    del self.bigrams[previous]
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


@dataclass
class _Snapshot:
    """A save's copy of the model, taken under its lock."""

    mine: _Counts  # the counts, copied
    base: _Counts  # what the file held as far as this copy knows (not changed while shared)
    forgotten: set[str]  # forgotten since the last save
    cleared: bool  # everything cleared since the last save
    clears: int
    changes: int
    file_seen: tuple[int, ...] | None


class _Difference(_Counts):
    """What other copies changed: ``merged - mine``, counts that may be negative (``drop``
    as the counts')."""

    def __init__(self) -> None:
        super().__init__()
        self.unblocked: set[str] = set()

    @classmethod
    def between(cls, merged: _Counts, mine: _Counts) -> "_Difference":
        diff = cls()
        diff.unigrams = _signed(merged.unigrams, mine.unigrams)
        for outer, new, old in ((diff.bigrams, merged.bigrams, mine.bigrams),
                                (diff.forms, merged.forms, mine.forms)):
            for key in new.keys() | old.keys():
                if changed := _signed(new.get(key, {}), old.get(key, {})):
                    outer[key] = changed
        diff.blocked, diff.unblocked = merged.blocked - mine.blocked, mine.blocked - merged.blocked
        return diff

    def apply(self, model: PersonalModel) -> None:
        """Add to ``model``'s counts (under its lock; rows a snapshot shares are copied first)."""
        _add_signed(model.unigrams, self.unigrams)
        for outer, own, changes in ((model.bigrams, model._own_pairs, self.bigrams),
                                    (model.forms, model._own_forms, self.forms)):
            for key, changed in changes.items():
                inner = model._row(outer, own, key)
                _add_signed(inner, changed)
                if not inner:
                    del outer[key]
        model.blocked = (model.blocked - self.unblocked) | self.blocked


_ROWS_A_PIECE = 512  # rows the C encoder writes in one call (well under a millisecond)


def _signed(new: dict[str, int], old: dict[str, int]) -> dict[str, int]:
    return {key: delta for key in new.keys() | old.keys() if (delta := new.get(key, 0) - old.get(key, 0))}


def _add_signed(target: dict[str, int], changes: dict[str, int]) -> None:
    for key, delta in changes.items():
        value = min(target.get(key, 0) + delta, MAX_COUNT)
        if value > 0:
            target[key] = value
        else:
            target.pop(key, None)


def _add_difference(target: dict[str, int], mine: dict[str, int], base: dict[str, int]) -> None:
    for key in mine.keys() | base.keys():
        delta = mine.get(key, 0) - base.get(key, 0)
        if delta:
            value = min(target.get(key, 0) + delta, MAX_COUNT)
            if value > 0:
                target[key] = value
            else:
                target.pop(key, None)


def _kept_by_prune() -> int:
    """The words a prune keeps at most: ``MAX_WORDS`` less ``PRUNE_ROOM`` of it (1 at least)."""
    return MAX_WORDS - max(1, int(MAX_WORDS * PRUNE_ROOM))


def _beyond_the_most_counted(counts: dict[str, int], keep: int) -> set[str]:
    """The words not among the ``keep`` most counted (ties by word, so it does not depend
    on the table's order): the count where the kept ones end, then a sort of that count's
    words alone (a sort of every word by a key is several times slower)."""
    sizes = Counter(counts.values())
    room = keep
    for least in sorted(sizes, reverse=True):  # the least count kept
        if sizes[least] >= room:
            break
        room -= sizes[least]
    else:
        return set()
    ties = sorted(t for t, c in counts.items() if c == least)
    return {t for t, c in counts.items() if c < least}.union(ties[room:])


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_COUNT


#: What a learned pair may follow besides a word: the tokens the tokenizer gives before
#: the cursor (a text's or paragraph's start, a punctuation mark, a number, ...).
CONTEXT_TOKENS = frozenset((BOS, NUM, URL, EMAIL, *PUNCTUATION))


def _is_context(token: str) -> bool:
    return token in CONTEXT_TOKENS or _is_word(token)


_ONE_LETTER_WORDS = frozenset("ai")  # the letters learned alone: English's two words of one letter


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
