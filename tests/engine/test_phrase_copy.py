"""The stored copy of compressed phrase tables (engine/phrases.py, "The stored copy").

A bundle whose tables are compressed (the default model's) is inflated at its
first load and copied, stored, into the caller's cache folder under the
file's checksum; later loads map the copy.  What is tested: the copy gives the
same tables and suggestions, it is only ever used for the file it was made
from, a damaged or foreign copy is replaced, a failed write changes nothing,
and the folder holds no leftovers and a bounded number of copies.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from engine_helpers import FakeGraph, make_vocab, write_placeholder_bundle
from keyboard_app.engine import phrases as phrases_module
from keyboard_app.engine.bundle import load_bundle, sha256_file
from keyboard_app.engine.phrases import KEPT_COPIES, PhraseSettings, Phrases, build_phrases, copy_bundle
from keyboard_app.engine.predictor import Predictor, RecencySettings
from keyboard_app.engine.tokenizer import Tokenizer

VOCAB = make_vocab()
CORPUS = "we met tom. we met tom. we met london. see you tomorrow. see you tom. see a cat. " * 3
FIELDS = ("contexts", "totals", "starts", "next_ids", "counts")


def ids_of(text: str) -> np.ndarray:
    return np.array([VOCAB.id(t) if t in VOCAB else VOCAB.unk_id for t in Tokenizer().tokenize(text)], np.int64)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """(a bundle with compressed tables, the same with stored ones)."""
    root = tmp_path_factory.mktemp("copy")
    stored = write_placeholder_bundle(root / "stored", VOCAB,
                                      phrases=build_phrases(ids_of(CORPUS), len(VOCAB), 0, VOCAB.unk_id))
    return copy_bundle(stored, root / "compressed", compressed=True), stored


def load(path, cache):
    """The bundle, and its phrase tables' copy written (joined) if one was being written."""
    bundle = load_bundle(path, phrase_cache=cache)
    if bundle.phrases.copying is not None:
        bundle.phrases.copying.join()
    return bundle


def mapped(phrases: Phrases) -> bool:
    array = phrases.tables[3].next_ids
    while isinstance(array, (np.ndarray, memoryview)):
        array = array.base if isinstance(array, np.ndarray) else array.obj
    return isinstance(array, mmap.mmap)


def copies(cache) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def assert_same_tables(a: Phrases, b: Phrases) -> None:
    assert a.tables.keys() == b.tables.keys()
    for order in a.tables:
        for name in FIELDS:
            x, y = getattr(a.tables[order], name), getattr(b.tables[order], name)
            assert x.dtype == y.dtype and np.array_equal(x, y), (order, name)


def test_the_first_load_inflates_and_copies_the_next_maps_the_copy(bundles, tmp_path, monkeypatch):
    compressed, stored = bundles
    cache = tmp_path / "cache"
    first = load(compressed, cache)
    checksum = sha256_file(compressed / "phrases.npz")
    assert copies(cache) == [f"{checksum}.npz"]
    assert not mapped(first.phrases)
    # the copy is the stored form, byte for byte what the engine writes for a new bundle
    assert (cache / f"{checksum}.npz").read_bytes() == (stored / "phrases.npz").read_bytes()

    def no_inflating(path):
        raise AssertionError(f"{path} was inflated again")

    monkeypatch.setattr(phrases_module, "_inflate", no_inflating)
    second = load(compressed, cache)
    assert second.phrases.copying is None and (os.name == "nt" or mapped(second.phrases))
    assert_same_tables(first.phrases, second.phrases)
    assert_same_tables(load_bundle(stored).phrases, second.phrases)


def test_the_copy_suggests_exactly_what_the_compressed_file_does(bundles, tmp_path):
    compressed, _ = bundles

    def predictor(cache):
        bundle = load(compressed, cache)
        return Predictor(bundle, FakeGraph(bundle.vocab), recency=RecencySettings.off(), phrases=PhraseSettings())

    without, first, later = predictor(None), predictor(tmp_path / "cache"), predictor(tmp_path / "cache")
    for text in ("so we met ", "we met lon", "see you ", "see you to", ""):
        want = without.next_word_log_probs(text)[0]
        for other in (first, later):
            assert np.array_equal(other.next_word_log_probs(text)[0], want)
            assert other.suggest(text, 5) == without.suggest(text, 5)


def test_a_stored_bundle_makes_no_copy(bundles, tmp_path):
    _, stored = bundles
    bundle = load_bundle(stored, phrase_cache=tmp_path / "cache")
    assert bundle.phrases.copying is None and mapped(bundle.phrases)
    assert not (tmp_path / "cache").exists()


def test_a_copy_is_only_used_for_the_file_it_was_made_from(bundles, tmp_path):
    compressed, _ = bundles
    cache = tmp_path / "cache"
    load(compressed, cache)
    other = copy_bundle(write_placeholder_bundle(
        tmp_path / "other-stored", VOCAB, phrases=build_phrases(ids_of("see a cat. see a cat. we met tom."),
                                                                len(VOCAB), 0, VOCAB.unk_id)),
        tmp_path / "other", compressed=True)
    bundle = load(other, cache)
    assert copies(cache) == sorted(f"{sha256_file(b / 'phrases.npz')}.npz" for b in (compressed, other))
    assert_same_tables(bundle.phrases, load_bundle(other).phrases)


