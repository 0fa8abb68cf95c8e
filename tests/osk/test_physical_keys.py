"""The on-screen keyboard follows the physical keyboard (keyboard_app/osk/physical.py).

A fake listener stands for the X11 RECORD one: it hands the keyboard the key
and button presses the server would report, the user's and the keyboard's
own (replayed from what its injector sent to a fake X server).
"""

from __future__ import annotations

import logging
import time

import pytest
from PySide6.QtCore import QObject, Signal
from test_osk_xtest import FIRST, FakeDisplay

from keyboard_app.osk.backend import RecordingInjector
from keyboard_app.osk.controller import OskController
from keyboard_app.osk.physical import (
    OWN_KEY_SECONDS,
    Keymap,
    OwnKeys,
    PhysicalKey,
    PointerClick,
    X11InputListener,
    key_effect,
)
from keyboard_app.osk.settings import OskSettings, OskSettingsStore
from keyboard_app.osk.window import OnScreenKeyboard
from keyboard_app.osk.xtest import KEY_PRESS, SHIFT_L, XTestTyper
from qt_helpers import type_on_keyboard

# Keysyms used below (X11's keysymdef.h).
BACKSPACE, RETURN, TAB, LEFT, HOME, ESCAPE = 0xFF08, 0xFF0D, 0xFF09, 0xFF51, 0xFF50, 0xFF1B
CONTROL_L, CAPS_LOCK, DELETE, F9 = 0xFFE3, 0xFFE5, 0xFFFF, 0xFFC6


class FakeListener(QObject):
    """Stands for ``physical.X11InputListener``: the test emits what the server would report."""

    key = Signal(object)
    click = Signal(object)

    def __init__(self, problem: str | None = None) -> None:
        super().__init__()
        self.problem = problem
        self.starts = self.stops = 0

    def start(self) -> str | None:
        self.starts += 1
        return self.problem

    def stop(self) -> None:
        self.stops += 1

    def type(self, text: str) -> None:
        """The user types ``text`` on the physical keyboard (keycodes the keyboard never sent)."""
        for char in text:
            keysym = RETURN if char == "\n" else ord(char)
            self.key.emit(physical(keysym, char="" if char == "\n" else char))


def physical(keysym: int, *, char: str = "", chord: bool = False, name: str = "", keycode: int = 200) -> PhysicalKey:
    return PhysicalKey(keycode=keycode, keysym=keysym, name=name, char=char, chord=chord,
                       received=time.monotonic())


@pytest.fixture
def keyboard_with(qtbot, worker, clock, tmp_path):
    """``keyboard_with(listener, injector=None) -> keyboard``: the real widget over the tiny model."""

    def make(listener, injector=None):
        controller = OskController(worker=worker, injector=injector or RecordingInjector())
        keyboard = OnScreenKeyboard(controller=controller, settings=OskSettings(),
                                    store=OskSettingsStore(tmp_path / "osk.json"), clock=clock,
                                    input_listener=listener)
        qtbot.addWidget(keyboard)
        keyboard.show()
        qtbot.waitExposed(keyboard)
        return keyboard

    return make


def shown_for(qtbot, keyboard, text: str) -> list[str]:
    """The strip's words once it is shown for ``text`` (the refresh after physical keys waits
    for the burst to end)."""
    qtbot.waitUntil(lambda: keyboard.controller._shown_for == text, timeout=5000)
    return [s.text for s in keyboard.controller.suggestions]


def test_a_suggestion_after_a_word_typed_on_the_physical_keyboard_completes_it(qtbot, keyboard_with):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    injector = keyboard.controller.injector
    listener.type("The cat sat on the ma")
    assert keyboard.controller.context.text == "The cat sat on the ma"
    assert shown_for(qtbot, keyboard, "The cat sat on the ma")[:1] == ["mat"]
    keyboard.suggestion_buttons[0].click()
    assert injector.events == [("type", "t ")]  # the rest of the word and a space, not "ma" + "Mat"
    assert keyboard.controller.context.text == "The cat sat on the mat "


def test_the_strip_predicts_from_what_was_typed_on_the_physical_keyboard(qtbot, keyboard_with, worker):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("thank you for ")
    words = shown_for(qtbot, keyboard, "thank you for ")
    assert words == [s.text for s in worker.predictor.suggest("thank you for ", 4)][:len(words)]
    keyboard.suggestion_buttons[0].click()  # a new word: after the space, no second space
    assert keyboard.controller.injector.events == [("type", words[0] + " ")]
    assert keyboard.controller.context.text == f"thank you for {words[0]} "


