"""The document in the editor: new, open, save, save as, encodings, recent files.

``Documents`` owns the file behind the editor's text (its path, the
encoding it was read with, whether the user agreed to write it back that
way), asks about unsaved changes, and keeps the recent-files list and the
folder the file dialogs start in (in the settings).  The window only wires
it to its menus, title and status bar (``changed``, ``opened``,
``message``).

``decode`` reads UTF-8 (with or without a byte-order mark), UTF-16 with a
byte-order mark, and otherwise Latin-1, which any byte sequence is; a file
that is not text at all (NUL bytes, or mostly control characters: an image,
an archive, a program) is refused with ``NotTextError`` instead of being
shown as gibberish.  A file read as anything but UTF-8 is written back the
same way only when the user says so (``ask_encoding``): an editor that
silently converts a file changes it for every other program that reads it.
Once the text holds a character that encoding cannot, the save asks again,
offering UTF-8 (or Cancel), and a yes holds for the document from then on.

Save As adds ".txt" to a name typed with no extension while the text files
filter is chosen (``with_text_suffix``), and asks before that replaces a file.

``new_file_mode`` is what ``open(path, "w")`` would give a new file under
the user's umask (0644 with the common 022), not the 0600 of a temporary
file.

A file name that is not valid UTF-8 (a Latin-1 "caf\xe9.txt") is opened,
saved and remembered by its own bytes (Python holds them as lone surrogates,
which ``settings`` stores as JSON escapes); where the name is shown (the
title, the boxes, the status bar, the recent files) the undecodable bytes
read as U+FFFD (``shown``): Qt would silently drop them.

The texts a signal's close kept (``ui.app.keep_unsaved_text``) are offered
at the next start (``MainWindow``); ``adopt_interrupted_keeps`` adds those
whose keep was itself killed.  A kept text is offered by one copy of the app
at a time (``take_kept_text``: it holds the file, ``storage.hold``), and
``Documents.restore`` puts it in the editor as the unsaved document it was:
the title says so, closing asks, and Save asks where.  The kept file is
removed once the text is saved or the user discards it, never before: killed
again meanwhile, the app keeps the text in the same file (one copy, offered
again), and a crash leaves it there to be offered again.

A text kept from a file ("/home/u/notes/todo.md") has that path beside it, in
"KEPT.txt.origin.json" (``write_origin``, ``KeptText.origin``): restored, the
document is named "todo.md" and Save As starts at that folder and name, but
is never written there without the file dialog (the file may have changed
since the text was kept, so the user chooses, and the dialog asks before
replacing it).  ``tidy_kept_folder`` removes what earlier versions and
removed texts left in the folder that holds nothing of the user's: an empty
``opened/`` folder, a path whose kept text is gone.  An ``opened/`` folder with
files in it holds texts those versions saved there: they are never moved or
removed, and the start says once where they are (``old_opened_texts``).

While the text has unsaved changes a copy of it is written to the same folder
for a crash (``write_recovery``): 2 s after typing pauses, at least every 20 s
while it goes on, only when it changed, atomically (``storage``), as
"NAME DATE.txt" with its record beside it naming this process
(``write_origin``'s ``writer``; a restored kept text's copy is its kept file).
Only taking the text from the editor is done on the GUI thread; a thread of the
document's own encodes, writes and fsyncs it (``RecoveryWriter``), the newest text
replacing one that waits, never an older over a newer; removing the copy first
stops a write under way (none lands after), and quitting lets one finish, for a
few seconds at most (``finish_recovery_writes``).
While that process runs the copy is never offered (``written_by_a_live_copy``);
once it is gone the next start offers it as recovered (``KeptText.recovered``).
It is removed when the text is saved, discarded or replaced, or the window
closed as the user chose (``discard_recovery``); a signal's keep takes it over
(``recovery_path``, ``recovery_kept``).
"""

from __future__ import annotations

import atexit
import codecs
import errno
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox, QPlainTextEdit, QWidget

from .. import paths
from ..engine.staging import atomic_file, fsync_dir, process_alive, umask_mode
from ..settings import Settings
from ..storage import (Hold, atomic_write_bytes, atomic_write_json, hold, json_text, leftover_temps,
                       remove_stale_temps)
from ..text_encoding import NotTextError, decode  # noqa: F401  (decode: the editor's reading of a file)
from . import boxes

log = logging.getLogger(__name__)

TEXT_FILES = "Text files (*.txt *.md *.text)"
TEXT_FILTER = f"{TEXT_FILES};;All files (*)"
#: Added to a name typed with no extension under the text files filter (``with_text_suffix``).
TEXT_SUFFIX = ".txt"
UNTITLED = "Untitled"
UTF8 = ("utf-8", "utf-8-sig")
_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (with a byte-order mark)", "utf-16": "UTF-16",
           "utf-16-le": "UTF-16 (little-endian, no byte-order mark)",
           "utf-16-be": "UTF-16 (big-endian, no byte-order mark)", "latin-1": "Latin-1 (ISO 8859-1)"}
#: Added to the name of a kept text whose keep was killed (``adopt_interrupted_keeps``).
POSSIBLY_INCOMPLETE = " (possibly incomplete)"
#: Beside a kept text "NAME.txt", the path of the file it was kept from: "NAME.txt.origin.json".
ORIGIN_SUFFIX = ".origin.json"
#: Where versions before H57's fix moved a kept text they opened (``tidy_kept_folder``).
OLD_OPENED_FOLDER = "opened"
#: What ``keep_unsaved_text``, ``unused_name`` and ``adopt_interrupted_keeps`` add to the name of
#: the document a text was kept from ("letter 2026-12-02 10-00-00 2 (possibly incomplete)").
#: The copy of the unsaved text kept for a crash (``Documents.write_recovery``) is written this
#: long after typing pauses, and at least this often while typing goes on without a pause.
RECOVERY_PAUSE_MS = 2_000
RECOVERY_LIMIT_MS = 20_000
#: The copy is encoded and written this many characters at a time (``write_copy``).
RECOVERY_PIECE_CHARS = 1 << 18
#: Quitting waits this long at most for a copy being written (``finish_recovery_writes``).
RECOVERY_QUIT_WAIT_S = 5.0
_KEPT_STEM = re.compile(r"^(?P<name>.+?) \d{4}-\d{2}-\d{2} \d{2}-\d{2}-\d{2}(?: \d+)?"
                        r"(?: \(possibly incomplete\)(?: \d+)?)?$")


