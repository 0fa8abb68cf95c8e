"""The personal layer as a component of a real (tiny) predictor's mixture, without Qt."""

from __future__ import annotations

import math

import pytest

from keyboard_app.engine.mixture import MixtureWeights
from keyboard_app.engine.predictor import Predictor
from keyboard_app.learning import PersonalLayer, PersonalModel, local_context


@pytest.fixture
def predictor(tiny_bundle):
    predictor = Predictor.load(tiny_bundle)
    yield predictor
    predictor.close()


@pytest.fixture(scope="module")
def plain(tiny_bundle):
    """The engine alone, to compare with."""
    predictor = Predictor.load(tiny_bundle)
    yield predictor
    predictor.close()


def learned(*sentences: str) -> PersonalModel:
    model = PersonalModel()
    for sentence in sentences:
        previous = "<s>"
        for i, word in enumerate(sentence.split()):
            model.observe(previous, word, initial=(i == 0))
            previous = word.lower()
    return model


def with_layer(predictor: Predictor, personal: PersonalModel) -> PersonalLayer:
    layer = PersonalLayer(personal)
    predictor.add_component(layer)
    return layer


def test_without_personal_data_it_is_the_engine(predictor, plain):
    with_layer(predictor, PersonalModel())
    for text in ("", "The cat sat on the ", "Alice met Bob in Lo"):
        assert predictor.suggest(text, 3) == plain.suggest(text, 3)


def test_a_learned_name_is_suggested_after_its_usual_word(predictor):
    with_layer(predictor, learned("we went to Zanzibar", "we went to Zanzibar", "off to Zanzibar"))
    shown = predictor.suggest("Then we went to ", 3)
    assert "Zanzibar" in [s.text for s in shown]
    [first, *_] = predictor.suggest("Then we went to za", 3)
    assert first.text == "Zanzibar" and first.is_completion
    edit = predictor.accept("Then we went to za", first)
    assert (edit.start, edit.replacement) == (len("Then we went to "), "Zanzibar ")


def test_a_learned_word_gets_its_share_of_the_mixture(predictor, plain):
    personal = learned("we went to Zanzibar", "we went to Zanzibar", "off to Zanzibar")
    layer = with_layer(predictor, personal)
    share = layer.share(predictor.weights)
    weights = MixtureWeights()
    assert share == pytest.approx(weights.personal * 11 / (11 + weights.personal_ramp))  # eleven words counted
    [offered] = personal.candidates("to", "zanz")
    zanzibar = {s.token: s for s in predictor.suggest("Then we went to zanz", 3)}["zanzibar"]
    # not a word of this model's: what the engine gives it does not count
    assert "zanzibar" not in plain.bundle.vocab
    assert zanzibar.log_prob == pytest.approx(math.log(share * offered.prob))
    # a word the model knows: (1 - w) P_engine + w P_personal
    [we] = [c for c in personal.candidates("<s>", "") if c.token == "we"]
    engine = {s.token: s.log_prob for s in plain.suggest("", 12)}
    mixed = {s.token: s.log_prob for s in predictor.suggest("", 12)}
    assert mixed["we"] == pytest.approx(math.log((1 - share) * math.exp(engine["we"]) + share * we.prob))


def test_scores_stay_ordered_and_model_words_keep_their_place(predictor):
    with_layer(predictor, learned("hello there"))
    shown = predictor.suggest("The cat sat on the ", 3)
    assert shown[0].text == "mat"  # a little personal data does not drown the model
    assert [s.log_prob for s in shown] == sorted((s.log_prob for s in shown), reverse=True)


def test_the_share_and_the_pool_are_the_engines_weights(predictor):
    personal = learned("we went to Zanzibar", "we went to Zanzibar")
    with_layer(predictor, personal)
    predictor.set_weights(MixtureWeights(personal=0.0))
    assert "Zanzibar" not in [s.text for s in predictor.suggest("Then we went to ", 3)]
    predictor.set_weights(MixtureWeights(personal=0.9, personal_ramp=0.0))
    assert predictor.suggest("Then we went to ", 3)[0].text == "Zanzibar"


def test_blocked_words_are_never_shown_even_with_learning_off(predictor):
    personal = PersonalModel()
    personal.block("mat")
    layer = with_layer(predictor, personal)
    layer.enabled = False
    shown = [s.text for s in predictor.suggest("The cat sat on the ", 3)]
    assert "mat" not in shown and len(shown) == 3


def test_learning_off_is_the_engine_less_the_blocked_words(predictor, plain):
    personal = learned("we went to Zanzibar", "we went to Zanzibar")
    layer = with_layer(predictor, personal)
    layer.enabled = False
    for text in ("", "Then we went to ", "Then we went to za"):
        assert predictor.suggest(text, 3) == plain.suggest(text, 3)


def test_local_context_matches_the_full_split(predictor):
    text = "x " * 1000 + "Alice met Bob. In Lon"
    full = predictor.tokenizer.split_context(text)
    local = local_context(predictor.tokenizer, text)
    assert (local.tokens[-1], local.partial, local.partial_start, local.sentence_start) == (
        full.tokens[-1], full.partial, full.partial_start, full.sentence_start)


def test_a_forgotten_word_leaves_the_strip_until_it_is_typed_again(predictor):
    # the engine's document cache alone would bring "Zanzibar" back: it is in the text
    text = "we went to Zanzibar. we went to Zanzibar. we went to Za"
    assert "Zanzibar" in [s.text for s in predictor.suggest(text, 3)]
    personal = learned("we went to Zanzibar")
    with_layer(predictor, personal)
    assert personal.forget("zanzibar")
    assert "Zanzibar" not in [s.text for s in predictor.suggest(text, 3)]
    personal.observe("to", "Zanzibar")  # the user types it again: it may come back
    assert "Zanzibar" in [s.text for s in predictor.suggest(text, 3)]
    assert "hidden" not in personal.to_dict()  # never saved
