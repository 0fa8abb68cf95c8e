"""The strip's rules for the letters typed (``engine/completions.py``, issue 14 part 3),
on the shipped default model: a real model, real expectations.

* the word as typed first where it is more likely finished than not ("quick" + Tab keeps it);
* a capital typed inside a sentence is evidence ("by Fri" -> "Friday");
* identifiers marked in the bundle only in documents that use them ("from" -> no "fromhex").
"""

from __future__ import annotations

import numpy as np
import pytest

from keyboard_app.engine.completions import CompletionSettings
from keyboard_app.engine.predictor import Edit, Predictor
from keyboard_app.paths import default_model_path


@pytest.fixture(scope="module")
def engine() -> Predictor:
    predictor = Predictor.load(default_model_path())
    yield predictor
    predictor.close()


@pytest.fixture
def p(engine) -> Predictor:
    engine.completions = CompletionSettings()
    engine.reset()
    return engine


def texts(predictor: Predictor, text: str, k: int = 3) -> list[str]:
    return [s.text for s in predictor.suggest(text, k)]


def marked(predictor: Predictor) -> frozenset[str]:
    return predictor.bundle.lexicon.identifiers


# -- the word as typed ----------------------------------------------------------------


def test_quick_and_tab_keeps_quick(p):
    shown = p.suggest("The quick", 3)
    assert shown[0].text == "quick"  # Tab takes the first slot
    assert p.accept("The quick", shown[0]) == Edit(4, 9, "quick ")
    assert "quickly" in [s.text for s in shown[1:]]  # the longer words in the other slots
    p.completions = CompletionSettings.off()
    assert texts(p, "The quick")[0] == "quickly"  # what a new user saw before


def test_thanks_is_not_silently_extended(p):
    assert texts(p, "Thanks")[:2] == ["Thanks", "Thanksgiving"]


def test_a_word_more_likely_to_go_on_is_still_completed(p):
    # "some" is a word, but after "We need to do" the model expects "something"
    shown = texts(p, "We need to do some")
    assert shown[0] == "something" and "some" not in shown


def test_the_strip_of_k_is_the_first_k_of_more(p):
    for text in ("The quick", "Thanks", "We need to do some", "See you by Fri", "I came from"):
        assert texts(p, text, 3) == texts(p, text, 5)[:3]


# -- capitals typed as evidence -------------------------------------------------------


def test_a_capital_inside_a_sentence_asks_for_a_word_written_with_one(p):
    # (the issue's report was "See you by Fri", where the network now puts Friday first itself)
    assert texts(p, "I will be back by Fri")[0] == "Friday"
    p.completions = CompletionSettings.off()
    assert texts(p, "I will be back by Fri")[0] == "Friendly"  # the network's order


@pytest.mark.parametrize("text", [
    "Fri",  # a sentence starts: the capital is the position's
    "We met.\nFri",
    "He said: \"Fri",  # after an opening quote
    "See you by FRI",  # capitals throughout say nothing
])  # (small letters typed inside a sentence are evidence the other way: test_capitals_typed.py)
def test_capitals_the_position_gives_say_nothing(p, text):
    on = texts(p, text, 5)
    p.completions = CompletionSettings.off()
    assert on == texts(p, text, 5)


# -- identifiers ------------------------------------------------------------------------


def test_the_default_bundle_marks_the_issues_identifiers(p):
    assert {"fromhex", "runserver", "runsql", "thenvalue"} <= marked(p)
    assert not {"from", "then", "runs", "regards", "friday", "database"} & marked(p)


@pytest.mark.parametrize("text", ["I came from", "The program runs", "It is now"])
def test_prose_is_not_offered_identifiers(p, text):
    for k in (3, 5):
        assert not [s.text for s in p.suggest(text, k) if s.token in marked(p)]
    p.completions = CompletionSettings.off()
    assert any(s.token in marked(p) for s in p.suggest(text, 5))  # the issue's report


def test_a_document_that_uses_identifiers_is_offered_them(p):
    text = "Call bytes.fromhex() on the string. I came from"
    assert any(s.token in marked(p) for s in p.suggest(text, 5))


def test_an_identifier_is_offered_where_nothing_else_fits(p):
    assert texts(p, "I came fromh")[0] == "fromhex"
    assert "runserver" in texts(p, "The program runse")


def test_a_fresh_engine_agrees_with_one_that_typed_its_way_there(p):
    """Contract 3 holds for the rules too: the identifier gate follows edits."""
    typed = "Call bytes.fromhex() on it. I came from"
    for end in range(1, len(typed) + 1):
        p.suggest(typed[:end])
    edited = "Call it. I came from"  # the identifier deleted: the gate closes again
    for text in (typed, edited, typed + "m", edited + " Fri"):
        shown = p.suggest(text, 5)
        fresh = Predictor(p.bundle, p.session)
        assert shown == fresh.suggest(text, 5)


# -- the word as typed, where its longer words together outweigh it (stop 26's hostile tester) ----

