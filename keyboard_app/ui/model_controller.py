"""Which model is in use: switching, loading, importing and adopting, told by signals.

The window, the model manager and the retrain dialog all change or watch
the model in use.  They share this one object instead of each other: the
dialogs are given it (never the window), call ``load``, ``rename``,
``import_bundle`` or ``adopt``, and listen to its signals, as the window
does to keep its status bar and strip in step.  It holds no widget and
shows no box: what the user must read leaves as a signal (``error``,
``failed``) and the window decides how to show it.

Loading happens in the predictor worker, never on the UI thread; the
previous model stays in use until the new one is ready, and stays for good
if the new one fails (the built-in model is tried when there is no model
at all).  Imports and adoptions check and copy in a background task.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..engine.bundle import ModelLoadError
from ..model_store import DEFAULT_KEY, ModelStore, ModelStoreError
from ..predictors import check_loads
from .tasks import run_task
from .worker import LoadedModel, PredictorWorker

log = logging.getLogger(__name__)

LOADING = "Loading model…"
NO_MODEL = "No model"


def label_for(name: str) -> str:
    """The status bar's text for the model called ``name``."""
    return f"Model: {name}"


#: Said after an import's refusal of a file that is no model (a text file, as a newcomer tried).
TEXT_FILE_HINT = "To teach the app your own writing from a text file, use Models → Retrain on My Writing."


