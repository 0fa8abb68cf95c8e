"""The mixture's evidence after a phrase's words (engine/continuations.py): the document's
copies after the hypothesis' last one or two tokens, weighted by how often and how lately
they were repeated, mixed in as the document cache mixes them at a word boundary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keyboard_app.engine.continuations import Continuations
from keyboard_app.engine.document_cache import RecencySettings

RECENCY = RecencySettings(weight=0.0, pair_weight=0.1, triple_weight=0.2)
PAIR, TRIPLE = 0.1, 0.2  # the parts' weights name them
UNK = 0
WORDS = 20


def continuations(window: list[int], recency: RecencySettings = RECENCY) -> Continuations:
    counted = np.ones(WORDS, bool)
    counted[UNK] = False
    return Continuations(np.array(window, np.int64), counted, UNK, recency)


def part(parts, weight):
    found = {w: dict(zip(ids.tolist(), np.exp(log_shares).tolist())) for w, ids, log_shares in parts}
    return found[weight]


def test_a_copy_gets_the_share_of_its_repetitions_after_the_hypothesis():
    # 5 6 7 ... 5 6 8 ... 5 6 8: after the hypothesis "5 6", 8 followed twice and 7 once
    follow = continuations([5, 6, 7, 1, 5, 6, 8, 1, 5, 6, 8, 1, 9])
    parts = follow.parts([5, 6])
    triple = part(parts, TRIPLE)
    assert set(triple) == {7, 8}
    assert triple[8] > triple[7] and triple[8] + triple[7] == pytest.approx(1.0)
    assert triple[8] == pytest.approx(2 / 3, abs=0.01)  # decayed by 2,000 tokens: nearly counts
    # the pair looks at the last token only, the triple at the last two
    parts = continuations([4, 6, 7, 1, 5, 6, 8, 1]).parts([5, 6])
    assert set(part(parts, PAIR)) == {7, 8} and set(part(parts, TRIPLE)) == {8}


def test_the_more_recent_copy_weighs_more_and_the_hypothesis_counts_as_typed():
    window = [5, 7] + [1] * 400 + [5, 8] + [1] * 3 + [2]
    pair = part(continuations(window).parts([5]), PAIR)
    assert pair[8] > pair[7]
    assert pair[8] / pair[7] == pytest.approx(math.exp(402 / 2000), rel=1e-6)
    # "2 5" never happened in the text; with the hypothesis [5] the triple "2 5 ?" has no copy
    assert len(continuations(window).parts([5])) == 1


def test_no_evidence_no_stage_and_unknown_words_give_none():
    assert continuations([5, 6, 7]).parts([9]) == []
    assert continuations([5, UNK, 7, 5, UNK]).parts([]) == []  # "<unk>" before the cursor
    assert continuations([5, 6, 7, 5, 6], RecencySettings.off()).parts([]) == []


def test_scored_mixes_the_copies_into_the_network_as_the_document_cache_does():
    follow = continuations([5, 6, 7, 1, 5, 6, 7, 1])
    network = np.log(np.full(WORDS, 1.0 / WORDS, np.float32))
    ids, log_probs = follow.scored(network, [5, 6], np.array([1, 2, 3]))
    assert 7 in ids.tolist()
    got = dict(zip(ids.tolist(), np.exp(log_probs).tolist()))
    # both parts have evidence: (1 - 0.3) P_net + 0.1 * 1 + 0.2 * 1 for the copy
    assert got[7] == pytest.approx(0.7 / WORDS + 0.3, rel=1e-6)
    others = [p for i, p in got.items() if i != 7]
    assert others and all(p == pytest.approx(0.7 / WORDS, rel=1e-6) for p in others)


@pytest.mark.parametrize("seed", range(5))
def test_with_no_hypothesis_the_parts_are_the_document_caches_own(seed):
    """The beam's copies after the text itself are the pairs and triples the document cache
    mixes in at that word boundary (the same window, shares and decay)."""
    from keyboard_app.engine.document_cache import RecentWords

    rng = np.random.default_rng(seed)
    recency = RecencySettings(weight=0.1, pair_weight=0.1, triple_weight=0.2, window=300, pair_decay=50.0)
    ids = np.concatenate([[1], rng.integers(0, 8, 400)]).astype(np.int64)  # few words: many copies; 0 is <unk>
    counted = np.ones(WORDS, bool)
    counted[[UNK, 1]] = False  # <unk>, and 1 stands for punctuation
    cache = RecentWords(counted, recency, UNK).distribution(ids, len(ids), lambda lo, hi: [])
    window = ids[max(1, len(ids) - recency.window):]
    parts = {w: (i, np.exp(p)) for w, i, p in Continuations(window, counted, UNK, recency).parts([])}
    assert set(parts) == {PAIR, TRIPLE}  # (these seeds end with two words seen before)
    for weight, want_ids, want in ((PAIR, cache.pair_ids, cache.pair_probs),
                                   (TRIPLE, cache.triple_ids, cache.triple_probs)):
        if len(want_ids) == 0:
            assert weight not in parts
            continue
        got_ids, got = parts[weight]
        assert got_ids.tolist() == want_ids.tolist()
        np.testing.assert_allclose(got, want, rtol=1e-12)
