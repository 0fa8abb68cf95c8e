"""Checksums confirmed at one start, remembered for the next (keyboard_app/checksum_memo.py,
engine/bundle.py): an unchanged bundle is not read again, a changed file always is, and the
memo is only ever a cache; and where it must not be trusted or read: a system
without a change time (Windows), a memo file larger than any memo, a named pipe."""

from __future__ import annotations

import json
import os
import shutil
import time
import tracemalloc

import pytest

from keyboard_app import checksum_memo
from keyboard_app.checksum_memo import ChecksumMemo, memo_path
from keyboard_app.engine import bundle as bundle_module
from keyboard_app.engine.bundle import ModelLoadError, load_bundle


@pytest.fixture
def bundle(tiny_bundle, tmp_path, monkeypatch):
    """A copy of the tiny bundle, its files counted as settled at once (the rule that keeps
    files changed in the last two seconds out of the memo has its own test)."""
    monkeypatch.setattr(bundle_module, "SETTLED_SECONDS", 0.0)
    return shutil.copytree(tiny_bundle, tmp_path / "bundle")


@pytest.fixture
def hashed(monkeypatch):
    """The names of the files read to be hashed."""
    names: list[str] = []
    real = bundle_module.sha256_file

    def counting(path):
        names.append(path.name)
        return real(path)

    monkeypatch.setattr(bundle_module, "sha256_file", counting)
    return names


def load(path):
    memo = ChecksumMemo()
    loaded = load_bundle(path, checksums=memo)
    memo.save()
    return loaded


def test_an_unchanged_bundle_is_not_read_again_at_the_next_start(bundle, hashed):
    listed = sorted(json.loads((bundle / "manifest.json").read_text())["files"])
    load(bundle)
    assert sorted(hashed) == listed
    hashed.clear()
    again = load(bundle)
    assert hashed == [] and again.name == load_bundle(bundle).name


def test_a_file_changed_since_is_read_and_a_corrupt_one_still_refused(bundle, hashed):
    load(bundle)
    vocab = bundle / "vocab.json"
    before = vocab.stat()
    data = bytearray(vocab.read_bytes())
    data[-3] = ord("x") if data[-3] != ord("x") else ord("y")  # same size
    time.sleep(0.05)  # past the clock's tick
    vocab.write_bytes(bytes(data))
    os.utime(vocab, ns=(before.st_atime_ns, before.st_mtime_ns))  # its modification time set back
    hashed.clear()
    with pytest.raises(ModelLoadError, match=r"vocab\.json: the file is corrupt"):
        load(bundle)
    assert "vocab.json" in hashed


def test_a_file_replaced_by_another_is_read_again(bundle, hashed, tiny_bundle):
    load(bundle)
    (bundle / "model.onnx").unlink()
    shutil.copy2(tiny_bundle / "model.onnx", bundle / "model.onnx")  # same bytes, times kept, a new inode
    hashed.clear()
    load(bundle)
    assert hashed == ["model.onnx"]


def test_a_file_changed_in_the_last_seconds_is_not_remembered(tiny_bundle, tmp_path, hashed):
    fresh = shutil.copytree(tiny_bundle, tmp_path / "fresh")  # ctime: now
    load(fresh)
    hashed.clear()
    load(fresh)
    assert len(hashed) >= 3  # read again: within SETTLED_SECONDS a write could keep the same times


@pytest.mark.parametrize("content", ["not json", '{"format": "keyboard-checksums", "version": 1, "files": 7}',
                                     '{"format": "other", "version": 1, "files": []}', "[1, 2"])
def test_a_damaged_memo_costs_only_the_reading(bundle, hashed, content):
    path = memo_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    assert load(bundle).name
    assert len(hashed) >= 3
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "keyboard-checksums"  # made anew


