"""What a signal's close keeps, in the cases a hostile test found it lost (H39's findings 1, 2,
4 and 7): a real ``keyboard-app`` process (offscreen), text typed into its editor, then the
signal, sent the way the system sends it.

* Closing the terminal the app was started from (SIGHUP, the terminal gone from under
  stderr) keeps the text, the settings and the learned words, and exits 129.
* A document whose file name is not UTF-8 (Latin-1 "caf\\xe9.txt") opens, is remembered in
  the recent files by its own bytes, and its unsaved text is kept on SIGTERM, shown with
  U+FFFD for the undecodable byte.
* Text that cannot be kept is said in the window (its status bar), and the next signal tries
  again before it quits; an error of any kind while keeping is one sentence, never a
  traceback, and the next signal quits.
* A keep killed before its rename (SIGKILL after SIGTERM) leaves its text offered at the
  next start, named as possibly incomplete."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from keyboard_app import paths

REPO = Path(__file__).resolve().parents[2]
TEXT = "zemblat zemblat and the cat "
OFFSCREEN_NOTE = "This plugin does not support"  # Qt's offscreen platform, on window calls
STEP_TIMEOUT = 60.0  # one reaction on a busy 2-core machine (not a timing assertion)
LATIN1_NAME = b"caf\xe9.txt"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and file names")

# ``keyboard-app`` itself (``__main__.main``, its arguments after the mode), typed into once the
# model is in use; the status bar's messages are printed as they change ("status: ...").
# ``raise-keep``: the keep's write raises an error that is not an OSError (as the surrogate
# name's UnicodeEncodeError did), to see that the signal's close survives any error.
DRIVER = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from keyboard_app import __main__ as entry
from keyboard_app.ui import app as ui_app

app = ui_app.create_application()
mode = sys.argv[1]
if mode == "raise-keep":
    def broken(path, text):
        raise ValueError("a simulated error in the keep")
    ui_app.atomic_write_text = broken

def ready():
    window = next((w for w in app.topLevelWidgets() if w.objectName() == "MainWindow"), None)
    if window is None or window.current_model is None:
        QTimer.singleShot(50, ready)
        return
    window.statusBar().messageChanged.connect(lambda m: print("status:", m, flush=True))
    window.editor.setFocus()
    if mode != "idle":
        QTest.keyClicks(window.editor, "%s")
    print("title:", window.windowTitle(), flush=True)
    print("typed", flush=True)

QTimer.singleShot(0, ready)
sys.exit(entry.main(sys.argv[2:]))
""" % TEXT


