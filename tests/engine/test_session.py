"""Opening a bundle's graph: the checks, the threading, and Contract 2's step parity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine_helpers import FakeGraph, make_vocab, write_placeholder_bundle
from keyboard_app.engine.bundle import ModelLoadError, load_bundle, write_bundle
from keyboard_app.engine.predictor import Predictor
from keyboard_app.engine.session import RecurrentSession


def _rewrite(bundle: Path, dest: Path, *, onnx_model=None, manifest_edit=None, extra: dict | None = None,
             location: str | None = None) -> Path:
    """A copy of ``bundle`` with another graph and/or manifest (checksums redone)."""
    onnx = pytest.importorskip("onnx")
    work = dest.parent / f".{dest.name}-work"
    work.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((bundle / "manifest.json").read_text())
    if manifest_edit:
        manifest_edit(manifest)
    graph = work / "model.onnx"
    if onnx_model is None:
        shutil.copyfile(bundle / "model.onnx", graph)
    elif location is None:
        onnx.save_model(onnx_model, graph)
    else:
        onnx.save_model(onnx_model, graph, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=location, size_threshold=0)
    files = {"model.onnx": graph, "vocab.json": bundle / "vocab.json", **(extra or {})}
    return write_bundle(dest, manifest, files)


def test_session_is_set_up_for_a_desktop(random_bundle):
    predictor = Predictor.load(random_bundle, threads=2)
    options = predictor.session._session.get_session_options()
    assert options.intra_op_num_threads == 2
    assert options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


@pytest.mark.parametrize("fixture", ["random_bundle", "random_gru_bundle"])
def test_step_by_step_equals_one_run(request, fixture):
    bundle = load_bundle(request.getfixturevalue(fixture))
    session = RecurrentSession.open(bundle)
    ids = np.array([[1, 7, 12, 5, 30, 9, 9, 41, 6, 2, 18]], np.int64)
    full, full_state = session.run(ids, session.zero_state())
    state = session.zero_state()
    for t in range(ids.shape[1]):
        stepped, state = session.run(ids[:, t : t + 1], state)
    np.testing.assert_array_equal(stepped, full)
    for a, b in zip(state, full_state):
        np.testing.assert_array_equal(a, b)
    assert np.isclose(np.exp(full).sum(), 1.0, atol=1e-4)


def test_missing_bundle_names_the_path(tmp_path):
    with pytest.raises(ModelLoadError, match="nowhere"):
        Predictor.load(tmp_path / "nowhere")


def test_corrupt_graph_is_refused_naming_the_file(tmp_path):
    bundle = write_placeholder_bundle(tmp_path / "bundle", make_vocab(), onnx_bytes=b"\x08\x07garbage!")
    with pytest.raises(ModelLoadError) as info:
        Predictor.load(bundle)
    message = str(info.value)
    assert "model.onnx" in message and message.count("\n") == 0 and message.endswith(".")


def test_file_changed_after_writing_is_refused(random_bundle, tmp_path):
    copy = Path(shutil.copytree(random_bundle, tmp_path / "bundle"))
    with open(copy / "model.onnx", "r+b") as f:
        f.seek(200)
        f.write(b"\xff\xff")
    with pytest.raises(ModelLoadError, match="model.onnx.*corrupt"):
        Predictor.load(copy)


def test_graph_whose_inputs_differ_from_the_manifest_is_refused(random_bundle, tmp_path):
    onnx = pytest.importorskip("onnx")
    model = onnx.load(random_bundle / "model.onnx")
    for node in model.graph.node:
        node.input[:] = ["hidden" if name == "h" else name for name in node.input]
    for value in model.graph.input:
        if value.name == "h":
            value.name = "hidden"
    bundle = _rewrite(random_bundle, tmp_path / "renamed", onnx_model=model)
    with pytest.raises(ModelLoadError, match=r"model\.onnx: the graph has inputs \['c', 'hidden', 'tokens'\]"):
        Predictor.load(bundle)


def test_manifest_sizes_that_do_not_fit_the_graph_are_refused(random_bundle, tmp_path):
    def wrong_hidden(manifest):
        manifest["model"]["hidden_size"] = 64
        for group in ("inputs", "outputs"):
            for name, shape in manifest["onnx"][group].items():
                if len(shape) == 3:
                    shape[2] = 64

    bundle = _rewrite(random_bundle, tmp_path / "wrong", manifest_edit=wrong_hidden)
    with pytest.raises(ModelLoadError, match=r"model\.onnx: 'h' has shape \[2, 'batch', 32\]"):
        Predictor.load(bundle)


def test_manifest_of_the_other_cell_is_refused(random_bundle, tmp_path):
    def gru(manifest):
        manifest["model"]["cell"] = "gru"

    bundle = _rewrite(random_bundle, tmp_path / "gru", manifest_edit=gru)
    with pytest.raises(ModelLoadError, match=r"manifest\.json: the manifest declares inputs"):
        Predictor.load(bundle)


def test_external_data_inside_the_bundle_is_accepted(random_bundle, tmp_path):
    onnx = pytest.importorskip("onnx")
    model = onnx.load(random_bundle / "model.onnx")
    work = tmp_path / "w"
    work.mkdir()
    onnx.save_model(model, work / "model.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    bundle = _rewrite(random_bundle, tmp_path / "external", onnx_model=model, location="weights.bin",
                      extra={"weights.bin": work / "weights.bin"})
    assert (bundle / "weights.bin").stat().st_size > 1000
    text = "we met in London on "
    assert Predictor.load(bundle).suggest(text, 5) == Predictor.load(random_bundle).suggest(text, 5)


@pytest.mark.parametrize("location", ["../outside.bin", "/tmp/outside.bin", "sub/weights.bin", "unlisted.bin"])
def test_external_data_outside_the_bundle_is_refused(random_bundle, tmp_path, location):
    onnx = pytest.importorskip("onnx")
    model = onnx.load(random_bundle / "model.onnx")
    bundle = tmp_path / "bundle"
    work = tmp_path / "w"
    work.mkdir()
    # The data really is where the graph says, so only the engine's check stands in the way.
    onnx.save_model(model, work / "model.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                    location="data.bin", size_threshold=0)
    for external in model.graph.initializer:
        for entry in external.external_data:
            if entry.key == "location":
                entry.value = location
    manifest = json.loads((random_bundle / "manifest.json").read_text())
    onnx.save_model(model, work / "model.onnx")  # keeps the external references as edited
    write_bundle(bundle, manifest, {"model.onnx": work / "model.onnx", "vocab.json": random_bundle / "vocab.json"})
    target = Path(location) if location.startswith("/") else bundle / location
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(work / "data.bin", target)
    try:
        with pytest.raises(ModelLoadError, match=rf"model\.onnx: tensor '.+' keeps its data in '{location}'"):
            Predictor.load(bundle)
    finally:
        if location.startswith("/"):
            target.unlink()


def test_a_session_made_elsewhere_is_accepted_and_checked(random_bundle):
    import onnxruntime as ort

    bundle = load_bundle(random_bundle)
    made = ort.InferenceSession(str(bundle.onnx_path), providers=["CPUExecutionProvider"])
    assert Predictor(bundle, made).suggest("the cat ") == Predictor(bundle).suggest("the cat ")


def test_stand_in_with_the_wrong_state_size_is_refused(word_bundle):
    bundle = load_bundle(word_bundle)
    with pytest.raises(ModelLoadError, match=r"'h' has shape \[1, 'batch', 8\]"):
        Predictor(bundle, FakeGraph(bundle.vocab, hidden=8))


def test_stand_in_without_log_softmax_is_refused(word_bundle):
    bundle = load_bundle(word_bundle)
    graph = FakeGraph(bundle.vocab)
    real_run = graph.run
    graph.run = lambda names, feeds: [x * 0 + 1 if i == 0 else x for i, x in enumerate(real_run(names, feeds))]
    with pytest.raises(ModelLoadError, match="log_softmax"):
        Predictor(bundle, graph)


def test_zip_bundle_predicts_like_its_folder(random_bundle, tmp_path):
    from keyboard_app.engine.bundle import zip_bundle

    archive = zip_bundle(random_bundle, tmp_path / "model.zip")
    assert Predictor.load(archive).suggest("the ") == Predictor.load(random_bundle).suggest("the ")


def test_errors_inside_a_zip_name_the_zip(tmp_path):
    from keyboard_app.engine.bundle import zip_bundle

    folder = write_placeholder_bundle(tmp_path / "bundle", make_vocab(), onnx_bytes=b"not a graph")
    archive = zip_bundle(folder, tmp_path / "model.zip")
    with pytest.raises(ModelLoadError, match=r"model\.zip/model\.onnx: "):
        Predictor.load(archive)
