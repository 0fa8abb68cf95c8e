"""Issue 18: the retrain ETA sat at "about 1 s left / 96%" for ~15 s while still training,
and the ~10 s comparison afterwards was not in it.  ``RunEstimate`` with a made-up clock."""

from __future__ import annotations

import pytest

from keyboard_app.ui.eta import MIN_AFTER_TRAINING_S, REFERENCE_WORDS, RunEstimate


def test_near_the_end_of_training_the_steps_after_it_are_still_counted():
    estimate = RunEstimate(fixed_s=75.0, words=REFERENCE_WORDS, compare_words=1500)
    estimate.training(10.0, tokens=100, total=10_000, tokens_per_s=100.0, eta_s=99.0)
    estimate.training(106.0, tokens=9_600, total=10_000, tokens_per_s=100.0, eta_s=1.0)  # "96%, 1 s"
    # the trainer's steps after training (the 75 s allowance less the 10 s of start-up
    # already spent) and two models scored on 1,500 words each: not "1 s"
    assert estimate.left(106.0) == pytest.approx(1.0 + (75.0 - 10.0) + 2 * 1500 * 0.0035)


def test_a_small_corpus_is_not_given_the_large_corpus_allowance():
    # measured: 3,500 words adapted in 13 s of training, then 9 s, then 2.5 s of comparison
    estimate = RunEstimate(fixed_s=75.0, words=3_500, compare_words=350)
    estimate.training(7.0, tokens=100, total=2_000, tokens_per_s=150.0, eta_s=12.0)
    assert 8.0 < estimate.after_training_s() < 20.0
    assert estimate.left(7.0) == pytest.approx(12.0 + estimate.after_training_s() + 2 * 350 * 0.0035)


def test_validation_passes_stretch_the_trainers_eta():
    estimate = RunEstimate(fixed_s=25.0, words=REFERENCE_WORDS, compare_words=0, adapt=False)
    estimate.training(5.0, tokens=1, total=100_000, tokens_per_s=1000.0, eta_s=100.0)
    # 50 s of wall-clock time for 25 s of token time: validation took the other half
    estimate.training(55.0, tokens=25_000, total=100_000, tokens_per_s=1000.0, eta_s=75.0)
    assert estimate.left(55.0) == pytest.approx(75.0 * 2 + (25.0 - 5.0))


def test_the_comparison_rate_comes_from_the_trainers_own_measuring():
    estimate = RunEstimate(fixed_s=75.0, words=REFERENCE_WORDS, compare_words=1500)
    estimate.step(200.0, "evaluating", step=0, total=1000)
    estimate.step(210.0, "evaluating", step=500, total=1000)  # 20 ms a word
    assert estimate.left(210.0) == pytest.approx(10.0 + MIN_AFTER_TRAINING_S + 2 * 1500 * 0.02)
    estimate.writing(220.0)
    assert estimate.left(220.0) == pytest.approx(MIN_AFTER_TRAINING_S + 60.0)


def test_the_comparison_counts_down_by_its_own_progress():
    estimate = RunEstimate(fixed_s=25.0, words=REFERENCE_WORDS, compare_words=1500)
    estimate.comparing(300.0, 0.0)
    assert estimate.left(300.0) == pytest.approx(2 * 1500 * 0.0035)
    estimate.comparing(304.0, 0.5)
    assert estimate.left(304.0) == pytest.approx(4.0)
    assert estimate.left(306.0) == pytest.approx(2.0)  # counts down between reports


def test_an_overrun_says_so_instead_of_a_number():
    estimate = RunEstimate(fixed_s=25.0, words=1000, compare_words=0)
    assert estimate.left(0.0) is None and not estimate.overrun(0.0)  # nothing known yet
    estimate.writing(100.0)
    assert estimate.left(103.0) == pytest.approx(2.0)
    assert estimate.left(120.0) is None and estimate.overrun(120.0)
