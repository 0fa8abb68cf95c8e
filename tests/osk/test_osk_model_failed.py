"""A model that fails to load: the keyboard says the worker's one sentence and stops saying
"Loading model…" beside it (H40 finding 9)."""

from __future__ import annotations

from keyboard_app.osk.backend import RecordingInjector
from keyboard_app.osk.controller import OskController
from keyboard_app.ui.worker import PredictorWorker


def test_after_a_failed_load_the_keyboard_no_longer_says_it_is_loading(qtbot):
    worker = PredictorWorker()  # no model loaded: its predictor is None
    try:
        controller = OskController(worker=worker, injector=RecordingInjector(), slots=3)
        said: list[str] = []
        controller.status_changed.connect(said.append)
        controller.refresh()
        assert said == ["Loading model…"]
        controller.model_failed()
        assert said[-1] == ""
        controller.refresh()
        qtbot.wait(400)  # longer than the retry's 250 ms: nothing asks again
        assert said == ["Loading model…", ""]
    finally:
        worker.stop()
