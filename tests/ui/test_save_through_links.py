"""A document opened through a symbolic link is saved into the file the link names, and a
Save As onto something that is not a file is refused in one sentence (H39, finding 5)."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links and pipes as POSIX has them")


def test_saving_a_document_opened_through_a_link_updates_the_linked_file(qtbot, window, boxes, tmp_path):
    (tmp_path / "sync").mkdir()
    real = tmp_path / "sync" / "notes.txt"
    real.write_text("v1", encoding="utf-8")
    link = tmp_path / "notes.txt"
    link.symlink_to(real)
    boxes.files.append(link)
    window.open_action.trigger()
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(window.editor, " edited")
    qtbot.keyClick(window.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8") == "v1 edited"
    assert not window.isWindowModified()


def test_save_as_onto_a_pipe_is_refused_and_the_text_kept(qtbot, window, boxes, tmp_path):
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    qtbot.keyClicks(window.editor, "precious")
    boxes.files.append(pipe)
    assert not window.save_document()
    assert boxes.kinds()[-1] == "critical"
    assert "it is not a regular file" in boxes.texts()[-1] and "Nothing was lost" in boxes.texts()[-1]
    assert window.editor.toPlainText() == "precious" and window.isWindowModified()
