"""The first slot at a word end, in the real window with the shipped default model
(issue 14 part 3): Tab on a word typed in full keeps it, and still completes a word
the model expects to go on."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from keyboard_app.model_store import ModelStore
from keyboard_app.paths import default_model_path


@pytest.fixture
def window(make_window):
    return make_window(model_store=ModelStore(default_path=default_model_path()))


def test_quick_and_tab_keeps_quick(qtbot, window):
    qtbot.keyClicks(window.editor, "The quick")
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["quick"])
    assert "quickly" in window.strip.words()[1:]  # the longer words in the other slots
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "The quick "
    qtbot.keyClicks(window.editor, "brown fox")
    assert window.editor.toPlainText() == "The quick brown fox"


def test_tab_still_completes_a_word_that_goes_on(qtbot, window):
    qtbot.keyClicks(window.editor, "We need to do some")
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["something"])
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "We need to do something "


def test_a_capital_typed_inside_a_sentence_puts_friday_first(qtbot, window):
    qtbot.keyClicks(window.editor, "See you by Fri")
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["Friday"])
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "See you by Friday "
