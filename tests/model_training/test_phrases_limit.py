"""The phrase tables fit what the app accepts (``--phrases-limit``): a corpus with
more distinct pairs and triples than that loses its rarest ones, streamed or in
memory alike, and finds out before training, not after it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from keyboard_app.engine.phrases import Phrases
from keyboard_app.engine.tokenizer import Tokenizer
from model_training import pipeline
from model_training.config import ModelConfig, TrainConfig
from model_training.corpus import find_files, heldout_splits
from model_training.pipeline import corpus_phrases, train_bundle
from model_training.streaming import Cut, SpilledPhrases, fit_phrases, fitting_cut, prune_table
from model_training.vocabulary import build_vocabulary, corpus_lexicon, count_corpus_tokens

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from train_scaling import generate_corpus  # noqa: E402

ARRAY_KINDS = ("context_", "total_", "followers_", "next_", "count_")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limit")
    generate_corpus(folder / "a.txt", tokens=40_000, words=3000, seed=3)
    files = find_files([folder])
    starts = heldout_splits(files, 0.05, 1_500_000)
    tok = Tokenizer()
    counts = count_corpus_tokens(files, starts, tok)
    vocab = build_vocabulary(counts, 800, 2)
    return files, starts, vocab, corpus_lexicon(counts, vocab), tok


def array_bytes(path: Path) -> int:
    """What the engine's limit counts: the bytes of the tables' arrays in the file."""
    with np.load(path) as data:
        return sum(data[name].nbytes for name in data.files if name.startswith(ARRAY_KINDS))


def saved_bytes(phrases, tmp_path: Path, name: str) -> int:
    path = tmp_path / name
    phrases.save(path)
    return array_bytes(path)


def as_phrases(tables) -> Phrases:
    return tables.to_phrases() if isinstance(tables, SpilledPhrases) else tables


def test_tables_over_the_limit_lose_their_rarest_entries_until_they_fit(prepared, tmp_path, caplog):
    files, starts, vocab, lexicon, tok = prepared
    whole, _ = corpus_phrases(files, starts, vocab, lexicon, tok, memory_bytes=0, max_bytes=None)
    full = saved_bytes(whole, tmp_path, "full.npz")
    limit = int(full * 0.6)

    with caplog.at_level(logging.WARNING, logger="model_training.streaming"):
        fitted = fit_phrases(whole, limit)
    assert any("entries kept to fit in" in r.getMessage() for r in caplog.records)
    cut = fitting_cut(whole.tables, whole.id_space, limit)
    threshold = cut.min_count
    assert threshold >= 2
    used = saved_bytes(fitted, tmp_path, "fitted.npz")
    assert used <= limit
    # the smallest threshold that fits: one less would not
    one_less = {o: prune_table(t, Cut(threshold - 1, 0), [0], whole.id_space) for o, t in whole.tables.items()}
    assert saved_bytes(Phrases(whole.vocab_size, whole.lexicon_size, one_less, whole.unk_id),
                       tmp_path, "one_less.npz") > limit
    # every entry seen threshold times or more, with its count and total; of those seen
    # once less, a prefix in the tables' order (pairs first), as many as fit
    left_out = 0
    for order in sorted(whole.tables):
        table, kept = whole.tables[order], fitted.tables[order]
        owner = np.repeat(np.arange(len(table.contexts)), np.diff(table.starts))
        edge = np.flatnonzero(table.counts == threshold - 1)
        taken = int(np.sum(kept.counts == threshold - 1))
        if left_out:
            assert taken == 0  # a later order gets nothing once one entry did not fit
        keep = table.counts >= threshold
        keep[edge[:taken]] = True
        left_out += len(edge) - taken
        np.testing.assert_array_equal(kept.next_ids, table.next_ids[keep])
        np.testing.assert_array_equal(kept.counts, table.counts[keep])
        np.testing.assert_array_equal(kept.contexts, table.contexts[np.unique(owner[keep])])
        np.testing.assert_array_equal(kept.totals, table.totals[np.unique(owner[keep])])
    # the room is used: the next entry would not have fitted (an entry and its context,
    # at most 2 + 4 + 8 + 4 + 4 bytes)
    assert left_out and limit - used < 22
    assert used > 0.95 * limit

    # streamed in shards, the same tables, the same bytes in the bundle
    streamed, _ = corpus_phrases(files, starts, vocab, lexicon, tok, memory_bytes=1, spill_dir=tmp_path / "spill",
                                 max_bytes=limit)
    in_memory, _ = corpus_phrases(files, starts, vocab, lexicon, tok, memory_bytes=0, max_bytes=limit)
    try:
        streamed.save(tmp_path / "streamed.npz")
        in_memory.save(tmp_path / "in_memory.npz")
        assert (tmp_path / "streamed.npz").read_bytes() == (tmp_path / "in_memory.npz").read_bytes()
        assert (tmp_path / "streamed.npz").read_bytes() == (tmp_path / "fitted.npz").read_bytes()
        # and the engine reads what it was given
        loaded = Phrases.load(tmp_path / "streamed.npz", whole.vocab_size, whole.lexicon_size, whole.unk_id)
        assert len(loaded) == len(fitted)
    finally:
        streamed.close()


def test_a_limit_that_holds_nothing_leaves_no_tables_and_says_so(prepared, caplog):
    files, starts, vocab, lexicon, tok = prepared
    whole, _ = corpus_phrases(files, starts, vocab, lexicon, tok, memory_bytes=0, max_bytes=None)
    largest = max(int(t.counts.max()) for t in whole.tables.values())
    assert largest < 1 << 16  # so a cut to a few bytes removes every entry
    with caplog.at_level(logging.WARNING, logger="model_training.streaming"):
        assert fit_phrases(whole, 10) is None
    assert any("none kept" in r.getMessage() for r in caplog.records)


def test_tables_under_the_limit_are_left_as_they_are(prepared):
    files, starts, vocab, lexicon, tok = prepared
    whole, _ = corpus_phrases(files, starts, vocab, lexicon, tok, memory_bytes=0, max_bytes=None)
    assert fitting_cut(whole.tables, whole.id_space, 1 << 30).min_count == 1
    assert fit_phrases(whole, 1 << 30) is whole


def test_the_phrase_tables_are_made_and_cut_before_training_starts(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.txt"
    generate_corpus(corpus, tokens=12_000, words=400, seed=4)
    order: list[str] = []
    uncut = []

    def counting(*args, **kwargs):
        order.append("phrases")
        whole, _ = real(*args, **{**kwargs, "max_bytes": None, "memory_bytes": 0})
        uncut.append(saved_bytes(whole, tmp_path, "uncut.npz"))
        return real(*args, **kwargs)

    real = pipeline.corpus_phrases
    monkeypatch.setattr(pipeline, "corpus_phrases", counting)
    model = ModelConfig(embedding_dim=16, hidden_size=24)
    train = TrainConfig(vocab_size=0, min_count=1, batch_size=4, bptt=8, epochs=1, threads=1, eval_max_words=0,
                        phrases_limit_mb=0.02)
    result = train_bundle([corpus], tmp_path / "bundle", model_config=model, train_config=train,
                          trainer_hook=lambda trainer: order.append("training"))
    assert order == ["phrases", "training"]
    assert uncut[0] > 20_000  # the corpus's tables did not fit as they were
    assert 0 < array_bytes(result.bundle / "phrases.npz") <= 20_000
