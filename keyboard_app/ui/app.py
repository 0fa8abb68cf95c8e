"""Start the GUI: the QApplication, one copy per user, the main window, an optional auto-quit.

One copy per user: two copies learning at once would each save over the
other's words (``learning`` merges the counts as well, in case).  The first
copy holds a lock file and listens on a local socket named after the user's
data folder (``paths.single_instance_name``); a second start finds the lock
taken, asks the first, through the socket, to bring its window to the front,
and exits 0.  A copy that was killed leaves a stale lock (its process is
gone, which ``QLockFile`` notices) and a stale socket, which the next copy
removes and takes over.  ``--self-test`` never gets here, so it is never
refused.

Ctrl-C in the terminal the app was started from, SIGTERM, and SIGHUP (that
terminal closed, an ssh session dropped) close it as the window's close
does, less the questions, which a signal cannot answer (``TerminalSignals``,
``close_for_signal``): the settings and the learned words are saved, and an
unsaved document's text is kept in a file of its own (``keep_unsaved_text``),
named on stderr; the exit status is 128 plus the signal's number (130 for
Ctrl-C, 129 for SIGHUP), as a shell reports a program the signal ended.
After SIGHUP the terminal is gone and stderr may not be writable: nothing
that is kept depends on it (``logging`` drops a line it cannot write).  A
SIGHUP ignored when the app started (``nohup``) stays ignored.  Qt's event
loop waits in C, where Python's own handler would run only at the next
event, so the signal's wakeup byte (``set_wakeup_fd``) is what wakes the
loop.

Text that cannot be kept (a full disk; ``unsaved`` is a file) keeps the
window open, says so there (the status bar and a box that waits for no one)
and on stderr; the next signal tries once more, and then quits, kept or not.
Anything else that goes wrong in a signal's close is said in one sentence,
never a traceback, and the next signal quits all the same.  A keep that was
itself killed (SIGKILL after SIGTERM) leaves its temporary file, which the
next start offers, named as possibly incomplete (``documents.adopt_interrupted_keeps``).

Losing the X server is not one of these: Qt's xcb platform ends the process
itself (``The X11 connection broke``, exit 1) from inside its event loop,
with no hook for the app to run first; nor are SIGKILL, the OOM killer, a
segfault in a native library or a power cut.  For those the unsaved text is
written as the user types (``Documents.write_recovery``): 2 s after typing
pauses, and at least every 20 s while it goes on, never per keystroke, to a
file in the same ``unsaved`` folder with this process's id and when it wrote
it beside the text, so that no other copy offers it while this one runs (and a
process given the same number later is told apart by its start time,
``process_alive``'s ``since``).  The next start offers it as it offers a kept
text, as "Unsaved Text Recovered": what was typed up to 2 s (20 s, typing
without a pause) before the app stopped, under its file's name and encoding.
It is removed when the text is saved, discarded or replaced, and when the window
closes as the user chose; a signal's keep writes over it, so one file holds the
text (``Documents.recovery_path``, ``recovery_kept``).  A copy that cannot be
written (a full disk, an unwritable data folder) is said once in the status
bar and tried again later; the typing goes on.  Only taking the text from the
editor is done on the GUI thread (5.3 MB: about 11 ms; 20 MB: 53-85 ms); a
thread of the document's own encodes, writes and fsyncs it (9 ms; 21-40 ms:
``documents.RecoveryWriter``, ``benchmarks/recovery_copy.py``), once per pause:
nothing is written while the text is unchanged.
"""

from __future__ import annotations

import errno
import linecache
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QDir, QLockFile, QObject, QSocketNotifier, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

try:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket
except ImportError:  # a build without QtNetwork: two copies are possible (their saves still merge)
    QLocalServer = QLocalSocket = None  # type: ignore[assignment,misc]

from .. import __version__, paths
from ..storage import atomic_write_text, remove_stale_temps
from .documents import kept_name, shown, write_origin

log = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
OPEN = b"open "  # then the file's absolute path, UTF-8 (undecodable bytes as the OS gave them), newline
ANSWER = b"ok\n"
ASK_TIMEOUT_S = 10.0  # the first copy may be busy starting; it answers once its event loop runs
TERMINAL_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(paths.APP_DISPLAY_NAME)
    app.setApplicationDisplayName(paths.APP_DISPLAY_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("keyboard-app")  # assets/keyboard-app.desktop
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        path = paths.resource_path("assets", "icons", f"keyboard-app-{size}.png")
        if path.is_file():
            icon.addFile(str(path))
    if not icon.isNull():
        app.setWindowIcon(icon)
    return app  # type: ignore[return-value]


class SingleInstance(QObject):
    """The first copy's claim: a lock file, and a local server other starts talk to."""

    activated = Signal()  # a second start asked for the window
    open_requested = Signal(str)  # ... and to open this file in it

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._lock = QLockFile(os.path.join(QDir.tempPath(), f"{name}.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, however old
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """True if this is the first copy (it then listens); False if another one runs."""
        if not self._lock.tryLock(0):
            if self._lock.error() == QLockFile.LockError.LockFailedError:
                return False
            # Cannot even create the lock (an odd temporary folder): run unguarded.
            log.warning("cannot take the lock that keeps to one copy per user (%s); starting anyway",
                        self._lock.error().name)
            return True
        if QLocalServer is None:
            log.warning("this build has no QtNetwork: a second start opens a second window")
            return True
        QLocalServer.removeServer(self.name)  # a socket left behind by a copy that was killed
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("cannot listen for a second start (%s); it will not find this window",
                        server.errorString())
            return True
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def _on_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            self._read(socket)

    def _read(self, socket: "QLocalSocket") -> None:
        """Answer a request, then act on it from the event loop.

        The answer goes first: what a request asks for may open a box (the unsaved-changes
        question, "Cannot open the file"), a nested event loop that waits for the user,
        and a second start waiting that long for its answer would give up and open a
        window of its own.  Nor is the socket touched once the answer is on its way: the
        asking copy hangs up and Qt deletes the socket, possibly inside such a nested loop,
        where a late write used a deleted object (a crash, and the unsaved text lost)."""
        if not socket.canReadLine():
            return
        line = bytes(socket.readLine().data())
        known = line == ACTIVATE or (line.startswith(OPEN) and line.endswith(b"\n"))
        if known:
            socket.write(ANSWER)
            socket.flush()
        socket.disconnectFromServer()
        if known:
            path = None if line == ACTIVATE else os.fsdecode(line[len(OPEN):-1])
            QTimer.singleShot(0, self, lambda: self._act(path))

    def _act(self, path: str | None) -> None:
        self.activated.emit()
        if path is not None:
            self.open_requested.emit(path)

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()


def first_copy(name: str, what: str, parent: QObject, request: bytes = ACTIVATE) -> "SingleInstance | None":
    """This copy's claim to be the one ``what`` running for this user, or None when another
    copy runs and answered ``request`` (it brings its window forward: this one should not
    open another).  A copy that holds the claim but does not answer is opened beside, with
    a warning."""
    instance = SingleInstance(name, parent=parent)
    if instance.claim():
        return instance
    if ask_running_copy(name, request=request):
        instance.deleteLater()
        return None
    log.warning("another copy of %s is running but does not answer; starting anyway", what)
    return instance


def ask_running_copy(name: str, timeout_s: float = ASK_TIMEOUT_S, request: bytes = ACTIVATE) -> bool:
    """Ask the copy listening on ``name`` to bring its window forward (``request``: and
    perhaps open a file); True once it answers."""
    if QLocalSocket is None:
        return False
    deadline = time.monotonic() + timeout_s
    while True:
        socket = QLocalSocket()
        socket.connectToServer(name)
        if socket.waitForConnected(1000):
            socket.write(request)
            socket.waitForBytesWritten(1000)
            connected = QLocalSocket.LocalSocketState.ConnectedState
            while not socket.canReadLine() and time.monotonic() < deadline:
                if not socket.waitForReadyRead(200) and socket.state() != connected:
                    break  # it hung up without answering
            answered = socket.canReadLine() and bytes(socket.readLine().data()) == ANSWER
            socket.abort()
            return answered
        socket.abort()
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)  # it holds the lock but is not listening yet


class TerminalSignals(QObject):
    """Ctrl-C (SIGINT), SIGTERM and SIGHUP, received as ``received(signum)`` in the event loop.

    Python runs a signal's handler between two of its own instructions, so while Qt's loop
    waits for events in C nothing would run it until the next event.  The handler set here
    does nothing; ``signal.set_wakeup_fd`` makes the interpreter also write the signal's
    number to a socket, whose ``QSocketNotifier`` wakes the loop, which reads it and emits
    ``received`` there, where the app may do anything (not in a handler's odd moment).
    ``close()`` puts the previous handlers back (idempotent)."""

    received = Signal(int)

    def __init__(self, parent: QObject | None = None, signals: tuple[int, ...] = TERMINAL_SIGNALS) -> None:
        super().__init__(parent)
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        hup = getattr(signal, "SIGHUP", None)
        # ``nohup`` (or a parent that wants the app to outlive its terminal) ignores SIGHUP.
        signals = tuple(s for s in signals if s != hup or signal.getsignal(s) is not signal.SIG_IGN)
        self._previous = {signum: signal.signal(signum, _note_signal) for signum in signals}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._read)

    def _read(self) -> None:
        try:
            numbers = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        for signum in numbers:
            if signum in self._previous:  # (the wakeup byte is written for any signal Python handles)
                self.received.emit(signum)

    def close(self) -> None:
        if self._reader.fileno() < 0:
            return
        self._notifier.setEnabled(False)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()


def _note_signal(signum: int, frame: Any) -> None:
    """The Python-level handler: the wakeup byte does the work (``TerminalSignals``)."""


def signal_exit_code(signum: int) -> int:
    """What a shell reports for a program the signal ended: 130 for Ctrl-C, 143 for SIGTERM,
    129 for SIGHUP."""
    return 128 + signum


def quit_on_signals(app: QApplication, close: Callable[[int, bool], bool]) -> TerminalSignals:
    """Quit ``app`` with ``signal_exit_code`` on Ctrl-C, SIGTERM or SIGHUP, once ``close(signum,
    again)`` has done what closing does.  It may say False (it could not keep something
    the user would lose): the app then runs on, and at the next signal (``again`` True)
    it is closed all the same.  An exception from ``close`` is said in one sentence and
    counts as such a False (the next signal quits), never a traceback, never an app that
    no signal can stop."""
    signals = TerminalSignals(app)
    refused: list[int] = []

    def on_signal(signum: int) -> None:
        again = bool(refused)
        try:
            closed = close(signum, again)
        except Exception as e:  # noqa: BLE001 - a signal must always be able to stop the app
            log.warning("closing on %s failed (%s); %s", _signal_name(signum), _reason(e),
                        "quitting all the same." if again else "stop the app again to quit.")
            closed = again
        if closed:
            signals.received.disconnect(on_signal)  # one quit, however often Ctrl-C is pressed
            app.exit(signal_exit_code(signum))
        else:
            refused.append(signum)

    signals.received.connect(on_signal)
    return signals


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _reason(e: BaseException) -> str:
    """Why, in a few words: an ``OSError``'s own text (``No space left on device``), else the
    exception's message (what went wrong, for a report), never a traceback."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__


def _tell_in_window(window: Any, title: str, text: str) -> None:
    """Say ``text`` in the window without waiting for anyone: in the status bar, until the
    next message, and in a box that ``open``s (a signal may come while it is shown: it is
    not a nested event loop).  Never raises: the signal's close goes on regardless."""
    try:
        window.statusBar().showMessage(text)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, window)
        box.setObjectName("keepFailedBox")
        box.setTextFormat(Qt.TextFormat.PlainText)  # it names the document and a folder (``boxes``)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
    except Exception as e:  # noqa: BLE001 - stderr has said it already
        log.debug("could not show %r: %s", text, e)


