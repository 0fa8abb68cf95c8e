"""Typo tolerance: the error model, the candidate index, and corrections in the strip.

The index and the error model are tested on small word lists; the corrections
in context on the shipped default model (a real model: real expectations).
The misspellings are from the list codespell ships (its dictionary.txt, a
derivative of Wikipedia's list of common misspellings, CC BY-SA 3.0).
"""

from __future__ import annotations

import math

import pytest

from keyboard_app.engine.predictor import Predictor, Suggestion
from keyboard_app.engine.typos import ErrorModel, TypoIndex, keyboard_neighbours
from keyboard_app.paths import default_model_path

WORDS = ["the", "then", "there", "they", "receive", "received", "relieve", "process", "processes",
         "profess", "accommodate", "accommodation", "accomplish", "definitely", "defiantly", "house"]


@pytest.fixture(scope="module")
def index() -> TypoIndex:
    return TypoIndex(WORDS)


def _prefixes(index: TypoIndex, typed: str) -> list[str]:
    return [prefix for prefix, _ in index.alternatives(typed)]


def test_neighbours_are_the_keys_around_a_key():
    near = keyboard_neighbours()
    assert near["e"] == {"w", "r", "s", "d"}
    assert near["g"] == {"f", "h", "t", "y", "v", "b"}
    assert "p" not in near["a"]


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("teh", "the"),  # two letters swapped
        ("recieve", "receive"),  # codespell's list
        ("procwss", "process"),  # a neighbouring key
        ("definately", "definitely"),  # another vowel
        ("acomodate", "accommodate"),  # two letters left out
        ("acomo", "accommo"),  # prefix-aware: the start of "accommodate"
        ("hpuse", "house"),
    ],
)
def test_misspellings_find_the_word_meant(index, typed, meant):
    assert meant in _prefixes(index, typed)


def test_a_neighbouring_key_costs_less_than_a_far_one(index):
    costs = dict(index.alternatives("procwss"))
    assert costs["process"] > costs.get("profess", -math.inf)
    model = ErrorModel()
    assert costs["process"] == pytest.approx(model.substitute_near)


def test_the_typed_letters_are_no_alternative_of_themselves(index):
    assert "the" not in _prefixes(index, "the")
    assert all(p != "process" for p in _prefixes(index, "process"))


def test_too_few_letters_or_nothing_near_gives_nothing(index):
    assert index.alternatives("t") == []
    assert index.alternatives("zzzzzzzz") == []


def test_a_floor_narrows_the_search_to_likelier_errors(index):
    everything = index.alternatives("recieve")
    narrow = index.alternatives("recieve", floor=-6.0)
    assert [p for p, e in narrow] == [p for p, e in everything if e > -6.0]
    assert narrow and narrow[0][0] == "receive"


# -- the default model: corrections in context -----------------------------------------------


@pytest.fixture(scope="module")
def predictor(typo_predictor):
    return typo_predictor


def _shown(predictor: Predictor, text: str, k: int = 3) -> list[Suggestion]:
    return predictor.suggest(text, k)


@pytest.mark.parametrize(
    "text, meant",
    [
        ("I did not recieve", "receive"),  # codespell: recieve->receive
        ("She went to teh", "the"),  # codespell: teh->the
        ("We need to find a better procwss", "process"),  # a slip on a neighbouring key
        ("The hotel can acomo", "accommodate"),  # half typed: the correction is offered already
        ("It was definately", "definitely"),  # codespell: definately->definitely
    ],
)
def test_the_strip_offers_the_word_meant_marked_as_a_correction(predictor, text, meant):
    shown = {s.text.lower(): s for s in _shown(predictor, text)}
    assert meant in shown
    assert shown[meant].kind == "correction"
    assert shown[meant].is_completion


def test_a_correction_is_taken_like_any_suggestion(predictor):
    text = "I did not recieve"
    correction = next(s for s in _shown(predictor, text) if s.text == "receive")
    edit = predictor.accept(text, correction)
    assert (edit.start, edit.end, edit.replacement) == (len("I did not "), len(text), "receive ")


def test_a_correction_keeps_the_capitals_typed(predictor):
    assert "The" in [s.text for s in _shown(predictor, "Teh")]


@pytest.mark.parametrize("text", ["I went to the house", "It was the", "He said that because",
                                  "We will process", "Send me the form", "We hope to see you"])
def test_a_correctly_typed_common_word_is_not_corrected(predictor, text):
    assert all(s.kind == "word" for s in _shown(predictor, text))
    predictor.auto_correct = True
    try:
        assert predictor.autocorrect(text) is None
    finally:
        predictor.auto_correct = False


def test_completions_are_plain_words(predictor):
    shown = _shown(predictor, "We went to Lon")
    assert "London" in [s.text for s in shown]
    assert all(s.kind == "word" for s in shown if s.text == "London")


