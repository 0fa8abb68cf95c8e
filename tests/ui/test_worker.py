"""The predictor worker: newest request wins, stale ones are dropped, errors arrive as signals."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from keyboard_app.engine.bundle import ModelLoadError
from keyboard_app.engine.tokenizer import TokenizerSettings
from keyboard_app.ui.worker import PredictorWorker


class SlowPredictor:
    """A stand-in with the Predictor's interface that takes its time and records calls."""

    def __init__(self, delay: float = 0.0) -> None:
        self.bundle = SimpleNamespace(tokenizer_settings=TokenizerSettings(), name="slow", vocab=set())
        self.delay = delay
        self.calls: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def suggest(self, text, k=3):
        self.gate.wait(5)
        self.calls.append(text)
        time.sleep(self.delay)
        if text == "boom":
            raise RuntimeError("the graph failed")
        return [SimpleNamespace(text=text[-3:] or "x", token=text[-3:], log_prob=-1.0, is_completion=False)]

    def reset(self):
        pass


@pytest.fixture
def worker(qtbot):
    made = []

    def make(predictor=None, loader=None):
        worker = PredictorWorker(loader=loader or (lambda path: predictor))
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()


def test_load_then_suggest(qtbot, worker, tmp_path):
    predictor = SlowPredictor()
    w = worker(predictor)
    with qtbot.waitSignal(w.model_loaded, timeout=5000) as loaded:
        w.request_load(tmp_path, "key")
    assert loaded.args[0].key == "key" and loaded.args[0].name == "slow"
    assert w.try_suggest("hello", 3)[0].text == "llo"


def test_newest_request_wins_and_stale_ones_are_dropped(qtbot, worker, tmp_path):
    predictor = SlowPredictor(delay=0.05)
    w = worker(predictor)
    with qtbot.waitSignal(w.model_loaded, timeout=5000):
        w.request_load(tmp_path, "key")
    predictor.calls.clear()
    predictor.gate.clear()  # hold the worker inside the first request
    results = []
    w.suggestions_ready.connect(lambda generation, text, s: results.append((generation, text)))
    w.request_suggest(1, "first")
    qtbot.waitUntil(lambda: w.is_busy())
    for generation in range(2, 7):
        w.request_suggest(generation, f"text {generation}")
    assert w.try_suggest("now", 3) is None  # busy: the UI thread never waits for it
    predictor.gate.set()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
    assert predictor.calls == ["first", "text 6"]  # 2..5 were replaced before they ran
    assert results == [(1, "first"), (6, "text 6")]


def test_errors_cross_as_signals(qtbot, worker, tmp_path):
    def refuse(path):
        raise ModelLoadError(f"{path}: the file is corrupt.")

    w = worker(loader=refuse)
    with qtbot.waitSignal(w.load_failed, timeout=5000) as failed:
        w.request_load(tmp_path, "bad")
    assert failed.args == [f"{tmp_path}: the file is corrupt.", "bad"]
    assert w.predictor is None

    w2 = worker(SlowPredictor())
    with qtbot.waitSignal(w2.model_loaded, timeout=5000):
        w2.request_load(tmp_path, "key")
    with qtbot.waitSignal(w2.suggest_failed, timeout=5000) as failed:
        w2.request_suggest(9, "boom")
    assert failed.args == [9, "the graph failed"]


def test_a_failed_load_keeps_the_previous_model(qtbot, worker, tmp_path):
    good = SlowPredictor()
    calls = []

    def loader(path):
        calls.append(path)
        if len(calls) > 1:
            raise ModelLoadError("broken")
        return good

    w = worker(loader=loader)
    with qtbot.waitSignal(w.model_loaded, timeout=5000):
        w.request_load(tmp_path, "good")
    with qtbot.waitSignal(w.load_failed, timeout=5000):
        w.request_load(tmp_path, "bad")
    assert w.predictor is good


class _SwapBeforeAcquire:
    """The worker's lock, with a model load (swap, then release) slipped in just before
    each acquire: the window between reading the predictor and taking the lock."""

    def __init__(self, worker, lock, new) -> None:
        self.worker, self.lock, self.new = worker, lock, new

    def acquire(self, blocking=True):
        with self.lock:
            self.worker._predictor = self.new  # as ``_load`` does; it then closes the old one
        return self.lock.acquire(blocking)

    def release(self):
        self.lock.release()

    def locked(self):
        return self.lock.locked()


def test_try_suggest_and_try_call_use_the_predictor_current_under_the_lock(qtbot, worker):
    w = worker()
    old, new = SlowPredictor(), SlowPredictor()
    w._predictor = old
    w._predictor_lock = _SwapBeforeAcquire(w, w._predictor_lock, new)
    assert w.try_suggest("hello", 3)[0].text == "llo"
    w._predictor = old
    assert w.try_call(lambda predictor: predictor) is new
    assert new.calls == ["hello"] and old.calls == []
