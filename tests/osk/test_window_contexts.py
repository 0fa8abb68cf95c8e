"""Each window keeps its context (keyboard_app/osk/context.py ``WindowContexts``).

Back in a window left with a sentence half written (looked something up in a
browser meanwhile), the strip goes on with that sentence instead of offering
sentence-start words: the context is given back, unless something says the
cursor there moved (a click activated it, keys went unheard).  A fake
desktop stands for X11: which window is active, and each window's WM_CLASS;
a fake listener hands the keyboard the physical keys and clicks.
"""

from __future__ import annotations

import time

import pytest
from test_physical_keys import FakeListener, physical

from keyboard_app.osk.backend import RecordingInjector
from keyboard_app.osk.context import HEARD, WORD_UNHEARD
from keyboard_app.osk.controller import OskController
from keyboard_app.osk.physical import PhysicalKey, PointerClick
from keyboard_app.osk.settings import OskSettings, OskSettingsStore
from keyboard_app.osk.window import OnScreenKeyboard
from qt_helpers import type_on_keyboard

ALT_L, TAB = 0xFFE9, 0xFF09
SENTENCE = "I will send the report to "


class Desktop:
    """The X11 desktop as the keyboard sees it: the active window and each window's class."""

    def __init__(self) -> None:
        self.active = "mail"
        self.classes = {"mail": ("thunderbird", "Thunderbird"), "web": ("firefox", "Firefox"),
                        "term": ("xterm", "XTerm"), "mail-dialog": ("thunderbird", "Thunderbird")}

    def window_class(self, window):
        return self.classes.get(window)


@pytest.fixture
def desktop_keyboard(qtbot, worker, clock, tmp_path):
    """``desktop_keyboard(**settings) -> (keyboard, desktop, listener)``: the real widget over the
    tiny model, with a fake desktop and a fake listener; the first window seen is "mail"."""

    def make(**settings):
        desktop, listener = Desktop(), FakeListener()
        controller = OskController(worker=worker, injector=RecordingInjector())
        keyboard = OnScreenKeyboard(controller=controller, settings=OskSettings().with_(**settings),
                                    store=OskSettingsStore(tmp_path / "osk.json"), clock=clock,
                                    active_window=lambda: desktop.active, window_class=desktop.window_class,
                                    input_listener=listener)
        qtbot.addWidget(keyboard)
        keyboard.show()
        qtbot.waitExposed(keyboard)
        keyboard.poll_focus()
        return keyboard, desktop, listener

    return make


def switch(keyboard, desktop, window) -> None:
    """Another window becomes active (Alt+Tab's end, a taskbar), and the keyboard looks."""
    desktop.active = window
    keyboard.poll_focus()


def shown_for(qtbot, keyboard, text: str) -> list[str]:
    qtbot.waitUntil(lambda: keyboard.controller._shown_for == text, timeout=5000)
    return [s.text for s in keyboard.controller.suggestions]


def click(listener) -> None:
    listener.click.emit(PointerClick(x=5000, y=5000, button=1, received=time.monotonic()))


def test_back_in_a_window_the_strip_goes_on_with_its_half_written_sentence(qtbot, desktop_keyboard, worker):
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    switch(keyboard, desktop, "web")
    assert keyboard.controller.context.text == ""  # a window never typed into: a sentence start
    listener.type("weather in oslo")
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == SENTENCE
    assert keyboard.controller.context.unheard == HEARD
    words = shown_for(qtbot, keyboard, SENTENCE)
    assert words and words == [s.text for s in worker.predictor.suggest(SENTENCE, 4)][:len(words)]
    switch(keyboard, desktop, "web")  # and the other window's too
    assert keyboard.controller.context.text == "weather in oslo"


