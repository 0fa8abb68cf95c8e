"""Loading a stored phrases file checks every entry a chunk at a time and hands each
chunk's pages back: the whole file is never resident at once (it was, for a moment,
at every start), and damage in any chunk is still found."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keyboard_app.engine import phrases as phrases_module
from keyboard_app.engine.phrases import PHRASES_FORMAT, PHRASES_FORMAT_VERSION, Phrases, PhraseTable, write_aligned_npz
from keyboard_app.engine.vocab import VocabError

from text_helpers import random_phrase_tables

ID_SPACE = 60_000


def large_tables(contexts: int, seed: int = 0) -> Phrases:
    """Valid order-2 and order-3 tables of up to ``contexts`` contexts each, 1-12
    followers a context (the default model's triples have 2.3)."""
    tables = random_phrase_tables(ID_SPACE, contexts, seed, draws=contexts + contexts // 10,
                                  max_followers=12, max_count=39)
    return Phrases(ID_SPACE, 0, tables, 1)


def load_figures(path, warm: bool = False) -> dict:
    """Peak and resident growth of ``Phrases.load(path)`` in a fresh process, what the
    loaded tables keep, and their entries; ``warm``: the file read first, so that it is
    in the page cache, as at a later start."""
    script = textwrap.dedent(f"""
        import json
        from keyboard_app.engine.phrases import Phrases

        if {warm!r}:
            with open({str(path)!r}, "rb") as f:
                while f.read(1 << 20):
                    pass

        def status():
            fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
            return {{k: int(fields[k].split()[0]) * 1024 for k in ("VmHWM", "VmRSS")}}

        before = status()
        phrases = Phrases.load({str(path)!r}, {ID_SPACE}, 0, 1)
        after = status()
        kept = sum(t.contexts.nbytes + t.starts.nbytes for t in phrases.tables.values())
        print(json.dumps({{"peak": after["VmHWM"] - before["VmHWM"], "resident": after["VmRSS"] - before["VmRSS"],
                          "kept": kept, "entries": len(phrases)}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_loading_a_stored_file_never_holds_all_of_it(tmp_path):
    path = tmp_path / "phrases.npz"
    large_tables(700_000).save(path)
    size = path.stat().st_size
    figures = load_figures(path)
    assert figures["entries"] > 4_000_000
    # what stays: the context keys and the followers' offsets, and a few chunks' worth beyond them
    chunk_bytes = 4 * 8 * phrases_module.CHECK_CHUNK
    assert figures["resident"] < figures["kept"] + 2 * chunk_bytes, figures
    assert figures["peak"] < figures["kept"] + 2 * chunk_bytes, figures
    assert figures["peak"] < 0.6 * size, (figures, size)  # the whole file would be 100%


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_a_table_of_many_followers_a_context_is_not_resident_at_once(tmp_path):
    # An order-2 table has fewer contexts than CHECK_CHUNK: its counts must still be
    # checked a slice of about CHECK_CHUNK entries at a time, not all at once.
    contexts, followers = 60_000, 200  # a larger corpus's pairs: 12M entries
    m = contexts * followers
    arrays = {"format": np.array(PHRASES_FORMAT), "format_version": np.array(PHRASES_FORMAT_VERSION),
              "vocab_size": np.array(ID_SPACE), "lexicon_size": np.array(0), "orders": np.array([2], np.int64),
              "context_2": np.arange(contexts, dtype=np.int64),
              "total_2": np.full(contexts, 3 * followers, np.uint32),
              "followers_2": np.full(contexts, followers, np.uint32),
              "next_2": ((np.arange(m) % followers) * (ID_SPACE // followers)).astype(np.uint16),
              "count_2": np.full(m, 3, np.uint32)}
    path = tmp_path / "phrases.npz"
    with open(path, "wb") as f:
        write_aligned_npz(f, arrays)
    del arrays
    figures = load_figures(path, warm=True)
    assert figures["entries"] == m
    chunk_bytes = 4 * 8 * phrases_module.CHECK_CHUNK  # (count_2 alone is 48 MB)
    assert figures["peak"] < figures["kept"] + 2 * chunk_bytes, (figures, path.stat().st_size)


def small_file(tmp_path, **changes):
    """A valid file of a few thousand entries with some arrays changed."""
    path = tmp_path / "phrases.npz"
    large_tables(500, seed=1).save(path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    for name, change in changes.items():
        arrays[name] = change(arrays[name].copy())
    with open(path, "wb") as f:
        phrases_module.write_aligned_npz(f, arrays)
    return path


def _set_last(value):
    def change(array):
        array[-1] = value
        return array
    return change


@pytest.mark.parametrize("changes, message", [
    ({"count_3": lambda a: np.concatenate([a[:-1], a[-1:] * 1000])}, "counts exceed their contexts' totals"),
    ({"next_3": _set_last(ID_SPACE)}, "not ids of the vocabulary"),
    ({"count_2": _set_last(0)}, "positive counts"),
    ({"followers_3": _set_last(0)}, "has no follower"),
])
def test_damage_in_the_last_chunk_is_found(tmp_path, monkeypatch, changes, message):
    monkeypatch.setattr(phrases_module, "CHECK_CHUNK", 7)  # hundreds of chunks
    path = small_file(tmp_path, **changes)
    with pytest.raises(VocabError, match=message):
        Phrases.load(path, ID_SPACE, 0, 1)


def test_checked_in_small_chunks_the_tables_are_the_ones_written(tmp_path, monkeypatch):
    monkeypatch.setattr(phrases_module, "CHECK_CHUNK", 7)
    written = large_tables(500, seed=2)
    written.save(tmp_path / "phrases.npz")
    loaded = Phrases.load(tmp_path / "phrases.npz", ID_SPACE, 0, 1)
    for order, table in written.tables.items():
        got = loaded.tables[order]
        for name in ("contexts", "totals", "starts", "next_ids", "counts"):
            np.testing.assert_array_equal(getattr(got, name), getattr(table, name), err_msg=f"{order} {name}")


@pytest.mark.parametrize("followers", [[1, 2**32 - 1, 3], [2**32 - 1, 1, 3]])
def test_follower_counts_that_would_wrap_the_offsets_are_refused(tmp_path, followers):
    """Counts summing to the entries plus 2**32: the offsets are summed in 64 bits, so
    the damage is found, not wrapped into plausible offsets (or an IndexError)."""
    keys = np.array([1, 2, 3], np.int64)
    table = PhraseTable(2, keys, np.array([4, 4, 4], np.int64), np.array([0, 1, 2, 3], np.int64),
                        np.array([5, 6, 7], np.int64), np.array([2, 2, 2], np.int64))
    path = tmp_path / "phrases.npz"
    Phrases(100, 0, {2: table}, 1).save(path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["followers_2"] = np.array(followers, np.uint32)
    with open(path, "wb") as f:
        phrases_module.write_aligned_npz(f, arrays)
    with pytest.raises(VocabError, match="disagree in length"):
        Phrases.load(path, 100, 0, 1)
