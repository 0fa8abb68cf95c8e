"""Opening the on-screen keyboard: on its own (``keyboard-app --osk``) or from the main window.

From the main window the keyboard shares its predictor worker (one model,
one state cache) and its personal layer; on its own it loads the model the
app uses (the user's choice in the app's settings, or ``--model``) in a
worker of its own.  Either way, when keys cannot reach other applications
(``backend.injection_problem``) the user gets that one sentence instead of a
keyboard that types nowhere.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEvent, QFileSystemWatcher, QObject, QTimer

from ..ui import boxes
from .backend import InjectionError, Injector, injection_problem, open_injector
from .context import x11_active_window, x11_focus_window, x11_window_class
from .controller import OskController
from .dock import x11_dock
from .physical import X11InputListener
from .settings import OskSettingsStore
from .switches import X11KeyGrab
from .window import OnScreenKeyboard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EditorChoices:
    """What the keyboard follows of the editor's settings: one setting means the same in both."""

    model: str = "default"  # the model chosen in the editor (``--osk`` loads it)
    learning: bool = False  # the editor's learning is on and not paused
    auto_capitalise: bool = True  # "Capital letter on suggestions at a sentence start"
    theme: str = "system"  # Appearance: "system", "light" or "dark"
    high_contrast: bool = False
    larger_buttons: bool = False  # "Larger suggestion buttons": the keys are taller too

    @classmethod
    def of(cls, settings: Any) -> "EditorChoices":
        """The choices in the editor's ``Settings`` (the main window's, already checked)."""
        return cls(model=settings.model or "default",
                   learning=settings.learning_enabled and not settings.learning_paused,
                   auto_capitalise=settings.auto_capitalise, theme=settings.theme,
                   high_contrast=settings.high_contrast, larger_buttons=settings.large_strip_buttons)


def follow_editor_look(keyboard: OnScreenKeyboard, choices: EditorChoices) -> None:
    """The keyboard follows the editor's capitals, high contrast and larger buttons (the
    theme is the application's palette, which the main window or ``run_osk`` sets)."""
    keyboard.controller.set_auto_capitalise(choices.auto_capitalise)
    keyboard.follow_editor(high_contrast=choices.high_contrast, larger_buttons=choices.larger_buttons)


class EditorSettingsWatch(QObject):
    """Calls ``apply(read())`` now and whenever the editor's settings file changes, if the
    choices did: the editor saves the file at each change in its Preferences, in this
    process or in another (``--osk``).  The folder is watched as well as the file, since
    an atomic save replaces the file (a watch on the old one would see it go, then nothing)."""

    def __init__(self, read: Callable[[], EditorChoices], apply: Callable[[EditorChoices], None],
                 *, parent: QObject, path: Path | None = None) -> None:
        super().__init__(parent)
        from .. import paths

        self.path = path or paths.settings_path()
        self._read, self._apply = read, apply
        self.choices = read()
        apply(self.choices)
        self._watcher = QFileSystemWatcher(self)
        try:
            paths.ensure_dir(self.path.parent)  # (the keyboard saves its own settings there too)
        except OSError as e:
            log.info("the editor's settings cannot be watched: %s", e)
        self._watch()
        # A save is several changes in the folder (a temporary file, a rename): read once after them.
        self._settle = QTimer(self, singleShot=True, interval=100)
        self._settle.timeout.connect(self.check)
        self._watcher.directoryChanged.connect(self._settle.start)
        self._watcher.fileChanged.connect(self._settle.start)

    def _watch(self) -> None:
        for path in (self.path.parent, self.path):
            if path.exists() and str(path) not in self._watcher.files() + self._watcher.directories():
                self._watcher.addPath(str(path))

    def check(self) -> None:
        """Read the choices again; apply them if they changed."""
        self._watch()  # the file may be new, or a new one in the old one's place
        choices = self._read()
        if choices != self.choices:
            self.choices = choices
            self._apply(choices)


def make_keyboard(*, worker: Any, injector: Injector, personal: Any = None,
                  store: OskSettingsStore | None = None, desktop: bool = True) -> OnScreenKeyboard:
    """The keyboard window over ``worker``'s predictor, typing through ``injector``; ``desktop``:
    watch the active window and grab the switch keys on the X11 desktop."""
    store = store or OskSettingsStore()
    settings, problem = store.load()
    controller = OskController(worker=worker, injector=injector, slots=settings.suggestion_slots,
                               personal=personal)
    keyboard = OnScreenKeyboard(controller=controller, settings=settings, store=store,
                                active_window=x11_active_window() if desktop else None,
                                window_class=x11_window_class() if desktop else None,
                                switch_keys=X11KeyGrab if desktop else None,
                                focus_window=x11_focus_window() if desktop else None,
                                dock=x11_dock() if desktop and _on_x11() else None,
                                input_listener=X11InputListener() if desktop else None)
    controller.setParent(keyboard)
    if problem:
        keyboard.problems.insert(0, problem)
        keyboard.show_status(problem)
    return keyboard