class App:
    """The app in the background; its stdout lines as they come.  ``terminal``: its stderr
    is a pseudo-terminal that is the app's controlling terminal, as a terminal window's is."""

    def __init__(self, tmp_path: Path, tiny_bundle: Path, mode: str = "typing", args: list = (),
                 terminal: bool = False, learning: bool = True, env: dict | None = None) -> None:
        self.env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO),
                    "PYTHONIOENCODING": "utf-8", "XDG_CONFIG_HOME": str(tmp_path / "config"),
                    "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                    **(env or {})}
        self.config = tmp_path / "config" / "predictive-keyboard"
        self.data = tmp_path / "data" / "predictive-keyboard"
        self.config.mkdir(parents=True, exist_ok=True)
        (self.config / "settings.json").write_text(json.dumps({"learning_enabled": learning}), encoding="utf-8")
        self.stderr_path = tmp_path / "stderr.txt"
        self.master = None
        command = [sys.executable, "-c", DRIVER, mode, "--model", str(tiny_bundle), *args]
        if terminal:
            self.master, slave = os.openpty()

            def controlling_terminal():  # (after setsid: the app leads a session of its own)
                signal.signal(signal.SIGHUP, signal.SIG_DFL)  # (not ignored, even under nohup)
                fcntl.ioctl(2, termios.TIOCSCTTY, 0)

            self.proc = subprocess.Popen(command, env=self.env, cwd=REPO, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=slave, text=True,
                                         start_new_session=True, preexec_fn=controlling_terminal)
            os.close(slave)
            self.said = bytearray()
            self._hung_up = threading.Event()
            self._terminal_reader = threading.Thread(target=self._read_terminal, daemon=True)
            self._terminal_reader.start()
        else:
            with open(self.stderr_path, "wb") as stderr:
                self.proc = subprocess.Popen(command, env=self.env, cwd=REPO, stdout=subprocess.PIPE,
                                             stderr=stderr, text=True, encoding="utf-8")
        self.lines: list[str] = []
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read_terminal(self) -> None:
        """What the app writes to its terminal, read until ``hang_up`` (a read blocked on the
        terminal would hold it open: the hangup would not happen)."""
        while not self._hung_up.is_set():
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    self.said += os.read(self.master, 4096)
                except OSError:
                    return

    def hang_up(self) -> None:
        """Close the terminal, as closing a terminal window does: the kernel sends the
        session's leader SIGHUP, and the app's stderr has nowhere to go."""
        self._hung_up.set()
        self._terminal_reader.join()
        os.close(self.master)
        self.master = None

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()

    def wait_for(self, test) -> str:
        """The first stdout line ``test`` accepts (a string: that line)."""
        accept = (lambda line: line == test) if isinstance(test, str) else test
        with self._seen:
            if not self._seen.wait_for(lambda: any(map(accept, self.lines)) or self.proc.poll() is not None,
                                       timeout=STEP_TIMEOUT):
                raise AssertionError(f"timed out waiting for {test!r}: {self.lines}")
            found = [line for line in self.lines if accept(line)]
        assert found, f"the app exited first: {self.stderr()[-3000:]}"
        return found[0]

    def stderr(self) -> str:
        lines = self.stderr_path.read_text(encoding="utf-8").splitlines(keepends=True)
        return "".join(line for line in lines if not line.startswith(OFFSCREEN_NOTE))

    def wait(self) -> int:
        try:
            return self.proc.wait(STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("the app is still running") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass


def kept_files(app: App) -> list[Path]:
    folder = app.data / "unsaved"
    return sorted(folder.glob("*.txt")) if folder.is_dir() else []


def test_closing_the_terminal_keeps_the_text_settings_and_learned_words_and_exits_129(tmp_path, tiny_bundle):
    app = App(tmp_path, tiny_bundle, terminal=True)
    try:
        app.wait_for("typed")
        app.hang_up()
        status = app.wait()
    finally:
        app.kill()
    assert status == 129
    [kept] = kept_files(app)
    assert kept.read_text(encoding="utf-8") == TEXT  # kept, though stderr had no terminal left
    settings = json.loads((app.config / "settings.json").read_text(encoding="utf-8"))
    assert settings["window_geometry"]
    assert "zemblat" in (app.data / "personal.json").read_text(encoding="utf-8")


def test_a_latin1_file_name_opens_is_remembered_and_its_unsaved_text_kept_on_sigterm(tmp_path, tiny_bundle):
    document = tmp_path / "docs" / os.fsdecode(LATIN1_NAME)
    document.parent.mkdir()
    document.write_bytes(b"original content\n")
    app = App(tmp_path, tiny_bundle, args=[str(document)])
    try:
        title = app.wait_for(lambda line: line.startswith("title:"))
        app.wait_for("typed")
        app.proc.send_signal(signal.SIGTERM)
        status = app.wait()
    finally:
        app.kill()
    stderr = app.stderr()
    assert status == 143, stderr
    assert "Traceback" not in stderr
    assert "caf\ufffd.txt" in title  # the title shows the name, the byte as U+FFFD
    said = re.fullmatch(r"keyboard-app: the unsaved text of “caf\ufffd\.txt” was kept in (.+\.txt)\.\n", stderr)
    assert said, stderr
    [kept] = kept_files(app)
    assert str(kept) == said[1] and kept.name.startswith("caf\ufffd ")
    assert kept.read_text(encoding="utf-8") == "original content\n" + TEXT
    assert document.read_bytes() == b"original content\n"  # the user's file untouched
    settings = json.loads((app.config / "settings.json").read_text(encoding="utf-8"))
    assert [os.fsencode(p) for p in settings["recent_files"]] == [os.fsencode(document.resolve())]
    assert settings["window_geometry"]


def test_text_that_cannot_be_kept_is_said_in_the_window_and_the_next_signal_tries_again(tmp_path, tiny_bundle):
    app = App(tmp_path, tiny_bundle)
    unsaved = app.data / "unsaved"
    unsaved.parent.mkdir(parents=True, exist_ok=True)
    unsaved.write_text("a file where the folder would go", encoding="utf-8")
    try:
        app.wait_for("typed")
        app.proc.send_signal(signal.SIGINT)
        status_line = app.wait_for(lambda line: line.startswith("status:") and "could not be kept" in line)
        assert app.proc.poll() is None, "the app quit with the text nowhere"
        unsaved.unlink()  # the user makes room
        app.proc.send_signal(signal.SIGTERM)
        status = app.wait()
    finally:
        app.kill()
    stderr = app.stderr()
    assert status == 143 and "Traceback" not in stderr, stderr
    assert f"could not be kept in {unsaved} (it is a file, not a folder)" in status_line
    assert "stop the app again, which tries once more" in status_line
    [kept] = kept_files(app)
    assert kept.read_text(encoding="utf-8") == TEXT  # the second signal kept it
    assert stderr.count("could not be kept") == 1 and f"was kept in {kept}." in stderr


def test_an_error_while_keeping_is_one_sentence_and_the_next_signal_quits(tmp_path, tiny_bundle):
    app = App(tmp_path, tiny_bundle, mode="raise-keep")
    try:
        app.wait_for("typed")
        app.proc.send_signal(signal.SIGTERM)
        app.wait_for(lambda line: line.startswith("status:") and "a simulated error in the keep" in line)
        assert app.proc.poll() is None, "the app quit with the text nowhere"
        app.proc.send_signal(signal.SIGTERM)
        status = app.wait()
    finally:
        app.kill()
    stderr = app.stderr()
    assert status == 143, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("keyboard-app: ") for line in lines), stderr
    assert "could not be kept" in lines[0] and "still cannot be kept" in lines[1]
    assert "zemblat" in (app.data / "personal.json").read_text(encoding="utf-8")  # the rest of the close ran


