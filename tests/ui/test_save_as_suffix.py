"""Save As with a bare name (H33's finding 5): under the text files filter "notes" is saved as
"notes.txt", which File > Open's filter lists; a "notes.txt" already there is not replaced
unasked (the file dialog asked about "notes" only).

The file dialog is replaced by a script that also returns the filter chosen, as Qt's does.
"""

from __future__ import annotations

from fnmatch import fnmatch

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from keyboard_app.ui.documents import TEXT_FILES, TEXT_FILTER

ALL_FILES = "All files (*)"


@pytest.fixture
def save_dialog(monkeypatch):
    """``answers``: (name, filter) the save dialog returns, in order; ``asked``: the names it
    started at."""
    answers, asked = [], []

    def ask(parent, caption, start, filters, *args, **kwargs):
        assert filters == TEXT_FILTER
        asked.append(start)
        return answers.pop(0) if answers else ("", "")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(ask))
    return answers, asked


def open_filter_lists(path) -> bool:
    """Whether File > Open's text filter shows the file."""
    patterns = TEXT_FILES[TEXT_FILES.index("(") + 1 : -1].split()
    return any(fnmatch(path.name, pattern) for pattern in patterns)


@pytest.mark.parametrize("typed, chosen, saved", [
    ("notes", TEXT_FILES, "notes.txt"),  # H33's case
    ("notes", ALL_FILES, "notes"),  # the user chose to see every file: the name as typed
    ("notes.md", TEXT_FILES, "notes.md"),
    ("draft.v2", TEXT_FILES, "draft.v2"),  # a dot anywhere: an extension of the user's
    ("notes.", TEXT_FILES, "notes."),
])
def test_a_bare_name_gets_txt_under_the_text_filter(qtbot, window, tmp_path, save_dialog, boxes, typed,
                                                    chosen, saved):
    answers, _ = save_dialog
    window.editor.setPlainText("Dear Sam,")
    answers.append((str(tmp_path / typed), chosen))
    assert window.documents.save_as()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [saved]
    assert (tmp_path / saved).read_text(encoding="utf-8") == "Dear Sam,"
    assert window.documents.path == tmp_path / saved and window.documents.name == saved
    assert boxes.shown == []  # nothing was there to replace
    if chosen == TEXT_FILES and saved.endswith(".txt"):
        assert open_filter_lists(tmp_path / saved)


def test_the_txt_file_already_there_is_replaced_only_when_the_user_says_so(qtbot, window, tmp_path,
                                                                            save_dialog, boxes):
    answers, asked = save_dialog
    existing = tmp_path / "notes.txt"
    existing.write_text("older notes", encoding="utf-8")
    window.editor.setPlainText("new text")
    # No: the dialog comes back at "notes.txt"; then the user cancels it
    answers.append((str(tmp_path / "notes"), TEXT_FILES))
    boxes.answers.append(QMessageBox.StandardButton.No)
    assert not window.documents.save_as()
    [(kind, _, text)] = boxes.shown
    assert kind == "question" and "“notes.txt” already exists" in text
    assert asked[1:] == [str(existing)]
    assert existing.read_text(encoding="utf-8") == "older notes"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["notes.txt"]
    assert window.documents.path is None
    # Yes: replaced
    answers.append((str(tmp_path / "notes"), TEXT_FILES))
    boxes.answers.append(QMessageBox.StandardButton.Yes)
    assert window.documents.save_as()
    assert existing.read_text(encoding="utf-8") == "new text"
    assert window.documents.path == existing


def test_a_bare_name_that_exists_is_written_as_typed(qtbot, window, tmp_path, save_dialog, boxes):
    """The file dialog asked about replacing "notes", and the user agreed: that file it is."""
    answers, _ = save_dialog
    (tmp_path / "notes").write_text("old", encoding="utf-8")
    window.editor.setPlainText("new")
    answers.append((str(tmp_path / "notes"), TEXT_FILES))
    assert window.documents.save_as()
    assert (tmp_path / "notes").read_text(encoding="utf-8") == "new"
    assert not (tmp_path / "notes.txt").exists() and boxes.shown == []
