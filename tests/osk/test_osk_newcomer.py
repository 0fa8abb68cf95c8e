"""What a newcomer found wrong with the keyboard (H40's findings): a minimised keyboard that
could not be brought back, dialogs that left the keys typing into nothing, larger keys off the
screen, an "&" key without a label, Shift carried past a suggestion, menus that hid the current
setting, ⚙ left highlighted, missing characters, empty suggestion buttons and the counter's words."""

from __future__ import annotations

import re
import string
from types import SimpleNamespace

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QLineEdit, QPushButton

from keyboard_app.engine.predictor import Suggestion
from keyboard_app.osk.backend import RecordingInjector
from keyboard_app.osk.layout import BUILTIN
from keyboard_app.osk.window import KeyButton
from qt_helpers import type_on_keyboard as type_text

TARGET = 0x4200001  # the window typed into, as the fake desktop's active window


def press(keyboard, action: str) -> None:
    keyboard.press_key(*keyboard.layout_data.find_action(action))


def key(keyboard, char: str) -> KeyButton:
    row, column, _ = keyboard.layout_data.find_char(char)
    return keyboard.key_buttons[row][column]


def action_named(menu, text):
    return next(a for a in menu.actions() if a.text() == text)


# --- 1: a minimised keyboard comes back -------------------------------------------------

def test_a_minimised_keyboard_is_brought_back_by_a_second_start(make_keyboard, qtbot):
    """H40's finding 1: a second ``--osk`` said "brought to the front", and it stayed minimised."""
    keyboard, _ = make_keyboard()
    keyboard.showMinimized()
    qtbot.waitUntil(keyboard.isMinimized)
    keyboard.bring_back()  # what the running keyboard does when a second start asks for it
    assert keyboard.isVisible() and not keyboard.isMinimized()


def test_the_editors_menu_entry_restores_a_minimised_keyboard_instead_of_closing_it(make_window, qtbot):
    from keyboard_app.osk.app import _KeyboardHost, toggle_for_window

    window = make_window()
    keyboard = toggle_for_window(window, injector=RecordingInjector())
    keyboard.showMinimized()
    qtbot.waitUntil(keyboard.isMinimized)
    assert toggle_for_window(window) is keyboard  # "visible" while minimised: it was closed
    assert keyboard.isVisible() and not keyboard.isMinimized()
    keyboard.showMinimized()
    qtbot.waitUntil(keyboard.isMinimized)
    window.findChild(_KeyboardHost, "osk-host").claim.activated.emit()  # ``keyboard-app --osk`` meanwhile
    assert keyboard.isVisible() and not keyboard.isMinimized()
    toggle_for_window(window)  # shown: the entry hides it, as before
    assert not keyboard.isVisible()


# --- 2: the ⚙ menu's dialogs ------------------------------------------------------------

def open_from_menu(keyboard, qtbot, text: str, kind):
    """Choose ``text`` in the ⚙ menu; the dialog it opens, and what was modal meanwhile (a modal
    dialog blocks here: the timer, run inside it, closes it so the test fails, not hangs)."""
    modal = []

    def note_modal() -> None:
        widget = QApplication.activeModalWidget()
        modal.append(widget)
        if widget is not None:
            widget.reject()

    QTimer.singleShot(0, note_modal)
    keyboard.poll_focus()  # the window typed into is known
    menu = keyboard.menu
    item = next(a for m in [menu] + [a.menu() for a in menu.actions() if a.menu()]
                for a in m.actions() if a.text() == text)
    item.trigger()
    qtbot.waitUntil(lambda: bool(modal))
    assert modal == [None]  # the keys are not blocked: they type into the dialog
    dialog = keyboard.findChild(kind)
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_a_layout_chosen_in_the_dialog_is_used_and_the_focus_goes_back(make_keyboard, qtbot, tmp_path):
    """H40's finding 2: after the dialog nothing had the focus, and the keys typed into nothing."""
    path = tmp_path / "abc.json"
    path.write_text('{"rows": [["a", "b", "c", {"action": "space"}]]}', encoding="utf-8")
    focused = []
    keyboard, _ = make_keyboard(active_window=lambda: TARGET, focus_window=focused.append)
    dialog = open_from_menu(keyboard, qtbot, "Layout file…", QFileDialog)
    assert "type its name with the keys" in dialog.windowTitle()
    # Its name's completion list is a popup, which ate every other key clicked on the keyboard.
    assert [edit for edit in dialog.findChildren(QLineEdit) if edit.completer() is not None] == []
    qtbot.keyClicks(dialog.findChild(QLineEdit, "fileNameEdit"), str(path))  # as the keys type it
    dialog.accept()
    assert keyboard.settings.layout_path == str(path)
    assert [key.char for key in keyboard.layout_data.rows[0][:3]] == ["a", "b", "c"]
    assert focused == [TARGET]


