"""Data preparation in bounded memory (``model_training.streaming``): the counts made
in shards spilled to disk and merged are exactly those made in one piece, and the
preparation's peak memory stays under its ceiling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from keyboard_app.engine.tokenizer import Tokenizer
from model_training.corpus import find_files, heldout_splits
from model_training.pipeline import corpus_phrases
from model_training.streaming import SpilledPhrases, merge_runs
from model_training.vocabulary import build_vocabulary, corpus_lexicon, count_corpus_tokens

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from train_scaling import generate_corpus  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """~60k tokens of Zipf-distributed made-up words, some capitalised: many rare words
    (lexicon, <unk>), pairs and triples seen once and many times."""
    folder = tmp_path_factory.mktemp("streaming")
    generate_corpus(folder / "a.txt", tokens=40_000, words=3000, seed=1)
    generate_corpus(folder / "b.txt", tokens=20_000, words=3000, seed=2)
    return folder


def prepared(corpus: Path, **count_options):
    files = find_files([corpus])
    starts = heldout_splits(files, 0.05, 1_500_000)
    counts = count_corpus_tokens(files, starts, Tokenizer(), **count_options)
    return files, starts, counts


def assert_same_tables(a, b):
    assert (a is None) == (b is None)
    if a is None:
        return
    a, b = (t.to_phrases() if isinstance(t, SpilledPhrases) else t for t in (a, b))
    assert a.tables.keys() == b.tables.keys()
    for order, table in a.tables.items():
        other = b.tables[order]
        for field in ("contexts", "totals", "starts", "next_ids", "counts"):
            x, y = getattr(table, field), getattr(other, field)
            assert x.dtype == y.dtype, (order, field)
            np.testing.assert_array_equal(x, y, err_msg=f"order {order}: {field}")


def test_streamed_phrase_tables_equal_the_in_memory_ones(corpus, tmp_path):
    files, starts, counts = prepared(corpus)
    vocab = build_vocabulary(counts, 800, 2)
    lexicon = corpus_lexicon(counts, vocab)
    assert lexicon is not None and len(lexicon) > 100
    tok = Tokenizer()
    whole, _ = corpus_phrases(files, starts, vocab, lexicon, tok, memory_bytes=0)
    # 4096-token shards (the smallest): 15 of them, n-grams crossing every boundary
    streamed, _ = corpus_phrases(files, starts, vocab, lexicon, tok, memory_bytes=1, spill_dir=tmp_path)
    assert len(whole.tables[2]) > 1000 and len(whole.tables[3]) > 1000
    assert_same_tables(streamed, whole)
    assert list(tmp_path.iterdir()) == []  # the spilled shards are gone, the kept tables' files too
    # written into a bundle from their files, chunk by chunk: the bytes Phrases.save writes
    streamed.save(tmp_path / "streamed.npz")
    whole.save(tmp_path / "whole.npz")
    assert (tmp_path / "streamed.npz").read_bytes() == (tmp_path / "whole.npz").read_bytes()
    streamed.close()


def test_streamed_tables_added_to_a_fine_tuned_models_equal_the_in_memory_ones(corpus, tmp_path):
    files, starts, counts = prepared(corpus)
    tok = Tokenizer()
    small = build_vocabulary(counts, 300, 2)
    small_lexicon = corpus_lexicon(counts, small)
    base, _ = corpus_phrases(files, starts, small, small_lexicon, tok, memory_bytes=0)
    source = SimpleNamespace(phrases=base, vocab=small, lexicon=small_lexicon)
    grown = build_vocabulary(counts, 600, 2)
    lexicon = corpus_lexicon(counts, grown)
    whole, whole_user = corpus_phrases(files, starts, grown, lexicon, tok, source, memory_bytes=0)
    streamed, streamed_user = corpus_phrases(files, starts, grown, lexicon, tok, source, memory_bytes=1,
                                             spill_dir=tmp_path)
    assert_same_tables(streamed, whole)
    assert_same_tables(streamed_user, whole_user)
    assert whole.tables[2].counts.sum() > whole_user.tables[2].counts.sum()  # the base's were added
    streamed.close()
    streamed_user.close()


def random_table(rng, order: int, contexts: int, id_space: int, big_counts: bool = False):
    """A valid table (sorted contexts, 1-5 followers each, totals >= every count)."""
    keys = np.unique(rng.integers(0, id_space ** (order - 1), contexts * 2))[:contexts].astype(np.int64)
    followers = rng.integers(1, 6, len(keys))
    starts = np.concatenate([[0], np.cumsum(followers)]).astype(np.int64)
    next_ids = rng.integers(0, id_space, int(starts[-1])).astype(np.int64)
    counts = rng.integers(1, 50, len(next_ids)).astype(np.int64)
    if big_counts:  # beyond uint32: stored as int64
        counts[::7] += 1 << 33
    totals = np.add.reduceat(counts, starts[:-1]) + rng.integers(0, 3, len(keys))
    return keys, totals.astype(np.int64), starts, next_ids, counts


def spilled(tmp_path: Path, tables: dict, vocab_size: int, lexicon_size: int, pieces: int = 3):
    """The tables written through ``merged_table``'s sink, each array in ``pieces`` parts."""
    from model_training.streaming import SpillFolder, SpilledPhrases, _TableSink

    folder = SpillFolder(tmp_path)
    out = {}
    for order, arrays in tables.items():
        sink = _TableSink(order, folder)
        for name, array in zip(("contexts", "totals", "starts", "next_ids", "counts"), arrays):
            for part in np.array_split(array, pieces):
                sink.add(name, part)
        out[order] = sink.finish()
    return SpilledPhrases(vocab_size, lexicon_size, out, 0, folder.path)


