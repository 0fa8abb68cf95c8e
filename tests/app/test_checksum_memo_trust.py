"""Where the remembered checksums (keyboard_app/checksum_memo.py) must not be trusted or read:
a system without a change time (Windows), and a memo file larger than any memo."""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc

import pytest

from keyboard_app import checksum_memo
from keyboard_app.checksum_memo import ChecksumMemo, memo_path
from keyboard_app.engine import bundle as bundle_module
from keyboard_app.engine.bundle import ModelLoadError, load_bundle


@pytest.fixture
def bundle(tiny_bundle, tmp_path, monkeypatch):
    """A copy of the tiny bundle whose files count as settled at once."""
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
