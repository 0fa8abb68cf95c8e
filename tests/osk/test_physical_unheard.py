"""Where the keyboard did not hear the start of a word, it offers nothing, never a wrong word (H74, H75).

A suggestion types the rest of a word (or a word after the one typed): offered for a word whose
start the keyboard did not hear, it glues onto that start.  H74 at an X server: Alt+V then K
in the editor ("we wor wor|"; K picked View -> On-Screen Keyboard) made it offer keep/know, and
"keep" typed "eep ": "we wor woreep "; following turned off mid-word, "d mor" typed, on again, "ni": "nice" typed
"ce ": "echo good mornice "; Ctrl+V of "wor", a click on "The": "worThe ".  The rule
(``context.TypedContext``): after a cursor key, Escape, a shortcut, a Backspace past what it heard,
or following turned back on, nothing is offered until a space ends the word under way; after a key
that may open a menu (Alt or Super, F10, the Menu key), until two; a click in the text or another
window says where the text is again.
"""

from __future__ import annotations

import time

import pytest
from test_physical_keys import ESCAPE, LEFT, FakeListener, keyboard_with, physical, shown_for  # noqa: F401

from keyboard_app.osk.context import MENU_OPEN, WORD_UNHEARD, TypedContext
from keyboard_app.osk.physical import Keymap, PhysicalKey, PointerClick, key_effect

ALT_L, SUPER_L, MENU, F10, TAB = 0xFFE9, 0xFFEB, 0xFF67, 0xFFC7, 0xFF09


def typed(keyboard) -> str:
    return "".join(text for kind, text in keyboard.controller.injector.events if kind == "type")


def click_first(keyboard) -> str:
    """Click the strip's first slot (shown or not); what the keyboard typed for it."""
    before = len(keyboard.controller.injector.events)
    keyboard.suggestion_buttons[0].click()
    return "".join(text for kind, text in keyboard.controller.injector.events[before:] if kind == "type")


def offered(qtbot, keyboard) -> list[str]:
    """The strip's words once it is shown for the context (the refresh after physical keys waits
    for the burst to end: the strip shown for the same text before does not count)."""
    controller = keyboard.controller
    qtbot.waitUntil(lambda: not controller._physical_refresh.isActive() and not controller._retry.isActive(),
                    timeout=5000)
    return shown_for(qtbot, keyboard, controller.context.text)


def test_a_menu_mnemonic_after_alt_is_not_a_word_begun(qtbot, keyboard_with):
    """H74's first proposed test, with Alt itself (``PhysicalKey.alt``)."""
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("we wor")
    listener.key.emit(physical(ALT_L, name="Alt_L"))
    listener.key.emit(PhysicalKey(keycode=55, keysym=ord("v"), name="v", char="v", chord=True, alt=True,
                                  received=time.monotonic()))  # Alt+V: the View menu opens
    listener.key.emit(physical(ord("k"), char="k"))  # K: its item, not a letter in the text
    assert keyboard.controller.context.text == ""  # unknown text, not "k"
    assert offered(qtbot, keyboard) == []
    assert click_first(keyboard) == ""  # not "eep " ("we wor woreep ")


def test_a_ctrl_chord_then_a_letter_is_not_completed_either(qtbot, keyboard_with):
    """H74's first proposed test as written (a chord with no Alt flag): Ctrl+V may end inside a word."""
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("we wor")
    listener.key.emit(physical(ord("v"), char="v", chord=True))
    listener.key.emit(physical(ord("k"), char="k"))
    assert keyboard.controller.context.text == ""
    keyboard.suggestion_buttons[0].click()
    assert not typed(keyboard).startswith(("eep", "now", "ey", "ing")), typed(keyboard)