@pytest.mark.parametrize("keys, expected", [
    ([physical(ord("a"), char="a"), physical(BACKSPACE), physical(ord("b"), char="b")], "the b"),
    ([physical(RETURN)], "the \n"),
    ([physical(ord("x"), char="x", chord=True)], ""),  # Ctrl+X, Ctrl+V, Alt+...: unknown text
    ([physical(LEFT)], ""),
    ([physical(HOME)], ""),
    ([physical(TAB)], ""),
    ([physical(ESCAPE)], ""),
    ([physical(CONTROL_L, name="Control_L"), physical(CAPS_LOCK, name="Caps_Lock")], "the "),
    ([physical(DELETE, name="Delete")], "the "),  # the text before the cursor is as it was
])
def test_each_physical_key_changes_the_context_as_the_same_key_on_the_keyboard(keyboard_with, keys, expected):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("the ")
    for key in keys:
        listener.key.emit(key)
    assert keyboard.controller.context.text == expected


def test_a_switch_key_grabbed_for_scanning_leaves_the_context_alone(keyboard_with):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    keyboard.controller.reserved_keys = frozenset({"f9"})
    listener.type("the ")
    listener.key.emit(physical(F9, name="F9"))
    assert keyboard.controller.context.text == "the "


def test_the_keyboards_own_xtest_keys_are_not_counted_twice(qtbot, keyboard_with):
    server = FakeDisplay(spare=4)
    listener = FakeListener()
    keyboard = keyboard_with(listener, XTestTyper(server))
    keymap = Keymap(server.keymap, FIRST, {})
    before_the_keyboard = physical(ord("h"), char="h", keycode=FIRST + 11)  # reported before it typed
    type_on_keyboard(keyboard, "Hi é")
    assert server.text == keyboard.controller.context.text == "Hi é"
    listener.key.emit(before_the_keyboard)  # the user's own h: counted, though the keyboard typed one too
    shift = False
    for event_type, keycode in list(server.fake_events):  # the server's reports of the keyboard's keys
        if server.keymap[keycode - FIRST][0] == SHIFT_L:
            shift = event_type == KEY_PRESS
        if event_type == KEY_PRESS:
            listener.key.emit(keymap.key(keycode, 1 if shift else 0, time.monotonic()))
    assert keyboard.controller.context.text == "Hi éh"
    assert len(keyboard.controller.own_keys) == 0  # each own press used up by its report
    listener.type("o")  # the user's keys after them count again
    assert keyboard.controller.context.text == "Hi ého"


def test_an_own_key_report_matches_only_a_press_sent_before_it_and_expires():
    now = [10.0]
    own = OwnKeys(clock=lambda: now[0])
    own.sent([38])
    assert not own.is_own(38, received=9.9)  # came before the keyboard pressed it: the user's
    assert own.is_own(38, received=10.01)
    assert not own.is_own(38, received=10.02)  # used up
    own.sent([38])
    assert not own.is_own(38, received=10.0 + OWN_KEY_SECONDS + 1)  # never reported: forgotten


def test_a_click_outside_the_keyboard_starts_a_sentence_a_click_on_it_or_the_wheel_does_not(keyboard_with):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("the cat ")
    inside = keyboard.frameGeometry().center()
    listener.click.emit(PointerClick(inside.x(), inside.y(), 1))
    below = keyboard.frameGeometry().bottomRight()
    listener.click.emit(PointerClick(below.x() + 50, below.y() + 50, 4))  # the wheel
    assert keyboard.controller.context.text == "the cat "
    listener.click.emit(PointerClick(below.x() + 50, below.y() + 50, 1))
    assert keyboard.controller.context.text == ""


def test_the_listener_runs_while_the_keyboard_is_shown(keyboard_with):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    assert (listener.starts, listener.stops) == (1, 0)
    keyboard.close()
    assert listener.stops == 1


def test_a_listener_that_cannot_start_is_one_log_line_and_the_keyboard_still_types(keyboard_with, caplog):
    listener = FakeListener(problem="keys typed on the physical keyboard cannot be followed: this X "
                                    "server lacks the RECORD extension")
    with caplog.at_level(logging.INFO, logger="keyboard_app.osk.window"):
        keyboard = keyboard_with(listener)
        keyboard.hide()
        keyboard.show()
    lines = [r.getMessage() for r in caplog.records if "physical keyboard" in r.getMessage()]
    assert len(lines) == 1 and "RECORD" in lines[0]
    type_on_keyboard(keyboard, "ok")
    assert keyboard.controller.injector.text == "ok"