def test_tolerance_off_offers_no_correction(predictor):
    predictor.typo_tolerance = False
    try:
        shown = _shown(predictor, "I did not recieve")
        assert all(s.kind == "word" for s in shown)
        assert "receive" not in [s.text for s in shown]
    finally:
        predictor.typo_tolerance = True


def test_auto_correct_is_off_by_default(predictor):
    assert predictor.auto_correct is False
    assert predictor.autocorrect("I did not recieve") is None


def test_auto_correct_replaces_a_misspelled_word(predictor):
    predictor.auto_correct = True
    try:
        text = "I did not recieve"
        edit = predictor.autocorrect(text)
        assert edit is not None
        assert (edit.start, edit.end, edit.replacement) == (len("I did not "), len(text), "receive")
        assert predictor.autocorrect("I did not receive") is None
    finally:
        predictor.auto_correct = False


def test_i_alone_becomes_capital_i(predictor):
    text = "Then i"
    capital = next(s for s in _shown(predictor, text) if s.text == "I")
    assert predictor.accept(text, capital).replacement == "I "
    predictor.auto_correct = True
    try:
        edit = predictor.autocorrect(text)
        assert edit is not None and edit.replacement == "I" and edit.start == len("Then ")
    finally:
        predictor.auto_correct = False


def test_the_index_holds_the_lexicon_words(predictor):
    channel = predictor.typos
    lexicon = predictor.lexicon
    assert len(lexicon) > 1000
    assert all(word.lower() in channel.index for word in lexicon.words[::997])
    # a lexicon word (outside the network's vocabulary) is found through a slip too
    assert "kaleidoscope" in lexicon
    assert "kaleidoscope" in [p for p, _ in channel.index.alternatives("kaleidoscpoe")]
    shown = [s.text.lower() for s in _shown(predictor, "She looked through the kaleidoscpoe")]
    assert "kaleidoscope" in shown


def test_corrections_follow_the_text_alone(predictor):
    """Contract 3: a fresh engine suggests what one that typed its way there does."""
    text = "I did not recieve the procwss"
    typed = [predictor.suggest(text[:i], 3) for i in range(len(text) + 1)]
    fresh = Predictor.load(default_model_path())
    fresh.typo_tolerance = True
    try:
        assert fresh.suggest(text, 3) == typed[-1]
        assert fresh.suggest(text[:17], 3) == typed[17]
    finally:
        fresh.close()


@pytest.mark.parametrize("text", ["The quick brown fox", "We went to london", "The apple"])
def test_auto_correct_leaves_the_capitals_of_other_words_to_the_user(predictor, text):
    # "fox" is written "Fox" more often than not in the corpus (a name): a space must
    # not capitalise an ordinary word the user typed in small letters.
    predictor.auto_correct = True
    try:
        assert predictor.autocorrect(text) is None
    finally:
        predictor.auto_correct = False


def test_auto_correct_never_types_a_word_the_user_blocked(predictor):
    from keyboard_app.engine.components import Component

    class Blocks(Component):
        def excluded(self):
            return {"the"}

    text = "I went to teh"
    predictor.auto_correct = True
    try:
        assert predictor.autocorrect(text).replacement == "the"
        blocker = Blocks()
        predictor.add_component(blocker)
        try:
            edit = predictor.autocorrect(text)
            assert edit is None or edit.replacement.lower() != "the"
            assert "the" not in [s.text.lower() for s in _shown(predictor, text)]
        finally:
            predictor.remove_component(blocker)
    finally:
        predictor.auto_correct = False


@pytest.mark.parametrize("text, left", [
    ("I met Anya", True),  # a name: a capital inside a sentence
    ("I met anya", False),  # small letters: a slip of "any"
    ("Anya came. Then I met anya", True),  # the document has it: the writer's own word
    ("Teh", False),  # a sentence's first word: its capital is the sentence's
    ("I said TEH", False),  # capitals throughout: no name
])
def test_auto_correct_leaves_a_name_and_a_word_of_the_document(predictor, text, left):
    """A word written with a capital inside a sentence is a name ("I met Anya" became "I met Any"),
    and a word the document already has (or the user's learned words: ``Scores.others``) is the
    writer's, not a slip: a space leaves them as typed."""
    predictor.auto_correct = True
    try:
        edit = predictor.autocorrect(text)
        assert (edit is None) == left, edit
    finally:
        predictor.auto_correct = False


def test_auto_correct_leaves_a_word_the_user_taught(predictor):
    from keyboard_app.engine.components import Component

    from keyboard_app.engine.components import Candidate, Candidates

    class Learned(Component):  # the app's learned words offer what the user typed before
        def candidates(self, at, typed):
            words = [Candidate("anya", "Anya", 0.2)] if "anya".startswith(typed.lower()) else []
            return Candidates(0.1, words) if words else None

    predictor.auto_correct = True
    try:
        assert predictor.autocorrect("I met anya").replacement == "any"
        learned = Learned()
        predictor.add_component(learned)
        try:
            assert predictor.autocorrect("I met anya") is None
        finally:
            predictor.remove_component(learned)
    finally:
        predictor.auto_correct = False
