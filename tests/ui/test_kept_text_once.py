"""A kept text (``app.keep_unsaved_text``) is offered once, restored once, and removed only once
the user saved it or said to discard it; two copies of the app never both take the same one
(H57's findings).

Before: Open moved the kept file to ``unsaved/opened/`` and made it the document's own file, so
the restored text looked saved (no question at closing, Ctrl+S wrote into the app's data
folder, which became the folder the file dialogs started in), the copy there was never removed,
and a kill after more typing kept the whole text again under a name with a second date
("Untitled 2026-12-03 16-45-03 2026-12-03 16-50-00.txt") beside the older copy; two copies
starting at once both offered the same file."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from keyboard_app import paths
from keyboard_app.ui.app import keep_unsaved_text
from qt_helpers import kept

REPO = Path(__file__).resolve().parents[2]
SB = QMessageBox.StandardButton
NAME = "Untitled 2026-12-03 16-45-03.txt"
FIRST = "Meeting notes for the garden club. "
MORE = "Bring seeds. "
STEP_TIMEOUT = 60.0  # one reaction on a busy 2-core machine (not a timing assertion)



def everything_kept() -> list[str]:
    """Every file under the kept texts' folder, sub-folders too (an ``opened/`` copy)."""
    folder = paths.unsaved_texts_dir()
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def offers(boxes) -> list[str]:
    return [text for kind, title, text in boxes.shown if title == "Unsaved Text Kept"]


def restored(qtbot, make_window, boxes, text: str):
    boxes.answers.append(SB.Open)
    window = make_window()
    qtbot.waitUntil(lambda: window.editor.toPlainText() == text, timeout=10_000)
    return window


def test_a_restored_text_is_unsaved_until_saved_and_then_its_kept_file_is_gone(qtbot, make_window, boxes, tmp_path):
    path = kept(NAME, FIRST)
    window = restored(qtbot, make_window, boxes, FIRST)
    documents = window.documents
    assert documents.is_modified() and documents.path is None  # in no file of the user's yet
    assert window.isWindowModified() and window.windowTitle().startswith("Untitled[*]")
    assert everything_kept() == [NAME]  # kept until the user saves it

    boxes.files.append(tmp_path / "club.txt")
    assert documents.save()  # Save asks where, as for any new document
    assert (tmp_path / "club.txt").read_text(encoding="utf-8") == FIRST
    assert not path.exists() and everything_kept() == []
    settings = json.loads(paths.settings_path().read_text(encoding="utf-8"))
    assert settings["recent_files"] == [str((tmp_path / "club.txt").resolve())]
    assert settings["last_directory"] == str(tmp_path.resolve())  # not the app's data folder

    boxes.shown.clear()
    make_window()
    qtbot.wait(100)
    assert offers(boxes) == []  # restored once, offered never again


def test_closing_asks_about_a_restored_text_and_discard_removes_its_kept_file(qtbot, make_window, boxes):
    path = kept(NAME, FIRST)
    window = restored(qtbot, make_window, boxes, FIRST)
    boxes.answers.append(SB.Cancel)
    assert not window.close()  # it asks: the text is in no file of the user's
    assert window.isVisible() and path.exists()
    boxes.answers.append(SB.Discard)
    assert window.close()
    assert everything_kept() == []  # the user said to discard it


def test_a_restored_text_killed_again_is_kept_once_in_its_own_file(qtbot, make_window, boxes):
    kept(NAME, FIRST)
    window = restored(qtbot, make_window, boxes, FIRST)
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    window.editor.insertPlainText(MORE)
    assert keep_unsaved_text(window)  # what SIGTERM, SIGHUP or Ctrl-C does first
    assert everything_kept() == [NAME]  # one file, its name without a second date
    assert (paths.unsaved_texts_dir() / NAME).read_text(encoding="utf-8") == FIRST + MORE
    window.documents.kept.release()  # (the process ends)

    boxes.shown.clear()
    again = restored(qtbot, make_window, boxes, FIRST + MORE)  # the whole text, once
    [offer] = offers(boxes)
    assert NAME in offer and "older" not in offer
    assert again.editor.toPlainText().count(FIRST) == 1