@pytest.mark.parametrize("environ, words", [
    ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "Wayland"),
    ({}, "X11 display"),
])
def test_the_x11_listener_says_why_it_cannot_start(monkeypatch, environ, words):
    for name in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    problem = X11InputListener().start()
    assert problem is not None and words in problem


def test_the_keymap_gives_characters_as_the_server_does():
    rows = [[ord("a"), ord("A"), 0, 0, 0xE6, 0xC6],  # AltGr+a: æ
            [0xFF9C, 0xFFB1],  # the keypad's End / 1
            [ord("1"), ord("!")],
            [CONTROL_L, 0]]
    keymap = Keymap(rows, 8, {"level3": 128, "numlock": 16, "alt": 8})
    shift, lock, control, alt, numlock, altgr = 1, 2, 4, 8, 16, 128
    assert keymap.key(8, 0).char == "a"
    assert keymap.key(8, shift).char == "A"
    assert keymap.key(8, lock).char == "A"
    assert keymap.key(8, lock | shift).char == "a"
    assert keymap.key(8, altgr).char == "æ"
    assert keymap.key(10, lock).char == "1"  # Caps Lock leaves the digits alone
    assert keymap.key(9, numlock).char == "1"
    assert key_effect(keymap.key(9, 0)) == ("reset", "")  # End
    assert keymap.key(8, control).chord and keymap.key(8, alt).chord and not keymap.key(8, altgr).chord
    assert key_effect(keymap.key(11, 0)) == ("ignore", "")


def test_the_x11_listener_without_record_says_so_and_closes_its_connections(monkeypatch):
    from Xlib import display as xdisplay

    opened = []

    class NoRecord:
        def __init__(self, *args) -> None:
            self.closed = False
            opened.append(self)

        def has_extension(self, name: str) -> bool:
            return name != "RECORD"

        def close(self) -> None:
            self.closed = True

    monkeypatch.setenv("DISPLAY", ":99")
    for name in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(xdisplay, "Display", NoRecord)
    listener = X11InputListener()
    problem = listener.start()
    assert problem is not None and "RECORD" in problem
    assert opened and all(c.closed for c in opened) and not listener.running


def test_keys_pressed_while_the_keyboards_menu_is_open_go_to_the_menu(qtbot, keyboard_with):
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    listener.type("the ")
    keyboard.menu.popup(keyboard.mapToGlobal(keyboard.rect().center()))
    qtbot.waitUntil(keyboard.menu.isVisible)
    listener.key.emit(physical(ESCAPE))  # closes the menu, never reaches the window typed into
    keyboard.menu.hide()
    assert keyboard.controller.context.text == "the "


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_on_windows_and_macos_the_x11_listener_does_not_start(monkeypatch, platform):
    monkeypatch.setattr("sys.platform", platform)
    monkeypatch.setenv("DISPLAY", ":0")  # (XQuartz on a Mac)
    assert "X11 desktop only" in X11InputListener().start()


def test_following_the_physical_keyboard_can_be_turned_off_and_forgets_what_it_heard(qtbot, keyboard_with,
                                                                                  tmp_path):
    """It hears every key while shown, a password too: a person may keep it out (⚙ menu), and the
    choice is kept. Off, the listener stops, what it heard is forgotten, and keys change nothing."""
    listener = FakeListener()
    keyboard = keyboard_with(listener)
    assert keyboard.settings.follow_physical_keys and listener.starts == 1
    listener.type("my secret ")
    keyboard._follow_action.trigger()  # unchecked
    assert not keyboard.settings.follow_physical_keys and listener.stops == 1
    assert keyboard.controller.context.text == ""
    assert OskSettingsStore(tmp_path / "osk.json").load()[0].follow_physical_keys is False
    keyboard.hide()
    keyboard.show()
    assert listener.starts == 1  # shown again: still not listening
    keyboard._follow_action.trigger()
    assert keyboard.settings.follow_physical_keys and listener.starts == 2
    listener.type("the cat ")  # (the first word may have been begun while it was off: unheard)
    assert keyboard.controller.context.text == "cat "


def test_the_choice_is_greyed_where_the_physical_keyboard_cannot_be_heard(keyboard_with):
    keyboard = keyboard_with(FakeListener(problem="the X server has no RECORD extension"))
    assert not keyboard._follow_action.isEnabled()
