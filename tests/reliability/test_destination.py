"""Where a model is written: ``--out`` never replaces what is not a bundle, a
swap cut short is repaired, and a failure names the user's folder.

Issue 11, items 1, 2, 9 (staging paths in messages), 10 and 15 (staging
leftovers).  Refusals go through ``keyboard-train``'s ``main`` (the console
script's code) in this process; kills go through a real process killed at a
named fault point (``engine.faults``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keyboard_app.engine.bundle import load_bundle, write_bundle
from keyboard_app.engine.staging import (
    BundleWriteError, DestinationError, check_destination, recover, recover_folder,
)
from keyboard_app.model_store import ModelStore
from model_training.cli import main

from .conftest import Outcome, assert_clean_failure, assert_intact, fill, run_module, snapshot

TINY = ["--embedding-dim", "16", "--hidden-size", "24", "--batch-size", "4", "--bptt", "8",
        "--vocab-size", "0", "--min-count", "1", "--heldout-fraction", "0.1", "--quiet",
        "--threads", "1", "--ksr-words", "0", "--warmup", "5", "--lr", "0.01", "--epochs", "1"]
DEAD_PID = 2**22 + 12345  # above Linux's pid_max default: never a live process


def train(capsys, *argv) -> Outcome:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


@pytest.fixture
def corpus(tmp_path, patterned_text) -> Path:
    folder = tmp_path / "writing"
    folder.mkdir()
    (folder / "text.txt").write_text(patterned_text[:5000], encoding="utf-8")
    return folder


@pytest.fixture
def old_bundle(tmp_path, tiny_bundle) -> Path:
    """A copy of a real bundle, with the user's own notes beside its files."""
    folder = tmp_path / "my-model"
    shutil.copytree(tiny_bundle, folder)
    (folder / "NOTES.md").write_text("my notes on this model\n")
    return folder


# -- item 1: --out that is not ours to replace --------------------------------------------

def _refused_destinations(tmp_path: Path, corpus: Path):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "thesis.txt").write_text("Chapter one.\n")
    (thesis / "figures").mkdir()
    (thesis / "figures" / "plot.png").write_bytes(b"\x89PNG...")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("do not lose me\n")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    half = tmp_path / "half-bundle"  # a manifest that says bundle, and a folder of the user's
    half.mkdir()
    (half / "manifest.json").write_text(json.dumps({"format": "keyboard-model-bundle"}))
    (half / "photos").mkdir()
    (half / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    return {
        "a folder of the user's files": (thesis, "not a model bundle"),
        "the corpus folder itself": (corpus, "the corpus"),
        "a folder inside the corpus": (corpus / "model", "lies inside the corpus"),
        "a folder holding the corpus": (tmp_path, "holds the corpus"),
        "an existing file": (a_file, "is a file"),
        "a symbolic link": (link, "symbolic link"),
        "a bundle manifest beside a folder": (half, "not a model bundle"),
    }


CASES = ["a folder of the user's files", "the corpus folder itself", "a folder inside the corpus",
         "a folder holding the corpus", "an existing file", "a symbolic link",
         "a bundle manifest beside a folder"]


@pytest.mark.parametrize("case", CASES)
def test_out_that_is_not_ours_is_refused_and_nothing_is_touched(case, tmp_path, corpus, capsys):
    out, says = _refused_destinations(tmp_path, corpus)[case]
    before = snapshot(tmp_path)
    result = train(capsys, corpus, "--out", out, *TINY)
    assert_clean_failure(result, code=2, names=out, says=says)
    assert_intact(before, tmp_path)
    after = snapshot(tmp_path)
    assert set(after) == set(before), f"created: {sorted(set(after) - set(before))}"  # no work folder either


def test_the_corpus_named_as_a_file_is_protected_too(tmp_path, corpus, capsys):
    text = corpus / "text.txt"
    before = snapshot(tmp_path)
    result = train(capsys, text, "--out", text, *TINY)
    assert_clean_failure(result, code=2, names=text, says="corpus")
    assert_intact(before, tmp_path)


def test_a_work_folder_inside_the_corpus_is_refused(tmp_path, corpus, capsys):
    before = snapshot(tmp_path)
    result = train(capsys, corpus, "--out", tmp_path / "new", "--work-dir", corpus / "work", *TINY)
    assert_clean_failure(result, code=2, names=corpus / "work", says="corpus")
    assert snapshot(tmp_path) == before


def test_an_empty_or_missing_folder_is_written(tmp_path, corpus, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (empty, tmp_path / "deep" / "new" / "model"):
        result = train(capsys, corpus, "--out", out, *TINY)
        assert result.returncode == 0, result.output
        load_bundle(out).close()


def test_an_existing_bundle_is_replaced_keeping_the_users_files_beside_it(old_bundle, corpus, capsys):
    notes = (old_bundle / "NOTES.md").read_bytes()
    old_sha = json.loads((old_bundle / "manifest.json").read_text())["corpus"]["sha256"]
    result = train(capsys, corpus, "--out", old_bundle, *TINY)
    assert result.returncode == 0, result.output
    manifest = json.loads((old_bundle / "manifest.json").read_text())
    assert manifest["corpus"]["sha256"] != old_sha  # the new model is in place
    assert (old_bundle / "NOTES.md").read_bytes() == notes
    load_bundle(old_bundle).close()
    assert not [p.name for p in old_bundle.parent.iterdir() if p.name.startswith(".my-model.")]


# -- item 10: an unwritable or full destination is refused before any training ---------------

def _mount(tmp_path: Path, name: str, *options: str) -> Path:
    mount = tmp_path / name
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(("size=4m",) + options), "tmpfs",
                           str(mount)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or 'mount failed'})")
    return mount