def test_a_cancelled_layout_dialog_gives_the_focus_back_too(make_keyboard, qtbot):
    focused = []
    keyboard, _ = make_keyboard(active_window=lambda: TARGET, focus_window=focused.append)
    open_from_menu(keyboard, qtbot, "Layout file…", QFileDialog).reject()
    assert focused == [TARGET] and keyboard.settings.layout_path == ""
    assert keyboard.layout_data is BUILTIN


def test_switch_keys_are_typed_into_their_dialog_and_the_focus_goes_back(make_keyboard, qtbot):
    focused = []
    keyboard, _ = make_keyboard(active_window=lambda: TARGET, focus_window=focused.append)
    dialog = open_from_menu(keyboard, qtbot, "Switch keys…", QInputDialog)
    dialog.setTextValue("F5 F6")
    dialog.accept()
    assert keyboard.settings.switch_keys == "F5 F6" and focused == [TARGET]


def test_a_second_choice_brings_the_open_dialog_forward_instead_of_another(make_keyboard, qtbot):
    keyboard, _ = make_keyboard(active_window=lambda: TARGET, focus_window=lambda window: None)
    dialog = open_from_menu(keyboard, qtbot, "Layout file…", QFileDialog)
    action_named(keyboard.menu, "Layout file…").trigger()
    assert keyboard.findChildren(QFileDialog) == [dialog]
    dialog.reject()


# --- 3: larger and smaller keys -------------------------------------------------------------

def test_larger_keys_keep_the_window_on_the_screen_and_smaller_keys_shrink_it(make_keyboard, qtbot):
    """H40's finding 3: the window grew past the screen's bottom and never shrank again."""
    keyboard, _ = make_keyboard()
    screen = keyboard.screen().availableGeometry()
    keyboard.resize(screen.width() - 40, keyboard.height())
    keyboard.move(screen.left(), screen.bottom() + 1 - keyboard.frameGeometry().height())  # at the bottom
    qtbot.waitUntil(lambda: keyboard.frameGeometry().bottom() == screen.bottom())
    content = keyboard.layout().totalMinimumSize().height()  # the content's height at 100 %
    keyboard.update_settings(zoom_percent=125)
    qtbot.wait(20)
    assert keyboard.height() > content
    assert screen.contains(keyboard.frameGeometry())  # moved up, the bottom row still on the screen
    keyboard.update_settings(zoom_percent=100)
    qtbot.wait(20)
    assert keyboard.height() == content
    assert screen.contains(keyboard.frameGeometry())


# --- 4: "&" on a key ---------------------------------------------------------------------------

def drawn(button: KeyButton):
    return button.grab().toImage()


def test_an_ampersand_is_drawn_on_its_key(make_keyboard):
    """H40's finding 4: Shift+7 showed no label ("&" marks a shortcut letter for a button)."""
    keyboard, _ = make_keyboard()
    button = keyboard.suggestion_buttons[0]
    keyboard._show_suggestions([SimpleNamespace(text="&")])
    assert button.text() == "&"
    with_ampersand = drawn(button)
    keyboard._show_suggestions([SimpleNamespace(text="x"), SimpleNamespace(text="y")])
    button.setText("")
    assert drawn(button) != with_ampersand  # a lone "&" drew what an empty label draws
    keyboard._show_suggestions([SimpleNamespace(text="R&D")])
    assert button.text() == "R&D" and QPushButton.text(button) == "R&&D"  # not "RD" with D underlined


