"""What the predictor worker does once a model is loaded: it builds the typo channel's
index while nothing is asked of it (so the user's first word does not wait for it), and
tells the learned words how the model writes the words it knows ("I")."""

from __future__ import annotations

import pytest

from keyboard_app.engine.predictor import Predictor
from keyboard_app.learning import PersonalModel
from keyboard_app.paths import default_model_path
from keyboard_app.ui.worker import PredictorWorker


@pytest.fixture
def loaded(qtbot):
    made = []

    def load(*, typo_corrections: bool = True, personal: PersonalModel | None = None):
        worker = PredictorWorker(personal=personal, loader=lambda path: Predictor.load(path))
        made.append(worker)
        worker.set_typo_corrections(typo_corrections)
        with qtbot.waitSignal(worker.model_loaded, timeout=20_000) as signal:
            worker.request_load(default_model_path(), "default")
        return worker, signal.args[0].predictor

    yield load
    for worker in made:
        worker.stop()


def test_the_typo_index_is_built_after_the_load_without_a_keystroke(qtbot, loaded):
    worker, predictor = loaded()
    qtbot.waitUntil(lambda: predictor._typos is not None and predictor._typos.ready, timeout=10_000)
    # and the first word's third letter finds it built: a correction, no build
    assert predictor.typos.ready
    assert "the" in [s.text for s in worker.try_suggest("Look at teh", 3)]


def test_without_corrections_nothing_is_built(qtbot, loaded):
    worker, predictor = loaded(typo_corrections=False)
    qtbot.wait(600)  # well past the idle time after which it would build
    assert predictor._typos is None


def test_a_request_comes_before_the_build(qtbot, loaded):
    worker, predictor = loaded()
    with qtbot.waitSignal(worker.suggestions_ready, timeout=10_000) as answered:
        worker.request_suggest(1, "The quick brown ", 3)
    assert answered.args[2]
    qtbot.waitUntil(lambda: predictor._typos is not None and predictor._typos.ready, timeout=10_000)


def test_the_learned_words_are_shown_as_the_loaded_model_writes_them(qtbot, loaded):
    personal = PersonalModel()
    personal.observe("<s>", "I", initial=True)  # "I" only ever at a sentence start
    personal.observe(".", "London", initial=True)
    personal.observe("in", "london")  # the user writes it in lowercase: shown so
    personal.observe("<s>", "Zorbulon", initial=True)  # unknown to the model
    assert personal.display("i") == "i"  # no model yet: nothing says otherwise
    loaded(personal=personal)
    assert personal.display("i") == "I"
    assert personal.display("zorbulon") == "zorbulon"
    personal.observe("and", "london")
    assert personal.display("london") == "london"
    assert [c.display for c in personal.candidates("and", "i")] == ["I"]
