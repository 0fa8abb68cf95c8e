"""The one thread that owns the predictor: loads models, runs slow requests.

Ordinary keystrokes are served on the UI thread (``try_suggest``: a
sub-millisecond call, taken only if the predictor is free).  Anything that
may take longer -- loading a model, the first suggestion for a long
document, a big paste -- is handed to this thread.  As in the Qt
mandelbrot example, a new request replaces the one waiting (the newest
wins), results carry the request's generation so the controller can drop
stale ones, and errors cross back as signals carrying a message.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QThread, Signal

from ..learning import PersonalizedPredictor, PersonalModel

log = logging.getLogger(__name__)


def load_predictor(path: Path) -> Any:
    """The engine's loader (imported here, so the UI starts before the engine loads)."""
    from ..engine.predictor import Predictor

    return Predictor.load(path, threads=1)


@dataclass(frozen=True)
class LoadedModel:
    predictor: PersonalizedPredictor
    key: str
    path: Path
    name: str
    seconds: float


@dataclass
class _SuggestRequest:
    generation: int
    text: str
    k: int


@dataclass
class _LoadRequest:
    path: Path
    key: str


class PredictorWorker(QThread):
    model_loaded = Signal(object)  # LoadedModel
    load_failed = Signal(str, str)  # message, key
    suggestions_ready = Signal(int, str, list)  # generation, text, suggestions
    suggest_failed = Signal(int, str)  # generation, message
    busy_changed = Signal(bool)

    def __init__(
        self,
        *,
        personal: PersonalModel | None = None,
        loader: Callable[[Path], Any] = load_predictor,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("PredictorWorker")
        self._personal = personal
        self._loader = loader
        self._predictor: PersonalizedPredictor | None = None
        self._predictor_lock = threading.Lock()  # whoever runs the predictor holds it
        self._cond = threading.Condition()  # guards the pending requests below
        self._pending_load: _LoadRequest | None = None
        self._pending_suggest: _SuggestRequest | None = None
        self._abort = False
        self._use_personal = personal is not None
        self._typo_corrections = True  # the strip offers corrections of typing slips (Preferences)

    # --- called from the UI thread --------------------------------------
    @property
    def predictor(self) -> PersonalizedPredictor | None:
        return self._predictor

    def set_use_personal(self, enabled: bool) -> None:
        self._use_personal = enabled
        predictor = self._predictor
        if predictor is not None:
            predictor.use_personal = enabled

    def set_typo_corrections(self, enabled: bool) -> None:
        """Whether the strip offers corrections of typing slips (the engine's typo tolerance)."""
        self._typo_corrections = enabled
        predictor = self._predictor
        if predictor is not None:
            predictor.predictor.typo_tolerance = enabled

    def request_load(self, path: Path, key: str) -> None:
        with self._cond:
            self._pending_load = _LoadRequest(Path(path), key)
            self._cond.notify()
        self._ensure_running()

    def request_suggest(self, generation: int, text: str, k: int = 3) -> None:
        with self._cond:
            self._pending_suggest = _SuggestRequest(generation, text, k)
            self._cond.notify()
        self._ensure_running()

    def try_suggest(self, text: str, k: int = 3) -> list | None:
        """Suggestions now, on the caller's thread; None if the worker is busy or no model."""
        predictor = self._predictor
        if predictor is None or self._pending_load is not None:
            return None
        if not self._predictor_lock.acquire(blocking=False):
            return None
        try:
            return predictor.suggest(text, k)
        finally:
            self._predictor_lock.release()

    def try_call(self, fn: Callable[[PersonalizedPredictor], Any]) -> Any:
        """Run ``fn(predictor)`` on the caller's thread if the predictor is free, else None."""
        predictor = self._predictor
        if predictor is None or not self._predictor_lock.acquire(blocking=False):
            return None
        try:
            return fn(predictor)
        finally:
            self._predictor_lock.release()

    def is_busy(self) -> bool:
        return self._predictor_lock.locked() or self._pending_load is not None

    def stop(self) -> None:
        with self._cond:
            self._abort = True
            self._cond.notify()
        if self.isRunning():
            self.wait()

    def _ensure_running(self) -> None:
        if not self.isRunning() and not self._abort:
            self.start(QThread.Priority.LowPriority)

    # --- the thread -----------------------------------------------------
    def run(self) -> None:
        while True:
            with self._cond:
                while not (self._abort or self._pending_load or self._pending_suggest):
                    self._cond.wait()
                if self._abort:
                    return
                load, self._pending_load = self._pending_load, None
                suggest = self._pending_suggest
                if load is None:
                    self._pending_suggest = None
            self.busy_changed.emit(True)
            try:
                if load is not None:
                    self._load(load)
                else:
                    self._suggest(suggest)
            finally:
                self.busy_changed.emit(False)

    def _load(self, request: _LoadRequest) -> None:
        started = time.perf_counter()
        try:
            raw = self._loader(request.path)
            predictor = PersonalizedPredictor(raw, self._personal)
            predictor.use_personal = self._use_personal
            raw.typo_tolerance = self._typo_corrections
            # Warm it up: the first run of an onnxruntime session is the slow one.
            predictor.suggest("", 3)
            predictor.reset()
        except Exception as e:  # noqa: BLE001 - every failure is reported, the app runs on
            log.warning("loading %s failed: %s", request.path, e)
            self.load_failed.emit(_message(e), request.key)
            return
        with self._predictor_lock:
            old, self._predictor = self._predictor, predictor
        if old is not None:
            _close(old)
        name = str(getattr(raw.bundle, "name", request.path.name))
        self.model_loaded.emit(
            LoadedModel(predictor, request.key, request.path, name, time.perf_counter() - started)
        )

    def _suggest(self, request: _SuggestRequest) -> None:
        predictor = self._predictor
        if predictor is None:
            return
        try:
            with self._predictor_lock:
                result = predictor.suggest(request.text, request.k)
        except Exception as e:  # noqa: BLE001
            log.exception("suggest failed")
            self.suggest_failed.emit(request.generation, _message(e))
            return
        self.suggestions_ready.emit(request.generation, request.text, result)


def _message(error: BaseException) -> str:
    text = str(error).strip()
    return text or error.__class__.__name__


def _close(predictor: PersonalizedPredictor) -> None:
    bundle = getattr(predictor.predictor, "bundle", None)
    close = getattr(bundle, "close", None)
    if callable(close):
        try:
            close()
        except OSError:
            pass
