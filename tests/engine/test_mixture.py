"""The mixture evaluated in probability space and only where the strip looks (engine/mixture.py,
issue 17): the numbers of the log-space computation the engine did before, to float32's
precision, its ranking wherever two words are not tied to that precision, and, within the
new arithmetic, the same numbers whether evaluated whole or for a few words."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from keyboard_app.engine.bundle import load_bundle
from keyboard_app.engine.mixture import Mixture, logaddexp
from keyboard_app.engine.phrases import ORDERS
from keyboard_app.engine.predictor import Predictor, RecencySettings
from keyboard_app.engine.ranking import WordIndex, top_k
from keyboard_app.engine.document_cache import EMPTY, RecentWords
from keyboard_app.engine.phrases import phrase_index


def phrase_context(p: Predictor, ids: np.ndarray, length: int) -> list[int]:
    """The phrase tables' context: the last two ids, a word outside the vocabulary by its
    lexicon id."""
    context = ids[max(0, length - 2) : length].tolist()
    unk = p.bundle.vocab.unk_id
    if unk in context:
        index = phrase_index(p.bundle.vocab.tokens, p.bundle.lexicon)
        start = length - len(context)
        for i, word, _ in p._tokens.unknown_words(start, length):
            if word in index:
                context[i - start] = index[word]
    return context


def reference_mix(p: Predictor, network: np.ndarray, length: int) -> np.ndarray:
    """The distribution over the vocabulary as the engine computed it before issue 17:
    every step applied to the whole array with ``logaddexp`` (kept here as the yardstick,
    its arithmetic verbatim, but in float64 where the engine's was float32, so that it
    is closer to the exact mixture than either engine)."""
    ids = np.frombuffer(p._tokens.ids, np.int64, length)
    counted = np.zeros(len(p.bundle.vocab), bool)
    counted[p.words.word_ids] = True
    recent = RecentWords(counted, p.recency, p.bundle.vocab.unk_id)
    cache = recent.distribution(ids, length, p._tokens.unknown_words) if p.recency.enabled else EMPTY
    stages = []
    tables = [(table, settings) for table, settings in ((p.bundle.phrases, p.phrase_settings),
                                                        (p.bundle.user_phrases, p.user_phrase_settings))
              if table is not None and settings.enabled]
    if tables:
        context = phrase_context(p, ids, length)
        for table, settings in tables:
            found_here = []
            for order in ORDERS:
                weight = settings.weight(order)
                found = table.followers(context, order) if weight > 0.0 else None
                if found is not None:
                    # (its weight by the context's evidence, T / (T + b): H42)
                    found_here.append((settings.share(order, table.total(context, order)), *found))
            if found_here:
                stages.append(found_here)
    network = network.astype(np.float64)
    log_probs = network.copy()
    if not cache.empty:
        s = p.recency
        single = s.weight * (cache.words / (cache.words + s.ramp) if s.ramp > 0.0 else 1.0)
        pairs, triples = len(cache.pair_ids) > 0, len(cache.triple_ids) > 0
        b = s.evidence  # a part's weight times T / (T + b), T its context's earlier copies
        pair_weight = s.pair_weight * (cache.pair_seen / (cache.pair_seen + b) if b else 1.0)
        triple_weight = s.triple_weight * (cache.triple_seen / (cache.triple_seen + b) if b else 1.0)
        keep = math.log1p(-single - (pair_weight if pairs else 0.0) - (triple_weight if triples else 0.0))
        log_probs = network + keep
        if single > 0.0 and len(cache.ids):
            log_probs[cache.ids] = np.logaddexp(log_probs[cache.ids], math.log(single) + np.log(cache.probs))
        for used, weight, where, probs in ((pairs, pair_weight, cache.pair_ids, cache.pair_probs),
                                           (triples, triple_weight, cache.triple_ids, cache.triple_probs)):
            if used:
                log_probs[where] = np.logaddexp(log_probs[where], math.log(weight) + np.log(probs))
    for phrases in stages:
        log_probs += math.log1p(-sum(weight for weight, _, _ in phrases))
        for weight, found, corpus in phrases:
            vocab = found < len(log_probs)
            log_probs[found[vocab]] = np.logaddexp(log_probs[found[vocab]], math.log(weight) + corpus[vocab])
    return log_probs


def typed_texts(vocab, seed: int, words: int = 160) -> list[str]:
    """Every keystroke of a random text of the vocabulary's words, with punctuation,
    line breaks and paragraphs, and a few words it does not know."""
    rng = random.Random(seed)
    pool = [t for t in vocab.tokens if t.isalpha()][:300] + ["zorblax", "quuxly"]
    parts = []
    for i in range(words):
        parts.append(rng.choice(pool))
        parts.append(rng.choice([" "] * 12 + [". ", ", ", "\n", "\n\n"]))
    text = "".join(parts)
    return [text[:end] for end in range(1, len(text) + 1)]


@pytest.fixture(scope="module")
def engines(random_int8_bundle):
    """The int8 random bundle (with phrase tables) and the document cache on."""
    bundle = load_bundle(random_int8_bundle)
    yield Predictor(bundle, recency=RecencySettings()), Predictor(bundle, recency=RecencySettings())
    bundle.close()


# float32 keeps 24 bits: a log-probability of -16 is held to 1e-6; the sums in probability
# space and the log-space merges each round a few times, differently
PRECISION = 2e-5


def test_the_distribution_is_the_whole_vocabulary_computation_to_float32_precision(engines):
    p, _ = engines
    assert p.phrases is not None
    checked = merged = moved = 0
    for text in typed_texts(p.bundle.vocab, seed=1)[::3]:
        log_probs, view = p.next_word_log_probs(text)
        network = p._states.log_probs(p._tokens.ids, view.length)
        expected = reference_mix(p, network, view.length)
        assert log_probs.dtype == np.float32 and np.isfinite(log_probs).all()
        assert np.max(np.abs(log_probs - expected)) <= PRECISION, repr(text[-30:])
        checked += 1
        if any(type(step) is tuple for step in p._memo[1].mixture._steps):
            merged += 1
            moved += np.max(np.abs(expected - network)) > 100 * PRECISION  # (a mixture that shows)
    assert checked > 200 and merged > 100 and moved > 100  # most with the document cache or the phrases mixed in


def assert_ranked_as(found: list[tuple[int, float]], reference: np.ndarray, ids: np.ndarray, k: int, where) -> None:
    """``found`` (id, score), best first, is the reference's top ``k`` of ``ids``: the same
    scores to float32 precision, position by position, so that two words may swap only
    where the reference cannot tell them apart either."""
    want = sorted(reference[ids].tolist(), reverse=True)[:k]
    assert len(found) == len(want), where
    for (i, score), best in zip(found, want):
        assert abs(score - reference[i]) <= PRECISION and abs(reference[i] - best) <= 2 * PRECISION, where


@pytest.mark.parametrize("seed", [2, 3])
def test_the_ranking_is_that_of_a_top_k_over_the_whole_vocabulary(engines, seed):
    """The strip's words, as ``suggest`` finds them from the candidates only, are those a
    top-k over the whole distribution finds, in the same order, with the same numbers."""
    p, whole = engines
    words: WordIndex = p.words
    for text in typed_texts(p.bundle.vocab, seed=seed):
        p.suggest(text)  # (evaluated only where needed)
        view = p._tokens.update(text)  # (the same text: no change)
        mixture = p._memo[1].mixture
        network = p._states.log_probs(p._tokens.ids, view.length)
        dense = reference_mix(p, network, view.length)
        lazy = p._mix(network, view.length).mixture
        lazy.lazy = True  # the word boundary ranked from the candidates alone
        own = lazy.dense() if lazy.plain else p._mix(network, view.length).mixture.dense()
        for k in (1, 3, 5, 12):
            found = lazy.best(0, len(words), k)
            assert found == WordIndex.best(own, words.sorted_ids, k), (text, k)  # exactly its own array's
            assert_ranked_as(found, dense, words.sorted_ids, k, (text, k))
        assert lazy._dense is None or lazy.plain
        for prefix in {"", view.partial.lower(), view.partial.lower()[:1]}:
            lo, hi = words.span(prefix)
            for k in (1, 3, 5, 12):
                found = mixture.best(lo, hi, k)
                assert found == WordIndex.best(mixture.dense(), words.sorted_ids[lo:hi], k), (text, prefix, k)
                assert_ranked_as(found, dense, words.sorted_ids[lo:hi], k, (text, prefix, k))
        # and the strip itself is the same whether the distribution was made whole first
        whole.next_word_log_probs(text)
        assert p.suggest(text, 5) == whole.suggest(text, 5)


def random_mixture(rng: np.random.Generator, size: int = 3000,
                   lowest: float | None = None) -> tuple[Mixture, WordIndex]:
    """A mixture of random steps over a made-up vocabulary (ties included); ``lowest``: a
    few words that far down in the network's distribution."""
    from keyboard_app.engine.tokenizer import SPECIAL_TOKENS
    from keyboard_app.engine.vocab import Vocabulary

    letters = "abcdefghij"
    tokens = list(SPECIAL_TOKENS) + [".", ","]
    while len(tokens) < size:
        word = "".join(rng.choice(list(letters), rng.integers(1, 6)))
        if word not in tokens:
            tokens.append(word)
    index = WordIndex(Vocabulary(tokens, tokens, [1] * len(tokens)))
    network = rng.normal(-9.0, 2.5, size).astype(np.float32)
    network[rng.integers(0, size, 40)] = network[rng.integers(0, size, 1)]  # ties
    if lowest is not None:
        network[rng.integers(0, size, 60)] = rng.uniform(lowest, lowest + 20.0, 60)
    mixture = Mixture(network, index, lazy=bool(rng.integers(0, 2)))
    for _ in range(rng.integers(0, 6)):
        if rng.random() < 0.4:
            mixture.add(math.log1p(-rng.uniform(0.01, 0.5)))
        ids = np.unique(rng.integers(0, size, rng.integers(1, 400)))
        if rng.random() < 0.5:  # float64 values (the document cache's), no offset
            mixture.merge(ids, rng.normal(-4.0, 2.0, len(ids)))
        else:  # float32 values and an offset (the phrase tables'), uint32 ids as read from a file
            mixture.merge(ids.astype(np.uint32), rng.normal(-3.0, 1.5, len(ids)).astype(np.float32),
                          math.log(rng.uniform(0.01, 0.3)))
    return mixture, index