@pytest.mark.parametrize("vocab_size, lexicon_size, big_counts", [(300, 20, False), (70_000, 10, True)])
def test_spilled_tables_are_written_as_phrases_save_writes_them(tmp_path, monkeypatch, vocab_size,
                                                                 lexicon_size, big_counts):
    """Chunk by chunk (here 7 entries a chunk, so that the followers' differences cross
    chunk ends), with the file's compact types: 16- or 32-bit ids, 32- or 64-bit counts."""
    from keyboard_app.engine.phrases import Phrases
    from model_training import streaming

    monkeypatch.setattr(streaming, "CHUNK_ENTRIES", 7)
    rng = np.random.default_rng(3)
    space = vocab_size + lexicon_size
    tables = {2: random_table(rng, 2, 40, space, big_counts), 3: random_table(rng, 3, 55, space, big_counts)}
    phrases = spilled(tmp_path / "spill", tables, vocab_size, lexicon_size)
    assert len(phrases) == sum(len(t[3]) for t in tables.values())
    phrases.save(tmp_path / "streamed.npz")
    phrases.to_phrases().save(tmp_path / "whole.npz")
    assert (tmp_path / "streamed.npz").read_bytes() == (tmp_path / "whole.npz").read_bytes()
    loaded = Phrases.load(tmp_path / "streamed.npz", vocab_size, lexicon_size, 0)
    assert loaded.tables[3].next_ids.dtype == (np.uint32 if space > 1 << 16 else np.uint16)
    assert loaded.tables[3].counts.dtype == (np.int64 if big_counts else np.uint32)
    for order, arrays in tables.items():
        for name, expected in zip(("contexts", "totals", "starts", "next_ids", "counts"), arrays):
            np.testing.assert_array_equal(getattr(loaded.tables[order], name), expected, err_msg=name)
    phrases.close()
    assert not (tmp_path / "spill").exists() or not any((tmp_path / "spill").iterdir())