def keep_unsaved_text(window: Any, again: bool = False) -> bool:
    """Write the editor's unsaved text to a file of its own in the user's data folder, and
    say where; True if there was none or it was written.  Not over the document's own file:
    the user had not chosen to save their changes there.  A kept text restored at this start
    and not saved since (``Documents.kept``), or a text with a copy written for a crash
    (``Documents.recovery_path``), is written back over that file, so that one file holds
    it, offered once (as kept, not recovered: ``write_origin`` without a writer), under the
    name it had.  The path of the document's file
    (or of the file a restored text was kept from) is written beside it (``write_origin``),
    so that Save As offers it again after the restore.  A failure is said on stderr and
    in the window (``again``: the second try, after which the app quits without the text)."""
    documents = window.documents
    if not documents.is_modified() or not window.editor.document().characterCount() > 1:
        return True  # (a text typed and deleted again: nothing to offer at the next start, H69)
    name = documents.name  # as shown: bytes that are not UTF-8 read as U+FFFD (``shown``)
    folder = paths.unsaved_texts_dir()
    existed = folder.is_dir()
    try:
        # Over the text's copy for a crash, if it has one: one file holds the text, offered once.
        paths.private_folder(folder)
        path = documents.recovery_path() or kept_name(folder, name)
        atomic_write_text(path, window.editor.toPlainText())
    except Exception as e:  # noqa: BLE001 - whatever it is, the window must stay usable
        if isinstance(e, OSError) and e.errno == errno.EEXIST and folder.exists() and not folder.is_dir():
            why = "it is a file, not a folder"
        else:
            why = _reason(e)
        if not existed:
            try:  # (a full disk left it empty)
                folder.rmdir()
            except OSError:
                pass
        if again:
            log.warning("the unsaved text of “%s” still cannot be kept in %s (%s), so the app quits "
                        "without it.", name, shown(folder), why)
            return False
        said = (f"The unsaved text of “{name}” could not be kept in {shown(folder)} ({why}); the "
                "window stays open: save the text from there, or stop the app again, which tries "
                "once more and then quits, with the text or without it.")
        log.warning("%s", said[0].lower() + said[1:])
        _tell_in_window(window, "Unsaved Text Not Kept", said)
        return False
    documents.recovery_kept()  # a kept text now: nothing of this process's removes it
    try:  # after the text: without it the text is still kept, restored as a new document
        write_origin(path, documents.path or documents.origin, documents.encoding)  # (no writer: kept)
    except Exception as e:  # noqa: BLE001 - the text is kept; only Save As's first suggestion is lost
        log.warning("the path of “%s” could not be kept beside its text (%s).", name, _reason(e))
    log.warning("the unsaved text of “%s” was kept in %s.", name, shown(path))
    documents.editor.document().setModified(False)
    return True


