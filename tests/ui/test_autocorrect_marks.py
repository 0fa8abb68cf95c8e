"""Auto-correction by the key that ends a word, not only a space: closing punctuation, a closing
quote or Enter (the default model's slips: "alot" -> "a lot", "teh" -> "the").  A Backspace
right after takes back the key and the correction ("a lot," -> "alot"), and the word is then
left alone; a word glued to a web address or a number, or one just accepted, is never touched."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from keyboard_app.model_store import ModelStore
from keyboard_app.paths import default_model_path


@pytest.fixture
def window(make_window):
    window = make_window(model_store=ModelStore(default_path=default_model_path()))
    window.settings.auto_correct = True
    window.apply_preferences()
    return window


def type_in(qtbot, editor, typed: str) -> None:
    """``qtbot.keyClicks``, with the characters it cannot type (curly quotes) sent as key events
    that carry them, as a keyboard layout with them would."""
    for char in typed:
        if char.isascii():
            qtbot.keyClicks(editor, char)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(editor, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def text(window) -> str:
    return window.editor.toPlainText()


def caret(window) -> str:
    """The text with the caret shown as "|"."""
    at = window.editor.textCursor().position()
    whole = text(window)
    return whole[:at] + "|" + whole[at:]


@pytest.mark.parametrize(
    "typed, result",
    [
        ("I like it alot, and alot. Alot!", "I like it a lot, and a lot. A lot!"),
        ("Do you like it alot?", "Do you like it a lot?"),
        ("We like it (alot)", "We like it (a lot)"),
        ('He said "teh" ', 'He said "the" '),
        ("He was suprised.", "He was surprised."),
        ("I like it alot; no", "I like it a lot; no"),
        ("I like it alot: no", "I like it a lot: no"),
        ("We like it [alot]", "We like it [a lot]"),
        ("He said \u201calot\u201d", "He said \u201ca lot\u201d"),
    ],
)
def test_closing_punctuation_corrects_the_word_before_it(qtbot, window, typed, result):
    type_in(qtbot, window.editor, typed)
    assert text(window) == result


def test_enter_corrects_the_word_before_it(qtbot, window):
    qtbot.keyClicks(window.editor, "I like it alot")
    qtbot.keyClick(window.editor, Qt.Key.Key_Return)
    assert caret(window) == "I like it a lot\n|"


def test_backspace_after_punctuation_takes_back_the_mark_and_the_correction(qtbot, window):
    editor = window.editor
    qtbot.keyClicks(editor, "I like it alot,")
    assert caret(window) == "I like it a lot,|"
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert caret(window) == "I like it alot|"  # as a Backspace would leave it with auto-correction off
    qtbot.keyClicks(editor, ", really")  # the word is the user's now: the comma leaves it alone
    assert text(window) == "I like it alot, really"


def test_backspace_after_enter_takes_back_the_line_break_and_the_correction(qtbot, window):
    editor = window.editor
    qtbot.keyClicks(editor, "I like it alot")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert caret(window) == "I like it a lot\n|"
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert caret(window) == "I like it alot|"
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert caret(window) == "I like it alot\n|"


def test_a_second_backspace_deletes_as_usual(qtbot, window):
    editor = window.editor
    qtbot.keyClicks(editor, "I like it alot.")
    assert caret(window) == "I like it a lot.|"
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert caret(window) == "I like it alo|"


def test_the_correction_and_the_mark_are_one_undo_step(qtbot, window):
    editor = window.editor
    qtbot.keyClicks(editor, "I like it alot.")
    editor.undo()
    assert text(window) == "I like it alot"


@pytest.mark.parametrize(
    "typed, result",
    [
        ("see www.teh.com", "see www.teh.com"),  # glued to what comes before it
        ("see 3.teh ", "see 3.teh "),
        ("visit alot.com now", "visit alot.com now"),  # glued to what follows: put back
        ("that is i.e. this", "that is i.e. this"),
        ("I like it alot.Then", "I like it alot.Then"),
    ],
)
def test_a_word_inside_an_address_or_a_number_is_left_alone(qtbot, window, typed, result):
    qtbot.keyClicks(window.editor, typed)
    assert text(window) == result


@pytest.fixture
def shouting(window, monkeypatch):
    """The engine's auto-correction made to replace every word with its capitals."""
    from keyboard_app.engine.predictor import Edit
    from keyboard_app.engine.tokenizer import partial_start

    def shout(text: str):
        start = partial_start(text)
        return Edit(start, len(text), text[start:].upper()) if start < len(text) else None

    monkeypatch.setattr(window.worker.predictor, "autocorrect", shout)
    return window


def test_a_word_just_accepted_is_not_corrected_by_the_mark_after_it(qtbot, shouting):
    """The accepted word's space goes before a full stop ("alo" + Tab + "." -> "along."), and
    with no space after accepted words the mark does not correct the word taken either."""
    window, editor = shouting, shouting.editor
    qtbot.keyClicks(editor, "We like it alo")
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["along"])
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    qtbot.keyClicks(editor, ".")
    assert text(window) == "WE LIKE IT along."  # (the words typed are corrected)
    window.controller.space_after = False
    qtbot.keyClicks(editor, " We like it alo")
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["along"])
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    qtbot.keyClicks(editor, ",")
    assert text(window) == "WE LIKE IT along. WE LIKE IT along,"
    qtbot.keyClicks(editor, " along,")
    assert text(window) == "WE LIKE IT along. WE LIKE IT along, ALONG,"


def test_a_mark_typed_inside_a_word_corrects_nothing(qtbot, window):
    editor = window.editor
    qtbot.keyClicks(editor, "We like it alot")
    qtbot.keyClick(editor, Qt.Key.Key_Left)
    qtbot.keyClick(editor, Qt.Key.Key_Left)
    qtbot.keyClicks(editor, ",")
    assert text(window) == "We like it al,ot"


def test_off_the_marks_correct_nothing(qtbot, window):
    window.settings.auto_correct = False
    window.apply_preferences()
    qtbot.keyClicks(window.editor, "I like it alot, and alot.")
    assert text(window) == "I like it alot, and alot."
