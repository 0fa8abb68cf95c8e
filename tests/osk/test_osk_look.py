"""The keyboard looks as the editor does (H33's finding 13): the editor's theme (the
application's palette), high contrast and larger buttons, at its start and when they change."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from keyboard_app.osk.window import BASE_KEY_PX, LARGER_KEYS, style_sheet
from keyboard_app.ui import appearance


@pytest.fixture
def themed():
    yield appearance.apply_theme
    appearance.apply_theme("system")  # the palette is the application's: give it back


def background(keyboard) -> QColor:
    """The keyboard's own colour, as drawn (a corner, outside every key)."""
    image = keyboard.grab().toImage()
    return QColor(image.pixel(1, 1))


def key_colors(keyboard) -> tuple[QColor, QColor]:
    """A letter key's face and its label's colour, as drawn (the darkest and lightest pixels
    of its middle)."""
    button = keyboard.findChild(type(keyboard.menu_button), "key-q")
    image = button.grab().toImage()
    colors = [QColor(image.pixel(x, y)) for x in range(4, image.width() - 4) for y in range(6, image.height() - 6)]
    return min(colors, key=QColor.lightnessF), max(colors, key=QColor.lightnessF)


def test_the_keyboard_follows_the_theme_at_once(make_keyboard, themed, qtbot):
    themed("dark")
    keyboard, _ = make_keyboard()  # opened in a dark editor: dark from the start
    assert keyboard.styleSheet() == style_sheet(dark=True, high_contrast=False)
    qtbot.waitUntil(lambda: background(keyboard).lightnessF() < 0.25)
    dark, light = key_colors(keyboard)
    assert light.lightnessF() > 0.8 and dark.lightnessF() < 0.3  # light letters on a dark key
    themed("light")  # Preferences > Appearance > Theme
    qtbot.waitUntil(lambda: keyboard.styleSheet() == style_sheet(dark=False, high_contrast=False))
    qtbot.waitUntil(lambda: background(keyboard).lightnessF() > 0.75)


def test_the_editors_high_contrast_adds_to_the_keyboards_own(make_keyboard, themed, qtbot):
    themed("dark", high_contrast=True)  # as the main window applies its Preferences
    keyboard, _ = make_keyboard()
    keyboard.follow_editor(high_contrast=True, larger_buttons=False)
    assert keyboard.styleSheet() == style_sheet(dark=True, high_contrast=True)
    action = keyboard._contrast_action
    assert action.isChecked() and not action.isEnabled()  # turned off where it was turned on
    assert keyboard.settings.high_contrast is False  # the keyboard's own choice is kept as it was
    themed("light", high_contrast=True)
    qtbot.waitUntil(lambda: keyboard.styleSheet() == style_sheet(dark=False, high_contrast=True))
    themed("light")
    keyboard.follow_editor(high_contrast=False, larger_buttons=False)
    assert keyboard.styleSheet() == style_sheet(dark=False, high_contrast=False)
    assert not action.isChecked() and action.isEnabled()
    keyboard.update_settings(high_contrast=True)  # the keyboard's own still works
    assert keyboard.styleSheet() == style_sheet(dark=False, high_contrast=True)


def test_the_editors_larger_buttons_make_the_keys_taller(make_keyboard):
    keyboard, _ = make_keyboard(zoom_percent=100)
    key = keyboard.key_buttons[1][1]
    assert key.minimumHeight() == BASE_KEY_PX
    keyboard.follow_editor(high_contrast=False, larger_buttons=True)
    assert key.minimumHeight() == round(BASE_KEY_PX * LARGER_KEYS)
    assert keyboard.suggestion_buttons[0].minimumHeight() == round(BASE_KEY_PX * LARGER_KEYS)
    keyboard.update_settings(zoom_percent=150)  # with the keyboard's own size
    assert key.minimumHeight() == round(BASE_KEY_PX * 1.5 * LARGER_KEYS)
    keyboard.follow_editor(high_contrast=False, larger_buttons=False)
    assert key.minimumHeight() == round(BASE_KEY_PX * 1.5)


def test_osk_reads_the_editors_look_from_its_settings_file(user_folders):
    from keyboard_app import paths
    from keyboard_app.osk.app import EditorChoices, _editor_choices

    path = paths.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"theme": "dark", "high_contrast": true, "large_strip_buttons": true}', encoding="utf-8")
    assert _editor_choices() == EditorChoices(theme="dark", high_contrast=True, larger_buttons=True)
    path.write_text('{"theme": "purple", "high_contrast": "yes", "large_strip_buttons": 1}', encoding="utf-8")
    assert _editor_choices() == EditorChoices()  # each odd field its default


def test_the_main_windows_keyboard_follows_the_appearance_preferences(make_window, qtbot, themed):
    from keyboard_app.osk.app import toggle_for_window
    from keyboard_app.osk.backend import RecordingInjector

    window = make_window()
    prefs = window.open_preferences()
    prefs.theme_combo.setCurrentIndex(prefs.theme_combo.findData("dark"))  # before the keyboard opens
    keyboard = toggle_for_window(window, injector=RecordingInjector())
    try:
        assert keyboard.styleSheet() == style_sheet(dark=True, high_contrast=False)
        prefs.contrast_check.setChecked(True)
        qtbot.waitUntil(lambda: keyboard.styleSheet() == style_sheet(dark=True, high_contrast=True), timeout=5000)
        prefs.large_check.setChecked(True)
        key = keyboard.key_buttons[1][1]
        qtbot.waitUntil(lambda: key.minimumHeight() == round(BASE_KEY_PX * LARGER_KEYS), timeout=5000)
        prefs.contrast_check.setChecked(False)
        prefs.theme_combo.setCurrentIndex(prefs.theme_combo.findData("light"))
        qtbot.waitUntil(lambda: keyboard.styleSheet() == style_sheet(dark=False, high_contrast=False), timeout=5000)
        prefs.close()
    finally:
        keyboard.close()