EXPORT_SCRIPT = """
import json, sys
from pathlib import Path
import numpy as np
from keyboard_app.engine.phrases import Phrases, PhraseTable
from model_training.streaming import SpillFolder, SpilledPhrases, _TableSink, peak_rss_bytes, reset_peak_rss

entries, how, folder = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
spill = SpillFolder(folder / "spill")
sink = _TableSink(3, spill)  # (entries / 4) contexts of 4 followers each, written 1M at a time
contexts = entries // 4
sink.add("starts", np.zeros(1, np.int64))
for lo in range(0, contexts, 1 << 18):
    keys = np.arange(lo, min(contexts, lo + (1 << 18)), dtype=np.int64)
    sink.add("contexts", keys * 7)
    sink.add("totals", np.full(len(keys), 40, np.int64))
    sink.add("starts", 4 * (keys + 1))
    sink.add("next_ids", np.tile(np.arange(4, dtype=np.int64), len(keys)) + 5)
    sink.add("counts", np.full(4 * len(keys), 10, np.int64))
table = sink.finish()
phrases = SpilledPhrases(60_000, 0, {3: table}, 0)
names = ("contexts", "totals", "starts", "next_ids", "counts")
with open("/proc/self/status") as f:
    before = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
reset_peak_rss()
if how == "streamed":
    phrases.save(folder / "phrases.npz")
else:  # as export wrote them before: a Phrases over memory maps of the same files
    mapped = {name: np.memmap(table.paths[name], np.int64, "r") for name in names}
    Phrases(60_000, 0, {3: PhraseTable(3, *(mapped[n] for n in names))}, 0).save(folder / "phrases.npz")
print(json.dumps({"peak_bytes": peak_rss_bytes() - before, "file_bytes": (folder / "phrases.npz").stat().st_size}))
"""


