"""``keyboard-train`` from the outside: bad input, progress lines, signals, resume."""

from __future__ import annotations

import errno
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
from training_helpers import TINY_ARGS, next_word, run_main

# Tiny and fast; every run below goes through main() like the console script.
TINY = TINY_ARGS


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
    assert "latin1.txt: not UTF-8; read as Windows-1252." in err  # was 12 U+FFFD: "caf", "cr", "me"
    assert "Traceback" not in err
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert [f["path"] for f in manifest["corpus"]["files"]] == ["corpus/a.txt", "corpus/latin1.txt"]
    tokens = load_bundle(tmp_path / "bundle").vocab.tokens
    assert {"café", "naïve", "crème"} <= set(tokens) and "caf" not in tokens


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


# -- H25's findings 8, 10 and 11: a Ctrl-C while starting, a full disk, a mount point -------

@pytest.mark.parametrize("earlier_checkpoint", [False, True])
def test_a_ctrl_c_while_torch_is_imported_is_one_line(tmp_path, corpus_dir, capsys, monkeypatch,
                                                       earlier_checkpoint):
    """The signal arrives inside ``import torch`` (the first second of a run), where the
    handler's ``Interrupted`` used to escape as a 40-line traceback: now the one line and
    the exit code of any stop before training, naming an earlier run's checkpoint if any."""
    import builtins

    out = tmp_path / "model"
    if earlier_checkpoint:
        (tmp_path / "model.work").mkdir()
        (tmp_path / "model.work" / "checkpoint.pt").write_bytes(b"an earlier run's")
    real_import, fired = builtins.__import__, []

    def importing(name, *args, **kwargs):
        if name == "torch" and not fired and sys._getframe(1).f_code.co_name == "_run":
            fired.append(name)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, handled by keyboard-train's own handler
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", importing)
    code, stdout, err = run_main(capsys, corpus_dir, "--out", out, "--progress-json", *TINY)
    assert fired and code == 128 + signal.SIGINT
    if earlier_checkpoint:
        assert err == (f"keyboard-train: stopped; no bundle was written; the checkpoint "
                       f"{tmp_path / 'model.work' / 'checkpoint.pt'} is kept (continue with --resume).\n")
    else:
        assert err == "keyboard-train: stopped; no bundle was written.\n"
    assert json.loads(stdout.splitlines()[-1])["event"] == "cancelled"
    assert not out.exists()


def _tmpfs(tmp_path: Path, name: str, size: str) -> Path:
    mount = tmp_path / name
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or 'mount failed'})")
    return mount


