"""An accepted suggestion is one undo step of its own (H18's finding 7): the words typed
after it are not merged into it, so Ctrl+Z takes them back first, then the suggestion.

Qt merges typed characters into an insertion that ends the edit block before them; the
editor's ``replace_text`` ends its block on something typing cannot merge into.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from keyboard_app.ui.editor import Editor

CTRL = Qt.KeyboardModifier.ControlModifier


def states(editor: Editor, undos: int) -> list[str]:
    """The text after each of ``undos`` undos, then after as many redos."""
    seen = []
    for step in (editor.undo, editor.redo):
        for _ in range(undos):
            step()
            seen.append(editor.toPlainText())
            # the editor's copy of the text follows undo and redo
            assert editor.text_between(0, editor.document().characterCount() - 1) == seen[-1]
    return seen


@pytest.mark.parametrize("typed, start, end, replacement, accepted", [
    ("I was thin", 6, 10, "thinking", "I was thinking"),  # a completion replaces the partial word
    ("It was a ", 9, 9, "very ", "It was a very "),  # a next word is only an insertion
    ("", 0, 0, "The ", "The "),  # the first word of an empty document
    ("Well ", 5, 5, "\U0001f600 ", "Well \U0001f600 "),  # an emoji: two UTF-16 units
    ("I was thin", 6, 10, "think\U0001f600", "I was think\U0001f600"),  # ending in one
])
def test_typing_after_a_replacement_is_a_separate_undo_step(qtbot, editor, typed, start, end,
                                                             replacement, accepted):
    qtbot.keyClicks(editor, typed)
    editor.replace_text(start, end, replacement)
    assert editor.toPlainText() == accepted
    qtbot.keyClicks(editor, " about")
    assert editor.toPlainText() == accepted + " about"
    # the space typed right after joins the replacement's step; the word is a step of its own
    assert states(editor, 2) == [accepted + " ", typed, accepted + " ", accepted + " about"]


def test_the_replacement_changes_no_format(qtbot, editor):
    qtbot.keyClicks(editor, "I was thin")
    formats = editor.document().allFormats()
    editor.replace_text(6, 10, "thinking")
    assert editor.document().allFormats() == formats


def test_ctrl_z_after_an_accepted_suggestion_and_more_typing(qtbot, window):
    """The Help window's promise, through the real keys: Tab, typing, Ctrl+Z, Ctrl+Z."""
    editor = window.editor
    qtbot.keyClicks(editor, "The cat sat on the m")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == "The cat sat on the mat "
    qtbot.keyClicks(editor, "today")
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == "The cat sat on the mat "  # the typing went, the word stays
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == "The cat sat on the m"
    assert window.strip.words()[0] == "mat"
    qtbot.keyClick(editor, Qt.Key.Key_Y, CTRL)
    qtbot.keyClick(editor, Qt.Key.Key_Y, CTRL)
    assert editor.toPlainText() == "The cat sat on the mat today"


def test_a_next_word_accepted_after_a_space_is_its_own_step(qtbot, window):
    editor = window.editor
    qtbot.keyClicks(editor, "The cat sat on the ")
    word = window.strip.words()[0]
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    qtbot.keyClicks(editor, "and")
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == f"The cat sat on the {word} "
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == "The cat sat on the "
