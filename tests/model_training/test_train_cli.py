"""``keyboard-train`` from the outside: bad input, progress lines, signals, resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from keyboard_app.engine.bundle import ModelLoadError, load_bundle
from model_training.cli import main
from training_helpers import next_word

# Tiny and fast; every run below goes through main() like the console script.
TINY = ["--embedding-dim", "16", "--hidden-size", "24", "--batch-size", "4", "--bptt", "8",
        "--vocab-size", "0", "--min-count", "1", "--heldout-fraction", "0.1", "--quiet",
        "--threads", "1", "--ksr-words", "0", "--warmup", "5", "--lr", "0.01"]


def run_main(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def corpus_dir(tmp_path, patterned_text):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "text.txt").write_text(patterned_text[:6000])
    return folder


# -- bad input: one sentence on stderr, exit code 2, no traceback -----------------------

def _bad_inputs(tmp_path: Path, patterned_text: str):
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    (tmp_path / "blank.txt").write_text("\n\n   \n")
    binary = tmp_path / "only_binary"
    binary.mkdir()
    (binary / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\0\x10JFIF\0" * 50)
    (tmp_path / "small.txt").write_text("just a few words here, repeated a few words.\n" * 5)
    (tmp_path / "bad_bundle").mkdir()
    return {
        "missing path": ([tmp_path / "nope.txt"], [], "nope.txt: no such file or folder."),
        "empty folder": ([empty_dir], [], "the corpus is empty: no text found in"),
        "blank file": ([tmp_path / "blank.txt"], [], "the corpus is empty: its files hold no words."),
        # the one file found says why (the dialog shows this sentence, not the warnings)
        "only a binary file": ([binary], [], "photo.jpg: it looks like a binary file, not text."),
        "vocabulary too small": ([tmp_path / "small.txt"], ["--vocab-size", "5"],
                                 "the vocabulary size must be larger than 5"),
        "too few tokens for a batch": ([tmp_path / "small.txt"], ["--batch-size", "64"],
                                       "too small to train on"),
        "nothing to resume": ([tmp_path / "small.txt"], ["--resume"], "no checkpoint to resume from"),
        "init from a non-bundle": ([tmp_path / "small.txt"], ["--init-from", tmp_path / "bad_bundle"],
                                   "manifest.json is missing"),
        "bad dropout": ([tmp_path / "small.txt"], ["--dropout", "1.5"], "dropout must be in [0, 1)"),
        "phrase limit over the app's": ([tmp_path / "small.txt"], ["--phrases-limit", "5000"],
                                        "must be between 0.01 and 1,073.74 MB (what the app accepts)"),
        "held-out file in no folder": ([tmp_path / "small.txt"], ["--write-heldout", tmp_path / "nope" / "h.json"],
                                       "h.json: its folder does not exist"),
    }


BAD_CASES = ["missing path", "empty folder", "blank file", "only a binary file", "vocabulary too small",
             "too few tokens for a batch", "nothing to resume", "init from a non-bundle", "bad dropout",
             "held-out file in no folder", "phrase limit over the app's"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_gives_one_clear_sentence_and_exit_code_2(case, tmp_path, capsys, patterned_text):
    corpus, extra, message = _bad_inputs(tmp_path, patterned_text)[case]
    out_dir = tmp_path / "out"
    # extra flags come last: argparse lets them override TINY's
    code, out, err = run_main(capsys, *corpus, "--out", out_dir, *TINY, *extra)
    assert code == 2
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("keyboard-train: error:")]
    assert len(errors) == 1 and message in errors[0], err
    assert errors[0].endswith(".")
    assert not out_dir.exists()


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_gpu_without_one_is_a_clear_error(corpus_dir, tmp_path, capsys):
    code, out, err = run_main(capsys, corpus_dir, "--out", tmp_path / "b", *TINY, "--device", "cuda")
    assert code == 2 and "Traceback" not in err
    assert "keyboard-train: error: --device cuda was asked for but no CUDA GPU is available." in err


def test_bad_input_with_progress_json_reports_an_error_event(tmp_path, capsys):
    code, out, err = run_main(capsys, tmp_path / "missing", "--out", tmp_path / "b", "--progress-json")
    assert code == 2
    events = [json.loads(line) for line in out.splitlines()]
    assert events == [{"event": "error", "message": f"{tmp_path / 'missing'}: no such file or folder."}]


def test_a_bad_option_with_progress_json_still_reports_json(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path), "--out", str(tmp_path / "b"), "--cell", "transformer", "--progress-json"])
    out, err = capsys.readouterr()
    assert exc.value.code == 2
    assert json.loads(out.splitlines()[-1])["event"] == "error"
    assert "invalid choice: 'transformer'" in err


def test_binary_files_and_invalid_utf8_are_warned_about_and_skipped(tmp_path, capsys, patterned_text):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(patterned_text[:5000])
    (corpus / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    (corpus / "latin1.txt").write_bytes("The caf\xe9 and the na\xefve cr\xe8me.\n".encode("latin-1") * 4)
    code, out, err = run_main(capsys, corpus, "--out", tmp_path / "bundle", *TINY, "--dry-run")
    assert code == 0, err
    assert "picture.png: skipped, it looks like a binary file" in err
    assert "latin1.txt: 12 invalid UTF-8 sequences replaced by U+FFFD" in err
    assert "Traceback" not in err
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert [f["path"] for f in manifest["corpus"]["files"]] == ["corpus/a.txt", "corpus/latin1.txt"]


def test_dry_run_trains_one_batch_and_checks_the_export(corpus_dir, capsys):
    code, out, err = run_main(capsys, corpus_dir, *TINY, "--dry-run")
    assert code == 0, err
    assert "dry run done" in err and "ONNX parity" in err


def test_token_budget_stops_training_and_still_writes_the_bundle(corpus_dir, tmp_path, capsys):
    out_dir = tmp_path / "bundle"
    code, out, err = run_main(capsys, corpus_dir, "--out", out_dir, *TINY, "--epochs", "5",
                              "--max-tokens", "500")
    assert code == 0, err
    training = json.loads((out_dir / "manifest.json").read_text())["training"]
    assert training["stop_reason"] == "token budget reached"
    assert 500 <= training["tokens_seen"] < 500 + 4 * 8  # stops within one batch (4 x 8 tokens)


def test_the_held_out_text_is_written_for_the_app_and_is_the_end_of_each_file(tmp_path, capsys, patterned_text):
    """--write-heldout: the app compares models on exactly the text the trainer held out."""
    from keyboard_app.heldout import read_heldout

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    first, second = patterned_text[:5000], patterned_text[5000:9000]
    (corpus / "a.txt").write_text(first)
    (corpus / "b.txt").write_text(second)
    heldout = tmp_path / "heldout.json"
    code, out, err = run_main(capsys, corpus, "--out", tmp_path / "bundle", *TINY, "--max-tokens", "200",
                              "--write-heldout", heldout)
    assert code == 0, err
    texts = read_heldout(heldout)
    assert len(texts) == 2
    for text, whole in zip(texts, (first, second)):
        assert whole.endswith(text) and 0 < len(text) < 0.2 * len(whole)  # the last tenth, whole lines
        assert text.startswith(whole.splitlines()[-len(text.splitlines())])


def test_a_gru_model_trains_and_exports(corpus_dir, tmp_path, capsys):
    out_dir = tmp_path / "bundle"
    code, out, err = run_main(capsys, corpus_dir, "--out", out_dir, *TINY, "--cell", "gru", "--epochs", "1")
    assert code == 0, err
    bundle = load_bundle(out_dir)
    assert bundle.cell == "gru" and list(bundle.input_names) == ["tokens", "h"]
    bundle.close()


def test_progress_json_lines_drive_a_progress_bar(corpus_dir, tmp_path, capsys):
    out_dir = tmp_path / "bundle"
    code, out, err = run_main(capsys, corpus_dir, "--out", out_dir, *TINY, "--epochs", "2",
                              "--progress-json", "--ksr-words", "50")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]  # every stdout line is JSON
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    progress = [e for e in events if e["event"] == "progress"]
    assert progress and set(progress[0]) == {"event", "tokens", "total", "loss", "tokens_per_s", "eta_s"}
    tokens = [e["tokens"] for e in progress]
    assert tokens == sorted(tokens) and tokens[-1] <= progress[-1]["total"]
    assert all(e["loss"] > 0 and e["tokens_per_s"] > 0 for e in progress)
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1.0, 2.0] and all(e["val_ppl"] > 1 for e in epochs)
    done = events[-1]
    assert done["bundle"] == str(out_dir)
    assert load_bundle(out_dir).manifest["metrics"] == done["metrics"]
    assert set(done["metrics"]["ksr"]) == {"1", "3", "5"}  # measured through the engine
    assert done["metrics"]["ksr_words"] == 50


# -- corrupt bundles ------------------------------------------------------------------

@pytest.mark.parametrize("damage, named", [
    ("truncate onnx", "model.onnx"),
    ("delete onnx", "model.onnx"),
    ("edit vocab", "vocab.json"),
    ("delete vocab", "vocab.json"),
    ("delete manifest", "manifest.json"),
])
def test_a_bundle_with_a_corrupt_or_missing_file_is_rejected_naming_it(
    tiny_bundle, tmp_path, capsys, damage, named
):
    bundle = tmp_path / "copy"
    shutil.copytree(tiny_bundle, bundle)
    action, name = damage.split()
    target = bundle / {"onnx": "model.onnx", "vocab": "vocab.json", "manifest": "manifest.json"}[name]
    if action == "delete":
        target.unlink()
    elif action == "truncate":
        target.write_bytes(target.read_bytes()[:1000])
    else:
        target.write_text(target.read_text().replace('"mat"', '"rug"'))
    with pytest.raises(ModelLoadError) as exc:
        load_bundle(bundle)
    assert named in str(exc.value)
    # and fine-tuning from it fails the same way, as a clear exit-2 error
    (tmp_path / "t.txt").write_text("a b c a b c\n" * 50)
    code, out, err = run_main(capsys, tmp_path / "t.txt", "--out", tmp_path / "new", "--init-from", bundle, *TINY)
    assert code == 2 and named in err and "Traceback" not in err
    assert not (tmp_path / "new").exists()


# -- SIGTERM and resume, through the console script -------------------------------------

def test_sigterm_stops_promptly_without_a_bundle_and_resume_finishes(tmp_path, patterned_text, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(make_long_text(patterned_text))
    out_dir = tmp_path / "bundle"
    args = [sys.executable, "-m", "model_training.cli", str(corpus), "--out", str(out_dir), *TINY,
            "--epochs", "4", "--progress-json"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        seen = []
        for line in proc.stdout:  # wait until training is under way
            seen.append(json.loads(line))
            if seen[-1]["event"] == "progress" and seen[-1]["tokens"] > 2000:
                break
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=60)  # promptly: a run that ignored it would hang here
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    last = json.loads(rest.splitlines()[-1])
    assert last["event"] == "cancelled" and last["signal"] == "SIGTERM"
    assert "Traceback" not in err
    assert not out_dir.exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]  # no half bundle anywhere
    ckpt = Path(last["checkpoint"])
    assert ckpt.is_file()

    import torch

    state = torch.load(ckpt, weights_only=True)
    step = state["counters"]["step"]
    assert step > 0 and not state["counters"]["finished"]
    # another corpus cannot continue this run
    other = tmp_path / "other.txt"
    other.write_text(corpus.read_text().replace("mat", "rug"))
    code, _, err = run_main(capsys, other, "--out", out_dir, "--resume", "--quiet", "--threads", "1")
    assert code == 2 and "the checkpoint was trained on another corpus" in err

    code = main([str(corpus), "--out", str(out_dir), "--resume", "--quiet", "--threads", "1"])
    assert code == 0
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["training"]["steps"] > step
    assert next_word(out_dir, "The cat sat on the") == "mat"


def make_long_text(patterned_text: str) -> str:
    return patterned_text * 3
