"""A file, folder or model name that looks like markup is shown as it is, never as HTML.

QMessageBox and QLabel show a text that looks like markup as rich text (``Qt::AutoText``):
a file named "<b>x</b>.txt" read as a bold "x.txt", an "<img src=…>" as a picture.  These
tests show the real boxes (the ``boxes`` fixture's scripted ones are put back to Qt's for
the test) and look at what they hold while they are open.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from keyboard_app import paths
from keyboard_app.ui import boxes as plain_boxes
from keyboard_app.ui.documents import ask_encoding

SB = QMessageBox.StandardButton
CRAFTED = "<b>x <img src=nothing.png>.txt"  # (a file name holds no "/": no closing tags)
#: Qt's own static functions, taken before the ``boxes`` fixture replaces them for each test.
REAL = {kind: getattr(QMessageBox, kind) for kind in ("question", "warning", "critical", "information")}


@pytest.fixture
def real_boxes(monkeypatch):
    """Qt's message boxes, each answered as soon as it is open; what they held: (text, format)."""
    for kind, show in REAL.items():
        monkeypatch.setattr(QMessageBox, kind, show)
    seen: list[tuple[str, Qt.TextFormat]] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.isVisible():
            seen.append((box.text(), box.textFormat()))
            box.done(0)  # as Escape would: nothing chosen

    looking = QTimer(interval=20)
    looking.timeout.connect(answer)
    looking.start()
    yield seen
    looking.stop()


@pytest.mark.parametrize("kind", ["question", "warning", "critical", "information"])
def test_the_shared_boxes_show_their_text_as_plain_text(qtbot, real_boxes, kind):
    getattr(plain_boxes, kind)(None, "Title", f"“{CRAFTED}” already exists.")
    assert real_boxes == [(f"“{CRAFTED}” already exists.", Qt.TextFormat.PlainText)]


def test_replace_file_names_a_crafted_file_as_it_is(qtbot, window, real_boxes, tmp_path):
    target = tmp_path / CRAFTED
    target.write_text("old")
    assert window.documents._may_replace(target) is False
    [(text, text_format)] = real_boxes
    assert f"“{CRAFTED}” already exists in" in text and text_format == Qt.TextFormat.PlainText
    assert target.read_text() == "old"


def test_the_encoding_question_names_a_crafted_file_as_it_is(qtbot, window, real_boxes):
    assert ask_encoding(window, CRAFTED, "latin-1", keeps_text=True) is None
    [(text, text_format)] = real_boxes
    assert text.startswith(f"“{CRAFTED}” was read as Latin-1") and text_format == Qt.TextFormat.PlainText


def test_the_kept_text_question_at_the_start_names_a_crafted_file_as_it_is(qtbot, make_window, real_boxes):
    folder = paths.unsaved_texts_dir()
    folder.mkdir(parents=True)
    name = "<b>x 2026-12-03 16-45-03.txt"
    (folder / name).write_text("Dear Ann,")
    make_window()
    qtbot.waitUntil(lambda: bool(real_boxes), timeout=10_000)
    [(text, text_format)] = real_boxes
    assert f"was kept in “{name}”" in text and text_format == Qt.TextFormat.PlainText
    assert (folder / name).read_text() == "Dear Ann,"  # no answer given: offered again next time


def test_the_status_bar_shows_a_crafted_model_name_as_it_is(window):
    window.set_model_label("<b>Mine")
    assert window.model_label.text() == "<b>Mine"
    assert window.model_label.textFormat() == Qt.TextFormat.PlainText


def test_the_about_box_escapes_the_model_name_it_shows_as_rich_text(window, boxes, monkeypatch):
    monkeypatch.setattr(window.models, "current", dataclasses.replace(window.current_model, name="<img src=x>Mine"))
    window.show_about()
    [(kind, _, text)] = boxes.shown
    assert kind == "about" and "Model in use: &lt;img src=x&gt;Mine." in text and "<img" not in text


def test_an_error_naming_a_crafted_path_is_plain_text(qtbot, window, real_boxes):
    window.documents.open(Path("/nonexistent") / CRAFTED)
    [(text, text_format)] = real_boxes
    assert CRAFTED in text and text_format == Qt.TextFormat.PlainText


def test_the_model_manager_names_a_crafted_model_as_it_is(qtbot, window, model_store, tiny_bundle, boxes):
    from keyboard_app.ui.model_manager import ModelManagerDialog

    key = model_store.import_bundle(tiny_bundle)
    model_store.rename(key, "<b>Mine")
    dialog = ModelManagerDialog(controller=window.models, start_directory=window.start_directory, parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.select_key(key)
    boxes.answers.append(SB.Yes)
    dialog.delete_selected()
    assert "Delete “<b>Mine”" in boxes.texts("question")[-1]  # (``boxes.question``: plain text)
    assert dialog.message.text() == "Deleted “<b>Mine”."
    assert dialog.message.textFormat() == Qt.TextFormat.PlainText
    dialog.close()
