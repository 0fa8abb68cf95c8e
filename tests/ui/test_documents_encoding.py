"""A document kept in Latin-1 that comes to hold a character Latin-1 cannot (H18's finding 2).

The save asks again, offering UTF-8 or Cancel, instead of refusing every save; a yes
writes UTF-8 and holds for the document from then on, Save As and the save on quit ask
the same way, and Cancel writes nothing and keeps the text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QMessageBox

from keyboard_app.ui.documents import unfit_character

SB = QMessageBox.StandardButton
LATIN1 = "Caf\xe9 cr\xe8me"


def on_encoding_box(window, action, seen: list) -> None:
    """Run ``action(box)`` when the (modal) encoding question shows; record what it said."""
    tries = [500]

    def poll() -> None:
        box = window.findChild(QMessageBox, "encodingBox")
        if box is not None and box.isVisible():
            keep = box.findChild(QAbstractButton, "keepEncoding")
            seen.append((box.text(), keep.isVisible(), box.defaultButton().objectName()))
            action(box)
            return
        tries[0] -= 1
        if tries[0] > 0:
            QTimer.singleShot(10, window, poll)

    QTimer.singleShot(0, window, poll)


def convert(box) -> None:
    box.findChild(QAbstractButton, "convertToUtf8").click()


def keep(box) -> None:
    box.findChild(QAbstractButton, "keepEncoding").click()


def cancel(box) -> None:
    box.button(SB.Cancel).click()


def kept_latin1(qtbot, window, tmp_path) -> Path:
    """A Latin-1 file, opened, edited and saved with "Keep Latin-1"."""
    doc = tmp_path / "old.txt"
    doc.write_bytes(LATIN1.encode("latin-1"))
    assert window.open_document(doc)
    qtbot.keyClicks(window.editor, " and tea")
    seen: list = []
    on_encoding_box(window, keep, seen)
    assert window.save_document()
    assert len(seen) == 1 and doc.read_bytes() == (LATIN1 + " and tea").encode("latin-1")
    return doc


def add_euro(window) -> None:
    window.editor.insertPlainText(" for 5\u20ac")  # keyClicks is for ASCII


def test_the_first_character_latin1_cannot_hold():
    assert unfit_character("caf\xe9 5\u20ac \u2014", "latin-1") == "\u20ac"
    assert unfit_character("caf\xe9", "latin-1") is None


def test_save_asks_again_once_the_text_no_longer_fits(qtbot, window, tmp_path):
    doc = kept_latin1(qtbot, window, tmp_path)
    add_euro(window)
    seen: list = []
    on_encoding_box(window, convert, seen)
    assert window.save_document()
    [(text, keep_shown, default)] = seen
    assert "old.txt" in text and "“\u20ac”" in text and "UTF-8" in text
    assert not keep_shown and default == "convertToUtf8"  # only UTF-8 or Cancel
    assert doc.read_bytes() == (LATIN1 + " and tea for 5\u20ac").encode("utf-8")
    assert not window.isWindowModified()
    assert window.statusBar().currentMessage() == "Saved old.txt as UTF-8."
    window.editor.insertPlainText(" \u2014 done")
    assert window.save_document()  # UTF-8 is remembered: nothing asked
    assert len(seen) == 1
    assert doc.read_bytes().decode("utf-8").endswith("5\u20ac \u2014 done")


def test_cancel_writes_nothing_and_the_next_save_asks_again(qtbot, window, boxes, tmp_path):
    doc = kept_latin1(qtbot, window, tmp_path)
    before = doc.read_bytes()
    add_euro(window)
    seen: list = []
    on_encoding_box(window, cancel, seen)
    assert not window.save_document()
    assert doc.read_bytes() == before and window.isWindowModified()
    assert window.editor.toPlainText().endswith("5\u20ac")
    assert boxes.kinds() == []  # no error box: the user chose not to save
    on_encoding_box(window, convert, seen)
    assert window.save_document()
    assert len(seen) == 2 and doc.read_bytes().decode("utf-8").endswith("5\u20ac")


def test_the_keyboard_answers_the_question(qtbot, window, tmp_path):
    doc = kept_latin1(qtbot, window, tmp_path)
    before = doc.read_bytes()
    add_euro(window)
    seen: list = []
    on_encoding_box(window, lambda box: QTest.keyClick(box, Qt.Key.Key_Escape), seen)
    assert not window.save_document()
    assert doc.read_bytes() == before
    on_encoding_box(window, lambda box: QTest.keyClick(box, Qt.Key.Key_Return), seen)
    assert window.save_document()  # Enter: the default button, Convert to UTF-8
    assert len(seen) == 2 and doc.read_bytes().decode("utf-8").endswith("5\u20ac")


def test_save_as_offers_utf8_too(qtbot, window, boxes, tmp_path):
    doc = kept_latin1(qtbot, window, tmp_path)
    before = doc.read_bytes()
    add_euro(window)
    copy = tmp_path / "copy.txt"
    boxes.files.append(copy)
    seen: list = []
    on_encoding_box(window, convert, seen)
    assert window.save_document_as()
    assert len(seen) == 1 and "copy.txt" in seen[0][0]
    assert copy.read_bytes().decode("utf-8").endswith("5\u20ac")
    assert doc.read_bytes() == before  # the old file is left as it was
    assert window.document_path == copy and not window.isWindowModified()


def test_quitting_with_such_text_saves_it_as_utf8_or_stays_open(qtbot, window, boxes, tmp_path):
    doc = kept_latin1(qtbot, window, tmp_path)
    add_euro(window)
    seen: list = []
    boxes.answers.append(SB.Save)
    on_encoding_box(window, cancel, seen)
    assert not window.close()  # cancelled: the window stays, with the text
    assert window.isVisible() and window.editor.toPlainText().endswith("5\u20ac")
    boxes.answers.append(SB.Save)
    on_encoding_box(window, convert, seen)
    assert window.close()
    assert len(seen) == 2
    assert doc.read_bytes() == (LATIN1 + " and tea for 5\u20ac").encode("utf-8")


def test_a_failed_write_leaves_the_encoding_unanswered(qtbot, window, boxes, tmp_path):
    doc = kept_latin1(qtbot, window, tmp_path)
    add_euro(window)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    boxes.files.append(blocker / "new.txt")
    seen: list = []
    on_encoding_box(window, convert, seen)
    assert not window.save_document_as()
    assert boxes.kinds()[-1] == "critical" and "Nothing was lost" in boxes.texts()[-1]
    on_encoding_box(window, convert, seen)
    assert window.save_document()  # asked again, since nothing was written
    assert len(seen) == 2 and doc.read_bytes().decode("utf-8").endswith("5\u20ac")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read_as_text_not_called_binary(codec):
    """Some Windows programs write UTF-16 without a byte-order mark; the editor called it
    "binary data" (stop 26's hostile tester)."""
    from keyboard_app.ui.documents import decode, label

    text = "Dear Quimby,\nthe café opens at nine.\n"
    assert decode(text.encode(codec)) == (text, codec)
    assert "no byte-order mark" in label(codec)


def test_binary_data_with_zero_bytes_is_still_refused():
    from keyboard_app.ui.documents import NotTextError, decode

    with pytest.raises(NotTextError):
        decode(bytes(range(256)) * 40)  # zeros at every 256th byte: neither half is text
    with pytest.raises(NotTextError):
        decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(100))