def close_for_signal(window: Any, again: bool = False) -> bool:
    """What the window's close does (``MainWindow.closeEvent``), without its questions: the
    unsaved text kept in a file (``keep_unsaved_text``), a retraining stopped (one still
    training dropped, as the close's question offers; a finished one kept for the next start
    to offer), the on-screen keyboard closed (its borrowed keys given
    back), the settings and the learned words saved.  False if the text could not be kept,
    unless ``again``: the user was told so and stopped the app once more, and it was tried
    once more.  What goes wrong after the keep is said in one sentence and the close goes
    on: the app quits."""
    if not keep_unsaved_text(window, again) and not again:
        return False
    host = window.findChild(QObject, "osk-host")
    keyboard = getattr(host, "keyboard", None)
    steps: list[tuple[str, Callable[[], Any]]] = []
    if keyboard is not None:
        steps.append(("closing the on-screen keyboard", keyboard.close))
    # A run still training is dropped (as the close's question says); a finished one whose
    # comparison is under way is kept where it is, under this process's id, so the next start
    # offers it (``retraining.recover_runs``): a signal asks nobody.
    steps.append(("saving the settings and the learned words",
                  lambda: window.finish_closing(drop_run=False, ask=False)))
    for what, step in steps:
        try:
            step()
        except Exception as e:  # noqa: BLE001 - the rest of the close still runs
            log.warning("%s failed while closing (%s).", what[0].upper() + what[1:], _reason(e))
    return True


