"""Undo goes a word at a time (H33's finding 1): each word with the spaces and punctuation
typed after it is one Ctrl+Z, and so is a paste, an accepted suggestion or a correction; redo
replays the same steps, and the strip after an undo shows what it shows for that text.

Qt merges adjacent plain insertions into one undo command, so before this one Ctrl+Z took
back everything typed since the last accepted suggestion, whole sentences of it.  The keys
here are real key events (``qtbot.keyClicks``, Ctrl+Z, Ctrl+Y, Ctrl+Shift+Z).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from keyboard_app.ui.editor import Editor

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def type_keys(qtbot, editor: Editor, text: str) -> None:
    """``keyClicks``, with Return for each line break (QTest cannot click "\\n")."""
    for i, line in enumerate(text.split("\n")):
        if i:
            qtbot.keyClick(editor, Qt.Key.Key_Return)
        if line:
            qtbot.keyClicks(editor, line)


def undo_all(qtbot, editor: Editor) -> list[str]:
    """The text after each Ctrl+Z until there is nothing left to undo (checking the caret
    stands where the step undone was: at the end of what is left, for typing at the end)."""
    seen = []
    while editor.document().isUndoAvailable():
        qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
        seen.append(editor.toPlainText())
        assert editor.textCursor().position() == len(seen[-1])
        assert len(seen) < 50, "undo does not end"
    return seen


def redo_all(qtbot, editor: Editor, key: tuple) -> list[str]:
    seen = []
    while editor.document().isRedoAvailable():
        qtbot.keyClick(editor, *key)
        seen.append(editor.toPlainText())
        assert len(seen) < 50, "redo does not end"
    return seen


@pytest.mark.parametrize("typed, steps", [
    # H33's steps: one Ctrl+Z used to leave the document empty
    ("We went home. Then we ate", ["We ", "We went ", "We went home. ", "We went home. Then ",
                                   "We went home. Then we ", "We went home. Then we ate"]),
    # punctuation and the spaces after a word go with it; an opening quote with the next word
    ('Yes, "really" -- twice!  Ok', ["Yes, ", 'Yes, "really" ', 'Yes, "really" -- ',
                                     'Yes, "really" -- twice!  ', 'Yes, "really" -- twice!  Ok']),
    # a line break goes with the word before it; the next line's word is a step of its own
    ("Dear Sam,\nThanks a lot.\n\nBye", ["Dear ", "Dear Sam,\n", "Dear Sam,\nThanks ",
                                         "Dear Sam,\nThanks a ", "Dear Sam,\nThanks a lot.\n\n",
                                         "Dear Sam,\nThanks a lot.\n\nBye"]),
    ("one", ["one"]),
])
def test_each_word_is_one_undo_step_and_redo_mirrors_it(qtbot, editor, typed, steps):
    type_keys(qtbot, editor, typed)
    assert editor.toPlainText() == typed
    assert undo_all(qtbot, editor) == steps[-2::-1] + [""]
    assert redo_all(qtbot, editor, (Qt.Key.Key_Y, CTRL)) == steps
    assert undo_all(qtbot, editor) == steps[-2::-1] + [""]
    assert redo_all(qtbot, editor, (Qt.Key.Key_Z, CTRL | SHIFT)) == steps


def test_typing_in_the_middle_of_the_text_is_a_word_at_a_time_too(qtbot, editor):
    type_keys(qtbot, editor, "The end.")
    qtbot.keyClick(editor, Qt.Key.Key_Home)
    qtbot.keyClicks(editor, "Not yet ")
    assert editor.toPlainText() == "Not yet The end."
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == "Not The end."
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == "The end."


def test_a_paste_is_one_step_which_the_typing_around_it_does_not_join(qtbot, editor):
    QGuiApplication.clipboard().setText("big wide world")
    type_keys(qtbot, editor, "Hello ")
    qtbot.keyClick(editor, Qt.Key.Key_V, CTRL)
    qtbot.keyClicks(editor, "s again")  # the pasted word's end typed on, then a new word
    assert editor.toPlainText() == "Hello big wide worlds again"
    assert undo_all(qtbot, editor) == ["Hello big wide worlds ", "Hello big wide world", "Hello ", ""]
    assert redo_all(qtbot, editor, (Qt.Key.Key_Y, CTRL)) == [
        "Hello ", "Hello big wide world", "Hello big wide worlds ", "Hello big wide worlds again"]


def test_a_new_editor_has_nothing_to_undo(editor):
    assert not editor.document().isUndoAvailable()  # its margin was one step, which did nothing


def test_typing_over_a_selection_is_one_step(qtbot, editor):
    type_keys(qtbot, editor, "one two")
    qtbot.keyClick(editor, Qt.Key.Key_Left, CTRL | SHIFT)  # selects "two"
    qtbot.keyClicks(editor, "three")
    assert editor.toPlainText() == "one three"
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == "one two"
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == "one "


def test_a_word_typed_after_backspacing_is_its_own_step(qtbot, editor):
    type_keys(qtbot, editor, "I saw teh")
    for _ in range(2):
        qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor, "he cat")
    assert editor.toPlainText() == "I saw the cat"
    assert undo_all(qtbot, editor)[:2] == ["I saw the ", "I saw t"]


# --- in the window: suggestions, corrections, and the strip after an undo ----------------

def press(qtbot, window, key, modifiers=Qt.KeyboardModifier.NoModifier) -> str:
    qtbot.keyClick(window.editor, key, modifiers)
    return window.editor.toPlainText()


def test_an_accepted_word_then_a_full_stop_undo_as_two_steps(qtbot, window):
    """The full stop takes back the accepted word's space; one Ctrl+Z puts the space back."""
    editor = window.editor
    qtbot.keyClicks(editor, "The cat sat on the m")
    assert press(qtbot, window, Qt.Key.Key_Tab) == "The cat sat on the mat "
    qtbot.keyClicks(editor, ". It")
    assert editor.toPlainText() == "The cat sat on the mat. It"
    assert press(qtbot, window, Qt.Key.Key_Z, CTRL) == "The cat sat on the mat. "
    assert press(qtbot, window, Qt.Key.Key_Z, CTRL) == "The cat sat on the mat "
    assert press(qtbot, window, Qt.Key.Key_Z, CTRL) == "The cat sat on the m"
    assert press(qtbot, window, Qt.Key.Key_Y, CTRL) == "The cat sat on the mat "
    assert press(qtbot, window, Qt.Key.Key_Y, CTRL) == "The cat sat on the mat. "