# A document whose pairs ("and then", "and they", "and these") lift the longer words of
# "the" past it together, though each alone stays below it: a long document did that to
# "and the", and the strip left "the" out, so Tab put in "then".
PAIRS_DOCUMENT = (
    "The committee met on Tuesday to discuss the budget for the coming year. Several members "
    "raised concerns about the cost of the new building, and then the chairman asked for a vote. "
    "The results were close, and they surprised many of the people in the room. We have reviewed "
    "the proposals, and these show a clear need for more funding. Our schools need more teachers "
    "and more books. Our roads need repair. We read the plans and the"
)


def test_the_likeliest_word_is_first_though_its_longer_words_together_outweigh_it(p):
    log_probs, view = p.next_word_log_probs(PAIRS_DOCUMENT)
    vocab = p.bundle.vocab
    assert view.partial == "the"
    the = float(log_probs[vocab.id("the")])
    longer = np.array([log_probs[i] for i, token in enumerate(vocab.tokens)
                       if token.startswith("the") and token != "the"], np.float64)
    assert np.log(np.exp(longer).sum()) > the > longer.max()  # the case: together, not alone
    shown = p.suggest(PAIRS_DOCUMENT, 3)
    assert shown[0].text == "the" and shown[0].log_prob == pytest.approx(the)
    end = len(PAIRS_DOCUMENT)
    assert p.accept(PAIRS_DOCUMENT, shown[0]) == Edit(end - 3, end, "the ")  # Tab keeps "the"


@pytest.mark.parametrize("text, first", [("We need to do some", False), ("The quick", True), ("I can", True),
                                         (PAIRS_DOCUMENT, True)])
def test_the_typed_word_is_first_exactly_where_no_longer_word_is_likelier(p, text, first):
    """So Tab gives the likeliest word; shown further down, the typed word would take a
    slot that saves nothing (choosing it does what a space does)."""
    shown = p.suggest(text, 5)
    typed = text.split()[-1].lower()
    listed = [s.text.lower() for s in shown]
    assert (typed in listed) == first and (not first or listed[0] == typed)
    words = [s.log_prob for s in shown if s.kind == "word"]
    assert words == sorted(words, reverse=True)
    for k in (1, 2, 3):
        assert p.suggest(text, k) == shown[:k]


# -- the lexicon's words far below the best (H33's finding 9) --------------------------------

FLOOR_TEXTS = ("We went home. Then we ate", "The rule is held", "The internationaliz", "Ok", "I came fromh",
               "She would engage Anne's good offices with Mr Ell")


def test_rare_lexicon_words_far_below_the_typed_word_leave_their_slots(p):
    shown = p.suggest("We went home. Then we ate", 3)
    assert [s.text for s in shown] == ["ate"]  # no "Ater", "atenolol" beside it
    assert texts(p, "The rule is held") == ["held"]  # no "Heldai"
    p.completions = CompletionSettings(lexicon_floor=0.0)  # the rule off: what a newcomer saw
    rare = p.suggest("We went home. Then we ate", 3)
    assert [s.text for s in rare][:2] == ["ate", "Ater"]
    assert all(s.token not in p.bundle.vocab and s.log_prob < shown[0].log_prob + np.log(1 / 300)
               for s in rare[1:])


def test_vocabulary_words_leave_only_far_lower(p):
    text = "She would engage Anne's good offices with Mr Ell"  # austen: "Ellie" went, "Ellipsis" came
    assert texts(p, text, 5) == ["Elliot", "Elliot's"]
    p.completions = CompletionSettings(vocabulary_floor=0.0)
    shown = p.suggest(text, 5)
    assert [s.text for s in shown][:3] == ["Elliot", "Elliot's", "Ellipsis"]
    assert shown[2].token in p.bundle.vocab and shown[2].log_prob < shown[0].log_prob + np.log(1e-4)


def test_the_floor_is_relative_and_spares_the_vocabulary(p):
    # Lexicon words close to one another all stay ("internationalize" and its forms are beyond the
    # vocabulary); vocabulary words 1/365 of the first stay too ("is" -> "issues").
    assert len(texts(p, "The internationaliz", 4)) == 4
    assert "issues" in texts(p, "The RCU read-side critical section is", 5)
    assert texts(p, "I came fromh")[0] == "fromhex"  # alone with its letters: still offered


def test_with_the_floor_a_strip_of_k_is_still_the_first_k_of_more(p):
    for text in FLOOR_TEXTS:
        five = p.suggest(text, 5)
        for k in (1, 2, 3, 4):
            assert p.suggest(text, k) == five[:k]
        p.reset()
        assert Predictor(p.bundle, p.session).suggest(text, 5) == five  # a fresh engine agrees


@pytest.mark.parametrize("token, stretched", [
    ("yesss", True), ("helloooo", True), ("soooo", True), ("nooooope", True), ("ohhhhh", True),
    ("hahaha", False), ("www", False), ("bossship", False), ("yes", False), ("zzz", False),
])
def test_a_stretched_word_is_a_known_word_with_a_letter_three_times_or_more(token, stretched):
    from keyboard_app.engine.completions import elongated

    known = {"yes", "hello", "so", "nope", "oh", "ha", "boss", "ship"}.__contains__
    assert elongated(token, known) is stretched
