"""scripts/gpu_train.py: a run packed here, trained elsewhere (on the CPU here), cut into
parts, brought back whole and usable for --init-from; a damaged or missing part is refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import gpu_train  # noqa: E402

from keyboard_app.engine.bundle import load_bundle  # noqa: E402
from model_training.cli import main as train_main  # noqa: E402
from model_training.train import load_checkpoint  # noqa: E402

TINY = ["--embedding-dim", "16", "--hidden-size", "24", "--batch-size", "4", "--bptt", "8",
        "--vocab-size", "0", "--min-count", "1", "--heldout-fraction", "0.1", "--threads", "1",
        "--ksr-words", "0", "--warmup", "5", "--lr", "0.01", "--max-tokens", "3000"]


@pytest.fixture(scope="module")
def packed_run(tmp_path_factory):
    from text_helpers import make_patterned_text

    tmp = tmp_path_factory.mktemp("gpu")
    corpus = tmp / "corpus"
    (corpus / "sub").mkdir(parents=True)
    text = make_patterned_text()
    (corpus / "a.txt").write_text(text[:4000])
    (corpus / "sub" / "b.txt").write_text(text[4000:8000])
    data = tmp / "data"
    assert gpu_train.pack(corpus, data) == data / gpu_train.CORPUS_ARCHIVE
    out = tmp / "out"
    code = gpu_train.run(data, out, 1.0, TINY, part_mb=0.05, total_mb=60, device="cpu")
    assert code == 0
    return tmp, out


def test_the_parts_fit_and_come_back_as_a_bundle_and_a_checkpoint(packed_run, tmp_path):
    _, out = packed_run
    listing = json.loads((out / gpu_train.PARTS).read_text())
    assert len(listing["parts"]) > 1  # cut at 0.05 MiB
    assert all(p["bytes"] <= 0.05 * 2**20 for p in listing["parts"])
    assert listing["checkpoint_bf16"] is False
    assert "--device cpu" in (out / "train.log").read_text()

    back = gpu_train.collect(out, tmp_path / "back")
    load_bundle(back / "bundle")
    ckpt = load_checkpoint(back / "checkpoint.pt")
    assert ckpt["optimizer"] == {} and ckpt["best_model"] is None  # slim: weights only
    # and the slim checkpoint starts a fine-tune on this machine
    code = train_main([str(packed_run[0] / "corpus"), "--init-from", str(back / "checkpoint.pt"),
                       "--out", str(tmp_path / "tuned"), "--quiet", *TINY])
    assert code == 0
    load_bundle(tmp_path / "tuned")


def test_a_damaged_or_missing_part_is_refused_in_one_sentence(packed_run, tmp_path):
    _, out = packed_run
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in out.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    first = copy / "result.tar.00"
    data = bytearray(first.read_bytes())
    data[10] ^= 0xFF
    first.write_bytes(bytes(data))
    with pytest.raises(gpu_train.RunError, match="damaged"):
        gpu_train.collect(copy, tmp_path / "a")
    first.unlink()
    with pytest.raises(gpu_train.RunError, match="missing"):
        gpu_train.collect(copy, tmp_path / "b")
    assert gpu_train.main(["collect", str(copy), "--to", str(tmp_path / "c")]) == 2


def test_weights_go_back_in_bfloat16_when_float32_would_not_fit(packed_run, tmp_path):
    import torch

    _, out = packed_run
    back = gpu_train.collect(out, tmp_path / "back")
    slim = tmp_path / "slim.pt"
    gpu_train.slim_checkpoint(back / "checkpoint.pt", slim, bf16=True)
    weights = load_checkpoint(slim)["model"]
    assert {v.dtype for v in weights.values() if v.is_floating_point()} == {torch.bfloat16}
    full = load_checkpoint(back / "checkpoint.pt")["model"]
    for name, value in full.items():
        assert torch.allclose(weights[name].float(), value, rtol=1e-2, atol=1e-2)


def test_a_run_whose_training_fails_returns_its_exit_code_and_keeps_its_log(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "blank.txt").write_text("\n\n")
    gpu_train.pack(corpus, tmp_path / "data")
    code = gpu_train.run(tmp_path / "data", tmp_path / "out", 1.0, TINY, part_mb=1, total_mb=60,
                         device="cpu")
    assert code == 2
    assert "the corpus is empty" in (tmp_path / "out" / "train.log").read_text()
    assert not (tmp_path / "out" / gpu_train.PARTS).exists()
