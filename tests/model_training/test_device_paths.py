"""The GPU path's own logic, run on the CPU (no GPU here): the streams kept on the
device cut the same batches as the host path, and a bfloat16 autocast run trains
and exports the same float32 graph a float32 run does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from keyboard_app.engine.bundle import load_bundle
from model_training import train as train_module
from model_training.data import Batches
from training_helpers import PATTERN_CASES, next_word


@pytest.mark.parametrize("world_size", [1, 2])
def test_streams_kept_on_the_device_cut_the_same_batches_as_the_host(world_size):
    ids = np.arange(5_003, dtype=np.int64) % 977
    for rank in range(world_size):
        host = Batches(ids, 4, 7, rank, world_size)
        device = Batches(ids, 4, 7, rank, world_size)
        device.on_device = torch.from_numpy(device.share().astype(np.int32))  # as to_device does
        assert len(host) == len(device) > 10
        for i in range(len(host)):
            (hx, hy), (dx, dy) = host.get(i), device.get(i)
            assert dx.dtype == hx.dtype == torch.int64
            assert torch.equal(hx, dx) and torch.equal(hy, dy), (rank, i)


def test_a_bfloat16_autocast_run_learns_and_exports_a_float32_graph(tmp_path, patterned_text,
                                                                  tiny_bundle_factory, monkeypatch):
    asked = []

    def bf16(device, precision):  # what a CUDA device with bfloat16 gets
        asked.append(precision)
        return torch.bfloat16

    def trained(folder, dtypes):
        def hook(module, inputs, output):  # what the model's layers compute in
            if isinstance(module, torch.nn.Linear) and module.training:
                dtypes.add(output.dtype)

        handle = torch.nn.modules.module.register_module_forward_hook(hook)
        try:
            return tiny_bundle_factory(tmp_path / folder, patterned_text, eval_max_words=0)
        finally:
            handle.remove()

    monkeypatch.setattr(train_module, "autocast_dtype", bf16)
    low, full = set(), set()
    path = trained("bf16", low)
    assert asked == ["auto"]
    monkeypatch.undo()
    reference = trained("fp32", full)
    assert low == {torch.bfloat16} and full == {torch.float32}  # autocast was applied, and only there

    hits = sum(next_word(path, context) == word for context, word in PATTERN_CASES)
    assert hits >= len(PATTERN_CASES) - 1
    bundles = [load_bundle(p) for p in (path, reference)]  # the graph contract is checked on load
    try:
        a, b = (bundle.manifest["metrics"]["perplexity"] for bundle in bundles)
        assert a < 1.25 * b  # bfloat16's rounding costs little on this text
        import onnx

        graphs = [onnx.load(str(bundle.onnx_path)) for bundle in bundles]
        types = [[(i.name, i.data_type) for i in g.graph.initializer] for g in graphs]
        assert types[0] == types[1]  # the same graph, weight for weight
        assert {t for _, t in types[0]} <= {onnx.TensorProto.FLOAT, onnx.TensorProto.INT64}
    finally:
        for bundle in bundles:
            bundle.close()
