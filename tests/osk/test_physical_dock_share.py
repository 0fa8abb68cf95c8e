"""The docked keyboard on a short screen (H71): on a 1366x768 laptop it took 58 % of the height
(the editor's larger buttons on), and its "Keystrokes saved" wrapped onto two lines.  Docked, it
now takes about a third of its screen, as Onboard does, with keys still big enough to hit."""

from __future__ import annotations

import pytest
from test_dock import FakeDock, make_docked  # noqa: F401 - (its fixture)

from keyboard_app.osk.controller import KeyStats
from keyboard_app.osk.window import BASE_KEY_PX, DOCK_SHARE, LARGER_KEYS, MIN_KEY_PX, docked_key_px

ROWS = 6  # the suggestions and the built-in layout's five rows
OVERHEAD = 2 * 6 + 4 * (ROWS - 1)  # margins and spacing


@pytest.mark.parametrize("larger", [False, True])
def test_on_a_1366x768_screen_the_docked_keys_take_about_a_third(larger):
    base = BASE_KEY_PX * (LARGER_KEYS if larger else 1)
    key = docked_key_px(base, 768, ROWS)
    height = ROWS * round(key) + OVERHEAD
    assert 0.30 * 768 <= height <= DOCK_SHARE * 768 + ROWS
    assert key >= 36  # about 8 mm on a laptop's screen: big enough to hit


def test_a_tall_screen_keeps_the_usual_keys_and_a_tiny_one_the_smallest_that_can_be_hit():
    assert docked_key_px(BASE_KEY_PX, 1080, ROWS) == BASE_KEY_PX
    assert docked_key_px(BASE_KEY_PX, 480, ROWS) == MIN_KEY_PX


def test_the_docked_keyboard_with_larger_buttons_takes_a_third_of_its_screen(make_docked):
    keyboard = make_docked(FakeDock())
    keyboard.follow_editor(high_contrast=False, larger_buttons=True)
    screen = keyboard.screen().geometry()
    key = keyboard.key_buttons[0][0]
    assert key.minimumHeight() >= MIN_KEY_PX
    assert keyboard.height() <= max(screen.height() * DOCK_SHARE + ROWS, ROWS * MIN_KEY_PX + OVERHEAD)
    keyboard.zoom(+25)  # the keyboard's own "Larger keys" still makes them larger
    assert key.minimumHeight() > MIN_KEY_PX


def test_the_keystrokes_saved_stay_on_one_line(make_docked):
    keyboard = make_docked(FakeDock())
    stats = KeyStats(activations=9000, keys_typed=4321, accepts=900, chars_accepted=5678)
    keyboard._show_stats(stats)
    label = keyboard.status
    text = label.text()
    assert text.startswith("Keystrokes saved: ") and "(" in text
    assert not label.wordWrap()
    assert label.width() >= label.fontMetrics().horizontalAdvance(text)