def _umount(mount: Path) -> None:
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_read_only_destination_is_refused_before_reading_the_corpus(tmp_path, corpus, capsys):
    mount = _mount(tmp_path, "ro", "ro")
    try:
        result = train(capsys, corpus, "--out", mount / "model", "--progress-json", *TINY)
        assert_clean_failure(result, code=2, names=mount / "model", says="cannot be written")
        events = [json.loads(line)["event"] for line in result.stdout.splitlines()]
        assert "start" not in events and "reading" not in events  # refused before the corpus was read
    finally:
        _umount(mount)


def test_a_full_destination_disk_is_refused_before_training(tmp_path, corpus, capsys):
    mount = _mount(tmp_path, "full")
    try:
        fill(mount, leave=16 * 1024)
        result = train(capsys, corpus, "--out", mount / "model", "--work-dir", tmp_path / "work",
                       "--progress-json", *TINY)
        assert_clean_failure(result, code=2, names=mount / "model", says="not enough room")
        assert "progress" not in [json.loads(line)["event"] for line in result.stdout.splitlines()]
        assert not (mount / "model").exists()
    finally:
        _umount(mount)


def test_a_disk_that_fills_while_writing_names_the_bundle_not_a_staging_path(tmp_path, tiny_bundle):
    mount = _mount(tmp_path, "filling")
    try:
        dest = mount / "model"
        shutil.copytree(tiny_bundle, dest)
        before = snapshot(mount)
        fill(mount, leave=8 * 1024)
        bundle = load_bundle(tiny_bundle)
        files = {name: tiny_bundle / name for name in bundle.manifest["files"]}
        with pytest.raises(BundleWriteError) as caught:
            write_bundle(dest, bundle.manifest, files)
        message = str(caught.value)
        assert message.startswith(f"{dest}: ") and "disk is full" in message
        assert ".partial-" not in message
        assert_intact(before, mount)  # the old bundle, whole
        assert not [p for p in mount.iterdir() if ".partial-" in p.name]
    finally:
        _umount(mount)


# -- item 2: a kill between the two renames of the swap -------------------------------------

def _kill_run(corpus: Path, out: Path, point: str, *extra: str) -> Outcome:
    return run_module("model_training.cli", corpus, "--out", out, *TINY, *extra,
                      env={"KEYBOARD_FAULT": point})


def test_a_kill_between_the_renames_is_repaired_by_the_next_run(old_bundle, corpus):
    before = snapshot(old_bundle)
    killed = _kill_run(corpus, old_bundle, "bundle.swapped-out")
    assert killed.returncode == -9, killed.output
    assert not old_bundle.exists()  # the worst moment: neither bundle is at --out
    assert [p.name for p in old_bundle.parent.iterdir() if p.name.startswith(".my-model.old-")]

    # the next run repairs --out before anything else (stopped right after, to look)
    again = _kill_run(corpus, old_bundle, "train.destination-checked")
    assert again.returncode == -9
    assert "restored the previous model" in again.stderr
    assert snapshot(old_bundle) == before
    assert not [p.name for p in old_bundle.parent.iterdir() if p.name.startswith(".my-model.")]


def test_a_kill_after_the_swap_keeps_the_new_bundle_and_drops_the_old_copy(old_bundle, corpus):
    killed = _kill_run(corpus, old_bundle, "bundle.swapped-in")
    assert killed.returncode == -9
    new = snapshot(old_bundle)
    assert recover(old_bundle)  # what the next run or the app does first
    assert snapshot(old_bundle) == new
    load_bundle(old_bundle).close()
    assert not [p.name for p in old_bundle.parent.iterdir() if p.name.startswith(".my-model.")]


def test_a_kill_during_export_leaves_nothing_once_recovered(tmp_path, corpus):
    out = tmp_path / "fresh"
    killed = _kill_run(corpus, out, "export.graph-written")
    assert killed.returncode == -9
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".fresh.")]
    assert left and all(".export-" in name for name in left)
    assert not out.exists()
    recover(out)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".fresh.")]