@pytest.mark.parametrize("seed", range(12))
def test_values_and_best_agree_with_the_dense_array_on_random_mixtures(seed):
    rng = np.random.default_rng(seed)
    mixture, index = random_mixture(rng)
    ids = rng.permutation(len(mixture.network))[:500]
    values = mixture.values(ids)
    spans = [index.span(p) for p in ("", "a", "b", "ab", "j", "jj", "abc")]
    bests = {(lo, hi, k): mixture.best(lo, hi, k) for lo, hi in spans for k in (1, 3, 8, 40)}
    dense = mixture.dense()
    assert np.array_equal(values, dense[ids])
    for (lo, hi, k), best in bests.items():
        assert best == top_k(dense[index.sorted_ids[lo:hi]], index.sorted_ids[lo:hi], k), (lo, hi, k)


@pytest.mark.parametrize("lowest", [None, -400.0, -130.0, -95.0])
@pytest.mark.parametrize("seed", range(6))
def test_random_mixtures_are_the_log_space_computation_to_float32_precision(seed, lowest):
    """Network log-probabilities below float32's exp() range (-87) are mixed in float64:
    finite, and the words no component names keep their own score."""
    rng = np.random.default_rng(100 + seed)
    mixture, _ = random_mixture(rng, lowest=lowest)
    ids = rng.permutation(len(mixture.network))[:400]
    values = mixture.values(ids)  # (before the whole array exists: computed for these words alone)
    dense, want = mixture.dense(), mixture.log_space(np.float64)
    assert dense.dtype == np.float32 and np.isfinite(dense).all()
    assert np.max(np.abs(dense - want)) <= PRECISION
    assert np.array_equal(values, dense[ids])


