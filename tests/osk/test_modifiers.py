"""Sticky Ctrl, Alt, Super and Fn on the on-screen keyboard (H54): a pointer-only user saves,
undoes, copies, closes a window (Alt+F4) and switches windows in any application.

A click latches a modifier for the next key, a second click locks it, a third frees it; they
combine (Ctrl+Shift+Z); the modified key goes to the target as a chord (modifier keys held
through XTest), never as typed text, so the context the predictor sees is not "…s" after Ctrl+S.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from keyboard_app.engine.predictor import Suggestion
from keyboard_app.osk.backend import CHORD_KEYS, InjectionError
from keyboard_app.osk.layout import BUILTIN, MODIFIERS, LayoutError, parse_layout
from keyboard_app.osk.window import KeyButton
from keyboard_app.osk.xtest import KEY_PRESS, KEY_RELEASE, XTestTyper
from qt_helpers import type_on_keyboard as type_text

CONTROL_L, SHIFT_L, ALT_L, SUPER_L, F4 = 0xFFE3, 0xFFE1, 0xFFE9, 0xFFEB, 0xFFC1


def press(keyboard, action: str) -> None:
    keyboard.press_key(*keyboard.layout_data.find_action(action))


def press_char(keyboard, char: str) -> None:
    row, column, _ = keyboard.layout_data.find_char(char)
    keyboard.press_key(row, column)


def button(keyboard, name: str) -> KeyButton:
    return keyboard.findChild(KeyButton, f"key-{name}")


def chords(injector) -> list[tuple[str, ...]]:
    return [event for event in injector.events if event[0] == "chord"]


# --- the layout -----------------------------------------------------------------------------

def test_the_builtin_layout_has_ctrl_alt_super_and_fn_without_a_wider_window():
    actions = {key.action for row in BUILTIN.rows for key in row}
    assert set(MODIFIERS) <= actions
    assert max(len(row) for row in BUILTIN.rows) <= 14  # as many keys a row as before: no wider
    assert len(BUILTIN.rows) == 5  # and no taller
    assert [key.fn for key in BUILTIN.rows[0][:12]] == [f"F{n}" for n in range(1, 13)]
    # Space is not pushed further along its row by the new keys (scan steps to it).
    row, column = BUILTIN.find_action("space")
    assert column <= 7 and all(BUILTIN.find_action(m)[1] > column for m in MODIFIERS)
    assert BUILTIN.find_action("escape") is not None and BUILTIN.find_char("ß") is not None


def test_a_users_layout_may_give_a_key_a_function_key_and_nothing_else():
    layout = parse_layout({"rows": [[{"char": "4", "shift": "$", "fn": "F4"}, {"action": "alt"}]]})
    assert layout.rows[0][0].fn == "F4" and layout.rows[0][0].caption(False, fn=True) == "F4"
    with pytest.raises(LayoutError, match="fn"):
        parse_layout({"rows": [[{"char": "4", "fn": "F13"}]]})
    with pytest.raises(LayoutError, match="both an action"):
        parse_layout({"rows": [[{"action": "alt", "fn": "F4"}]]})


# --- the controller and the window ---------------------------------------------------------------

def test_ctrl_s_is_a_chord_and_the_s_is_not_typed_into_the_context(make_keyboard):
    keyboard, injector = make_keyboard()
    type_text(keyboard, "see you")
    press(keyboard, "ctrl")
    assert button(keyboard, "ctrl").property("latched") == "true"
    press_char(keyboard, "s")
    assert chords(injector) == [("chord", "ctrl", "s")]
    assert injector.text == "see you"  # nothing typed
    assert not keyboard.controller.context.text.endswith("s")
    assert keyboard.controller.stats.keys_typed == len("see you")
    # Latched: used up by one key.
    assert keyboard.controller.sticky == {} and button(keyboard, "ctrl").property("latched") == "false"
    press_char(keyboard, "s")
    assert injector.text == "see yous" and len(chords(injector)) == 1


def test_a_second_click_locks_a_modifier_and_a_third_frees_it(make_keyboard):
    keyboard, injector = make_keyboard()
    press(keyboard, "ctrl")
    press(keyboard, "ctrl")
    assert button(keyboard, "ctrl").property("latched") == "locked"
    press_char(keyboard, "a")
    press_char(keyboard, "e")
    assert chords(injector) == [("chord", "ctrl", "a"), ("chord", "ctrl", "e")]
    press(keyboard, "ctrl")
    assert button(keyboard, "ctrl").property("latched") == "false"
    press_char(keyboard, "a")
    assert injector.text == "a" and len(chords(injector)) == 2


def test_modifiers_combine_with_each_other_and_with_shift(make_keyboard):
    keyboard, injector = make_keyboard()
    press(keyboard, "ctrl")
    press(keyboard, "shift")
    press_char(keyboard, "z")
    press(keyboard, "alt")
    press(keyboard, "tab")
    press(keyboard, "ctrl")
    press(keyboard, "alt")
    press(keyboard, "left")
    assert chords(injector) == [("chord", "ctrl+shift", "Z"), ("chord", "alt", "tab"),
                                ("chord", "ctrl+alt", "left")]
    assert not keyboard.controller.shift and keyboard.controller.sticky == {}
    assert injector.text == ""


def test_fn_turns_the_digits_into_function_keys_for_alt_f4(make_keyboard):
    keyboard, injector = make_keyboard()
    press(keyboard, "alt")
    press(keyboard, "fn")
    assert button(keyboard, "4").text() == "F4" and button(keyboard, "1").text() == "F1"
    press_char(keyboard, "4")
    assert chords(injector) == [("chord", "alt", "f4")]
    assert button(keyboard, "4").text() == "4"  # Fn used up
    press(keyboard, "fn")
    press_char(keyboard, "5")  # Fn alone: the function key itself
    press(keyboard, "fn")
    press_char(keyboard, "q")  # a key without a function key types as it is
    assert chords(injector)[1:] == [("chord", "", "f5")] and injector.text == "q"


def test_caps_does_not_turn_ctrl_s_into_ctrl_shift_s(make_keyboard):
    keyboard, injector = make_keyboard()
    press(keyboard, "caps")
    press(keyboard, "ctrl")
    press_char(keyboard, "s")
    assert chords(injector) == [("chord", "ctrl", "s")]
    assert keyboard.controller.caps  # Caps stays on for typing


def test_a_suggestion_is_typed_plainly_and_frees_the_latched_modifiers_only(make_keyboard):
    keyboard, injector = make_keyboard()
    type_text(keyboard, "the ca")
    controller = keyboard.controller
    press(keyboard, "alt")
    press(keyboard, "super")
    press(keyboard, "super")  # locked
    controller.suggestions = [Suggestion(text="cat", token="cat", log_prob=-1.0, is_completion=True)]
    controller._shown_for = controller.context.text
    assert controller.accept(0)
    assert injector.text == "the cat " and chords(injector) == []
    assert controller.sticky == {"super": "locked"}
    assert button(keyboard, "alt").property("latched") == "false"
    assert button(keyboard, "super").property("latched") == "locked"


def test_a_chord_that_cannot_be_sent_says_so_in_one_sentence(make_keyboard):
    keyboard, injector = make_keyboard()

    def refuse(modifiers, key):
        raise InjectionError("This keyboard map has no Super key.")

    injector.chord = refuse
    type_text(keyboard, "hi")
    press(keyboard, "super")
    press_char(keyboard, "d")
    assert keyboard.notice.text() == "This keyboard map has no Super key."
    assert keyboard.controller.context.text == "hi" and injector.text == "hi"


def test_scanning_reaches_ctrl_and_latches_it(make_keyboard):
    keyboard, injector = make_keyboard(access="scan", scan_switches=2)
    row, column = keyboard.layout_data.find_action("ctrl")
    scanner = keyboard.scanner
    while scanner.highlight.group != row + 1:
        keyboard.switch(0)
    keyboard.switch(1)
    while scanner.highlight.item != column:
        keyboard.switch(0)
    keyboard.switch(1)
    assert keyboard.controller.sticky == {"ctrl": "latched"}
    assert button(keyboard, "ctrl").property("latched") == "true"


def test_a_click_on_ctrl_latches_it_and_shows_how_to_lock_it(make_keyboard, qtbot):
    keyboard, _ = make_keyboard()
    ctrl = button(keyboard, "ctrl")
    qtbot.mouseClick(ctrl, Qt.MouseButton.LeftButton)
    assert keyboard.controller.sticky == {"ctrl": "latched"}
    assert "twice" in ctrl.toolTip()


# --- XTest: the modifiers are real key events -----------------------------------------------------

class ModifierDisplay:
    """A fake X server with modifier keys: records the XTest events it is sent."""

    FIRST = 8

    def __init__(self) -> None:
        self.keymap = [[SHIFT_L, 0], [CONTROL_L, 0], [ALT_L, 0], [SUPER_L, 0], [F4, 0], [0xFF09, 0]]
        self.keymap += [[ord(c), ord(c.upper())] for c in "asz"]
        self.keymap += [[ord("/"), ord("?")], [0, 0]]
        self.display = SimpleNamespace(info=SimpleNamespace(min_keycode=self.FIRST,
                                                            max_keycode=self.FIRST + len(self.keymap) - 1))
        self.events: list[tuple[int, int]] = []

    def keycode(self, keysym: int) -> int:
        return self.FIRST + next(i for i, row in enumerate(self.keymap) if keysym in row)

    def pending_events(self) -> int:
        return 0

    def get_keyboard_mapping(self, first: int, count: int) -> list[list[int]]:
        return [list(row) for row in self.keymap]

    def change_keyboard_mapping(self, keycode: int, rows: list[list[int]]) -> None:
        self.keymap[keycode - self.FIRST] = list(rows[0])

    def xtest_fake_input(self, event_type: int, keycode: int) -> None:
        self.events.append((event_type, keycode))

    def sync(self) -> None:
        pass


def test_xtest_holds_the_modifier_keys_around_the_key():
    server = ModifierDisplay()
    typer = XTestTyper(server)
    ctrl, shift, alt = server.keycode(CONTROL_L), server.keycode(SHIFT_L), server.keycode(ALT_L)
    typer.chord(("ctrl",), "s")
    s = server.keycode(ord("s"))
    assert server.events == [(KEY_PRESS, ctrl), (KEY_PRESS, s), (KEY_RELEASE, s), (KEY_RELEASE, ctrl)]
    server.events.clear()
    typer.chord(("ctrl", "shift"), "Z")  # Shift once, though "Z" needs it too
    z = server.keycode(ord("z"))
    assert server.events == [(KEY_PRESS, ctrl), (KEY_PRESS, shift), (KEY_PRESS, z),
                             (KEY_RELEASE, z), (KEY_RELEASE, shift), (KEY_RELEASE, ctrl)]
    server.events.clear()
    typer.chord(("alt",), "f4")
    f4 = server.keycode(F4)
    assert server.events == [(KEY_PRESS, alt), (KEY_PRESS, f4), (KEY_RELEASE, f4), (KEY_RELEASE, alt)]
    server.events.clear()
    typer.chord(("ctrl",), "?")  # on the key's second level: Shift is added
    slash = server.keycode(ord("/"))
    assert server.events == [(KEY_PRESS, ctrl), (KEY_PRESS, shift), (KEY_PRESS, slash),
                             (KEY_RELEASE, slash), (KEY_RELEASE, shift), (KEY_RELEASE, ctrl)]


def test_xtest_says_which_modifier_the_keymap_lacks_and_presses_nothing():
    server = ModifierDisplay()
    server.keymap[3] = [0, 0]  # no Super key
    with pytest.raises(InjectionError, match="no Super key"):
        XTestTyper(server).chord(("super",), "a")
    assert server.events == []


# --- pynput (Windows, macOS) ------------------------------------------------------------------------

def test_pynput_sends_the_same_chords(monkeypatch):
    """The injector for Windows and macOS holds the same modifiers (Super is pynput's "cmd")
    and presses the same keys, so the keys work there as on X11 (a stand-in for pynput's
    keyboard module: its real one needs a desktop session)."""
    import contextlib
    import sys
    import types

    from keyboard_app.osk import backend

    calls: list[tuple] = []
    names = ["backspace", "enter", "tab", "esc", "left", "right", "up", "down", "space",
             "ctrl", "alt", "cmd", "shift", *(f"f{n}" for n in range(1, 13))]
    key = SimpleNamespace(**{name: f"Key.{name}" for name in names})

    class Controller:
        @contextlib.contextmanager
        def pressed(self, *keys):
            calls.append(("down", *keys))
            yield
            calls.append(("up", *keys))

        def tap(self, key):
            calls.append(("tap", key))

    keyboard = types.ModuleType("pynput.keyboard")
    keyboard.Key, keyboard.Controller = key, Controller
    package = types.ModuleType("pynput")
    package.keyboard = keyboard
    monkeypatch.setitem(sys.modules, "pynput", package)
    monkeypatch.setitem(sys.modules, "pynput.keyboard", keyboard)
    injector = backend.PynputInjector()
    injector.chord(("ctrl", "super", "shift"), "z")
    injector.chord(("alt",), "f4")
    assert calls == [("down", "Key.ctrl", "Key.cmd", "Key.shift"), ("tap", "z"),
                     ("up", "Key.ctrl", "Key.cmd", "Key.shift"),
                     ("down", "Key.alt"), ("tap", "Key.f4"), ("up", "Key.alt")]
    calls.clear()
    for name in CHORD_KEYS:  # every key a chord may press is one of pynput's keys
        injector.chord((), name)
    assert all(call[1].startswith("Key.") for call in calls if call[0] == "tap")


def test_shift_on_an_action_key_is_sent_shift_tab_goes_back_through_a_dialog(make_keyboard):
    keyboard, injector = make_keyboard()
    press(keyboard, "shift")
    press(keyboard, "tab")
    press(keyboard, "shift")
    press(keyboard, "left")
    press(keyboard, "tab")
    assert chords(injector) == [("chord", "shift", "tab"), ("chord", "shift", "left")]
    assert ("press", "tab") in injector.events and not keyboard.controller.shift


def test_shift_then_backspace_erases_as_before_and_keeps_shift_for_the_next_letter(make_keyboard):
    """A capital on its way, then a slip seen: Backspace erases, the keyboard still knows the
    text, and the next letter is the capital Shift was pressed for."""
    keyboard, injector = make_keyboard()
    press_char(keyboard, "h")
    press_char(keyboard, "i")
    press(keyboard, "space")
    press_char(keyboard, "x")
    press(keyboard, "shift")
    press(keyboard, "backspace")
    press_char(keyboard, "y")
    assert chords(injector) == []
    assert keyboard.controller.context.text == "hi Y" and injector.text == "hi Y"
