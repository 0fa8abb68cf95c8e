"""On-screen keyboard tests: offscreen Qt (the X11 test starts its own display and
processes), temporary user folders (the root conftest), Qt warnings fail a test,
and the helpers they share: a fake clock, a worker over the tiny model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from qt_helpers import fail_on_qt_warnings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_collection_modifyitems(config, items):
    fail_on_qt_warnings(Path(__file__).parent, items)


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def worker(qtbot, tiny_bundle):
    """The app's predictor worker with the tiny model loaded (as the editor has it)."""
    from keyboard_app.ui.worker import PredictorWorker

    worker = PredictorWorker()
    with qtbot.waitSignal(worker.model_loaded, timeout=20_000):
        worker.request_load(tiny_bundle, "tiny")
    yield worker
    worker.stop()


@pytest.fixture
def make_keyboard(qtbot, worker, clock, tmp_path):
    """``make_keyboard(active_window=None, window_class=None, focus_window=None, **settings)
    -> (keyboard, injector)``: the real widget over the tiny model, typing into a
    ``RecordingInjector``, timed by the fake clock; ``active_window``, ``window_class`` and
    ``focus_window`` stand for the X11 desktop's."""
    from keyboard_app.osk.backend import RecordingInjector
    from keyboard_app.osk.controller import OskController
    from keyboard_app.osk.settings import OskSettings, OskSettingsStore
    from keyboard_app.osk.window import OnScreenKeyboard

    def make(active_window=None, window_class=None, focus_window=None, **settings):
        injector = RecordingInjector()
        options = OskSettings().with_(**settings)
        controller = OskController(worker=worker, injector=injector, slots=options.suggestion_slots)
        keyboard = OnScreenKeyboard(controller=controller, settings=options,
                                    store=OskSettingsStore(tmp_path / "osk.json"), clock=clock,
                                    active_window=active_window, window_class=window_class,
                                    focus_window=focus_window)
        qtbot.addWidget(keyboard)
        keyboard.show()
        qtbot.waitExposed(keyboard)
        return keyboard, injector

    return make

