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

Ctrl-C in the terminal the app was started from, and SIGTERM, close it as
the window's close does, less the questions, which a signal cannot answer
(``TerminalSignals``, ``close_for_signal``): the settings and the learned
words are saved, and an unsaved document's text is kept in a file of its
own (``keep_unsaved_text``), named on stderr; the exit status is 128 plus
the signal's number (130 for Ctrl-C), as a shell reports a program the
signal ended.  Qt's event loop waits in C, where Python's own handler would
run only at the next event, so the signal's wakeup byte (``set_wakeup_fd``)
is what wakes the loop.
"""

from __future__ import annotations

import linecache
import logging
import os
import signal
import socket
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QDir, QLockFile, QObject, QSocketNotifier, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

try:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket
except ImportError:  # a build without QtNetwork: two copies are possible (their saves still merge)
    QLocalServer = QLocalSocket = None  # type: ignore[assignment,misc]

from .. import __version__, paths
from ..storage import atomic_write_text, remove_stale_temps

log = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
OPEN = b"open "  # then the file's absolute path, UTF-8 (undecodable bytes as the OS gave them), newline
ANSWER = b"ok\n"
ASK_TIMEOUT_S = 10.0  # the first copy may be busy starting; it answers once its event loop runs
TERMINAL_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


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
    """Ctrl-C (SIGINT) and SIGTERM, received as ``received(signum)`` in the event loop.

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
    """What a shell reports for a program the signal ended: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + signum


def quit_on_signals(app: QApplication, close: Callable[[int, bool], bool]) -> TerminalSignals:
    """Quit ``app`` with ``signal_exit_code`` on Ctrl-C or SIGTERM, once ``close(signum,
    again)`` has done what closing does.  It may say False (it could not keep something
    the user would lose): the app then runs on, and at the next signal (``again`` True)
    it is closed all the same."""
    signals = TerminalSignals(app)
    refused: list[int] = []

    def on_signal(signum: int) -> None:
        if close(signum, bool(refused)):
            signals.received.disconnect(on_signal)  # one quit, however often Ctrl-C is pressed
            app.exit(signal_exit_code(signum))
        else:
            refused.append(signum)

    signals.received.connect(on_signal)
    return signals


def keep_unsaved_text(window: Any) -> bool:
    """Write the editor's unsaved text to a file of its own in the user's data folder, and
    say where; True if there was none or it was written.  Not over the document's own file:
    the user had not chosen to save their changes there."""
    documents = window.documents
    if not documents.is_modified():
        return True
    # A file name has 255 bytes at most, and the temporary file's name adds some 30 to this one's.
    stem = Path(documents.name).stem.encode("utf-8")[:120].decode("utf-8", "ignore") or "Untitled"
    folder = paths.unsaved_texts_dir()
    path = folder / f"{stem} {datetime.now():%Y-%m-%d %H-%M-%S}.txt"
    try:
        atomic_write_text(path, window.editor.toPlainText())
    except OSError as e:
        log.warning("the unsaved text of “%s” could not be kept in %s (%s); the window stays open: "
                    "save the text from there, or stop the app again to quit without it.",
                    documents.name, folder, e.strerror or e)
        return False
    log.warning("the unsaved text of “%s” was kept in %s.", documents.name, path)
    documents.editor.document().setModified(False)
    return True


def close_for_signal(window: Any, again: bool = False) -> bool:
    """What the window's close does (``MainWindow.closeEvent``), without its questions: the
    unsaved text kept in a file (``keep_unsaved_text``), a retraining stopped (one still
    training dropped, as the close's question offers; a finished one kept for the next start
    to offer), the on-screen keyboard closed (its borrowed keys given
    back), the settings and the learned words saved.  False if the text could not be kept,
    unless ``again``: the user was told so and stopped the app once more."""
    if not again and not keep_unsaved_text(window):
        return False
    host = window.findChild(QObject, "osk-host")
    keyboard = getattr(host, "keyboard", None)
    if keyboard is not None:
        keyboard.close()
    # A run still training is dropped (as the close's question says); a finished one whose
    # comparison is under way is kept where it is, under this process's id, so the next start
    # offers it (``retraining.recover_runs``): a signal asks nobody.
    window.finish_closing(drop_run=False, ask=False)
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
