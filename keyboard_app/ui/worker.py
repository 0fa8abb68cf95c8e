"""The one thread that owns the predictor: loads models, runs slow requests.

Ordinary keystrokes are served on the UI thread (``try_suggest``: a
sub-millisecond call, taken only if the predictor is free).  Anything that
may take longer -- loading a model, the first suggestion for a long
document, a big paste -- is handed to this thread.  As in the Qt
mandelbrot example, a new request replaces the one waiting (the newest
wins), results carry the request's generation so the controller can drop
stale ones, and errors cross back as signals carrying a message.

A phrase suggestion (the next few words, ``request_phrase``) is computed here
too, after the words of the same keystroke are shown and after any other
request: it never delays them, and anything newer stops it.

Once a model is loaded and nothing has been asked of the thread for
``PREPARE_WHEN_IDLE_S``, it builds the typo channel's index (``engine.typos``)
without the predictor's lock, so the user's first word of three letters does
not wait for it on the UI thread (benchmarks/first_word.py).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QThread, Signal

from ..learning import PersonalLayer, PersonalModel
from ..predictors import close_predictor, load_predictor
from ..settings import DEFAULT_SUGGESTIONS

log = logging.getLogger(__name__)

PREPARE_WHEN_IDLE_S = 0.2  # after a load, the thread idle this long builds the typo index


@dataclass(frozen=True)
class LoadedModel:
    predictor: Any  # the engine's Predictor, the personal layer plugged in
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
class _PhraseRequest:
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
    phrase_ready = Signal(int, str, object)  # generation, text, the phrase (a Suggestion)
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
        #: the user's counts, plugged into every model loaded (a component of the engine's mixture)
        self.personal_layer = PersonalLayer(personal) if personal is not None else None
        self._loader = loader
        self._predictor: Any = None
        self._predictor_lock = threading.Lock()  # whoever runs the predictor holds it
        self._cond = threading.Condition()  # guards the pending requests below
        self._pending_load: _LoadRequest | None = None
        self._pending_suggest: _SuggestRequest | None = None
        self._pending_phrase: _PhraseRequest | None = None
        self._pending_prepare: Any = None  # a predictor just loaded whose typo index is to be built
        self._phrases_from = 0  # phrases asked for before this generation are no longer wanted
        self._abort = False
        self._typo_corrections = True  # the strip offers corrections of typing slips (Preferences)
        self._auto_correct = False  # a space replaces a mistyped word (Preferences)

    # --- called from the UI thread --------------------------------------
    @property
    def predictor(self) -> Any:
        return self._predictor

    def set_use_personal(self, enabled: bool) -> None:
        if self.personal_layer is not None:
            self.personal_layer.enabled = enabled

    def set_typo_corrections(self, enabled: bool) -> None:
        """Whether the strip offers corrections of typing slips (the engine's typo tolerance)."""
        self._typo_corrections = enabled
        predictor = self._predictor
        if predictor is not None:
            predictor.typo_tolerance = enabled

    def set_auto_correct(self, enabled: bool) -> None:
        """Whether a space replaces a mistyped word (the engine's ``auto_correct``)."""
        self._auto_correct = enabled
        predictor = self._predictor
        if predictor is not None:
            predictor.auto_correct = enabled

    def request_load(self, path: Path, key: str) -> None:
        with self._cond:
            self._pending_load = _LoadRequest(Path(path), key)
            self._cond.notify()
        self._ensure_running()

    def request_suggest(self, generation: int, text: str, k: int = DEFAULT_SUGGESTIONS) -> None:
        with self._cond:
            self._pending_suggest = _SuggestRequest(generation, text, k)
            self._cond.notify()
        self._ensure_running()

    def request_phrase(self, generation: int, text: str, k: int = DEFAULT_SUGGESTIONS) -> None:
        """Ask for the phrase to offer at a word start, after the words are shown: it comes
        back as ``phrase_ready`` when there is one, within the engine's time budget, and
        is dropped when any newer request comes first."""
        with self._cond:
            self._pending_phrase = _PhraseRequest(generation, text, k)
            self._cond.notify()
        self._ensure_running()

    def drop_phrases(self, generation: int) -> None:
        """The text has changed (request ``generation`` is the newest): a phrase asked for
        before it is not computed, or stops between two steps of its beam."""
        self._phrases_from = generation

    def try_suggest(self, text: str, k: int = DEFAULT_SUGGESTIONS) -> list | None:
        """Suggestions now, on the caller's thread; None if the worker is busy or no model."""
        if self._predictor is None or self._pending_load is not None:
            return None
        if not self._predictor_lock.acquire(blocking=False):
            return None
        try:
            # read under the lock: a load may have swapped (and closed) the one seen before it
            predictor = self._predictor
            return None if predictor is None else predictor.suggest(text, k)
        finally:
            self._predictor_lock.release()

    def try_call(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(predictor)`` on the caller's thread if the predictor is free, else None."""
        if self._predictor is None or not self._predictor_lock.acquire(blocking=False):
            return None
        try:
            predictor = self._predictor  # under the lock, as in ``try_suggest``
            return None if predictor is None else fn(predictor)
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
            prepare, idle = None, False
            with self._cond:
                while not (self._abort or self._pending_load or self._pending_suggest or self._pending_phrase):
                    if idle and self._pending_prepare is not None:  # nothing asked for a while
                        prepare, self._pending_prepare = self._pending_prepare, None
                        break
                    idle = not self._cond.wait(None if self._pending_prepare is None else PREPARE_WHEN_IDLE_S)
                if self._abort:
                    return
                load, self._pending_load = self._pending_load, None
                suggest = self._pending_suggest
                if load is None:
                    self._pending_suggest = None
                phrase = None
                if load is None and suggest is None:  # a phrase waits for everything else
                    phrase, self._pending_phrase = self._pending_phrase, None
            if prepare is not None:
                self._prepare(prepare)
                continue
            if phrase is not None:
                self._phrase(phrase)
                continue
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
            predictor = self._loader(request.path)
            if self.personal_layer is not None:
                predictor.add_component(self.personal_layer)
            predictor.typo_tolerance = self._typo_corrections
            predictor.auto_correct = self._auto_correct
            # Warm it up: the first run of an onnxruntime session is the slow one.
            predictor.suggest("", DEFAULT_SUGGESTIONS)
            predictor.reset()
        except Exception as e:  # noqa: BLE001 - every failure is reported, the app runs on
            self.load_failed.emit(_load_failure(request.path, e), request.key)
            return
        if self.personal_layer is not None:  # how the model writes the words it knows ("I")
            self.personal_layer.model.known_form = _known_forms(predictor)
        with self._predictor_lock:
            old, self._predictor = self._predictor, predictor
        if old is not None:
            close_predictor(old)
        with self._cond:
            self._pending_prepare = predictor
        name = str(getattr(predictor.bundle, "name", request.path.name))
        self.model_loaded.emit(
            LoadedModel(predictor, request.key, request.path, name, time.perf_counter() - started)
        )

    def _prepare(self, predictor: Any) -> None:
        """Build the typo channel's index while nothing else is asked (module docstring):
        the channel is made under the predictor's lock (it costs nothing), its index
        outside it, so a keystroke meanwhile is served on the UI thread."""
        if predictor is not self._predictor or not (predictor.typo_tolerance or predictor.auto_correct):
            return  # a newer model, or no corrections (they build it at their first use)
        with self._predictor_lock:
            channel = getattr(predictor, "typos", None)
        prepare = getattr(channel, "prepare", None)
        if prepare is not None:
            try:
                prepare()
            except Exception:  # noqa: BLE001 - a keystroke's first use builds it and says why
                log.exception("building the typo index failed")
                return
            # The index's lists of words are young objects: the next collection of the young
            # generations walks every word in them (cache misses, tens of milliseconds), and a
            # keystroke's allocations would trigger it.  Walked here, they are old ones.
            gc.collect(1)

    def _phrase(self, request: _PhraseRequest) -> None:
        """The phrase, off the UI thread and without the worker's lock: the engine runs its
        beam outside its own lock, so a keystroke's suggestions on the UI thread are not
        held up; a newer request of any kind stops it between two steps."""
        predictor = self._predictor
        phrase = getattr(predictor, "phrase", None)
        if phrase is None:
            return

        def newer() -> bool:
            return (self._abort or request.generation < self._phrases_from or self._pending_load is not None
                    or self._pending_suggest is not None or self._pending_phrase is not None)

        if newer():
            return

        try:
            found = phrase(request.text, request.k, stop=newer)
        except Exception:  # noqa: BLE001 - a phrase is a bonus: its failure must not disturb typing
            log.exception("phrase failed")
            return
        if found is not None and not newer():
            self.phrase_ready.emit(request.generation, request.text, found)

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


def _known_forms(predictor: Any) -> Callable[[str], str | None] | None:
    """How ``predictor``'s model writes a token (its vocabulary's or lexicon's display
    form), for ``PersonalModel.known_form``; None for a predictor without them."""
    from ..capitals import model_form

    if getattr(getattr(predictor, "bundle", None), "vocab", None) is None:
        return None
    return lambda token: model_form(predictor, token)


def _load_failure(path: Path, error: Exception) -> str:
    """The one sentence a failed load shows the user; what went wrong goes to the log.

    A bundle the engine refuses says why itself (``ModelLoadError``: one sentence naming
    the file); a file the system will not read and a lack of memory are told in words.
    Anything else is a fault of the app's, not of the model or the computer: its Python
    text ("'Rules' object has no attribute ...") means nothing to the user, so it is
    logged with its traceback and the sentence says where to find it."""
    from ..engine.bundle import ModelLoadError

    if isinstance(error, ModelLoadError):
        log.warning("loading %s failed: %s", path, error)
        return _message(error)
    if isinstance(error, OSError):
        log.warning("loading %s failed: %s", path, error)
        why = f" ({error.strerror})" if error.strerror else ""
        return f"The model in {path} could not be loaded: {error.filename or path} cannot be read{why}."
    if isinstance(error, MemoryError):
        log.warning("loading %s failed: out of memory", path)
        return f"The model in {path} could not be loaded: there is not enough free memory."
    log.error("loading %s failed with an unexpected error", path, exc_info=error)
    return (f"The model in {path} could not be loaded because of an error in the app itself; "
            "starting the app from a terminal shows the details.")


def _message(error: BaseException) -> str:
    text = str(error).strip()
    return text or error.__class__.__name__