@pytest.mark.parametrize("menu_key", [
    physical(F10, name="F10"),
    physical(MENU, name="Menu"),
    physical(ALT_L, name="Alt_L"),  # Alt alone: Firefox and LibreOffice show the menu bar
    physical(SUPER_L, name="Super_L"),  # the launcher's search
], ids=["F10", "Menu", "Alt", "Super"])
def test_after_a_key_that_may_open_a_menu_keys_are_taken_again_after_two_spaces(qtbot, keyboard_with, menu_key):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("the cat sat on the ")
    listener.key.emit(menu_key)
    listener.type("k")  # a menu's item
    assert offered(qtbot, keyboard) == [] and click_first(keyboard) == ""
    listener.type(" ma")  # Space may have activated an item: the cursor back inside "wor|"
    assert offered(qtbot, keyboard) == [] and click_first(keyboard) == ""
    listener.type("d on the ma")  # a space the text got, then a word heard from its start
    assert keyboard.controller.context.text == "on the ma"
    words = offered(qtbot, keyboard)
    assert "mat" in words
    keyboard.suggestion_buttons[words.index("mat")].click()
    assert typed(keyboard) == "t "  # the word heard whole, completed


def test_following_turned_back_on_mid_word_offers_nothing_until_the_word_ends(qtbot, keyboard_with):
    """H74's second proposed test: "echo goo" heard, off, "d mor" unheard, on, "ni": "nice" typed
    "ce ".  Here "the cat sat on the " heard, "for" unheard, "ma" (the word is "forma..."): nothing
    may be offered for "ma"; after the word's space, the next word is completed again."""
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("The cat sat on the ")
    keyboard.update_settings(follow_physical_keys=False)
    keyboard.update_settings(follow_physical_keys=True)  # "for" typed meanwhile, unheard
    listener.type("ma")
    assert offered(qtbot, keyboard) == []
    assert click_first(keyboard) == ""  # not "t " ("format ", a word the user never began)
    listener.type("t sat on the ma")
    assert "mat" in offered(qtbot, keyboard)


def test_the_keyboard_shown_again_after_it_closed_does_not_complete_from_what_it_heard_before(qtbot,
                                                                                          keyboard_with):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("the cat sat on the ")
    keyboard.close()  # the listener stops; "big for" typed unheard
    keyboard.show()
    assert listener.starts == 2
    listener.type("ma")  # "forma...": not "mat" after "the cat sat on the "
    assert offered(qtbot, keyboard) == [] and click_first(keyboard) == ""


@pytest.mark.parametrize("key", [physical(ord("v"), char="v", chord=True), physical(ESCAPE), physical(LEFT)],
                         ids=["Ctrl+V", "Escape", "Left"])
def test_after_a_paste_escape_or_an_arrow_the_word_under_way_is_not_completed(qtbot, keyboard_with, key):
    """H74's "worThe" (o10s.png): Ctrl+V of "wor" mid-word; an arrow or Escape (an autocomplete
    closed) leaves the cursor inside a word just as well."""
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("the cat sat on the ")
    listener.key.emit(key)
    assert offered(qtbot, keyboard) == []
    assert click_first(keyboard) == ""  # nothing glued onto a word it never saw
    listener.type("ma")
    assert offered(qtbot, keyboard) == [] and click_first(keyboard) == ""
    listener.type("d sat on the ma")
    assert "mat" in offered(qtbot, keyboard)


def test_after_ctrl_a_what_is_typed_replaces_all_and_is_completed_at_once(qtbot, keyboard_with):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("the cat sat on the ")
    listener.key.emit(physical(ord("v"), char="v", chord=True))  # Ctrl+V: maybe "wor"
    listener.type("ma")
    assert offered(qtbot, keyboard) == []
    listener.key.emit(physical(ord("a"), char="a", chord=True))  # Ctrl+A: all selected
    listener.type("the cat sat on the ma")
    assert keyboard.controller.context.text == "the cat sat on the ma"
    assert "mat" in offered(qtbot, keyboard)


