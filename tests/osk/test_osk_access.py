"""Dwell and switch scanning, with a fake clock: the logic alone, then the real widget."""

from __future__ import annotations

import pytest

from keyboard_app.osk.access import Dwell, Highlight, Scanner


def test_dwell_presses_once_after_the_time(clock):
    dwell = Dwell(0.8, clock=clock)
    dwell.enter("a")
    clock.advance(0.4)
    assert dwell.poll() is None and dwell.progress() == pytest.approx(0.5)
    clock.advance(0.4)
    assert dwell.poll() == "a"
    clock.advance(5)
    assert dwell.poll() is None and dwell.progress() == 0  # once per visit
    dwell.leave()
    dwell.enter("a")
    clock.advance(0.8)
    assert dwell.poll() == "a"  # leave and come back: again


def test_moving_on_before_the_time_presses_nothing(clock):
    dwell = Dwell(1.0, clock=clock)
    dwell.enter("a")
    clock.advance(0.9)
    dwell.enter("b")  # the time starts again on the new key
    clock.advance(0.9)
    assert dwell.poll() is None
    clock.advance(0.1)
    assert dwell.poll() == "b"


def test_one_switch_scanning_moves_by_itself_and_selects(clock):
    scanner = Scanner([3, 12, 11], switches=1, interval=1.0, clock=clock)
    assert scanner.highlight == Highlight(0, None)  # the suggestions first
    clock.advance(1.0)
    assert scanner.poll() and scanner.highlight == Highlight(1, None)
    clock.advance(1.0)
    scanner.poll()
    assert scanner.switch(0) is None and scanner.highlight == Highlight(2, 0)  # into row 2
    clock.advance(3.5)  # three whole intervals: three steps
    scanner.poll()
    assert scanner.highlight == Highlight(2, 3)
    assert scanner.switch(0) == (2, 3)
    assert scanner.highlight == Highlight(0, None)  # back to the suggestions


def test_two_switches_step_and_select_and_time_does_nothing(clock):
    scanner = Scanner([4, 12], switches=2, interval=1.0, clock=clock)
    clock.advance(10)
    assert not scanner.poll() and scanner.highlight == Highlight(0, None)
    scanner.switch(1)  # select the suggestion row
    scanner.switch(0)
    scanner.switch(0)
    assert scanner.switch(1) == (0, 2)
    assert (scanner.steps, scanner.selects) == (2, 2)


def test_an_empty_suggestion_row_is_skipped(clock):
    scanner = Scanner([0, 5, 5], switches=2, clock=clock)
    assert scanner.highlight == Highlight(1, None)
    scanner.step()
    scanner.step()
    assert scanner.highlight == Highlight(1, None)  # row 2, then round to row 1
    scanner.set_sizes([3, 5, 5])  # suggestions came after a step: the highlight stays
    assert scanner.highlight == Highlight(1, None)
    scanner.select()
    scanner.select()  # a key pressed: scanning starts again, at the first group with items
    assert scanner.highlight == Highlight(0, None)
    scanner.set_sizes([0, 5, 5])  # no suggestions after that key
    assert scanner.highlight == Highlight(1, None)
    scanner.set_sizes([2, 5, 5])  # and then there are: they are scanned first
    assert scanner.highlight == Highlight(0, None)


def test_a_row_gone_round_without_a_select_is_left(clock):
    scanner = Scanner([2, 3], switches=2, clock=clock)
    scanner.step()
    scanner.select()  # into row 1 (3 keys)
    for _ in range(3):
        scanner.step()
    assert scanner.highlight == Highlight(1, None)  # a wrong row costs one round


def test_bad_scanner_settings_are_refused(clock):
    with pytest.raises(ValueError, match="one or two switches"):
        Scanner([1], switches=3, clock=clock)
    with pytest.raises(ValueError, match="positive"):
        Dwell(0, clock=clock)


# --- the widget -------------------------------------------------------------

def test_dwell_on_the_widget_presses_the_hovered_key(make_keyboard, clock):
    keyboard, injector = make_keyboard(access="dwell", dwell_ms=1000)
    row, column, _ = keyboard.layout_data.find_char("g")
    key = keyboard.key_buttons[row][column]
    other = keyboard.key_buttons[row][column + 1]
    key.hovered.emit(key)
    clock.advance(0.6)
    keyboard.tick()
    assert injector.text == "" and key.fill == pytest.approx(0.6)
    key.unhovered.emit(key)
    other.hovered.emit(other)  # passing over "h" on the way
    clock.advance(0.5)
    keyboard.tick()
    other.unhovered.emit(other)
    key.hovered.emit(key)
    clock.advance(1.0)
    keyboard.tick()
    keyboard.tick()
    assert injector.text == "g"


def test_one_switch_scanning_on_the_widget_types_the_right_key(make_keyboard, clock):
    keyboard, injector = make_keyboard(access="scan", scan_switches=1, scan_interval_ms=500)
    row, column, _ = keyboard.layout_data.find_char("w")
    assert keyboard.scanner.highlight.group == 0  # the suggestion row first
    for _ in range(row + 1):  # the row of "w" (group row + 1)
        clock.advance(0.5)
        keyboard.tick()
    assert keyboard.key_buttons[row][0].property("scan") == "group"
    keyboard.switch(0)
    for _ in range(column):
        clock.advance(0.5)
        keyboard.tick()
    assert keyboard.key_buttons[row][column].property("scan") == "key"
    keyboard.switch(0)
    assert injector.text == "w"