def test_only_a_lazy_mixture_ranks_a_boundary_without_the_whole_array():
    seed = 7
    mixture, index = random_mixture(np.random.default_rng(seed))
    while mixture.plain:
        seed += 1
        mixture, index = random_mixture(np.random.default_rng(seed))
    whole = (0, len(index.sorted_ids))
    mixture.lazy = True
    lazy = mixture.best(*whole, 3)
    assert mixture._dense is None
    mixture.lazy = False
    assert mixture.best(*whole, 3) == lazy and mixture._dense is not None
    assert lazy == top_k(mixture.dense()[index.sorted_ids], index.sorted_ids, 3)


def test_logaddexp_is_numpys_bit_for_bit():
    rng = np.random.default_rng(0)
    xs = list(-rng.exponential(10, 2000)) + [-math.inf, 0.0, -1e-300]
    ys = list(-rng.exponential(10, 2000)) + [-math.inf, -math.inf, -1e-300]
    for x, y in zip(xs, ys):
        for a, b in ((x, y), (y, x), (x, x)):
            assert logaddexp(a, b) == float(np.logaddexp(a, b)) or (math.isnan(logaddexp(a, b)))


def test_constants_added_below_float32s_exp_range_are_summed_in_float64():
    """Three stages whose weights sum just below 1 (what the settings accept) add about
    -110: a merge's probability divided by them passes float32's exp() range, and a
    word scored +inf.  Summed in float64 instead: finite, the log-space numbers."""
    rng = np.random.default_rng(5)
    mixture, _ = random_mixture(rng)
    for _ in range(3):
        mixture.add(math.log1p(-0.9999999999999999))  # -36.7
    ids = np.arange(10, 60, dtype=np.int64)
    mixture.merge(ids, np.zeros(len(ids), np.float32), math.log(0.5))
    values = mixture.values(ids[::-1])
    dense = mixture.dense()
    assert np.isfinite(dense).all() and np.max(np.abs(dense - mixture.log_space(np.float64))) <= PRECISION
    assert np.array_equal(values, dense[ids[::-1]])


def test_a_float32_part_below_float32s_exp_range_keeps_its_probability_in_float64():
    """On the float64 path a part's own probabilities are float64 too: a phrase part of
    -110 for a word the network puts at -300 is not rounded to 0 (which left -300)."""
    rng = np.random.default_rng(6)
    mixture, _ = random_mixture(rng, lowest=-400.0)
    low = np.array([int(np.argmin(mixture.network))], np.int64)
    mixture.merge(low, np.array([-110.0], np.float32), 0.0)
    assert mixture.values(low)[0] == mixture.dense()[low[0]]
    assert abs(mixture.dense()[low[0]] - mixture.log_space(np.float64)[low[0]]) <= PRECISION
