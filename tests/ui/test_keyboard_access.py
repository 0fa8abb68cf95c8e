"""What a keyboard-only and a low-vision user need (H48's findings): words never cut at
the largest sizes, the keyboard back in the editor after a menu or a dialog, Enter doing
a dialog's main action, visible focus, names for a screen reader, a sensible Tab order."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QMenu, QVBoxLayout, QWidget

from keyboard_app.ui.strip import SuggestionStrip
from qt_helpers import Word

ALT = Qt.KeyboardModifier.AltModifier


# --- the strip's height (finding 1) ---------------------------------------------------------
@pytest.mark.parametrize("size", [16.25, 40.0, 50.0])  # the default, the Preferences' largest, zoomed
@pytest.mark.parametrize("large", [False, True])
def test_the_strip_is_as_tall_as_its_words_font_needs(qtbot, size, large):
    # At the largest sizes the strip kept its 40 px: "happy" read "happv" (H48's finding 1)
    holder = QWidget()
    qtbot.addWidget(holder)
    strip = SuggestionStrip(slots=3)
    QVBoxLayout(holder).addWidget(strip)
    strip.set_large_buttons(large)
    strip.set_word_point_size(size)
    strip.set_suggestions([Word("happy"), Word("happening"), Word("happiness")])
    holder.resize(1200, 10)  # the layout gives the strip the height it asks for, no more
    holder.show()
    qtbot.waitExposed(holder)
    for button in strip.buttons[:3]:
        line = QFontMetrics(button.word.drawn_font()).height()
        assert button.word.contentsRect().height() >= line, (size, button.word.text())
        assert button.word.geometry().top() >= 0 and button.word.geometry().bottom() < button.height()
        assert button.height() >= (60 if large else 40)  # never smaller than the chosen buttons


# --- the keyboard back in the editor (finding 2) ---------------------------------------
def open_menu_by_keyboard(qtbot, window, letter) -> QMenu:
    qtbot.keyClick(window.editor, letter, ALT)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=2_000)
    return QApplication.activePopupWidget()


@pytest.mark.parametrize("letter", [Qt.Key.Key_E, Qt.Key.Key_F])
def test_a_menu_closed_with_escape_gives_the_keyboard_back_to_the_editor(qtbot, window, letter):
    window.editor.setPlainText("Jenny is ")
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    menu = open_menu_by_keyboard(qtbot, window, letter)
    qtbot.keyClick(menu, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None, timeout=2_000)
    qtbot.waitUntil(window.editor.hasFocus, timeout=2_000)
    # the next letters are words, not menus ("ee" opened Preferences)
    qtbot.keyClicks(QApplication.focusWidget(), "ee")
    assert window.editor.toPlainText() == "Jenny is ee"
    assert QApplication.activePopupWidget() is None
    assert not [w for w in QApplication.topLevelWidgets() if w.isVisible() and w is not window
                and w.windowTitle() == "Preferences"]


def test_a_submenu_closed_with_escapes_gives_the_keyboard_back(qtbot, window):
    menu = open_menu_by_keyboard(qtbot, window, Qt.Key.Key_F)
    qtbot.keyClick(menu, Qt.Key.Key_R)  # Open Recent
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not menu, timeout=2_000)
    qtbot.keyClick(QApplication.activePopupWidget(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is menu, timeout=2_000)
    qtbot.wait(50)  # (any deferred focus change has run): one Esc closes the submenu only
    assert QApplication.activePopupWidget() is menu
    qtbot.keyClick(menu, Qt.Key.Key_Escape)
    qtbot.waitUntil(window.editor.hasFocus, timeout=2_000)


def test_walking_the_menus_with_the_arrows_keeps_them_open(qtbot, window):
    menu = open_menu_by_keyboard(qtbot, window, Qt.Key.Key_E)
    qtbot.keyClick(menu, Qt.Key.Key_Right)  # the next menu: one closes, the next opens
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() not in (None, menu), timeout=2_000)
    qtbot.wait(50)  # (any deferred focus change has run)
    assert isinstance(QApplication.activePopupWidget(), QMenu)
    qtbot.keyClick(QApplication.activePopupWidget(), Qt.Key.Key_Escape)
    qtbot.waitUntil(window.editor.hasFocus, timeout=2_000)


@pytest.mark.parametrize("which", ["preferences", "learned words"])
def test_a_dialog_opened_from_the_menu_bar_gives_the_keyboard_back(qtbot, window, which):
    # Opened while the menu bar had the keyboard (Alt+E, E), Qt gave it back to the menu bar
    window.menuBar().setFocus()
    assert window.focusWidget() is window.menuBar()
    dialog = window.open_preferences() if which == "preferences" else window.learned_words_dialog()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2_000)
    qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2_000)
    qtbot.waitUntil(window.editor.hasFocus, timeout=2_000)
    qtbot.keyClicks(QApplication.focusWidget(), "ee")
    assert window.editor.toPlainText() == "ee"


# --- Enter does the dialog's main action (finding 3) -------------------------------------
def shown_dialog(qtbot, dialog):
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2_000)
    return dialog


def retrain_dialog(qtbot, window, monkeypatch, started):
    from keyboard_app.ui.retrain_dialog import RetrainDialog

    monkeypatch.setattr(RetrainDialog, "start_training", lambda self: started.append(self.corpus_paths()))
    dialog = RetrainDialog(controller=window.models, settings=window.settings,
                           save_settings=window.save_settings, start_directory=window.start_directory,
                           parent=window)
    return shown_dialog(qtbot, dialog)


def test_enter_in_the_retrain_dialog_starts_training_not_add_files(qtbot, window, monkeypatch, boxes, tmp_path):
    # Enter opened "Add Text Files": QDialog had made Add Files… its default button
    started = []
    dialog = retrain_dialog(qtbot, window, monkeypatch, started)
    dialog.name_edit.setFocus()
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # nothing chosen yet: Start is disabled
    assert started == [] and boxes.kinds() == []
    text = tmp_path / "mine.txt"
    text.write_text("the cat sat on the mat\n" * 20, encoding="utf-8")
    dialog.add_corpus_paths([text])
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=10_000)
    dialog.name_edit.setFocus()
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert started == [[text]] and boxes.kinds() == []
    dialog.close()


def test_the_model_managers_default_is_use_this_model(qtbot, window):
    # Its default was set before it was in the dialog: QDialog did not know it, and once
    # another button had had the focus, none was the default (Enter did nothing, no frame)
    from keyboard_app.ui.model_manager import ModelManagerDialog

    dialog = shown_dialog(qtbot, ModelManagerDialog(controller=window.models,
                                                    start_directory=window.start_directory, parent=window))
    assert dialog.use_button.isDefault()
    dialog.import_button.setFocus(Qt.FocusReason.TabFocusReason)  # a button with the focus is the default
    assert dialog.import_button.isDefault()
    dialog.details.setFocus(Qt.FocusReason.TabFocusReason)  # ... and gives it back when it loses it
    assert dialog.use_button.isDefault() and not dialog.import_button.isDefault()
    dialog.close()


# --- the training page (finding 7) -------------------------------------------------------
def test_the_training_page_starts_on_cancel_with_no_invisible_tab_stops(qtbot, window, monkeypatch, tmp_path):
    import sys

    from keyboard_app import retraining

    monkeypatch.setattr(retraining.TrainRequest, "command",
                        lambda request: (sys.executable, ["-c", "import time; time.sleep(60)"]))
    from keyboard_app.ui.retrain_dialog import RetrainDialog

    dialog = shown_dialog(qtbot, RetrainDialog(controller=window.models, settings=window.settings,
                                               save_settings=window.save_settings,
                                               start_directory=window.start_directory, parent=window))
    text = tmp_path / "mine.txt"
    text.write_text("the cat sat on the mat\n" * 20, encoding="utf-8")
    dialog.add_corpus_paths([text])
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=10_000)
    qtbot.keyClick(dialog, Qt.Key.Key_S, ALT)
    qtbot.waitUntil(lambda: dialog.pages.currentWidget() is dialog.training_page, timeout=5_000)
    assert QApplication.focusWidget() is dialog.cancel_button
    reached = set()
    for _ in range(6):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.add(QApplication.focusWidget())
    assert reached == {dialog.cancel_button}  # the charts are not Tab stops
    assert dialog.loss_plot.accessibleName() and dialog.ppl_plot.accessibleName()
    dialog.stop_and_wait(drop_run=True)
    dialog.close()


# --- Learned and Blocked Words (finding 8) -----------------------------------------------
@pytest.fixture
def learned(qtbot, window):
    for word in ["at", "bell", "cat", "dog", "egg", "Friday", "goat", "hat"]:
        window.personal.observe("the", word)
    dialog = window.learned_words_dialog()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2_000)
    yield dialog
    dialog.close()


def test_after_a_removal_the_cursor_stays_on_the_next_word(qtbot, learned):
    dialog = learned
    dialog.list.setFocus()
    qtbot.keyClick(dialog.list, Qt.Key.Key_Home)
    for _ in range(5):
        qtbot.keyClick(dialog.list, Qt.Key.Key_Down)
    assert dialog.list.currentItem().text(0) == "Friday"
    qtbot.keyClick(dialog.list, Qt.Key.Key_Delete)
    assert "Friday" not in dialog.words()
    assert dialog.list.currentItem().text(0) == "goat"  # not back at "at"
    assert dialog.selected() == []  # nothing chosen: a second Delete removes nothing
    qtbot.keyClick(dialog.list, Qt.Key.Key_Delete)
    assert "goat" in dialog.words()
    qtbot.keyClick(dialog.list, Qt.Key.Key_Space)  # chosen, then removed
    qtbot.keyClick(dialog.list, Qt.Key.Key_Delete)
    assert dialog.words() == ["at", "bell", "cat", "dog", "egg", "hat"]
    assert dialog.list.currentItem().text(0) == "hat"
    qtbot.keyClick(dialog.list, Qt.Key.Key_Space)  # the last row: the cursor stays on the last
    qtbot.keyClick(dialog.list, Qt.Key.Key_Delete)
    assert dialog.list.currentItem().text(0) == "egg"


def tab_chain(start, count):
    chain, widget = [], start
    for _ in range(count):
        widget = widget.nextInFocusChain()
        while widget.focusPolicy() & Qt.FocusPolicy.TabFocus != Qt.FocusPolicy.TabFocus or not widget.isVisible():
            widget = widget.nextInFocusChain()
        chain.append(widget)
    return chain


def test_learned_words_tab_follows_the_layout(learned):
    from PySide6.QtWidgets import QPushButton

    chain = [w.text() for w in tab_chain(learned.list, 4) if isinstance(w, QPushButton)]
    assert chain == ["&Remove", "&Export…", "&Import…", "&Close"]


def test_preferences_tab_reaches_restore_defaults_before_close(qtbot, window):
    from keyboard_app.ui import appearance

    prefs = window.open_preferences()
    qtbot.waitExposed(prefs)
    try:
        chain = tab_chain(prefs.contrast_check, 2)
        assert chain[0] is prefs.defaults_button and chain[1].text() == "Close"
    finally:
        appearance.apply_theme("system")
        prefs.close()


# --- names for a screen reader (finding 6) ------------------------------------------------
def accessible_name(widget) -> str:
    from PySide6.QtGui import QAccessible

    return QAccessible.queryAccessibleInterface(widget).text(QAccessible.Text.Name)


def test_the_strip_says_its_words_to_a_screen_reader(qtbot):
    strip = SuggestionStrip(slots=3)
    qtbot.addWidget(strip)
    strip.set_suggestions([Word("happy"), Word("happen", kind="correction")])
    assert accessible_name(strip) == "Suggestions: 1 happy, 2 happen (correction)"
    strip.set_suggestions([], placeholder="Start typing")
    assert accessible_name(strip) == "Suggestions: none"


def test_the_editor_and_the_lists_are_named(qtbot, window):
    from keyboard_app.ui.model_manager import ModelManagerDialog
    from keyboard_app.ui.retrain_dialog import RetrainDialog

    assert accessible_name(window.editor) == "Text"
    manager = ModelManagerDialog(controller=window.models, start_directory=window.start_directory, parent=window)
    qtbot.addWidget(manager)
    assert accessible_name(manager.list) and accessible_name(manager.details)
    retrain = RetrainDialog(controller=window.models, settings=window.settings, save_settings=window.save_settings,
                            start_directory=window.start_directory, parent=window)
    qtbot.addWidget(retrain)
    assert accessible_name(retrain.corpus_list)


# --- the focus can be seen; high contrast's fields have edges (findings 4 and 5) ----------
THEMES = [("light", False), ("dark", False), ("light", True), ("dark", True)]


@pytest.fixture
def themed():
    from keyboard_app.ui import appearance

    yield appearance.apply_theme
    appearance.apply_theme("system")  # the palette is the application's: give it back


def focus_pixels(qtbot, widget, focus) -> tuple[int, float]:
    """How many pixels the focus changes, and their least contrast with the colour they
    replace at the strongest changed place (the ring against what is behind it)."""
    from keyboard_app.ui.strip import contrast_ratio

    holder = QWidget()
    qtbot.addWidget(holder)
    layout = QVBoxLayout(holder)
    layout.addWidget(widget)
    other = QWidget()  # somewhere else for the focus to be
    other.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    layout.addWidget(other)
    holder.resize(260, 160)
    holder.show()
    holder.activateWindow()
    qtbot.waitUntil(holder.isActiveWindow, timeout=2_000)
    other.setFocus()
    before = widget.grab().toImage()
    focus(widget)
    qtbot.waitUntil(widget.hasFocus, timeout=2_000)
    after = widget.grab().toImage()
    changed = [(before.pixelColor(x, y), after.pixelColor(x, y))
               for x in range(after.width()) for y in range(after.height())
               if before.pixel(x, y) != after.pixel(x, y)]
    best = max((contrast_ratio(a, b) for a, b in changed), default=1.0)
    return len(changed), best


def by_mnemonic(widget):
    widget.setFocus(Qt.FocusReason.ShortcutFocusReason)  # as Alt+letter gives it: no Tab before


@pytest.mark.parametrize("theme, high_contrast", THEMES)
@pytest.mark.parametrize("kind", ["check box", "list", "tree", "text pane", "combo box", "spin box", "button"])
def test_the_focus_can_be_seen(qtbot, themed, theme, high_contrast, kind):
    from PySide6.QtWidgets import QCheckBox, QComboBox, QListWidget, QPushButton, QSpinBox, QTextBrowser, QTreeWidget

    themed(theme, high_contrast=high_contrast)
    if kind == "check box":
        widget = QCheckBox("High contrast")
    elif kind == "combo box":  # (H52: these kept the style's own 1 px outline, invisible in high contrast)
        widget = QComboBox()
        widget.addItems(["Light", "Dark"])
    elif kind == "spin box":
        widget = QSpinBox()
    elif kind == "button":
        widget = QPushButton("Restore Defaults")
    elif kind == "list":
        widget = QListWidget()
        widget.addItems(["Built-in", "My writing"])
    elif kind == "tree":
        widget = QTreeWidget()
        widget.setHeaderLabels(["Word", "Status"])
    else:  # the model manager's details: no frame of its own
        from PySide6.QtWidgets import QFrame

        widget = QTextBrowser()
        widget.setFrameShape(QFrame.Shape.NoFrame)
        widget.viewport().setAutoFillBackground(False)
        widget.setHtml("<h3>Built-in</h3>")
    count, contrast = focus_pixels(qtbot, widget, by_mnemonic)
    assert count >= 40, "nothing shows the focus"  # a ring, not a dot
    assert contrast >= 3.0  # WCAG 1.4.11


@pytest.mark.parametrize("theme, high_contrast", THEMES)
@pytest.mark.parametrize("kind", ["spin box", "line edit", "combo box"])
def test_fields_have_edges_that_can_be_seen(qtbot, themed, theme, high_contrast, kind):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox

    from keyboard_app.ui.strip import contrast_ratio

    themed(theme, high_contrast=high_contrast)
    widget = {"spin box": QSpinBox, "line edit": QLineEdit, "combo box": QComboBox}[kind]()
    if kind == "combo box":
        widget.addItems(["Light", "Dark"])
    holder = QWidget()
    qtbot.addWidget(holder)
    QVBoxLayout(holder).addWidget(widget)
    holder.show()
    qtbot.waitExposed(holder)
    image = widget.grab().toImage()
    window = holder.palette().color(QPalette.ColorRole.Window)
    mid = image.height() // 2
    edge = [image.pixelColor(x, mid) for x in range(0, 3)]  # the left edge, half-way down
    if theme == "light" and not high_contrast:
        return  # the style's own edge: left as it is
    assert max(contrast_ratio(c, window) for c in edge) >= 3.0


def test_a_dialog_chosen_from_a_menu_keeps_the_keyboard(qtbot, window):
    # Giving the editor the keyboard once a menu closes must not take it from what the menu opened
    from keyboard_app.ui import appearance
    from keyboard_app.ui.preferences import PreferencesDialog

    menu = open_menu_by_keyboard(qtbot, window, Qt.Key.Key_E)
    qtbot.keyClick(menu, Qt.Key.Key_E)  # Pr&eferences
    qtbot.waitUntil(lambda: window.findChild(PreferencesDialog) is not None, timeout=2_000)
    dialog = window.findChild(PreferencesDialog)
    try:
        qtbot.waitUntil(dialog.isActiveWindow, timeout=2_000)
        qtbot.wait(50)  # (any deferred focus change has run)
        assert dialog.isActiveWindow() and dialog.isAncestorOf(QApplication.focusWidget())
    finally:
        appearance.apply_theme("system")
        dialog.close()


def test_high_contrast_dark_draws_no_black_icon_on_black(qtbot, themed):
    # Close's ✗ was black on high contrast's black; the button's word is enough there
    from PySide6.QtWidgets import QPushButton, QStyle

    themed("dark", high_contrast=True)
    plain, with_icon = QPushButton("&Close"), QPushButton("&Close")
    with_icon.setIcon(with_icon.style().standardIcon(QStyle.StandardPixmap.SP_DialogCloseButton))
    for button in (plain, with_icon):
        qtbot.addWidget(button)
        button.resize(120, 32)
        button.show()
        qtbot.waitExposed(button)
    assert not with_icon.icon().isNull()
    assert with_icon.grab().toImage() == plain.grab().toImage()  # drawn as if it had none
