"""keyboard-train under torchrun: two processes with DDP over gloo, on the CPU.

Each run is a tiny model on the patterned text (a few seconds, most of it
starting Python and torch twice); ``ddp_worker.py`` is the command with the
final weights of every rank left behind for the checks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from text_helpers import make_patterned_text
from model_training.train import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("ddp_worker.py")
TINY = ["--vocab-size", "0", "--min-count", "1", "--heldout-fraction", "0.1", "--bptt", "12",
        "--lr", "0.01", "--warmup", "10", "--output-loss", "full", "--embedding-dim", "24",
        "--hidden-size", "48", "--dropout", "0", "--threads", "1", "--device", "cpu",
        "--ksr-words", "0", "--patience", "100", "--seed", "3", "-q"]


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(make_patterned_text(paragraphs=80), encoding="utf-8")
    return path


def torchrun(nproc: int, *args, out: Path, env: dict | None = None, timeout: float = 180):
    """The worker under ``torchrun --standalone``; (returncode, stdout, stderr)."""
    out.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1",
                "DDP_TEST_OUT": str(out), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
         str(WORKER), *map(str, args)],
        capture_output=True, text=True, env=full_env, timeout=timeout, cwd=REPO,
    )
    return proc.returncode, proc.stdout, proc.stderr


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["weights"]


def test_two_processes_train_together_rank_0_alone_writes_and_one_process_agrees(tmp_path, corpus):
    """2 processes x 4 streams: the loss goes down, rank 0 alone speaks and exports,
    both end with the same weights; and with the learning rate unscaled they take the
    steps one process with 8 streams takes (the same layout, the mean of the same
    gradients), to the same validation loss."""
    out = tmp_path / "ddp"
    settings = ["--epochs", "4", "--evals-per-epoch", "2", "--lr-scaling", "none", *TINY]
    code, stdout, stderr = torchrun(2, corpus, "--out", tmp_path / "two", "--batch-size", "4",
                                    "--progress-json", *settings, out=out)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    # rank 0 alone speaks: every stdout line is JSON, one "start" and one "done"
    kinds = [e["event"] for e in events(stdout)]
    assert kinds.count("start") == 1 and kinds.count("done") == 1 and kinds[-1] == "done"
    # rank 0 alone exported; the bundle and nothing else is left (the work folder tidied)
    assert sorted(p.name for p in out.iterdir()) == ["exported-by-rank0", "rank0.pt", "rank1.pt"]
    assert not (tmp_path / "two.work").exists()
    two = json.loads((tmp_path / "two" / "manifest.json").read_text())
    training = two["training"]
    assert training["world_size"] == 2
    # the loss goes down
    history = training["history"]
    assert history[-1]["val_ppl"] < 0.5 * history[0]["val_ppl"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    # tokens are counted over both processes: 2 ranks x 4 streams x (at most) 12 steps a batch
    assert training["steps"] * 4 * 12 < training["tokens_seen"] <= training["steps"] * 2 * 4 * 12
    # both ranks end with the very same weights
    a, b = weights(out / "rank0.pt"), weights(out / "rank1.pt")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0, msg=name)

    from model_training.cli import main

    assert main([str(corpus), "--out", str(tmp_path / "one"), "--batch-size", "8", *settings]) == 0
    one = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert one["training"]["world_size"] == 1
    assert two["training"]["steps"] == one["training"]["steps"]
    assert two["training"]["tokens_seen"] == one["training"]["tokens_seen"]
    np.testing.assert_allclose(
        [h["val_ppl"] for h in two["training"]["history"]],
        [h["val_ppl"] for h in one["training"]["history"]], rtol=0.02)
    assert two["metrics"]["perplexity"] == pytest.approx(one["metrics"]["perplexity"], rel=0.02)


def test_a_sigterm_on_one_rank_checkpoints_once_and_resumes_on_another_world_size(tmp_path, corpus):
    model, work, out = tmp_path / "model", tmp_path / "model.work", tmp_path / "ddp"
    settings = ["--batch-size", "4", "--epochs", "3", "--checkpoint-minutes", "0", *TINY]
    # SIGTERM on rank 1 after step 7; the launcher's status file: agreed outcomes exit 0
    status = tmp_path / "status"
    code, stdout, stderr = torchrun(
        2, corpus, "--out", model, *settings, "--progress-json", out=out,
        env={"DDP_TEST_SIGTERM_AT": "1:7", "KEYBOARD_TRAIN_STATUS_FILE": str(status)})
    assert code == 0, stderr  # every rank exited cleanly
    assert status.read_text() == str(128 + signal.SIGTERM)
    assert "Traceback" not in stderr
    cancelled = [e for e in events(stdout) if e["event"] == "cancelled"]
    assert cancelled == [{"event": "cancelled", "checkpoint": str(work / "checkpoint.pt"), "signal": "SIGTERM"}]
    assert not model.exists()
    ckpt = load_checkpoint(work / "checkpoint.pt")
    assert ckpt["world_size"] == 2 and ckpt["counters"]["step"] == 7
    assert ckpt["recurrent_state"][0].shape[1] == 2 * 4  # both ranks' streams
    steps_per_epoch = ckpt["batches_per_epoch"]
    a, b = weights(out / "rank0.pt"), weights(out / "rank1.pt")
    for name in a:  # both stopped after the same step
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0, msg=name)

    # on one process: the position kept as the fraction of the epoch done
    from model_training.cli import main

    assert main([str(corpus), "--out", str(model), "--resume", *settings]) == 0
    manifest = json.loads((model / "manifest.json").read_text())
    training = manifest["training"]
    assert training["world_size"] == 1
    done = 7 * 2 * 4 * 12  # tokens before the stop, both ranks
    one_process_epoch = 2 * steps_per_epoch  # the same text as half as many streams: twice the batches
    assert training["tokens_seen"] > done
    assert training["steps"] == pytest.approx(7 + 3 * one_process_epoch - 2 * 7, abs=3)
    history = training["history"]
    assert history[-1]["val_ppl"] < 4.0


def test_nproc_launches_torchrun_and_a_sigterm_stops_every_process(tmp_path, corpus):
    """``keyboard-train --nproc 2``: torchrun on this machine; SIGTERM to the command
    reaches both ranks, which checkpoint once and exit; the command exits 143."""
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "model_training.cli", str(corpus), "--out", str(tmp_path / "model"),
         "--nproc", "2", "--batch-size", "4", "--epochs", "500", "--progress-json",
         "--checkpoint-minutes", "0", *TINY],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    seen = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        seen.append(json.loads(line))
        if seen[-1]["event"] == "progress" or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    rest, stderr = proc.communicate(timeout=120)
    seen += events(rest)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr and "ChildFailedError" not in stderr
    assert [e["event"] for e in seen].count("cancelled") == 1
    ckpt = load_checkpoint(tmp_path / "model.work" / "checkpoint.pt")
    assert ckpt["world_size"] == 2 and not ckpt["counters"]["finished"]
    assert not (tmp_path / "model").exists()


def test_rank_0s_bad_input_is_one_sentence_and_every_rank_exits(tmp_path):
    code, _, stderr = torchrun(2, tmp_path / "missing.txt", "--out", tmp_path / "model", *TINY,
                               out=tmp_path / "ddp", env={"KEYBOARD_TRAIN_STATUS_FILE": str(tmp_path / "s")})
    assert code == 0, stderr  # an outcome both ranks agreed on
    assert (tmp_path / "s").read_text() == "2"
    assert "Traceback" not in stderr
    assert stderr.count("missing.txt: no such file or folder") == 1
