"""``keyboard-train`` killed, out of disk, given a foreign checkpoint, and what it leaves behind.

Issue 11, items 4 (time-based checkpoints, resume after a kill mid-epoch),
7 (a full disk while encoding the corpus or writing a checkpoint), 8 (a
garbage or foreign checkpoint for ``--resume``) and 15c/d (the encoded ids
and the work folder left behind).  Kills go through a real process killed
at a named fault point (``engine.faults``); the rest through
``keyboard-train``'s ``main`` in this process, as in ``test_destination``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from model_training import data
from model_training.cli import main
from model_training.train import Trainer, load_checkpoint

from .conftest import REPO, Outcome, assert_clean_failure, assert_intact, fill, run_module, snapshot

TINY = ["--embedding-dim", "16", "--hidden-size", "24", "--batch-size", "4", "--bptt", "8",
        "--vocab-size", "0", "--min-count", "1", "--heldout-fraction", "0.1", "--quiet",
        "--threads", "1", "--ksr-words", "0", "--warmup", "5", "--lr", "0.01"]
# A time-based checkpoint after every step: the first one comes right after step 1,
# mid-epoch, where the fault point below kills the run.
EVERY_STEP = ["--checkpoint-minutes", "1e-9"]
KILLED_AFTER_TIMED_CHECKPOINT = {"KEYBOARD_FAULT": "train.timed-checkpoint-written"}
OURS = {"checkpoint.pt", "checkpoint.pt.tmp", "train_ids.npy", "heldout_ids.npy"}


def train(capsys, *argv) -> Outcome:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def train_with_ids_on_disk(*argv, env: dict[str, str] | None = None) -> Outcome:
    """``keyboard-train`` in its own process, with the corpus's ids memory-mapped in
    the work folder as a big corpus's are (a small one's live in memory)."""
    code = ("import sys, model_training.data as d; d.MEMMAP_MIN_TOKENS = 0; "
            "from model_training.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True,
                          env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE", **(env or {})},
                          timeout=300, cwd=REPO)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def corpus(tmp_path, patterned_text) -> Path:
    path = tmp_path / "writing.txt"
    path.write_text(patterned_text[:6000], encoding="utf-8")
    return path


@pytest.fixture
def ids_on_disk(monkeypatch):
    """In this process: the ids of even a tiny corpus are memory-mapped in the work folder."""
    monkeypatch.setattr(data, "MEMMAP_MIN_TOKENS", 0)


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)  # main() sets it from --threads


def onnx_weights(bundle: Path) -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(bundle / "model.onnx")).graph
    return {init.name: numpy_helper.to_array(init) for init in graph.initializer}


# -- item 4: killed mid-epoch, resumed as if never stopped --------------------------------

def test_a_run_killed_after_a_timed_checkpoint_resumes_to_the_same_model(
    tmp_path, corpus, capsys, one_thread
):
    settings = [*TINY, "--epochs", "2", "--evals-per-epoch", "2", *EVERY_STEP]
    straight = train(capsys, corpus, "--out", tmp_path / "straight", *settings)
    assert straight.returncode == 0, straight.output

    out = tmp_path / "killed"
    killed = run_module("model_training.cli", corpus, "--out", out, *settings,
                        env=KILLED_AFTER_TIMED_CHECKPOINT)
    assert killed.returncode == -signal.SIGKILL, killed.output
    assert not out.exists()
    ckpt = load_checkpoint(tmp_path / "killed.work" / "checkpoint.pt")
    counters = ckpt["counters"]
    assert counters["epoch"] == 0 and counters["batch"] > 0 and not counters["finished"]  # mid-epoch

    resumed = train(capsys, corpus, "--out", out, "--resume", *settings)
    assert resumed.returncode == 0, resumed.output
    a = json.loads((tmp_path / "straight" / "manifest.json").read_text())
    b = json.loads((out / "manifest.json").read_text())
    assert b["metrics"] == a["metrics"]
    for key in ("steps", "tokens_seen", "epochs_run", "stop_reason", "history"):
        assert b["training"][key] == a["training"][key], key
    weights_a, weights_b = onnx_weights(tmp_path / "straight"), onnx_weights(out)
    assert weights_b.keys() == weights_a.keys()
    for name, value in weights_a.items():
        np.testing.assert_array_equal(weights_b[name], value, err_msg=name)
    # item 15d: a finished run leaves no work folder behind
    assert not (tmp_path / "straight.work").exists() and not (tmp_path / "killed.work").exists()


def test_checkpoint_minutes_must_not_be_negative(tmp_path, corpus, capsys):
    result = train(capsys, corpus, "--out", tmp_path / "b", *TINY, "--checkpoint-minutes", "-1")
    assert_clean_failure(result, code=2, says="checkpoint minutes must be 0")


# -- item 7: a full disk ------------------------------------------------------------------

def test_a_full_disk_while_encoding_the_corpus_is_one_sentence_naming_the_work_folder(
    tmp_path, small_disk, patterned_text
):
    corpus = tmp_path / "big.txt"
    corpus.write_text(patterned_text * 12, encoding="utf-8")  # ~60 KB of ids: more than is free
    work = small_disk / "work"
    work.mkdir()
    (work / "notes.txt").write_text("the user's own file\n")
    before = snapshot(work)
    fill(small_disk, leave=16384)  # room for a sparse file's first and last pages, not for the ids
    result = train_with_ids_on_disk(corpus, "--out", tmp_path / "model", "--work-dir", work, *TINY)
    # before: a memory map over a sparse file, and SIGBUS (exit -7) when the writes hit the full disk
    assert_clean_failure(result, code=1, names=work, says="no space left")
    assert_intact(before, work)
    assert not set(os.listdir(work)) & OURS
    assert not (tmp_path / "model").exists()


def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoint(
    tmp_path, small_disk, corpus, capsys, one_thread, monkeypatch
):
    work = small_disk / "work"
    out = tmp_path / "model"
    settings = [*TINY, "--epochs", "2", "--work-dir", work, *EVERY_STEP]
    killed = run_module("model_training.cli", corpus, "--out", out, *settings,
                        env=KILLED_AFTER_TIMED_CHECKPOINT)
    assert killed.returncode == -signal.SIGKILL, killed.output
    before = snapshot(work)
    assert "checkpoint.pt" in before
    fill(small_disk)
    # A full work disk is now refused before training (exit 2, the next test); the disk
    # can still fill while training runs (another program), which is what this replays.
    import model_training.pipeline as pipeline

    result = train(capsys, corpus, "--out", out, "--resume", *settings)
    assert_clean_failure(result, code=2, names=work, says="not enough room for the training checkpoints")
    assert_intact(before, work)
    monkeypatch.setattr(pipeline, "check_room", lambda *args, **kwargs: None)
    # past the room check, the phrase tables' working files are the first write (before training)
    result = train(capsys, corpus, "--out", out, "--resume", *settings)
    assert_clean_failure(result, code=1, names=work, says="no space left on the device for the phrase tables")
    assert_intact(before, work)
    # the disk fills once the tables are made, while training runs
    monkeypatch.setattr(pipeline, "phrase_tables", lambda *args, **kwargs: (None, None))
    result = train(capsys, corpus, "--out", out, "--resume", *settings)
    # before: "unexpected error: RuntimeError: [enforce fail at inline_container.cc:672]"
    # and a half-written checkpoint.pt.tmp
    text = assert_clean_failure(result, code=1, names=work / "checkpoint.pt", says="no space left")
    assert "while writing the checkpoint" in text and "previous checkpoint is kept" in text
    assert_intact(before, work)
    assert set(os.listdir(work)) == {"checkpoint.pt"}
    assert not out.exists()


# -- item 8: a file that is not our checkpoint ----------------------------------------------

def _not_checkpoints(folder: Path) -> dict[str, Path]:
    made = {name: folder / f"{name.replace(' ', '-')}.pt" for name in (
        "garbage", "empty", "text", "truncated", "foreign object", "other program", "newer version")}
    made["garbage"].write_bytes(bytes(range(256)) * 8)
    made["empty"].write_bytes(b"")
    made["text"].write_text("model weights go here\n")
    torch.save({"weights": torch.zeros(2000)}, made["truncated"])
    made["truncated"].write_bytes(made["truncated"].read_bytes()[:3000])
    torch.save({"args": argparse.Namespace(lr=0.1)}, made["foreign object"])
    torch.save({"state_dict": {"fc.weight": torch.zeros(3, 3)}, "epoch": 4}, made["other program"])
    torch.save({"format": "keyboard-train-checkpoint", "version": 99}, made["newer version"])
    return made


@pytest.mark.parametrize("kind, says", [
    ("garbage", "not a keyboard-train checkpoint (it is not a PyTorch file"),
    ("empty", "not a keyboard-train checkpoint (the file is empty or cut short)"),
    ("text", "not a keyboard-train checkpoint (it is not a PyTorch file"),
    ("truncated", "not a keyboard-train checkpoint (it is not a PyTorch file, or it is damaged)"),
    ("foreign object", "not a keyboard-train checkpoint (it holds a argparse.Namespace object"),
    ("other program", "not a keyboard-train checkpoint (a PyTorch file without"),
    ("newer version", "written by a newer keyboard-train"),
])
def test_resume_from_a_file_that_is_not_our_checkpoint_is_one_sentence(
    tmp_path, corpus, capsys, kind, says
):
    path = _not_checkpoints(tmp_path)[kind]
    before = path.read_bytes()
    result = train(capsys, corpus, "--out", tmp_path / "model", "--resume", path, *TINY)
    text = assert_clean_failure(result, code=2, names=path, says=says)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one sentence, nothing else
    assert text.startswith(f"keyboard-train: error: {path}: ") and text.endswith(").")
    assert "weights_only" not in result.output
    assert path.read_bytes() == before
    assert not (tmp_path / "model").exists()


# -- item 15c/d: what a run leaves in its work folder -------------------------------------------

def test_a_run_stopped_before_its_first_checkpoint_leaves_no_encoded_ids(
    tmp_path, corpus, capsys, ids_on_disk, monkeypatch, one_thread
):
    work = tmp_path / "model.work"
    encoded = []

    def ctrl_c_before_training(trainer, checkpoint_path):  # the corpus is encoded by now
        encoded.append((work / "train_ids.npy").is_file())
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(Trainer, "run", ctrl_c_before_training)
    result = train(capsys, corpus, "--out", tmp_path / "model", *TINY)
    assert result.returncode == 128 + signal.SIGINT, result.output
    assert encoded == [True]
    assert "stopped; no bundle was written." in result.stderr and "Traceback" not in result.output
    assert not work.exists()  # nothing to resume from: the ids are of no use, and gone
    assert not (tmp_path / "model").exists()


def test_a_stopped_run_keeps_its_checkpoint_says_where_and_resumes(
    tmp_path, corpus, capsys, ids_on_disk, monkeypatch, one_thread
):
    work = tmp_path / "model.work"
    step = Trainer.train_step

    def ctrl_c_at_step_3(trainer, x, y):
        if trainer.counters.step == 2:
            signal.raise_signal(signal.SIGINT)  # honoured after this step
        return step(trainer, x, y)

    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "train_step", ctrl_c_at_step_3)
        stopped = train(capsys, corpus, "--out", tmp_path / "model", *TINY)
    assert stopped.returncode == 128 + signal.SIGINT, stopped.output
    assert f"checkpoint saved to {work / 'checkpoint.pt'} (continue with --resume)" in stopped.stderr
    # every run encodes the corpus again, --resume included: the ids are not kept
    assert set(os.listdir(work)) == {"checkpoint.pt"}
    assert load_checkpoint(work / "checkpoint.pt")["counters"]["step"] == 3

    resumed = train(capsys, corpus, "--out", tmp_path / "model", "--resume", "--keep-work", *TINY)
    assert resumed.returncode == 0, resumed.output
    assert f"checkpoint kept (--keep-work): {work / 'checkpoint.pt'}" in resumed.stderr
    assert set(os.listdir(work)) == {"checkpoint.pt"}
    assert load_checkpoint(work / "checkpoint.pt")["counters"]["finished"] is True


def test_a_finished_run_removes_only_its_own_files_from_a_named_work_folder(
    tmp_path, corpus, capsys, ids_on_disk, one_thread
):
    work = tmp_path / "scratch"
    work.mkdir()
    (work / "notes.txt").write_text("the user's own file\n")
    (work / "data").mkdir()
    (work / "data" / "checkpoint.pt").write_bytes(b"the user's, in a subfolder")
    before = snapshot(work)
    result = train(capsys, corpus, "--out", tmp_path / "model", "--work-dir", work, *TINY,
                   "--epochs", "1")
    assert result.returncode == 0, result.output
    assert (tmp_path / "model" / "manifest.json").is_file()
    assert snapshot(work) == before  # checkpoint and ids gone, the user's files untouched
