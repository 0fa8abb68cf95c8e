"""The personal layer mixed into a real (tiny) predictor, without Qt."""

from __future__ import annotations

import pytest

from keyboard_app.engine.predictor import Predictor
from keyboard_app.learning import PersonalizedPredictor, PersonalModel, local_context


@pytest.fixture(scope="module")
def predictor(tiny_bundle):
    return Predictor.load(tiny_bundle)


def learned(*sentences: str) -> PersonalModel:
    model = PersonalModel()
    for sentence in sentences:
        previous = "<s>"
        for i, word in enumerate(sentence.split()):
            model.observe(previous, word, initial=(i == 0))
            previous = word.lower()
    return model


def test_without_personal_data_it_is_the_engine(predictor):
    wrapped = PersonalizedPredictor(predictor, PersonalModel())
    for text in ("", "The cat sat on the ", "Alice met Bob in Lo"):
        assert wrapped.suggest(text, 3) == predictor.suggest(text, 3)


def test_a_learned_name_is_suggested_after_its_usual_word(predictor):
    personal = learned("we went to Zanzibar", "we went to Zanzibar", "off to Zanzibar")
    wrapped = PersonalizedPredictor(predictor, personal)
    shown = wrapped.suggest("Then we went to ", 3)
    assert "Zanzibar" in [s.text for s in shown]
    [first, *_] = wrapped.suggest("Then we went to za", 3)
    assert first.text == "zanzibar".capitalize() and first.is_completion
    edit = wrapped.accept("Then we went to za", first)
    assert (edit.start, edit.replacement) == (len("Then we went to "), "Zanzibar ")


def test_scores_stay_ordered_and_model_words_keep_their_place(predictor):
    personal = learned("hello there")
    wrapped = PersonalizedPredictor(predictor, personal)
    shown = wrapped.suggest("The cat sat on the ", 3)
    assert shown[0].text == "mat"  # a little personal data does not drown the model
    assert [s.log_prob for s in shown] == sorted((s.log_prob for s in shown), reverse=True)


def test_blocked_words_are_never_shown_even_with_learning_off(predictor):
    personal = PersonalModel()
    personal.block("mat")
    wrapped = PersonalizedPredictor(predictor, personal)
    wrapped.use_personal = False
    shown = [s.text for s in wrapped.suggest("The cat sat on the ", 3)]
    assert "mat" not in shown and len(shown) == 3


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
    wrapped = PersonalizedPredictor(predictor, personal)
    assert personal.forget("zanzibar")
    assert "Zanzibar" not in [s.text for s in wrapped.suggest(text, 3)]
    personal.observe("to", "Zanzibar")  # the user types it again: it may come back
    assert "Zanzibar" in [s.text for s in wrapped.suggest(text, 3)]
    assert "hidden" not in personal.to_dict()  # never saved