def _on_x11() -> bool:
    """Whether Qt draws on X11 (docking's window properties mean nothing elsewhere)."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() == "xcb"


def instance_name() -> str:
    """The one-keyboard-per-user claim's name, held by ``--osk`` and by the editor's
    keyboard while it is shown: two keyboards would open on top of each other (both
    keep their place in the same settings), one unseen."""
    from .. import paths

    return f"{paths.single_instance_name()}-osk"


class _KeyboardHost(QObject):
    """Keeps the main window's keyboard, and closes it when the main window goes."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.setObjectName("osk-host")
        self.window = window
        self.keyboard: OnScreenKeyboard | None = None
        self.claim: Any = None  # ``ui.app.SingleInstance`` while the keyboard is shown
        window.installEventFilter(self)

    def claim_keyboard(self) -> bool:
        """Hold the keyboard's claim; False when a keyboard of its own (``--osk``) runs,
        which was asked to come forward instead."""
        from ..ui.app import first_copy

        if self.claim is None:
            self.claim = first_copy(instance_name(), "the on-screen keyboard", self)
            if self.claim is None:
                return False
            self.claim.activated.connect(lambda: self.keyboard is not None and self.keyboard.bring_back())
        return True

    def release_claim(self) -> None:
        if self.claim is not None:
            self.claim.release()
            self.claim.deleteLater()
            self.claim = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.window and event.type() == QEvent.Type.Close:
            QTimer.singleShot(0, self._close_if_window_closed)  # the close may still be refused
        return False

    def _close_if_window_closed(self) -> None:
        if self.keyboard is not None and not self.window.isVisible():
            self.keyboard.close()


def toggle_for_window(window: Any, *, injector: Injector | None = None) -> OnScreenKeyboard | None:
    """The main window's menu entry: show the keyboard (sharing the window's engine), or hide it.
    A minimised keyboard is brought back, not closed (it is "visible" while minimised)."""
    host = window.findChild(_KeyboardHost, "osk-host") or _KeyboardHost(window)
    if host.keyboard is not None and host.keyboard.isVisible() and not host.keyboard.isMinimized():
        host.keyboard.close()
        return host.keyboard
    if host.keyboard is None:
        if injector is None:
            problem = injection_problem()
            try:
                injector = open_injector() if problem is None else None
            except InjectionError as e:
                problem = str(e)
            if injector is None:
                boxes.warning(window, "On-Screen Keyboard", problem or "")
                return None
        keyboard = make_keyboard(worker=window.worker, injector=injector, personal=window.personal)
        # What it learns is saved with the editor's counts (the window saves them, debounced).
        keyboard.controller.learned.connect(window.controller.learned)
        # Typed into the editor, a word reaches the editor's own learning: count it there only.
        keyboard.controller.target_learns = lambda: window.isActiveWindow() and window.controller.learning
        keyboard.closed.connect(host.release_claim)
        # The window saves its settings at each change in Preferences: follow them from there.
        EditorSettingsWatch(lambda: EditorChoices.of(window.settings),
                            lambda choices: follow_editor_look(keyboard, choices),
                            parent=keyboard, path=window.settings_store.path)
        host.keyboard = keyboard
    if not host.claim_keyboard():
        window.statusBar().showMessage("The on-screen keyboard is already open: here it is.", 5000)
        return None
    host.keyboard.bring_back()
    return host.keyboard


def _editor_choices() -> EditorChoices:
    """The choices in the editor's settings file, only read (the editor owns that file and
    deals with a damaged one): the defaults where they cannot be read, field by field."""
    from .. import paths
    from ..engine import jsonfile

    try:
        data = jsonfile.load(paths.settings_path(), max_bytes=1024 * 1024)
    except (OSError, jsonfile.JSONFileError):
        return EditorChoices()
    if not isinstance(data, dict):
        return EditorChoices()
    from ..settings import THEMES

    model = data.get("model")
    theme = data.get("theme")
    return EditorChoices(
        model=model if isinstance(model, str) and model.strip() else "default",
        learning=data.get("learning_enabled") is True and data.get("learning_paused") is not True,
        auto_capitalise=data.get("auto_capitalise") is not False,
        theme=theme if theme in THEMES else "system",
        high_contrast=data.get("high_contrast") is True,
        larger_buttons=data.get("large_strip_buttons") is True,
    )


