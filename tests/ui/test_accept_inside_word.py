"""Tab, Alt+n or a click with the caret inside a word: the word chosen replaces the whole
word, the letters after the caret too ("We like it alo|t" + Tab -> "We like it along ", not
"along t"); the strip is still for the letters before the caret."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from keyboard_app.model_store import ModelStore
from keyboard_app.paths import default_model_path


@pytest.fixture
def window(make_window):
    return make_window(model_store=ModelStore(default_path=default_model_path()))


def caret(window) -> str:
    """The text with the caret shown as "|"."""
    at = window.editor.textCursor().position()
    whole = window.editor.toPlainText()
    return whole[:at] + "|" + whole[at:]


def type_then_go_left(qtbot, window, typed: str, left: int) -> None:
    qtbot.keyClicks(window.editor, typed)
    for _ in range(left):
        qtbot.keyClick(window.editor, Qt.Key.Key_Left)


def test_tab_before_a_words_last_letter_replaces_the_whole_word(qtbot, window):
    type_then_go_left(qtbot, window, "We like it alot", 1)
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["along"])  # the suggestions for "alo"
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert caret(window) == "We like it along |"


def test_tab_after_a_words_first_letter_replaces_the_whole_word(qtbot, window):
    type_then_go_left(qtbot, window, "We like it alot", 3)
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["and"])
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert caret(window) == "We like it and |"


def test_the_text_after_the_word_decides_the_space(qtbot, window):
    type_then_go_left(qtbot, window, "We like it alot, and more", len("t, and more"))
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["along"])
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert caret(window) == "We like it along|, and more"
    qtbot.keyClick(window.editor, Qt.Key.Key_End)
    type_then_go_left(qtbot, window, " alot is", len("t is"))
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["along"])
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert caret(window) == "We like it along, and more along |is"


def test_a_possessive_after_the_caret_stays(qtbot, window):
    type_then_go_left(qtbot, window, "We met Mr Johnson's dog", len("nson's dog"))
    qtbot.waitUntil(lambda: "John" in window.strip.words())
    window.controller.accept(window.strip.words().index("John"))  # (a click, Alt+n)
    assert caret(window) == "We met Mr John|'s dog"


def test_the_whole_word_is_one_undo_step_and_counted_once(qtbot, window):
    type_then_go_left(qtbot, window, "We like it alot", 1)
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["along"])
    saved = window.controller.stats.chars_accepted
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.controller.stats.chars_accepted - saved == len("along ") - len("alot")
    window.editor.undo()
    assert window.editor.toPlainText() == "We like it alot"


def test_at_a_words_start_the_word_chosen_goes_before_it(qtbot, window):
    type_then_go_left(qtbot, window, "We like it alot", 4)
    qtbot.waitUntil(lambda: bool(window.strip.words()))
    word = window.strip.words()[0]
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert caret(window) == f"We like it {word} |alot"
