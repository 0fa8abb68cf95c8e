"""Text kept when a signal closed the app (``app.keep_unsaved_text``) is offered at the next
start: opened if the user says so (and then not offered again), offered again if not."""

from __future__ import annotations


from PySide6.QtWidgets import QMessageBox

from qt_helpers import kept



def questions(boxes):
    return [(title, text) for kind, title, text in boxes.shown if kind == "question"]


def test_the_newest_kept_text_is_opened_when_the_user_says_so_and_not_offered_again(qtbot, make_window, boxes):
    older = kept("Untitled 2026-12-01 09-00-00.txt", "an older draft", age_s=3600)
    newest = kept("letter 2026-12-02 10-00-00.txt", "Dear Ann, the plans changed")
    boxes.answers.append(QMessageBox.StandardButton.Open)
    window = make_window()
    qtbot.waitUntil(lambda: window.editor.toPlainText() == "Dear Ann, the plans changed", timeout=10_000)
    [(title, text)] = questions(boxes)
    assert title == "Unsaved Text Kept" and "letter 2026-12-02 10-00-00.txt" in text and "1 older" in text
    assert window.documents.is_modified() and window.documents.kept.path == newest  # kept until saved or discarded
    assert older.exists()  # still offered next time

    boxes.shown.clear()
    again = make_window()
    qtbot.wait(100)
    [(_, text)] = questions(boxes)
    assert older.name in text and "older" not in text.split(older.name)[1]
    assert again.editor.toPlainText() == ""  # answered No (the default script's answer)


def test_a_kept_text_the_user_does_not_open_stays_where_it_is(qtbot, make_window, boxes):
    path = kept("Untitled 2026-12-02 10-00-00.txt", "keep me")
    window = make_window()
    qtbot.wait(100)
    [(_, text)] = questions(boxes)
    assert str(path.parent) in text and "asked again" in text  # where it is, and what No does
    assert window.editor.toPlainText() == ""
    assert path.read_text() == "keep me"


def test_a_kept_text_can_be_deleted_after_a_second_question(qtbot, make_window, boxes):
    SB = QMessageBox.StandardButton
    path = kept("Untitled 2026-12-02 10-00-00.txt", "not wanted")
    boxes.answers += [SB.Discard, SB.No]  # changed their mind: kept
    make_window()
    qtbot.waitUntil(lambda: len(questions(boxes)) == 2, timeout=10_000)
    assert path.exists() and questions(boxes)[1][0] == "Delete Kept Text?"
    boxes.shown.clear()
    boxes.answers += [SB.Discard, SB.Yes]
    make_window()
    qtbot.waitUntil(lambda: not path.exists(), timeout=10_000)


def test_a_kept_text_that_cannot_be_opened_is_offered_again(qtbot, make_window, boxes):
    path = kept("Untitled 2026-12-02 10-00-00.txt", "")
    path.write_bytes(b"\x00\x01binary\x00" * 100)  # the editor refuses it, in its own words
    boxes.answers.append(QMessageBox.StandardButton.Open)
    make_window()
    qtbot.waitUntil(lambda: len(questions(boxes)) == 1, timeout=10_000)
    qtbot.wait(200)
    assert path.exists() and not (path.parent / "opened" / path.name).exists()