def label(encoding: str) -> str:
    return _LABELS.get(encoding, encoding)


def shown(name: str | os.PathLike) -> str:
    """A file name or path as the user reads it: a byte that is not UTF-8 (a lone surrogate
    from ``os.fsdecode``) as U+FFFD.  For showing only; the file is opened by ``name``."""
    try:
        return os.fsencode(name).decode("utf-8", "replace")
    except UnicodeError:  # a surrogate no file name can hold (a crafted settings file's "\ud800")
        return os.fspath(name).encode("utf-8", "replace").decode("utf-8")




def unfit_character(text: str, encoding: str) -> str | None:
    """The first character of ``text`` that ``encoding`` cannot hold; None if all fit."""
    try:
        text.encode(encoding)
    except UnicodeEncodeError as e:
        return text[e.start]
    return None


def with_text_suffix(path: Path, chosen_filter: str) -> Path:
    """``path`` with ".txt" added when the name was typed with no extension under the text
    files filter, as most editors do: saved as a bare "notes", the file was then hidden by
    Open's own filter.  A name with a dot anywhere ("notes.", ".plan", "a.b") is left as
    typed, and so is one that exists (the file dialog asked about replacing it by that name)."""
    if chosen_filter != TEXT_FILES or "." in path.name or path.exists():
        return path
    return path.with_name(path.name + TEXT_SUFFIX)


def new_file_mode() -> int:
    """The mode a new file gets under the process's umask (0o666 less the umask)."""
    return umask_mode(0o666)


def ask_encoding(parent: QWidget, name: str, encoding: str, keeps_text: bool,
                 unfit: str | None = None) -> str | None:
    """Ask how to save a file read as ``encoding``: that encoding, UTF-8, or not at all (None).

    When the text no longer fits ``encoding`` (``keeps_text`` False; ``unfit`` is the first
    character that does not) only UTF-8 and Cancel are offered, Convert the default button,
    so Enter saves and Escape keeps the text unsaved in the editor."""
    box = QMessageBox(parent)
    box.setObjectName("encodingBox")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Keep the File's Encoding?")
    box.setTextFormat(Qt.TextFormat.PlainText)  # the file's name as it is, never markup (``boxes``)
    what = label(encoding)
    short = what.split(" ")[0]  # "Latin-1"
    if keeps_text:
        box.setText(f"“{name}” was read as {what}, not UTF-8. Keep it in {short}, as it was, "
                    "or convert it to UTF-8?")
    else:
        example = f", such as “{unfit}”" if unfit else ""
        box.setText(f"“{name}” was read as {what}, but the text now has characters {short} cannot "
                    f"hold{example}. Save it as UTF-8 instead?")
        box.setInformativeText("Cancel saves nothing; the text stays here as it is.")
    keep = box.addButton(f"&Keep {short}", QMessageBox.ButtonRole.AcceptRole)
    keep.setObjectName("keepEncoding")
    keep.setEnabled(keeps_text)
    keep.setVisible(keeps_text)
    convert = box.addButton("Convert to &UTF-8", QMessageBox.ButtonRole.AcceptRole)
    convert.setObjectName("convertToUtf8")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep if keeps_text else convert)
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    if clicked is keep:
        return encoding
    if clicked is convert:
        return "utf-8"
    return None


