"""The bundle's lexicon: words beyond the vocabulary that can still be completed."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine_helpers import FakeGraph, assert_lexicon_refused, make_vocab, write_placeholder_bundle
from keyboard_app.engine.bundle import ModelLoadError, load_bundle, write_bundle
from keyboard_app.engine.lexicon import Lexicon, LexiconIndex, build_lexicon
from keyboard_app.engine.predictor import Predictor, RecencySettings
from keyboard_app.engine.vocab import VocabError

OFF = RecencySettings.off()
# "gyroscope" and "gymkhana" start like no vocabulary word; "tomahawk" like "tom", "tomorrow"
LEXICON = Lexicon(
    words=["gyroscope", "gymkhana", "tomahawk", "the", "selivanov"],
    display=["gyroscope", "gymkhana", "tomahawk", "the", "Selivanov"],
    counts=[30, 10, 5, 7, 2],
    unknown_total=100_000,
)


@pytest.fixture(scope="module")
def lexicon_bundle(tmp_path_factory):
    return write_placeholder_bundle(tmp_path_factory.mktemp("lexicon") / "bundle", make_vocab(), lexicon=LEXICON)


def predictor_for(path, recency=OFF):
    bundle = load_bundle(path)
    return Predictor(bundle, FakeGraph(bundle.vocab), recency=recency)


def test_a_word_beyond_the_vocabulary_is_completed_from_its_first_letters(lexicon_bundle):
    predictor = predictor_for(lexicon_bundle)
    assert [s.text for s in predictor.suggest("a gy", 3)] == ["gyroscope", "gymkhana"]
    shown = predictor.suggest("A Gyr", 3)
    assert [(s.text, s.token, s.is_completion) for s in shown] == [("Gyroscope", "gyroscope", True)]
    assert predictor.suggest("Seli", 1)[0].text == "Selivanov"  # its display form


def test_a_lexicon_word_shares_the_network_probability_of_unknown_words(lexicon_bundle):
    predictor = predictor_for(lexicon_bundle)
    network, _ = predictor.next_word_log_probs("a ")
    unk = float(network[predictor.bundle.vocab.unk_id])
    (shown,) = predictor.suggest("a gyr", 1)
    assert shown.log_prob == pytest.approx(unk + math.log(30 / 100_000))


def test_vocabulary_words_win_when_the_network_likes_them_more(lexicon_bundle):
    predictor = predictor_for(lexicon_bundle)
    shown = [s.text for s in predictor.suggest("we met tom", 3)]
    # the network's "tom" and "tomorrow" are far likelier than P(<unk>) * 5/100000
    assert shown[:2] == ["tomorrow", "Tom"] and shown[2] == "tomahawk"
    # a lexicon word that is also a vocabulary word is the vocabulary's, shown once
    assert [s.text for s in predictor.suggest("a th", 5)].count("the") == 1


def test_without_a_lexicon_nothing_beyond_the_vocabulary_is_shown(word_bundle):
    predictor = predictor_for(word_bundle)
    assert predictor.suggest("a gy", 3) == []


def test_the_lexicon_index_orders_by_lowercase_form_then_count_then_word_whatever_the_files_order():
    # listed in no particular order; "Zeta"/"zeta"/"ZETA" share a key, two share a count
    lexicon = Lexicon(words=["zeta", "Zeta", "alpha", "ZETA", "the", "Alpha"],
                      display=["zeta", "Zeta", "alpha", "ZETA", "the", "Alpha"],
                      counts=[3, 3, 1, 5, 9, 1], unknown_total=100)
    index = LexiconIndex(lexicon, make_vocab())
    assert index.words == ["Alpha", "alpha", "ZETA", "Zeta", "zeta"]
    assert index._keys == ["alpha", "alpha", "zeta", "zeta", "zeta"]
    assert index.display == index.words and np.exp(index.log_share).tolist() == pytest.approx(
        [0.01, 0.01, 0.05, 0.03, 0.03])
    assert [index.words[i] for i in index.best("zet", 2)] == ["ZETA", "Zeta"]


def test_the_lexicon_index_ranks_by_count_and_finds_prefixes():
    index = LexiconIndex(LEXICON, make_vocab())
    assert "the" not in index and "gyroscope" in index  # vocabulary words are left out
    assert [index.words[i] for i in index.best("", 10)] == ["gyroscope", "gymkhana", "tomahawk", "selivanov"]
    assert [index.words[i] for i in index.best("gy", 1)] == ["gyroscope"]
    assert index.best("zz", 3) == [] and index.best("g", 0) == []
    assert index.share("nowhere") == -math.inf
    assert index.share("gymkhana") == pytest.approx(math.log(10 / 100_000))


def test_build_lexicon_keeps_words_outside_the_vocabulary_by_count():
    counts = {"the": 50, "zebra": 3, "yak": 3, "x1": 9, "<num>": 4, "quokka": 1}
    lexicon = build_lexicon(counts, str.title, lambda t: t in {"the", "<num>"}, str.isalpha, max_words=2)
    assert lexicon.words == ["yak", "zebra"]  # ties by word; "x1" is not a word
    assert lexicon.display == ["Yak", "Zebra"] and lexicon.counts == [3, 3]
    assert lexicon.unknown_total == 3 + 3 + 9 + 1  # every token the vocabulary misses
    assert build_lexicon({"the": 2}, str, lambda t: True, str.isalpha) is None


def test_a_foreign_or_malformed_lexicon_is_one_clear_error(tmp_path, lexicon_bundle):
    for name, content in [
        ("foreign", {"format": "something-else"}),
        ("counts", {**LEXICON.to_dict(), "counts": [1, 2]}),
        ("total", {**LEXICON.to_dict(), "unknown_total": 3}),
    ]:
        assert_lexicon_refused(lexicon_bundle, content, tmp_path / name)


def test_a_lexicon_named_but_missing_is_caught(tmp_path, lexicon_bundle):
    bundle = load_bundle(lexicon_bundle)
    manifest = dict(bundle.manifest, lexicon={"file": "lexicon.json"})
    files = {n: bundle.path / n for n in bundle.manifest["files"] if n != "lexicon.json"}
    with pytest.raises(ModelLoadError, match="'lexicon.json' is not listed"):
        write_bundle(tmp_path / "missing", manifest, files)
    with pytest.raises(VocabError):
        Lexicon(["a", "a"], ["a", "a"], [1, 1], 2)


def test_lexicon_round_trip(tmp_path):
    LEXICON.save(tmp_path / "l.json")
    again = Lexicon.load(tmp_path / "l.json")
    assert again == LEXICON
    assert np.isfinite(LexiconIndex(again, make_vocab()).log_share).all()