def test_the_shifted_seven_shows_its_ampersand(make_keyboard):
    keyboard, injector = make_keyboard()
    seven = key(keyboard, "7")
    press(keyboard, "shift")
    assert seven.text() == "&"
    assert QPushButton.text(seven) == "&&"  # what Qt's button holds, and draws as "&"
    seven.click()
    assert injector.text == "&"


# --- 6: Shift and a suggestion -------------------------------------------------------------------

def the_suggestion(text: str) -> Suggestion:
    return Suggestion(text=text, token=text.lower(), log_prob=-1.0, is_completion=True)


def test_a_suggestion_uses_up_a_one_shot_shift(make_keyboard):
    """H40's finding 6: "hel", Shift, *help*, "a" gave "help A"."""
    keyboard, injector = make_keyboard()
    type_text(keyboard, "the hel")
    press(keyboard, "shift")
    keyboard.controller.suggestions = [the_suggestion("help")]
    assert keyboard.controller.accept(0)
    assert not keyboard.controller.shift
    shift = keyboard.key_buttons[keyboard.layout_data.find_action("shift")[0]][0]
    assert shift.property("latched") == "false"
    assert key(keyboard, "a").text() == "a"
    key(keyboard, "a").click()
    assert injector.text == "the help a"


def test_caps_lock_stays_on_after_a_suggestion(make_keyboard):
    keyboard, injector = make_keyboard()
    type_text(keyboard, "the ")
    press(keyboard, "caps")
    type_text(keyboard, "HEL")
    keyboard.controller.suggestions = [the_suggestion("HELP")]
    assert keyboard.controller.accept(0)
    assert keyboard.controller.caps
    key(keyboard, "a").click()
    assert injector.text == "the HELP A"


# --- 7 and 8: the ⚙ menu ---------------------------------------------------------------------------

def checked(menu) -> list[str]:
    return [a.text() for a in menu.actions() if a.isChecked()]


def test_the_settings_submenus_show_the_current_choice(make_keyboard):
    """H40's finding 7: Dwell time, Scanning and Suggestions showed no check mark."""
    keyboard, _ = make_keyboard(dwell_ms=1500, scan_switches=2, scan_interval_ms=750, suggestion_slots=5)
    submenu = {a.text(): a.menu() for a in keyboard.menu.actions() if a.menu()}
    assert checked(submenu["Access method"]) == ["Click"]
    assert checked(submenu["Dwell time"]) == ["1.5 s"]
    assert checked(submenu["Scanning"]) == ["Two switches (right click steps, left click selects)",
                                            "Step every 0.75 s"]
    assert checked(submenu["Suggestions"]) == ["5 suggestions"]
    action_named(submenu["Dwell time"], "0.5 s").trigger()
    assert keyboard.settings.dwell_ms == 500 and checked(submenu["Dwell time"]) == ["0.5 s"]
    action_named(submenu["Suggestions"], "5 suggestions").trigger()  # the checked one again: it stays
    assert checked(submenu["Suggestions"]) == ["5 suggestions"]
    keyboard.update_settings(dwell_ms=700)  # (from the file) a time no item offers: none checked
    assert checked(submenu["Dwell time"]) == []


def test_the_gear_is_not_left_highlighted_once_its_menu_closes(make_keyboard, qtbot):
    """H40's finding 8: the menu took the pointer, so ⚙ never got its leave event."""
    keyboard, _ = make_keyboard()
    gear = keyboard.menu_button
    gear.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, True)  # as the pointer's arrival set it
    keyboard.open_menu()
    qtbot.waitUntil(keyboard.menu.isVisible)
    keyboard.menu_access.pointer = lambda: gear.mapToGlobal(QPoint(-300, 200))  # chosen far away
    keyboard.menu.hide()
    assert not gear.underMouse()


def test_the_gear_stays_highlighted_when_the_pointer_is_still_on_it(make_keyboard, qtbot):
    keyboard, _ = make_keyboard()
    gear = keyboard.menu_button
    gear.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, True)
    keyboard.open_menu()
    qtbot.waitUntil(keyboard.menu.isVisible)
    keyboard.menu_access.pointer = lambda: gear.mapToGlobal(gear.rect().center())
    keyboard.menu.hide()
    assert gear.underMouse()