def test_a_click_says_where_the_text_is_but_while_a_menu_may_be_open_it_may_be_on_its_item(qtbot,
                                                                                           keyboard_with):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    below = keyboard.frameGeometry().bottomRight()
    elsewhere = PointerClick(below.x() + 50, below.y() + 50, 1)
    listener.type("we wor")
    listener.key.emit(physical(F10, name="F10"))
    listener.click.emit(elsewhere)  # perhaps on the menu's item: the cursor back in "wor|"
    listener.type("ma")
    assert offered(qtbot, keyboard) == [] and click_first(keyboard) == ""
    listener.type("d the cat sat on the ma")  # one space is enough now
    assert "mat" in offered(qtbot, keyboard)
    listener.click.emit(elsewhere)  # a click into a text field, then a new word: completed at once
    listener.type("sat on the ma")
    assert keyboard.controller.context.text == "sat on the ma"
    assert "mat" in offered(qtbot, keyboard)


def test_a_backspace_past_what_was_heard_goes_into_a_word_it_never_saw(qtbot, keyboard_with):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    below = keyboard.frameGeometry().bottomRight()
    listener.click.emit(PointerClick(below.x() + 50, below.y() + 50, 1))  # after "hello world|"
    listener.type("x")
    listener.key.emit(physical(0xFF08))
    listener.key.emit(physical(0xFF08))  # "hello worl|": inside a word it never saw
    listener.type("ma")
    assert offered(qtbot, keyboard) == [] and click_first(keyboard) == ""


def test_tab_in_a_terminal_may_complete_a_name_halfway_elsewhere_it_is_the_next_field(qtbot, keyboard_with):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    keyboard.controller.set_target(terminal=True)
    listener.type("cd Do")
    listener.key.emit(physical(TAB, name="Tab"))  # "Documents/" or "Do" with a bell
    listener.type("ma")
    assert offered(qtbot, keyboard) == [] and click_first(keyboard) == ""
    keyboard.controller.set_target(terminal=False)
    keyboard.controller.focus_changed()
    listener.type("the cat sat")
    listener.key.emit(physical(TAB, name="Tab"))  # a form's next field
    listener.type("on the ma")
    assert "mat" in offered(qtbot, keyboard)


def test_the_keyboards_own_alt_chord_sends_its_next_keys_to_a_menu(qtbot, keyboard_with):
    from test_modifiers import press, press_char

    keyboard = keyboard_with(FakeListener())
    for char in "we wor":
        press_char(keyboard, char) if char != " " else press(keyboard, "space")
    press(keyboard, "alt")
    press_char(keyboard, "f")  # Alt+F: the File menu
    press_char(keyboard, "s")  # Save
    assert keyboard.controller.context.text == ""
    assert offered(qtbot, keyboard) == [] and click_first(keyboard) == ""


def test_the_rule_in_the_context_itself():
    context = TypedContext()
    context.type("we wor")
    context.lose(MENU_OPEN)
    context.type("k")
    context.lose(WORD_UNHEARD)  # an arrow in the menu: still a menu
    assert context.unheard == MENU_OPEN
    context.type(" ld")
    assert (context.text, context.unheard) == ("", WORD_UNHEARD)
    context.backspace()
    context.type("e the ca")
    assert (context.text, context.unheard) == ("the ca", 0)
    context.backspace(7)  # back past what it heard
    assert (context.text, context.unheard) == ("", WORD_UNHEARD)
    context.reset()
    assert context.unheard == 0


def test_alt_and_super_are_keys_that_may_open_a_menu_ctrl_is_not():
    keymap = Keymap([[ord("f"), ord("F")], [ALT_L, 0], [0xFFE3, 0]], 8, {"alt": 8, "super": 64})
    control, alt, super_ = 4, 8, 64
    assert key_effect(keymap.key(8, alt)) == ("menu", "")
    assert key_effect(keymap.key(8, super_)) == ("menu", "")
    assert key_effect(keymap.key(8, control)) == ("reset", "")
    assert key_effect(keymap.key(9, 0)) == ("menu", "")  # Alt alone
    assert key_effect(keymap.key(10, 0)) == ("ignore", "")  # Ctrl alone
    assert key_effect(physical(F10, name="F10")) == ("menu", "")
    assert key_effect(physical(TAB, name="Tab")) == ("field", "")
    assert key_effect(keymap.key(8, control)) == ("reset", "")  # Ctrl+F
    assert key_effect(physical(ord("a"), char="a", chord=True)) == ("start", "")  # Ctrl+A
