"""The main window: the editor, the suggestion strip, menus and status bar.

It wires the parts together and owns what the user sees as "the app":
documents (open, save, recent files, the unsaved-changes prompt), which
model is in use (loaded by the worker, never on the UI thread), the
personal layer's switches, and the dialogs for models and retraining.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from .. import paths
from ..learning import PersonalModel
from ..model_store import DEFAULT_KEY, ModelStore, ModelStoreError
from ..settings import MAX_FONT_SIZE, MIN_FONT_SIZE, Settings, SettingsStore
from ..storage import atomic_write_text
from .controller import KeystrokeStats, SuggestionController
from .editor import Editor
from .strip import SuggestionStrip
from .worker import LoadedModel, PredictorWorker, load_predictor

log = logging.getLogger(__name__)

APP_TITLE = paths.APP_DISPLAY_NAME
TEXT_FILTER = "Text files (*.txt *.md *.text);;All files (*)"
LEARN_SAVE_DELAY_MS = 3000  # debounce: the counts are written at most this often

SHORTCUTS = [
    ("Tab", "Put in the first suggestion (never inserts a tab character)"),
    ("Alt+1, Alt+2, Alt+3", "Put in suggestion 1, 2 or 3"),
    ("Ctrl+1, Ctrl+2, Ctrl+3", "The same, for keyboards where Alt is taken"),
    ("Click a suggestion", "Put it in; right-click to forget it or never see it again"),
    ("Esc", "Hide the suggestions until the next keystroke"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo (a suggestion put in is one undo step)"),
    ("Ctrl+N, Ctrl+O, Ctrl+S", "New, open, save"),
    ("Ctrl+Shift+S", "Save as"),
    ("Ctrl++ / Ctrl+- / Ctrl+0", "Larger, smaller, normal text"),
    ("Ctrl+M", "Manage models"),
    ("Ctrl+Shift+T", "Retrain on your own writing"),
    ("F1", "This list"),
]


class MainWindow(QMainWindow):
    model_ready = Signal(str)  # the model's name, once loaded
    model_failed = Signal(str)  # the message shown

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
        self.settings_store = settings_store or SettingsStore()
        self.settings, settings_problem = self.settings_store.load()
        self.model_store = model_store or ModelStore()
        self.personal_path = personal_path or paths.learned_data_path()
        self.personal, personal_problem = PersonalModel.load(self.personal_path)
        # (title, sentence) pairs shown once the window is up.
        self._problems: list[tuple[str, str]] = []
        if settings_problem:
            self._problems.append(("Settings could not be read", settings_problem))
        if personal_problem:
            self._problems.append(("Learned words could not be read", personal_problem))
        self.document_path: Path | None = None
        self.current_model: LoadedModel | None = None
        self._loading_key: str | None = None
        self._persist_choice = False
        self._tasks: list[Any] = []
        self.retrain_dialog: Any = None  # the open RetrainDialog, if any
        self._saved_changes = self.personal.changes

        self.worker = PredictorWorker(personal=self.personal, loader=loader, parent=self)
        self.editor = Editor(font_size=self.settings.editor_font_size)
        self.strip = SuggestionStrip()
        self.strip.can_forget = lambda s: self.personal.knows(s.token)
        self.controller = SuggestionController(
            editor=self.editor, strip=self.strip, worker=self.worker, personal=self.personal, parent=self
        )
        self._learn_timer = QTimer(self, singleShot=True, interval=LEARN_SAVE_DELAY_MS)
        self._learn_timer.timeout.connect(self.save_learned)

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
        self._update_title()
        self._show_stats(self.controller.stats)

        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        else:
            self.resize(900, 640)

        self._start_model(model_path)
        if self._problems:
            QTimer.singleShot(0, self._report_problems)

    # --- construction -----------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.model_label = QLabel("Loading model…")
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
        for label in (self.model_label, self.ksr_label):
            label.setContentsMargins(8, 0, 8, 0)
        bar.addPermanentWidget(self.busy)
        bar.addPermanentWidget(self.model_label)
        bar.addPermanentWidget(self.ksr_label)

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
        self.new_action = self._action("&New", self.new_document, K.StandardKey.New)
        self.open_action = self._action("&Open…", lambda: self.open_document(), K.StandardKey.Open)
        self.save_action = self._action("&Save", self.save_document, K.StandardKey.Save)
        self.save_as_action = self._action("Save &As…", self.save_document_as, K("Ctrl+Shift+S"))
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
            "Accept First Suggestion\tTab", lambda: self.controller.accept(0),
            tip="Put in the first suggestion (Tab)",
        )
        self.accept_actions = []
        for i in range(3):
            action = self._action(
                f"Accept Suggestion &{i + 1}", lambda _=False, i=i: self.controller.accept(i),
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
            tip="Count the words you type or accept (never the text itself), on this computer only",
        )
        self.pause_action = self._action(
            "&Pause Learning", self._toggle_pause, checkable=True,
            tip="Keep using what was learned, but learn nothing new",
        )
        self.forget_action = self._action("&Forget a Word…", self.forget_word_dialog)
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

        view_menu = bar.addMenu("&View")
        view_menu.addActions([self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action])

        suggestions_menu = bar.addMenu("&Suggestions")
        suggestions_menu.addAction(self.accept_first_action)
        suggestions_menu.addActions(self.accept_actions)
        suggestions_menu.addAction(self.hide_action)
        suggestions_menu.addSeparator()
        learning = suggestions_menu.addMenu("&Learning")
        learning.addActions([self.learn_action, self.pause_action])
        learning.addSeparator()
        learning.addActions([self.forget_action, self.clear_learned_action])
        learning.aboutToShow.connect(self._update_learning_actions)

        models_menu = bar.addMenu("&Models")
        models_menu.addActions([self.manage_models_action, self.import_model_action])
        models_menu.addSeparator()
        models_menu.addAction(self.retrain_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.shortcuts_action, self.about_action])

    def _connect(self) -> None:
        doc = self.editor.document()
        doc.modificationChanged.connect(self.setWindowModified)
        self.editor.undoAvailable.connect(self.undo_action.setEnabled)
        self.editor.redoAvailable.connect(self.redo_action.setEnabled)
        self.controller.stats_changed.connect(self._show_stats)
        self.controller.learned.connect(self._learned)
        self.strip.forget_requested.connect(self._forget_suggestion)
        self.strip.block_requested.connect(self._block_suggestion)
        self.worker.model_loaded.connect(self._on_model_loaded)
        self.worker.load_failed.connect(self._on_model_failed)
        self.worker.busy_changed.connect(self._on_worker_busy)

    # --- problems ------------------------------------------------------------
    def _report_problems(self) -> None:
        problems, self._problems = self._problems, []
        if problems:  # one box, however many files: a sentence each
            title = problems[0][0] if len(problems) == 1 else "Some of your files could not be used"
            self.warn(title, "\n\n".join(text for _, text in problems))

    def warn(self, title: str, text: str) -> None:
        """A warning the user must see (a modal box; tests replace QMessageBox.warning)."""
        log.warning("%s: %s", title, text)
        QMessageBox.warning(self, title, text)

    def error(self, title: str, text: str) -> None:
        log.error("%s: %s", title, text)
        QMessageBox.critical(self, title, text)

    # --- models --------------------------------------------------------------
    def _start_model(self, model_path: Path | None) -> None:
        if model_path is not None:
            self.load_model(self.model_store.key_for(model_path), persist=False)
            return
        key = self.settings.model
        if key != DEFAULT_KEY and not self.model_store.exists(key):
            log.warning("the chosen model %s is gone; using the built-in one", key)
            self._problems.append((
                "Model not found",
                f"The model you chose last time ({key}) is no longer there; "
                "using the built-in model instead.",
            ))
            key = DEFAULT_KEY
        self.load_model(key, persist=False)

    def load_model(self, key: str, *, persist: bool = True) -> None:
        """Switch to a model (loaded in the worker); on failure the current one stays."""
        try:
            path = self.model_store.path_for(key)
        except ModelStoreError as e:
            self.error("Cannot use this model", str(e))
            return
        self._loading_key = key
        self._persist_choice = persist
        self.model_label.setText("Loading model…")
        self.busy.show()
        if self.current_model is None:
            self.controller.set_status("Loading model…")
        self.statusBar().showMessage(f"Loading {path.name}…")
        self.worker.request_load(path, key)

    def _on_model_loaded(self, loaded: LoadedModel) -> None:
        self.current_model = loaded
        self._loading_key = None
        self.busy.hide()
        self.model_label.setText(f"Model: {loaded.name}")
        self.model_label.setToolTip(str(loaded.path))
        self.statusBar().showMessage(f"Model “{loaded.name}” ready ({loaded.seconds:.1f} s).", 4000)
        if self._persist_choice and self.settings.model != loaded.key:
            self.settings.model = loaded.key
            self.save_settings()
        self.worker.set_use_personal(self.settings.learning_enabled)
        self.controller.model_changed()
        self.model_ready.emit(loaded.name)

    def _on_model_failed(self, message: str, key: str) -> None:
        self._loading_key = None
        self.busy.hide()
        if self.current_model is not None:
            self.model_label.setText(f"Model: {self.current_model.name}")
            detail = f"{message}\n\nStill using “{self.current_model.name}”."
        else:
            self.model_label.setText("No model")
            self.controller.set_status("No model — choose one in Models ▸ Manage Models")
            detail = f"{message}\n\nChoose another model in Models ▸ Manage Models."
            if key != DEFAULT_KEY and self.model_store.exists(DEFAULT_KEY):
                detail = f"{message}\n\nUsing the built-in model instead."
                QTimer.singleShot(0, lambda: self.load_model(DEFAULT_KEY, persist=False))
        self.statusBar().clearMessage()
        self.model_failed.emit(message)
        self.error("The model could not be loaded", detail)

    def _on_worker_busy(self, busy: bool) -> None:
        if self._loading_key is None:
            self.busy.setVisible(busy)

    def current_key(self) -> str | None:
        return self.current_model.key if self.current_model else None

    def open_model_manager(self) -> None:
        from .model_manager import ModelManagerDialog

        dialog = ModelManagerDialog(window=self, store=self.model_store, parent=self)
        dialog.exec()

    def import_model_dialog(self) -> None:
        from .model_manager import choose_bundle_to_import

        source = choose_bundle_to_import(self, self.settings.last_directory)
        if source is not None:
            self.import_model(source, use=True)

    def import_model(self, source: Path, *, use: bool = False,
                     done: Callable[[str | None], None] | None = None) -> None:
        """Validate and copy a bundle into the user's models (in a thread), then maybe use it."""
        from .tasks import run_task

        store = self.model_store
        self.busy.show()
        self.statusBar().showMessage(f"Checking {source.name}…")

        def work() -> str:
            return store.import_bundle(source, validate=lambda folder: _check_loads(folder))

        def ok(key: str) -> None:
            self.busy.hide()
            name = store.info(key).name
            self.statusBar().showMessage(f"Imported “{name}”.", 5000)
            if use:
                self.load_model(key)
            if done:
                done(key)

        def failed(message: str) -> None:
            self.busy.hide()
            self.statusBar().clearMessage()
            self.error("This model cannot be used", message)
            if done:
                done(None)

        self._tasks.append(run_task(work, parent=self, on_success=ok, on_failure=failed))

    def open_retrain_dialog(self) -> None:
        """Open (or bring back) the retrain dialog; it is not modal: typing goes on meanwhile."""
        from .retrain_dialog import RetrainDialog

        dialog = self.retrain_dialog
        if dialog is None:
            dialog = RetrainDialog(window=self, parent=self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(self._retrain_dialog_closed)
            self.retrain_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _retrain_dialog_closed(self) -> None:
        self.retrain_dialog = None

    # --- learning --------------------------------------------------------------
    def _apply_learning_settings(self) -> None:
        enabled = self.settings.learning_enabled
        self.learn_action.setChecked(enabled)
        self.pause_action.setChecked(self.settings.learning_paused)
        self.controller.learning = enabled and not self.settings.learning_paused
        self.worker.set_use_personal(enabled)
        self._update_learning_actions()

    def _update_learning_actions(self) -> None:
        enabled = self.settings.learning_enabled
        self.pause_action.setEnabled(enabled)
        has_data = bool(len(self.personal) or self.personal.blocked)
        self.forget_action.setEnabled(bool(len(self.personal)))
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
        """Save the counts (merged with another copy's, see ``learning``); False if that failed."""
        if self.personal.changes == self._saved_changes:
            return True
        changes = self.personal.changes
        try:
            self.personal.save(self.personal_path)
        except OSError as e:
            log.warning("saving %s failed: %s", self.personal_path, e)
            why = e.strerror or str(e)
            if closing:
                self.warn("Learned words not saved", (
                    f"The words learned in this session could not be saved to {self.personal_path} "
                    f"({why}); the file keeps what was saved before."
                ))
            else:
                self.statusBar().showMessage(
                    f"Could not save the learned words to {self.personal_path} ({why}); the file keeps "
                    "what was saved before, and saving is tried again as you type.", 15000
                )
            return False
        self._saved_changes = changes
        return True

    def _changed_personal(self) -> None:
        self._learned()
        self._update_learning_actions()
        self.controller.refresh(force=True)

    def _forget_suggestion(self, index: int) -> None:
        suggestions = self.strip.suggestions()
        if index < len(suggestions):
            word = suggestions[index].text
            if self.personal.forget(suggestions[index].token):
                self.statusBar().showMessage(f"Forgot “{word}”.", 4000)
            self._changed_personal()

    def _block_suggestion(self, index: int) -> None:
        suggestions = self.strip.suggestions()
        if index < len(suggestions):
            self.personal.block(suggestions[index].token)
            self.statusBar().showMessage(
                f"“{suggestions[index].text}” will not be suggested again "
                "(Suggestions ▸ Learning ▸ Clear Everything Learned undoes this).", 6000
            )
            self._changed_personal()

    def forget_word_dialog(self) -> None:
        words = sorted(self.personal.display(t) for t in self.personal.unigrams)
        if not words:
            return
        word, ok = QInputDialog.getItem(
            self, "Forget a Word", "Forget everything learned about:", words, 0, True
        )
        if ok and word:
            if self.personal.forget(word):
                self.statusBar().showMessage(f"Forgot “{word}”.", 4000)
            self._changed_personal()

    def clear_learned(self) -> None:
        answer = QMessageBox.question(
            self, "Clear Everything Learned",
            "Forget every word and word pair learned from your typing, and show the words "
            "you chose never to see again?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.personal.clear()
            self.save_learned()
            self._changed_personal()
            self.statusBar().showMessage("Everything learned has been cleared.", 4000)

    # --- documents -----------------------------------------------------------
    def _update_title(self) -> None:
        name = self.document_path.name if self.document_path else "Untitled"
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}")
        self.setWindowModified(self.editor.document().isModified())

    def _show_stats(self, stats: KeystrokeStats) -> None:
        ksr = stats.ksr
        if ksr is None or stats.accepts == 0:
            self.ksr_label.setText("Keystrokes saved: —")
        else:
            self.ksr_label.setText(
                f"Keystrokes saved: {ksr:.0f}% ({stats.keystrokes_saved} of {stats.keystrokes_without})"
            )

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False if the user cancels."""
        if not self.editor.document().isModified():
            return True
        name = self.document_path.name if self.document_path else "Untitled"
        answer = QMessageBox.warning(
            self, "Unsaved Changes", f"Save the changes to “{name}” before closing it?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save_document()
        return answer == QMessageBox.StandardButton.Discard

    def new_document(self) -> None:
        if not self.maybe_save():
            return
        self.editor.clear()
        self.editor.document().clearUndoRedoStacks()
        self.editor.document().setModified(False)
        self.document_path = None
        self.controller.reset_stats()
        self._update_title()

    def open_document(self, path: Path | None = None) -> bool:
        if not self.maybe_save():
            return False
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, "Open", self.settings.last_directory, TEXT_FILTER)
            if not name:
                return False
            path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as e:
            self.error("Cannot open the file", f"{path}: {e.strerror or e}.")
            self._forget_recent(path)
            return False
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            self.statusBar().showMessage(f"{path.name} is not UTF-8; it was read as Latin-1.", 8000)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # a long file takes a moment to lay out
        try:
            self.editor.setPlainText(text)
        finally:
            QApplication.restoreOverrideCursor()
        self.editor.moveCursor(self.editor.textCursor().MoveOperation.End)
        self.editor.document().setModified(False)
        self.document_path = path
        self.controller.reset_stats()
        self._remember(path)
        self._update_title()
        return True

    def save_document(self) -> bool:
        if self.document_path is None:
            return self.save_document_as()
        return self._write(self.document_path)

    def save_document_as(self) -> bool:
        start = str(self.document_path) if self.document_path else self.settings.last_directory
        name, _ = QFileDialog.getSaveFileName(self, "Save As", start, TEXT_FILTER)
        if not name:
            return False
        return self._write(Path(name))

    def _write(self, path: Path) -> bool:
        try:
            atomic_write_text(path, self.editor.toPlainText())
        except OSError as e:
            self.error("Cannot save the file", f"{path}: {e.strerror or e}. Nothing was lost: "
                       "the text is still here, and the old file (if any) is untouched.")
            return False
        self.document_path = path
        self.editor.document().setModified(False)
        self._remember(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path.name}.", 3000)
        return True

    def _remember(self, path: Path) -> None:
        self.settings.add_recent_file(str(path))
        self.settings.last_directory = str(Path(path).resolve().parent)
        self.save_settings()

    def _forget_recent(self, path: Path) -> None:
        resolved = str(Path(path).resolve())
        if resolved in self.settings.recent_files:
            self.settings.recent_files.remove(resolved)
            self.save_settings()

    def _fill_recent_menu(self) -> None:
        menu: QMenu = self.recent_menu
        menu.clear()
        for i, name in enumerate(self.settings.recent_files):
            action = menu.addAction(f"&{i + 1} {Path(name).name}")
            action.setToolTip(name)
            action.setStatusTip(name)
            action.triggered.connect(lambda _=False, p=name: self.open_document(Path(p)))
        if not self.settings.recent_files:
            menu.addAction("No recent files").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear Recent Files", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.recent_files = []
        self.save_settings()

    def set_font_size(self, size: int) -> None:
        size = max(MIN_FONT_SIZE, min(MAX_FONT_SIZE, size))
        font = self.editor.font()
        font.setPointSize(size)
        self.editor.setFont(font)
        self.statusBar().showMessage(f"Text size {size} pt.", 2000)
        if size != self.settings.editor_font_size:
            self.settings.editor_font_size = size
            self.save_settings()  # after the size: a failure's sentence must not be covered

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
        if dialog is not None and dialog.is_training():
            answer = QMessageBox.question(
                self, "Training Is Running",
                "A model is being trained. Stop the training and quit? Nothing of it will be kept.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        if not self.maybe_save():
            event.ignore()
            return
        if dialog is not None:
            dialog.stop_and_wait()
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        self.save_settings()
        self._learn_timer.stop()
        self.save_learned(closing=True)
        self.shutdown()
        event.accept()

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
        """Stop the threads (idempotent): nothing may run once the window is gone."""
        self.worker.stop()
        for task in self._tasks:
            try:
                task.wait()
            except RuntimeError:  # already deleted
                pass
        self._tasks.clear()

    # --- help -----------------------------------------------------------------
    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td style='padding-right:16px'><b>{keys}</b></td><td>{what}</td></tr>"
            for keys, what in SHORTCUTS
        )
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard Shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<table>{rows}</table>")
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.open()

    def show_about(self) -> None:
        from .. import __version__

        model = self.current_model.name if self.current_model else "none"
        QMessageBox.about(
            self, f"About {APP_TITLE}",
            f"<b>{APP_TITLE}</b> {__version__}<br>"
            "A word-level LSTM suggests the next word and completes the current one.<br>"
            f"Model in use: {model}.<br><br>"
            "Everything runs on this computer; what it learns from your typing never leaves it.<br>"
            f"Your models and learned words: {paths.user_data_dir()}",
        )


def _check_loads(folder: Path) -> None:
    """Validation for an import: the engine must open the graph and predict."""
    predictor = load_predictor(folder)
    predictor.suggest("", 3)
    close = getattr(predictor.bundle, "close", None)
    if callable(close):
        close()