def test_a_keep_killed_before_its_rename_is_offered_at_the_next_start(tmp_path, tiny_bundle, make_window, boxes, qtbot,
                                                                     monkeypatch):
    first = App(tmp_path, tiny_bundle, mode="idle", learning=False)  # (writes what a first start caches)
    try:
        first.wait_for("typed")
        first.proc.send_signal(signal.SIGTERM)
        assert first.wait() == 143
    finally:
        first.kill()
    app = App(tmp_path, tiny_bundle, learning=False, env={"KEYBOARD_FAULT": "storage.before-rename"})
    try:
        app.wait_for("typed")
        app.proc.send_signal(signal.SIGTERM)  # the keep is killed between its write and its rename
        status = app.wait()
    finally:
        app.kill()
    assert status == -signal.SIGKILL
    assert kept_files(app) == []
    [temp] = (app.data / "unsaved").glob(".*.tmp")
    assert temp.read_text(encoding="utf-8") == TEXT

    monkeypatch.setenv("XDG_DATA_HOME", app.env["XDG_DATA_HOME"])  # the next start, in this process
    boxes.answers.append(QMessageBox.StandardButton.Open)
    window = make_window()
    qtbot.waitUntil(lambda: window.editor.toPlainText() == TEXT, timeout=10_000)
    [(kind, title, text)] = boxes.shown
    assert title == "Unsaved Text Kept" and "(possibly incomplete).txt" in text
    assert not temp.exists()
    [offered] = kept_files(app)  # kept until the text is saved or discarded
    assert offered.name.endswith(" (possibly incomplete).txt") and offered.read_text(encoding="utf-8") == TEXT
    assert window.documents.kept.path == offered and window.documents.path is None