def test_a_click_after_coming_back_still_starts_a_sentence(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    switch(keyboard, desktop, "web")
    switch(keyboard, desktop, "mail")
    click(listener)
    assert keyboard.controller.context.text == ""


def test_a_click_that_activates_the_window_is_that_windows_not_the_ones_left(desktop_keyboard):
    """The click comes before the keyboard sees the change: it moved the cursor in the window
    clicked into (nothing given back there), and the window left keeps its text."""
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    switch(keyboard, desktop, "web")
    listener.type("weather ")
    click(listener)  # into the mail window, somewhere in its text
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == ""
    switch(keyboard, desktop, "web")  # (Alt+Tab: no click)
    assert keyboard.controller.context.text == "weather "


def test_a_click_that_stayed_in_the_window_is_forgotten_at_the_next_looks(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard()
    click(listener)  # in the mail window's text
    keyboard.poll_focus()
    keyboard.poll_focus()
    listener.type(SENTENCE)
    switch(keyboard, desktop, "web")
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == SENTENCE


def test_alt_tab_is_left_out_of_the_context_kept(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    listener.key.emit(physical(ALT_L, name="Alt_L"))
    listener.key.emit(PhysicalKey(keycode=23, keysym=TAB, name="Tab", chord=True, alt=True,
                                  received=time.monotonic()))
    switch(keyboard, desktop, "web")
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == SENTENCE
    assert keyboard.controller.context.unheard == HEARD  # not a menu's keys: words are offered


def test_alt_tab_on_the_keyboard_itself_is_left_out_too(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard()
    type_on_keyboard(keyboard, "see you at")
    keyboard.press_key(*keyboard.layout_data.find_action("alt"))
    keyboard.press_key(*keyboard.layout_data.find_action("tab"))
    switch(keyboard, desktop, "web")
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == "see you at"
    assert keyboard.controller.context.unheard == HEARD


def test_a_key_right_after_a_switch_goes_to_the_new_windows_context(desktop_keyboard):
    """Before the timer's next look: the key itself makes the keyboard look."""
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    desktop.active = "web"
    listener.type("news")
    assert keyboard.controller.context.text == "news"
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == SENTENCE


def test_whether_a_window_is_a_terminal_comes_back_with_it(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard()
    switch(keyboard, desktop, "term")
    listener.type("git commit -m ")
    assert keyboard.controller.terminal
    switch(keyboard, desktop, "mail")
    assert not keyboard.controller.terminal
    switch(keyboard, desktop, "term")
    assert keyboard.controller.terminal and keyboard.controller.context.text == "git commit -m "


def test_a_dialog_of_the_same_application_has_its_own_context(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    switch(keyboard, desktop, "mail-dialog")
    assert keyboard.controller.context.text == ""
    listener.type("quarterly.pdf")
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == SENTENCE


def test_a_window_id_given_to_another_application_starts_a_sentence(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    switch(keyboard, desktop, "web")
    desktop.classes["mail"] = ("gedit", "Gedit")  # the mail window closed, X gave its id again
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == ""


def test_the_keyboards_own_window_changes_nothing(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    switch(keyboard, desktop, int(keyboard.winId()))
    assert keyboard.controller.context.text == SENTENCE
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == SENTENCE


def test_keys_unheard_meanwhile_leave_no_window_its_old_text(desktop_keyboard):
    """Following turned off and on again: the keys typed meanwhile went unheard, in any window."""
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    switch(keyboard, desktop, "web")
    keyboard.update_settings(follow_physical_keys=False)
    keyboard.update_settings(follow_physical_keys=True)
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == ""
    assert keyboard.controller.context.unheard == WORD_UNHEARD  # maybe inside a word: nothing offered
    assert keyboard.controller.suggestions == []


def test_with_following_off_what_the_keyboard_typed_comes_back(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard(follow_physical_keys=False)
    type_on_keyboard(keyboard, "see you at the ")
    switch(keyboard, desktop, "web")
    type_on_keyboard(keyboard, "news")
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == "see you at the "


def test_the_memory_is_bounded_and_the_least_recent_window_goes_first():
    from keyboard_app.osk.context import SavedContext, WindowContexts

    windows = WindowContexts(limit=3)
    for window in "abcd":
        windows.save(window, SavedContext(window, HEARD))
    assert len(windows) == 3 and "a" not in windows
    windows.save("b", SavedContext("b again", HEARD))  # left again: the most recent now
    windows.save("e", SavedContext("e", HEARD))
    assert "c" not in windows and windows.take("b").text == "b again"
    assert windows.take("b") is None  # (taken back: the keyboard's context again)


def test_the_memory_holds_many_windows_but_not_without_end(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    for n in range(100):
        desktop.classes[f"w{n}"] = ("app", "App")
        switch(keyboard, desktop, f"w{n}")
        listener.type(f"text {n}")
    assert 20 <= len(keyboard.controller.windows) <= 50
    switch(keyboard, desktop, "mail")  # aged out
    assert keyboard.controller.context.text == ""
    switch(keyboard, desktop, "w90")
    assert keyboard.controller.context.text == "text 90"


def test_the_contexts_are_never_written_to_disk(desktop_keyboard, tmp_path):
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    switch(keyboard, desktop, "web")
    keyboard.update_settings(dwell_ms=900)  # (the settings are saved)
    keyboard.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "report" not in path.read_text(errors="replace")


def test_a_key_on_the_keyboard_right_after_a_click_into_another_window_goes_there(desktop_keyboard):
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    switch(keyboard, desktop, "web")
    switch(keyboard, desktop, "mail")  # (given back)
    click(listener)  # into the web window's text, not seen active yet
    desktop.active = "web"
    type_on_keyboard(keyboard, "x")
    assert keyboard.controller.context.text == "x"  # not "...to x", not web's old text
    switch(keyboard, desktop, "mail")
    assert keyboard.controller.context.text == SENTENCE


def test_a_suggestion_clicked_as_the_window_changes_types_nothing(qtbot, desktop_keyboard):
    """The row was the window left's: its word would be typed into the other window."""
    keyboard, desktop, listener = desktop_keyboard()
    listener.type(SENTENCE)
    assert shown_for(qtbot, keyboard, SENTENCE)
    desktop.active = "web"
    keyboard.suggestion_buttons[0].click()
    assert keyboard.controller.injector.events == []
    assert keyboard.controller.context.text == ""
