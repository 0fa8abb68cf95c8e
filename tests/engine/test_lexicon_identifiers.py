"""Identifier marks in lexicon.json (issue 14 part 3): read, written, checked, and used:
a marked word is offered only in a document that uses one, or where nothing else fits."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from engine_helpers import FakeGraph, assert_lexicon_refused, make_vocab, write_placeholder_bundle
from keyboard_app.engine.bundle import load_bundle
from keyboard_app.engine.completions import CompletionSettings
from keyboard_app.engine.lexicon import Lexicon
from keyboard_app.engine.predictor import Predictor, RecencySettings
from keyboard_app.engine.vocab import VocabError

# "gyroscope" is an identifier of the manuals here; "gymkhana" a word; "tom" (a vocabulary
# word) is marked too, to show that vocabulary words can be
LEXICON = Lexicon(
    words=["gyroscope", "gymkhana", "tomahawk", "selivanov", "gyrfalcon"],
    display=["gyroscope", "gymkhana", "tomahawk", "Selivanov", "gyrfalcon"],
    counts=[30, 10, 5, 2, 1],
    unknown_total=100_000,
    identifiers=frozenset({"gyroscope", "tom"}),
)


@pytest.fixture(scope="module")
def marked_bundle(tmp_path_factory):
    return write_placeholder_bundle(tmp_path_factory.mktemp("marked") / "bundle", make_vocab(), lexicon=LEXICON)


def predictor_for(path, **settings) -> Predictor:
    bundle = load_bundle(path)
    predictor = Predictor(bundle, FakeGraph(bundle.vocab), recency=RecencySettings.off())
    predictor.completions = CompletionSettings(**settings)
    return predictor


def words(predictor: Predictor, text: str, k: int = 5) -> list[str]:
    return [s.text for s in predictor.suggest(text, k)]


def test_marks_round_trip_and_a_lexicon_without_them_is_written_as_before(tmp_path):
    LEXICON.save(tmp_path / "marked.json")
    assert Lexicon.load(tmp_path / "marked.json") == LEXICON
    assert json.loads((tmp_path / "marked.json").read_text())["identifiers"] == ["gyroscope", "tom"]
    plain = replace(LEXICON, identifiers=frozenset())
    assert "identifiers" not in plain.to_dict()
    assert Lexicon.from_dict(plain.to_dict()).identifiers == frozenset()


@pytest.mark.parametrize("marks", ["gyroscope", [1, 2], ["ok", ""], {"a": 1}])
def test_malformed_marks_are_one_clear_error(tmp_path, marked_bundle, marks):
    with pytest.raises(VocabError, match="identifiers"):
        Lexicon.from_dict({**LEXICON.to_dict(), "identifiers": marks})
    assert_lexicon_refused(marked_bundle, {**LEXICON.to_dict(), "identifiers": marks}, tmp_path / "bad")


def test_a_marked_word_is_left_out_of_a_document_that_uses_none(marked_bundle):
    predictor = predictor_for(marked_bundle)
    assert "gyroscope" not in words(predictor, "a gy")
    assert "gymkhana" in words(predictor, "a gy")
    predictor.completions = CompletionSettings.off()
    assert words(predictor, "a gy")[0] == "gyroscope"  # the likeliest, without the rule


def test_a_document_that_uses_a_marked_word_is_offered_them_all(marked_bundle):
    predictor = predictor_for(marked_bundle)
    assert "gyroscope" in words(predictor, "see you tom . a gy")  # "tom" is marked too
    assert "gyroscope" in words(predictor, "the gyroscope spins . a gy")


def test_the_window_bounds_how_far_back_the_document_counts(marked_bundle):
    predictor = predictor_for(marked_bundle, identifier_window=3)
    assert "gyroscope" in words(predictor, "gyroscope the a gy")
    assert "gyroscope" not in words(predictor, "gyroscope the the the the a gy")


def test_a_marked_word_is_offered_where_nothing_else_fits(marked_bundle):
    predictor = predictor_for(marked_bundle)
    assert words(predictor, "a gyro") == ["gyroscope"]
    assert words(predictor, "a gyr") == ["gyrfalcon"]  # another word fits: that one alone


def test_a_marked_vocabulary_word_is_left_out_too(marked_bundle):
    predictor = predictor_for(marked_bundle)
    shown = words(predictor, "see you to")
    assert "Tom" not in shown and "tom" not in shown
    predictor.completions = CompletionSettings.off()
    assert "Tom" in words(predictor, "see you to")


def test_settings_are_checked():
    with pytest.raises(ValueError, match="capital_evidence"):
        CompletionSettings(capital_evidence=0.0)
    with pytest.raises(ValueError, match="identifier_window"):
        CompletionSettings(identifier_window=-1)
    off = CompletionSettings.off()
    assert not off.typed_word_first and off.capital_evidence == 1.0 and not off.hide_identifiers
    assert np.isfinite(CompletionSettings().capital_evidence)