def unused_name(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/STEM SUFFIX``, or with " 2", " 3"… added when that is taken."""
    path = folder / f"{stem}{suffix}"
    number = 1
    while os.path.lexists(path):
        number += 1
        path = folder / f"{stem} {number}{suffix}"
    return path


def origin_file(kept: Path) -> Path:
    """Where the path of the file ``kept`` was kept from is written (``ORIGIN_SUFFIX``)."""
    return kept.with_name(kept.name + ORIGIN_SUFFIX)


def write_origin(kept: Path, origin: Path | None, encoding: str = "utf-8", *,
                 writer: tuple[int, float] | None = None) -> None:
    """Write beside ``kept`` the path of the file its text was kept from and the encoding
    that file was read in (atomically, after the text: a kill between leaves the text,
    restored as a document with no file), or remove a stale one where there is none.
    ``writer``: (process id, when the record was made) of the process that keeps ``kept``
    up to date as the user types (``Documents.write_recovery``): while that process lives
    the text is its own, never offered; once it is gone, the text is offered as recovered
    (``read_writer``).  Raises ``OSError``."""
    record = origin_file(kept)
    if origin is None and writer is None:
        try:
            os.unlink(record)
        except FileNotFoundError:
            pass
        return
    atomic_write_json(record, _record_data(origin, encoding, writer))


def _record_data(origin: Path | None, encoding: str, writer: tuple[int, float] | None) -> dict:
    """What ``write_origin`` writes beside a kept text."""
    data: dict = {"encoding": encoding}
    if origin is not None:
        data["path"] = os.fspath(Path(origin).absolute())
    if writer is not None:
        data["writer"] = {"pid": writer[0], "since": writer[1]}
    return data


def _read_record(kept: Path) -> dict | None:
    """The record beside ``kept`` (``write_origin``); None where there is none or it cannot
    be read.  Never raises."""
    try:
        record = json.loads(origin_file(kept).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.info("the record beside %s cannot be read (%s); restoring it as a new document", kept, e)
        return None
    return record if isinstance(record, dict) else None


def read_writer(kept: Path) -> tuple[int, float] | None:
    """The process that keeps ``kept`` up to date as the user types and when it said so
    (``write_origin``'s ``writer``); None for a text kept once and for all (a signal's
    keep) or a record that cannot be read.  Never raises."""
    writer = (_read_record(kept) or {}).get("writer")
    if not isinstance(writer, dict):
        return None
    pid, since = writer.get("pid"), writer.get("since")
    if (not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0
            or not isinstance(since, (int, float)) or isinstance(since, bool) or since != since):
        return None
    return pid, float(since)


def written_by_a_live_copy(kept: Path) -> bool:
    """``kept`` is the recovery copy of a copy of the app that still runs (this one
    included): its text is that copy's, not to be offered.  A process that has the number
    but started after the record was made is another program (``process_alive``'s
    ``since``)."""
    writer = read_writer(kept)
    return writer is not None and process_alive(writer[0], since=writer[1])


def read_origin(kept: Path) -> tuple[Path | None, str]:
    """The file ``kept``'s text was kept from and the encoding it was read in
    (``write_origin``), so that saving the restored text there asks before writing it
    otherwise (a Latin-1 file is not turned into UTF-8 unasked).  (None, "utf-8") where it
    had none, or the record cannot be read (the text is then restored as a document with no
    file); "utf-8" where the record names no codec Python knows.  Never raises."""
    record = _read_record(kept)
    if record is None or ("path" not in record and "writer" in record):
        return None, "utf-8"  # (a recovery copy of a document with no file)
    path = record.get("path")
    if not isinstance(path, str) or not path or "\0" in path or not Path(path).is_absolute():
        log.info("the path beside %s is not a file's path; restoring it as a new document", kept)
        return None, "utf-8"
    encoding = record.get("encoding")
    try:
        if not isinstance(encoding, str) or not encoding:
            raise LookupError(encoding)
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    return Path(path), encoding


def kept_name(folder: Path, document_name: str) -> Path:
    """Where a text of the document ``document_name`` is kept: "STEM DATE.txt" in
    ``folder``, unused (the extension dropped; the stem cut to 120 bytes, as a file name
    has 255 at most and the temporary file's name adds some 30)."""
    stem = Path(document_name).stem.encode("utf-8")[:120].decode("utf-8", "ignore") or UNTITLED
    return unused_name(folder, f"{stem} {datetime.now():%Y-%m-%d %H-%M-%S}", ".txt")


def tidy_kept_folder(folder: Path) -> None:
    """Remove what holds nothing of the user's in the kept texts' folder: the ``opened/``
    folder versions before H57's fix moved restored texts into, when it is empty (one with
    files in it is the user's: those texts were saved there, and are left where they are),
    and a kept text's origin record (``ORIGIN_SUFFIX``) whose text is gone.  Never raises:
    this is housekeeping before a question."""
    try:
        os.rmdir(folder / OLD_OPENED_FOLDER)  # only ever an empty one
        log.info("removed the empty folder %s left by an earlier version", folder / OLD_OPENED_FOLDER)
    except OSError:
        pass  # not there, not empty, or not a folder: left as it is
    try:
        records = [entry for entry in os.scandir(folder) if entry.name.endswith(ORIGIN_SUFFIX)]
    except OSError:
        return
    for entry in records:
        text = folder / entry.name[: -len(ORIGIN_SUFFIX)]
        try:
            if entry.is_file(follow_symlinks=False) and not os.path.lexists(text):
                os.unlink(entry.path)
        except OSError as e:
            log.debug("could not remove %s: %s", entry.path, e)


def old_opened_texts(folder: Path) -> list[str]:
    """The names of the files in the ``opened/`` folder of the kept texts' ``folder``: texts
    versions before H57's fix moved there when the user opened them, and saved there on
    Ctrl+S without asking, so the user may believe them saved elsewhere.  Empty where there
    is no such folder or it cannot be read.  Never raises: this is a start-up question."""
    try:
        return sorted(entry.name for entry in os.scandir(folder / OLD_OPENED_FOLDER)
                      if entry.is_file(follow_symlinks=False))
    except OSError:
        return []


def _copy_origin(kept: Path, adopted: Path) -> None:
    """A restored text's keep, killed, adopted as ``adopted``: the path of its file goes
    with it (``kept`` keeps its own).  Never raises."""
    origin, encoding = read_origin(kept)
    if origin is None:
        return
    try:
        write_origin(adopted, origin, encoding)
    except OSError as e:
        log.debug("could not keep the path of %s beside %s: %s", kept, adopted, e)


def adopt_interrupted_keeps(folder: Path) -> list[Path]:
    """Offer the text of a keep that was itself killed; the paths it now has.

    ``ui.app.keep_unsaved_text`` writes through ``storage.atomic_write_bytes``: a temporary
    ``.NAME.PID.RANDOM.tmp`` in ``folder``, written, flushed and fsynced, then renamed to
    NAME.  A SIGKILL before the rename (systemd's, after its SIGTERM waited too long;
    ``kill`` then ``kill -9``) left the text only there, where nothing offered it.  Such a
    file whose writer is gone (its process ended, or it is older than any write takes) is
    renamed to "STEM (possibly incomplete).txt", beside the kept texts, which the start
    offers as any other: whether it is whole cannot be known (a kill during the write leaves
    what was written so far, and neither the name nor the text says how much was meant),
    but it may be the only copy of the text, so it is offered, never deleted, and its name
    says what is known.  An empty one (killed before writing) holds nothing and is removed.
    Never raises: this is housekeeping before a question."""
    adopted: list[Path] = []
    for temp, name in leftover_temps(folder):
        if not name.endswith(".txt"):
            continue
        try:
            if temp.stat().st_size == 0:
                os.unlink(temp)
                continue
            target = unused_name(folder, Path(name).stem + POSSIBLY_INCOMPLETE, ".txt")
            try:
                os.link(temp, target)  # never over a file that appeared meanwhile
                os.unlink(temp)
            except OSError as e:
                if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    raise
                os.rename(temp, target)  # a file system without hard links
            adopted.append(target)
            _copy_origin(folder / name, target)
            log.info("offering %s, left by a keep that was stopped before it finished", target)
        except OSError as e:
            log.debug("could not take over %s: %s", temp, e)
    return adopted


class KeptText:
    """A kept text this copy of the app holds (``storage.hold``): no other copy offers or
    restores it until it is let go (``release``), removed (``remove``), or this process ends."""

    def __init__(self, path: Path, held: Hold) -> None:
        self.path = path
        self._held = held
        #: The file the text was kept from (``read_origin``), None for a text that had none,
        #: and the encoding that file was read in ("utf-8" for a text that had none).
        self.origin, self.origin_encoding = read_origin(path)
        #: When it was last written (seconds since the epoch), for the recovery copy of a copy
        #: of the app that stopped without closing (``Documents.write_recovery``); None for a
        #: text a signal's close kept.
        self.recovered: float | None = None
        if read_writer(path) is not None:
            try:
                self.recovered = path.stat().st_mtime
            except OSError:
                self.recovered = time.time()

    @property
    def document_name(self) -> str:
        """The name of the document the text was kept from ("letter" for "letter 2026-12-02
        10-00-00.txt"; the keep drops the extension): what the restored document is called."""
        match = _KEPT_STEM.match(self.path.stem)
        return match["name"] if match else self.path.stem

    def release(self) -> None:
        """Let another copy (or the next start) offer it (idempotent)."""
        self._held.release()

    def remove(self) -> None:
        """Delete the kept file (the text was saved, or the user discarded it); raises
        ``OSError`` if it cannot be, and lets it go either way."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            self.release()
        try:
            write_origin(self.path, None)
        except OSError as e:  # the text is gone: the next start's tidy_kept_folder removes it
            log.debug("could not remove %s: %s", origin_file(self.path), e)


def take_kept_text(folder: Path) -> tuple[KeptText | None, int]:
    """The newest kept text in ``folder`` that no other copy of the app holds or writes
    (``written_by_a_live_copy``), held by this one, and how many more are there for the
    user (held by none).  (None, 0) when there is none.  Each is held while it is looked at,
    so two copies starting at once never both take the same one; those not taken are let go.
    Never raises: this is a start-up question."""
    try:
        found = [p for p in folder.iterdir() if p.suffix == ".txt" and p.is_file()]
        found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return None, 0
    free = []
    for path in found:
        if written_by_a_live_copy(path):
            continue  # another copy's text as it is typed (or this one's): never offered
        held = hold(path)
        if held is not None:
            free.append(KeptText(path, held))
    if not free:
        return None, 0
    for other in free[1:]:
        other.release()
    return free[0], len(free) - 1


class _Moot(Exception):
    """The write was made moot (the copy removed, or taken over by a signal's keep) before
    its rename: nothing of it may land (``RecoveryWriter.cancel``)."""


@dataclass(frozen=True)
class RecoveryJob:
    """One copy for a crash to write (``Documents.write_recovery``): the text as it was taken
    from the editor, where it goes, and what the record beside it says (``write_origin``)."""

    generation: int  # the writer's count: a higher one was taken later
    path: Path
    text: str
    origin: Path | None
    encoding: str


class WriteGuard:
    """What one write of ``RecoveryWriter`` asks before it goes on: ``check`` between pieces
    of the text (the write stops early once moot), ``hold_renames`` just before its rename
    (``staging.atomic_file``'s ``before_rename``): from there until ``let_renames_go`` no
    ``cancel`` can come between the last check and the rename."""

    def __init__(self, writer: RecoveryWriter, generation: int) -> None:
        self._writer = writer
        self._generation = generation
        self._held = False

    def check(self) -> None:
        if self._writer.moot(self._generation):
            raise _Moot

    def hold_renames(self) -> None:
        self._writer._renames.acquire()
        self._held = True
        self.check()

    def let_renames_go(self) -> None:
        if self._held:
            self._held = False
            self._writer._renames.release()


def write_copy(path: Path, text: str, guard: WriteGuard) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically and fsynced, as ``storage.atomic_write_text``
    does (a temporary file beside it, renamed over it; an existing file's mode kept), a piece
    at a time: each piece's encoding holds the interpreter's lock for well under a
    millisecond, so the GUI thread is never held up by it, and a write made moot stops at the
    next piece (``guard``).  Raises ``OSError`` (or ``UnicodeEncodeError``), or ``_Moot``."""
    remove_stale_temps(path.parent, name=path.name)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = None
    try:
        with atomic_file(path, mode=mode, before_rename=guard.hold_renames) as f:
            for start in range(0, len(text), RECOVERY_PIECE_CHARS):
                guard.check()
                f.write(text[start:start + RECOVERY_PIECE_CHARS].encode("utf-8"))
            guard.check()  # (before the fsync, the slowest part)
    finally:
        guard.let_renames_go()
    fsync_dir(path.parent)


def _why(e: BaseException) -> str:
    return e.strerror if isinstance(e, OSError) and e.strerror else (str(e) or type(e).__name__)


class RecoveryWriter(QObject):
    """Writes the copies for a crash of one editor's text off the GUI thread, one at a time.

    ``submit`` hands it a text taken from the editor; one thread of its own writes it (the
    record beside it first, when it changed: ``write_origin``), then the next.  A text
    submitted while one is being written waits, and a newer one replaces it (the newest
    wins; as the texts are written in the order they were taken, an older one never lands
    over a newer).  ``cancel`` makes every text submitted so far moot: none lands after it
    returns (the rename of each is checked under a lock ``cancel`` takes), a write under way
    stops at its next piece and removes its temporary file, so the copy can be removed, or
    written over by a signal's keep, at once.  ``wait`` lets a write under way finish, for a
    bounded time (quitting).  The outcome comes back on the GUI thread: ``written``, or
    ``failed`` with the reason (a full disk, an unwritable folder)."""

    #: A text was written (its generation).
    written = Signal(int)
    #: A text could not be written (its generation, and why, in a few words).
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.RLock()  # everything below; taken after ``_renames``, never before
        self._renames = threading.Lock()  # held from a write's last check to its rename's end
        self._idle = threading.Condition(self._lock)
        self._pending: RecoveryJob | None = None
        self._busy = False
        self._thread: threading.Thread | None = None
        self._generation = 0  # of the last text submitted
        self._moot_up_to = 0  # texts up to this generation are never to land (``cancel``)
        self._record: tuple | None = None  # (path, origin, encoding) the record on disk says

    def submit(self, path: Path, text: str, origin: Path | None, encoding: str) -> int:
        """Write ``text`` to ``path`` as soon as the write under way (if any) is done; its
        generation."""
        with self._lock:
            self._generation += 1
            self._pending = RecoveryJob(self._generation, path, text, origin, encoding)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="recovery-copy", daemon=True)
                _writer_threads.add(self._thread)
                self._thread.start()
            return self._generation

    def moot(self, generation: int) -> bool:
        """Whether the text of ``generation`` was cancelled (it must not land)."""
        with self._lock:
            return generation <= self._moot_up_to

    def latest(self, generation: int) -> bool:
        """Whether ``generation`` is the last text submitted, and not cancelled."""
        with self._lock:
            return generation == self._generation > self._moot_up_to

    def cancel(self) -> bool:
        """No text submitted so far lands after this returns (one being renamed right now
        is waited for: a rename's time); the next write rewrites the record.  Whether a text
        was waiting or being written."""
        with self._renames, self._lock:
            under_way = self._pending is not None or self._busy
            self._moot_up_to = self._generation
            self._pending = None
            self._record = None
            return under_way

    def busy(self) -> bool:
        """A text is being written or waits to be."""
        with self._lock:
            return self._busy or self._pending is not None

    def wait(self, timeout: float) -> bool:
        """Let the writes under way finish, ``timeout`` seconds at most; whether they did."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._busy or self._pending is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def _run(self) -> None:
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                self._busy = job is not None
                if job is None:
                    _writer_threads.discard(self._thread)
                    self._thread = None
                    self._idle.notify_all()
                    return
            try:
                self._write(job)
            except _Moot:
                log.debug("the copy %s was removed or taken over while it was written", job.path)
            except Exception as e:  # noqa: BLE001 - whatever it is, it is said, and typing goes on
                self._tell(self.failed, job.generation, _why(e))
            else:
                self._tell(self.written, job.generation)
            finally:
                with self._lock:
                    self._busy = False

    def _tell(self, signal, generation: int, *args) -> None:
        """Say how the text of ``generation`` went (queued to the GUI thread, where the
        receiver lives), unless it was cancelled: nothing is said after ``cancel`` returns
        (the window closing) of what was submitted before it."""
        with self._lock:
            if generation <= self._moot_up_to:
                return
            try:
                signal.emit(generation, *args)
            except RuntimeError:  # the window is gone (the app quitting): nobody to tell
                pass

    def _write(self, job: RecoveryJob) -> None:
        guard = WriteGuard(self, job.generation)
        paths.private_folder(job.path.parent)
        record = (job.path, job.origin, job.encoding)
        with self._lock:
            unchanged = record == self._record
        if not unchanged:  # first, so that the text is never taken for a kept one
            data = _record_data(job.origin, job.encoding, (os.getpid(), time.time()))
            write_copy(origin_file(job.path), json_text(data), guard)
            with self._lock:
                if job.generation > self._moot_up_to:  # (a cancel since forgot the record)
                    self._record = record
        write_copy(job.path, job.text, guard)


#: The threads writing a copy for a crash, waited for (``RECOVERY_QUIT_WAIT_S`` at most) when
#: the interpreter exits, so that quitting does not cut a write short (``finish_recovery_writes``).
_writer_threads: set[threading.Thread] = set()


@atexit.register
def finish_recovery_writes(timeout: float | None = None) -> bool:
    """Let the copies for a crash being written finish, ``RECOVERY_QUIT_WAIT_S`` at most in
    all: a write cut short by the process's end would leave its temporary file, offered at the
    next start as possibly incomplete.  Whether they all did."""
    deadline = time.monotonic() + (RECOVERY_QUIT_WAIT_S if timeout is None else timeout)
    for thread in list(_writer_threads):
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in list(_writer_threads))


class Documents(QObject):
    """The file behind the editor's text; its boxes are children of ``parent``."""

    #: The path or the encoding changed (a new, opened or saved file): the title follows.
    changed = Signal()
    #: Another text is in the editor (new or opened): the keystroke count starts again.
    opened = Signal()
    #: A status-bar message and how long it stays (ms).
    message = Signal(str, int)

    def __init__(
        self,
        *,
        editor: QPlainTextEdit,
        settings: Settings,
        save_settings: Callable[[], None],
        error: Callable[[str, str], None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.editor = editor
        self.settings = settings
        self._save_settings = save_settings
        self._error = error
        self._parent = parent
        self.path: Path | None = None
        self.encoding = "utf-8"  # how the open file was read, and is written back
        self._encoding_confirmed = True  # the user agreed to write it in that encoding
        self.untitled_name = UNTITLED  # the name of a document with no file (a restored one's own)
        #: The file a restored text was kept from: where Save As starts, never written unasked.
        self.origin: Path | None = None
        #: The kept text in the editor (``restore``), until it is saved or discarded.
        self.kept: KeptText | None = None
        # The copy of the unsaved text for a crash (``write_recovery``): its file (a restored
        # kept text's is the kept file), whether the text changed since it was last handed to
        # the writer (which writes it, and the record beside it, off the GUI thread), and
        # whether a failure was said (once, until a write succeeds).
        self._recovery_path: Path | None = None
        self._recovery_writer = RecoveryWriter(self)
        self._recovery_writer.written.connect(self._recovery_written)
        self._recovery_writer.failed.connect(self._recovery_not_written)
        self._recovery_due = False
        self._recovery_failed = False
        self._recovery_pause = QTimer(self, singleShot=True, interval=RECOVERY_PAUSE_MS)
        self._recovery_limit = QTimer(self, singleShot=True, interval=RECOVERY_LIMIT_MS)
        self._recovery_pause.timeout.connect(self.write_recovery)
        self._recovery_limit.timeout.connect(self.write_recovery)
        editor.document().contentsChanged.connect(self._text_changed)
        # undone back to what was saved: no copy to keep, at once rather than at the next pause
        editor.document().modificationChanged.connect(self._modification_changed)
        self._discard_pending = False  # the user said Discard; done once the text is replaced

    # --- state ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return shown(self.path.name) if self.path else self.untitled_name

    def is_modified(self) -> bool:
        return self.editor.document().isModified()

    def start_directory(self) -> str:
        """Where the file dialogs start: the last folder used, else the home folder
        (never the folder the app happened to be started from)."""
        last = self.settings.last_directory
        try:
            if last and Path(last).is_dir():
                return last
        except OSError:  # (3.11 raises for a folder it may not look into, or a dead mount)
            pass
        return str(Path.home())

    # --- new, open ------------------------------------------------------------------
    def maybe_save(self, before: str = "closing it") -> bool:
        """Ask about unsaved changes; False if the user cancels.  ``before`` completes
        "Save the changes to NAME before ...?": what is about to replace the text (the
        window closing, a new document, the file being opened)."""
        if not self.is_modified():
            return True
        answer = boxes.warning(
            self._parent, "Unsaved Changes", f"Save the changes to “{self.name}” before {before}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        if answer != QMessageBox.StandardButton.Discard:
            return False
        # The user said to discard it, its kept copy and its copy for a crash too, but only once
        # the text is replaced (``replacing``): a file dialog cancelled, or a file that cannot
        # be read, leaves the text on screen, and its copies with it (H68).
        self._discard_pending = True
        return True

    def replacing(self) -> None:
        """The text is about to be replaced or closed, as the user chose (``maybe_save``): its
        copy for a crash goes, and a restored kept text's file too if the user discarded it."""
        if self._discard_pending:
            self._drop_kept()
        self._discard_pending = False
        self.discard_recovery()

    def new(self) -> None:
        if not self.maybe_save("starting a new document"):
            return
        self.replacing()
        self.editor.clear()
        self.editor.document().clearUndoRedoStacks()
        self.editor.document().setModified(False)
        self._recovery_idle()
        self.path = None
        self.untitled_name = UNTITLED
        self.origin = None
        self._let_go_of_kept()
        self.encoding, self._encoding_confirmed = "utf-8", True
        self.opened.emit()
        self.changed.emit()

    def restore(self, kept: KeptText) -> bool:
        """Put a kept text in the editor as the unsaved document it was (``kept.document_name``,
        or the name of the file it was kept from, ``kept.origin``; no file: Save asks where,
        starting at that file's folder and name, and closing asks first), and keep the kept
        file until the text is saved or discarded (``_drop_kept``).  False if it could not be
        read (said why) or the user kept the text already in the editor; ``kept`` is then the
        caller's still."""
        try:
            text, _ = decode(kept.path.read_bytes())
        except OSError as e:
            self._error("Cannot open the kept text", f"{shown(kept.path)}: {e.strerror or e}.")
            return False
        except NotTextError as e:
            self._error("Cannot open the kept text", f"{shown(kept.path.name)} {e}, so it was not opened.")
            return False
        if not self.maybe_save("opening the kept text"):
            return False
        self.replacing()
        self._put_text(text)
        self.editor.document().setModified(True)  # it is in no file of the user's yet
        self._recovery_idle()  # the kept file holds this text; typing rewrites it (``write_recovery``)
        self.path = None
        self.origin = kept.origin
        self.untitled_name = kept.origin.name if kept.origin is not None else kept.document_name
        # the encoding its file was read in: written back so only if the user says so, as for
        # the file opened (a Latin-1 file is not rewritten as UTF-8 unasked)
        self.encoding = kept.origin_encoding
        self._encoding_confirmed = self.encoding in UTF8
        self._let_go_of_kept()
        self.kept = kept
        self.opened.emit()
        self.changed.emit()
        if kept.origin is not None:
            self.message.emit(f"Restored the unsaved text of {shown(kept.origin)}: Save As offers that name; "
                              "the file there may have changed since.", 10000)
        else:
            how = "recovered" if kept.recovered is not None else "kept"
            self.message.emit(f"Restored the text {how} in {shown(kept.path.name)}; save it to keep it (the {how} "
                              "copy is removed once it is saved).", 10000)
        return True

    def _put_text(self, text: str) -> None:
        """The editor's text replaced by ``text``, the cursor at its end."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # a long file takes a moment to lay out
        try:
            self.editor.setPlainText(text)
        finally:
            QApplication.restoreOverrideCursor()
        self.editor.moveCursor(self.editor.textCursor().MoveOperation.End)

    def _let_go_of_kept(self) -> None:
        """Another text replaced a restored one that was neither saved nor discarded (a
        signal's keep had written it back and marked it unchanged): its kept file stays, for
        the next start to offer."""
        if self.kept is not None:
            self.kept.release()
            self.kept = None

    def _drop_kept(self) -> None:
        """The restored text was saved or discarded: its kept copy goes.  One that cannot be
        removed is logged and offered again at the next start (where the user may delete it)."""
        kept, self.kept = self.kept, None
        if kept is None:
            return
        self._recovery_writer.cancel()  # its copy being written lands nowhere once it is gone
        try:
            kept.remove()
        except OSError as e:
            log.warning("could not remove the kept text %s (%s); the next start offers it again",
                        kept.path, e.strerror or e)

    def open(self, path: Path | None = None) -> bool:
        """Open ``path``, or the file the user picks.  A file named beforehand (the command
        line, another start, the recent files) is read before the unsaved-changes question,
        so one that cannot be opened says so and leaves the text as it is, unasked.  The text
        left on screen (the dialog cancelled, a file that cannot be read) keeps its copies,
        though the user said to discard it."""
        try:
            return self._open(path)
        finally:
            self._discard_pending = False

    def _open(self, path: Path | None) -> bool:
        asked = path is None
        if path is None:
            if not self.maybe_save("opening another file"):
                return False
            name, _ = QFileDialog.getOpenFileName(self._parent, "Open", self.start_directory(), TEXT_FILTER)
            if not name:
                return False
            path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as e:
            self._error("Cannot open the file", f"{shown(path)}: {e.strerror or e}.")
            self._forget_recent(path)
            return False
        try:
            text, encoding = decode(data)
        except NotTextError as e:
            self._error("Cannot open the file", f"{shown(path.name)} {e}, so it was not opened.")
            return False
        if not asked and not self.maybe_save(f"opening “{shown(path.name)}”"):
            return False
        self.replacing()
        self._put_text(text)
        self.editor.document().setModified(False)
        self._recovery_idle()
        self.path = path
        self.origin = None
        self._let_go_of_kept()
        self.encoding = encoding
        self._encoding_confirmed = encoding in UTF8
        if not self._encoding_confirmed:
            self.message.emit(
                f"{shown(path.name)} is not UTF-8; it was read as {label(encoding)}, "
                "and saving asks which encoding to keep.", 10000
            )
        self.opened.emit()
        self._remember(path)
        self.changed.emit()
        return True

    # --- save -----------------------------------------------------------------------
    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self) -> bool:
        start = str(self.path or self._origin_start()
                    or Path(self.start_directory()) / f"{self.untitled_name}{TEXT_SUFFIX}")
        while True:
            name, chosen = QFileDialog.getSaveFileName(self._parent, "Save As", start, TEXT_FILTER)
            if not name:
                return False
            path = with_text_suffix(Path(name), chosen)
            # The file dialog asked about replacing the name typed, not the one with ".txt":
            # ask here, and on No choose again.
            if path.name == Path(name).name or not path.exists() or self._may_replace(path):
                return self._write(path)
            start = str(path)

    def _origin_start(self) -> Path | None:
        """Where Save As starts for a restored text kept from a file: that file's folder and
        name, or its name in the usual folder where its folder is gone."""
        if self.origin is None:
            return None
        try:
            there = self.origin.parent.is_dir()
        except OSError:  # (3.11 raises for a folder it may not look into, or a dead mount)
            there = False
        if there:
            return self.origin
        return Path(self.start_directory()) / self.origin.name

    def _may_replace(self, path: Path) -> bool:
        answer = boxes.question(
            self._parent, "Replace File?",
            f"“{shown(path.name)}” already exists in {shown(path.parent)}. Replace it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _choose_encoding(self, path: Path, text: str) -> str | None:
        """The encoding to write ``path`` in; None if the user cancelled.  A file read as
        something other than UTF-8 is written back the same way only if the user says so,
        and asked again once the text holds a character that encoding cannot (a "€" typed
        after "Keep Latin-1"): the earlier answer cannot hold for it, and refusing every
        save until the user finds the character would trap the text in the editor."""
        unfit = unfit_character(text, self.encoding)
        if self._encoding_confirmed and unfit is None:
            return self.encoding
        return ask_encoding(self._parent, shown(path.name), self.encoding, unfit is None, unfit)

    def _write(self, path: Path) -> bool:
        text = self.editor.toPlainText()
        encoding = self._choose_encoding(path, text)
        if encoding is None:
            self.message.emit("Not saved.", 3000)
            return False
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError as e:  # the box offered only what fits; a last guard
            self._error("Cannot save the file", f"{shown(path.name)} cannot hold “{text[e.start]}” in "
                        f"{label(encoding)}; save it as UTF-8 instead.")
            return False
        try:
            # A new file gets the usual mode for the user's umask (as any editor's would);
            # an existing one keeps its own.
            mode = None if path.exists() else new_file_mode()
            atomic_write_bytes(path, data, mode=mode)
        except OSError as e:
            self._error("Cannot save the file", f"{shown(path)}: {e.strerror or e}. Nothing was lost: "
                        "the text is still here, and the old file (if any) is untouched.")
            return False
        # The answer holds for this document only once it is on disk: after a failed
        # write the next save asks again.
        converted = encoding != self.encoding
        self.path = path
        self.origin = None
        self.encoding, self._encoding_confirmed = encoding, True
        self.editor.document().setModified(False)
        self._drop_kept()  # saved where the user chose: the kept copy has done its work
        self.discard_recovery()
        self._remember(path)
        self.changed.emit()
        saved = f"Saved {shown(path.name)} as {label(encoding)}." if converted else f"Saved {shown(path.name)}."
        self.message.emit(saved, 3000)
        return True

    # --- the copy for a crash --------------------------------------------------------
    def _text_changed(self) -> None:
        """A keystroke (or any change): the copy is written once typing pauses, and at least
        every ``RECOVERY_LIMIT_MS`` while it goes on; restarting a timer is all a keystroke costs."""
        self._recovery_due = True
        self._recovery_pause.start()
        if not self._recovery_limit.isActive():
            self._recovery_limit.start()

    def _modification_changed(self, modified: bool) -> None:
        if not modified and self._recovery_path is not None:
            self.discard_recovery()

    def _recovery_idle(self) -> None:
        """The text on disk is the text in the editor (just opened, restored or cleared), or
        its copy goes (``discard_recovery``, ``recovery_kept``): no copy being written lands
        after this (``RecoveryWriter.cancel``)."""
        self._recovery_pause.stop()
        self._recovery_limit.stop()
        self._recovery_due = False
        self._recovery_writer.cancel()

    def write_recovery(self) -> None:
        """Write the unsaved text, as it is now, to a file in the kept texts' folder, so that a
        crash, a kill or the loss of the display loses at most the last seconds of typing: the
        next start offers it as it offers a text a signal's close kept (``take_kept_text``,
        ``KeptText.recovered``).  A new document's copy is "NAME DATE.txt" (``kept_name``),
        with the path and the encoding of its file and this process's id beside it
        (``write_origin``'s ``writer``: while this process runs, no other copy offers it); a
        restored kept text's copy is its kept file.  Only the text is taken here, on the GUI
        thread; it is written off it, atomically and fsynced (``RecoveryWriter``), only when it
        changed.  A text with no changes left (undone to what was saved) has no copy.  A
        failure (a full disk, an unwritable folder) never stops the typing: it is said once in
        the status bar and tried again later."""
        self._recovery_pause.stop()
        self._recovery_limit.stop()
        if not self.is_modified() or self.editor.document().characterCount() <= 1:  # (empty: nothing to offer)
            self.discard_recovery()
            return
        if not self._recovery_due:
            return
        path = (self.kept.path if self.kept is not None
                else self._recovery_path or kept_name(paths.unsaved_texts_dir(), self.name))
        if self.kept is None:
            self._recovery_path = path
        self._recovery_due = False
        # Only the text is taken here (the editor's document is the GUI thread's alone); the
        # encoding, the writes and their fsyncs are the writer's (``RecoveryWriter``).
        self._recovery_writer.submit(path, self.editor.toPlainText(), self.path or self.origin, self.encoding)

    def _recovery_written(self, generation: int) -> None:
        if self._recovery_failed and self._recovery_writer.latest(generation):
            self._recovery_failed = False
            log.info("the copy of the unsaved text of “%s” is written again", self.name)

    def _recovery_not_written(self, generation: int, why: str) -> None:
        """A copy could not be written (a full disk, an unwritable folder): said once in the
        status bar, logged once with the folder, and tried again later, typing or not; nothing
        is said of one made moot since (the text saved, discarded or kept)."""
        if self._recovery_writer.moot(generation):
            return
        # (logged once a run of failures, with the folder; the status bar's sentence is short
        # enough for a narrow window to show its advice)
        (log.debug if self._recovery_failed else log.warning)(
            "the copy of the unsaved text of “%s” could not be written in %s (%s); tried again as the "
            "user types", self.name, shown(paths.unsaved_texts_dir()), why)
        if not self._recovery_failed:
            self._recovery_failed = True
            self.message.emit(f"Save the text to keep it: no copy for a crash can be kept ({why}).", 15000)
        if self._recovery_writer.latest(generation):
            self._recovery_due = True  # (the text on disk is older than the editor's)
            self._recovery_limit.start()  # again later, typing or not

    def finish_recovery_writes(self, timeout: float = RECOVERY_QUIT_WAIT_S) -> bool:
        """Let the copy being written finish, ``timeout`` seconds at most (quitting: a write
        cut short leaves its temporary file, offered at the next start as possibly
        incomplete); whether it did."""
        return self._recovery_writer.wait(timeout)

    def discard_recovery(self) -> None:
        """The text was saved, discarded or replaced, or the window closed as asked: its copy
        for a crash goes (a restored kept text's is its kept file: ``_drop_kept``).  Never
        raises: a copy that cannot be removed is offered at the next start."""
        self._recovery_idle()  # (first: a copy being written lands nowhere after this)
        path, self._recovery_path = self._recovery_path, None
        if path is None:
            return
        for leftover in (path, origin_file(path)):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("could not remove %s (%s)", leftover, e.strerror or e)

    def recovery_path(self) -> Path | None:
        """Where the text's copy for a crash is: a signal's close keeps the text in that file,
        so that one file holds it (``ui.app.keep_unsaved_text``).  A copy being written is
        stopped first (``RecoveryWriter.cancel``), so that it never lands over the keep's
        newer text; if the keep fails, the copy is written again at the next pause."""
        if self._recovery_writer.cancel():
            self._recovery_due = True
            self._recovery_limit.start()
        return self.kept.path if self.kept is not None else self._recovery_path

    def recovery_kept(self) -> None:
        """A signal's close kept the text in the copy's file (``recovery_path``): it is a kept
        text now, not this process's copy, so nothing here removes it."""
        self._recovery_idle()
        self._recovery_path = None

    # --- recent files ------------------------------------------------------------------
    def _remember(self, path: Path) -> None:
        self.settings.add_recent_file(str(path))
        self.settings.last_directory = str(Path(path).resolve().parent)
        self._save_settings()

    def _forget_recent(self, path: Path) -> None:
        resolved = str(Path(path).resolve())
        if resolved in self.settings.recent_files:
            self.settings.recent_files.remove(resolved)
            self._save_settings()

    def fill_recent_menu(self, menu: QMenu) -> None:
        """File ▸ Open Recent, filled as it is about to show (the list may have changed)."""
        menu.clear()
        for i, name in enumerate(self.settings.recent_files):
            action = menu.addAction(f"&{i + 1} {shown(Path(name).name)}")
            action.setToolTip(boxes.plain_tooltip(shown(name)))  # the status tip is drawn as plain text
            action.setStatusTip(shown(name))
            action.triggered.connect(lambda _=False, p=name: self.open(Path(p)))
        if not self.settings.recent_files:
            menu.addAction("No recent files").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear Recent Files", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.recent_files = []
        self._save_settings()
