"""Slips in lexicon.json (scripts/mark_slips.py): misspellings the corpus's chat wrote, read,
written, checked, never offered, and, typed in full, corrected to the word or words meant."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from engine_helpers import WORDS, FakeGraph, assert_lexicon_refused, make_vocab, write_placeholder_bundle
from keyboard_app.engine.bundle import load_bundle
from keyboard_app.engine.lexicon import Lexicon
from keyboard_app.engine.predictor import Predictor, RecencySettings
from keyboard_app.engine.vocab import VocabError

# "teh" and "alot" are vocabulary words here (as the chat's slips are in the default model's),
# "tomatoe" a lexicon word; all three are marked
VOCAB_WORDS = WORDS + [("teh", "teh"), ("alot", "alot"), ("lot", "lot"), ("ithink", "ithink"), ("think", "think")]
LEXICON = Lexicon(
    words=["tomato", "tomatoe", "tomahawk"],
    display=["tomato", "tomatoe", "tomahawk"],
    counts=[30, 20, 5],
    unknown_total=100_000,
    slips={"teh": "the", "alot": "a lot", "tomatoe": "tomato", "ithink": "i think"},
)


@pytest.fixture(scope="module")
def slips_bundle(tmp_path_factory):
    return write_placeholder_bundle(tmp_path_factory.mktemp("slips") / "bundle", make_vocab(VOCAB_WORDS),
                                    lexicon=LEXICON)


@pytest.fixture()
def predictor(slips_bundle):
    bundle = load_bundle(slips_bundle)
    predictor = Predictor(bundle, FakeGraph(bundle.vocab), recency=RecencySettings.off())
    yield predictor
    predictor.close()


def words(predictor: Predictor, text: str, k: int = 40) -> list[str]:
    return [s.text for s in predictor.suggest(text, k)]


def test_slips_round_trip_and_a_lexicon_without_them_is_written_as_before(tmp_path):
    LEXICON.save(tmp_path / "slips.json")
    assert Lexicon.load(tmp_path / "slips.json") == LEXICON
    assert json.loads((tmp_path / "slips.json").read_text())["slips"] == {
        "alot": "a lot", "ithink": "i think", "teh": "the", "tomatoe": "tomato"}
    plain = replace(LEXICON, slips={})
    assert "slips" not in plain.to_dict()
    assert Lexicon.from_dict(plain.to_dict()).slips == {}


@pytest.mark.parametrize("slips", ["teh", ["teh"], {"teh": 1}, {"teh": ""}, {"teh": "teh"}, {"": "the"},
                                   {"teh": " the"}, {"alot": "a  lot"}, {"teh": "the\n"}, {"a lot": "alot"},
                                   {"alot": "a " + "lot" * 40}, {"teh": "<unk>"}, {"teh": "\x00evil\u202e"},
                                   {"teh": "hte", "hte": "the"}, {"Teh": "the"}, {"don\u2019t": "do not"},
                                   {"teh": "<b>the</b>"}, {"and": "&amp;"}, {"ahve": "a\u202elot"},
                                   {"teh": "a\x1b[31mred"}])
def test_malformed_slips_are_one_clear_error(tmp_path, slips_bundle, slips):
    with pytest.raises(VocabError, match="slips"):
        Lexicon.from_dict({**LEXICON.to_dict(), "slips": slips})
    assert_lexicon_refused(slips_bundle, {**LEXICON.to_dict(), "slips": slips}, tmp_path / "bad")


def test_a_slip_is_never_offered(predictor):
    assert "teh" not in words(predictor, "see you te")
    assert "tea" in words(predictor, "see you te")  # the other words still are
    assert not {"teh", "alot"} & set(words(predictor, "see you "))  # nor as a next word
    assert "alot" not in words(predictor, "we met al")
    shown = words(predictor, "a tomat")
    assert "tomato" in shown and "tomatoe" not in shown  # a slip of the lexicon too
    assert words(predictor, "see you teh", 3) == []  # typed in full, no correction asked: not the typed word


def test_a_slip_typed_in_full_offers_the_word_meant_first(predictor):
    predictor.typo_tolerance = True
    first = predictor.suggest("see you teh", 3)[0]
    assert (first.text, first.kind) == ("the", "correction")
    assert words(predictor, "we met alot", 3)[0] == "a lot"
    assert words(predictor, "we met ALOT", 3)[0] == "A LOT"
    assert words(predictor, "Alot", 3)[0] == "A lot"  # a sentence's start
    assert words(predictor, "a tomatoe", 3)[0] == "tomato"
    assert words(predictor, "see you te", 3)[0] != "the"  # not before the word is typed in full


def test_auto_correction_puts_in_the_word_meant(predictor):
    predictor.auto_correct = True
    text = "we met alot"
    edit = predictor.autocorrect(text)
    assert text[: edit.start] + edit.replacement == "we met a lot"
    edit = predictor.autocorrect("Teh")
    assert (edit.start, edit.end, edit.replacement) == (0, 3, "The")
    assert predictor.autocorrect("we met lot") is None  # a word is left alone


def test_accepting_the_correction_types_both_words(predictor):
    predictor.typo_tolerance = True
    text = "we met alot"
    edit = predictor.accept(text, predictor.suggest(text, 3)[0])
    assert text[: edit.start] + edit.replacement == "we met a lot "


def test_a_slip_the_document_uses_is_still_never_offered(slips_bundle):
    """The document cache counts the words beyond the vocabulary by their written form: a
    slip of the lexicon typed three times is not offered the fourth."""
    bundle = load_bundle(slips_bundle)
    predictor = Predictor(bundle, FakeGraph(bundle.vocab))  # the document cache on
    text = "a tomatoe and a tomatoe and a tomatoe . see you teh teh . a toma"
    assert "tomatoe" not in words(predictor, text)
    assert "tomato" in words(predictor, text)
    assert "teh" not in words(predictor, "see you teh teh . we te")
    predictor.typo_tolerance = True
    assert words(predictor, "a tomatoe and a tomatoe", 3)[0] == "tomato"  # not the typed word


def test_the_words_meant_are_written_as_the_model_writes_them(predictor):
    predictor.typo_tolerance = True
    assert words(predictor, "we met ithink", 3)[0] == "I think"  # the pronoun's capital


def test_a_blocked_word_is_never_the_correction(predictor):
    from keyboard_app.engine.components import Component

    class Blocks(Component):
        def excluded(self):
            return {"lot"}

    predictor.typo_tolerance = predictor.auto_correct = True
    predictor.add_component(Blocks())
    assert "a lot" not in words(predictor, "we met alot", 3)
    assert predictor.autocorrect("we met alot") is None


def test_typed_one_key_at_a_time_the_strip_is_a_fresh_engines(slips_bundle):
    """Contract 3 with slips: every prefix of a text full of them, typed into one engine, gives
    exactly what a fresh engine gives for it."""
    bundle = load_bundle(slips_bundle)
    typing = Predictor(bundle, FakeGraph(bundle.vocab))
    typing.typo_tolerance = True
    text = "we met alot . Teh tomatoe and teh cat , ithink alot"
    for end in range(1, len(text) + 1):
        fresh = Predictor(bundle, FakeGraph(bundle.vocab))
        fresh.typo_tolerance = True
        assert typing.suggest(text[:end], 5) == fresh.suggest(text[:end], 5), text[:end]


def test_a_components_offer_of_a_slip_is_left_out(predictor):
    """The app's learned words (a keystroke component) count a slip the user typed, but the
    strip never shows it."""
    from keyboard_app.engine.components import Candidate, Candidates, Component

    class Learned(Component):
        def candidates(self, at, typed):
            return Candidates(0.5, [Candidate(w, w, 0.4) for w in ("alot", "along") if w.startswith(typed)])

    predictor.add_component(Learned())
    shown = words(predictor, "we met al")
    assert "along" in shown and "alot" not in shown


def test_a_huge_crafted_meaning_is_named_briefly():
    with pytest.raises(VocabError) as caught:
        Lexicon.from_dict({**LEXICON.to_dict(), "slips": {"alot": "a" * 300_000}})
    assert len(str(caught.value)) < 200 and "64 characters" in str(caught.value)


@pytest.mark.parametrize("glued, prose", [("#alot", "alot"), ("see @teh", "see teh"), ("/home/teh", "teh"),
                                          ("C:\\alot", "alot"), ("see www.teh", "see teh"), ("3.teh", "teh")])
def test_auto_correction_leaves_a_word_glued_to_what_comes_before_it_alone(predictor, glued, prose):
    """A tag, a name, a path, a web address, a number: part of something else, not a slip."""
    predictor.auto_correct = True
    assert predictor.autocorrect(glued) is None
    assert predictor.autocorrect(prose) is not None  # the same word in prose is corrected
    assert predictor.autocorrect("(" + prose) is not None  # (an opening bracket opens a word)
