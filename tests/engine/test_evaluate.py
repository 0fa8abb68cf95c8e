"""KSR, top-k and perplexity as EVALUATION.md defines them, through the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine_helpers import SAMPLE_TEXT
from keyboard_app.engine.evaluate import EvalReport, evaluate
from keyboard_app.engine.predictor import Predictor
from keyboard_app.engine.tokenizer import BOS


def test_ksr_and_topk_by_hand(make_predictor):
    # FakeGraph ranks the words: the, i, tomorrow, tom, ... (see engine_helpers.WORDS),
    # and here puts "you" first right after "see".
    predictor = make_predictor(after={"see": {"you": 30.0}})
    report = evaluate(predictor, ["See you tomorrow"])
    # kn = (3 + 1) + (3 + 1) + (8 + 1) = 17
    # k=1: "See" shows after "S" (2); "you" before its first letter (1);
    #      "tomorrow" after "to" (3)                       -> 6
    # k=3 and k=5: 2 + 1 + 1 (tomorrow is third before its first letter) -> 4
    assert (report.words, report.keystrokes) == (3, 17)
    assert report.ksr[1] == pytest.approx((1 - 6 / 17) * 100)
    assert report.ksr[3] == pytest.approx((1 - 4 / 17) * 100)
    assert report.ksr[5] == pytest.approx((1 - 4 / 17) * 100)
    assert report.topk == {1: pytest.approx(1 / 3), 3: pytest.approx(2 / 3), 5: pytest.approx(2 / 3)}


def test_punctuation_and_numbers_are_context_not_typed(make_predictor):
    predictor = make_predictor(after={"see": {"you": 30.0}})
    report = evaluate(predictor, ["See, you 12 tomorrow!"])
    assert (report.words, report.keystrokes) == (3, 17)
    # after "See," the last token is "," so "you" is no longer favoured: k=1 costs 2 + 2 + 3
    assert report.ksr[1] == pytest.approx((1 - 7 / 17) * 100)


def test_a_word_never_shown_costs_its_length_and_a_space(make_predictor):
    predictor = make_predictor()
    report = evaluate(predictor, ["zebra"], ks=(1,))
    assert report.ksr == {1: 0.0} and report.topk == {1: 0.0} and report.keystrokes == 6


def test_each_text_is_a_document_of_its_own(make_predictor):
    predictor = make_predictor()
    one = evaluate(predictor, ["see you", "tomorrow"])
    # "Tomorrow" starts its own text: a sentence start, third among The, I, Tomorrow
    two = evaluate(predictor, ["see you"])
    three = evaluate(predictor, ["tomorrow"])
    assert one.keystrokes == two.keystrokes + three.keystrokes
    assert one.ksr[3] == pytest.approx(
        (1 - ((1 - two.ksr[3] / 100) * two.keystrokes + (1 - three.ksr[3] / 100) * three.keystrokes)
         / one.keystrokes) * 100
    )


def _perplexity_one_step_at_a_time(predictor, texts):
    session = predictor.session
    vocab = predictor.bundle.vocab
    nll, count = 0.0, 0
    for text in texts:
        ids = [vocab.id(BOS)] + vocab.encode(predictor.tokenizer.tokenize(text))
        state = session.zero_state()
        for current, following in zip(ids, ids[1:]):
            log_probs, state = session.run(np.array([[current]], np.int64), state)
            nll -= float(log_probs[0, following])
            count += 1
    return math.exp(nll / count), count


def test_perplexity_is_that_of_each_token_given_all_before_it(random_bundle):
    predictor = Predictor.load(random_bundle)
    # one text long enough to be cut into several parallel segments, and short ones
    texts = [SAMPLE_TEXT * 6, "Hello there.", "", "A", SAMPLE_TEXT]
    expected, count = _perplexity_one_step_at_a_time(predictor, texts)
    report = evaluate(predictor, texts)
    assert report.heldout_tokens == count
    assert report.perplexity == pytest.approx(expected, rel=1e-5)
    assert report.vocab_size == len(predictor.bundle.vocab)


def test_perplexity_of_an_int8_graph_is_close(random_int8_bundle):
    predictor = Predictor.load(random_int8_bundle)
    texts = [SAMPLE_TEXT * 3]
    expected, _ = _perplexity_one_step_at_a_time(predictor, texts)
    assert evaluate(predictor, texts).perplexity == pytest.approx(expected, rel=1e-2)


def test_max_words_cuts_the_texts(random_bundle):
    predictor = Predictor.load(random_bundle)
    calls = []
    report = evaluate(predictor, [SAMPLE_TEXT, SAMPLE_TEXT], max_words=150,
                      progress=lambda done, total: calls.append((done, total)))
    assert report.words == 150
    assert calls[-1] == (150, 150) and calls[0] == (100, 150)
    cut = evaluate(predictor, [SAMPLE_TEXT], max_words=5)
    assert cut.heldout_tokens == len(predictor.tokenizer.tokenize("The quick brown fox jumps"))


def test_no_words_at_all(make_predictor):
    report = evaluate(make_predictor(), ["", "... 12 !"])
    assert report.words == 0 and report.ksr == {1: 0.0, 3: 0.0, 5: 0.0} and report.topk[1] == 0.0
    assert report.heldout_tokens == 3 and math.isfinite(report.perplexity)  # . <num> !
    empty = evaluate(make_predictor(), [""])
    assert empty.heldout_tokens == 0 and math.isnan(empty.perplexity)
    assert "n/a" in empty.format_table() and empty.to_metrics()["perplexity"] is None


def test_metrics_for_the_manifest(random_bundle):
    report = evaluate(Predictor.load(random_bundle), [SAMPLE_TEXT])
    metrics = report.to_metrics()
    assert {"heldout_tokens", "vocab_size", "perplexity", "top1", "top3", "top5", "ksr", "ksr_words"} <= set(metrics)
    assert set(metrics["ksr"]) == {"1", "3", "5"}
    assert 0 <= metrics["top1"] <= metrics["top3"] <= metrics["top5"] <= 1
    assert metrics["ksr"]["1"] <= metrics["ksr"]["3"] <= metrics["ksr"]["5"] <= 100
    table = report.format_table()
    for needle in ("perplexity", "top-1", "top-5", "KSR", "k=3", "words scored", f"{report.words:,}"):
        assert needle in table


def test_evaluation_leaves_the_predictor_usable(make_predictor):
    predictor = make_predictor()
    before = predictor.suggest("we met in lon")
    evaluate(predictor, [SAMPLE_TEXT])
    assert predictor.suggest("we met in lon") == before


def test_a_trained_model_saves_keystrokes_on_its_pattern(tiny_bundle, patterned_text):
    report = evaluate(Predictor.load(tiny_bundle), [patterned_text], max_words=400)
    assert report.words == 400
    assert report.ksr[3] > 50 and report.topk[3] > 0.6
    assert report.perplexity < 5
    assert isinstance(report, EvalReport)


def test_typing_in_several_processes_gives_the_same_figures(random_int8_bundle):
    """Issue 17: ``jobs`` splits the words into contiguous parts typed by fresh engines in
    other processes; a fresh engine suggests what one that typed its way there does."""
    from keyboard_app.engine.evaluate import _parts

    predictor = Predictor.load(random_int8_bundle)
    texts = [SAMPLE_TEXT * 3, "We met in London. " * 20, SAMPLE_TEXT]
    one = evaluate(predictor, texts, max_words=400)
    three = evaluate(predictor, texts, max_words=400, jobs=3)
    assert three.to_dict() == one.to_dict() and one.words == 400
    words = [[1, 2, 3], [], [4, 5, 6, 7]]
    assert _parts(words, 3) == [[[1, 2, 3], [], []], [[], [], [4, 5, 6]], [[], [], [7]]]


def test_word_costs_are_the_words_the_ksr_is_made_of(make_predictor):
    from keyboard_app.engine.evaluate import word_costs

    predictor = make_predictor(after={"see": {"you": 30.0}})
    # the costs worked out by hand in test_ksr_and_topk_by_hand
    assert word_costs(predictor, ["See you tomorrow"], 1) == [("See", 4, 2), ("you", 4, 1), ("tomorrow", 9, 3)]
    assert word_costs(predictor, ["See you tomorrow"], 3) == [("See", 4, 2), ("you", 4, 1), ("tomorrow", 9, 1)]
    assert word_costs(predictor, ["See you tomorrow"], 3, max_words=2) == [("See", 4, 2), ("you", 4, 1)]
    with pytest.raises(ValueError):
        word_costs(predictor, ["See you"], 0)