def put_temp(name: str, data: bytes, pid: int) -> Path:
    folder = paths.unsaved_texts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".{name}.{pid}.abcd1234.tmp"
    path.write_bytes(data)
    return path


def test_only_a_dead_writers_temp_with_text_is_offered(qtbot, make_window, boxes):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead = int(ended.stdout)
    empty = put_temp("Untitled 2026-12-03 10-00-00.txt", b"", dead)
    writing = put_temp("Untitled 2026-12-03 11-00-00.txt", b"being written", os.getpid())
    left = put_temp("Untitled 2026-12-03 12-00-00.txt", "half a le".encode(), dead)
    make_window()
    qtbot.waitUntil(lambda: len(boxes.shown) == 1, timeout=10_000)
    assert "Untitled 2026-12-03 12-00-00 (possibly incomplete).txt" in boxes.shown[0][2]
    assert not empty.exists() and not left.exists()  # (nothing was in the empty one)
    assert writing.read_bytes() == b"being written"  # a live writer's: not touched
    offered = paths.unsaved_texts_dir() / "Untitled 2026-12-03 12-00-00 (possibly incomplete).txt"
    assert offered.read_text() == "half a le"


def test_a_kept_text_stays_where_it_is_while_it_is_restored_and_after(qtbot, make_window, boxes, monkeypatch):
    from keyboard_app.ui.documents import Documents

    folder = paths.unsaved_texts_dir()
    folder.mkdir(parents=True)
    kept = folder / "Untitled 2026-12-02 10-00-00.txt"
    kept.write_text("the only copy", encoding="utf-8")
    where_while_opening = []
    real_restore = Documents.restore

    def restore_and_look(self, kept_text):
        where_while_opening.append((kept_text.path, kept.exists()))  # a crash here must not hide it
        return real_restore(self, kept_text)

    monkeypatch.setattr(Documents, "restore", restore_and_look)
    boxes.answers.append(QMessageBox.StandardButton.Open)
    window = make_window()
    qtbot.waitUntil(lambda: window.editor.toPlainText() == "the only copy", timeout=10_000)
    assert where_while_opening == [(kept, True)]
    assert kept.read_text(encoding="utf-8") == "the only copy"  # until it is saved or discarded
    assert window.documents.path is None and window.documents.is_modified()
    assert window.settings.recent_files == []  # the app's data folder is no file of the user's


def test_a_latin1_named_document_saves_under_its_own_bytes_and_is_shown_readably(tmp_path, window, qtbot):
    document = tmp_path / os.fsdecode(LATIN1_NAME)
    document.write_bytes(b"old\n")
    assert window.documents.open(document)
    assert window.documents.name == "caf\ufffd.txt"
    assert "caf\ufffd.txt" in window.windowTitle()
    window.editor.insertPlainText("new ")
    assert window.documents.save()
    assert (tmp_path / os.fsdecode(LATIN1_NAME)).read_bytes() == b"old\nnew "
    assert sorted(os.listdir(os.fsencode(tmp_path))).count(LATIN1_NAME) == 1
    assert "caf\ufffd.txt" in window.statusBar().currentMessage()
    again = json.loads(paths.settings_path().read_text(encoding="utf-8"))
    assert os.fsencode(again["recent_files"][0]) == os.fsencode(document.resolve())


def test_sighup_is_handled_unless_nohup_ignored_it(qapp):
    from keyboard_app.ui.app import TerminalSignals

    before = signal.getsignal(signal.SIGHUP)
    try:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signals = TerminalSignals(qapp)
        assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, signal.SIG_IGN)  # ours
        signals.close()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL  # put back

        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as ``nohup keyboard-app`` starts it
        signals = TerminalSignals(qapp)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN  # the app outlives its terminal
        signals.close()
    finally:
        signal.signal(signal.SIGHUP, before)
