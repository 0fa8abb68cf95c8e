"""The bundle's phrase tables: the corpus's word pairs and triples, mixed into the strip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine_helpers import WORDS, FakeGraph, make_vocab, write_placeholder_bundle
from keyboard_app.engine.bundle import ModelLoadError, load_bundle, sha256_file
from keyboard_app.engine.phrases import PhraseSettings, Phrases, build_phrases
from keyboard_app.engine.predictor import Predictor, RecencySettings
from keyboard_app.engine.tokenizer import Tokenizer
from keyboard_app.engine.vocab import VocabError

OFF = RecencySettings.off()  # the phrases alone, not the document cache
CORPUS = "we met tom. we met tom. we met london. see you tomorrow. see you tom. see a cat."
VOCAB = make_vocab()


def ids_of(text: str, vocab=VOCAB) -> np.ndarray:
    return np.array([vocab.id(t) if t in vocab else vocab.unk_id for t in Tokenizer().tokenize(text)], np.int64)


def followers(phrases, text, order):
    ids = ids_of(text)
    found = phrases.followers(ids, len(ids), order)
    if found is None:
        return None
    return {VOCAB.tokens[i]: round(math.exp(p), 4) for i, p in zip(*found)}


def test_followers_are_the_corpus_continuations_with_their_shares():
    phrases = build_phrases(ids_of(CORPUS), len(VOCAB), VOCAB.unk_id)
    assert followers(phrases, "so we met", 3) == {"tom": 0.6667, "london": 0.3333}
    assert followers(phrases, "and then you", 2) == {"tomorrow": 0.5, "tom": 0.5}
    assert followers(phrases, "see", 2) == {"you": 0.6667, "a": 0.3333}
    assert followers(phrases, "london met", 3) is None  # never seen
    assert followers(phrases, "we", 2) == {"met": 1.0}


def test_contexts_with_unknown_words_give_nothing():
    text = "we zork tom. we zork tom."
    phrases = build_phrases(ids_of(text), len(VOCAB), VOCAB.unk_id)
    assert followers(phrases, "the zork", 2) is None
    assert followers(phrases, "we zork", 3) is None
    assert followers(phrases, "we", 2) == {"<unk>": 1.0}  # an unknown word may follow


def test_a_word_seen_once_after_a_frequent_context_is_pruned():
    text = "see you tom. " * 60 + "see you london."
    kept = build_phrases(ids_of(text), len(VOCAB), VOCAB.unk_id)
    assert followers(kept, "see you", 3) == {"tom": 0.9836}  # london was seen once in 61
    everything = build_phrases(ids_of(text), len(VOCAB), VOCAB.unk_id, rare_context=1000)
    assert followers(everything, "see you", 3) == {"tom": 0.9836, "london": 0.0164}


def test_the_file_round_trips(tmp_path):
    phrases = build_phrases(ids_of(CORPUS), len(VOCAB), VOCAB.unk_id)
    phrases.save(tmp_path / "phrases.npz")
    loaded = Phrases.load(tmp_path / "phrases.npz", len(VOCAB), VOCAB.unk_id)
    for order, table in phrases.tables.items():
        for name in ("contexts", "totals", "starts", "next_ids", "counts"):
            assert np.array_equal(getattr(loaded.tables[order], name), getattr(table, name))
    assert followers(loaded, "we met", 3) == followers(phrases, "we met", 3)


def test_fine_tuning_adds_counts_and_keeps_the_ids_through_a_grown_vocabulary():
    base = build_phrases(ids_of(CORPUS), len(VOCAB), VOCAB.unk_id)
    grown = make_vocab(WORDS + [("zork", "zork")])
    assert grown.tokens[: len(VOCAB)] == VOCAB.tokens and grown.id("zork") == len(VOCAB)
    merged = build_phrases(ids_of("we met zork. we met tom.", grown), len(grown), grown.unk_id, base=base)
    ids = ids_of("we met", grown)
    found, log_probs = merged.followers(ids, len(ids), 3)
    shares = {grown.tokens[i]: round(math.exp(p), 4) for i, p in zip(found, log_probs)}
    assert shares == {"tom": 0.6, "london": 0.2, "zork": 0.2}


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda path: path.write_bytes(b"not a zip at all"), "not a phrases file or is damaged"),
        (lambda path: np.savez(path, format=np.array("something-else")), "not a phrases file"),
        (lambda path: np.savez(path, format=np.array("keyboard-phrases"), format_version=np.array(9)),
         "version 9 is not supported"),
        (lambda path: build_phrases(ids_of(CORPUS), len(VOCAB) + 1, 0).save(path), "vocabulary of"),
    ],
)
def test_a_foreign_or_damaged_file_is_refused_in_one_sentence(tmp_path, damage, message):
    path = tmp_path / "phrases.npz"
    damage(path)
    with pytest.raises(VocabError, match=message):
        Phrases.load(path, len(VOCAB), VOCAB.unk_id)


def test_a_bundle_with_a_foreign_phrases_file_names_it(tmp_path):
    wrong = build_phrases(ids_of(CORPUS), len(VOCAB) + 1, 0)  # for another vocabulary
    # writing validates by loading, so such a bundle never lands
    with pytest.raises(ModelLoadError, match=rf"phrases\.npz: it was made for a vocabulary of {len(VOCAB) + 1} tokens, not {len(VOCAB)}\.$"):
        write_placeholder_bundle(tmp_path / "new", VOCAB, phrases=wrong)
    assert not (tmp_path / "new").exists()
    # one swapped in afterwards, with a matching checksum, is refused when loading
    path = write_placeholder_bundle(tmp_path / "bundle", VOCAB, phrases=build_phrases(ids_of(CORPUS), len(VOCAB), 0))
    wrong.save(path / "phrases.npz")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["phrases.npz"] = sha256_file(path / "phrases.npz")
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match=r"phrases\.npz: it was made for a vocabulary"):
        load_bundle(path)


@pytest.fixture(scope="module")
def phrase_bundle(tmp_path_factory):
    # "london" ranks far below "tom" in FakeGraph's table; the corpus says "we met london"
    phrases = build_phrases(ids_of("we met london. " * 3), len(VOCAB), VOCAB.unk_id)
    return write_placeholder_bundle(tmp_path_factory.mktemp("phrases") / "bundle", VOCAB, phrases=phrases)


def predictor_for(path, phrases=PhraseSettings()):
    bundle = load_bundle(path)
    return Predictor(bundle, FakeGraph(bundle.vocab), recency=OFF, phrases=phrases)


def test_a_corpus_phrase_raises_its_word_by_the_formula(phrase_bundle):
    plain = predictor_for(phrase_bundle, PhraseSettings.off())
    mixed = predictor_for(phrase_bundle)
    network, _ = plain.next_word_log_probs("so we met ")
    log_probs, _ = mixed.next_word_log_probs("so we met ")
    london, tom = VOCAB.id("london"), VOCAB.id("tom")
    settings = PhraseSettings()
    keep = math.log1p(-settings.pair_weight - settings.triple_weight)
    # "met" was always followed by "london", and "we met" too: both parts give it everything
    assert log_probs[london] == pytest.approx(np.logaddexp(keep + network[london], math.log(0.2)))
    assert log_probs[tom] == pytest.approx(keep + network[tom])
    assert np.exp(log_probs).sum() == pytest.approx(1.0, abs=1e-5)
    assert "London" in [s.text for s in mixed.suggest("so we met ", 3)]
    assert "London" not in [s.text for s in plain.suggest("so we met ", 3)]


def test_a_context_the_corpus_never_had_leaves_the_network_alone(phrase_bundle):
    plain = predictor_for(phrase_bundle, PhraseSettings.off())
    mixed = predictor_for(phrase_bundle)
    for text in ("see you ", "the cat sat ", ""):
        assert np.array_equal(plain.next_word_log_probs(text)[0], mixed.next_word_log_probs(text)[0])


def test_only_the_pair_part_when_the_triple_was_never_seen(phrase_bundle):
    plain = predictor_for(phrase_bundle, PhraseSettings.off())
    mixed = predictor_for(phrase_bundle)
    network, _ = plain.next_word_log_probs("they met ")  # "they met" unseen, "met" seen
    log_probs, _ = mixed.next_word_log_probs("they met ")
    london = VOCAB.id("london")
    keep = math.log1p(-PhraseSettings().pair_weight)
    assert log_probs[london] == pytest.approx(np.logaddexp(keep + network[london], math.log(0.05)))


def test_settings_are_checked():
    with pytest.raises(ValueError):
        PhraseSettings(0.6, 0.5)
    with pytest.raises(ValueError):
        PhraseSettings(-0.1, 0.1)
