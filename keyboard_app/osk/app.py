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
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from .backend import InjectionError, Injector, injection_problem, open_injector
from .context import x11_active_window, x11_window_class
from .controller import OskController
from .settings import OskSettingsStore
from .switches import X11KeyGrab
from .window import OnScreenKeyboard

log = logging.getLogger(__name__)


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
                                switch_keys=X11KeyGrab if desktop else None)
    controller.setParent(keyboard)
    if problem:
        keyboard.problems.insert(0, problem)
        keyboard.show_status(problem)
    return keyboard


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
            self.claim.activated.connect(lambda: self.keyboard is not None and (self.keyboard.show(),
                                                                                self.keyboard.raise_()))
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
    """The main window's menu entry: show the keyboard (sharing the window's engine), or hide it."""
    host = window.findChild(_KeyboardHost, "osk-host") or _KeyboardHost(window)
    if host.keyboard is not None and host.keyboard.isVisible():
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
                QMessageBox.warning(window, "On-Screen Keyboard", problem or "")
                return None
        keyboard = make_keyboard(worker=window.worker, injector=injector, personal=window.personal)
        # What it learns is saved with the editor's counts (the window saves them, debounced).
        keyboard.controller.learned.connect(window.controller.learned)
        # Typed into the editor, a word reaches the editor's own learning: count it there only.
        keyboard.controller.target_learns = lambda: window.isActiveWindow() and window.controller.learning
        keyboard.closed.connect(host.release_claim)
        host.keyboard = keyboard
    if not host.claim_keyboard():
        window.statusBar().showMessage("The on-screen keyboard is already open: here it is.", 5000)
        return None
    host.keyboard.show()
    return host.keyboard


def _editor_choices() -> tuple[str, bool]:
    """The model and the learning switch chosen in the editor's settings, only read (the editor
    owns that file and deals with a damaged one): the defaults where they cannot be read."""
    from .. import paths
    from ..engine import jsonfile

    try:
        data = jsonfile.load(paths.settings_path(), max_bytes=1024 * 1024)
    except (OSError, jsonfile.JSONFileError):
        return "default", False
    if not isinstance(data, dict):
        return "default", False
    model = data.get("model")
    learning = data.get("learning_enabled") is True and data.get("learning_paused") is not True
    return (model if isinstance(model, str) and model.strip() else "default"), learning


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
        return own is not None and window_class(target) == own and _editor_choices()[1]

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
    from ..learning import PersonalModel
    from ..model_store import ModelStore, ModelStoreError
    from ..ui.app import create_application, first_copy, forget_source_lines
    from ..ui.worker import PredictorWorker

    forget_source_lines()  # (before the model's loading thread starts)
    app = create_application()
    # One keyboard per user: a second would open exactly on top of the first, unseen.
    instance = first_copy(instance_name(), "the on-screen keyboard", app)
    if instance is None:
        print("keyboard-app: the on-screen keyboard is already running; it was brought to the front.",
              file=sys.stderr)
        return 0
    model_key, learning = _editor_choices()
    if model is None:
        store = ModelStore()
        try:
            model = store.path_for(model_key)
        except ModelStoreError as e:
            log.warning("%s; using the built-in model", e)
            model = paths.default_model_path()
    personal_path = paths.learned_data_path()
    personal, personal_problem = PersonalModel.load(personal_path)
    worker = PredictorWorker(personal=personal)
    keyboard = make_keyboard(worker=worker, injector=injector, personal=personal)
    # The learned words are used where the editor or the keyboard opted in to learning.
    worker.set_use_personal(learning or keyboard.settings.learn_from_typing)
    keyboard.settings_changed.connect(lambda s: worker.set_use_personal(learning or s.learn_from_typing))
    if personal_problem:
        keyboard.show_status(personal_problem)

    def save_learned() -> None:
        try:
            personal.save(personal_path)
        except OSError as e:
            log.warning("saving %s failed: %s", personal_path, e)

    saver = QTimer(keyboard, singleShot=True, interval=3000)
    saver.timeout.connect(save_learned)
    keyboard.controller.learned.connect(saver.start)
    keyboard.controller.target_learns = _editor_window_learns(keyboard)
    worker.model_loaded.connect(lambda loaded: keyboard.controller.refresh())
    worker.load_failed.connect(lambda message, key: keyboard.show_status(f"No model: {message}"))
    worker.request_load(Path(model), "osk")
    keyboard.closed.connect(app.quit)
    instance.activated.connect(lambda: (keyboard.show(), keyboard.raise_()))  # (it never takes focus)
    keyboard.show()
    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), keyboard.close)
    code = app.exec()
    worker.stop()
    if saver.isActive():
        save_learned()
    instance.release()
    return code
