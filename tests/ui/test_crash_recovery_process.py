"""Nothing typed is lost when the app dies without a chance to run anything: a real
``keyboard-app`` process, text typed into its editor, the pause that lets the copy for a crash
be written (``Documents.write_recovery``), then SIGKILL (offscreen), or its X server killed
under it (Xvfb: Qt's xcb platform ends the process itself, "The X11 connection broke", exit 1).
The next start offers the text as recovered, and Open restores it exactly, under its file's
name."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

REPO = Path(__file__).resolve().parents[2]
TEXT = "zemblat and the cat sat on the mat "
STEP_TIMEOUT = 60.0  # one reaction on a busy 2-core machine (not a timing assertion)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

# ``keyboard-app`` itself (``__main__.main``, given the arguments), typed into once its model is in use.
DRIVER = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from keyboard_app import __main__ as entry
from keyboard_app.ui import app as ui_app

app = ui_app.create_application()

def ready():
    window = next((w for w in app.topLevelWidgets() if w.objectName() == "MainWindow"), None)
    if window is None or window.current_model is None or not window.isVisible():
        QTimer.singleShot(50, ready)
        return
    window.editor.setFocus()
    QTest.keyClicks(window.editor, %r)
    print("typed", flush=True)

QTimer.singleShot(0, ready)
sys.exit(entry.main(sys.argv[1:]))
""" % TEXT


def start_app(tmp_path: Path, tiny_bundle: Path, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, dict]:
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8",
                "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
                "XDG_CACHE_HOME": str(tmp_path / "cache"), **(env or {})}
    config = tmp_path / "config" / "predictive-keyboard"
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text(json.dumps({"learning_enabled": False}), encoding="utf-8")
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, "--model", str(tiny_bundle), *args], env=full_env,
                                cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True)
    return proc, full_env


def wait_for_copy(proc: subprocess.Popen, folder: Path, text: str) -> Path:
    """The copy for a crash, once it holds ``text`` (written after the pause)."""
    line = proc.stdout.readline()  # (blocks until typed, or the app ended)
    assert line == "typed\n", f"the app ended first: {line!r}"
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        for path in folder.glob("*.txt") if folder.is_dir() else ():
            if path.read_text(encoding="utf-8") == text:
                return path
        time.sleep(0.1)
    raise AssertionError(f"no copy of the typed text in {folder}")


def next_start_restores(qtbot, make_window, boxes, monkeypatch, env: dict, text: str):
    """The next start (in this process, the same user folders) offers the text, and Open restores it."""
    monkeypatch.setenv("XDG_DATA_HOME", env["XDG_DATA_HOME"])
    boxes.answers.append(QMessageBox.StandardButton.Open)
    window = make_window()
    qtbot.waitUntil(lambda: window.editor.toPlainText() == text, timeout=10_000)
    [(kind, title, said)] = boxes.shown
    assert title == "Unsaved Text Recovered" and "stopped without closing" in said
    assert window.documents.is_modified() and window.documents.kept is not None
    return window, said


def test_a_killed_app_loses_nothing_typed_before_the_pause(tmp_path, tiny_bundle, qtbot, make_window, boxes,
                                                            monkeypatch):
    document = tmp_path / "notes" / "todo.md"
    document.parent.mkdir()
    document.write_text("buy milk\n", encoding="utf-8")
    proc, env = start_app(tmp_path, tiny_bundle, str(document))
    try:
        unsaved = Path(env["XDG_DATA_HOME"]) / "predictive-keyboard" / "unsaved"
        copy = wait_for_copy(proc, unsaved, "buy milk\n" + TEXT)
        proc.kill()  # SIGKILL: nothing of the app runs
        assert proc.wait(STEP_TIMEOUT) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    assert copy.name.startswith("todo ")
    assert document.read_text(encoding="utf-8") == "buy milk\n"  # the user's file untouched
    window, said = next_start_restores(qtbot, make_window, boxes, monkeypatch, env, "buy milk\n" + TEXT)
    assert str(document) in said and copy.name in said
    assert window.documents.name == "todo.md" and window.documents.origin == document


def test_losing_the_x_server_loses_nothing_typed_before_the_pause(tmp_path, tiny_bundle, qtbot, make_window, boxes,
                                                                   monkeypatch):
    if shutil.which("Xvfb") is None:
        pytest.skip("needs an X server to lose: Xvfb (Debian: xvfb) not installed")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                              pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    proc = None
    try:
        if not number:
            pytest.skip("Xvfb did not start")
        proc, env = start_app(tmp_path, tiny_bundle,
                              env={"QT_QPA_PLATFORM": "xcb", "DISPLAY": f":{number}", "XDG_SESSION_TYPE": "x11"})
        unsaved = Path(env["XDG_DATA_HOME"]) / "predictive-keyboard" / "unsaved"
        copy = wait_for_copy(proc, unsaved, TEXT)
        server.kill()  # the X server gone, as when a session's display dies
        server.wait(STEP_TIMEOUT)
        status = proc.wait(STEP_TIMEOUT)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        if server.poll() is None:
            server.kill()
            server.wait()
    stderr = (tmp_path / "stderr.txt").read_text(encoding="utf-8", errors="replace")
    assert status == 1 and "X11 connection broke" in stderr, stderr[-2000:]  # Qt ended it: no hook ran
    assert json.loads((copy.parent / (copy.name + ".origin.json")).read_text())["writer"]["pid"] == proc.pid
    window, said = next_start_restores(qtbot, make_window, boxes, monkeypatch, env, TEXT)
    assert window.documents.name == "Untitled" and window.isWindowModified()
