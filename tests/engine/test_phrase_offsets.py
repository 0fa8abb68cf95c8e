"""A loaded phrase table keeps every ``OFFSET_BLOCK``-th of its followers' offsets, not
one per context, and finds the rest from the file's follower numbers: every offset,
every slice of them and every context's followers must be what the full array of
offsets gives, whatever the check's chunks (``CHECK_CHUNK``), and a file whose numbers
do not add up to its entries is still refused."""

from __future__ import annotations

import numpy as np
import pytest

from keyboard_app.engine import phrases as phrases_module
from keyboard_app.engine.phrases import OFFSET_BLOCK, Offsets, Phrases, PhraseTable
from keyboard_app.engine.vocab import VocabError

from text_helpers import random_phrase_tables

ID_SPACE = 5_000


def written_tables(contexts: int, seed: int) -> Phrases:
    tables = random_phrase_tables(ID_SPACE, contexts, seed, draws=contexts * 2, max_followers=8, max_count=29)
    return Phrases(ID_SPACE, 0, tables, 1)


@pytest.mark.parametrize("contexts", [1, OFFSET_BLOCK - 1, OFFSET_BLOCK, OFFSET_BLOCK + 1, 5 * OFFSET_BLOCK + 7])
@pytest.mark.parametrize("chunk", [7, OFFSET_BLOCK, 1 << 18])
def test_the_offsets_of_a_loaded_table_are_the_written_ones(tmp_path, monkeypatch, contexts, chunk):
    monkeypatch.setattr(phrases_module, "CHECK_CHUNK", chunk)
    written = written_tables(contexts, seed=contexts + chunk)
    written.save(tmp_path / "phrases.npz")
    loaded = Phrases.load(tmp_path / "phrases.npz", ID_SPACE, 0, 1)
    for order, table in written.tables.items():
        starts, got = table.starts, loaded.tables[order].starts
        assert isinstance(got, Offsets) and len(got) == len(starts)
        assert [got[i] for i in range(len(starts))] == starts.tolist()
        assert [got[i] for i in range(-len(starts), 0)] == starts.tolist()
        assert np.array_equal(np.asarray(got), starts) and np.array_equal(np.diff(got), np.diff(starts))
        for a in range(0, len(starts), 3):
            for b in (a, a + 1, a + OFFSET_BLOCK + 2, len(starts)):
                assert np.array_equal(got[a:b], starts[a:b]), (a, b)
        assert np.array_equal(got[::2], starts[::2]) and np.array_equal(got[:-1], starts[:-1])
        with pytest.raises(IndexError):
            got[len(starts)]
        # what it keeps: one offset a block, not one a context
        assert got.nbytes == (len(table.contexts) // OFFSET_BLOCK + 1) * 8
        for i, key in enumerate(table.contexts.tolist()):
            digits = [key] if order == 2 else [key // ID_SPACE, key % ID_SPACE]
            if 1 in digits:  # the unknown word's id: never looked up
                continue
            ids, _ = loaded.followers(digits, order)
            assert np.array_equal(ids, table.next_ids[starts[i] : starts[i + 1]])


def test_a_loaded_table_saves_and_loads_again_unchanged(tmp_path):
    written_tables(300, seed=5).save(tmp_path / "first.npz")
    first = Phrases.load(tmp_path / "first.npz", ID_SPACE, 0, 1)
    first.save(tmp_path / "second.npz")
    second = Phrases.load(tmp_path / "second.npz", ID_SPACE, 0, 1)
    for order, table in first.tables.items():
        assert np.array_equal(np.asarray(second.tables[order].starts), np.asarray(table.starts))
        assert np.array_equal(second.tables[order].next_ids, table.next_ids)


@pytest.mark.parametrize("followers", [
    [2**62, 2**62, 2**62, 2**62 + 3],  # four numbers that, summed in 64 bits, wrap around to the 3 entries
    [1, 1, 5, -4],  # a negative number bringing the sum back
    [1, 1, 1, 1],  # one more than the entries
])
def test_numbers_that_do_not_add_up_to_the_entries_are_refused(tmp_path, followers):
    keys = np.array([1, 2, 3, 4], np.int64)
    table = PhraseTable(2, keys[:3], np.array([4, 4, 4], np.int64), np.array([0, 1, 2, 3], np.int64),
                        np.array([5, 6, 7], np.int64), np.array([2, 2, 2], np.int64))
    path = tmp_path / "phrases.npz"
    Phrases(100, 0, {2: table}, 1).save(path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["context_2"] = keys
    arrays["total_2"] = np.array([4, 4, 4, 4], np.uint32)
    arrays["followers_2"] = np.array(followers, np.int64)
    with open(path, "wb") as f:
        phrases_module.write_aligned_npz(f, arrays)
    with pytest.raises(VocabError, match="disagree in length|no follower"):
        Phrases.load(path, 100, 0, 1)
