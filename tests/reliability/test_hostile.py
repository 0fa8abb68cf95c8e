"""What a hostile tester found after the first round of issue 11, replayed.

Folders that look like our leftovers but are the user's, exports over the
user's files or into the model itself, folder modes, a second signal while
stopping, a reader that goes away, work folders that cannot work, pipes and
devices given as text, a corpus that changes while it is read, names too
long to stage beside.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keyboard_app.engine.bundle import load_bundle, write_bundle
from keyboard_app.engine.staging import recover
from keyboard_app.model_store import ModelStore, ModelStoreError

from .conftest import REPO, Outcome, assert_clean_failure, assert_intact, snapshot
from .test_destination import DEAD_PID, TINY, train


@pytest.fixture
def corpus(tmp_path, patterned_text) -> Path:
    text = tmp_path / "c.txt"
    text.write_text(patterned_text[:5000], encoding="utf-8")
    return text


# -- leftovers: only what we provably wrote is removed ------------------------------------

def test_folders_of_the_user_named_like_our_leftovers_are_never_removed(tmp_path, corpus, capsys):
    model = tmp_path / "model"
    model.mkdir()
    (model / "thesis.txt").write_text("mine\n")
    old = tmp_path / f".model.old-{DEAD_PID}"  # not a bundle: the user's
    old.mkdir()
    (old / "notes.txt").write_text("notes\n")
    partial = tmp_path / f".model.partial-{DEAD_PID}"  # no marker, not a bundle
    partial.mkdir()
    (partial / "draft.txt").write_text("draft\n")
    (tmp_path / f".model.export-{DEAD_PID}-final").write_text("a file of mine\n")
    before = snapshot(tmp_path)
    assert recover(model) == []
    result = train(capsys, corpus, "--out", model, *TINY)
    assert_clean_failure(result, code=2, names=model, says="not a model bundle")
    assert_intact(before, tmp_path)
    assert "removed" not in result.stderr


# -- exports ------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path, tiny_bundle):
    models = tmp_path / "models"
    store = ModelStore(models_dir=models, default_path=tiny_bundle)
    key = store.import_bundle(tiny_bundle)
    return store, key


def test_a_zip_export_never_replaces_a_file_unasked(tmp_path, store):
    store, key = store
    thesis = tmp_path / "thesis.zip"
    thesis.write_bytes(b"my own archive")
    with pytest.raises(ModelStoreError, match="already exists"):
        store.export(key, thesis)
    assert thesis.read_bytes() == b"my own archive"
    store.export(key, thesis, replace=True)  # the user said yes
    load_bundle(thesis).close()


@pytest.mark.parametrize("where", ["inside the model", "inside the models folder"])
@pytest.mark.parametrize("name", ["copy.zip", "sub"])
def test_an_export_into_the_model_or_the_models_folder_is_refused(where, name, store):
    store, key = store
    source = store.path_for(key)
    folder = source if where == "inside the model" else store.models_dir
    before = snapshot(store.models_dir)
    with pytest.raises(ModelStoreError, match="cannot export into"):
        store.export(key, folder / name)
    assert snapshot(store.models_dir) == before


def test_an_export_under_a_file_is_a_store_error(tmp_path, store):
    store, key = store
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ModelStoreError):
        store.export(key, tmp_path / "afile" / "model")


# -- folder modes -------------------------------------------------------------------------

def test_writing_a_bundle_keeps_the_mode_of_the_folder_it_replaces(tmp_path, tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    files = {n: tiny_bundle / n for n in bundle.manifest["files"]}
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o775)
    write_bundle(shared, bundle.manifest, files)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o775
    old = os.umask(0o027)
    try:
        write_bundle(tmp_path / "fresh", bundle.manifest, files)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o750  # the umask's, not mkdtemp's 0700


# -- signals and readers ------------------------------------------------------------------

def _popen(corpus: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "model_training.cli", str(corpus), "--out", str(out), *TINY, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def test_a_second_ctrl_c_while_stopping_changes_nothing(tmp_path, corpus):
    """Ctrl-C pressed again and again while the run stops (checkpoint, exit): one stop,
    one sentence, a checkpoint that loads, and no traceback at the interpreter's exit."""
    proc = _popen(corpus, tmp_path / "o", "--progress-json", "--epochs", "50")
    try:
        while json.loads(proc.stdout.readline())["event"] != "progress":
            pass
        for pause in (0.01, 0.01, 0.05, 0.1, 0.2):
            proc.send_signal(signal.SIGINT)
            time.sleep(pause)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert proc.returncode == 130, err
    import torch

    assert torch.load(tmp_path / "o.work" / "checkpoint.pt", weights_only=True)["counters"]["step"] > 0


