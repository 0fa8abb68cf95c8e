"""``keyboard-train --resume`` with settings that differ from the checkpoint's: a setting that
cannot change within a run is refused in one sentence naming each, one that could is kept as
the checkpoint has it and said once (it used to be kept silently)."""

from __future__ import annotations

import json

import pytest

from model_training.cli import asked_settings, build_parser, configs_from_args, main
from training_helpers import TINY_ARGS

TINY = [*TINY_ARGS, "--epochs", "1"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, patterned_text):
    """A finished tiny run's checkpoint (kept with --keep-work) and its corpus."""
    folder = tmp_path_factory.mktemp("resume")
    corpus = folder / "corpus.txt"
    corpus.write_text(patterned_text[:6000])
    assert main([str(corpus), "--out", str(folder / "first"), *TINY, "--keep-work"]) == 0
    ckpt = folder / "first.work" / "checkpoint.pt"
    assert ckpt.is_file()
    return corpus, ckpt


def resume(capsys, tmp_path, checkpoint, *options):
    corpus, ckpt = checkpoint
    out = tmp_path / "resumed"
    code = main([str(corpus), "--out", str(out), "--resume", str(ckpt), "--quiet", *options])
    _, err = capsys.readouterr()
    return code, err, out


def test_settings_that_cannot_change_are_refused_naming_each(tmp_path, capsys, checkpoint):
    before = checkpoint[1].read_bytes()
    code, err, out = resume(capsys, tmp_path, checkpoint, "--hidden-size", "32", "--bptt", "10", "--untied")
    assert code == 2 and "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith(f"keyboard-train: error: --resume: the checkpoint {checkpoint[1]} was trained ")
    assert "with --hidden-size 24, not 32" in line
    assert "with --bptt 8, not 10" in line
    assert "without --untied" in line
    assert "drop those options, or start afresh without --resume." in line
    assert not out.exists()
    assert checkpoint[1].read_bytes() == before


def test_one_setting_that_cannot_change_is_named_alone(tmp_path, capsys, checkpoint):
    code, err, _ = resume(capsys, tmp_path, checkpoint, "--hidden-size", "1024")
    assert code == 2
    assert ("was trained with --hidden-size 24, not 1024; these cannot change within a run: "
            "drop the option, or start afresh without --resume.") in err


def test_settings_that_could_change_are_kept_and_said_once(tmp_path, capsys, checkpoint):
    code, err, out = resume(capsys, tmp_path, checkpoint, "--lr", "0.02", "--patience", "7")
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("keyboard-train: --resume:")]
    assert notes == ["keyboard-train: --resume: the checkpoint was trained with --lr 0.01 (not 0.02); "
                     "with --patience 2 (not 7); the run continues with the checkpoint's settings, to go "
                     "on exactly where it stopped (start afresh without --resume to change them)"]
    training = json.loads((out / "manifest.json").read_text())["training"]
    assert training["lr"] == pytest.approx(0.01)  # what was said is what happened


def test_the_same_settings_again_and_this_runs_own_say_nothing(tmp_path, capsys, checkpoint):
    # the settings of the checkpoint given again, and those that are always this run's
    code, err, _ = resume(capsys, tmp_path, checkpoint, "--hidden-size", "24", "--lr", "0.01",
                          "--threads", "1", "--checkpoint-minutes", "3", "--device", "cpu")
    assert code == 0, err
    assert "--resume" not in err


@pytest.mark.parametrize("argv, expected", [
    (["c.txt"], {}),
    (["c.txt", "--hidden-size", "512"], {"model.hidden_size": ("--hidden-size", 512)}),  # the default, asked
    (["c.txt", "--untied", "--layers", "2"], {"model.tied": ("--untied", False),
                                              "model.num_layers": ("--layers", 2)}),
    (["c.txt", "--warmup=7", "--no-user-phrases", "-q"], {"train.warmup_steps": ("--warmup", 7),
                                                          "train.user_phrases": ("--no-user-phrases", False)}),
    (["c.txt", "--vocab-size", "100"], {"train.vocab_size": ("--vocab-size", 100)}),
])
def test_the_settings_asked_are_those_on_the_command_line(argv, expected):
    args = build_parser().parse_args(argv)
    model, train = configs_from_args(args)
    assert asked_settings(argv, model, train) == expected


def test_a_plain_resume_keeps_the_checkpoints_device_and_a_given_one_wins(tmp_path, capsys, patterned_text,
                                                                          monkeypatch):
    # A run started with --device cpu and resumed without --device must not move to the
    # machine's default ("auto": a GPU where there is one, and bf16 with it).
    from model_training import pipeline

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(patterned_text[:6000])
    assert main([str(corpus), "--out", str(tmp_path / "first"), *TINY, "--device", "cpu", "--keep-work"]) == 0
    ckpt = tmp_path / "first.work" / "checkpoint.pt"
    asked = []
    real = pipeline.resolve_device
    monkeypatch.setattr(pipeline, "resolve_device", lambda device: asked.append(device) or real("cpu"))
    for out, options in (("plain", []), ("given", ["--device", "auto"])):
        code = main([str(corpus), "--out", str(tmp_path / out), "--resume", str(ckpt), "--quiet", *options])
        assert code == 0, capsys.readouterr().err
    assert asked[0] == "cpu" and asked[-1] == "auto"