def _umount(mount: Path) -> None:
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _many_word_triples(path: Path) -> None:
    """A text of 150,000 words drawn at random from 20,000: its word pairs and triples are
    nearly all distinct, megabytes of phrase counts (seeded: the same text every run)."""
    import random

    pick = random.Random(8).choices
    words = ["".join("abcdefghijklmnopqrstuvwxyz"[i // 26**k % 26] for k in range(4)) for i in range(20_000)]
    path.write_text("".join(" ".join(pick(words, k=15)) + " .\n" for _ in range(10_000)))


def test_an_array_written_to_a_full_disk_says_no_space_with_its_errno(tmp_path):
    """numpy's own ``tofile`` raised "70962 requested and 59888 written", with no errno
    for the trainer to recognise a full disk by; ``/dev/full`` is a disk that is always full."""
    import numpy as np

    from model_training.streaming import save_array

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with pytest.raises(OSError) as error:
        save_array(Path("/dev/full"), np.arange(100_000))
    assert error.value.errno == errno.ENOSPC
    save_array(tmp_path / "a.npy", np.arange(10, dtype=np.uint16))  # what np.save writes, byte for byte
    np.save(tmp_path / "b.npy", np.arange(10, dtype=np.uint16))
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()


def test_out_on_a_nearly_full_disk_is_one_sentence_about_its_space(tmp_path, corpus_dir, capsys):
    """--out (and so the work folder beside it) on a 1 MB disk: the phrase tables' working
    files fill it; the sentence names the folder and the room left, and nothing stays."""
    disk = _tmpfs(tmp_path, "tiny", "1m")
    _many_word_triples(corpus_dir / "more.txt")
    try:
        code, _, err = run_main(capsys, corpus_dir, "--out", disk / "model", *TINY, "--max-tokens", "500",
                                "--vocab-size", "300")
        assert code == 1 and "Traceback" not in err
        error = [line for line in err.splitlines() if "error" in line]
        assert error == [f"keyboard-train: error: {disk / 'model.work'}: no space left on the device for "
                         "the phrase tables' working files (1.0 MB free): free some space or choose "
                         "another folder with --work-dir."], err
        assert "requested and" not in err
        assert list(disk.iterdir()) == []
    finally:
        _umount(disk)


def test_a_disk_without_room_for_the_bundle_and_its_tables_is_refused_before_training(
        tmp_path, corpus_dir, capsys):
    """The room check counts the phrase tables and the lexicon (staged, then copied), not the
    graphs alone: a disk that would fill while writing the bundle is refused before training."""
    disk = _tmpfs(tmp_path, "small", "1m")
    _many_word_triples(corpus_dir / "more.txt")
    try:
        code, _, err = run_main(capsys, corpus_dir, "--out", disk / "model", "--work-dir", tmp_path / "work",
                                *TINY, "--max-tokens", "500", "--vocab-size", "300")
        assert code == 2 and "Traceback" not in err
        assert f"keyboard-train: error: {disk / 'model'}: not enough room for the model: " in err
        assert "MB free on that disk." in err
        assert "epoch" not in err and not (tmp_path / "work" / "checkpoint.pt").exists()  # no training
        assert list(disk.iterdir()) == []
    finally:
        _umount(disk)


def test_a_full_disk_the_run_did_not_word_is_named_by_its_folder(tmp_path, corpus_dir, capsys, monkeypatch):
    """Any other ENOSPC (here while keeping the prepared data) is said as the folder and the
    room left, never as a private file name or a bare "[Errno 28]"."""
    from model_training import prepared

    def full(path, array):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(prepared, "save_array", full)
    code, _, err = run_main(capsys, corpus_dir, "--out", tmp_path / "model", "--keep-prepared", *TINY)
    assert code == 1 and "Traceback" not in err
    folder = tmp_path / "model.work" / "prepared"
    assert f"keyboard-train: error: {folder}: no space left on the device (" in err
    assert "MB free): free some space, or write the model (--out) or the work folder (--work-dir)" in err


def test_out_a_mount_point_is_refused_before_reading_and_a_folder_inside_it_works(
        tmp_path, corpus_dir, capsys):
    """A bind mount, as H25 made it (``os.path.ismount`` does not see one of the same disk):
    the final rename could never replace it, so it is refused before any work, not after."""
    source, mount = tmp_path / "usbsrc", tmp_path / "usb"
    source.mkdir()
    mount.mkdir()
    proc = subprocess.run(["mount", "--bind", str(source), str(mount)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({proc.stderr.strip() or 'mount failed'})")
    try:
        code, _, err = run_main(capsys, corpus_dir, "--out", mount, *TINY)
        assert code == 2 and "Traceback" not in err
        assert err == (f"keyboard-train: error: {mount}: the model folder is a mount point (the top folder "
                       f"of a disk, such as a USB stick), which cannot be replaced; name a new folder "
                       f"inside it, such as {mount / 'model'}.\n")
        assert not (tmp_path / "usb.work").exists() and list(mount.iterdir()) == []
        code, _, err = run_main(capsys, corpus_dir, "--out", mount / "model", *TINY, "--dry-run")
        assert code == 0, err
        load_bundle(mount / "model")
    finally:
        _umount(mount)


def test_out_a_mount_point_is_refused_where_mounting_is_not_allowed(tmp_path, corpus_dir, capsys, monkeypatch):
    """The same refusal, with the mount point faked (``os.path.ismount``), for machines where
    the test may not mount."""
    out = tmp_path / "stick"
    out.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == out or real(path))
    code, _, err = run_main(capsys, corpus_dir, "--out", out, *TINY)
    assert code == 2 and "is a mount point" in err and "reading" not in err
