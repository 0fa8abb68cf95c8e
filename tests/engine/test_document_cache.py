"""The document cache: words used shortly before are suggested again."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from engine_helpers import SAMPLE_TEXT, random_edit
from keyboard_app.engine.components import DocumentCache
from keyboard_app.engine.predictor import Predictor, RecencySettings

ON = RecencySettings(weight=0.1, window=2000, decay=500.0, pair_weight=0.0, triple_weight=0.0, ramp=0.0)
OFF = RecencySettings.off()


def test_a_name_typed_once_is_completed_the_next_time(make_predictor):
    predictor = make_predictor(recency=ON)
    shown = predictor.suggest("We met Selivanov in London. Then Sel", 3)
    assert [(s.text, s.token) for s in shown] == [("Selivanov", "selivanov")]
    # written as it was written, not as the sentence start would have it
    assert predictor.suggest("Selivanov came. We met Selivanov. Then se", 1)[0].text == "Selivanov"
    # a word seen only at a sentence start is shown in lowercase
    assert predictor.suggest("Zorbs are here. The zo", 1)[0].text == "zorbs"
    off = make_predictor(recency=OFF)
    assert off.suggest("We met Selivanov in London. Then Sel", 3) == []


def test_the_mixture_raises_a_used_word_and_keeps_the_rest_in_order(make_predictor):
    text = "we met in London and London was "
    on = make_predictor(recency=ON)
    off = make_predictor(recency=OFF)
    mixed, _ = on.next_word_log_probs(text)
    network, _ = off.next_word_log_probs(text)
    vocab = on.bundle.vocab
    london, tea = vocab.id("london"), vocab.id("tea")
    # exactly (1 - w) * P_net + w * P_cache for a word used twice; the word just
    # typed ("was", distance 0) is left out (skip = 1)
    recent = ["we", "met", "in", "london", "and", "london", "was"]
    weights = {w: 0.0 for w in recent}
    for d, word in enumerate(reversed(recent)):
        if d >= ON.skip:
            weights[word] += math.exp(-d / ON.decay)
    cache = weights["london"] / sum(weights.values())
    expected = math.log(0.9 * math.exp(float(network[london])) + 0.1 * cache)
    assert float(mixed[london]) == pytest.approx(expected, rel=1e-6)
    # an unused word keeps its network probability, scaled by 1 - w
    assert float(mixed[tea]) == pytest.approx(float(network[tea]) + math.log(0.9), rel=1e-6)
    assert np.exp(mixed).sum() <= 1.0 + 1e-6
    # punctuation and numbers are never counted
    [document_cache] = [c for c in on.components if isinstance(c, DocumentCache)]
    assert not document_cache.counted[vocab.id(".")] and document_cache.counted[london]


def test_a_short_text_has_a_smaller_say_than_a_long_one(make_predictor):
    # with n words counted the single-word share is weight * n / (n + ramp): the first
    # words of a document should not push the network's likeliest word off the strip
    ramp = RecencySettings(weight=0.1, window=2000, decay=500.0, pair_weight=0.0, triple_weight=0.0, ramp=30.0)
    text = "we met in London and London was "
    network, _ = make_predictor(recency=OFF).next_word_log_probs(text)
    flat, _ = make_predictor(recency=ON).next_word_log_probs(text)
    mixed, _ = make_predictor(recency=ramp).next_word_log_probs(text)
    tea = make_predictor().bundle.vocab.id("tea")
    single = 0.1 * 5 / (5 + 30)  # five words counted: the one just typed and the one before are left out
    assert float(mixed[tea]) == pytest.approx(float(network[tea]) + math.log(1 - single), rel=1e-6)
    assert float(flat[tea]) == pytest.approx(float(network[tea]) + math.log(0.9), rel=1e-6)
    with pytest.raises(ValueError):
        RecencySettings(ramp=-1.0)


def test_the_word_just_typed_is_not_pushed_as_the_next(make_predictor):
    on, off = make_predictor(recency=ON), make_predictor(recency=OFF)
    # "Hello" is the only word so far: nothing for the cache to offer
    np.testing.assert_array_equal(on.next_word_log_probs("Hello ")[0], off.next_word_log_probs("Hello ")[0])
    london = on.bundle.vocab.id("london")
    mixed = on.next_word_log_probs("we met in London ")[0]
    network = off.next_word_log_probs("we met in London ")[0]
    assert float(mixed[london]) == pytest.approx(float(network[london]) + math.log(0.9), rel=1e-6)


def test_only_the_window_before_the_cursor_counts(make_predictor):
    predictor = make_predictor(recency=RecencySettings(weight=0.2, window=6, decay=500.0, pair_weight=0.0, triple_weight=0.0))
    far = "zyzzyva " + "the cat the cat the cat "
    assert all(s.text != "zyzzyva" for s in predictor.suggest(far + "zy", 3))
    assert predictor.suggest("zyzzyva the cat zy", 1)[0].text == "zyzzyva"


def test_replacing_one_unknown_word_with_another_is_seen(make_predictor):
    # the two texts have the same token ids (<unk> in the same place): the cache
    # must still tell them apart
    predictor = make_predictor(recency=ON)
    first = predictor.suggest("I met Quentin. Then Q", 1)
    second = predictor.suggest("I met Quorra. Then Q", 1)
    assert first[0].text == "Quentin" and second[0].text == "Quorra"
    fresh = make_predictor(recency=ON)
    assert fresh.suggest("I met Quorra. Then Q", 1) == second


def test_edits_give_what_a_fresh_engine_gives_with_the_cache_on(random_bundle):
    rng = random.Random(7)
    predictor = Predictor.load(random_bundle, recency=ON)
    text = SAMPLE_TEXT + " Zanzibar met Quokka; the quokka said Zanzibar. "
    for _ in range(60):
        text = random_edit(rng, text)
        cursor = rng.randint(0, len(text))
        got = predictor.suggest(text[:cursor], 5)
        fresh = Predictor(predictor.bundle, predictor.session, recency=ON)
        assert got == fresh.suggest(text[:cursor], 5)
        np.testing.assert_array_equal(
            predictor.next_word_log_probs(text[:cursor])[0], fresh.next_word_log_probs(text[:cursor])[0]
        )


def test_settings_are_checked():
    with pytest.raises(ValueError):
        RecencySettings(weight=0.5, pair_weight=0.3, triple_weight=0.2)
    with pytest.raises(ValueError):
        RecencySettings(weight=-0.1)
    with pytest.raises(ValueError):
        RecencySettings(window=0)
    assert not OFF.enabled and ON.enabled and RecencySettings().enabled


@pytest.mark.parametrize("settings, text, no_evidence", [
    # "in" was followed by "london" once; "tea" has never been followed by anything
    (RecencySettings(weight=0.0, pair_weight=0.2, triple_weight=0.0, evidence=0.0),
     "we met in London, then tea in ", "we met in London, then tea "),
    # "met in" was followed by "london" ("in" alone also by "tea", which only a pair
    # cache would count); after an unknown word there is nothing to look up
    (RecencySettings(weight=0.0, pair_weight=0.0, triple_weight=0.3, evidence=0.0),
     "we met in London, tea in tea, we met in ", "zorp in tea, zorp "),
])
def test_a_word_that_followed_the_same_words_before_is_likelier(make_predictor, settings, text, no_evidence):
    share = settings.pair_weight + settings.triple_weight
    on, off = make_predictor(recency=settings), make_predictor(recency=OFF)
    vocab = on.bundle.vocab
    mixed, network = on.next_word_log_probs(text)[0], off.next_word_log_probs(text)[0]
    london, tea = vocab.id("london"), vocab.id("tea")
    # P = (1 - share) P_net + share * 1 for the one follower seen
    expected = math.log((1 - share) * math.exp(float(network[london])) + share)
    assert float(mixed[london]) == pytest.approx(expected, rel=1e-6)
    assert float(mixed[tea]) == pytest.approx(float(network[tea]) + math.log(1 - share), rel=1e-6)
    # no earlier occurrence: the network's distribution, untouched
    np.testing.assert_array_equal(on.next_word_log_probs(no_evidence)[0], off.next_word_log_probs(no_evidence)[0])
    assert [s.text for s in on.suggest(text + "Lo", 1)] == ["London"]


def _followers_by_hand(window: list[int], counted: np.ndarray, order: int, settings: RecencySettings,
                       unknown: int) -> dict[int, float]:
    """The decayed counts of the words that followed the last ``order - 1`` tokens earlier
    in ``window``, one position at a time (the definition the array code must meet)."""
    n, c = len(window), order - 1
    context = window[n - c:]
    if n <= c or unknown in context:
        return {}
    found: dict[int, float] = {}
    for j in range(n - c):
        if window[j : j + c] == context and counted[window[j + c]]:
            d = n - 1 - (j + c)
            found[window[j + c]] = found.get(window[j + c], 0.0) + math.exp(-d / settings.pair_decay)
    total = sum(found.values())
    return {word: weight / total for word, weight in found.items()}


@pytest.mark.parametrize("seed", range(6))
def test_pairs_and_triples_are_the_words_that_followed_the_same_tokens(seed):
    """The pair and triple parts share one search of the window for the token before the
    cursor (``RecentWords.distribution``): the same words and shares as looking at every
    position, with repeats, words the cache does not count and the unknown token."""
    from keyboard_app.engine.document_cache import RecentWords

    rng = random.Random(seed)
    vocabulary, unknown = 12, 0
    counted = np.ones(vocabulary, bool)
    counted[[0, 5]] = False  # <unk> and a punctuation mark
    settings = RecencySettings(window=rng.choice([40, 300]), pair_decay=rng.choice([7.0, 2000.0]))
    cache = RecentWords(counted, settings, unknown)
    ids = np.array([1] + [rng.choice([1, 2, 3, 3, 4, 5, 6, 0, 7]) for _ in range(500)], np.int64)
    checked = 0
    for length in range(2, len(ids) + 1):
        got = cache.distribution(ids, length, lambda lo, hi: [])
        window = ids[max(1, length - settings.window) : length].tolist()
        for order, got_ids, got_probs in ((2, got.pair_ids, got.pair_probs), (3, got.triple_ids, got.triple_probs)):
            expected = _followers_by_hand(window, counted, order, settings, unknown)
            assert got_ids.tolist() == sorted(expected), (length, order)
            assert got_probs == pytest.approx([expected[i] for i in sorted(expected)], rel=1e-9)
            checked += bool(expected)
    assert checked > 300  # most positions have evidence of both kinds


@pytest.mark.parametrize("skip", [1, 2, 3, 5])
def test_the_single_words_are_those_before_the_last_skip_tokens_however_few(skip):
    """``skip`` tokens before the cursor are left out of the single-word part, also where the
    text holds fewer (a slice from the end once took words it should not, and a skip of 3 on a
    two-word text raised IndexError)."""
    from keyboard_app.engine.document_cache import RecentWords

    counted = np.ones(9, bool)
    counted[0] = False
    settings = RecencySettings(window=50, decay=100.0, skip=skip)
    cache = RecentWords(counted, settings, 0)
    ids = np.array([1, 2, 3, 4, 5, 6, 7, 8], np.int64)  # ids[0]: <s>
    for length in range(2, len(ids) + 1):
        got = cache.distribution(ids, length, lambda lo, hi: [])
        words = ids[1:length].tolist()
        expected = words[: max(0, len(words) - skip)]
        assert got.ids.tolist() == sorted(expected), (skip, length)
        if expected:
            weights = [math.exp(-(len(words) - 1 - i) / 100.0) for i in range(len(expected))]
            assert got.probs.tolist() == pytest.approx([w / sum(weights) for w in weights], rel=1e-9)



def test_a_context_seen_once_gives_its_follower_a_share_of_its_weight(make_predictor):
    """With ``evidence`` b, a pair's weight is scaled by T / (T + b), T the earlier copies of the
    token before the cursor: a word taken once after "in" is not pushed after every later "in"
    with the pair's whole weight (H69: "four" first after every "the")."""
    b = 3.0
    settings = RecencySettings(weight=0.0, pair_weight=0.2, triple_weight=0.0, evidence=b)
    on, off = make_predictor(recency=settings), make_predictor(recency=OFF)
    london = on.bundle.vocab.id("london")
    for text, seen in (("we met in London, then tea in ", 1), ("in London, in London, then tea in ", 2)):
        mixed, network = on.next_word_log_probs(text)[0], off.next_word_log_probs(text)[0]
        share = 0.2 * seen / (seen + b)
        expected = math.log((1 - share) * math.exp(float(network[london])) + share)
        assert float(mixed[london]) == pytest.approx(expected, rel=1e-6), text
    assert RecencySettings().evidence == 3.0
    with pytest.raises(ValueError):
        RecencySettings(evidence=-1.0)
