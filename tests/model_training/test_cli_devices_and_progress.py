"""keyboard-train for a newcomer at the command line (H55): a GPU this machine does not have is
refused in one sentence before the corpus is read (one process or N), the time shown left
respects --max-minutes, and reading the corpus shows its progress to a person at a terminal."""

from __future__ import annotations

import io
import json
import sys

import pytest
import torch

from model_training import distributed
from model_training.cli import main
from test_cli_newcomer import refused_before_reading
from training_helpers import TINY_ARGS, run_main

TINY = TINY_ARGS
LOUD = [arg for arg in TINY_ARGS if arg != "--quiet"]  # with the progress bars


@pytest.fixture
def corpus(tmp_path, patterned_text):
    folder = tmp_path / "corpus"
    (folder / "more").mkdir(parents=True)
    (folder / "text.txt").write_text(patterned_text[:6000])
    (folder / "more" / "other.txt").write_text(patterned_text[6000:9000])
    return folder


# -- --device: a GPU this machine does not have ---------------------------------------------------

@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


@pytest.fixture
def one_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_a_gpu_number_past_the_last_is_refused_before_the_corpus_is_read(one_gpu, corpus, tmp_path, capsys):
    # torch itself accepts "cuda:7" and fails only when the model is moved there, after the reading
    line = refused_before_reading(capsys, corpus, "--out", tmp_path / "model", *TINY, "--device", "cuda:7")
    assert line == "keyboard-train: error: --device cuda:7 was asked for but this machine has 1 CUDA GPU (cuda:0)."
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("device", ["cuda", "cuda:7"])
def test_without_a_gpu_the_sentence_names_the_device_asked_for(no_gpu, device, tmp_path, capsys):
    # a corpus that is not there: the device is refused first, before any corpus is looked for
    line = refused_before_reading(capsys, tmp_path / "no corpus", "--out", tmp_path / "model", *TINY,
                                  "--device", device)
    assert line == f"keyboard-train: error: --device {device} was asked for but no CUDA GPU is available."


def test_with_nproc_a_missing_gpu_is_said_once_before_any_process_starts(no_gpu, corpus, tmp_path, capsys,
                                                                          monkeypatch):
    started = []  # was: torchrun started, each process said it, torchrun printed a traceback, exit 1
    monkeypatch.setattr(distributed, "launch_local", lambda *args: started.append(args) or 0)
    line = refused_before_reading(capsys, corpus, "--out", tmp_path / "model", *TINY,
                                  "--device", "cuda", "--nproc", "2")
    assert line == "keyboard-train: error: --device cuda was asked for but no CUDA GPU is available."
    assert started == []


# -- --max-minutes: the time shown left ----------------------------------------------------------

def test_the_time_shown_left_never_passes_the_time_budget(corpus, tmp_path, capsys):
    budget_s = 3.0  # and epochs enough for hours
    code, out, err = run_main(capsys, corpus, "--out", tmp_path / "model", *TINY, "--epochs", "100000",
                              "--patience", "100000", "--max-minutes", "0.05", "--progress-json")
    assert code == 0, err
    shown = [event for event in map(json.loads, out.splitlines()) if event["event"] == "progress"]
    assert shown and all(event["eta_s"] is not None for event in shown)
    assert max(event["eta_s"] for event in shown) <= budget_s + 0.05, shown[:3]  # (rounded to 0.1 s)


def test_the_bar_says_the_run_is_capped(corpus, tmp_path, capsys):
    code, out, err = run_main(capsys, corpus, "--out", tmp_path / "model", *LOUD, "--max-minutes", "0.02")
    assert code == 0, err
    assert "training (at most 0.02 min):" in err


# -- reading the corpus: a bar at a terminal -----------------------------------------------------

class Terminal(io.StringIO):
    """Standard error as a terminal: a person watching the run."""

    def isatty(self) -> bool:
        return True


def run_at_terminal(monkeypatch, *argv) -> tuple[int, str]:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = main([str(arg) for arg in argv])
    return code, terminal.getvalue()


def test_reading_the_corpus_shows_its_progress_at_a_terminal(corpus, tmp_path, monkeypatch):
    code, err = run_at_terminal(monkeypatch, corpus, "--out", tmp_path / "model", *LOUD,
                                "--vocab-size", "1000")  # a warning once the words are counted
    assert code == 0, err
    assert "counting words:" in err and "encoding the text:" in err
    lines = err.replace("\r", "\n").splitlines()
    assert any(line.startswith("keyboard-train: the corpus has only") for line in lines), err  # the log kept
    assert any(line.startswith("reading 2 file(s)") for line in lines)


def test_no_reading_bar_into_a_file_nor_with_quiet(corpus, tmp_path, monkeypatch, capsys):
    code, out, err = run_main(capsys, corpus, "--out", tmp_path / "a", *LOUD)  # stderr: not a terminal
    assert code == 0, err
    assert "counting words" not in err and "encoding the text" not in err
    code, err = run_at_terminal(monkeypatch, corpus, "--out", tmp_path / "b", *TINY)  # --quiet
    assert code == 0, err
    assert "counting words" not in err and "training:" not in err