def test_the_app_repairs_its_models_folder_when_it_opens(tmp_path, tiny_bundle):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copytree(tiny_bundle, models / f".mine.old-{DEAD_PID}")  # swapped out, then killed
    shutil.copytree(tiny_bundle, models / f".other.partial-{DEAD_PID}-x1")  # half an import
    shutil.copytree(tiny_bundle, models / f".gone.deleting-{DEAD_PID}-ab")  # a delete cut short
    live = models / f".busy.partial-{os.getpid()}-x2"  # another copy still writing
    live.mkdir()
    store = ModelStore(models_dir=models, default_path=tiny_bundle)
    assert any("restored the previous model" in line for line in store.recovered)
    assert sorted(p.name for p in models.iterdir()) == [live.name, "mine"]
    assert [m.key for m in store.list()][1:] == ["user:mine"]
    assert store.info("user:mine").problem is None


def test_leftovers_without_a_process_id_are_kept_until_stale(tmp_path, tiny_bundle):
    """Half-written bundles of the earlier naming (no pid) go once a day old; a
    folder of the user's with such a name never does."""
    young, old, users = tmp_path / ".a.partial-x", tmp_path / ".b.partial", tmp_path / ".c.partial"
    shutil.copytree(tiny_bundle, young)
    shutil.copytree(tiny_bundle, old)
    users.mkdir()
    (users / "draft.txt").write_text("mine\n")
    for folder in (old, users):
        os.utime(folder, (0, 0))
    recover_folder(tmp_path)
    assert young.exists() and not old.exists() and (users / "draft.txt").exists()


def test_check_destination_is_the_one_rule(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(DestinationError, match="is a file"):
        check_destination(tmp_path / "f")
    assert check_destination(tmp_path / "new") == tmp_path / "new"
    with pytest.raises(DestinationError, match="not enough room"):
        check_destination(tmp_path / "new", needed_bytes=2**62)


def test_a_graph_that_fails_validation_is_named_by_the_bundle_not_the_staging_folder(tmp_path, tiny_bundle):
    from keyboard_app.engine.bundle import ModelLoadError

    def broken_graph(folder):
        raise ModelLoadError(f"{folder / 'model.onnx'}: the graph does not open (a broken node).")

    bundle = load_bundle(tiny_bundle)
    dest = tmp_path / "model"
    with pytest.raises(ModelLoadError) as caught:
        write_bundle(dest, bundle.manifest, {n: tiny_bundle / n for n in bundle.manifest["files"]},
                     validate=broken_graph)
    assert str(caught.value) == f"{dest / 'model.onnx'}: the graph does not open (a broken node)."
    assert not dest.exists() and list(tmp_path.iterdir()) == []


def test_out_as_the_current_folder_is_written_when_empty_and_refused_when_it_holds_the_corpus(
        tmp_path, corpus, capsys, monkeypatch):
    empty = tmp_path / "here"
    empty.mkdir()
    monkeypatch.chdir(empty)
    result = train(capsys, corpus, "--out", ".", *TINY)  # was a traceback: "'.' has an empty name"
    assert result.returncode == 0, result.output
    load_bundle(empty).close()
    monkeypatch.chdir(corpus)
    before = snapshot(tmp_path / "writing")
    result = train(capsys, "text.txt", "--out", ".", *TINY)
    assert_clean_failure(result, code=2, names=corpus, says="corpus")
    assert_intact(before, tmp_path / "writing")


def test_where_os_kill_cannot_ask_whether_a_process_lives_psutil_answers(monkeypatch):
    # Windows: os.kill(pid, 0) would end the process; psutil (a dependency there) answers, and
    # without it every process counts as alive, so a leftover is only ever left, never removed.
    import sys
    import types

    from keyboard_app.engine import staging

    monkeypatch.setattr(staging.os, "name", "nt")
    monkeypatch.setitem(sys.modules, "psutil", types.SimpleNamespace(pid_exists=lambda pid: pid == 4242))
    assert staging.process_alive(4242) and not staging.process_alive(4243)
    monkeypatch.setitem(sys.modules, "psutil", None)  # not installed: cannot tell
    assert staging.process_alive(4243)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_process_that_ended_but_was_not_reaped_is_not_alive():
    """A zombie (ended, its parent not waiting for it yet: a launcher that never does) still
    answers os.kill(pid, 0): the copy of an unsaved text it wrote was then never offered (H68)."""
    import time

    from keyboard_app.engine import staging

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 10
        while staging._linux_stat(child.pid)[0] != b"Z" and time.monotonic() < deadline:
            time.sleep(0.02)  # (not waited for: it stays a zombie)
        assert staging._linux_stat(child.pid)[0] == b"Z"
        assert not staging.process_alive(child.pid)
        assert not staging.process_alive(child.pid, since=time.time() - 60)
    finally:
        child.wait()
    assert staging.process_alive(os.getpid())


@pytest.mark.parametrize("pid", [0, -1, 2**31, 2**64])
def test_a_number_no_process_has_is_not_alive_and_raises_nothing(pid):
    from keyboard_app.engine import staging

    assert not staging.process_alive(pid, since=1.0)
