"""Loading a stored phrases file hands the context keys' pages back too, once checked:
a word boundary's binary search reads the few it needs back from the page cache, so
the process does not hold the whole array from the start.  Their order is still
checked across every chunk, and lookups are unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keyboard_app.engine import phrases as phrases_module
from keyboard_app.engine.phrases import Phrases, PhraseTable
from keyboard_app.engine.vocab import VocabError

ID_SPACE = 60_000


def tables(contexts: int, seed: int = 0) -> Phrases:
    """Valid order-2 and order-3 tables of ``contexts`` contexts each, 1-4 followers a context."""
    rng = np.random.default_rng(seed)
    made = {}
    for order in (2, 3):
        keys = np.unique(rng.integers(0, ID_SPACE ** (order - 1), contexts + contexts // 10))[:contexts]
        followers = rng.integers(1, 5, len(keys))
        starts = np.concatenate([[0], np.cumsum(followers)]).astype(np.int64)
        next_ids = rng.integers(0, ID_SPACE, int(starts[-1])).astype(np.int64)
        counts = rng.integers(1, 40, len(next_ids)).astype(np.int64)
        totals = np.add.reduceat(counts, starts[:-1]) + 1
        made[order] = PhraseTable(order, keys.astype(np.int64), totals.astype(np.int64), starts, next_ids, counts)
    return Phrases(ID_SPACE, 0, made, 1)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/pagemap")
def test_the_contexts_are_not_resident_after_the_load(tmp_path):
    path = tmp_path / "phrases.npz"
    tables(1_000_000).save(path)
    script = textwrap.dedent(f"""
        import json, mmap
        import numpy as np
        from keyboard_app.engine.phrases import Phrases

        def present(array):
            \"\"\"Bytes of ``array``'s pages mapped in this process (the page table's bit 63).\"\"\"
            page = mmap.PAGESIZE
            first, last = array.ctypes.data // page, (array.ctypes.data + array.nbytes - 1) // page
            with open("/proc/self/pagemap", "rb") as f:
                f.seek(first * 8)
                entries = np.frombuffer(f.read((last - first + 1) * 8), np.uint64)
            return int((entries >> np.uint64(63)).sum()) * page

        phrases = Phrases.load({str(path)!r}, {ID_SPACE}, 0, 1)
        contexts = [t.contexts for t in phrases.tables.values()]
        print(json.dumps({{"present": sum(map(present, contexts)), "contexts": sum(c.nbytes for c in contexts)}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    figures = json.loads(out)
    assert figures["contexts"] > 8_000_000  # (order 2 has at most ID_SPACE keys)
    # all read (checked) and handed back: a few pages around the last one read, at most
    assert figures["present"] < 256 * 1024, figures


def test_lookups_after_the_pages_are_handed_back_are_the_tables_written(tmp_path):
    written = tables(20_000, seed=3)
    written.save(tmp_path / "phrases.npz")
    loaded = Phrases.load(tmp_path / "phrases.npz", ID_SPACE, 0, 1)
    rng = np.random.default_rng(4)
    for order, table in written.tables.items():
        for i in rng.integers(0, len(table.contexts), 200):
            key, context = int(table.contexts[i]), []
            for _ in range(order - 1):
                key, digit = divmod(key, ID_SPACE)
                context.insert(0, digit)
            if 1 in context:  # the unknown-word id: never looked up
                continue
            got, want = loaded.followers(context, order), written.followers(context, order)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])


def damaged(tmp_path, order: int, change) -> str:
    """A small valid file whose order-``order`` contexts ``change`` alters."""
    path = tmp_path / "phrases.npz"
    tables(300, seed=5).save(path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays[f"context_{order}"] = change(arrays[f"context_{order}"].copy())
    with open(path, "wb") as f:
        phrases_module.write_aligned_npz(f, arrays)
    return path


def _swap_across(boundary):
    def change(keys):
        keys[boundary - 1], keys[boundary] = keys[boundary], keys[boundary - 1]
        return keys
    return change


def _repeat_across(boundary):
    def change(keys):
        keys[boundary] = keys[boundary - 1]
        return keys
    return change


def _first(value):
    def change(keys):
        keys[0] = value
        return keys
    return change


@pytest.mark.parametrize("order, change", [
    (2, _swap_across(7)),  # out of order exactly where one chunk ends and the next begins
    (3, _repeat_across(14)),  # a key twice, one in each chunk
    (3, _repeat_across(10)),  # a key twice inside one chunk
    (3, _swap_across(290)),  # in the last chunk
    (2, _first(-1)),  # a negative key
    (2, lambda keys: np.concatenate([keys[:-1], [ID_SPACE]])),  # past the ids of the vocabulary
])
def test_contexts_out_of_order_in_any_chunk_are_refused(tmp_path, monkeypatch, order, change):
    monkeypatch.setattr(phrases_module, "CHECK_CHUNK", 7)  # dozens of chunks
    path = damaged(tmp_path, order, change)
    with pytest.raises(VocabError, match="contexts are not sorted ids of the vocabulary"):
        Phrases.load(path, ID_SPACE, 0, 1)