class ModelController(QObject):
    #: The status bar's model text and its tooltip (the model's path, when one is in use).
    label_changed = Signal(str, str)
    #: A model began loading: the name of its file or folder.
    loading = Signal(str)
    #: A model is loaded and in use (a LoadedModel).
    ready = Signal(object)
    #: The user chose a model and it is in use: the key to remember in the settings.
    chosen = Signal(str)
    #: Loading failed: the loader's message, and the sentence for the user (which model
    #: is still in use, or what happens next).
    failed = Signal(str, str)
    #: A check or copy (an import, an adoption) started (True) or ended (False).
    busy = Signal(bool)
    #: Something the user must read: a title and one sentence.
    error = Signal(str, str)
    #: A status-bar message and how long it stays (ms; 0 until replaced).
    status = Signal(str, int)

    def __init__(self, *, store: ModelStore, worker: PredictorWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.worker = worker
        self.current: LoadedModel | None = None
        self._loading_key: str | None = None
        self._persist = False
        self._tasks: list[Any] = []
        worker.model_loaded.connect(self._loaded)
        worker.load_failed.connect(self._load_failed)

    # --- state ----------------------------------------------------------------------
    def current_key(self) -> str | None:
        return self.current.key if self.current else None

    def is_loading(self) -> bool:
        return self._loading_key is not None

    # --- switching ------------------------------------------------------------------
    def start(self, model_path: Path | None, chosen_key: str) -> str | None:
        """Load the model to start with: ``model_path`` (``--model``, not remembered) or
        the one chosen last time.  A sentence for the user when that one is gone (the
        built-in model is loaded instead), else None."""
        if model_path is not None:
            self.load(self.store.key_for(model_path), persist=False)
            return None
        key, problem = chosen_key, None
        if key != DEFAULT_KEY and not self.store.exists(key):
            log.warning("the chosen model %s is gone; using the built-in one", key)
            problem = (f"The model you chose last time ({key}) is no longer there; "
                       "using the built-in model instead.")
            key = DEFAULT_KEY
        self.load(key, persist=False)
        return problem

    def load(self, key: str, *, persist: bool = True) -> None:
        """Switch to a model (loaded in the worker); on failure the current one stays.
        ``persist``: the user chose it, so ``chosen`` is emitted once it is in use."""
        try:
            path = self.store.path_for(key)
        except ModelStoreError as e:
            self.error.emit("Cannot use this model", str(e))
            return
        self._loading_key = key
        self._persist = persist
        self.label_changed.emit(LOADING, "")
        self.loading.emit(path.name)
        self.worker.request_load(path, key)

    def _stale(self, key: str) -> bool:
        """An earlier load's late news while a newer one is under way: it neither ends the
        loading nor becomes the user's choice."""
        return self._loading_key is not None and key != self._loading_key

    def _loaded(self, loaded: LoadedModel) -> None:
        if self._stale(loaded.key):
            # The worker runs it until the newer load replaces it (and closes it then), so it
            # is the one in use for now: a failure of the newer load keeps it, and says so.
            log.info("model %s loaded while %s is loading; not chosen", loaded.key, self._loading_key)
            self.current = loaded
            return
        self.current = loaded
        self._loading_key = None
        self.label_changed.emit(label_for(loaded.name), str(loaded.path))
        self.ready.emit(loaded)
        if self._persist:  # after: a failure to save it must not be covered by "ready"
            self.chosen.emit(loaded.key)

    def _load_failed(self, message: str, key: str) -> None:
        if self._stale(key):
            log.info("an earlier load of %s failed while %s is loading: %s", key, self._loading_key, message)
            return
        self._loading_key = None
        if self.current is not None:
            self.label_changed.emit(label_for(self.current.name), str(self.current.path))
            detail = f"{message}\n\nStill using “{self.current.name}”."
        else:
            self.label_changed.emit(NO_MODEL, "")
            detail = f"{message}\n\nChoose another model in Models ▸ Manage Models."
            if key != DEFAULT_KEY and self.store.exists(DEFAULT_KEY):
                detail = f"{message}\n\nUsing the built-in model instead."
                QTimer.singleShot(0, lambda: self.load(DEFAULT_KEY, persist=False))
        self.failed.emit(message, detail)

    # --- changing the store ------------------------------------------------------------
    def rename(self, key: str, name: str) -> None:
        """Rename a user model (``ModelStoreError``, one sentence, if it cannot be); the
        status bar follows when it is the model in use."""
        self.store.rename(key, name)
        if self.current is not None and key == self.current.key:
            # the loaded model keeps the name too: the retrain dialog's "current model" reads it
            self.current = dataclasses.replace(self.current, name=name.strip())
            self.label_changed.emit(label_for(self.current.name), str(self.current.path))

    def import_bundle(self, source: Path, *, use: bool = False,
                      done: Callable[[str | None], None] | None = None) -> None:
        """Validate and copy a bundle into the user's models (in a thread), then maybe use
        it; ``done(key)``, or ``done(None)`` after the failure's sentence (``error``)."""
        store = self.store
        self.status.emit(f"Checking {source.name}…", 0)

        def work() -> str:
            try:
                return store.import_bundle(source, validate=check_loads)
            except ModelLoadError as e:
                if source.is_file() and source.suffix.lower() != ".zip":
                    # a newcomer with a text of theirs looks for a way to teach it (H77)
                    raise ModelLoadError(f"{e} {TEXT_FILE_HINT}") from None
                raise

        self._run(work, "This model cannot be used", lambda key: f"Imported “{store.info(key).name}”.", use, done)

    def adopt(self, folder: Path, *, name: str, use: bool = False,
              done: Callable[[str | None], None] | None = None) -> None:
        """Check a finished bundle (a retrain's) and move it into the user's models (in a
        thread, ``ModelStore.adopt``), then maybe use it.  ``done(key)``, or ``done(None)``
        after the failure's sentence (``error``): the model in use is unchanged then."""
        store = self.store
        self.status.emit(f"Checking the new model “{name}”…", 0)
        self._run(lambda: store.adopt(folder, name=name, origin="trained", validate=check_loads),
                  "Cannot keep the model", lambda key: f"Kept “{store.info(key).name}”.", use, done)

    def _run(self, work: Callable[[], str], failure_title: str, success: Callable[[str], str],
             use: bool, done: Callable[[str | None], None] | None) -> None:
        self.busy.emit(True)

        def ok(key: str) -> None:
            self.busy.emit(False)
            self.status.emit(success(key), 5000)
            if done:
                done(key)
            if use:
                self.load(key)

        def failed(message: str) -> None:
            self.busy.emit(False)
            self.status.emit("", 0)
            self.error.emit(failure_title, message)
            if done:
                done(None)

        self._tasks.append(run_task(work, parent=self, on_success=ok, on_failure=failed))

    def shutdown(self) -> None:
        """Wait for the checks and copies under way (idempotent)."""
        for task in self._tasks:
            try:
                task.wait()
            except RuntimeError:  # already deleted
                pass
        self._tasks.clear()
