"""Preferences ▸ Restore Defaults asks first (H53's finding 2).

The dialog applies every change at once, so the button threw away every choice
made there (fonts, slots, theme…) at a click, with no way back.  It now asks in
a box with a "Restore Defaults" button and Cancel as the default; Cancel,
Escape and Enter leave every setting as it was.  The real box is shown here
(``REAL_QUESTION``, taken before the tests' script replaces it) and answered
from the keyboard, as a person would.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from keyboard_app.settings import SettingsStore

REAL_QUESTION = QMessageBox.question  # (the ``boxes`` fixture replaces it during each test)
SB = QMessageBox.StandardButton


def personalise(prefs) -> dict:
    """Choices of a person's own, as they would make them; returns the settings then."""
    prefs.count_spin.setValue(5)
    prefs.size_spin.setValue(28)
    prefs.theme_combo.setCurrentIndex(prefs.theme_combo.findData("dark"))
    prefs.space_check.setChecked(False)
    prefs.large_check.setChecked(True)
    prefs.contrast_check.setChecked(True)
    return asdict(prefs.window_.settings)


def answer_the_box(qtbot, monkeypatch, key: Qt.Key | None, seen: dict) -> None:
    """Show the real box; once it is up, note its buttons and press ``key`` in it (or click
    its "Restore Defaults" button when ``key`` is None)."""
    monkeypatch.setattr(QMessageBox, "question", REAL_QUESTION)
    tries = iter(range(250))  # (no box within 5 s: the test fails on its settings, not here)

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if next(tries, None) is not None:
                QTimer.singleShot(20, answer)
            return
        seen["buttons"] = {box.standardButton(b): b.text().replace("&", "") for b in box.buttons()}
        seen["default"] = box.standardButton(box.defaultButton())
        if key is None:
            box.button(SB.RestoreDefaults).click()
        else:
            qtbot.keyClick(box, key)

    QTimer.singleShot(20, answer)


@pytest.mark.parametrize("key", [Qt.Key.Key_Escape, Qt.Key.Key_Return], ids=["escape", "enter"])
def test_escape_or_enter_in_the_box_leaves_every_setting_as_it_was(qtbot, monkeypatch, window, prefs, key):
    before = personalise(prefs)
    seen: dict = {}
    answer_the_box(qtbot, monkeypatch, key, seen)
    prefs.defaults_button.click()
    assert seen["buttons"] == {SB.RestoreDefaults: "Restore Defaults", SB.Cancel: "Cancel"}
    assert seen["default"] == SB.Cancel  # Enter does not throw the choices away
    assert asdict(window.settings) == before
    assert asdict(SettingsStore().load()[0])["strip_font_size"] == 28  # nor the saved ones
    assert prefs.size_spin.value() == 28 and prefs.contrast_check.isChecked()  # the dialog shows them still
    assert window.strip.buttons[0].word.font().pointSizeF() == 28


def test_the_box_s_restore_defaults_button_restores_them(qtbot, monkeypatch, window, prefs):
    before = personalise(prefs)
    answer_the_box(qtbot, monkeypatch, None, {})
    prefs.defaults_button.click()
    s = window.settings
    assert (s.suggestion_count, s.strip_font_size, s.theme, s.space_after_accept, s.large_strip_buttons,
            s.high_contrast) == (3, 0, "system", True, False, False)
    assert s.learning_enabled == before["learning_enabled"]  # learning is not a preference reset here
    assert SettingsStore().load()[0].strip_font_size == 0
    assert not prefs.contrast_check.isChecked() and prefs.count_spin.value() == 3


def test_the_question_names_what_is_lost_and_what_is_kept(qtbot, window, prefs, boxes):
    personalise(prefs)
    prefs.defaults_button.click()  # the script answers Cancel
    assert boxes.kinds() == ["question"]
    assert "default" in boxes.texts()[0] and "learned" in boxes.texts()[0]
    assert window.settings.strip_font_size == 28
