"""scripts/gpu_train.py: a run packed here, trained elsewhere (on the CPU here), cut into
parts, brought back whole and usable for --init-from; a damaged or missing part is refused."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
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
    code = gpu_train.run(data, out, 1.0, TINY, part_mb=0.05, total_mb=0.3, device="cpu")
    assert code == 0
    return tmp, out


def test_the_parts_fit_and_come_back_as_a_bundle_and_a_checkpoint(packed_run, tmp_path):
    _, out = packed_run
    listing = json.loads((out / gpu_train.PARTS).read_text())
    assert len(listing["parts"]) > 1  # cut at 0.05 MiB
    assert all(p["bytes"] <= 0.05 * 2**20 for p in listing["parts"])
    assert listing["checkpoint"] == "float32" and listing["finished"] is True
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
    (corpus / "small.txt").write_text("just a few words here, repeated a few words.\n" * 5)
    gpu_train.pack(corpus, tmp_path / "data")
    code = gpu_train.run(tmp_path / "data", tmp_path / "out", 1.0, [*TINY, "--vocab-size", "5"],
                         part_mb=1, total_mb=6, device="cpu")
    assert code == 2
    assert "the vocabulary size must be larger than 5" in (tmp_path / "out" / "train.log").read_text()
    assert not (tmp_path / "out" / gpu_train.PARTS).exists()


def test_pack_refuses_an_empty_corpus_in_one_sentence(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "blank.txt").write_text("")
    assert gpu_train.main(["pack", str(tmp_path / "corpus"), "--to", str(tmp_path / "data")]) == 2


def _craft(folder: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    """A parts folder whose one part is a tar of ``members`` (and symbolic ``links``),
    with a correct checksum: only the tar's contents are hostile."""
    folder.mkdir()
    tar_path = folder / "t.tar"
    with tarfile.open(tar_path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, __import__("io").BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    data = tar_path.read_bytes()
    tar_path.unlink()
    (folder / "result.tar.00").write_bytes(data)
    (folder / gpu_train.PARTS).write_text(json.dumps(
        {"parts": [{"name": "result.tar.00", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}]}))
    return folder


@pytest.mark.parametrize("members, links", [
    ({"../escaped": b"x"}, None),  # a member outside the folder
    ({}, {"bundle": "/etc"}),  # a link out of it
    ({"train.log": b"only a log"}, None),  # neither a bundle nor a checkpoint
    ({"bundle/model.onnx": b"not a graph", "bundle/manifest.json": b"{}"}, None),  # a bundle that fails
])
def test_crafted_results_are_refused_and_leave_nothing_behind(tmp_path, members, links):
    parts = _craft(tmp_path / "parts", members, links)
    with pytest.raises(gpu_train.RunError):
        gpu_train.collect(parts, tmp_path / "back")
    assert not (tmp_path / "escaped").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts"]  # no staging folder, no "back"


@pytest.mark.parametrize("listing", [
    {"parts": [{"name": "/etc/hostname", "bytes": 1, "sha256": "0" * 64}]},
    {"parts": [{"name": "../result.tar.00", "bytes": 1, "sha256": "0" * 64}]},
    {"parts": [1]},
    {"parts": []},
])
def test_a_crafted_parts_list_is_refused_in_one_sentence(tmp_path, listing):
    (tmp_path / gpu_train.PARTS).write_text(json.dumps(listing))
    with pytest.raises(gpu_train.RunError, match="not a parts list"):
        gpu_train.collect(tmp_path, tmp_path / "back")


def test_collect_never_writes_into_a_folder_holding_files(packed_run, tmp_path):
    _, out = packed_run
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("the user's")
    (tmp_path / "a-file").write_text("x")
    for target in (tmp_path / "mine", tmp_path / "a-file"):
        with pytest.raises(gpu_train.RunError, match="not a new or empty folder"):
            gpu_train.collect(out, target)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "the user's"
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


def test_pack_reads_what_the_trainer_reads_links_included(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("one two three\n")
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\0\x10JFIF\0" * 20)
    (corpus / "sub").mkdir()
    (corpus / "sub" / "b.txt").write_text("four five six\n")
    os.symlink(corpus / "sub" / "b.txt", corpus / "link.txt")  # absolute, inside the corpus
    archive = gpu_train.pack(corpus, tmp_path / "data")
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == ["corpus/a.txt", "corpus/link.txt"]
    assert all(m.isfile() for m in members.values())  # the link's text, not a link
    with tarfile.open(archive) as tar:  # (the file it names is read once, as the trainer does)
        assert tar.extractfile("corpus/link.txt").read() == b"four five six\n"
    with pytest.raises(gpu_train.RunError, match="inside the corpus"):
        gpu_train.pack(corpus, corpus / "out")
    assert not list(tmp_path.joinpath("data").glob("*.tmp"))


@pytest.mark.parametrize("options, args, message", [
    (dict(part_mb=0, total_mb=60), [], "--part-mb"),
    (dict(part_mb=20, total_mb=60), [], "--part-mb"),
    (dict(part_mb=5, total_mb=60), [], "more than 6 parts"),
    (dict(part_mb=15, total_mb=100), [], "--total-mb"),
    (dict(part_mb=15, total_mb=60), ["--out", "x"], "--out is set by this script"),
    (dict(part_mb=15, total_mb=60), ["--work-dir=x"], "--work-dir is set by this script"),
])
def test_run_refuses_its_options_before_anything_is_unpacked(tmp_path, options, args, message):
    with pytest.raises(gpu_train.RunError, match=message):
        gpu_train.run(tmp_path / "no-data-needed", tmp_path / "out", 1.0, args, device="cpu", **options)
    assert not (tmp_path / "out").exists()


def test_a_run_stopped_by_sigterm_still_brings_back_its_checkpoint(packed_run, tmp_path):
    data = packed_run[0] / "data"
    out = tmp_path / "out"
    args = [a for a in TINY if a != "3000"]
    args[args.index("--max-tokens") + 1:args.index("--max-tokens") + 1] = ["100000000"]
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "gpu_train.py"), "run", str(data),
                             "--out", str(out), "--minutes", "30", "--device", "cpu", "--",
                             *args, "--progress-json", "--checkpoint-minutes", "0.001"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = out / "train.log"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and '"event": "progress"' not in (log.read_text() if log.exists() else ""):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 143
    listing = json.loads((out / gpu_train.PARTS).read_text())
    assert listing["finished"] is False and listing["checkpoint"] == "float32"
    back = gpu_train.collect(out, tmp_path / "back")
    assert not (back / "bundle").exists()
    assert load_checkpoint(back / "checkpoint.pt")["optimizer"] == {}
