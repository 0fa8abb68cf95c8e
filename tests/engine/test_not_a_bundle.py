"""What a newcomer passes to keyboard-eval and keyboard-suggest instead of a model bundle (H55):
a training checkpoint, a run's work folder, a corpus or a text.  Each is one sentence that says
what was given and what to pass instead, exit 2, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from keyboard_app.engine.bundle import MANIFEST, ModelLoadError, load_bundle
from keyboard_app.engine.cli import eval_main, suggest_main


def save_checkpoint(path: Path, tensors: int = 3) -> Path:
    """A checkpoint as keyboard-train writes one (``torch.save``'s zip archive)."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({f"w{i}": torch.zeros(2) for i in range(tensors)}, path)
    return path


@pytest.fixture
def run(random_bundle, tmp_path, monkeypatch):
    """``runs/x`` (a bundle) and ``runs/x.work/checkpoint.pt``, as ``keyboard-train CORPUS
    --out runs/x --keep-work`` leaves them; the current folder is ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(random_bundle, tmp_path / "runs" / "x")
    save_checkpoint(tmp_path / "runs" / "x.work" / "checkpoint.pt")
    (tmp_path / "held.txt").write_text("we met in london\n", encoding="utf-8")
    return tmp_path


def error_line(capsys, code: int) -> str:
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err.strip()


@pytest.mark.parametrize("command", ["eval", "suggest"])
@pytest.mark.parametrize("given, what", [("runs/x.work/checkpoint.pt", "a training checkpoint"),
                                         ("runs/x.work", "the work folder of a training run")])
def test_a_checkpoint_or_the_work_folder_points_to_the_runs_bundle(run, capsys, command, given, what):
    code = eval_main([given, "held.txt"]) if command == "eval" else suggest_main([given, "we met"])
    assert error_line(capsys, code) == (
        f"keyboard-{command}: error: {given} is {what}, not a model bundle: "
        "pass the folder keyboard-train wrote with --out (runs/x).")


def test_inside_the_work_folder_its_bundle_is_named_in_full(run, capsys, monkeypatch):
    monkeypatch.chdir(run / "runs" / "x.work")
    line = error_line(capsys, suggest_main(["checkpoint.pt", "we met"]))
    assert line.endswith(f"pass the folder keyboard-train wrote with --out ({run / 'runs' / 'x'}).")
    line = error_line(capsys, suggest_main([".", "we met"]))
    assert line.startswith("keyboard-suggest: error: . is the work folder of a training run")
    assert line.endswith(f"({run / 'runs' / 'x'}).")


def test_a_run_not_done_yet_says_where_its_bundle_will_be(run, capsys):
    shutil.rmtree(run / "runs" / "x")  # stopped before writing it
    line = error_line(capsys, eval_main(["runs/x.work/checkpoint.pt", "held.txt"]))
    assert line == ("keyboard-eval: error: runs/x.work/checkpoint.pt is a training checkpoint, not a model "
                    "bundle: keyboard-train writes the bundle to its --out folder (runs/x) once the run is "
                    "done (a stopped run continues with --resume).")


def test_a_checkpoint_in_a_work_folder_of_another_name(run, capsys):
    save_checkpoint(run / "scratch" / "checkpoint.pt")  # --work-dir scratch: no bundle to name
    line = error_line(capsys, eval_main(["scratch/checkpoint.pt", "held.txt"]))
    assert line == ("keyboard-eval: error: scratch/checkpoint.pt is a training checkpoint, not a model "
                    "bundle: pass the folder keyboard-train wrote with --out.")
    line = error_line(capsys, eval_main(["scratch", "held.txt"]))  # it holds a checkpoint
    assert line.startswith("keyboard-eval: error: scratch is the work folder of a training run")


def test_a_large_model_s_checkpoint_is_named_too(run, capsys):
    # more tensors than a bundle may have files: said as a checkpoint, not as a crowded archive
    save_checkpoint(run / "runs" / "x.work" / "checkpoint.pt", tensors=80)
    line = error_line(capsys, suggest_main(["runs/x.work/checkpoint.pt", "we met"]))
    assert "is a training checkpoint, not a model bundle" in line


def test_the_app_s_load_names_a_checkpoint_too(run):
    """``load_bundle`` (the app's Manage Models) says what the file is, without the
    commands' advice."""
    with pytest.raises(ModelLoadError) as caught:
        load_bundle(run / "runs" / "x.work" / "checkpoint.pt")
    assert str(caught.value) == f"{run / 'runs' / 'x.work' / 'checkpoint.pt'} is a training checkpoint, not a model bundle."


@pytest.mark.parametrize("command", ["eval", "suggest"])
def test_a_corpus_folder_is_said_to_be_text(run, capsys, command):
    corpus = run / "corpus"
    (corpus / "train").mkdir(parents=True)
    (corpus / "train" / "austen.txt").write_text("It is a truth universally acknowledged.\n", encoding="utf-8")
    (corpus / MANIFEST).write_text(json.dumps({"sources": ["austen"]}), encoding="utf-8")  # a corpus's own
    code = eval_main(["corpus", "held.txt"]) if command == "eval" else suggest_main(["corpus", "we met"])
    line = error_line(capsys, code)
    assert line.startswith(f"keyboard-{command}: error: corpus is a folder of text (a corpus?), not a model "
                           "bundle: pass the folder keyboard-train wrote with --out, or the built-in model (")


def test_a_damaged_bundle_is_not_taken_for_a_corpus(run, capsys):
    manifest = run / "runs" / "x" / MANIFEST
    manifest.write_text(manifest.read_text(encoding="utf-8")[:40], encoding="utf-8")  # cut short
    line = error_line(capsys, eval_main(["runs/x", "held.txt"]))
    assert "manifest.json" in line and "corpus" not in line


def test_a_text_given_as_the_model_says_the_order(run, capsys):
    line = error_line(capsys, eval_main(["held.txt", "held.txt"]))
    assert line == ("keyboard-eval: error: held.txt: not a model bundle but a text file: give the model "
                    "first, then the texts to score (keyboard-eval MODEL TEXT...).")
    line = error_line(capsys, suggest_main(["held.txt", "we met"]))
    assert line == ("keyboard-suggest: error: held.txt: not a model bundle but a text file: pass the folder "
                    'keyboard-train wrote with --out, then the text before the cursor (keyboard-suggest '
                    'MODEL "see you tom").')


def test_the_model_and_the_text_swapped_say_the_order(run, capsys):
    line = error_line(capsys, eval_main(["held.txt", "runs/x"]))  # the texts are read first
    assert line == ("keyboard-eval: error: runs/x is a model bundle, not a text: give the model first, "
                    "then the texts to score (keyboard-eval MODEL TEXT...).")


def test_a_corpus_folder_given_as_the_text_is_not_called_a_model_bundle(run, capsys):
    """scripts/build_corpus.py writes a manifest.json of its own into the corpus folder."""
    corpus = run / "corpus"
    (corpus / "train").mkdir(parents=True)
    (corpus / MANIFEST).write_text(json.dumps({"builder": "scripts/build_corpus.py"}), encoding="utf-8")
    line = error_line(capsys, eval_main(["runs/x", "corpus"]))
    assert line == "keyboard-eval: error: corpus: not a regular file (a folder, a pipe or a device)."


def test_a_folder_holding_a_pipe_is_answered_not_waited_on(run, capsys):
    import os

    folder = run / "pipes"
    folder.mkdir()
    os.mkfifo(folder / "a")  # opened for reading, it would wait for a writer for ever
    line = error_line(capsys, suggest_main(["pipes", "we met"]))
    assert line.startswith("keyboard-suggest: error: pipes")


def test_a_bundle_without_its_manifest_is_said_to_lack_it_not_to_be_a_corpus(run, capsys):
    (run / "runs" / "x" / MANIFEST).unlink()  # a copy that left it out; vocab.json and the card are text
    line = error_line(capsys, suggest_main(["runs/x", "we met"]))
    assert "manifest.json is missing" in line and "corpus" not in line