def open_given(window, path: Path) -> None:
    """Open a file given from outside (the command line, a second start); a file that
    cannot be opened says why in the window's own message, as File > Open does."""
    if window.open_document(path):
        log.info("opened %s", path)


def forget_source_lines() -> None:
    """Drop the source lines PySide6 had Python's ``linecache`` keep.

    After PySide6 is imported, it reads the source of every module imported after it,
    to see whether the module names PySide6 (and so may switch its ``__feature__``
    options: PYSIDE-2029), and ``linecache`` keeps every line it read: at this point,
    after the window's imports (numpy, onnxruntime, the standard library's, ours),
    about 110,000 lines held as ~10 MB of strings, more than the model's weights,
    which nothing reads again (a traceback reads its few lines anew).  Called on the
    main thread before the model's loading thread starts, so no other thread is in
    ``linecache``, and the model's arrays are made in the memory this frees.  A frozen
    program has no source to read, so nothing to drop."""
    linecache.clearcache()


def run_gui(*, model: Path | None = None, quit_after: float | None = None,
            started: float | None = None, document: Path | None = None) -> int:
    """Show the main window and run the event loop; the exit code.  ``document`` (the
    command line's file, a file manager's "Open With") is opened in the window, or in
    the copy already running, whose window comes forward with it."""
    started = time.perf_counter() if started is None else started
    app = create_application()
    if document is not None:
        document = Path(os.path.abspath(document))  # (the running copy has its own folder)
        request = OPEN + os.fsencode(document) + b"\n"
        shown = f"its window, with {document.name},"
    else:
        request, shown = ACTIVATE, "its window"
    instance = first_copy(paths.single_instance_name(), paths.APP_DISPLAY_NAME, app, request)
    if instance is None:
        unused = (f" --model applies to a new start only: close that window first to use {model}."
                  if model is not None else "")
        print(f"keyboard-app: {paths.APP_DISPLAY_NAME} is already running; {shown} was brought to the front."
              + unused, file=sys.stderr)
        return 0
    # From here Ctrl-C waits for the event loop, which closes the window as a close would.
    window: Any = None
    signals = quit_on_signals(app, lambda signum, again: window is None or close_for_signal(window, again))
    for folder in (paths.user_config_dir(), paths.user_data_dir(), paths.user_models_dir()):
        remove_stale_temps(folder)  # left by a copy killed while saving
    from .main_window import MainWindow

    forget_source_lines()
    window = MainWindow(model_path=model)
    instance.activated.connect(window.bring_forward)
    instance.open_requested.connect(lambda path: open_given(window, Path(path)))
    window.model_ready.connect(
        lambda name: log.info("model %r ready %.2f s after start", name, time.perf_counter() - started)
    )

    def first_suggestions(suggestions: list) -> None:
        if suggestions:
            log.info("first suggestions %.2f s after start: %s", time.perf_counter() - started,
                     ", ".join(s.text for s in suggestions))
            window.controller.suggestions_changed.disconnect(first_suggestions)

    window.controller.suggestions_changed.connect(first_suggestions)
    window.show()
    if document is not None:
        QTimer.singleShot(0, lambda: open_given(window, document))
    if quit_after is not None:
        # Smoke tests of the frozen build: close as a user would (no unsaved text, so no prompt).
        QTimer.singleShot(int(quit_after * 1000), window.close)
        QTimer.singleShot(int(quit_after * 1000) + 5000, app.quit)
    code = app.exec()
    window.shutdown()
    instance.release()
    signals.close()
    return code