# --- 10: the characters of paths, URLs and code, and Esc -------------------------------------------

def test_the_builtin_layout_types_every_printable_ascii_character():
    """H40's finding 10: no / \\ | ~ ` = + [ ] { } < >, so no path or URL could be typed."""
    assert [c for c in string.printable if not c.isspace() and BUILTIN.find_char(c) is None] == []
    assert BUILTIN.find_char("/")[2] is False  # a path's separator without Shift
    assert BUILTIN.find_action("escape") is not None


def test_a_path_and_esc_are_typed(make_keyboard):
    keyboard, injector = make_keyboard()
    type_text(keyboard, "ls ~/a_b|grep -v [x]{2}<>\\ `=+")
    press(keyboard, "escape")
    assert injector.text == "ls ~/a_b|grep -v [x]{2}<>\\ `=+"
    assert injector.events[-1] == ("press", "escape")
    assert keyboard.controller.context.text == ""  # what the target did with Esc is unknown


def test_esc_is_pressed_through_xtest():
    from test_osk_xtest import FakeDisplay

    from keyboard_app.osk.xtest import KEY_PRESS, KEY_RELEASE, XTestTyper

    server = FakeDisplay()
    server.keymap[-1] = [0xFF1B, 0]  # Escape on the last keycode
    escape = server.display.info.max_keycode
    XTestTyper(server).press("escape")
    assert server.fake_events == [(KEY_PRESS, escape), (KEY_RELEASE, escape)]


# --- 11: the suggestion row's empty slots and the counter's words -----------------------------------

def test_empty_suggestion_slots_are_hidden_but_keep_their_place(make_keyboard):
    keyboard, _ = make_keyboard(suggestion_slots=4)
    buttons = keyboard.suggestion_buttons
    keyboard._show_suggestions([SimpleNamespace(text="one"), SimpleNamespace(text="two"),
                                SimpleNamespace(text="three")])
    assert [b.isVisible() for b in buttons] == [True, True, True, False, False]
    assert buttons[3].sizePolicy().retainSizeWhenHidden()  # a slot of the four: the words do not move
    assert not buttons[4].sizePolicy().retainSizeWhenHidden()  # beyond them: no room kept


def test_the_counter_says_it_in_the_editors_words(make_keyboard):
    keyboard, _ = make_keyboard()
    assert keyboard.status.text() == "Keystrokes saved: —"
    type_text(keyboard, "The cat sat on the ma")
    assert keyboard.status.text() == "Keystrokes saved: —"  # keys only: nothing saved yet, not "0 %"
    keyboard.suggestion_buttons[0].click()
    stats = keyboard.controller.stats
    assert re.fullmatch(r"Keystrokes saved: \d+% \(1 of \d+\)", keyboard.status.text())
    assert keyboard.status.text().endswith(f"of {stats.keys_typed + stats.chars_accepted})")


def test_keys_do_not_grow_past_what_the_screen_can_show(make_keyboard, qtbot):
    keyboard, _ = make_keyboard()
    screen = keyboard.screen().availableGeometry()
    larger = action_named(keyboard.menu, "Larger keys")
    for _ in range(8):  # 100 % to 300 %, the most the settings allow
        larger.trigger()
        qtbot.wait(10)
        assert screen.contains(keyboard.frameGeometry())
    assert keyboard.settings.zoom_percent < 300  # (the test screen is 800 px wide)
    assert keyboard.notice.text() == "The keys are as large as this screen allows."
    action_named(keyboard.menu, "Smaller keys").trigger()
    assert keyboard.notice.isHidden()


def test_closing_the_keyboard_closes_its_dialog(make_keyboard, qtbot):
    focused = []
    keyboard, _ = make_keyboard(active_window=lambda: TARGET, focus_window=focused.append)
    dialog = open_from_menu(keyboard, qtbot, "Switch keys…", QInputDialog)
    keyboard.close()
    assert not dialog.isVisible() and focused == [TARGET]
    assert keyboard.settings.switch_keys == "F9 F10"
