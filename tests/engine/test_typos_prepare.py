"""The typo channel's index is built off the keystroke path (``TypoChannel.prepare``):
making a channel costs nothing, a prepared channel corrects exactly as one built at its
first use, and two threads asking at once build it once."""

from __future__ import annotations

import threading

import pytest

from keyboard_app.engine import typos


@pytest.fixture(scope="module")
def predictor(typo_predictor):
    return typo_predictor


def fresh_channel(predictor) -> typos.TypoChannel:
    return typos.TypoChannel(predictor.words, predictor.bundle.vocab, predictor.lexicon, predictor.typo_model)


def test_a_new_channel_is_not_built_until_prepared_or_used(predictor):
    channel = fresh_channel(predictor)
    assert not channel.ready
    channel.prepare()
    assert channel.ready
    used = fresh_channel(predictor)
    log_probs, _ = predictor.next_word_log_probs("I went to the ")
    used.corrections("stpre", log_probs, -30.0, 3)
    assert used.ready


@pytest.mark.parametrize("context, typed", [("I went to the ", "stpre"), ("see you ", "tomorow"),
                                            ("the ", "teh"), ("we will ", "definately")])
def test_a_prepared_channel_corrects_as_one_built_at_its_first_use(predictor, context, typed):
    log_probs, _ = predictor.next_word_log_probs(context)
    prepared = fresh_channel(predictor)
    prepared.prepare()
    lazy = fresh_channel(predictor)
    assert prepared.corrections(typed, log_probs, -30.0, 3) == lazy.corrections(typed, log_probs, -30.0, 3)
    assert prepared.replacement(typed, log_probs, -30.0) == lazy.replacement(typed, log_probs, -30.0)
    assert prepared.corrections(typed, log_probs, -30.0, 3)  # (a case that finds something)


def test_two_threads_asking_at_once_build_the_index_once(predictor, monkeypatch):
    built = []
    entered, go = threading.Event(), threading.Event()
    real = typos.TypoIndex

    def slow_index(*args, **kwargs):
        built.append(threading.current_thread().name)
        entered.set()
        assert go.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(typos, "TypoIndex", slow_index)
    channel = fresh_channel(predictor)
    worker = threading.Thread(target=channel.prepare, name="worker")
    worker.start()
    assert entered.wait(10)
    log_probs, _ = predictor.next_word_log_probs("the ")
    keystroke = threading.Thread(target=lambda: channel.corrections("teh", log_probs, -30.0, 3), name="keystroke")
    keystroke.start()
    keystroke.join(0.2)
    assert keystroke.is_alive()  # it waits for the worker's build, not a second one
    go.set()
    worker.join(10)
    keystroke.join(10)
    assert built == ["worker"] and channel.ready
