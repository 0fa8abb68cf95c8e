"""Auto-correction on space (issue 14): off by default, switched in Preferences, and a
Backspace right after it puts back exactly what was typed, as phone keyboards do.

The tiny model was trained on sentences such as "The cat sat on the mat.", so after
"The cat sat on" the slip "teh" is read as "the".
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from keyboard_app.settings import Settings, SettingsStore


def text(window) -> str:
    return window.editor.toPlainText()


@pytest.fixture
def correcting(window):
    window.settings.auto_correct = True
    window.apply_preferences()
    return window


def test_off_by_default_a_slip_stays_as_typed(qtbot, window):
    assert Settings().auto_correct is False and window.settings.auto_correct is False
    assert window.worker.predictor.auto_correct is False
    qtbot.keyClicks(window.editor, "The cat sat on teh ")
    assert text(window) == "The cat sat on teh "


def test_a_space_corrects_the_slip_and_backspace_puts_it_back(qtbot, correcting):
    editor = correcting.editor
    qtbot.keyClicks(editor, "The cat sat on teh ")
    assert text(correcting) == "The cat sat on the "
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert text(correcting) == "The cat sat on teh"
    assert editor.textCursor().position() == len("The cat sat on teh")
    # what was put back is the user's: a second space leaves it alone
    qtbot.keyClicks(editor, " mat")
    assert text(correcting) == "The cat sat on teh mat"


def test_a_correct_word_is_left_alone(qtbot, correcting):
    qtbot.keyClicks(correcting.editor, "The cat sat on the ")
    assert text(correcting) == "The cat sat on the "
    qtbot.keyClick(correcting.editor, Qt.Key.Key_Backspace)
    assert text(correcting) == "The cat sat on the"


def test_backspace_undoes_only_right_after_the_correction(qtbot, correcting):
    editor = correcting.editor
    qtbot.keyClicks(editor, "The cat sat on teh m")
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert text(correcting) == "The cat sat on the "  # the "m" went, the correction stays
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert text(correcting) == "The cat sat on the"


def test_a_moved_caret_forgets_the_correction(qtbot, correcting):
    editor = correcting.editor
    qtbot.keyClicks(editor, "The cat sat on teh ")
    qtbot.keyClick(editor, Qt.Key.Key_Left)
    qtbot.keyClick(editor, Qt.Key.Key_Right)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert text(correcting) == "The cat sat on the"


def test_the_correction_and_its_undo_are_undo_steps(qtbot, correcting):
    editor = correcting.editor
    qtbot.keyClicks(editor, "The cat sat on teh ")
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert text(correcting) == "The cat sat on teh"
    editor.undo()  # Ctrl+Z brings the correction back
    assert text(correcting) == "The cat sat on the "


def test_the_preference_switches_it_live_and_is_saved(qtbot, window):
    dialog = window.open_preferences()
    qtbot.waitExposed(dialog)
    box = dialog.autocorrect_check
    assert not box.isChecked()
    assert "&" in box.text() and box.accessibleName() == "Correct typing slips automatically at a word's end"
    box.setChecked(True)
    assert window.worker.predictor.auto_correct is True
    assert SettingsStore().load()[0].auto_correct is True
    window.editor.setFocus()
    qtbot.keyClicks(window.editor, "The cat sat on teh ")
    assert text(window) == "The cat sat on the "
    dialog.restore_defaults()
    assert not box.isChecked() and window.worker.predictor.auto_correct is False
    dialog.close()


def test_a_damaged_value_falls_back_to_off():
    settings = Settings.from_dict({"auto_correct": "yes please"})
    assert settings.auto_correct is False
