"""KSR with phrase suggestions (docs/EVALUATION.md, "Phrase suggestions"), and keyboard-eval --phrases.

The hand-made cases use ``FakeGraph`` (engine_helpers): its words rank the,
I, tomorrow, tom, ... and ``after`` makes one word (nearly) certain after
another, so the phrase the strip offers can be written down.
"""

from __future__ import annotations

import json
import math

import pytest

from engine_helpers import SAMPLE_TEXT
from keyboard_app.engine.beam import BeamSettings
from keyboard_app.engine.cli import eval_main
from keyboard_app.engine.evaluate import evaluate
from keyboard_app.engine.predictor import Predictor

SURE = 30.0  # FakeGraph's boost: this word is (nearly) certain after that one


def test_a_phrase_that_matches_the_next_words_costs_one_keystroke_for_all_of_them(make_predictor):
    predictor = make_predictor(after={"see": {"you": SURE}, "you": {"tomorrow": SURE}})
    report = evaluate(predictor, ["See you tomorrow"], phrases=True)
    # kn = 4 + 4 + 9 = 17.  Without phrases (k = 3): "See" after "S" (2), "you" (1), "tomorrow" (1).
    # With them: "See" (2), then the phrase "you tomorrow", shown after "See", is taken (1) and
    # "tomorrow" costs nothing more.  A strip of one slot keeps its word: k = 1 is unchanged.
    assert report.keystrokes == 17
    assert report.ksr[3] == pytest.approx((1 - 4 / 17) * 100)
    assert report.ksr_phrases[3] == pytest.approx((1 - 3 / 17) * 100)
    assert report.ksr_phrases[1] == report.ksr[1]
    assert (report.phrases_shown[3], report.phrases_taken[3], report.phrase_words[3]) == (1, 1, 2)
    assert report.phrases_shown[1] == 0


def test_a_phrase_whose_words_differ_from_the_text_is_not_taken(make_predictor):
    predictor = make_predictor(after={"see": {"you": SURE}, "you": {"tomorrow": SURE}})
    report = evaluate(predictor, ["See you in London"], ks=(3,), phrases=True)
    assert report.phrases_shown[3] == 1 and report.phrases_taken[3] == 0
    assert report.ksr_phrases[3] == report.ksr[3]  # "you" kept its slot: it is likelier than the phrase


def test_a_phrase_not_taken_costs_the_word_whose_slot_it_took(make_predictor):
    # After "see" the strip is you, the, I; the phrase "you tomorrow" is likelier than "I"
    # and takes its slot, so "I" (third without the phrase) is not there before its letter.
    predictor = make_predictor(after={"see": {"you": SURE}, "you": {"tomorrow": SURE}})
    report = evaluate(predictor, ["see I"], ks=(3,), phrases=True)
    # kn = 4 + 2; without phrases "see" costs 2 (after "s") and "I" 1; with them "I" costs 2
    assert report.ksr[3] == pytest.approx((1 - 3 / 6) * 100)
    assert report.ksr_phrases[3] == pytest.approx((1 - 4 / 6) * 100)
    assert report.phrases_taken[3] == 0


def test_a_phrase_does_not_reach_across_punctuation(make_predictor):
    predictor = make_predictor(after={"see": {"you": SURE}, "you": {"tomorrow": SURE}})
    report = evaluate(predictor, ["See you, tomorrow"], ks=(3,), phrases=True)
    assert report.phrases_shown[3] == 1 and report.phrases_taken[3] == 0


def test_without_phrases_the_report_is_what_it_was(make_predictor):
    predictor = make_predictor(after={"see": {"you": SURE}})
    plain = evaluate(predictor, ["See you tomorrow"])
    with_phrases = evaluate(predictor, ["See you tomorrow"], phrases=True)
    assert plain.ksr_phrases == {} and "ksr_phrases" not in plain.to_dict()
    assert (with_phrases.ksr, with_phrases.topk) == (plain.ksr, plain.topk)
    assert "KSR, phrases" in with_phrases.format_table() and "KSR, phrases" not in plain.format_table()


def test_phrases_need_the_beam_on(make_predictor):
    predictor = make_predictor()
    predictor.phrase_beam = None
    with pytest.raises(ValueError, match="phrase"):
        evaluate(predictor, ["See you"], phrases=True)


def test_a_trained_model_takes_phrases_of_its_pattern(tiny_bundle, patterned_text):
    predictor = Predictor.load(tiny_bundle)
    report = evaluate(predictor, [patterned_text], max_words=400, phrases=True)
    # "The cat sat on the mat." and its kind: whole phrases are right after their first word
    assert report.phrases_taken[3] > 50 and report.phrase_words[3] >= 2 * report.phrases_taken[3]
    assert report.ksr_phrases[3] > report.ksr[3] + 5


def test_typing_in_several_processes_gives_the_same_figures_with_phrases(random_int8_bundle):
    """A phrase taken near the end of one part covers words at the start of the next:
    the costs are worked out over all the words in order, whichever process typed them."""
    predictor = Predictor.load(random_int8_bundle)
    # a random model is never sure: let every phrase in, whatever the word it displaces
    predictor.phrase_beam = BeamSettings(threshold=math.log(1e-9), odds=1e-6, budget=None)
    texts = [SAMPLE_TEXT * 3, "We met in London. " * 20]
    one = evaluate(predictor, texts, max_words=300, phrases=True)
    two = evaluate(predictor, texts, max_words=300, phrases=True, jobs=2)
    assert one.phrases_shown[3] > 100
    assert two.to_dict() == one.to_dict()


def test_keyboard_eval_phrases_reports_both_figures(tiny_bundle, patterned_text, tmp_path, capsys):
    text = tmp_path / "held-out.txt"
    text.write_text(patterned_text, encoding="utf-8")
    assert eval_main([str(tiny_bundle), str(text), "--max-words", "300", "--phrases", "--json", "--jobs", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["ksr_phrases"]) == set(out["ksr"]) == {"1", "3", "5"}
    assert out["ksr_phrases"]["3"] > out["ksr"]["3"]
    assert out["phrase_suggestions"]["3"]["taken"] > 0
    assert eval_main([str(tiny_bundle), str(text), "--max-words", "300", "--phrases", "--jobs", "1"]) == 0
    table = capsys.readouterr().out
    assert "KSR, phrases" in table and "phrases taken" in table
    assert eval_main([str(tiny_bundle), str(text), "--max-words", "300", "--json", "--jobs", "1"]) == 0
    assert "ksr_phrases" not in json.loads(capsys.readouterr().out)