def test_a_progress_reader_that_goes_away_stops_the_run_in_one_sentence(tmp_path, corpus):
    proc = _popen(corpus, tmp_path / "o", "--progress-json", "--epochs", "50")
    try:
        while json.loads(proc.stdout.readline())["event"] != "progress":
            pass
        proc.stdout.close()  # the app died
        err = proc.stderr.read()
        proc.wait(timeout=120)
    finally:
        proc.kill()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 128 + signal.SIGPIPE, err
    assert "stopped" in err
    assert not (tmp_path / "o").exists()


# -- work folders that cannot work --------------------------------------------------------

@pytest.mark.parametrize("case", ["a file", "inside the bundle folder"])
def test_a_work_folder_that_cannot_work_is_refused_before_reading(case, tmp_path, corpus, capsys):
    out = tmp_path / "model"
    if case == "a file":
        work = tmp_path / "afile"
        work.write_text("mine\n")
    else:
        work = out / "work"
    before = snapshot(tmp_path)
    result = train(capsys, corpus, "--out", out, "--work-dir", work, "--progress-json", *TINY)
    assert_clean_failure(result, code=2, names=work)
    assert "progress" not in [json.loads(line)["event"] for line in result.stdout.splitlines()]
    assert_intact(before, tmp_path)


# -- pipes and devices as text ------------------------------------------------------------

def test_a_pipe_named_as_the_corpus_is_skipped_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = train(capsys, fifo, "--out", tmp_path / "o", *TINY)
    assert_clean_failure(result, code=2, says="empty")
    assert "not a regular file" in result.stderr


@pytest.mark.parametrize("text", ["/dev/zero", "fifo", "folder"])
def test_keyboard_eval_refuses_what_is_not_a_text_file(text, tmp_path, tiny_bundle):
    if text == "fifo":
        text = tmp_path / "fifo"
        os.mkfifo(text)
    elif text == "folder":
        text = tmp_path
    proc = subprocess.run([sys.executable, "-c", "import sys; from keyboard_app.engine.cli import eval_main; "
                           "sys.exit(eval_main(sys.argv[1:]))", str(tiny_bundle), str(text)],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert_clean_failure(Outcome(proc.returncode, proc.stdout, proc.stderr), code=2, says="not a regular file")


def test_absurd_thread_counts_are_refused(tiny_bundle):
    proc = subprocess.run([sys.executable, "-c", "import sys; from keyboard_app.engine.cli import suggest_main; "
                           "sys.exit(suggest_main(sys.argv[1:]))", str(tiny_bundle), "the ", "--threads", "100000"],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 2 and "at most 64" in proc.stderr and "Traceback" not in proc.stderr


def test_output_to_a_full_device_is_one_sentence(tiny_bundle):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-c", "import sys; from keyboard_app.engine.cli import suggest_main; "
                               "sys.exit(suggest_main(sys.argv[1:]))", str(tiny_bundle), "the "],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 1 and "could not be written" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


# -- a corpus that changes while it is read; a name too long -------------------------------

def test_a_corpus_that_grows_between_the_two_passes_is_named(tmp_path, corpus, capsys, monkeypatch):
    import model_training.pipeline as pipeline

    real = pipeline.encode_corpus

    def grow_then_encode(files, *args, **kwargs):
        with open(corpus, "a", encoding="utf-8") as f:
            f.write("The cat sat on the mat again and again.\n" * 50)
        return real(files, *args, **kwargs)

    monkeypatch.setattr(pipeline, "encode_corpus", grow_then_encode)
    result = train(capsys, corpus, "--out", tmp_path / "o", *TINY)
    assert_clean_failure(result, code=2, names=corpus, says="changed while it was being read")


def test_a_name_too_long_to_stage_beside_is_refused_plainly(tmp_path, corpus, capsys):
    out = tmp_path / ("m" * 250)
    result = train(capsys, corpus, "--out", out, *TINY)
    assert_clean_failure(result, code=2, says="keep it under 200")


def test_a_stopped_run_leaves_the_callers_signal_handlers_as_they_were(tmp_path, corpus, capsys, monkeypatch):
    """main() in a process that goes on (the tests, a caller) restores the handlers: an
    ignored SIGTERM left behind would be inherited by every child it starts (it was, and a
    later test's trainer could no longer be cancelled)."""
    import model_training.pipeline as pipeline

    def stopped(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)

    monkeypatch.setattr(pipeline, "train_bundle", stopped)
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    result = train(capsys, corpus, "--out", tmp_path / "o", *TINY)
    assert result.returncode == 130, result.output
    assert {s: signal.getsignal(s) for s in before} == before