def test_two_switch_scanning_puts_in_a_suggestion(make_keyboard, clock):
    keyboard, injector = make_keyboard(access="scan", scan_switches=2)
    words = [s.text for s in keyboard.controller.suggestions]
    assert words  # at the start of a text the model has next words
    keyboard.switch(1)  # select the suggestion row
    keyboard.switch(0)  # step to the second
    keyboard.switch(1)
    assert injector.text == words[1] + " "


def test_in_scan_mode_a_click_anywhere_is_the_switch(make_keyboard, qtbot):
    from PySide6.QtCore import Qt

    keyboard, injector = make_keyboard(access="scan", scan_switches=2)
    keyboard.controller.suggestions = []
    keyboard._update_scan_groups()
    key = keyboard.key_buttons[0][0]  # "1": the first key of the first row
    qtbot.mouseClick(key, Qt.MouseButton.LeftButton)  # the key lets the click through: select row
    qtbot.mouseClick(keyboard, Qt.MouseButton.LeftButton)  # select its first key
    assert injector.text == "1"


# --- switch keys ----------------------------------------------------------------

@pytest.mark.parametrize("text, keys", [
    ("F9 F10", ("F9", "F10")), ("f12", ("F12",)), ("ScrollLock Pause", ("Scroll_Lock", "Pause")),
    ("KP_Enter", ("KP_Enter",)),
])
def test_switch_keys_are_read(text, keys):
    from keyboard_app.osk.switches import parse_switch_keys

    assert parse_switch_keys(text) == keys


@pytest.mark.parametrize("text, why", [
    ("space", "the keyboard types it itself"), ("Return F9", "the keyboard types it itself"),
    ("a", "the keyboard types it itself"), ("", "one or two"), ("F1 F2 F3", "one or two"),
    ("F9 F9", "must differ"),
])
def test_keys_the_keyboard_types_cannot_be_switches(text, why):
    from keyboard_app.osk.switches import SwitchKeyError, parse_switch_keys

    with pytest.raises(SwitchKeyError, match=why):
        parse_switch_keys(text)


class FakeGrab:
    """Stands in for ``X11KeyGrab``: records start/stop, presses on demand."""

    made: list["FakeGrab"] = []

    def __init__(self, keys):
        from PySide6.QtCore import QObject, Signal

        class Signals(QObject):
            pressed = Signal(int)
            failed = Signal(str)

        self.keys, self.running, self._signals = keys, False, Signals()
        self.pressed, self.failed = self._signals.pressed, self._signals.failed
        FakeGrab.made.append(self)

    def start(self):
        self.running = True

    def stop(self):
        self.running = False


def test_switch_keys_are_grabbed_only_while_scanning_and_drive_it(make_keyboard, worker, clock, tmp_path, qtbot):
    from keyboard_app.osk.backend import RecordingInjector
    from keyboard_app.osk.controller import OskController
    from keyboard_app.osk.settings import OskSettings
    from keyboard_app.osk.window import OnScreenKeyboard

    FakeGrab.made.clear()
    injector = RecordingInjector()
    keyboard = OnScreenKeyboard(controller=OskController(worker=worker, injector=injector),
                                settings=OskSettings(), clock=clock, switch_keys=FakeGrab)
    qtbot.addWidget(keyboard)
    assert FakeGrab.made == []  # pointer access: nothing grabbed
    keyboard.update_settings(access="scan", scan_switches=2, switch_keys="F5 F6")
    grab = FakeGrab.made[-1]
    assert grab.running and grab.keys == ("F5", "F6")
    keyboard.controller.suggestions = []
    keyboard._update_scan_groups()
    row, column, _ = keyboard.layout_data.find_char("q")
    for _ in range(row):
        grab.pressed.emit(1)  # the second key steps
    grab.pressed.emit(0)  # the first selects the row
    for _ in range(column):
        grab.pressed.emit(1)
    grab.pressed.emit(0)
    assert injector.text == "q"
    keyboard.update_settings(access="pointer")
    assert not grab.running


def test_a_function_key_grabbed_as_a_switch_is_not_sent_while_scanning(make_keyboard, worker, clock, qtbot):
    """Fn, 9 sends F9; while F9 is the select switch the keyboard's own F9 reached its grab (a
    select, not a key for the target): it is refused with a sentence, and sent again once
    scanning is off."""
    from keyboard_app.osk.backend import RecordingInjector
    from keyboard_app.osk.controller import OskController
    from keyboard_app.osk.settings import OskSettings
    from keyboard_app.osk.window import OnScreenKeyboard

    injector = RecordingInjector()
    keyboard = OnScreenKeyboard(controller=OskController(worker=worker, injector=injector),
                                settings=OskSettings(), clock=clock, switch_keys=FakeGrab)
    qtbot.addWidget(keyboard)
    keyboard.update_settings(access="scan", scan_switches=2, switch_keys="F9 F10")
    controller = keyboard.controller
    fn = next(key for row in keyboard.layout_data.rows for key in row if key.action == "fn")
    nine = next(key for row in keyboard.layout_data.rows for key in row if key.char == "9")
    five = next(key for row in keyboard.layout_data.rows for key in row if key.char == "5")
    failed: list[str] = []
    controller.send_failed.connect(failed.append)
    for key in (fn, nine, fn, five):
        controller.press(key)
    assert injector.events == [("chord", "", "f5")]  # F9 never went out; F5 did
    assert failed[0].startswith("F9 is a switch key while scanning")
    keyboard.update_settings(access="pointer")
    for key in (fn, nine):
        controller.press(key)
    assert injector.events[-1] == ("chord", "", "f9")
