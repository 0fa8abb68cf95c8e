"""The model's recurrence, the ONNX export's parity with PyTorch, and reading weights back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from keyboard_app.engine import contract
from keyboard_app.engine.contract import cell_type
from model_training.config import ModelConfig
from model_training.export import (
    PARITY_ATOL,
    ExportError,
    check_parity,
    export_onnx,
    onnx_manifest,
    ort_session,
    run_ort,
)
from model_training.init_from import weights_from_onnx
from model_training.model import NextWordGraph, RNNLM

# Step-by-step vs one run in PyTorch: the same float32 kernels, so only
# summation order differs.
TORCH_STEP_ATOL = 1e-5

CONFIGS = {
    "lstm-tied-projected": ModelConfig(vocab_size=50, embedding_dim=8, hidden_size=12, num_layers=2),
    "gru-untied": ModelConfig(vocab_size=50, embedding_dim=8, hidden_size=12, num_layers=1,
                              cell="gru", tied=False),
    "lstm-untied-bottleneck": ModelConfig(vocab_size=50, embedding_dim=10, hidden_size=12,
                                          num_layers=2, tied=False, projection=6),
    "lstm-tied-square": ModelConfig(vocab_size=50, embedding_dim=12, hidden_size=12, num_layers=1),
}


def make_model(config: ModelConfig, seed: int = 0) -> RNNLM:
    torch.manual_seed(seed)
    model = RNNLM(config).eval()
    with torch.no_grad():  # exercise every weight, biases included
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def random_inputs(config: ModelConfig, batch: int = 3, time: int = 7, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, config.vocab_size, (batch, time), generator=gen)
    n = 2 if config.cell == "lstm" else 1
    state = tuple(torch.randn(config.num_layers, batch, config.hidden_size, generator=gen) for _ in range(n))
    return tokens, state


@pytest.mark.parametrize("name", CONFIGS)
def test_torch_state_fed_step_by_step_equals_one_run(name):
    config = CONFIGS[name]
    graph = NextWordGraph(make_model(config)).eval()
    tokens, state = random_inputs(config)
    with torch.no_grad():
        full = graph(tokens, *state)
        step_state = state
        for t in range(tokens.shape[1]):
            out = graph(tokens[:, t : t + 1], *step_state)
            step_state = out[1:]
    assert len(out) == len(full) == 1 + len(state)
    for a, b in zip(out, full):
        torch.testing.assert_close(a, b, atol=TORCH_STEP_ATOL, rtol=0)
    # the log-probabilities are normalised
    torch.testing.assert_close(full[0].exp().sum(-1), torch.ones(tokens.shape[0]))


@pytest.mark.parametrize("name", CONFIGS)
def test_onnx_matches_torch_in_one_run_and_step_by_step(name, tmp_path):
    config = CONFIGS[name]
    model = make_model(config)
    path = export_onnx(model, tmp_path / "m.onnx")
    report = check_parity(model, path)
    assert report.full_max_diff <= PARITY_ATOL and report.step_max_diff <= PARITY_ATOL

    # The same comparison done here by hand, at another batch and length
    # (dynamic axes), with states fed back one token at a time.
    tokens, state = random_inputs(config, batch=4, time=11, seed=5)
    with torch.no_grad():
        expected = [t.numpy() for t in NextWordGraph(model)(tokens, *state)]
    session = ort_session(path)
    names_in = [i.name for i in session.get_inputs()]
    names_out = [o.name for o in session.get_outputs()]
    if config.cell == "lstm":
        assert names_in == ["tokens", "h", "c"] and names_out == ["log_probs", "h_out", "c_out"]
    else:
        assert names_in == ["tokens", "h"] and names_out == ["log_probs", "h_out"]
    np_state = tuple(s.numpy() for s in state)
    full = run_ort(session, tokens.numpy(), np_state)
    step_state = np_state
    for t in range(tokens.shape[1]):
        stepped = run_ort(session, tokens[:, t : t + 1].numpy(), step_state)
        step_state = stepped[1:]
    assert full[0].shape == (4, config.vocab_size)
    for ours, ort_full, ort_step in zip(expected, full, stepped):
        np.testing.assert_allclose(ort_full, ours, atol=PARITY_ATOL, rtol=0)
        np.testing.assert_allclose(ort_step, ours, atol=PARITY_ATOL, rtol=0)


@pytest.mark.parametrize("name", CONFIGS)
def test_the_exported_graph_and_its_manifest_entry_have_the_contracts_signature(name, tmp_path):
    """What the engine checks a bundle against (``contract``) is what the exporter writes:
    the names in order, the element types, and every dimension, dynamic ones by name."""
    onnx = pytest.importorskip("onnx")
    config = CONFIGS[name]
    model = make_model(config)
    path = export_onnx(model, tmp_path / "m.onnx")
    cell = cell_type(config.cell)
    shapes_in, shapes_out = cell.signature(vocab_size=config.vocab_size, num_layers=config.num_layers,
                                           hidden_size=config.hidden_size)
    graph = onnx.load(str(path)).graph

    def described(values):
        return {v.name: ([d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim],
                         onnx.helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type).name)
                for v in values}

    want = lambda shapes: {n: (dims, contract.element_type(n)) for n, dims in shapes.items()}  # noqa: E731
    assert [v.name for v in graph.input] == list(cell.inputs)
    assert [v.name for v in graph.output] == list(cell.outputs)
    assert described(graph.input) == want(shapes_in)
    assert described(graph.output) == want(shapes_out)
    manifest = onnx_manifest(model)
    assert (manifest["inputs"], manifest["outputs"]) == (shapes_in, shapes_out)
    assert manifest["opset"] == contract.OPSET and manifest["file"] == contract.ONNX_FILE


def test_parity_check_rejects_a_graph_that_differs(tmp_path):
    config = CONFIGS["lstm-tied-projected"]
    model = make_model(config)
    path = export_onnx(model, tmp_path / "m.onnx")
    with torch.no_grad():
        model.decoder.bias[3] += 0.01  # the graph no longer matches the model
    with pytest.raises(ExportError, match="differs from PyTorch"):
        check_parity(model, path)


@pytest.mark.parametrize("name", CONFIGS)
def test_weights_read_back_from_onnx_equal_the_model(name, tmp_path):
    config = CONFIGS[name]
    model = make_model(config)
    path = export_onnx(model, tmp_path / "m.onnx")
    info = {
        "vocab_size": config.vocab_size, "embedding_dim": config.embedding_dim,
        "hidden_size": config.hidden_size, "num_layers": config.num_layers, "cell": config.cell,
        "dropout": config.dropout, "tied": config.tied, "projection_dim": config.projection_dim,
    }
    read_config, weights = weights_from_onnx(path, info)
    assert read_config == config
    expected = model.state_dict()
    assert set(weights) == set(expected)
    for key, value in expected.items():
        torch.testing.assert_close(weights[key], value, atol=0, rtol=0, msg=key)
