"""The main window: the editor, the suggestion strip, menus and status bar.

It wires the parts together and owns what the user sees as "the app": the
menus and status bar, the personal layer's switches, the preferences, and
the dialogs.  The parts with a job of their own live beside it and talk to
it by signals: ``documents.Documents`` (open, save, encodings, recent
files, the unsaved-changes prompt) and ``model_controller.ModelController``
(which model is in use, loaded by the worker, never on the UI thread;
imports and adoptions), which the model manager and the retrain dialog are
given instead of the window.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QByteArray, QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .. import paths, retraining
from ..learning import LearnedWordsSaver, PersonalModel
from ..model_store import ModelStore
from ..predictors import load_predictor
from ..settings import MAX_FONT_SIZE, MAX_SUGGESTIONS, MIN_FONT_SIZE, Settings, SettingsStore
from . import appearance, boxes, mnemonics
from .controller import KeystrokeStats, SuggestionController
from .documents import Documents
from .editor import Editor
from .elide import ElidedLabel, ElidingStatusBar, fit_to_screen
from .model_controller import LOADING, ModelController
from .preferences import LEARNING_HELP
from .strip import WORD_SCALE, SuggestionStrip
from .worker import LoadedModel, PredictorWorker

log = logging.getLogger(__name__)

APP_TITLE = paths.APP_DISPLAY_NAME
LEARN_SAVE_DELAY_MS = 3000  # debounce: the counts are written at most this often
MODEL_LABEL_WIDTH = 220  # pixels: a long model name is elided, the messages keep their room

SHORTCUTS = [
    ("Tab", "Put in the first suggestion; a tab character when none is shown, after Esc, "
            "or always if Preferences ▸ Accept key is “None”"),
    ("Alt+1 … Alt+5", "Put in suggestion 1 to 5 (as many as Preferences shows)"),
    ("Ctrl+1 … Ctrl+5", "The same, for keyboards where Alt is taken"),
    ("Click a suggestion", "Put it in; right-click to forget it or never see it again"),
    ("Alt+S, N", "Suggestions ▸ Never Suggest: the same from the keyboard"),
    ("Esc", "Hide the suggestions until the next keystroke"),
    ("Ctrl+Z / Ctrl+Y or Ctrl+Shift+Z", "Undo / redo a word at a time (a suggestion put in, a paste: one step)"),
    ("Ctrl+N, Ctrl+O, Ctrl+S", "New, open, save"),
    ("Ctrl+Shift+S", "Save as"),
    ("Ctrl++ / Ctrl+- / Ctrl+0", "Larger, smaller, normal text (the suggestions follow)"),
    ("Ctrl+,", "Preferences"),
    ("Ctrl+M", "Manage models"),
    ("Ctrl+Shift+T", "Retrain on your own writing"),
    ("F10", "Open the first menu (File); the arrow keys walk the menus, Esc closes them"),
    ("F1", "This help: the keys, and what the suggestions’ marks mean"),
]

# What the strip's marks mean, shown below the shortcuts (plain words, no jargon).
STRIP_HELP = [
    ("Corrections", "A suggestion in <i><u>italics, underlined</u></i> is a correction: the letters "
                    "you typed look like a slip, and putting it in replaces the word you typed "
                    "with it (Ctrl+Z puts your letters back). With Preferences ▸ “Correct typing "
                    "slips automatically at a word’s end”, the space or punctuation typed after "
                    "a slip puts the correction in by itself; Backspace right after takes it back."),
    ("Phrases", "A suggestion on a tinted background with » after it is a phrase: several "
                "words that often come next. Putting it in types all of them at once."),
]


class MainWindow(QMainWindow):
    model_ready = Signal(str)  # the model's name, once loaded and in use
    model_failed = Signal(str)  # the loader's message
    learned_save_failed = Signal(str)  # why (from the saving thread)

    def __init__(
        self,
        *,
        settings_store: SettingsStore | None = None,
        model_store: ModelStore | None = None,
        model_path: Path | None = None,
        loader: Callable[[Path], Any] = load_predictor,
        personal_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        mnemonics.install()  # Save, Discard… in Qt's standard boxes answer to Alt+letter
        self.settings_store = settings_store or SettingsStore()
        self.settings, settings_problem = self.settings_store.load()
        self.personal_path = personal_path or paths.learned_data_path()
        self.personal, personal_problem = PersonalModel.load(self.personal_path)
        # (title, sentence) pairs shown once the window is up.
        self._problems: list[tuple[str, str]] = []
        if settings_problem:
            self._problems.append(("Settings could not be read", settings_problem))
        if personal_problem:
            self._problems.append(("Learned words could not be read", personal_problem))
        self.retrain_dialog: Any = None  # the open RetrainDialog, if any
        # Written off the UI thread: at the size the counts may reach, a save there froze the
        # typing (``learning``).  Closing saves last, after the save under way.
        self.learned_saver = LearnedWordsSaver(
            self.personal, self.personal_path,
            on_failed=lambda e: self.learned_save_failed.emit(e.strerror or str(e)),
        )
        self.learned_save_failed.connect(self._learned_not_saved)

        self.worker = PredictorWorker(personal=self.personal, loader=loader, parent=self)
        self.models = ModelController(store=model_store or ModelStore(), worker=self.worker, parent=self)
        self.model_store = self.models.store
        self.editor = Editor(font_size=self.settings.editor_font_size)
        self.editor.setAccessibleName("Text")  # (a screen reader said nothing of it, H48's finding 6)
        self.documents = Documents(editor=self.editor, settings=self.settings, save_settings=self.save_settings,
                                   error=self.error, parent=self)
        self.strip = SuggestionStrip(slots=self.settings.suggestion_count)
        self.strip.can_forget = lambda s: self.personal.knows(s.token)
        self.controller = SuggestionController(
            editor=self.editor, strip=self.strip, worker=self.worker, personal=self.personal, parent=self
        )
        self._learn_timer = QTimer(self, singleShot=True, interval=LEARN_SAVE_DELAY_MS)
        self._learn_timer.timeout.connect(self.learned_saver.request)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.strip)
        layout.addWidget(self.editor, 1)
        self.setCentralWidget(central)
        self.setFocusProxy(self.editor)
        self.editor.setFocus()

        self._build_status_bar()
        self._build_actions()
        self._build_menus()
        self._connect()
        self._apply_learning_settings()
        self.apply_preferences()
        self._update_title()
        self._show_stats(self.controller.stats)

        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        else:
            fit_to_screen(self, QSize(900, 640))

        model_problem = self.models.start(model_path, self.settings.model)
        if model_problem:
            self._problems.append(("Model not found", model_problem))
        if self._problems:
            QTimer.singleShot(0, self._report_problems)
        QTimer.singleShot(0, self._start_up_questions)

    # --- construction -----------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = ElidingStatusBar()
        self.setStatusBar(bar)
        # A model's name, never markup; elided further while a long message needs its room.
        self.model_label = ElidedLabel(LOADING)
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)
        self.model_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.model_label.setObjectName("modelLabel")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(90)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.ksr_label = QLabel()
        self.ksr_label.setObjectName("ksrLabel")
        self.ksr_label.setToolTip(
            "Keystrokes the suggestions saved in this document: the characters they typed "
            "for you, less one keystroke or click per suggestion taken"
        )
        self.learning_label = QLabel("Learning paused")
        self.learning_label.setObjectName("learningLabel")
        self.learning_label.setToolTip(
            "What was learned is used, but nothing new is learned "
            "(Suggestions ▸ Learning ▸ Pause Learning, or Preferences)"
        )
        self.learning_label.setAccessibleName("Learning from your typing is paused")
        self.learning_label.hide()
        for label in (self.model_label, self.ksr_label, self.learning_label):
            label.setContentsMargins(8, 0, 8, 0)
        bar.addPermanentWidget(self.busy)
        bar.addPermanentWidget(self.learning_label)
        bar.addPermanentWidget(self.model_label, yields=True)
        bar.addPermanentWidget(self.ksr_label, yields=True)

    def set_model_label(self, text: str, tooltip: str | None = None) -> None:
        """The status bar's model name, elided to MODEL_LABEL_WIDTH, and further while a long
        message needs its room (``ElidingStatusBar``); the whole in its accessible name;
        ``tooltip``, when given, the model's path."""
        metrics = self.model_label.fontMetrics()
        self.model_label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, MODEL_LABEL_WIDTH))
        self.model_label.setAccessibleName(text)
        if tooltip:
            self.model_label.setToolTip(boxes.plain_tooltip(tooltip))

    def _action(self, text: str, slot: Callable, shortcut: Any = None, tip: str = "",
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even while the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        K = QKeySequence
        self.new_action = self._action("&New", self.documents.new, K.StandardKey.New)
        self.open_action = self._action("&Open…", lambda: self.documents.open(), K.StandardKey.Open)
        self.save_action = self._action("&Save", self.documents.save, K.StandardKey.Save)
        self.save_as_action = self._action("Save &As…", self.documents.save_as, K("Ctrl+Shift+S"))
        self.quit_action = self._action("&Quit", self.close, K.StandardKey.Quit)
        self.undo_action = self._action("&Undo", self.editor.undo, K.StandardKey.Undo)
        self.redo_action = self._action("&Redo", self.editor.redo, [K("Ctrl+Shift+Z"), K("Ctrl+Y")])
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        self.cut_action = self._action("Cu&t", self.editor.cut, K.StandardKey.Cut)
        self.copy_action = self._action("&Copy", self.editor.copy, K.StandardKey.Copy)
        self.paste_action = self._action("&Paste", self.editor.paste, K.StandardKey.Paste)
        self.select_all_action = self._action("Select &All", self.editor.selectAll, K.StandardKey.SelectAll)
        for action in (self.undo_action, self.redo_action, self.cut_action, self.copy_action,
                       self.paste_action, self.select_all_action):
            # The editor handles these keys itself; the actions are for the menu.
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)

        self.accept_first_action = self._action(
            "Accept &First Suggestion\tTab", lambda: self.controller.accept(0),
            tip="Put in the first suggestion (Tab)",
        )
        self.accept_actions = []
        for i in range(MAX_SUGGESTIONS):
            action = self._action(
                f"Accept Suggestion &{i + 1}", lambda _=False, i=i: self._accept_shown(i),
                [K(f"Alt+{i + 1}"), K(f"Ctrl+{i + 1}")],
                tip=f"Put in suggestion {i + 1} (Alt+{i + 1} or Ctrl+{i + 1})",
            )
            self.accept_actions.append(action)
        self.hide_action = self._action(
            "&Hide Suggestions", self.controller.hide, K(Qt.Key.Key_Escape),
            tip="Hide the suggestions until the next keystroke (Esc)",
        )
        self.learn_action = self._action(
            "&Learn From My Typing", self._toggle_learning, checkable=True,
            tip=LEARNING_HELP["on"],
        )
        self.pause_action = self._action(
            "&Pause Learning", self._toggle_pause, checkable=True,
            tip=LEARNING_HELP["paused"],
        )
        self.forget_action = self._action("&Forget a Word…", self.forget_word_dialog)
        self.learned_words_action = self._action(
            "Learned and &Blocked Words…", self.learned_words_dialog,
            tip="See, search and remove the words learned from your typing and those never suggested",
        )
        self.unblock_last_action = self._action("&Allow the Last Blocked Word Again", self.unblock_last)
        self.unblock_last_action.setEnabled(False)
        self._last_blocked: tuple[str, str] | None = None  # (token, as shown)
        self.preferences_action = self._action(
            "Pr&eferences…", self.open_preferences, [QKeySequence("Ctrl+,"), K.StandardKey.Preferences],
        )
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.clear_learned_action = self._action("&Clear Everything Learned…", self.clear_learned)

        self.manage_models_action = self._action("&Manage Models…", self.open_model_manager, K("Ctrl+M"))
        self.import_model_action = self._action("&Import Model…", self.import_model_dialog)
        self.retrain_action = self._action(
            "&Retrain on My Writing…", self.open_retrain_dialog, K("Ctrl+Shift+T"),
        )
        self.zoom_in_action = self._action(
            "Zoom &In", lambda: self.set_font_size(self.settings.editor_font_size + 1),
            [K.StandardKey.ZoomIn, K("Ctrl+=")],
        )
        self.zoom_out_action = self._action(
            "Zoom &Out", lambda: self.set_font_size(self.settings.editor_font_size - 1), K.StandardKey.ZoomOut,
        )
        self.zoom_reset_action = self._action(
            "&Actual Size", lambda: self.set_font_size(Settings().editor_font_size), K("Ctrl+0"),
        )
        self.shortcuts_action = self._action("&Keyboard Shortcuts", self.show_shortcuts, K.StandardKey.HelpContents)
        # F10 opens the first menu, as in GNOME and KDE apps (Qt's menu bar answers Alt alone,
        # not F10); F10 again (``eventFilter``), or Esc, closes it, the keyboard back in the editor.
        self.menu_key_action = self._action("Open the Menus", self.open_first_menu, K(Qt.Key.Key_F10))
        self.about_action = self._action(f"&About {APP_TITLE}", self.show_about)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        file_menu.addSeparator()
        file_menu.addActions([self.save_action, self.save_as_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions([self.cut_action, self.copy_action, self.paste_action])
        edit_menu.addSeparator()
        edit_menu.addAction(self.select_all_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.preferences_action)

        view_menu = bar.addMenu("&View")
        view_menu.addActions([self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action])
        view_menu.addSeparator()
        view_menu.addAction("On-Screen &Keyboard", self._toggle_on_screen_keyboard)

        suggestions_menu = bar.addMenu("&Suggestions")
        suggestions_menu.addAction(self.accept_first_action)
        suggestions_menu.addActions(self.accept_actions)
        suggestions_menu.addAction(self.hide_action)
        suggestions_menu.addSeparator()
        self.never_menu = suggestions_menu.addMenu("&Never Suggest")
        self.never_menu.aboutToShow.connect(self._fill_never_menu)
        self._fill_never_menu()
        suggestions_menu.addAction(self.unblock_last_action)
        suggestions_menu.addSeparator()
        learning = suggestions_menu.addMenu("&Learning")
        learning.addActions([self.learn_action, self.pause_action])
        learning.addSeparator()
        learning.addActions([self.learned_words_action, self.forget_action, self.clear_learned_action])
        learning.aboutToShow.connect(self._update_learning_actions)

        models_menu = bar.addMenu("&Models")
        models_menu.addActions([self.manage_models_action, self.import_model_action])
        models_menu.addSeparator()
        models_menu.addAction(self.retrain_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.shortcuts_action, self.about_action])
        for action in bar.actions():
            action.menu().aboutToHide.connect(self._menu_closed)
        for menu in bar.findChildren(QMenu):  # (the window's F10 is not heard in an open menu)
            menu.installEventFilter(self)

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt API
        """F10 in an open menu closes the menus, as in GNOME and KDE apps; the keyboard goes
        back to the editor."""
        if (event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_F10
                and not event.modifiers() and isinstance(watched, QMenu)):
            while isinstance(popup := QApplication.activePopupWidget(), QMenu):
                popup.close()
            self._back_to_the_editor()
            return True
        return super().eventFilter(watched, event)

    def open_first_menu(self) -> None:
        """F10: the menu bar's first menu (File), open, its first item chosen, for the
        keyboard to walk the menus (as Alt+F opens it); F10 in an open menu closes it."""
        bar = self.menuBar()
        first = next((a for a in bar.actions() if a.isVisible() and a.isEnabled()), None)
        if first is None or not bar.isVisible():
            return
        bar.setActiveAction(first)
        menu = first.menu()
        item = next((a for a in menu.actions() if a.isEnabled() and a.isVisible() and not a.isSeparator()), None)
        if item is not None:
            menu.setActiveAction(item)

    def _menu_closed(self) -> None:
        """A menu of the menu bar closed.  Closed with Esc (no action), Qt left the keyboard
        on the menu bar, showing nothing: the next letters were lost or opened menus ("ee"
        opened Preferences, H48's finding 2).  Checked once the menu is gone, so that walking
        the menus with the arrow keys (one closes, the next opens) is left alone."""
        QTimer.singleShot(0, self, self._editor_focus_from_menu_bar)

    def _editor_focus_from_menu_bar(self) -> None:
        if QApplication.activePopupWidget() is None and self.focusWidget() is self.menuBar():
            self._back_to_the_editor()

    def _connect(self) -> None:
        doc = self.editor.document()
        doc.modificationChanged.connect(self.setWindowModified)
        self.editor.undoAvailable.connect(self.undo_action.setEnabled)
        self.editor.redoAvailable.connect(self.redo_action.setEnabled)
        self.controller.stats_changed.connect(self._show_stats)
        self.controller.learned.connect(self._learned)
        self.strip.forget_requested.connect(self._forget_suggestion)
        self.strip.block_requested.connect(self._block_suggestion)
        self.documents.changed.connect(self._update_title)
        self.documents.opened.connect(self.controller.reset_stats)
        self.documents.message.connect(self.statusBar().showMessage)
        models = self.models
        models.label_changed.connect(self.set_model_label)
        models.loading.connect(self._on_model_loading)
        models.ready.connect(self._on_model_loaded)
        models.chosen.connect(self._remember_model)
        models.failed.connect(self._on_model_failed)
        models.busy.connect(self.busy.setVisible)
        models.status.connect(self._show_status)
        models.error.connect(self.error)
        self.worker.busy_changed.connect(self._on_worker_busy)

    # --- problems ------------------------------------------------------------
    def _report_problems(self) -> None:
        problems, self._problems = self._problems, []
        if problems:  # one box, however many files: a sentence each
            title = problems[0][0] if len(problems) == 1 else "Some of your files could not be used"
            self.warn(title, "\n\n".join(text for _, text in problems))

    def warn(self, title: str, text: str) -> None:
        """A warning the user must see (a modal box, its text shown as it is; tests replace
        QMessageBox.warning)."""
        log.warning("%s: %s", title, text)
        boxes.warning(self, title, text)

    def error(self, title: str, text: str) -> None:
        log.error("%s: %s", title, text)
        boxes.critical(self, title, text)

    # --- models --------------------------------------------------------------
    @property
    def current_model(self) -> LoadedModel | None:
        return self.models.current

    def current_key(self) -> str | None:
        return self.models.current_key()

    def load_model(self, key: str, *, persist: bool = True) -> None:
        """Switch to a model (``ModelController.load``); on failure the current one stays."""
        self.models.load(key, persist=persist)

    def _on_model_loading(self, name: str) -> None:
        self.busy.show()
        if self.models.current is None:
            self.controller.set_status(LOADING)
        self.statusBar().showMessage(f"Loading {name}…")

    def _on_model_loaded(self, loaded: LoadedModel) -> None:
        self.busy.hide()
        self.statusBar().showMessage(f"Model “{loaded.name}” ready ({loaded.seconds:.1f} s).", 4000)
        self.worker.set_use_personal(self.settings.learning_enabled)
        self.controller.model_changed()
        self.model_ready.emit(loaded.name)

    def _remember_model(self, key: str) -> None:
        """The user chose this model: it is the one to start with next time."""
        if self.settings.model != key:
            self.settings.model = key
            self.save_settings()

    def _on_model_failed(self, message: str, detail: str) -> None:
        self.busy.hide()
        if self.models.current is None:
            self.controller.set_status("No model — choose one in Models ▸ Manage Models")
        self.statusBar().clearMessage()
        self.model_failed.emit(message)
        self.error("The model could not be loaded", detail)

    def _on_worker_busy(self, busy: bool) -> None:
        if not self.models.is_loading():
            self.busy.setVisible(busy)

    def _show_status(self, text: str, timeout_ms: int) -> None:
        if text:
            self.statusBar().showMessage(text, timeout_ms)
        else:
            self.statusBar().clearMessage()

    def open_model_manager(self) -> None:
        from .model_manager import ModelManagerDialog

        dialog = ModelManagerDialog(controller=self.models, start_directory=self.start_directory, parent=self)
        dialog.exec()
        self._back_to_the_editor()

    def import_model_dialog(self) -> None:
        from .model_manager import choose_bundle_to_import

        source = choose_bundle_to_import(self, self.start_directory())
        if source is not None:
            self.import_model(source, use=True)

    def import_model(self, source: Path, *, use: bool = False,
                     done: Callable[[str | None], None] | None = None) -> None:
        """Validate and copy a bundle into the user's models (in a thread), then maybe use it."""
        self.models.import_bundle(source, use=use, done=done)

    def open_retrain_dialog(self) -> None:
        """Open (or bring back) the retrain dialog; it is not modal: typing goes on meanwhile."""
        from .retrain_dialog import RetrainDialog

        dialog = self.retrain_dialog
        if dialog is None:
            dialog = RetrainDialog(controller=self.models, settings=self.settings, save_settings=self.save_settings,
                                   start_directory=self.start_directory, parent=self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(self._retrain_dialog_closed)
            dialog.hidden.connect(self._back_to_the_editor)
            self.retrain_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _retrain_dialog_closed(self) -> None:
        self.retrain_dialog = None

    def _back_to_the_editor(self) -> None:
        """The retrain dialog went away (Use, Keep, Close, by mnemonic or click), or another
        dialog, or a menu closed without an action: the keyboard goes to the editor.  Left to
        Qt, the window gave the focus back to the widget that last had it, which could be the
        menu bar the dialog was opened from by keyboard (Alt+M, R): typing then opened menus
        instead of writing (H33's finding 2, H48's 2).  Giving the editor the focus also ends
        the menu bar's keyboard mode."""
        if not self.isVisible():  # (the window is closing)
            return
        self.activateWindow()
        self.editor.setFocus(Qt.FocusReason.ActiveWindowFocusReason)
        QTimer.singleShot(0, self, self._editor_focus_if_active)  # once the dialog is hidden

    def _editor_focus_if_active(self) -> None:
        if self.isActiveWindow() and not self.editor.hasFocus():
            self.editor.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def _start_up_questions(self) -> None:
        """What the last session left for the user to decide, one box after the other."""
        self._offer_kept_texts()
        self._tell_of_old_opened_texts()
        self._tell_of_unadded_models()

    def _offer_kept_texts(self) -> None:
        """Text the editor held unsaved when a terminal's Ctrl-C or a signal closed the app was
        kept in a file of its own (``app.keep_unsaved_text``): offer it.  The newest one no
        other copy of the app holds is taken (``documents.take_kept_text``), so two copies
        never both offer it; Open restores it as the unsaved document it was
        (``Documents.restore``), which removes the kept file once the text is saved or
        discarded, so that it is offered until then and never after.  No (or a text that
        cannot be opened) leaves it to be offered at the next start.  A keep that was itself
        killed is offered too, named as possibly incomplete
        (``documents.adopt_interrupted_keeps``).  A text kept from a file names it.  So is the
        copy of an unsaved text written as the user typed (``Documents.write_recovery``), once
        the copy of the app that wrote it is gone (it crashed, was killed, lost its display),
        as "Unsaved Text Recovered", with when it was last written."""
        from .documents import (RECOVERY_LIMIT_MS, RECOVERY_PAUSE_MS, adopt_interrupted_keeps, shown, take_kept_text,
                                tidy_kept_folder)

        folder = paths.unsaved_texts_dir()
        adopt_interrupted_keeps(folder)  # first: it takes over the path beside the text it was for
        tidy_kept_folder(folder)
        kept, more = take_kept_text(folder)
        if kept is None:
            return
        others = f" ({more} older there too)" if more else ""
        of_file = f" to \u201c{shown(kept.origin)}\u201d" if kept.origin is not None else ""
        where = f"\u201c{shown(kept.path.name)}\u201d, in {shown(folder)}{others}"
        SB = QMessageBox.StandardButton
        if kept.recovered is not None:
            title, said = "Unsaved Text Recovered", (
                f"The app stopped without closing. The text you had not saved{of_file} was recovered, "
                f"as written at {datetime.fromtimestamp(kept.recovered):%Y-%m-%d %H:%M:%S}: up to "
                f"{RECOVERY_PAUSE_MS // 1000} seconds before the app stopped ({RECOVERY_LIMIT_MS // 1000} "
                f"if you were typing without a pause).\n\nOpen it now? (Choose No to be asked again at the next start.) "
                f"(The copy is {where}.)")
        else:
            title, said = "Unsaved Text Kept", (
                f"When the app was last stopped without a question (Ctrl-C in a terminal, or the system "
                f"closing it), the text you had not saved{of_file} was kept in {where}.\n\n"
                "Open it now? (Choose No to be asked again at the next start.)")
        answer = boxes.question(self, title, said, SB.Open | SB.Discard | SB.No, SB.Open)
        if answer == SB.Open and self.documents.restore(kept):
            return  # the document has it now
        if answer == SB.Discard:
            sure = boxes.question(
                self, "Delete Kept Text?", f"Delete \u201c{shown(kept.path.name)}\u201d? It cannot be recovered.",
                SB.Yes | SB.No, SB.No)
            if sure == SB.Yes:
                try:
                    kept.remove()
                except OSError as e:
                    self.warn(title, f"{shown(kept.path)} could not be deleted: {e.strerror or e}.")
        kept.release()

    def _tell_of_old_opened_texts(self) -> None:
        """Versions before H57's fix moved a kept text the user opened into ``unsaved/opened/``
        and saved it there on Ctrl+S without asking: texts the user may believe saved where
        they chose.  Say once where they are (``Settings.told_of_old_opened_texts``); they are
        never moved or removed."""
        from .documents import OLD_OPENED_FOLDER, old_opened_texts, shown

        if self.settings.told_of_old_opened_texts:
            return
        folder = paths.unsaved_texts_dir()
        names = old_opened_texts(folder)
        if not names:
            return
        listed = ", ".join(f"\u201c{shown(name)}\u201d" for name in names[:5])
        if len(names) > 5:
            listed += f" and {len(names) - 5} more"
        texts = "1 text is" if len(names) == 1 else f"{len(names)} texts are"
        boxes.information(
            self, "Texts Saved by an Earlier Version",
            "An earlier version of the app moved the unsaved texts you opened at its start into "
            f"{shown(folder / OLD_OPENED_FOLDER)}, and Ctrl+S saved them there. {texts} still there "
            f"({listed}), untouched: open them with File \u25b8 Open and save them where you want them. "
            "(This is said only once.)")
        self.settings.told_of_old_opened_texts = True
        self.save_settings()

    def _tell_of_unadded_models(self) -> None:
        """A retrain that finished just before the app was killed (or crashed) left its model
        unadded: say so at the start, and open the retrain dialog, which offers it, if asked."""
        from .retrain_dialog import training_dir

        waiting = retraining.unadded_waiting(training_dir())
        if not waiting or not retraining.training_available()[0]:
            return  # (without the training extra the dialog could not offer it: it waits)
        models = "A model you retrained was" if waiting == 1 else f"{waiting} models you retrained were"
        answer = QMessageBox.question(
            self, "Retrained Model Not Added",
            f"{models} not added to your models: the app stopped before you chose. "
            "Review it now? (Models ▸ Retrain on My Writing also offers it.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
        if answer == QMessageBox.StandardButton.Yes:
            self.open_retrain_dialog()

    # --- learning --------------------------------------------------------------
    def _apply_learning_settings(self) -> None:
        enabled = self.settings.learning_enabled
        self.learn_action.setChecked(enabled)
        self.pause_action.setChecked(self.settings.learning_paused)
        self.controller.learning = enabled and not self.settings.learning_paused
        self.worker.set_use_personal(enabled)
        self.learning_label.setVisible(enabled and self.settings.learning_paused)
        self._update_learning_actions()

    def _update_learning_actions(self) -> None:
        enabled = self.settings.learning_enabled
        self.pause_action.setEnabled(enabled)
        has_data = bool(len(self.personal) or self.personal.blocked)
        self.forget_action.setEnabled(bool(len(self.personal)))
        self.learned_words_action.setEnabled(has_data)
        self.clear_learned_action.setEnabled(has_data)

    def _toggle_learning(self, checked: bool) -> None:
        self.settings.learning_enabled = checked
        self.save_settings()
        self._apply_learning_settings()
        self.statusBar().showMessage(
            "Learning from your typing: counts of your words stay on this computer."
            if checked else "Learning is off; what was learned is kept but not used.", 6000
        )
        self.controller.refresh(force=True)

    def _toggle_pause(self, checked: bool) -> None:
        self.settings.learning_paused = checked
        self.save_settings()
        self._apply_learning_settings()
        self.statusBar().showMessage("Learning paused." if checked else "Learning resumed.", 4000)

    def _learned(self) -> None:
        if not self._learn_timer.isActive():
            self._learn_timer.start()

    def save_learned(self, *, closing: bool = False) -> bool:
        """Save the counts now (merged with another copy's, see ``learning``), after the
        save under way if any; False if that failed.  While typing, the debounce timer
        saves on the saver's thread instead."""
        try:
            self.learned_saver.save_now()
        except OSError as e:
            log.warning("saving %s failed: %s", self.personal_path, e)
            why = e.strerror or str(e)
            if closing:
                self.warn("Learned words not saved", (
                    f"The words learned in this session could not be saved to {self.personal_path} "
                    f"({why}); the file keeps what was saved before."
                ))
            else:
                self._learned_not_saved(why)
            return False
        return True

    def _learned_not_saved(self, why: str) -> None:
        self.statusBar().showMessage(
            f"Could not save the learned words to {self.personal_path} ({why}); the file keeps "
            "what was saved before, and saving is tried again as you type.", 15000
        )

    def _changed_personal(self) -> None:
        self._learned()
        self._update_learning_actions()
        self.controller.refresh(force=True)

    def _accept_shown(self, index: int) -> None:
        """Alt/Ctrl+number: the suggestion in that slot, if the strip shows it; a narrow
        window hides the last slots, and their words would go in unseen."""
        if index < self.strip.shown_count():
            self.controller.accept(index)

    def _forget_suggestion(self, index: int) -> None:
        suggestions = self.strip.suggestions()
        if index < len(suggestions):
            word = suggestions[index].text
            if suggestions[index].kind == "phrase":
                self._words_only(word)
                return
            if self.personal.forget(suggestions[index].token):
                self.statusBar().showMessage(f"Forgot “{word}”.", 4000)
            self._changed_personal()

    def _block_suggestion(self, index: int) -> None:
        suggestions = self.strip.suggestions()
        if index < len(suggestions):
            token, word = suggestions[index].token, suggestions[index].text
            if suggestions[index].kind == "phrase":
                self._words_only(word)
                return
            if not self.personal.block(token):  # not a word of letters, so it could not be kept
                self.statusBar().showMessage(
                    f"“{word}” cannot be blocked: only words of letters can be never suggested.", 6000)
                return
            self._last_blocked = (token, word)
            self.unblock_last_action.setText(f"&Allow “{word}” Again")
            self.unblock_last_action.setEnabled(True)
            self.statusBar().showMessage(
                f"“{word}” will not be suggested again; Suggestions ▸ Allow “{word}” Again undoes it.",
                8000,
            )
            self._changed_personal()

    def _words_only(self, shown: str) -> None:
        self.statusBar().showMessage(
            f"“{shown}” is a phrase: only single words can be forgotten or never suggested.", 6000
        )

    def unblock_last(self) -> None:
        """Undo the last "Never Suggest"."""
        if self._last_blocked is None:
            return
        token, word = self._last_blocked
        self._last_blocked = None
        self.unblock_last_action.setText("&Allow the Last Blocked Word Again")
        self.unblock_last_action.setEnabled(False)
        self.personal.unblock(token)
        self.statusBar().showMessage(f"“{word}” can be suggested again.", 4000)
        self._changed_personal()

    def _toggle_on_screen_keyboard(self) -> None:
        # The on-screen keyboard, sharing this window's engine: imported when first asked
        # for, not at every start, where its modules and the Qt types they use would count
        # in the start's peak memory.
        from ..osk.app import toggle_for_window

        toggle_for_window(self)

    def _fill_never_menu(self) -> None:
        """Suggestions ▸ Never Suggest: the words on the strip, reachable from the keyboard."""
        menu: QMenu = self.never_menu
        menu.clear()
        suggestions = self.strip.suggestions()[: self.strip.shown_count()]
        for i, suggestion in enumerate(suggestions):
            action = menu.addAction(f"&{i + 1} {suggestion.text}")
            # words only (``PersonalModel.block``): not a phrase, nor a slip's "a lot"
            action.setEnabled(suggestion.kind != "phrase" and " " not in suggestion.text.strip())
            action.triggered.connect(lambda _=False, i=i: self._block_suggestion(i))
        if not suggestions:
            menu.addAction("No suggestions shown").setEnabled(False)

    def forget_word_dialog(self) -> Any:
        """Forget a word: the list of learned words, nothing selected (Enter forgets nothing)."""
        return self.learned_words_dialog()

    def learned_words_dialog(self) -> Any:
        from .learned_words import LearnedWordsDialog

        dialog = LearnedWordsDialog(personal=self.personal, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.changed.connect(self._changed_personal)
        dialog.finished.connect(self._back_to_the_editor)
        dialog.open()
        return dialog

    def clear_learned(self) -> None:
        answer = QMessageBox.question(
            self, "Clear Everything Learned",
            "Forget every word and word pair learned from your typing? The words you chose "
            "never to see (Never Suggest) will be suggested again too.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.personal.clear()
            self.save_learned()
            self._changed_personal()
            self.statusBar().showMessage("Everything learned has been cleared.", 4000)

    # --- documents (``Documents`` does the work) ---------------------------------
    @property
    def document_path(self) -> Path | None:
        return self.documents.path

    def start_directory(self) -> str:
        return self.documents.start_directory()

    def maybe_save(self) -> bool:
        return self.documents.maybe_save()

    def new_document(self) -> None:
        self.documents.new()

    def open_document(self, path: Path | None = None) -> bool:
        return self.documents.open(path)

    def save_document(self) -> bool:
        return self.documents.save()

    def save_document_as(self) -> bool:
        return self.documents.save_as()

    def _fill_recent_menu(self) -> None:
        self.documents.fill_recent_menu(self.recent_menu)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.documents.name}[*] — {APP_TITLE}")
        self.setWindowModified(self.documents.is_modified())

    def _show_stats(self, stats: KeystrokeStats) -> None:
        ksr = stats.ksr
        if ksr is None or stats.accepts == 0:
            self.ksr_label.setText("Keystrokes saved: —")
        else:
            self.ksr_label.setText(
                f"Keystrokes saved: {ksr:.0f}% ({stats.keystrokes_saved} of {stats.keystrokes_without})"
            )

    def set_font_size(self, size: int) -> None:
        size = max(MIN_FONT_SIZE, min(MAX_FONT_SIZE, size))
        font = self.editor.font()
        font.setPointSize(size)
        self.editor.setFont(font)
        self._apply_strip_font(size)
        self.statusBar().showMessage(f"Text size {size} pt.", 2000)
        if size != self.settings.editor_font_size:
            self.settings.editor_font_size = size
            self.save_settings()  # after the size: a failure's sentence must not be covered

    # --- preferences -----------------------------------------------------------------
    def _apply_strip_font(self, editor_size: int) -> None:
        own = self.settings.strip_font_size
        self.strip.set_word_point_size(own if own else editor_size * WORD_SCALE)

    def apply_preferences(self) -> None:
        """Make the window follow ``self.settings`` (the Preferences dialog calls this live)."""
        s = self.settings
        self.controller.set_count(s.suggestion_count)
        for i, action in enumerate(self.accept_actions):
            action.setVisible(i < s.suggestion_count)
        tab = s.accept_key == "tab"
        self.editor.tab_handler = self.controller.tab if tab else None
        self.strip.accept_key = "Tab" if tab else ""
        self.accept_first_action.setText("Accept &First Suggestion\tTab" if tab else "Accept &First Suggestion")
        self.controller.space_after = s.space_after_accept
        self.controller.auto_capitalise = s.auto_capitalise
        self.controller.offer_phrases = s.phrase_suggestions
        self.worker.set_typo_corrections(s.typo_corrections)
        self.worker.set_auto_correct(s.auto_correct)
        self._apply_strip_font(s.editor_font_size)
        self.strip.set_large_buttons(s.large_strip_buttons)
        appearance.apply_theme(s.theme, high_contrast=s.high_contrast)
        self.strip.set_high_contrast(s.high_contrast)
        self._apply_learning_settings()
        self.controller.refresh(force=True)

    def open_preferences(self) -> Any:
        """Edit ▸ Preferences (Ctrl+,): changes apply at once and are saved."""
        from .preferences import PreferencesDialog

        dialog = self.findChild(PreferencesDialog)
        if dialog is None:
            dialog = PreferencesDialog(window=self, parent=self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.finished.connect(self._back_to_the_editor)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    # --- settings and closing ----------------------------------------------------
    def save_settings(self) -> None:
        try:
            self.settings_store.save(self.settings)
        except OSError as e:
            self.statusBar().showMessage(
                f"Could not save the settings to {self.settings_store.path} ({e.strerror or e}); "
                "the file keeps the settings saved before.", 15000
            )
            log.warning("saving settings failed: %s", e)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        dialog = self.retrain_dialog
        stopping = dialog is not None and dialog.is_training()
        if stopping:
            answer = boxes.question(
                self, "Retraining Under Way",
                f"{dialog.under_way()} Stop and quit? Nothing of it will be kept.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        if not self.maybe_save():
            event.ignore()
            return
        self.documents.replacing()  # closed as the user chose: nothing to recover
        self.finish_closing(drop_run=stopping)  # as the box said, even if it ended meanwhile
        event.accept()

    def finish_closing(self, *, drop_run: bool, ask: bool = True) -> None:
        """What every close does once the questions are answered (``closeEvent``) or cannot
        be asked (a terminal's Ctrl-C: ``ui.app.close_for_signal``, ``ask`` False): the
        retrain dialog's run stopped (``drop_run``: its finished model too), the window's
        place and the settings saved, the learned words saved (a failure said in a box when
        ``ask``, else logged), the worker and the saver stopped."""
        dialog = self.retrain_dialog
        if dialog is not None:
            dialog.stop_and_wait(drop_run=drop_run)
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        self.save_settings()
        self._learn_timer.stop()
        self.save_learned(closing=ask)
        self.shutdown()

    def bring_forward(self) -> None:
        """Another start of the app asked for the window (see ``ui.app``): show it on top."""
        if self.isMinimized():
            self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()
        self.statusBar().showMessage(f"{APP_TITLE} is already open: here it is.", 5000)
        log.info("another start asked for the window; brought it to the front")

    def shutdown(self) -> None:
        """Stop the threads (idempotent): nothing may run once the window is gone; a save
        of the learned words under way is finished first."""
        self.models.shutdown()
        self.worker.stop()
        self.learned_saver.close()
        self.documents.finish_recovery_writes()  # a copy for a crash being written finishes (5 s at most)

    # --- help -----------------------------------------------------------------
    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td style='padding-right:16px'><b>{keys}</b></td><td>{what}</td></tr>"
            for keys, what in SHORTCUTS
        )
        box = QDialog(self)  # not a message box: those cannot scroll, and ran off a small screen (H53)
        box.setObjectName("KeyboardShortcuts")
        box.setWindowTitle("Keyboard Shortcuts")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        table = QTextBrowser()
        table.setAccessibleName("Keyboard shortcuts")
        table.setFrameShape(QFrame.Shape.NoFrame)
        table.viewport().setAutoFillBackground(False)
        marks = "".join(f"<p><b>{title}.</b> {text}</p>" for title, text in STRIP_HELP)
        table.setHtml(f"<table>{rows}</table><h3>The suggestions</h3>{marks}")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("&Close")
        buttons.rejected.connect(box.reject)
        layout = QVBoxLayout(box)
        layout.addWidget(table)
        layout.addWidget(buttons)
        fit_to_screen(box, QSize(620, 600))
        box.open()

    def show_about(self) -> None:
        from .. import __version__

        # rich text on purpose: the model's name and the folder's path escaped (``boxes``)
        model = html.escape(self.current_model.name) if self.current_model else "none"
        QMessageBox.about(
            self, f"About {APP_TITLE}",
            f"<b>{APP_TITLE}</b> {__version__}<br>"
            "A neural network trained on English text suggests the next word and completes the current one.<br>"
            f"Model in use: {model}.<br><br>"
            "Everything runs on this computer; what it learns from your typing never leaves it.<br>"
            f"Your models and learned words: {html.escape(str(paths.user_data_dir()))}",
        )