@pytest.mark.parametrize("entry", [
    {"path": "/x/\ud800", "identity": [1, 2, 3, 4, 5], "sha256": "0" * 64},  # no file system holds the name
    {"path": "/x/a", "identity": [1, 2, 3, 4, 5], "sha256": "not hex"},
])
def test_a_crafted_memo_entry_is_dropped_and_the_model_still_loads(bundle, hashed, entry):
    path = memo_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": "keyboard-checksums", "version": 1, "files": [entry]}), encoding="utf-8")
    assert load(bundle).name  # was: UnicodeEncodeError from the save, and no model at all
    assert len(hashed) >= 3
    kept = json.loads(path.read_text(encoding="utf-8"))["files"]
    assert kept and entry["path"] not in [e["path"] for e in kept]
    assert load(bundle).name  # and at the next start too


def test_a_memo_entry_for_other_contents_does_not_pass_a_corrupt_file(bundle, hashed):
    load(bundle)
    path = memo_path()
    data = json.loads(path.read_text(encoding="utf-8"))
    for entry in data["files"]:
        entry["sha256"] = "0" * 64  # what the manifest does not say
    path.write_text(json.dumps(data), encoding="utf-8")
    hashed.clear()
    assert load(bundle).name  # every file read and found right
    assert len(hashed) >= 3


def test_an_unwritable_cache_folder_costs_only_the_reading(bundle, hashed, monkeypatch, caplog):
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(checksum_memo, "atomic_write_json", refuse)
    with caplog.at_level("INFO"):
        assert load(bundle).name
    assert "cannot remember the model files' checksums" in caplog.text


def test_the_memo_keeps_the_files_used_last(tmp_path):
    memo = ChecksumMemo(tmp_path / "memo.json")
    full = checksum_memo.MAX_ENTRIES
    for i in range(full):
        memo.remember(tmp_path / f"f{i}", (1, 2, 3, 4, 5), "a" * 64)
    memo.remember(tmp_path / "f0", (1, 2, 3, 4, 5), "a" * 64)  # used again: now the newest
    memo.remember(tmp_path / f"f{full}", (1, 2, 3, 4, 5), "a" * 64)  # one too many
    memo.save()
    again = ChecksumMemo(tmp_path / "memo.json")
    assert again.known(tmp_path / "f0", (1, 2, 3, 4, 5)) == "a" * 64
    assert again.known(tmp_path / "f1", (1, 2, 3, 4, 5)) is None  # the one used longest ago went
    assert again.known(tmp_path / f"f{full}", (1, 2, 3, 4, 5)) == "a" * 64
    assert again.known(tmp_path / "f0", (1, 2, 3, 4, 6)) is None  # another identity: unknown


def test_a_kill_while_saving_the_memo_leaves_nothing_after_the_next_start(bundle):
    """Killed between the memo's temporary file and its rename (``storage.before-rename``):
    the model still loads at the next start, which removes the leftover."""
    import subprocess
    import sys

    newest = max(p.stat().st_ctime for p in bundle.iterdir())
    time.sleep(max(0.0, newest + 2.2 - time.time()))  # settled for a process with the real rule
    code = ("from pathlib import Path; from keyboard_app.predictors import load_predictor; "
            f"load_predictor(Path({str(bundle)!r}))")
    killed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "KEYBOARD_FAULT": "storage.before-rename"})
    assert killed.returncode == -9, killed.stderr
    folder = memo_path().parent
    assert list(folder.glob(".bundle-checksums.json.*.tmp")) and not memo_path().exists()
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert not list(folder.glob(".bundle-checksums.json.*.tmp")) and memo_path().exists()


# -- where the memo must not be trusted or read ------------------------------------