def test_a_correction_taken_from_the_strip_is_one_step(qtbot, window):
    editor = window.editor
    qtbot.keyClicks(editor, "The cat sat on teh")
    first = window.strip.suggestions()[0]
    assert (first.text, first.kind) == ("the", "correction")
    assert press(qtbot, window, Qt.Key.Key_Tab) == "The cat sat on the "
    qtbot.keyClicks(editor, "mat")
    assert press(qtbot, window, Qt.Key.Key_Z, CTRL) == "The cat sat on the "
    assert press(qtbot, window, Qt.Key.Key_Z, CTRL) == "The cat sat on teh"
    assert press(qtbot, window, Qt.Key.Key_Z, CTRL) == "The cat sat on "


def test_an_auto_correction_and_its_space_are_one_step(qtbot, window):
    window.settings.auto_correct = True
    window.apply_preferences()
    editor = window.editor
    qtbot.keyClicks(editor, "The cat sat on teh mat")
    assert editor.toPlainText() == "The cat sat on the mat"
    assert press(qtbot, window, Qt.Key.Key_Z, CTRL) == "The cat sat on the "
    assert press(qtbot, window, Qt.Key.Key_Z, CTRL) == "The cat sat on teh"
    assert press(qtbot, window, Qt.Key.Key_Z, CTRL) == "The cat sat on "


def test_the_strip_after_an_undo_or_a_backspace_is_the_one_for_that_text(qtbot, window):
    """The engine's state cache is keyed by the text: undo over a word boundary, redo, and a
    Backspace back to the same text give exactly the suggestions shown for it before."""
    editor, strip = window.editor, window.strip
    shown = {}
    for word in "The cat sat on the mat .".split():
        qtbot.keyClicks(editor, word + " ")
        shown[editor.toPlainText()] = [(s.text, s.log_prob) for s in strip.suggestions()]
    assert len({tuple(v) for v in shown.values()}) > 2  # the strip did change along the way
    for _ in range(4):
        text = press(qtbot, window, Qt.Key.Key_Z, CTRL)
        assert [(s.text, s.log_prob) for s in strip.suggestions()] == shown[text]
    for _ in range(2):
        text = press(qtbot, window, Qt.Key.Key_Y, CTRL)
        assert [(s.text, s.log_prob) for s in strip.suggestions()] == shown[text]
    qtbot.keyClicks(editor, "mat")
    text = editor.toPlainText()
    for _ in range(3):
        text = press(qtbot, window, Qt.Key.Key_Backspace)
    assert text == "The cat sat on the "
    assert [(s.text, s.log_prob) for s in strip.suggestions()] == shown[text]


@pytest.mark.parametrize("closing", [")", "]", "\u201d", "\u2026"])
def test_a_closing_bracket_or_quote_takes_back_the_accepted_words_space_too(qtbot, window, closing):
    """As a full stop does: "(on the mat )" was left with the space (H67's finding)."""
    editor = window.editor
    qtbot.keyClicks(editor, "(The cat sat on the m")
    assert press(qtbot, window, Qt.Key.Key_Tab) == "(The cat sat on the mat "
    if closing.isascii():
        qtbot.keyClicks(editor, closing)
    else:  # (keyClicks cannot type it: a key event that carries it, as a layout with it sends)
        from PySide6.QtCore import QEvent
        from PySide6.QtGui import QKeyEvent
        from PySide6.QtWidgets import QApplication

        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(editor, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, closing))
    assert editor.toPlainText() == "(The cat sat on the mat" + closing
