"""The phrase tables' weight by the evidence of their context (``PhraseSettings.evidence``,
H41's class 2): a part's weight is ``w * T / (T + b)``, T its context's occurrences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine_helpers import FakeGraph, make_vocab, write_placeholder_bundle
from keyboard_app.engine.bundle import load_bundle
from keyboard_app.engine.components import PhraseTables
from keyboard_app.engine.mixture import MixtureWeights
from keyboard_app.engine.phrases import EVIDENCE, PhraseSettings, Phrases, build_phrases, phrase_index
from keyboard_app.engine.predictor import Predictor, RecencySettings
from keyboard_app.engine.tokenizer import Tokenizer

OFF = RecencySettings.off()  # the phrases alone, not the document cache
VOCAB = make_vocab()
RARE, FREQUENT = 3, 300  # "we met" -> "london" three times, "see you" -> "tom" three hundred


def ids_of(text: str) -> np.ndarray:
    return np.array([VOCAB.id(t) if t in VOCAB else VOCAB.unk_id for t in Tokenizer().tokenize(text)], np.int64)


@pytest.fixture(scope="module")
def evidence_bundle(tmp_path_factory):
    # FakeGraph ranks "london" and "tom" low: what lifts them is the tables
    phrases = build_phrases(ids_of("we met london. " * RARE + "see you tom. " * FREQUENT), len(VOCAB), 0,
                            VOCAB.unk_id)
    return write_placeholder_bundle(tmp_path_factory.mktemp("evidence") / "bundle", VOCAB, phrases=phrases)


def predictor_for(path, phrases):
    bundle = load_bundle(path)
    return Predictor(bundle, FakeGraph(bundle.vocab), recency=OFF, phrases=phrases)


@pytest.mark.parametrize("text, word, seen", [("so we met ", "london", RARE), ("and see you ", "tom", FREQUENT)])
@pytest.mark.parametrize("b", [1.0, 10.0])
def test_a_part_weighs_what_its_context_was_seen(evidence_bundle, text, word, seen, b):
    fixed = PhraseSettings()
    network, _ = predictor_for(evidence_bundle, PhraseSettings.off()).next_word_log_probs(text)
    log_probs, _ = predictor_for(evidence_bundle, PhraseSettings(evidence=b)).next_word_log_probs(text)
    # both contexts (the word before, the two before) were seen `seen` times, always followed by `word`
    share = (fixed.pair_weight + fixed.triple_weight) * seen / (seen + b)
    i = VOCAB.id(word)
    assert log_probs[i] == pytest.approx(np.logaddexp(math.log1p(-share) + network[i], math.log(share)))
    assert np.exp(log_probs).sum() == pytest.approx(1.0, abs=1e-5)  # what a part gives up, the network keeps
    # nothing else changes: the same as the fixed weights scaled by hand, bit for bit
    scaled = PhraseSettings(fixed.pair_weight * (seen / (seen + b)), fixed.triple_weight * (seen / (seen + b)))
    assert np.array_equal(log_probs, predictor_for(evidence_bundle, scaled).next_word_log_probs(text)[0])


def test_a_rare_context_loses_much_more_than_a_frequent_one(evidence_bundle):
    def lift(settings, text, word):
        log_probs, _ = predictor_for(evidence_bundle, settings).next_word_log_probs(text)
        return log_probs[VOCAB.id(word)]

    default = MixtureWeights().phrases
    rare = lift(PhraseSettings(), "so we met ", "london") - lift(default, "so we met ", "london")
    frequent = lift(PhraseSettings(), "and see you ", "tom") - lift(default, "and see you ", "tom")
    assert rare > math.log(3) and 0 < frequent < 0.05  # (weights x 3/13 and x 300/310)


def test_evidence_zero_is_the_fixed_weights_exactly(evidence_bundle, monkeypatch):
    """b = 0 never asks for a context's total and gives the scores the fixed weights gave,
    also after the same engine mixed with another b (its kept parts are per b)."""
    fresh = predictor_for(evidence_bundle, PhraseSettings())
    used = predictor_for(evidence_bundle, PhraseSettings(evidence=10.0))
    texts = ["so we met ", "and see you ", "we met london. see you ", "see "]
    before = [used.next_word_log_probs(t)[0].copy() for t in texts]
    used.set_phrase_settings(PhraseSettings())

    def no_total(self, context, order):
        raise AssertionError("b = 0 looked up a context's total")

    monkeypatch.setattr(Phrases, "total", no_total)
    for text, mixed in zip(texts, before):
        expected = fresh.next_word_log_probs(text)[0]
        assert np.array_equal(used.next_word_log_probs(text)[0], expected)
        assert not np.array_equal(mixed, expected)
    # the old formula: "met" and "we met" were always followed by "london", both parts give it all
    network, _ = predictor_for(evidence_bundle, PhraseSettings.off()).next_word_log_probs("so we met ")
    london = VOCAB.id("london")
    assert fresh.next_word_log_probs("so we met ")[0][london] == pytest.approx(
        np.logaddexp(math.log1p(-0.2) + network[london], math.log(0.2)))
    [tables] = [c for c in fresh.components if isinstance(c, PhraseTables)]
    assert sorted(part.weight for part in tables.stage(fresh._memo[2]).parts) == [0.05, 0.15]


def test_the_corpus_tables_default_to_the_measured_evidence_a_users_tables_to_none():
    assert EVIDENCE > 0 and MixtureWeights().phrases == PhraseSettings(evidence=EVIDENCE)
    assert PhraseSettings().evidence == 0.0 and PhraseSettings.off().evidence == 0.0
    # an adapted bundle's manifest records the user's weights without it (and reads as before)
    assert PhraseSettings(0.1, 0.3).to_dict() == {"pair": 0.1, "triple": 0.3}
    assert PhraseSettings.from_dict({"pair": 0.1, "triple": 0.3}).evidence == 0.0
    assert PhraseSettings.from_dict(PhraseSettings(0.1, 0.3, 2.5).to_dict()) == PhraseSettings(0.1, 0.3, 2.5)
    # the mixture's weights: a table of phrase weights without it keeps the default
    assert MixtureWeights.from_dict({"phrases": {"pair": 0.05, "triple": 0.15}}) == MixtureWeights()
    assert MixtureWeights.from_dict({"phrases": {"pair": 0.05, "triple": 0.15, "evidence": 0}}).phrases.evidence == 0
    assert MixtureWeights.from_dict({"user_phrases": {"pair": 0.1, "triple": 0.3}}).user_phrases.evidence == 0
    weights = MixtureWeights(phrases=PhraseSettings(evidence=2.0), user_phrases=PhraseSettings(0.1, 0.3, 1.0))
    assert MixtureWeights.from_dict(weights.to_dict()) == weights


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_the_evidence_is_a_number_not_below_zero(value):
    with pytest.raises(ValueError, match="evidence"):
        PhraseSettings(evidence=value)
    with pytest.raises(ValueError, match="evidence"):
        PhraseSettings.from_dict({"pair": 0.05, "triple": 0.15, "evidence": value})
    with pytest.raises(ValueError, match="evidence 'much' is not a number"):
        PhraseSettings.from_dict({"evidence": "much"})


# -- the default model's own tables (H41's strips) -----------------------------------------


@pytest.fixture(scope="module")
def default():
    from keyboard_app.paths import default_model_path

    p = Predictor.load(default_model_path())
    yield p
    p.close()


def seen(predictor, *words) -> int:
    """How many times the corpus had the context ``words`` (the default model's tables)."""
    index = phrase_index(predictor.bundle.vocab.tokens, predictor.bundle.lexicon)
    return predictor.bundle.phrases.total([index[w] for w in words], len(words) + 1)


def strip(predictor, text, settings) -> list[str]:
    predictor.set_phrase_settings(settings)
    predictor.reset()
    return [s.text for s in predictor.suggest(text, 3)]


# (H41's contexts, "training all" -> "attract" and the like, are no longer in the tables since
# they were cut to the standalone build's size, stop 31; these are from the chat's held-out text)
@pytest.mark.parametrize("text, context, word", [
    ("Do you call people ", ("call", "people"), "by"),
    ("Let's talk, to get your mind off ", ("mind", "off"), "of"),
    ("Yes, but extremely ", ("but", "extremely"), "elegant"),
    ("We saw a tower on top of giant ", ("of", "giant"), "parties"),
])
def test_a_one_off_follower_of_a_rare_context_leaves_the_strip(default, text, context, word):
    assert 0 < seen(default, *context) < 5
    assert word in strip(default, text, PhraseSettings())  # the fixed weights put it there
    shown = strip(default, text, MixtureWeights().phrases)
    assert word not in shown
    assert shown[0] == strip(default, text, PhraseSettings.off())[0]  # the network's likeliest word leads


@pytest.mark.parametrize("text, context, word", [
    ("Mr ", ("<s>", "mr"), "Elliot"),
    ("But this was the only point of ", ("point", "of"), "view"),
    ("He was very unkind to his ", ("to", "his"), "father"),
])
def test_a_follower_of_a_context_seen_hundreds_of_times_stays(default, text, context, word):
    assert seen(default, *context) >= 100
    assert word not in strip(default, text, PhraseSettings.off())  # the tables put it there
    assert word in strip(default, text, MixtureWeights().phrases)
