"""The model controller: switching, renaming and adopting models, told by signals that the
window (and the dialogs) follow instead of reaching into each other."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from PySide6.QtWidgets import QLabel

from keyboard_app.model_store import DEFAULT_KEY
from keyboard_app.ui.model_controller import ModelController
from keyboard_app.ui.worker import PredictorWorker


@pytest.fixture
def second_model(model_store, tiny_bundle):
    key = model_store.import_bundle(tiny_bundle)
    model_store.rename(key, "Second model")
    return key


@pytest.fixture
def controller(qtbot, model_store):
    """A controller with its own worker and no window at all."""
    worker = PredictorWorker()
    models = ModelController(store=model_store, worker=worker)
    yield models
    models.shutdown()
    worker.stop()


def test_switching_a_model_updates_a_label_through_the_signal_alone(qtbot, controller, second_model):
    label = QLabel()
    controller.label_changed.connect(lambda text, tooltip: label.setText(text))
    with qtbot.waitSignal(controller.ready, timeout=10_000) as ready:
        controller.load(DEFAULT_KEY)
    assert label.text() == "Model: Tiny test model" and ready.args[0].key == DEFAULT_KEY
    with qtbot.waitSignal(controller.chosen, timeout=10_000) as chosen:
        controller.load(second_model)
        assert label.text() == "Loading model…"
    assert chosen.args == [second_model]  # the user's choice, for the settings
    assert label.text() == "Model: Second model" and controller.current_key() == second_model
    controller.rename(second_model, "  Letters ")
    assert label.text() == "Model: Letters"


def test_the_windows_status_bar_follows_the_controller(qtbot, window, model_store, second_model):
    seen = []
    window.models.label_changed.connect(lambda text, tooltip: seen.append((text, tooltip)))
    with qtbot.waitSignal(window.model_ready, timeout=10_000):
        window.models.load(second_model)
    path = str(model_store.path_for(second_model))
    assert seen == [("Loading model…", ""), ("Model: Second model", path)]
    assert window.model_label.text() == "Model: Second model" and window.model_label.toolTip() == path
    window.models.rename(second_model, "Letters")  # what the model manager does
    assert window.model_label.text() == "Model: Letters"


def unusable_bundle(tiny_bundle, where):
    """A bundle whose checksums hold but whose graph is not a graph: only the engine,
    opening it, can tell (the validation ``adopt`` runs)."""
    bad = where / "run" / "bundle"
    shutil.copytree(tiny_bundle, bad)
    graph = bad / "model.onnx"
    graph.write_bytes(b"\x08\x07" + graph.read_bytes()[2:4000])
    manifest = json.loads((bad / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["model.onnx"] = hashlib.sha256(graph.read_bytes()).hexdigest()
    (bad / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return bad


def test_adopting_a_bundle_that_fails_validation_keeps_the_model_in_use_and_says_so_once(
        qtbot, window, boxes, model_store, tiny_bundle, tmp_path):
    bad = unusable_bundle(tiny_bundle, tmp_path)
    errors, results = [], []
    window.models.error.connect(lambda title, text: errors.append((title, text)))
    window.models.adopt(bad, name="My writing", use=True, done=results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=20_000)
    assert results == [None]
    [(title, text)] = errors
    assert title == "Cannot keep the model" and "model.onnx" in text and "\n" not in text
    assert boxes.kinds() == ["critical"] and boxes.texts() == [text]  # the window shows it, once
    assert window.current_key() == DEFAULT_KEY
    assert window.model_label.text() == "Model: Tiny test model"
    assert [m.key for m in model_store.list()] == [DEFAULT_KEY]  # nothing half-kept
    assert bad.is_dir()  # where it was: whoever made it removes it
    qtbot.keyClicks(window.editor, "The cat sat on the m")
    assert window.strip.words()[0] == "mat"  # still predicting with the model in use


def test_adopting_a_good_bundle_keeps_it_and_switches_to_it(qtbot, window, model_store, tiny_bundle, tmp_path):
    run = tmp_path / "run" / "bundle"
    shutil.copytree(tiny_bundle, run)
    results = []
    with qtbot.waitSignal(window.model_ready, timeout=20_000):
        window.models.adopt(run, name="My writing", use=True, done=results.append)
    [key] = results
    assert window.current_key() == key and model_store.info(key).origin == "trained"
    assert window.model_label.text() == "Model: My writing"
    assert not run.exists()


def test_an_earlier_loads_late_news_neither_ends_the_loading_nor_is_chosen(qtbot, controller, second_model):
    from keyboard_app.ui.worker import LoadedModel

    with qtbot.waitSignal(controller.ready, timeout=10_000):
        controller.load(DEFAULT_KEY)
    first = controller.current
    chosen, failed, labels = [], [], []
    controller.chosen.connect(chosen.append)
    controller.failed.connect(lambda message, detail: failed.append(message))
    controller.label_changed.connect(lambda text, tooltip: labels.append(text))
    controller.load(second_model)
    # before the worker answers: a late completion, then a late failure, of the earlier load
    controller._loaded(LoadedModel(first.predictor, DEFAULT_KEY, first.path, "Earlier", 0.1))
    controller._load_failed("the earlier one failed", DEFAULT_KEY)
    assert controller.is_loading() and chosen == [] and failed == [] and labels == ["Loading model…"]
    qtbot.waitUntil(lambda: chosen == [second_model], timeout=10_000)
    assert not controller.is_loading() and controller.current_key() == second_model
    assert labels == ["Loading model…", "Model: Second model"]