def test_where_the_change_time_is_the_creation_time_every_file_is_hashed_at_every_load(bundle, hashed,
                                                                                       monkeypatch):
    """Windows: ``st_ctime`` is when the file was created, so an edit of the same size with its
    modification time put back keeps every field of the identity; the memo must not vouch."""
    monkeypatch.setattr(checksum_memo, "change_time_kept", lambda: False)
    listed = sorted(json.loads((bundle / "manifest.json").read_text())["files"])
    load(bundle)
    hashed.clear()
    load(bundle)
    assert sorted(hashed) == listed  # all read again, as without a memo
    assert not memo_path().exists()  # nothing remembered, nothing written

    # The case itself, with the identity a Windows stat gives (creation time for st_ctime):
    # a memo trusted there would let this corrupt file through.
    monkeypatch.setattr(bundle_module, "file_identity", lambda st: (st.st_size, st.st_mtime_ns, 0, 0, 0))
    load(bundle)
    vocab = bundle / "vocab.json"
    before = vocab.stat()
    data = bytearray(vocab.read_bytes())
    data[-3] = ord("x") if data[-3] != ord("x") else ord("y")  # same size
    vocab.write_bytes(bytes(data))
    os.utime(vocab, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ModelLoadError, match=r"vocab\.json: the file is corrupt"):
        load(bundle)


def test_where_the_change_time_is_kept_the_memo_is_used(bundle, hashed):
    """The other side of the check: on this (POSIX) system the memo saves the reading."""
    assert checksum_memo.change_time_kept()
    load(bundle)
    hashed.clear()
    load(bundle)
    assert hashed == []


def test_a_memo_file_larger_than_any_memo_is_not_read(bundle, hashed, caplog):
    """A crafted 200 MB memo (under jsonfile's general cap of 256 MB) would be read whole,
    and decoded, at every start; it is judged by its size and ignored with one log line."""
    path = memo_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(200 * 10**6)  # sparse: no disk taken
    tracemalloc.start()
    try:
        with caplog.at_level("INFO", logger="keyboard_app.checksum_memo"):
            memo = ChecksumMemo()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024**2, f"{peak / 1e6:.0f} MB allocated to read the memo"
    lines = [r.getMessage() for r in caplog.records if r.name == "keyboard_app.checksum_memo"]
    assert len(lines) == 1 and "200 MB" in lines[0] and "checked in full" in lines[0], lines
    assert memo.known(bundle / "vocab.json", (1, 2, 3, 4, 5)) is None
    assert load(bundle).name and len(hashed) >= 3  # the model loads, its files read
    assert path.stat().st_size < checksum_memo.MAX_BYTES  # replaced by a real memo
    hashed.clear()
    load(bundle)
    assert hashed == []


def test_the_size_cap_holds_a_full_memo_of_the_longest_paths(tmp_path):
    """The cap is sized from the entries a memo can hold: a full one of the longest names,
    and the most escapes, is still read."""
    memo = ChecksumMemo(tmp_path / "memo.json")
    name_bytes = 4096 - len(str(tmp_path)) - 8
    for i in range(checksum_memo.MAX_ENTRIES):
        memo.remember(tmp_path / (f"{i:03d}" + "\x01" * (name_bytes - 3)), (2**63 - 1,) * 5, "a" * 64)
    memo.save()
    assert (tmp_path / "memo.json").stat().st_size > checksum_memo.MAX_BYTES * 0.7
    again = ChecksumMemo(tmp_path / "memo.json")
    assert again.known(tmp_path / ("063" + "\x01" * (name_bytes - 3)), (2**63 - 1,) * 5) == "a" * 64


def test_a_memo_that_is_a_named_pipe_is_not_waited_on(tmp_path, caplog):
    """A FIFO in the memo's place would block the app's start at the read; it is passed over."""
    import logging
    import threading

    path = tmp_path / "bundle-checksums.json"
    os.mkfifo(path)
    made = []
    worker = threading.Thread(target=lambda: made.append(ChecksumMemo(path)), daemon=True)
    with caplog.at_level(logging.INFO, logger="keyboard_app.checksum_memo"):
        worker.start()
        worker.join(30)
    if worker.is_alive():  # blocked on the pipe: open a writer so the thread can end, then fail
        with open(path, "w"):
            pass
        worker.join(5)
        pytest.fail("reading the memo blocked on a named pipe")
    assert made and made[0].known(tmp_path / "x", (1, 2)) is None
    assert "not a regular file" in caplog.text
