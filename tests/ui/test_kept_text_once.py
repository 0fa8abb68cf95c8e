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


# --- a text kept from a file keeps its path (H59) ---------------------------------------------
# Before: the kept text lost the path of the file it was kept from: restored, "todo.md" was
# "todo", and Save As offered "todo.txt" in whatever folder the dialogs last used.

TODO = "# Todo\n\n- buy milk\n"
ADDED = "- call the plumber\n"


def save_dialog(monkeypatch, answer):
    """QFileDialog.getSaveFileName scripted to answer ``answer``; returns where it started each time."""
    from PySide6.QtWidgets import QFileDialog

    started = []

    def ask(parent, title, start, *args, **kwargs):
        started.append(start)
        return (str(answer), "Text files (*.txt *.md *.text)") if answer else ("", "")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(ask))
    return started


def kept_from_a_file(qtbot, make_window, tmp_path) -> tuple[Path, Path]:
    """``notes/todo.md`` opened, a line added, and the app stopped by a signal: (the file, the kept text)."""
    todo = tmp_path / "notes" / "todo.md"
    todo.parent.mkdir()
    todo.write_text(TODO, encoding="utf-8")
    window = make_window()
    assert window.documents.open(todo)
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    window.editor.insertPlainText(ADDED)
    assert keep_unsaved_text(window)  # what SIGTERM, SIGHUP or Ctrl-C does first
    [name] = [n for n in everything_kept() if n.endswith(".txt")]
    return todo, paths.unsaved_texts_dir() / name


def test_a_text_kept_from_a_file_is_restored_under_its_name_and_save_as_starts_there(
        qtbot, make_window, boxes, tmp_path, monkeypatch):
    todo, path = kept_from_a_file(qtbot, make_window, tmp_path)
    assert everything_kept() == sorted([path.name, path.name + ".origin.json"])
    window = restored(qtbot, make_window, boxes, TODO + ADDED)
    [offer] = offers(boxes)
    assert f"the text you had not saved to “{todo}” was kept in “{path.name}”" in offer
    documents = window.documents
    assert documents.path is None and documents.is_modified()  # never written there unasked
    assert documents.name == "todo.md" and window.windowTitle().startswith("todo.md[*]")

    started = save_dialog(monkeypatch, "")  # Save asks where, starting at the file it was: cancelled
    assert not documents.save()
    assert started == [str(todo)]
    assert todo.read_text(encoding="utf-8") == TODO and path.exists()  # nothing written, nothing lost

    started = save_dialog(monkeypatch, todo)  # the user chose its old place (the dialog asked to replace it)
    assert documents.save()
    assert todo.read_text(encoding="utf-8") == TODO + ADDED and documents.path == todo
    assert everything_kept() == []  # the kept text and its path, both gone once saved


def test_a_restored_text_kept_again_keeps_its_files_path(qtbot, make_window, boxes, tmp_path, monkeypatch):
    todo, path = kept_from_a_file(qtbot, make_window, tmp_path)
    window = restored(qtbot, make_window, boxes, TODO + ADDED)
    window.editor.insertPlainText(MORE)
    assert keep_unsaved_text(window)  # killed again: the same kept file, and the path beside it
    assert everything_kept() == sorted([path.name, path.name + ".origin.json"])
    window.documents.kept.release()  # (the process ends)

    again = restored(qtbot, make_window, boxes, TODO + ADDED + MORE)
    started = save_dialog(monkeypatch, tmp_path / "elsewhere.md")
    assert again.documents.save()
    assert started == [str(todo)] and todo.read_text(encoding="utf-8") == TODO
    assert everything_kept() == []


def test_save_as_offers_the_files_name_where_its_folder_is_gone(qtbot, make_window, boxes, tmp_path, monkeypatch):
    todo, _ = kept_from_a_file(qtbot, make_window, tmp_path)
    todo.unlink()
    todo.parent.rmdir()
    window = restored(qtbot, make_window, boxes, TODO + ADDED)
    started = save_dialog(monkeypatch, "")
    window.documents.save()
    assert started == [str(Path(window.documents.start_directory()) / "todo.md")]


@pytest.mark.parametrize("record", ["not json", '{"path": "notes/todo.md"}', '["/a/b.md"]', '{"path": 3}'])
def test_a_damaged_path_record_restores_the_text_as_before(qtbot, make_window, boxes, monkeypatch, record):
    path = kept("todo 2026-12-03 16-45-03.txt", FIRST)
    (path.parent / (path.name + ".origin.json")).write_text(record, encoding="utf-8")
    window = restored(qtbot, make_window, boxes, FIRST)
    assert window.documents.name == "todo"  # the kept name, as for a text with no file
    started = save_dialog(monkeypatch, "")
    window.documents.save()
    assert started == [str(Path(window.documents.start_directory()) / "todo.txt")]


def test_the_start_removes_an_empty_opened_folder_and_paths_of_texts_gone(qtbot, make_window, boxes):
    folder = paths.unsaved_texts_dir()
    (folder / "opened").mkdir(parents=True)  # left by versions before H57's fix
    (folder / "gone 2026-12-01 09-00-00.txt.origin.json").write_text('{"path": "/tmp/gone.md"}')
    make_window()
    qtbot.wait(100)
    assert not (folder / "opened").exists() and everything_kept() == []
    assert offers(boxes) == []


