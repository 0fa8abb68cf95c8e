"""Edit ▸ Preferences (Ctrl+,): the settings people look for, applied as they change.

Every control writes its field of the window's ``Settings`` (validated and
saved like the rest, see ``keyboard_app.settings``) and the window applies
it at once: there is no OK button to forget.  Every control has a mnemonic
on its label and an accessible name for screen readers.

The groups scroll above the buttons where the screen is too small for them
(``elide.Scrolling``).

"Restore Defaults" asks first (a box whose Cancel is the default, and Escape
answers it): applied at once like the rest, the defaults would have thrown
away every choice made here with no way back (H53's finding 2).
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..settings import MAX_FONT_SIZE, MAX_SUGGESTIONS, MIN_FONT_SIZE, MIN_SUGGESTIONS, Settings
from .elide import Scrolling, fit_to_screen
from .strip import WORD_SCALE


class SettingsHost(Protocol):
    """What the dialog needs of the window (typed without importing it: the window
    imports this module)."""

    settings: Settings

    def save_settings(self) -> None: ...

    def apply_preferences(self) -> None: ...


THEMES = [("system", "Same as the system"), ("light", "Light"), ("dark", "Dark")]
ACCEPT_KEYS = [("tab", "Tab"), ("none", "None (Tab inserts a tab character)")]
LEARNING = [("off", "Off"), ("on", "On"), ("paused", "Paused")]
# The same explanations as the Suggestions ▸ Learning menu's.
LEARNING_HELP = {
    "off": "Nothing is learned; what was learned before is kept but not used.",
    "on": "Count the words you type or accept (never the text itself), on this computer only.",
    "paused": "Keep using what was learned, but learn nothing new.",
}
FOLLOW_ZOOM = MIN_FONT_SIZE - 1  # the spin box's lowest value: "follows the text size"


class _SizeSpin(QSpinBox):
    """The suggestion text size: its lowest value says it follows the editor's size, and a
    step up from there goes one point above the size it followed, not to the smallest size
    (H69: Up, to make the words larger, made them 8 pt)."""

    def __init__(self, followed: Callable[[], int]) -> None:
        super().__init__()
        self._followed = followed

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt API
        if self.value() == self.minimum() and steps > 0:
            self.setValue(min(self.maximum(), max(self.minimum() + 1, self._followed() + steps)))
            return
        super().stepBy(steps)


class PreferencesDialog(QDialog):
    def __init__(self, *, window: SettingsHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PreferencesDialog")
        self.setWindowTitle("Preferences")
        self.window_ = window
        self._loading = False

        self.count_spin = QSpinBox()
        self.count_spin.setRange(MIN_SUGGESTIONS, MAX_SUGGESTIONS)
        self.size_spin = _SizeSpin(lambda: round(window.settings.editor_font_size * WORD_SCALE))
        self.size_spin.setRange(FOLLOW_ZOOM, MAX_FONT_SIZE)
        self.size_spin.setSpecialValueText("Follows the text size (zoom)")
        self.size_spin.setSuffix(" pt")
        self.theme_combo = self._combo(THEMES)
        self.accept_combo = self._combo(ACCEPT_KEYS)
        self.space_check = QCheckBox("Add a s&pace after an accepted word")
        self.capitals_check = QCheckBox("&Capital letter on suggestions at a sentence start")
        self.typos_check = QCheckBox("Offer c&orrections for typing slips")
        self.autocorrect_check = QCheckBox("Correct typing slips a&utomatically at a word's end")
        self.phrases_check = QCheckBox("Offer &whole phrases (the next few words in one slot)")
        self.learning_combo = self._combo(LEARNING)
        self.learning_help = QLabel()
        self.learning_help.setObjectName("learningHelp")
        self.learning_help.setWordWrap(True)
        self.large_check = QCheckBox("Lar&ger suggestion buttons")
        self.contrast_check = QCheckBox("&High contrast")

        names = {
            self.count_spin: ("Number of suggestions", "How many suggestions the strip shows, 1 to 5"),
            self.size_spin: ("Suggestion text size",
                             "The size of the suggested words; lowest: follows the editor's zoom"),
            self.theme_combo: ("Theme", "Light, dark, or the same as the system"),
            self.accept_combo: ("Accept key", "The key that puts in the first suggestion"),
            self.space_check: ("Add a space after an accepted word", ""),
            self.capitals_check: ("Capital letter on suggestions at a sentence start",
                                  "Suggestions at a sentence start begin with a capital; what you type is left as you type it"),
            self.autocorrect_check: ("Correct typing slips automatically at a word's end",
                                     "A space, Enter or closing punctuation replaces \"teh\" with \"the\"; "
                                     "Backspace right after undoes it"),
            self.typos_check: ("Offer corrections for typing slips",
                               "\"recieve\" offers \"receive\", shown in italics as a correction"),
            self.phrases_check: ("Offer whole phrases",
                                 "At the start of a word, one slot may offer the next few words, marked »"),
            self.learning_combo: ("Learning from my typing", "Off, on, or paused"),
            self.large_check: ("Larger suggestion buttons", "Taller buttons, easier to hit"),
            self.contrast_check: ("High contrast", "Black and white, thicker borders"),
        }
        for widget, (name, description) in names.items():
            widget.setAccessibleName(name)
            if description:
                widget.setAccessibleDescription(description)
                widget.setToolTip(description)

        typing = QGroupBox("Suggestions")
        form = QFormLayout(typing)
        form.addRow("&Number of suggestions:", self.count_spin)
        form.addRow("Suggestion text si&ze:", self.size_spin)
        form.addRow("&Accept key:", self.accept_combo)
        form.addRow(self.space_check)
        form.addRow(self.capitals_check)
        form.addRow(self.typos_check)
        form.addRow(self.autocorrect_check)
        form.addRow(self.phrases_check)
        learning = QGroupBox("Learning")
        learning_form = QFormLayout(learning)
        learning_form.addRow("&Learning from my typing:", self.learning_combo)
        learning_form.addRow(self.learning_help)
        look = QGroupBox("Appearance and accessibility")
        look_form = QFormLayout(look)
        look_form.addRow("&Theme:", self.theme_combo)
        look_form.addRow(self.large_check)
        look_form.addRow(self.contrast_check)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.defaults_button = QPushButton("&Restore Defaults")
        self.defaults_button.setObjectName("restoreDefaults")
        self.defaults_button.setAccessibleName("Restore defaults")
        self.defaults_button.setAutoDefault(False)
        buttons.addButton(self.defaults_button, QDialogButtonBox.ButtonRole.ResetRole)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        self.defaults_button.clicked.connect(self.ask_to_restore_defaults)

        groups = QWidget()
        groups_layout = QVBoxLayout(groups)
        groups_layout.setContentsMargins(0, 0, 0, 0)
        for group in (typing, learning, look):
            groups_layout.addWidget(group)
        groups_layout.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(Scrolling(groups), 1)
        layout.addWidget(buttons)
        # Tab as they are laid out: the button box put Close before Restore Defaults, to its left.
        QWidget.setTabOrder(self.contrast_check, self.defaults_button)
        QWidget.setTabOrder(self.defaults_button, close)

        self._load()
        self.count_spin.valueChanged.connect(lambda v: self._set("suggestion_count", v))
        self.size_spin.valueChanged.connect(
            lambda v: self._set("strip_font_size", 0 if v == FOLLOW_ZOOM else v))
        self.theme_combo.currentIndexChanged.connect(lambda _: self._set("theme", self.theme_combo.currentData()))
        self.accept_combo.currentIndexChanged.connect(
            lambda _: self._set("accept_key", self.accept_combo.currentData()))
        self.space_check.toggled.connect(lambda v: self._set("space_after_accept", v))
        self.capitals_check.toggled.connect(lambda v: self._set("auto_capitalise", v))
        self.typos_check.toggled.connect(lambda v: self._set("typo_corrections", v))
        self.autocorrect_check.toggled.connect(lambda v: self._set("auto_correct", v))
        self.phrases_check.toggled.connect(lambda v: self._set("phrase_suggestions", v))
        self.learning_combo.currentIndexChanged.connect(lambda _: self._set_learning(self.learning_combo.currentData()))
        self.large_check.toggled.connect(lambda v: self._set("large_strip_buttons", v))
        self.contrast_check.toggled.connect(lambda v: self._set("high_contrast", v))
        self.count_spin.setFocus()
        fit_to_screen(self)

    @staticmethod
    def _combo(items: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox()
        for value, text in items:
            combo.addItem(text, value)
        return combo

    @staticmethod
    def _select(combo: QComboBox, value: Any) -> None:
        index = combo.findData(value)
        combo.setCurrentIndex(max(0, index))

    def _load(self) -> None:
        """Show the window's settings (also after they changed elsewhere, e.g. the menu)."""
        s = self.window_.settings
        self._loading = True
        try:
            self.count_spin.setValue(s.suggestion_count)
            self.size_spin.setValue(s.strip_font_size or FOLLOW_ZOOM)
            self._select(self.theme_combo, s.theme)
            self._select(self.accept_combo, s.accept_key)
            self.space_check.setChecked(s.space_after_accept)
            self.capitals_check.setChecked(s.auto_capitalise)
            self.typos_check.setChecked(s.typo_corrections)
            self.autocorrect_check.setChecked(s.auto_correct)
            self.phrases_check.setChecked(s.phrase_suggestions)
            self._select(self.learning_combo, learning_state(s))
            self.large_check.setChecked(s.large_strip_buttons)
            self.contrast_check.setChecked(s.high_contrast)
            self.learning_help.setText(LEARNING_HELP[learning_state(s)])
        finally:
            self._loading = False

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        self._load()
        super().showEvent(event)

    def _changed(self, change: Callable[[Settings], None]) -> None:
        if self._loading:
            return
        change(self.window_.settings)
        self.window_.save_settings()
        self.window_.apply_preferences()

    def _set(self, name: str, value: Any) -> None:
        self._changed(lambda s: setattr(s, name, value))

    def _set_learning(self, state: str) -> None:
        def change(s: Settings) -> None:
            s.learning_enabled = state != "off"
            s.learning_paused = state == "paused"

        self.learning_help.setText(LEARNING_HELP[state])
        self._changed(change)

    def ask_to_restore_defaults(self) -> None:
        """The button: the defaults only once the person says so, since they apply at once."""
        SB = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self, "Restore Defaults",
            "Put every preference in this window back to its default? Your own choices here "
            "will be lost; learning, and what was learned from your typing, stay as they are.",
            SB.RestoreDefaults | SB.Cancel, SB.Cancel,
        )
        if answer == SB.RestoreDefaults:
            self.restore_defaults()

    def restore_defaults(self) -> None:
        """Every preference here back to its default (the learning switch and what was learned stay)."""
        defaults = Settings()
        names = ("suggestion_count", "strip_font_size", "theme", "accept_key", "space_after_accept",
                 "auto_capitalise", "typo_corrections", "auto_correct", "phrase_suggestions", "large_strip_buttons",
                 "high_contrast")
        self._changed(lambda s: [setattr(s, n, getattr(defaults, n)) for n in names])
        self._load()


def learning_state(settings: Settings) -> str:
    if not settings.learning_enabled:
        return "off"
    return "paused" if settings.learning_paused else "on"
