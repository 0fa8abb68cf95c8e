"""Contract 2 as data (``keyboard_app.engine.contract``): the graph's signature per model
type, and the engine taking everything it checks from it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from engine_helpers import FakeGraph, make_vocab, write_placeholder_bundle
from keyboard_app.engine import contract
from keyboard_app.engine.bundle import ModelLoadError, load_bundle
from keyboard_app.engine.predictor import Predictor, RecencySettings
from keyboard_app.engine.session import RecurrentSession


def test_the_contract_imports_nothing_beyond_the_standard_library():
    """Both sides import it: the trainer (torch) and the app (never torch), the packaged
    program too, so it may not pull in numpy, onnxruntime, torch or Qt."""
    code = ("import sys, keyboard_app.engine.contract; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'numpy', 'onnxruntime', 'onnx', 'torch', 'PySide6'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "cell, inputs, outputs",
    [
        ("lstm", ["tokens", "h", "c"], ["log_probs", "h_out", "c_out"]),
        ("gru", ["tokens", "h"], ["log_probs", "h_out"]),
    ],
)
def test_each_model_types_graph_signature(cell, inputs, outputs):
    """The names docs/CONTRACTS.md gives, in the order the trainer exports them, with
    the state (layers, batch, hidden) and the dynamic dimensions named."""
    kind = contract.cell_type(cell)
    assert list(kind.inputs) == inputs and list(kind.outputs) == outputs
    shapes_in, shapes_out = kind.signature(vocab_size=50, num_layers=2, hidden_size=8)
    assert list(shapes_in) == inputs and list(shapes_out) == outputs
    assert shapes_in["tokens"] == ["batch", "time"] and shapes_out["log_probs"] == ["batch", 50]
    assert all(shapes_in[n] == [2, "batch", 8] for n in inputs[1:])
    assert all(shapes_out[n] == [2, "batch", 8] for n in outputs[1:])
    axes = contract.dynamic_axes({**shapes_in, **shapes_out})
    assert axes["tokens"] == {0: "batch", 1: "time"} and axes["log_probs"] == {0: "batch"}
    assert all(axes[n] == {1: "batch"} for n in inputs[1:] + outputs[1:])
    assert [contract.element_type(n) for n in inputs] == ["int64"] + ["float32"] * (len(inputs) - 1)


@pytest.mark.parametrize("name", ["transformer", "LSTM", ""])
def test_an_unknown_model_type_is_refused_naming_the_known_ones(name, tmp_path):
    with pytest.raises(ValueError, match=r"is not one of \('lstm', 'gru'\)"):
        contract.cell_type(name)
    bundle = write_placeholder_bundle(tmp_path / "bundle", make_vocab())
    manifest = (bundle / "manifest.json").read_text().replace('"cell": "lstm"', f'"cell": "{name}"')
    (bundle / "manifest.json").write_text(manifest)
    with pytest.raises(ModelLoadError, match=rf"manifest\.json: cell type '{name}' is not one of"):
        load_bundle(bundle)


def test_a_model_type_added_to_the_contract_is_loaded_by_the_engine_unchanged(monkeypatch, tmp_path):
    """One entry in the contract is all the engine needs for a new model type: the
    manifest's check, the graph's signature and the state fed back come from it."""
    vocab = make_vocab()
    mgu = contract.Cell("mgu", ("h",))
    with monkeypatch.context() as patch:  # write_bundle checks the bundle it writes
        patch.setitem(contract.CELL_TYPES, "mgu", mgu)
        bundle = write_placeholder_bundle(tmp_path / "mgu", vocab, cell="mgu", layers=1, hidden=4)
    with pytest.raises(ModelLoadError, match="cell type 'mgu' is not one of"):
        load_bundle(bundle)

    monkeypatch.setitem(contract.CELL_TYPES, "mgu", mgu)
    loaded = load_bundle(bundle)
    graph = FakeGraph(loaded.vocab, cell="mgu")  # inputs tokens, h; outputs log_probs, h_out
    session = RecurrentSession(graph, loaded)
    log_probs, state = session.run(np.array([[1, 7]], np.int64), session.zero_state())
    assert log_probs.shape == (1, len(vocab)) and len(state) == 1
    assert state[0][0, 0, :2].tolist() == [2, 7]  # the stand-in counts what it was fed
    predictor = Predictor(loaded, graph, recency=RecencySettings.off())
    assert [s.text for s in predictor.suggest("the ", 3)]

    # a graph with another signature than the new type's is refused, naming both
    wrong = FakeGraph(loaded.vocab, cell="lstm")
    with pytest.raises(ModelLoadError, match=r"the graph has inputs \['c', 'h', 'tokens'\]"):
        RecurrentSession(wrong, loaded)
