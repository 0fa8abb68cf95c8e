"""Crafted or damaged stored phrases files are refused in one sentence (VocabError),
whatever the chunk size of the load's checks, with the damage in the first, a middle
or the last chunk: every check the loader makes, held."""

from __future__ import annotations

import numpy as np
import pytest

from keyboard_app.engine import phrases as phrases_module
from keyboard_app.engine.phrases import Phrases, write_aligned_npz
from keyboard_app.engine.vocab import VocabError

from text_helpers import random_phrase_tables

ID_SPACE = 500


def valid_tables(contexts: int = 90) -> dict:
    return random_phrase_tables(ID_SPACE, contexts, 11, draws=contexts * 3, max_followers=5, max_count=8, slack=0)


def crafted(tmp_path, change, where: float) -> object:
    tables = valid_tables()
    path = tmp_path / "phrases.npz"
    Phrases(ID_SPACE, 0, tables, 1).save(path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    change(arrays, where)
    with open(path, "wb") as f:
        write_aligned_npz(f, arrays)
    return path


def _at(array, where):
    return min(len(array) - 1, int(where * len(array)))


def follower(value, dtype=np.int64, compensate=True):
    def change(arrays, where):
        f = arrays["followers_3"].astype(np.int64).astype(object)
        i = _at(f, where)
        j = (i + 1) % len(f)
        delta = value - f[i]
        f[i] = value
        if compensate:  # the sum stays the entries' (so only the per-number checks can see it)
            f[j] = f[j] - delta
        arrays["followers_3"] = np.array([int(x) % (1 << 64) if dtype == np.uint64 else int(x) for x in f],
                                         dtype=object).astype(dtype)
    return change


def count(value):
    def change(arrays, where):
        c = arrays["count_3"].astype(np.int64)
        c[_at(c, where)] = value
        arrays["count_3"] = c
    return change


def total_below(arrays, where):
    t = arrays["total_3"].astype(np.int64)
    t[_at(t, where)] = 0
    arrays["total_3"] = t


def followers_beyond_the_end(arrays, where):
    f = arrays["followers_3"].copy()
    f[_at(f, where)] += 1  # one more entry than there are
    arrays["followers_3"] = f


def entries_short(arrays, where):
    # the numbers add up to one entry more than the file holds
    arrays["count_3"] = arrays["count_3"][:-1]
    arrays["next_3"] = arrays["next_3"][:-1]


def contexts_swapped(arrays, where):
    c = arrays["context_3"].copy()
    i = min(_at(c, where), len(c) - 2)
    c[i], c[i + 1] = c[i + 1], c[i]
    arrays["context_3"] = c


def context_twice(arrays, where):
    c = arrays["context_3"].copy()
    i = min(_at(c, where), len(c) - 2)
    c[i + 1] = c[i]
    arrays["context_3"] = c


def context_negative(arrays, where):
    c = arrays["context_3"].copy()
    c[0] = -1
    arrays["context_3"] = c


def context_beyond_the_ids(arrays, where):
    c = arrays["context_3"].copy()
    c[-1] = ID_SPACE ** 2
    arrays["context_3"] = c


def next_beyond_the_ids(arrays, where):
    n = arrays["next_3"].astype(np.int64)
    n[_at(n, where)] = ID_SPACE
    arrays["next_3"] = n


DAMAGE = {
    "a follower number of 0": follower(0),
    "a negative follower number": follower(-3),
    "numbers wrapping around in 64 bits": follower(2**63 - 1),
    "a huge unsigned number": follower(2**64 - 2, np.uint64),
    "a number of 2**32 + 1 (uint32 would wrap)": follower(2**32 + 1),
    "a count of 0": count(0),
    "a negative count": count(-1),
    "counts over their context's total": total_below,
    "a context's followers beyond the end": followers_beyond_the_end,
    "numbers adding up to more than the entries": entries_short,
    "contexts out of order": contexts_swapped,
    "a context twice": context_twice,
    "a negative context": context_negative,
    "a context beyond the id space": context_beyond_the_ids,
    "a follower id beyond the id space": next_beyond_the_ids,
}


@pytest.mark.parametrize("chunk", [1, 7, 32, 1 << 18])
@pytest.mark.parametrize("where", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_file_is_refused_in_one_sentence(tmp_path, monkeypatch, chunk, where, damage):
    monkeypatch.setattr(phrases_module, "CHECK_CHUNK", chunk)
    path = crafted(tmp_path, DAMAGE[damage], where)
    with pytest.raises(VocabError):
        Phrases.load(path, ID_SPACE, 0, 1)


def test_the_undamaged_file_loads(tmp_path):
    path = crafted(tmp_path, lambda arrays, where: None, 0.0)
    assert len(Phrases.load(path, ID_SPACE, 0, 1)) > 0
