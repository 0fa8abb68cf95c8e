"""The capitals of the strip's words against the letters typed (``ranking.written_form``,
``engine/completions.py``; H41's classes 3, 4 and 5), on the shipped default model.

* "I'" is not typed in capitals: its apostrophe is no letter ("I'm", not "I'M");
* inside a sentence typed in small letters, a capital the corpus gives a word by habit
  ("Government": "governments"; Austen's "Miss": "missed") is dropped, and words written
  with a capital count less ("washing" before "Washington"), but names stay within a
  letter or two ("lon" -> "London");
* a one-letter word written as a capital ("C") only where a capital is typed;
* the typed word kept in the third slot where a longer word is barely likelier (twice at most).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from keyboard_app.engine.completions import CompletionSettings, _capital_by_habit
from keyboard_app.engine.predictor import Edit, Predictor
from keyboard_app.engine.ranking import in_capitals, written_form
from test_completions import engine, p, texts  # noqa: F401  (the strip tests' default model and helper)

ON = CompletionSettings()


# -- typed in capitals: letters only ------------------------------------------------------


@pytest.mark.parametrize("typed, capitals", [("I'", False), ("O'", False), ("I'M", True), ("NAS", True),
                                             ("N", False), ("Lon", False), ("D'A", True), ("d'A", False)])
def test_typed_in_capitals_counts_letters_only(typed, capitals):
    assert in_capitals(typed) is capitals


def test_the_apostrophe_does_not_make_a_contraction_capitals():
    assert written_form("I'm", "I'", False) == "I'm"
    assert written_form("I'll", "I'", True) == "I'll"
    assert written_form("NASA", "NAS", False) == "NASA"
    assert written_form("O'Connor", "O'", False) == "O'Connor"


@pytest.mark.parametrize("text", ["I'", "Hi, I'", "Are you still up for tonight? I'", "Dear Sir or Madam,\n\nI'"])
def test_i_apostrophe_offers_the_contractions_as_written(p, text):
    shown = texts(p, text)
    assert {"I'm", "I'll", "I've"} <= set(texts(p, text, 5)) and len(shown) == 3
    assert not [t for t in shown if t.isupper()]


@pytest.mark.parametrize("text", ["Mr O'", "Mrs D'"])
def test_a_name_after_an_apostrophe_is_not_written_in_capitals(p, text):
    shown = texts(p, text)
    assert shown and all(t[:2] == text[-2:] and not t.isupper() for t in shown)


def test_capitals_typed_throughout_still_give_capitals(p):
    shown = texts(p, "We met the NAS")
    assert shown and all(t.isupper() for t in shown)


# -- capitals by habit, dropped where small letters are typed inside a sentence -----------------


def test_a_capital_by_habit_is_read_from_the_words_endings(p):
    vocab = p.bundle.vocab
    habit = {t: _capital_by_habit(t, vocab.display[vocab.id(t)], vocab)
             for t in ("government", "miss", "department", "lady", "monday", "english", "i", "london", "the")}
    assert habit == {"government": True, "miss": True, "department": True, "lady": True,
                     "monday": False, "english": False, "i": False, "london": False, "the": False}


def test_the_typed_word_keeps_its_small_letters_where_its_capital_is_a_habit(p):
    shown = p.suggest("I'll miss", 3)
    assert shown[0].text == "miss"
    assert p.accept("I'll miss", shown[0]) == Edit(5, 9, "miss ")  # Tab: the word as typed
    p.completions = replace(ON, small_forms=False)
    assert "Miss" in texts(p, "I'll miss")  # written with its capital, it counts as one
    p.completions = replace(ON, small_forms=False, small_letter_evidence=1.0)
    assert texts(p, "I'll miss")[0] == "Miss"  # what H41 saw


@pytest.mark.parametrize("text, word", [("the gov", "government"), ("my dep", "department"),
                                        ("she's a real lady", "lady")])
def test_completions_are_written_in_small_letters_where_the_capital_is_a_habit(p, text, word):
    shown = texts(p, text)
    assert word in shown and word.capitalize() not in shown


@pytest.mark.parametrize("text, word", [("The Gov", "Government"), ("Gov", "Government"),
                                        ("We met.\ngov", "Government"), ("we speak english", "English"),
                                        ("see you on monday", "Monday"), ("we went to london", "London"),
                                        ("he said i", "I")])
def test_capitals_stay_where_typed_at_a_start_or_of_a_name(p, text, word):
    assert word in texts(p, text)


def test_a_capital_then_small_letters_is_not_widened_to_capitals(p):
    assert texts(p, "Dear Ms")[0] == "Ms"
    assert texts(p, "Dear MS")[0] == "MS"


# -- small letters typed inside a sentence count against capitals -------------------------------


def test_small_letters_put_the_small_word_before_the_name(p):
    assert texts(p, "toilet paper, washing")[0] == "washing"
    assert "Washington" not in texts(p, "the dog was")
    assert texts(p, "I called my")[0] == "my"
    p.completions = replace(ON, small_letter_evidence=1.0)
    assert "Washington" in texts(p, "the dog was")  # without the rule: H41's strip ("the box was" then)


@pytest.mark.parametrize("text, letters", [("we went to lon", 3), ("she lives in washin", 6), ("I love pyth", 4),
                                           ("see you on mon", 3), ("I met jo", 2)])
def test_a_name_typed_in_small_letters_is_still_found(p, text, letters):
    """A person who never types capitals finds names a letter or two later at most."""
    name = {"lon": "London", "washin": "Washington", "pyth": "Python", "mon": "Monday", "jo": "John"}[text[-letters:]]
    assert name in texts(p, text)


def test_a_capital_inside_a_sentence_is_unchanged_by_the_small_letter_rule(p):
    for text in ("See you by Fri", "we went to Lon", "She lives in Washin"):
        shown = texts(p, text, 5)
        p.completions = replace(ON, small_letter_evidence=1.0, letters_as_typed=False, small_forms=False)
        assert texts(p, text, 5) == shown
        p.completions = ON


@pytest.mark.parametrize("text", ["Fri", "We met.\nfri", "He said: \"fri", "See you by FRI"])
def test_small_letters_where_a_sentence_line_or_quote_starts_say_nothing(p, text):
    on = texts(p, text, 5)
    p.completions = replace(ON, small_letter_evidence=1.0)
    assert on == texts(p, text, 5)


# -- one-letter capitals --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["written in c", "vitamin c", "the letter c"])
def test_a_capital_letter_is_not_offered_for_a_small_one(p, text):
    assert "C" not in texts(p, text, 5)
    p.completions = replace(ON, letters_as_typed=False, small_letter_evidence=1.0)
    assert "C" in texts(p, text, 5)  # what the strip offered


def test_a_capital_letter_typed_is_offered(p):
    assert texts(p, "written in C")[0] == "C"
    assert "I" in texts(p, "he said i")  # the pronoun is no letter


# -- the typed word in the third slot (``typed_word_within``) ---------------------------------------


def test_the_typed_word_is_kept_third_when_a_longer_word_is_barely_likelier(p):
    text = "birthday card"
    p.completions = replace(ON, typed_word_within=0.0)
    assert "card" not in texts(p, text)  # the rule off: the longer words only
    p.completions = replace(ON, typed_word_within=3.0)
    shown = p.suggest(text, 3)
    assert [s.text for s in shown][2] == "card" and shown[0].text == "cards"
    assert shown[0].log_prob - math.log(3.0) <= shown[2].log_prob < shown[0].log_prob
    p.completions = replace(ON, typed_word_within=1.5)  # a narrower margin: not kept
    assert "card" not in texts(p, text)
    assert "later" in texts(p, "I'm running a bit late")  # far likelier: not kept
    assert "late" not in texts(p, "I'm running a bit late")


# ("I went for a run" was the other case until the chat joined the corpus: "run" is now first)
@pytest.mark.parametrize("text, typed", [("I paid for next day", "day")])
def test_by_default_a_typed_word_half_as_likely_as_the_first_is_kept_third(p, text, typed):
    shown = p.suggest(text, 3)
    assert shown[2].text == typed and shown[0].text.startswith(typed) and shown[0].text != typed
    assert shown[2].log_prob >= shown[0].log_prob - math.log(2.0)
    p.completions = replace(ON, typed_word_within=0.0)
    assert typed not in texts(p, text)  # H41's class 4: the word just typed gone from the strip


@pytest.mark.parametrize("settings", [ON, replace(ON, typed_word_within=3.0), replace(ON, small_letter_evidence=0.1)])
def test_a_strip_of_k_is_the_first_k_of_more_under_the_new_rules(p, settings):
    p.completions = settings
    for text in ("birthday card", "toilet paper, washi", "the gov", "I'll miss", "I'", "written in c",
                 "we went to lo", "Dear Ms"):
        five = p.suggest(text, 5)
        for k in (1, 2, 3, 4):
            assert p.suggest(text, k) == five[:k], (text, k)
        p.reset()
        fresh = Predictor(p.bundle, p.session)
        fresh.completions = settings
        assert fresh.suggest(text, 5) == five  # a fresh engine agrees


@pytest.mark.parametrize("field, value", [("small_letter_evidence", 0.0), ("small_letter_evidence", 1.5),
                                          ("typed_word_within", 0.5), ("typed_word_within", -1.0)])
def test_settings_out_of_range_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        CompletionSettings(**{field: value})


@pytest.mark.parametrize("text, word", [("We met on the first of mar", "March"),
                                        ("see you on fri", "Friday"), ("it closes on sat", "Saturday")])
def test_months_and_days_keep_their_capital_typed_in_small_letters(p, text, word):
    """H51: "marched" made "March" a capital by habit ("mar" offered "march"), and small
    letters counted against "Friday": months and days are written with a capital."""
    assert word in texts(p, text)