@pytest.mark.parametrize("damage", ["truncated", "ids out of range", "another vocabulary", "compressed"])
def test_a_damaged_or_foreign_copy_is_replaced(bundles, tmp_path, caplog, damage):
    compressed, stored = bundles
    cache = tmp_path / "cache"
    load(compressed, cache)
    (copy,) = cache.iterdir()
    data = copy.read_bytes()
    if damage == "truncated":
        copy.write_bytes(data[: len(data) // 2])
    elif damage == "ids out of range":
        phrases = build_phrases(ids_of(CORPUS), len(VOCAB), 0, VOCAB.unk_id)
        phrases.tables[3].next_ids[:] = len(VOCAB) + 5
        phrases.save(copy)
    elif damage == "another vocabulary":
        Phrases(len(VOCAB) + 1, 0, load_bundle(stored).phrases.tables, VOCAB.unk_id).save(copy)
    else:
        load_bundle(stored).phrases.save(copy, compressed=True)
    with caplog.at_level(logging.WARNING, logger="keyboard_app.engine.phrases"):
        bundle = load(compressed, cache)
    assert "the stored copy of the phrase tables is unusable" in caplog.text
    assert_same_tables(bundle.phrases, load_bundle(stored).phrases)
    assert copy.read_bytes() == data  # made again


def test_a_copy_that_cannot_be_written_changes_nothing_else(bundles, tmp_path, caplog):
    compressed, stored = bundles
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    with caplog.at_level(logging.WARNING, logger="keyboard_app.engine.phrases"):
        bundle = load(compressed, blocker / "cache")
    assert "cannot keep a stored copy of the phrase tables" in caplog.text
    assert_same_tables(bundle.phrases, load_bundle(stored).phrases)
    assert blocker.read_text() == "a file where the cache folder would be"


def test_leftovers_of_dead_writers_go_and_only_the_copies_used_last_stay(bundles, tmp_path):
    compressed, _ = bundles
    cache = tmp_path / "cache"
    cache.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    leftover = cache / f".{'a' * 64}.npz.{dead}.k3j_x9a2.tmp"
    in_progress = cache / f".{'b' * 64}.npz.{os.getpid()}.q8w_e7r6.tmp"  # a live writer's
    mine = cache / "notes.txt"  # not a copy: never touched
    for path in (leftover, in_progress, mine):
        path.write_text("x")
    old = []
    for i in range(KEPT_COPIES + 1):
        path = cache / f"{i:064x}.npz"
        path.write_text("an older copy")
        os.utime(path, (time.time() - 1000 + i, time.time() - 1000 + i))
        old.append(path.name)
    load(compressed, cache)
    kept = copies(cache)
    assert leftover.name not in kept and in_progress.name in kept and mine.name in kept
    # the new copy and the KEPT_COPIES - 1 used last of the others
    assert [n for n in kept if n in old] == old[-(KEPT_COPIES - 1):]
    assert f"{sha256_file(compressed / 'phrases.npz')}.npz" in kept


def test_a_process_that_exits_right_after_loading_on_a_daemon_thread_leaves_the_whole_copy(bundles, tmp_path):
    # The app loads on a Qt thread, which Python counts as a daemon: the copy's thread
    # must not inherit that, or the exit would cut it short.
    compressed, stored = bundles
    code = ("import sys, threading\n"
            "from keyboard_app.engine.bundle import load_bundle\n"
            "worker = threading.Thread(target=lambda: load_bundle(sys.argv[1], phrase_cache=sys.argv[2]), daemon=True)\n"
            "worker.start(); worker.join()\n")
    subprocess.run([sys.executable, "-c", code, str(compressed), str(tmp_path / "cache")], check=True, timeout=120)
    assert copies(tmp_path / "cache") == [f"{sha256_file(compressed / 'phrases.npz')}.npz"]
    (copy,) = (tmp_path / "cache").iterdir()
    assert copy.read_bytes() == (stored / "phrases.npz").read_bytes()


def test_a_stored_file_compressed_in_place_holds_the_same_arrays_and_is_read_through_its_copy(bundles, tmp_path):
    """``compress_file`` (keyboard-train --compress-phrases, H33's finding 4): the stored
    file rewritten compressed, member by member; read through the stored copy as the
    built-in model's tables are, the same tables and the same suggestions."""
    import shutil
    import zipfile

    _, stored = bundles
    path = tmp_path / "phrases.npz"
    shutil.copy(stored / "phrases.npz", path)
    phrases_module.compress_file(path)
    with zipfile.ZipFile(path) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    with np.load(path, allow_pickle=False) as after, np.load(stored / "phrases.npz", allow_pickle=False) as before:
        assert after.files == before.files
        for name in before.files:
            assert after[name].dtype == before[name].dtype and np.array_equal(after[name], before[name])
    assert [p.name for p in tmp_path.iterdir()] == ["phrases.npz"]  # no temporary file left
    bundle_dir = tmp_path / "bundle"
    shutil.copytree(stored, bundle_dir)
    phrases_module.compress_file(bundle_dir / "phrases.npz")
    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    manifest["files"]["phrases.npz"] = sha256_file(bundle_dir / "phrases.npz")
    (bundle_dir / "manifest.json").write_text(json.dumps(manifest))
    cache = tmp_path / "cache"
    first = load(bundle_dir, cache)
    again = load(bundle_dir, cache)  # from the copy, mapped
    reference = load_bundle(stored)
    assert mapped(again.phrases) and not mapped(first.phrases)
    for order, table in reference.phrases.tables.items():
        for name in FIELDS:
            ours = np.asarray(getattr(again.phrases.tables[order], name))
            assert np.array_equal(ours, np.asarray(getattr(table, name)))
    engines = [Predictor(b, FakeGraph(b.vocab), recency=RecencySettings.off(), phrases=PhraseSettings())
               for b in (again, reference)]
    for text in ("we met ", "see you ", "see you to"):
        assert engines[0].suggest(text) == engines[1].suggest(text)
    for b in (first, again, reference):
        b.close()
