"""The keyboard's window: labels that fit their keys, and the ⚙ menu reached by dwell and by scanning."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF

from keyboard_app.osk.window import BASE_FONT_PT


def key_buttons(keyboard):
    return [button for row in keyboard.key_buttons for button in row]


def label_fits(button) -> bool:
    return QFontMetricsF(button.font()).horizontalAdvance(button.text()) <= button.label_width()


@pytest.mark.parametrize("zoom", [100, 150, 200])
def test_key_labels_are_drawn_smaller_rather_than_clipped(make_keyboard, qtbot, zoom):
    """H25's finding 14: at the narrowest window, or with larger keys, "⏎ Enter" read "Ente"."""
    keyboard, _ = make_keyboard(zoom_percent=zoom)
    keyboard.resize(1, keyboard.height())  # as narrow as the window goes
    qtbot.waitUntil(lambda: keyboard.width() <= keyboard.minimumSizeHint().width() + 1)
    qtbot.wait(50)
    buttons = key_buttons(keyboard)
    assert [b.text() for b in buttons if not label_fits(b)] == []
    enter = keyboard.findChild(type(buttons[0]), "key-enter")
    assert enter.font().pointSizeF() < BASE_FONT_PT * zoom / 100  # it had to shrink
    keyboard.resize(2000, keyboard.height())  # room again: back to the full size
    qtbot.waitUntil(lambda: enter.width() > 200)
    assert enter.font().pointSizeF() == pytest.approx(BASE_FONT_PT * zoom / 100)


def action_named(menu, text):
    return next(a for a in menu.actions() if a.text() == text)


def centre_of(menu, action):
    return menu.mapToGlobal(menu.actionGeometry(action).center())


def rest_on(keyboard, clock, where) -> None:
    """The pointer rests at ``where`` (a global point) for the dwell time, the timer beating."""
    keyboard.menu_access.pointer = lambda: where
    keyboard.tick()
    clock.advance(keyboard.settings.dwell_ms / 1000)
    keyboard.tick()


def test_dwell_opens_the_settings_menu_and_chooses_in_it(make_keyboard, clock, qtbot):
    """H25's finding 5: resting on ⚙ opened nothing, so a person who can only dwell could not
    change the dwell time. ⚙ is a key like the others, and resting on a menu item chooses it."""
    keyboard, _ = make_keyboard(access="dwell", dwell_ms=800)
    gear = keyboard.menu_button
    gear.hovered.emit(gear)
    clock.advance(0.8)
    keyboard.tick()
    menu = keyboard.menu
    qtbot.waitUntil(menu.isVisible)
    dwell_time = action_named(menu, "Dwell time")
    rest_on(keyboard, clock, centre_of(menu, dwell_time))
    submenu = dwell_time.menu()
    qtbot.waitUntil(submenu.isVisible)
    rest_on(keyboard, clock, centre_of(submenu, action_named(submenu, "1.5 s")))
    qtbot.waitUntil(lambda: keyboard.settings.dwell_ms == 1500)
    assert not menu.isVisible() and not submenu.isVisible()


def test_dwell_away_from_the_menu_closes_it_but_resting_on_the_gear_does_not(make_keyboard, clock, qtbot):
    keyboard, _ = make_keyboard(access="dwell")
    keyboard.open_menu()
    menu = keyboard.menu
    qtbot.waitUntil(menu.isVisible)
    gear = keyboard.menu_button
    rest_on(keyboard, clock, gear.mapToGlobal(gear.rect().center()))
    assert menu.isVisible()
    key = keyboard.key_buttons[2][3]
    rest_on(keyboard, clock, key.mapToGlobal(key.rect().center()))
    assert not menu.isVisible()
    assert keyboard.settings == keyboard.settings.with_(access="dwell")  # nothing chosen


def scan_to_gear(keyboard) -> None:
    """Two-switch scanning from the first row to ⚙ (the last group), then open it."""
    keyboard.controller.suggestions = []
    keyboard._update_scan_groups()
    for _ in range(len(keyboard.key_buttons)):
        keyboard.switch(0)  # step
    assert keyboard.menu_button.property("scan") == "group"
    keyboard.switch(1)  # enter the group
    keyboard.switch(1)  # press ⚙


def test_two_switch_scanning_reaches_the_menu_and_its_items(make_keyboard, qtbot):
    keyboard, _ = make_keyboard(access="scan", scan_switches=2, zoom_percent=100)
    scan_to_gear(keyboard)
    menu = keyboard.menu
    qtbot.waitUntil(menu.isVisible)
    assert menu.activeAction().text() == "Access method"  # highlighted first
    for _ in range(4):
        keyboard.switch(0)
    assert menu.activeAction().text() == "Larger keys"
    keyboard.switch(1)
    qtbot.waitUntil(lambda: keyboard.settings.zoom_percent == 125)
    assert not menu.isVisible()


def test_scanning_a_submenu_and_a_round_without_a_select_closes_it(make_keyboard, qtbot):
    keyboard, _ = make_keyboard(access="scan", scan_switches=2)
    scan_to_gear(keyboard)
    menu = keyboard.menu
    qtbot.waitUntil(menu.isVisible)
    keyboard.switch(0)  # "Dwell time"
    keyboard.switch(1)
    submenu = action_named(menu, "Dwell time").menu()
    qtbot.waitUntil(submenu.isVisible)
    assert submenu.activeAction().text() == "0.3 s"
    for _ in range(len(submenu.actions())):
        keyboard.switch(0)  # once round: back to the main menu
    assert menu.isVisible() and menu.activeAction().text() == "Dwell time"
    keyboard.switch(0)
    assert menu.activeAction().text() == "Scanning" and not submenu.isVisible()
    for _ in range(len([a for a in menu.actions() if not a.isSeparator()]) - 2):
        keyboard.switch(0)
    assert not menu.isVisible()  # a round of the main menu: closed, scanning the keys again
    assert keyboard.settings.dwell_ms == 800


def test_one_switch_scanning_moves_through_the_menu_by_itself(make_keyboard, clock, qtbot):
    keyboard, _ = make_keyboard(access="scan", scan_switches=1, scan_interval_ms=1000)
    keyboard.open_menu()
    menu = keyboard.menu
    qtbot.waitUntil(menu.isVisible)
    for _ in range(6):  # "Access method" .. "High contrast"
        clock.advance(1.0)
        keyboard.tick()
    assert menu.activeAction().text() == "High contrast"
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(menu.actions()[0]).center())
    qtbot.waitUntil(lambda: keyboard.settings.high_contrast)  # the click is the switch, not a pick
    assert keyboard.settings.access == "scan"


def test_a_menu_choice_by_dwell_does_not_press_the_key_below_it(make_keyboard, clock, qtbot):
    keyboard, injector = make_keyboard(access="dwell")
    keyboard.open_menu()
    menu = keyboard.menu
    qtbot.waitUntil(menu.isVisible)
    rest_on(keyboard, clock, centre_of(menu, action_named(menu, "High contrast")))
    qtbot.waitUntil(lambda: keyboard.settings.high_contrast)
    key = keyboard.key_buttons[2][3]
    keyboard.menu_access.pointer = lambda: key.mapToGlobal(key.rect().center())  # what was below the item
    keyboard.tick()
    key.hovered.emit(key)  # the enter event the key gets once the menu is gone
    clock.advance(5)
    keyboard.tick()
    assert injector.text == ""
    key.unhovered.emit(key)
    key.hovered.emit(key)  # left and came back: now it presses
    clock.advance(keyboard.settings.dwell_ms / 1000)
    keyboard.tick()
    assert injector.text == keyboard.layout_data.rows[2][3].char
