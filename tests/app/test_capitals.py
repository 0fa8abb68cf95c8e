"""Capitals at sentence starts turned off (``keyboard_app.capitals``), on the tiny model's own
suggestions: the rule the editor's strip and the on-screen keyboard's row share."""

from __future__ import annotations

from dataclasses import replace

import pytest

from keyboard_app.capitals import phrase_without_sentence_capital, without_sentence_capitals, written_form
from keyboard_app.engine.predictor import Predictor, Suggestion
from keyboard_app.learning import PersonalModel


@pytest.fixture(scope="module")
def predictor(tiny_bundle):
    return Predictor.load(tiny_bundle)


def shown(predictor, text: str, personal=None) -> tuple[list[str], list[str]]:
    """The strip's words for ``text`` as the engine gives them, and with capitals off."""
    suggestions = predictor.suggest(text, 5)
    rewritten = without_sentence_capitals(suggestions, text, predictor.tokenizer,
                                          lambda s: written_form(s, predictor, personal))
    return [s.text for s in suggestions], [s.text for s in rewritten]


@pytest.mark.parametrize("text, before, after", [
    ("Alice met Bob in London. ", "The", "the"),  # a sentence start: the word as written
    ("Alice met Bob in London. ", "Alice", "Alice"),  # a name keeps its capital
    ("Alice met Bob in London. ", "Bob", "Bob"),
    ("Alice met Bob in London. ", "She", "she"),
    ("Alice met Bob in London. Th", "The", "The"),  # a capital the user typed is kept
    ("Alice met Bob in London.\n\nth", "The", "the"),  # small letters typed: as written
    ("Alice met Bob in London.\n\nth", "That", "that"),
    ("Alice met Bob in ", "London", "London"),  # inside a sentence: nothing to change
    ("Bob told Alice that ", "I", "I"),
])
def test_a_sentence_start_loses_only_the_capital_it_added(predictor, text, before, after):
    engine, rewritten = shown(predictor, text)
    assert before in engine
    assert rewritten[engine.index(before)] == after


def test_a_word_typed_in_capitals_stays_as_typed():
    typed = Suggestion(text="LONDON", token="london", log_prob=-1.0, is_completion=True)
    assert written_form(typed, predictor=None) == "LONDON"


def test_the_users_own_written_form_comes_first(predictor):
    personal = PersonalModel()
    for _ in range(3):
        personal.observe("<s>", "eBay", initial=False)
    the = Suggestion(text="EBay", token="ebay", log_prob=-1.0, is_completion=False)
    assert written_form(the, predictor, personal) == "eBay"


def test_a_phrase_loses_the_capital_of_its_first_word_only(predictor):
    phrase = Suggestion(text="The cat sat", token="the cat sat", log_prob=-1.0, is_completion=False,
                        kind="phrase")
    names = replace(phrase, text="Alice met Bob", token="alice met bob")
    text = "Alice met Bob in London. "
    written = lambda s: written_form(s, predictor)  # noqa: E731
    assert phrase_without_sentence_capital(phrase, text, predictor.tokenizer, written).text == "the cat sat"
    assert phrase_without_sentence_capital(names, text, predictor.tokenizer, written).text == "Alice met Bob"
