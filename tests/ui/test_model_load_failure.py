"""A model that cannot be loaded is told in one sentence, never as Python's own text.

A bundle the engine refuses says why (``ModelLoadError``, one sentence naming the
file, passed on as it is: tests/ui/test_worker.py).  Any other error is a fault of
the app's: the user reads that the model could not be loaded and where the details
are, and the log gets the exception with its traceback."""

from __future__ import annotations

import errno
import logging

import pytest

from keyboard_app.ui.worker import PredictorWorker

RAW = "'Rules' object has no attribute 'lowered'"  # what H40 saw on the keyboard


def fails_with(error: BaseException):
    def load(path):
        raise error

    return load


@pytest.fixture
def failing_worker(qtbot):
    made = []

    def make(error: BaseException) -> PredictorWorker:
        worker = PredictorWorker(loader=fails_with(error))
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()


def failure_of(qtbot, worker, path) -> str:
    with qtbot.waitSignal(worker.load_failed, timeout=5000) as failed:
        worker.request_load(path, "key")
    message, key = failed.args
    assert key == "key" and worker.predictor is None
    return message


def test_an_unexpected_error_is_one_sentence_and_its_details_go_to_the_log(qtbot, failing_worker, tmp_path,
                                                                          caplog):
    worker = failing_worker(AttributeError(RAW))
    with caplog.at_level(logging.WARNING, logger="keyboard_app.ui.worker"):
        message = failure_of(qtbot, worker, tmp_path / "default")
    assert message == (f"The model in {tmp_path / 'default'} could not be loaded because of an error in "
                       "the app itself; starting the app from a terminal shows the details.")
    assert "Rules" not in message and "AttributeError" not in message
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1 and logged[0].exc_info[0] is AttributeError  # the traceback, for whoever reads it


def test_an_unreadable_file_and_a_lack_of_memory_are_told_in_words(qtbot, failing_worker, tmp_path):
    model = tmp_path / "mine"
    unreadable = PermissionError(errno.EACCES, "Permission denied", str(model / "model.onnx"))
    message = failure_of(qtbot, failing_worker(unreadable), model)
    assert message == (f"The model in {model} could not be loaded: {model / 'model.onnx'} "
                       "cannot be read (Permission denied).")
    message = failure_of(qtbot, failing_worker(MemoryError()), model)
    assert message == f"The model in {model} could not be loaded: there is not enough free memory."


def test_the_window_shows_the_sentence_not_the_exception(qtbot, make_window, boxes):
    window = make_window(wait=False, loader=fails_with(AttributeError(RAW)))
    qtbot.waitUntil(lambda: "critical" in boxes.kinds(), timeout=10_000)
    (title, text), = [(t, x) for k, t, x in boxes.shown if k == "critical"]
    assert title == "The model could not be loaded"
    assert text.startswith("The model in ") and "error in the app itself" in text
    assert RAW not in text and "Rules" not in text
    assert window.model_label.text() == "No model"  # not "Loading model…" beside the failure
