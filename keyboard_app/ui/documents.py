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
"""

from __future__ import annotations

import codecs
import errno
import json
import logging
import os
import re
import sys
import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox, QPlainTextEdit, QWidget

from ..settings import Settings
from ..storage import Hold, atomic_write_bytes, atomic_write_json, hold, leftover_temps
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
_umask_lock = threading.Lock()
#: Added to the name of a kept text whose keep was killed (``adopt_interrupted_keeps``).
POSSIBLY_INCOMPLETE = " (possibly incomplete)"
#: Beside a kept text "NAME.txt", the path of the file it was kept from: "NAME.txt.origin.json".
ORIGIN_SUFFIX = ".origin.json"
#: Where versions before H57's fix moved a kept text they opened (``tidy_kept_folder``).
OLD_OPENED_FOLDER = "opened"
#: What ``keep_unsaved_text``, ``unused_name`` and ``adopt_interrupted_keeps`` add to the name of
#: the document a text was kept from ("letter 2026-12-02 10-00-00 2 (possibly incomplete)").
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
    if sys.platform == "win32":
        return 0o666
    with _umask_lock:  # reading the umask means setting it: keep the window short
        umask = os.umask(0o077)
        os.umask(umask)
    return 0o666 & ~umask


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


def write_origin(kept: Path, origin: Path | None, encoding: str = "utf-8") -> None:
    """Write beside ``kept`` the path of the file its text was kept from and the encoding
    that file was read in (atomically, after the text: a kill between leaves the text,
    restored as a document with no file), or remove a stale one where there is none.
    Raises ``OSError``."""
    record = origin_file(kept)
    if origin is None:
        try:
            os.unlink(record)
        except FileNotFoundError:
            pass
        return
    atomic_write_json(record, {"path": os.fspath(Path(origin).absolute()), "encoding": encoding})


def read_origin(kept: Path) -> tuple[Path | None, str]:
    """The file ``kept``'s text was kept from and the encoding it was read in
    (``write_origin``), so that saving the restored text there asks before writing it
    otherwise (a Latin-1 file is not turned into UTF-8 unasked).  (None, "utf-8") where it
    had none, or the record cannot be read (the text is then restored as a document with no
    file); "utf-8" where the record names no codec Python knows.  Never raises."""
    try:
        record = json.loads(origin_file(kept).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "utf-8"
    except (OSError, ValueError) as e:
        log.info("the path beside %s cannot be read (%s); restoring it as a new document", kept, e)
        return None, "utf-8"
    path = record.get("path") if isinstance(record, dict) else None
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
    """The newest kept text in ``folder`` that no other copy of the app holds, held by this
    one, and how many more are there for the user (held by none).  (None, 0) when there is
    none.  Each is held while it is looked at, so two copies starting at once never both
    take the same one; those not taken are let go.  Never raises: this is a start-up question."""
    try:
        found = [p for p in folder.iterdir() if p.suffix == ".txt" and p.is_file()]
        found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return None, 0
    free = []
    for path in found:
        held = hold(path)
        if held is not None:
            free.append(KeptText(path, held))
    if not free:
        return None, 0
    for other in free[1:]:
        other.release()
    return free[0], len(free) - 1


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
        self._drop_kept()  # the user said to discard it: its kept copy too
        return True

    def new(self) -> None:
        if not self.maybe_save("starting a new document"):
            return
        self.editor.clear()
        self.editor.document().clearUndoRedoStacks()
        self.editor.document().setModified(False)
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
        self._put_text(text)
        self.editor.document().setModified(True)  # it is in no file of the user's yet
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
            self.message.emit(f"Restored the text kept in {shown(kept.path.name)}; save it to keep it (the kept "
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
        try:
            kept.remove()
        except OSError as e:
            log.warning("could not remove the kept text %s (%s); the next start offers it again",
                        kept.path, e.strerror or e)

    def open(self, path: Path | None = None) -> bool:
        """Open ``path``, or the file the user picks.  A file named beforehand (the command
        line, another start, the recent files) is read before the unsaved-changes question,
        so one that cannot be opened says so and leaves the text as it is, unasked."""
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
        self._put_text(text)
        self.editor.document().setModified(False)
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
        self._remember(path)
        self.changed.emit()
        saved = f"Saved {shown(path.name)} as {label(encoding)}." if converted else f"Saved {shown(path.name)}."
        self.message.emit(saved, 3000)
        return True

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