def test_two_copies_starting_at_once_never_take_the_same_kept_text(qtbot, make_window, boxes, monkeypatch):
    older = kept("letter 2026-12-02 10-00-00 2 (possibly incomplete).txt", "Dear Ann,", age_s=3600)
    newest = kept(NAME, FIRST)
    asked = []
    seconds = []
    scripted = QMessageBox.question

    def question(parent, title, text, *args):
        asked.append((parent, text))
        if len(asked) == 1:  # the first copy asks; the second starts while it waits
            seconds.append(make_window())
            qtbot.waitUntil(lambda: len(asked) == 2, timeout=10_000)
        return scripted(parent, title, text, *args)

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    boxes.answers += [SB.Open, SB.Open]  # the second copy's answer, then the first's
    first = make_window()
    qtbot.waitUntil(lambda: first.editor.toPlainText() == FIRST, timeout=10_000)
    [second] = seconds
    qtbot.waitUntil(lambda: second.editor.toPlainText() == "Dear Ann,", timeout=10_000)
    (_, to_first), (_, to_second) = asked
    assert newest.name in to_first and "(1 older there too)" in to_first
    assert older.name in to_second and newest.name not in to_second and "older" not in to_second
    assert first.documents.kept.path == newest and second.documents.kept.path == older
    assert second.documents.name == "letter"  # the document it was kept from, unsaved


def test_a_kept_text_answered_no_is_offered_again_and_kept_until_saved(qtbot, make_window, boxes):
    path = kept(NAME, FIRST)
    make_window()  # answered No (the script's default)
    qtbot.waitUntil(lambda: len(offers(boxes)) == 1, timeout=10_000)
    boxes.shown.clear()
    restored(qtbot, make_window, boxes, FIRST)  # not held by the window that was told No
    assert path.exists()


# The real app, offscreen: the kept-text question answered Open, more typed, then a signal.
DRIVER = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from keyboard_app import __main__ as entry
from keyboard_app.ui import app as ui_app

app = ui_app.create_application()

def answer():
    box = next((w for w in app.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()), None)
    if box is None:
        QTimer.singleShot(50, answer)
        return
    box.button(QMessageBox.StandardButton.Open).click()
    QTimer.singleShot(0, ready)

def ready():
    window = next((w for w in app.topLevelWidgets() if w.objectName() == "MainWindow"), None)
    if window is None or window.current_model is None:
        QTimer.singleShot(50, ready)
        return
    window.editor.setFocus()
    QTest.keyClicks(window.editor, sys.argv[1])
    print("typed", flush=True)

QTimer.singleShot(0, answer)
sys.exit(entry.main(sys.argv[2:]))
"""


def run_restoring(tmp_path: Path, tiny_bundle: Path, signum: int) -> tuple[int, str]:
    """Start the app, restore the kept text, type ``MORE``, send ``signum``: (status, stderr)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8",
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command = [sys.executable, "-c", DRIVER, MORE, "--model", str(tiny_bundle)]
    proc = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8")
    try:
        ready = select.select([proc.stdout], [], [], STEP_TIMEOUT)[0]
        if not ready or proc.stdout.readline() != "typed\n":
            proc.kill()
            raise AssertionError(proc.communicate()[1][-3000:])
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=STEP_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, stderr


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_the_real_app_keeps_a_restored_text_once_on_sigterm_and_loses_nothing_to_sigkill(tmp_path, tiny_bundle):
    folder = tmp_path / "data" / "predictive-keyboard" / "unsaved"
    folder.mkdir(parents=True)
    (folder / NAME).write_text(FIRST, encoding="utf-8")

    status, stderr = run_restoring(tmp_path, tiny_bundle, signal.SIGTERM)
    assert status == 143 and "Traceback" not in stderr, stderr
    assert f"was kept in {folder / NAME}." in stderr
    assert sorted(p.name for p in folder.rglob("*")) == [NAME]  # one file, one name
    assert (folder / NAME).read_text(encoding="utf-8") == FIRST + MORE

    status, stderr = run_restoring(tmp_path, tiny_bundle, signal.SIGKILL)  # a crash: nothing kept anew
    assert status == -signal.SIGKILL
    assert sorted(p.name for p in folder.rglob("*")) == [NAME]
    assert (folder / NAME).read_text(encoding="utf-8") == FIRST + MORE  # still there, offered again