def _editor_window_learns(keyboard: OnScreenKeyboard) -> Callable[[], bool]:
    """For ``--osk``: whether the active window is one of the app's (its X11 class is the
    keyboard's own) while the editor's learning is on, so the editor counts what it receives."""
    window_class = x11_window_class()
    if window_class is None or keyboard.focus_watcher is None:
        return lambda: False

    def learns() -> bool:
        target = keyboard.focus_watcher.current
        if not target or target == int(keyboard.winId()):
            return False
        own = window_class(int(keyboard.winId()))
        return own is not None and window_class(target) == own and _editor_choices().learning

    return learns


def run_osk(*, model: Path | None = None, quit_after: float | None = None) -> int:
    """``keyboard-app --osk``: the keyboard alone; the exit code."""
    problem = injection_problem()
    injector: Injector | None = None
    if problem is None:
        try:
            injector = open_injector()
        except InjectionError as e:
            problem = str(e)
    if injector is None:
        print(f"keyboard-app: {problem}", file=sys.stderr)
        return 1
    from .. import paths
    from ..learning import LearnedWordsSaver, PersonalModel
    from ..model_store import ModelStore, ModelStoreError
    from ..ui.app import create_application, first_copy, forget_source_lines, quit_on_signals
    from ..ui.appearance import apply_theme
    from ..ui.worker import PredictorWorker

    forget_source_lines()  # (before the model's loading thread starts)
    app = create_application()
    # One keyboard per user: a second would open exactly on top of the first, unseen.
    instance = first_copy(instance_name(), "the on-screen keyboard", app)
    if instance is None:
        print("keyboard-app: the on-screen keyboard is already running; it was brought to the front.",
              file=sys.stderr)
        return 0
    # From here Ctrl-C and SIGTERM wait for the event loop, and close the keyboard as its close
    # does: the borrowed keycodes given back, its place saved; then the learned words below,
    # and the signal's exit status.
    keyboard: OnScreenKeyboard | None = None
    signals = quit_on_signals(app, lambda signum, again: keyboard is None or keyboard.close() or True)
    editor = _editor_choices()
    apply_theme(editor.theme, high_contrast=editor.high_contrast)  # before the keyboard is drawn
    if model is None:
        store = ModelStore()
        try:
            model = store.path_for(editor.model)
        except ModelStoreError as e:
            log.warning("%s; using the built-in model", e)
            model = paths.default_model_path()
    personal_path = paths.learned_data_path()
    personal, personal_problem = PersonalModel.load(personal_path)
    worker = PredictorWorker(personal=personal)
    keyboard = make_keyboard(worker=worker, injector=injector, personal=personal)

    def follow_editor(choices: EditorChoices) -> None:
        # The learned words are used where the editor or the keyboard opted in to learning.
        worker.set_use_personal(choices.learning or keyboard.settings.learn_from_typing)
        apply_theme(choices.theme, high_contrast=choices.high_contrast)  # its menus and dialogs too
        follow_editor_look(keyboard, choices)

    watch = EditorSettingsWatch(_editor_choices, follow_editor, parent=keyboard)
    keyboard.settings_changed.connect(lambda s: follow_editor(watch.choices))
    if personal_problem:
        keyboard.show_status(personal_problem)

    # Saved on a thread of its own, as the editor saves them (``learning.LearnedWordsSaver``):
    # near the size the counts may reach, a save on this thread held up the keys.
    learned_saver = LearnedWordsSaver(personal, personal_path)

    def save_learned() -> None:  # the last save, after the one under way (if anything is unsaved)
        try:
            learned_saver.save_now()
        except OSError as e:
            log.warning("the learned words could not be saved to %s (%s).", personal_path, e.strerror or e)

    saver = QTimer(keyboard, singleShot=True, interval=3000)
    saver.timeout.connect(learned_saver.request)
    keyboard.controller.learned.connect(saver.start)
    keyboard.controller.target_learns = _editor_window_learns(keyboard)
    worker.model_loaded.connect(lambda loaded: keyboard.controller.refresh())

    def model_failed(message: str, key: str) -> None:  # the worker's sentence says it all
        keyboard.controller.model_failed()
        keyboard.show_status(message)

    worker.load_failed.connect(model_failed)
    worker.request_load(Path(model), "osk")
    keyboard.closed.connect(app.quit)
    instance.activated.connect(keyboard.bring_back)  # (it never takes the focus)
    keyboard.show()
    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), keyboard.close)
    code = app.exec()
    worker.stop()
    save_learned()
    learned_saver.close()
    instance.release()
    signals.close()
    return code