def test_an_opened_folder_with_a_users_text_in_it_is_left_alone(qtbot, make_window, boxes):
    folder = paths.unsaved_texts_dir() / "opened"
    folder.mkdir(parents=True)
    (folder / "letter.txt").write_text("Dear Ann,")  # an earlier version saved the user's text here
    make_window()
    qtbot.wait(100)
    assert (folder / "letter.txt").read_text() == "Dear Ann,"


def test_the_start_says_once_where_earlier_versions_saved_texts_and_leaves_them_there(qtbot, make_window, boxes):
    folder = paths.unsaved_texts_dir() / "opened"
    folder.mkdir(parents=True)
    (folder / "letter.txt").write_text("Dear Ann,")  # opened and saved with Ctrl+S by an earlier version
    (folder / "<b>notes.txt").write_text("Seeds.")
    make_window()
    qtbot.waitUntil(lambda: "information" in boxes.kinds(), timeout=10_000)
    [(title, text)] = [(t, x) for k, t, x in boxes.shown if k == "information"]
    assert title == "Texts Saved by an Earlier Version"
    assert f"into {folder}, and Ctrl+S saved them there. 2 texts are still there (“<b>notes.txt”, “letter.txt”)" in text
    make_window()  # the next start: said already
    qtbot.wait(100)
    assert boxes.kinds().count("information") == 1
    assert sorted(p.name for p in folder.iterdir()) == ["<b>notes.txt", "letter.txt"]
    assert (folder / "letter.txt").read_text() == "Dear Ann," and (folder / "<b>notes.txt").read_text() == "Seeds."


def test_an_empty_or_missing_opened_folder_is_not_mentioned(qtbot, make_window, boxes):
    make_window()
    (paths.unsaved_texts_dir() / "opened").mkdir(parents=True)
    make_window()
    qtbot.wait(100)
    assert "information" not in boxes.kinds()


def test_a_killed_keep_of_a_restored_text_is_offered_with_its_files_path(qtbot, make_window, boxes, tmp_path,
                                                                         monkeypatch):
    todo, path = kept_from_a_file(qtbot, make_window, tmp_path)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    # a restored text kept again, SIGKILLed before the rename: the text only in the keep's temporary file
    (path.parent / f".{path.name}.{int(ended.stdout)}.abcd1234.tmp").write_text(TODO + ADDED + MORE)
    path.unlink()  # (its older copy removed meanwhile: the adopted one is the newest and only)
    window = restored(qtbot, make_window, boxes, TODO + ADDED + MORE)
    assert window.documents.kept.path.name == path.stem + " (possibly incomplete).txt"
    assert window.documents.name == "todo.md"
    started = save_dialog(monkeypatch, "")
    window.documents.save()
    assert started == [str(todo)]


def test_a_restored_text_of_a_latin1_file_is_written_back_in_latin1_only_if_the_user_says_so(
        qtbot, make_window, boxes, tmp_path, monkeypatch):
    # H60: the path alone was kept, so Save As over the original wrote it as UTF-8 unasked
    import keyboard_app.ui.documents as documents_module

    letter = tmp_path / "notes" / "lettre.txt"
    letter.parent.mkdir()
    letter.write_bytes("Chère Anne,\n".encode("latin-1"))
    window = make_window()
    assert window.documents.open(letter)
    read_as = window.documents.encoding
    assert read_as not in documents_module.UTF8
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    window.editor.insertPlainText("à bientôt.\n")
    assert keep_unsaved_text(window)
    [name] = [n for n in everything_kept() if n.endswith(".txt")]
    record = json.loads((paths.unsaved_texts_dir() / (name + ".origin.json")).read_text(encoding="utf-8"))
    assert record == {"path": str(letter), "encoding": read_as}

    again = restored(qtbot, make_window, boxes, "Chère Anne,\nà bientôt.\n")
    asked = []

    def answer(parent, shown_name, encoding, keeps_text, unfit=None):
        asked.append((shown_name, encoding, keeps_text))
        return encoding  # "Keep Latin-1"

    monkeypatch.setattr(documents_module, "ask_encoding", answer)
    save_dialog(monkeypatch, letter)
    assert again.documents.save()
    assert asked == [("lettre.txt", read_as, True)]
    assert letter.read_bytes() == "Chère Anne,\nà bientôt.\n".encode("latin-1")


def test_save_as_passes_over_a_folder_it_cannot_look_into(qtbot, make_window, boxes, tmp_path, monkeypatch):
    # H60: Path.is_dir raises on 3.11 for a permission error or a dead mount; it stopped Save As
    todo, _ = kept_from_a_file(qtbot, make_window, tmp_path)
    window = restored(qtbot, make_window, boxes, TODO + ADDED)
    real_is_dir = Path.is_dir

    def is_dir(self, *args, **kwargs):
        if self == todo.parent:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_dir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "is_dir", is_dir)
    started = save_dialog(monkeypatch, "")
    assert not window.documents.save()  # cancelled in the dialog, which was offered
    assert started == [str(Path(window.documents.start_directory()) / "todo.md")]
