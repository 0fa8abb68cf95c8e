"""Auto-correction and the capital after a title on the default model, as a hostile tester
found them (H74): a line's first word was taken for a name, "I cant" became "I can", "Mr Teh"
became "Mr The", and "I met Dr " offered "And"."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def predictor(typo_predictor):
    typo_predictor.auto_correct = True
    yield typo_predictor
    typo_predictor.auto_correct = False


def _after(predictor, text):
    edit = predictor.autocorrect(text)
    return None if edit is None else text[: edit.start] + edit.replacement


@pytest.mark.parametrize("text, corrected", [
    # a line's first word after a greeting line or a list dash starts something new: its capital
    # is the line's, not a name's (corrected before 6791936, left alone since)
    ("Hi Tom,\nThnaks", "Hi Tom,\nThanks"),
    ("Shopping:\n- Recieve", "Shopping:\n- Receive"),
])
def test_a_slip_at_a_line_start_is_still_corrected(predictor, text, corrected):
    assert _after(predictor, text) == corrected


@pytest.mark.parametrize("text, wrong", [
    ("I cant", "I can"),  # the opposite meaning; can't is meant
    ("I think theyre", "I think there"),  # they're
    ("I know youre", "I know your"),  # you're
])
def test_a_missing_apostrophe_is_not_corrected_to_another_word(predictor, text, wrong):
    assert _after(predictor, text) != wrong


def test_a_name_after_a_title_is_left_as_written(predictor):
    # "Teh" is a surname; after a title, written with its capital, it is a name ("Mr The" is typed)
    assert _after(predictor, "I met Mr Teh") is None


@pytest.mark.parametrize("text", ["I met Prof ", "I met Mx ", "I met Ms ", "I met Dr "])
def test_no_small_word_is_offered_with_a_capital_after_a_title(predictor, text):
    # capital_next capitalises every word offered, so "I met Prof" offers And / With / In / The
    shown = [s.text for s in predictor.suggest(text, 5)]
    small = {"And", "With", "In", "The", "As", "A", "On", "Is", "Are", "For", "I"} - {"I"}
    assert not small.intersection(shown), shown


@pytest.mark.parametrize("text, after", [
    ("ok thx", None),  # chat's "thanks": no slip of "the" (any letter for another, H77)
    ("hey, thx", None),
    ("I went hte", "I went the"),  # two letters swapped: a hand's slip, still put right
    ("cat adn", "cat and"),
    ("Im", "I'm"), ("I think im", "I think I'm"),  # the pronoun's contraction without its apostrophe
    ("IM", None),  # in capitals: an abbreviation
])
def test_a_short_word_is_corrected_only_for_a_slip_of_the_hand(predictor, text, after):
    assert _after(predictor, text) == after
