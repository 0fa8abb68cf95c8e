"""Capitals where the keyboard does not know the text (H33's finding 8): in another
application the text before what the keyboard typed is unknown, so a word begun in small
letters is completed in small letters; in a terminal no capital is added at all."""

from __future__ import annotations

import pytest

from keyboard_app.osk.context import is_terminal
from qt_helpers import type_on_keyboard as type_text

NAMES = {"I", "Alice", "Bob", "London", "Paris", "Monday"}  # written with a capital anywhere


def row(keyboard) -> list[str]:
    return [s.text for s in keyboard.controller.suggestions]


def no_added_capitals(words: list[str]) -> bool:
    return bool(words) and all(w[:1].islower() or w in NAMES for w in words)


def test_a_word_begun_in_small_letters_where_the_text_is_unknown_is_completed_so(make_keyboard):
    keyboard, injector = make_keyboard()
    assert row(keyboard) and all(w[:1].isupper() for w in row(keyboard))  # a start is still likely
    type_text(keyboard, "th")
    assert "the" in row(keyboard) and no_added_capitals(row(keyboard))
    assert keyboard.controller.accept(row(keyboard).index("the"))
    assert injector.text == "the "  # the letters typed keep their case: nothing erased


def test_a_capital_typed_or_a_sentence_start_the_keyboard_typed_keeps_the_capital(make_keyboard):
    keyboard, injector = make_keyboard()
    type_text(keyboard, "Th")
    assert "The" in row(keyboard)
    press = keyboard.layout_data.find_action("backspace")
    keyboard.press_key(*press)
    keyboard.press_key(*press)
    type_text(keyboard, "the cat sat. th")  # the keyboard saw this sentence start
    assert "The" in row(keyboard)
    assert keyboard.controller.accept(row(keyboard).index("The"))
    assert injector.text == "the cat sat. The "


def test_in_a_terminal_no_capital_is_added(make_keyboard):
    active = {"window": "xterm-1"}
    classes = {"xterm-1": ("xterm", "XTerm"), "gedit-1": ("gedit", "Gedit")}
    keyboard, injector = make_keyboard(active_window=lambda: active["window"], window_class=classes.get)
    keyboard.poll_focus()  # the first window seen is classified too
    assert keyboard.controller.terminal
    assert no_added_capitals(row(keyboard))  # not even the next word at the start
    type_text(keyboard, "the cat sat. ")
    assert no_added_capitals(row(keyboard))
    type_text(keyboard, "th")
    assert keyboard.controller.accept(row(keyboard).index("the"))
    assert injector.text == "the cat sat. the "
    type_text(keyboard, "Al")
    assert "Alice" in row(keyboard)  # a name keeps its capital
    active["window"] = "gedit-1"  # into an editor: capitals again
    keyboard.poll_focus()
    assert not keyboard.controller.terminal and keyboard.controller.context.text == ""
    assert all(w[:1].isupper() for w in row(keyboard))


def test_a_window_whose_class_cannot_be_read_is_not_a_terminal(make_keyboard):
    def gone(window):
        raise ConnectionError("the window is gone")

    keyboard, _ = make_keyboard(active_window=lambda: "w", window_class=gone)
    keyboard.poll_focus()
    assert keyboard.controller.terminal is False


@pytest.mark.parametrize("wm_class, terminal", [
    (("xterm", "XTerm"), True),
    (("gnome-terminal-server", "Gnome-terminal"), True),
    (("konsole", "konsole"), True),
    (("xfce4-terminal", "Xfce4-terminal"), True),
    (("Alacritty", "Alacritty"), True),
    (("urxvt", "URxvt"), True),
    (("kitty", "kitty"), True),
    (("gedit", "Gedit"), False),
    (("Navigator", "firefox"), False),
    (("keyboard-app", "keyboard-app"), False),
    (None, False),
    ((), False),
])
def test_terminals_are_told_by_their_window_class(wm_class, terminal):
    assert is_terminal(wm_class) is terminal
