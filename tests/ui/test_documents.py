"""Documents: save, save as, open, recent files, the unsaved-changes prompt, settings problems."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from keyboard_app import paths
from keyboard_app.settings import SettingsStore

SB = QMessageBox.StandardButton


def test_save_as_then_save_writes_the_file(qtbot, window, boxes, tmp_path):
    target = tmp_path / "letter.txt"
    qtbot.keyClicks(window.editor, "Dear Alice")
    assert window.isWindowModified()
    boxes.files.append(target)
    qtbot.keyClick(window.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert target.read_text(encoding="utf-8") == "Dear Alice"
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("letter.txt")
    qtbot.keyClicks(window.editor, ", hello")
    qtbot.keyClick(window.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert target.read_text(encoding="utf-8") == "Dear Alice, hello"
    assert boxes.kinds() == ["save"]  # the second save asked nothing
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".letter")] == []


def test_open_and_recent_files(qtbot, window, boxes, tmp_path):
    doc = tmp_path / "notes.txt"
    doc.write_text("The cat sat on the ", encoding="utf-8")
    boxes.files.append(doc)
    window.open_action.trigger()
    assert window.editor.toPlainText() == "The cat sat on the "
    assert "mat" in window.strip.words()  # the caret is at the end, suggestions shown
    assert window.settings.recent_files == [str(doc.resolve())]
    window._fill_recent_menu()
    recent = [a for a in window.recent_menu.actions() if a.text().endswith("notes.txt")]
    window.new_document()
    assert window.editor.toPlainText() == ""
    recent[0].trigger()
    assert window.editor.toPlainText() == "The cat sat on the "
    saved, _ = SettingsStore().load()
    assert saved.recent_files == [str(doc.resolve())]


def test_a_missing_recent_file_is_reported_and_dropped(window, boxes, tmp_path):
    gone = tmp_path / "gone.txt"
    gone.write_text("x")
    window.open_document(gone)
    window.new_document()
    gone.unlink()
    assert not window.open_document(gone)
    assert boxes.kinds() == ["critical"] and "gone.txt" in boxes.texts()[0]
    assert window.settings.recent_files == []


def test_a_latin1_file_opens_with_a_notice(window, tmp_path):
    doc = tmp_path / "old.txt"
    doc.write_bytes("caf\xe9".encode("latin-1"))
    assert window.open_document(doc)
    assert window.editor.toPlainText() == "caf\xe9"
    assert "Latin-1" in window.statusBar().currentMessage()


def test_unsaved_changes_prompt_on_close(qtbot, window, boxes, tmp_path):
    qtbot.keyClicks(window.editor, "unsaved words")
    boxes.answers.append(SB.Cancel)
    assert not window.close()
    assert window.isVisible() and window.editor.toPlainText() == "unsaved words"
    boxes.answers.append(SB.Save)
    boxes.files.append("")  # then cancels the file dialog: still nothing lost
    assert not window.close()
    target = tmp_path / "kept.txt"
    boxes.answers.append(SB.Save)
    boxes.files.append(target)
    assert window.close()
    assert target.read_text(encoding="utf-8") == "unsaved words"
    assert [k for k in boxes.kinds() if k == "warning"] == ["warning"] * 3


def test_unsaved_changes_prompt_on_open_can_discard(qtbot, window, boxes, tmp_path):
    doc = tmp_path / "other.txt"
    doc.write_text("other", encoding="utf-8")
    qtbot.keyClicks(window.editor, "draft")
    boxes.answers.append(SB.Discard)
    assert window.open_document(doc)
    assert window.editor.toPlainText() == "other"


def test_a_failed_save_keeps_the_text_and_says_so(qtbot, window, boxes, tmp_path):
    qtbot.keyClicks(window.editor, "precious")
    boxes.files.append(tmp_path / "no-such-folder" / "x" / "f.txt")
    (tmp_path / "no-such-folder").write_text("a file where a folder should be")
    assert not window.save_document()
    assert boxes.kinds()[-1] == "critical" and "Nothing was lost" in boxes.texts()[-1]
    assert window.editor.toPlainText() == "precious" and window.isWindowModified()


def test_a_corrupt_settings_file_is_reported_once(make_window, boxes, qtbot):
    path = paths.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("{ this is not json", encoding="utf-8")
    window = make_window()
    qtbot.waitUntil(lambda: boxes.kinds() == ["warning"])
    assert "reset to the defaults" in boxes.texts()[0]
    assert window.model_label.text() == "Model: Tiny test model"
    window.close()
    boxes.shown.clear()
    make_window()
    qtbot.wait(50)
    assert boxes.shown == []  # once, not at every start


def test_settings_persist_window_state_and_model(make_window, qtbot):
    window = make_window()
    window.resize(700, 500)
    window.close()
    saved, problem = SettingsStore().load()
    assert problem is None and saved.window_geometry
    again = make_window()
    assert abs(again.width() - 700) < 50


def test_nothing_is_written_to_the_user_folders_by_merely_starting(make_window, user_folders):
    make_window()
    data = user_folders / "xdg-data"
    assert not data.exists() or not any(Path(data).rglob("*.json"))


def test_the_unsaved_changes_box_names_what_replaces_the_text(qtbot, window, boxes, tmp_path):
    """H25 finding 2: the box said "before closing it?" when a file was being opened."""
    doc = tmp_path / "doc2.txt"
    doc.write_text("other", encoding="utf-8")
    qtbot.keyClicks(window.editor, "Important unsaved letter.")
    boxes.answers.extend([SB.Cancel, SB.Cancel, SB.Cancel, SB.Cancel])
    assert not window.open_document(doc)
    window.new_document()
    window.open_action.trigger()
    assert not window.close()
    assert boxes.texts("warning") == [
        "Save the changes to “Untitled” before opening “doc2.txt”?",
        "Save the changes to “Untitled” before starting a new document?",
        "Save the changes to “Untitled” before opening another file?",
        "Save the changes to “Untitled” before closing it?",
    ]
    assert window.editor.toPlainText() == "Important unsaved letter." and window.isWindowModified()


def test_a_named_file_that_cannot_be_opened_leaves_unsaved_text_unasked(qtbot, window, boxes, tmp_path):
    """A file named from outside (another start, the recent files) is read before the question:
    one that is missing or not text says so, and the unsaved text stays, with nothing to answer."""
    qtbot.keyClicks(window.editor, "Important unsaved letter.")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(bytes(range(256)))
    assert not window.open_document(tmp_path / "nothere.txt")
    assert not window.open_document(binary)
    assert boxes.kinds() == ["critical", "critical"]
    assert "nothere.txt" in boxes.texts()[0] and "photo.txt" in boxes.texts()[1]
    assert window.editor.toPlainText() == "Important unsaved letter." and window.isWindowModified()
