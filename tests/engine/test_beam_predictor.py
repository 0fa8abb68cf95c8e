"""Phrase suggestions through the predictor: where they are offered, how they are written and put in.

``make_predictor`` (conftest) runs ``FakeGraph``, whose words rank the, I,
tomorrow, tom, ... and whose ``after`` makes a word (nearly) certain after
another; the "thank you" case runs the default model.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from keyboard_app.engine.beam import BeamSettings, place
from keyboard_app.engine.bundle import load_bundle
from keyboard_app.engine.components import Component
from keyboard_app.engine.document_cache import RecencySettings
from keyboard_app.engine.predictor import Predictor

DEFAULT_BUNDLE = Path(__file__).resolve().parents[2] / "assets" / "models" / "default"
SURE = 30.0
OFF = -30.0
CHAIN = {"see": {"you": SURE}, "you": {"tomorrow": SURE}}


@pytest.fixture
def make_predictor(make_predictor):
    """conftest's, with no time budget for the phrase: a loaded machine must not drop one
    here (the budget has its own test)."""

    def make(**options):
        predictor = make_predictor(**options)
        predictor.phrase_beam = BeamSettings(budget=None)
        return predictor

    return make


def test_after_thank_you_the_default_model_proposes_a_phrase_with_very_or_for():
    """The best phrase the beam finds after "thank you" (the one ``phrase`` offers where it
    earns its slot).  The default model gives "for the" 3.2%, below the threshold chosen by
    measurement (4%, docs/EVALUATION.md), so it is asked for with a lower one here."""
    predictor = Predictor.load(DEFAULT_BUNDLE)
    for text in ("thank you ", "Thank you "):
        found = predictor.phrase_candidates(text, 3, threshold=math.log(0.01))
        assert found, text
        first, *rest = found[0].text.split(" ")
        assert first.lower() in ("very", "for") and 1 <= len(rest) <= 3
        assert found[0].kind == "phrase" and not found[0].is_completion
        predictor.phrase_beam = BeamSettings(threshold=math.log(0.01))
        assert predictor.phrase(text, 3, budget=None) == found[0]
        predictor.phrase_beam = BeamSettings()


def test_a_phrase_is_offered_at_word_starts_only(make_predictor):
    predictor = make_predictor(after=CHAIN)
    phrase = predictor.phrase("We see ", 3)
    assert phrase is not None and phrase.text == "you tomorrow" and phrase.token == "you tomorrow"
    assert predictor.phrase("We see yo", 3) is None
    assert predictor.phrase("We see ", 1) is None  # a strip of one slot keeps its word
    predictor.phrase_beam = None
    assert predictor.phrase("We see ", 3) is None


def test_a_phrase_at_a_sentence_start_is_written_with_its_capital(make_predictor):
    predictor = make_predictor(after={".": {"see": SURE}, **CHAIN})
    assert predictor.suggest("We met. ", 3)[0].text == "See"
    phrase = predictor.phrase("We met. ", 3)
    assert phrase.text == "See you tomorrow"


def with_probabilities(vocab, follows: dict[str, dict[str, float]]) -> dict:
    """FakeGraph options under which each word of ``follows`` is followed by the words given
    with the probabilities given, the rest going to "." (which follows any other token)."""
    base = np.full(len(vocab), OFF, np.float32)
    base[vocab.id(".")] = 0.0
    after = {}
    for word, nxt in follows.items():
        rest = 1.0 - sum(nxt.values())
        after[word] = {w: math.log(p / rest) - OFF for w, p in nxt.items()}
    return {"base": base, "after": after}


@pytest.mark.parametrize("then, expected", [
    (0.25, None),  # "you tomorrow" 0.125 is less likely than "I" (0.15), the third word
    (0.5, ["you", "you tomorrow", "the"]),  # 0.25: it takes the third slot, shown by its rank
])
def test_a_phrase_must_be_likelier_than_the_word_whose_slot_it_takes(word_bundle, make_predictor, then, expected):
    vocab = load_bundle(word_bundle).vocab
    predictor = make_predictor(**with_probabilities(vocab, {"see": {"you": 0.5, "the": 0.2, "i": 0.15},
                                                            "you": {"tomorrow": then}}))
    shown = predictor.suggest("We see ", 3)
    assert [s.text for s in shown] == ["you", "the", "I"]
    phrase = predictor.phrase("We see ", 3)
    if expected is None:
        assert phrase is None
        assert predictor.phrase_candidates("We see ", None)  # the beam found it: the slot rule said no
    else:
        assert phrase.log_prob == pytest.approx(math.log(0.5 * then), abs=1e-4)
        assert [s.text for s in place(shown, phrase, 3)] == expected


def test_a_budget_of_zero_or_a_stop_drops_the_phrase_and_the_words_are_unchanged(make_predictor):
    predictor = make_predictor(after=CHAIN)
    words = predictor.suggest("We see ", 3)
    predictor.phrase_beam = BeamSettings(budget=0.0)
    assert predictor.phrase("We see ", 3) is None and predictor.phrase_stats.dropped
    predictor.phrase_beam = BeamSettings(budget=None)
    assert predictor.phrase("We see ", 3, budget=0.0) is None and predictor.phrase_stats.dropped
    assert predictor.phrase("We see ", 3, stop=lambda: True) is None and predictor.phrase_stats.dropped
    assert predictor.suggest("We see ", 3) == words
    assert predictor.phrase("We see ", 3) is not None and not predictor.phrase_stats.dropped


def test_blocked_words_are_never_put_in_a_phrase(make_predictor):
    class Blocks(Component):
        def excluded(self):
            return {"tomorrow"}

    predictor = make_predictor(after={"see": {"you": SURE}, "you": {"tomorrow": SURE, "tom": SURE - 1.0}})
    assert predictor.phrase("We see ", 3).text == "you tomorrow"
    predictor.add_component(Blocks())
    assert predictor.phrase("We see ", 3).text == "you Tom"


def test_taking_a_phrase_types_it_whole_and_the_engine_goes_on_as_a_fresh_one_would(make_predictor):
    predictor = make_predictor(after=CHAIN)
    text = "We see"
    predictor.suggest(text, 3)
    text += " "
    phrase = predictor.phrase(text, 3)
    edit = predictor.accept(text, phrase)
    assert (edit.start, edit.end, edit.replacement) == (len(text), len(text), "you tomorrow ")
    after = text[: edit.start] + edit.replacement
    assert after == "We see you tomorrow "
    fresh = make_predictor(after=CHAIN)
    assert predictor.suggest(after, 3) == fresh.suggest(after, 3)
    # a Backspace over the space: the last word of the phrase is being typed, as after a word
    assert predictor.suggest(after[:-1], 3) == fresh.suggest(after[:-1], 3)


def test_a_phrase_after_a_word_without_a_space_gets_one_before_it(make_predictor):
    predictor = make_predictor(after=CHAIN)
    phrase = predictor.phrase("We see ", 3)
    assert predictor.accept("We see.", phrase).replacement == " you tomorrow "
    assert predictor.accept("We see ", phrase, "?").replacement == "you tomorrow"


def test_a_phrase_the_document_repeats_earns_its_slot_through_its_copies(word_bundle, make_predictor):
    """The network gives "tomorrow" after "see you" 0.1: "you tomorrow" (0.65 x 0.1 with the
    document's pair and triple for "you") is less likely than the third word.  The document
    said "see you tomorrow" before: with the document's pairs and triples mixed into the later
    words (``mixture``), the copy's later word gets (1 - 0.3) 0.1 + 0.15 + 0.15 and the phrase
    earns the slot."""
    from dataclasses import replace


    vocab = load_bundle(word_bundle).vocab
    recency = RecencySettings(weight=0.0, pair_weight=0.15, triple_weight=0.15, evidence=0.0)
    predictor = make_predictor(recency=recency, **with_probabilities(
        vocab, {"see": {"you": 0.5, "the": 0.2, "i": 0.15}, "you": {"tomorrow": 0.1}}))
    predictor.phrase_beam = BeamSettings(budget=None, mixture=True)
    text = "We see you tomorrow. We see "
    shown = predictor.suggest(text, 3)
    assert [s.text for s in shown] == ["you", "the", "I"]
    you = 0.7 * 0.5 + 0.3
    assert shown[0].log_prob == pytest.approx(math.log(you), abs=1e-4)
    phrase = predictor.phrase(text, 3)
    assert phrase is not None and phrase.text == "you tomorrow"
    assert phrase.log_prob == pytest.approx(math.log(you * (0.7 * 0.1 + 0.3)), abs=1e-4)
    predictor.phrase_beam = replace(predictor.phrase_beam, mixture=False)  # the network alone
    assert predictor.phrase(text, 3) is None
    assert predictor.phrase("We see ", 3) is None  # no copy: nothing to lift it


def test_without_copies_the_mixture_scores_a_phrase_as_the_network_does(make_predictor):
    predictor = make_predictor(after=CHAIN, recency=RecencySettings(weight=0.0))
    predictor.phrase_beam = BeamSettings(budget=None, mixture=True)
    network = make_predictor(after=CHAIN, recency=RecencySettings(weight=0.0))
    network.phrase_beam = BeamSettings(budget=None, mixture=False)
    for text in ("We see ", "I met you. We see "):
        mixed, alone = predictor.phrase(text, 3), network.phrase(text, 3)
        assert mixed.text == alone.text == "you tomorrow"
        assert mixed.log_prob == pytest.approx(alone.log_prob, abs=1e-9)  # (through exp and log)