def export_memory(tmp_path: Path, entries: int, how: str) -> dict:
    folder = tmp_path / how
    folder.mkdir()
    out = subprocess.run([sys.executable, "-c", EXPORT_SCRIPT, str(entries), how, str(folder)],
                         capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_writing_spilled_tables_into_a_bundle_stays_under_a_ceiling(tmp_path):
    """4M kept entries (90 MB of table files, a 40 MB phrases.npz) go into the bundle
    within 40 MiB, read and converted 1M entries at a time; a Phrases over memory maps
    of the same files (export before) takes more than twice that, and more with every
    entry: its pages and its converted copies stay in memory."""
    streamed = export_memory(tmp_path, 4_000_000, "streamed")
    assert streamed["file_bytes"] > 35 * 2**20
    assert streamed["peak_bytes"] < 40 * 2**20, streamed
    mapped = export_memory(tmp_path, 4_000_000, "mapped")
    assert mapped["peak_bytes"] > 80 * 2**20, mapped


def test_merging_many_chunks_stays_within_the_merges_share_of_the_ceiling(tmp_path):
    """The merge of spilled runs gathers ``runs x block`` entries at a time, and takes no
    more memory for its tenth chunk than for its first (each chunk's arrays are gone
    before the next is gathered): under ``MERGE_BYTES_PER_ENTRY`` a gathered entry."""
    import tracemalloc

    from model_training import streaming

    rng = np.random.default_rng(0)
    space, runs, entries, block = 100_000, 6, 200_000, 20_000
    spill = streaming.SpillFolder(tmp_path)
    paths = []
    for _ in range(runs):
        codes = np.unique(rng.integers(0, space ** 3 // 50, 2 * entries))[:entries]
        paths.append((spill.new("-codes.npy"), spill.new("-counts.npy")))
        np.save(paths[-1][0], codes.astype(np.int64))
        np.save(paths[-1][1], rng.integers(1, 5, len(codes)).astype(np.int64))
    tracemalloc.start()
    try:
        table = streaming.merged_table(3, paths, space, 20_000, block, out=spill)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(table) > 0.9 * runs * entries  # ten chunks and more went through
    assert peak < streaming.MERGE_BYTES_PER_ENTRY * runs * block, peak / (runs * block)
    table.close()
    spill.close()


def test_merging_runs_block_by_block_adds_equal_codes_and_keeps_contexts_whole():
    rng = np.random.default_rng(0)
    space = 7
    runs = []
    for n in (50, 3, 200, 0, 17):
        codes, counts = np.unique(rng.integers(0, 7 ** 3, n), return_counts=True)
        runs.append((codes, counts.astype(np.int64)))
    everything = np.concatenate([c for c, _ in runs])
    expected_codes, inverse = np.unique(everything, return_inverse=True)
    expected_counts = np.bincount(inverse, weights=np.concatenate([n for _, n in runs])).astype(np.int64)
    for block in (1, 2, 5, 1000):
        chunks = list(merge_runs(runs, space, block))
        np.testing.assert_array_equal(np.concatenate([c for c, _ in chunks]), expected_codes)
        np.testing.assert_array_equal(np.concatenate([n for _, n in chunks]), expected_counts)
        contexts = [set((c // space).tolist()) for c, _ in chunks]
        for i in range(len(contexts) - 1):  # no context split between two chunks
            assert max(contexts[i]) < min(contexts[i + 1])


def test_a_spilled_vocabulary_count_chooses_the_same_vocabulary_and_lexicon(corpus, tmp_path, monkeypatch):
    import functools

    from keyboard_app.engine.lexicon import build_lexicon
    from model_training import vocabulary

    # a lexicon of 300 words (not 100k), so that the merge has rare words to leave out
    monkeypatch.setattr(vocabulary, "LEXICON_MAX_WORDS", 300)
    monkeypatch.setattr(vocabulary, "build_lexicon", functools.partial(build_lexicon, max_words=300))
    _, _, whole = prepared(corpus)
    _, _, spilled = prepared(corpus, max_types=200, spill_dir=tmp_path, keep_words=500, min_count=2)
    assert spilled.dropped > 0 and len(spilled.counts) < len(whole.counts)
    assert spilled.sha256 == whole.sha256 and spilled.train_tokens == whole.train_tokens
    a, b = build_vocabulary(whole, 500, 2), build_vocabulary(spilled, 500, 2)
    assert (a.tokens, a.display, a.counts) == (b.tokens, b.display, b.counts)
    la, lb = corpus_lexicon(whole, a), corpus_lexicon(spilled, b)
    assert la.to_dict() == lb.to_dict()
    assert list(tmp_path.iterdir()) == []  # the spill files are gone
    # every word seen twice (--vocab-size 0)
    _, _, all_spilled = prepared(corpus, max_types=200, spill_dir=tmp_path, keep_words=None, min_count=2)
    a, b = build_vocabulary(whole, 0, 2), build_vocabulary(all_spilled, 0, 2)
    assert (a.tokens, a.display, a.counts) == (b.tokens, b.display, b.counts)
    assert corpus_lexicon(whole, a).to_dict() == corpus_lexicon(all_spilled, b).to_dict()


def run_prep_benchmark(tmp_path: Path, tokens: int, ceiling_mb: float, *extra: str, words: int = 100_000) -> dict:
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "train_scaling.py"), "prep", "--tokens", str(tokens),
         "--words", str(words), "--prep-memory-mb", str(ceiling_mb), "--folder", str(tmp_path), "--json", *extra],
        capture_output=True, text=True, cwd=REPO, timeout=3600,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_data_preparation_stays_under_a_lowered_ceiling(tmp_path):
    """The whole preparation (count, vocabulary, lexicon, encoded ids, phrase tables) of
    300k tokens under a 10 MiB ceiling, in a subprocess, the phrase counts in shards;
    counted in one piece, the same corpus needs more than the ceiling (the test has
    teeth).  The text has few distinct words, so that what the run keeps by design
    (vocabulary, phrase tables) is small beside the working memory measured."""
    streamed = run_prep_benchmark(tmp_path, 300_000, 10, words=40)
    assert streamed["spills"]["phrase_shards"] > 4
    assert streamed["peak_bytes"] < 10 * 2**20, streamed
    whole = run_prep_benchmark(tmp_path, 300_000, 10, "--in-memory", words=40)
    assert whole["peak_bytes"] > 10 * 2**20, whole
    assert whole["phrase_entries"] == streamed["phrase_entries"]


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("KEYBOARD_LARGE_TESTS"),
                    reason="50M tokens take ~10 minutes: set KEYBOARD_LARGE_TESTS=1")
def test_data_preparation_of_50m_tokens_stays_under_2_gb(tmp_path):
    result = run_prep_benchmark(tmp_path, 50_000_000, 2048)
    assert result["peak_bytes"] < 2 * 1024 ** 3, result


TINY_CLI = ["--vocab-size", "0", "--min-count", "1", "--batch-size", "4", "--bptt", "12", "--epochs", "1",
            "--embedding-dim", "16", "--hidden-size", "24", "--threads", "1", "--device", "cpu",
            "--ksr-words", "0", "--output-loss", "full", "-q"]


def test_kept_prepared_data_is_used_by_the_next_run_until_a_file_changes(tmp_path, monkeypatch, patterned_text):
    from model_training import pipeline
    from model_training.cli import main

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(patterned_text[: len(patterned_text) // 2], encoding="utf-8")
    work = tmp_path / "model.work"
    assert main([str(corpus), "--out", str(tmp_path / "first"), "--work-dir", str(work), "--keep-prepared",
                 *TINY_CLI]) == 0
    assert sorted(p.name for p in (work / "prepared").iterdir()) == [
        "heldout_ids.npy", "key.json", "meta.json", "phrases", "train_ids.npy"]

    reads = []
    count = pipeline.count_corpus_tokens
    monkeypatch.setattr(pipeline, "count_corpus_tokens", lambda *a, **k: reads.append(1) or count(*a, **k))
    assert main([str(corpus), "--out", str(tmp_path / "second"), "--work-dir", str(work), *TINY_CLI]) == 0
    assert reads == []  # the corpus was not read again
    first = json.loads((tmp_path / "first" / "manifest.json").read_text())
    second = json.loads((tmp_path / "second" / "manifest.json").read_text())
    assert second["corpus"] == first["corpus"] and second["metrics"] == first["metrics"]
    for name in ("vocab.json", "phrases.npz"):
        assert (tmp_path / "second" / name).read_bytes() == (tmp_path / "first" / name).read_bytes()

    os.utime(corpus, ns=(corpus.stat().st_atime_ns, corpus.stat().st_mtime_ns + 10**9))  # touched
    assert main([str(corpus), "--out", str(tmp_path / "third"), "--work-dir", str(work), *TINY_CLI]) == 0
    assert reads == [1]


def test_each_rank_cuts_its_own_streams_of_the_one_process_layout():
    import torch

    from model_training.data import Batches

    ids = np.arange(1000, dtype=np.uint16)
    whole = Batches(ids, 8, 5)
    ranks = [Batches(ids, 4, 5, rank=r, world_size=2) for r in (0, 1)]
    assert len(ranks[0]) == len(whole) and ranks[0].tokens == whole.tokens
    for i in range(len(whole)):
        x, y = whole.get(i)
        parts = [b.get(i) for b in ranks]
        assert torch.equal(torch.cat([p[0] for p in parts]), x)
        assert torch.equal(torch.cat([p[1] for p in parts]), y)
    # the GPU path (streams kept on the device) cuts the same windows; checked here on the CPU
    on_device = Batches(ids, 4, 5, rank=1, world_size=2)
    first = on_device.first_stream * on_device.per_stream
    on_device.on_device = torch.from_numpy(ids[first : first + 4 * on_device.per_stream + 1].astype(np.int32))
    for i in range(len(whole)):
        for a, b in zip(on_device.get(i), ranks[1].get(i)):
            assert torch.equal(a, b)


def test_kept_prepared_data_depends_on_whether_the_users_phrase_table_is_kept(tmp_path):
    from model_training.config import TrainConfig
    from model_training.corpus import CorpusFile
    from model_training.prepared import prepared_key

    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat .\n", encoding="utf-8")
    files = [CorpusFile(corpus, corpus.name, corpus.stat().st_size)]
    with_user = prepared_key(files, TrainConfig(), None)
    assert with_user != prepared_key(files, TrainConfig(user_phrases=False), None)
    assert with_user == prepared_key(files, TrainConfig(), None)
