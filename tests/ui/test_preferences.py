"""Edit ▸ Preferences (Ctrl+,): every setting applies at once, is saved, and every control
is reachable from the keyboard with a mnemonic and named for a screen reader."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QComboBox,
    QLabel,
    QMessageBox,
    QSpinBox,
    QWidget,
)

from keyboard_app.settings import SettingsStore
from keyboard_app.ui import appearance
from keyboard_app.ui.preferences import FOLLOW_ZOOM, PreferencesDialog
from keyboard_app.ui.strip import BUTTON_HEIGHT, LARGE_BUTTON_HEIGHT, contrast_ratio


def controls(dialog) -> list[QWidget]:
    kinds = (QSpinBox, QComboBox, QCheckBox, QAbstractButton)
    return [w for w in dialog.findChildren(QWidget) if isinstance(w, kinds) and w.isVisibleTo(dialog)
            and w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.parent() is not None
            and not isinstance(w.parent(), (QSpinBox, QComboBox))]


def saved():
    settings, _ = SettingsStore().load()
    return settings


def test_ctrl_comma_and_the_edit_menu_open_it(qtbot, window):
    assert "Ctrl+," in [s.toString() for s in window.preferences_action.shortcuts()]
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert window.preferences_action in edit_menu.actions()
    keys = [m.group(1).lower() for a in edit_menu.actions() for m in re.finditer(r"&([^&\s])", a.text())]
    assert len(keys) == len(set(keys)), keys  # not a second &P beside &Paste
    qtbot.keyClick(window.editor, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(PreferencesDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.close()


def label_of(interface) -> str:
    """The text of the label the accessibility tree links to a control (AT-SPI's labelled-by)."""
    for other, _relation in interface.relations(QAccessible.RelationFlag.Label):
        return other.text(QAccessible.Text.Name)
    return ""


def test_every_control_is_named_in_the_accessibility_tree(prefs):
    found = controls(prefs)
    assert len(found) >= 11  # nine settings, restore defaults, close
    for widget in found:
        assert widget.accessibleName().strip(), f"{type(widget).__name__} has no accessible name"
        interface = QAccessible.queryAccessibleInterface(widget)
        assert interface is not None and interface.isValid()
        name = interface.text(QAccessible.Text.Name)
        if isinstance(widget, QComboBox) and name != widget.accessibleName():
            # Qt on Linux names a combo box by its value and links its label as a relation.
            assert label_of(interface).rstrip(":") == widget.accessibleName(), widget.accessibleName()
        else:
            assert name == widget.accessibleName()
    # The dialog's tree reaches every one of them.
    reached = set()

    def walk(node, depth=0):
        for i in range(node.childCount()):
            child = node.child(i)
            if child is not None and depth < 6:
                reached.add(child.object())
                walk(child, depth + 1)

    walk(QAccessible.queryAccessibleInterface(prefs))
    assert set(found) <= reached


def test_mnemonics_are_unique_and_every_setting_has_one(prefs):
    texts = [w.text() for w in prefs.findChildren(QLabel) + prefs.findChildren(QAbstractButton)
             if w.isVisibleTo(prefs)]
    keys = [m.group(1).lower() for t in texts for m in re.finditer(r"&([^&\s])", t)]
    assert len(keys) == len(set(keys)), keys
    for widget in controls(prefs):
        if isinstance(widget, (QSpinBox, QComboBox)):
            label = next(l for l in prefs.findChildren(QLabel) if l.buddy() is widget)
            assert "&" in label.text()
        elif isinstance(widget, QCheckBox):
            assert "&" in widget.text()


def test_tab_walks_every_control(qtbot, prefs):
    prefs.activateWindow()
    prefs.count_spin.setFocus()
    reached = set()
    for _ in range(30):
        reached.add(QApplication.focusWidget())
        prefs.focusNextChild()
    for widget in (prefs.count_spin, prefs.size_spin, prefs.accept_combo, prefs.space_check,
                   prefs.capitals_check, prefs.learning_combo, prefs.theme_combo, prefs.large_check,
                   prefs.contrast_check, prefs.defaults_button):
        assert widget in reached or widget.focusProxy() in reached, widget.accessibleName()


def test_number_of_suggestions_applies_live_and_is_saved(qtbot, window, prefs):
    qtbot.keyClicks(window.editor, "The ")
    prefs.count_spin.setValue(5)
    assert window.strip.slot_count() == 5 and window.controller.k == 5
    assert len(window.strip.words()) == 5
    assert saved().suggestion_count == 5
    prefs.count_spin.setValue(1)
    assert len(window.strip.words()) == 1
    assert not window.strip.buttons[1].isVisibleTo(window)


def test_strip_font_size_follows_zoom_or_its_own(qtbot, window, prefs):
    assert prefs.size_spin.value() == FOLLOW_ZOOM and "zoom" in prefs.size_spin.text().lower()
    prefs.size_spin.setValue(20)
    assert window.strip.buttons[0].word.font().pointSizeF() == 20
    window.zoom_in_action.trigger()
    assert window.strip.buttons[0].word.font().pointSizeF() == 20  # its own size stays
    assert saved().strip_font_size == 20
    prefs.size_spin.setValue(FOLLOW_ZOOM)
    assert window.strip.buttons[0].word.font().pointSizeF() == pytest.approx(
        window.settings.editor_font_size * 1.25)


def test_up_from_following_the_zoom_makes_the_words_larger_not_smallest(qtbot, window, prefs):
    """H69: one Up arrow, asking for larger words, went from "follows the text size" (16 pt
    words at 13 pt text) to the smallest size, 8 pt."""
    followed = window.strip.buttons[0].word.font().pointSizeF()
    assert prefs.size_spin.value() == FOLLOW_ZOOM
    prefs.size_spin.setFocus()
    qtbot.keyClick(prefs.size_spin, Qt.Key.Key_Up)
    assert prefs.size_spin.value() > followed
    assert window.strip.buttons[0].word.font().pointSizeF() == prefs.size_spin.value()
    qtbot.keyClick(prefs.size_spin, Qt.Key.Key_Down)
    assert prefs.size_spin.value() == round(followed)  # and a step down from there is a step down


def test_theme_dark_light_system(qtbot, window, prefs):
    system = QApplication.palette().color(QPalette.ColorRole.Window)
    prefs.theme_combo.setCurrentIndex(prefs.theme_combo.findData("dark"))
    assert appearance.is_dark(QApplication.palette()) and saved().theme == "dark"
    # the strip's colours follow: its numbers keep AA contrast on the dark background
    sheet = window.strip.styleSheet()
    dark = appearance.dark_palette()
    assert dark.color(QPalette.ColorRole.Base).name() in sheet  # the buttons are dark too
    hint = window.strip.hint_color()
    assert hint.name() in sheet
    assert contrast_ratio(hint, dark.color(QPalette.ColorRole.Base)) >= 4.5
    prefs.theme_combo.setCurrentIndex(prefs.theme_combo.findData("light"))
    assert not appearance.is_dark(QApplication.palette())
    prefs.theme_combo.setCurrentIndex(prefs.theme_combo.findData("system"))
    assert QApplication.palette().color(QPalette.ColorRole.Window) == system


def test_accept_key_none_makes_tab_a_tab(qtbot, window, prefs):
    prefs.accept_combo.setCurrentIndex(prefs.accept_combo.findData("none"))
    qtbot.keyClicks(window.editor, "The cat sat on the ")
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "The cat sat on the \t"
    assert saved().accept_key == "none"


def test_no_space_after_an_accepted_word(qtbot, window, prefs):
    prefs.space_check.setChecked(False)
    qtbot.keyClicks(window.editor, "The cat sat on the m")
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "The cat sat on the mat"
    assert saved().space_after_accept is False


def test_auto_capitalisation_off(qtbot, window, prefs):
    qtbot.keyClicks(window.editor, "Alice met Bob in London. ")
    assert all(w[:1].isupper() for w in window.strip.words())
    prefs.capitals_check.setChecked(False)
    shown = window.strip.words()
    assert any(w[:1].islower() for w in shown)  # "the", not "The"
    assert all(w == w.lower() or w in ("I", "Alice", "Bob", "London", "Paris", "Monday", "She", "We")
               or not w[:1].isupper() for w in shown)
    qtbot.keyClicks(window.editor, "A")  # a capital the user typed is kept
    assert all(w[:1].isupper() for w in window.strip.words())


def test_learning_on_off_paused(qtbot, window, prefs):
    combo = prefs.learning_combo
    combo.setCurrentIndex(combo.findData("on"))
    assert window.learn_action.isChecked() and window.controller.learning
    combo.setCurrentIndex(combo.findData("paused"))
    assert window.pause_action.isChecked() and not window.controller.learning
    assert window.learning_label.isVisible()
    assert "nothing new" in prefs.learning_help.text()
    combo.setCurrentIndex(combo.findData("off"))
    assert not window.learn_action.isChecked() and not window.learning_label.isVisible()
    window.learn_action.trigger()  # the menu changes it: the dialog shows it when it opens again
    prefs.hide()
    prefs.show()
    assert combo.currentData() == "on"


def test_larger_buttons_and_high_contrast(qtbot, window, prefs, boxes):
    assert window.strip.buttons[0].minimumHeight() == BUTTON_HEIGHT
    prefs.large_check.setChecked(True)
    assert window.strip.buttons[0].minimumHeight() == LARGE_BUTTON_HEIGHT
    prefs.contrast_check.setChecked(True)
    assert "3px" in window.strip.styleSheet()
    assert window.strip.buttons[0].word.font().bold()
    text = QApplication.palette().color(QPalette.ColorRole.WindowText)
    assert window.strip.hint_color() == text
    assert saved().high_contrast and saved().large_strip_buttons
    boxes.answers.append(QMessageBox.StandardButton.RestoreDefaults)  # it asks first (H53)
    prefs.defaults_button.click()
    assert window.strip.buttons[0].minimumHeight() == BUTTON_HEIGHT
    assert not prefs.contrast_check.isChecked() and not saved().high_contrast
    assert not window.strip.buttons[0].word.font().bold()  # nothing of the look left over


def test_preferences_survive_a_restart(qtbot, make_window, prefs, window):
    prefs.count_spin.setValue(4)
    prefs.space_check.setChecked(False)
    again = make_window()
    assert again.strip.slot_count() == 4 and again.controller.space_after is False


def test_corrections_of_typing_slips_on_by_default_and_off(qtbot, window, prefs):
    assert prefs.typos_check.isChecked() and window.settings.typo_corrections
    qtbot.keyClicks(window.editor, "Alice met Bob in Lodn")
    qtbot.waitUntil(lambda: "London" in window.strip.words())  # "Lodn" is a slip for "Lond"
    prefs.typos_check.setChecked(False)
    assert window.worker.predictor.typo_tolerance is False
    qtbot.waitUntil(lambda: "London" not in window.strip.words())
    assert saved().typo_corrections is False
    prefs.typos_check.setChecked(True)
    qtbot.waitUntil(lambda: "London" in window.strip.words())


def test_phrase_suggestions_on_by_default_off_and_saved(qtbot, window, prefs, make_window, boxes):
    assert prefs.phrases_check.isChecked() and window.settings.phrase_suggestions
    assert window.controller.offer_phrases
    phrase_shown = lambda: any(s.kind == "phrase" for s in window.strip.suggestions())  # noqa: E731
    qtbot.keyClicks(window.editor, "Alice ")  # the tiny model is sure of "met Bob in London"
    qtbot.waitUntil(phrase_shown, timeout=5000)
    prefs.phrases_check.setChecked(False)
    assert not window.controller.offer_phrases and saved().phrase_suggestions is False
    assert not phrase_shown() and window.strip.words()[0] == "met"  # the words stay
    asked = []
    request = window.worker.request_phrase
    window.worker.request_phrase = lambda *args, **kwargs: (asked.append(args), request(*args, **kwargs))
    qtbot.keyClicks(window.editor, "met Bob in London. Alice ")
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["met"])  # the words after "Alice " are shown
    assert asked == [] and not phrase_shown()  # and no phrase was even asked for
    window.worker.request_phrase = request
    assert make_window().controller.offer_phrases is False  # after a restart too
    prefs.phrases_check.setChecked(True)
    qtbot.waitUntil(phrase_shown, timeout=5000)
    prefs.phrases_check.setChecked(False)
    boxes.answers.append(QMessageBox.StandardButton.RestoreDefaults)  # it asks first (H53)
    prefs.defaults_button.click()
    assert prefs.phrases_check.isChecked() and saved().phrase_suggestions is True
