"""The phrase beam (engine/beam.py): what it finds, what it prunes, its budget and the strip slot.

Most cases run a ``FakeGraph`` whose next-word probabilities are set by hand
(``chain``), so the phrase expected can be written down; one runs a real
random-weight graph to check that batched hypotheses keep their own states.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from engine_helpers import FakeGraph, make_vocab
from keyboard_app.engine.beam import BeamSettings, PhraseBeam, place
from keyboard_app.engine.bundle import load_bundle
from keyboard_app.engine.ranking import WordIndex
from keyboard_app.engine.session import RecurrentSession

OFF = -30.0  # a token's score when nothing favours it (e^-30: never in a phrase)


def chain(vocab, follows: dict[str, dict[str, float]], first: str = ".") -> FakeGraph:
    """A graph after which each word of ``follows`` is followed by the words given, with
    the probabilities given, and the rest of the mass goes to ``first`` (a punctuation
    mark by default); any other token is followed by ``first``."""
    base = np.full(len(vocab), OFF, np.float32)
    base[vocab.id(first)] = 0.0
    after = {}
    for word, nxt in follows.items():
        rest = 1.0 - sum(nxt.values())  # (every test leaves some)
        after[word] = {w: math.log(p / rest) - OFF for w, p in nxt.items()}
    return FakeGraph(vocab, base=base, after=after)


@pytest.fixture
def vocab(word_bundle):
    return load_bundle(word_bundle).vocab


@pytest.fixture
def make_beam(word_bundle):
    def make(graph, clock=None, **settings):
        bundle = load_bundle(word_bundle)
        session = RecurrentSession(graph, bundle)
        words = WordIndex(bundle.vocab).position >= 0
        lengths = np.array([len(t) for t in bundle.vocab.tokens])
        options = {} if clock is None else {"clock": clock}
        return PhraseBeam(session, words, lengths, BeamSettings(**{"budget": None, **settings}), **options)

    return make


def words_of(vocab, phrase) -> str:
    return " ".join(vocab.tokens[i] for i in phrase.ids)


def start(beam):
    return beam.session.zero_state()


def test_a_confident_chain_is_followed_to_its_end_and_stops_before_punctuation(vocab, make_beam):
    graph = chain(vocab, {"see": {"you": 0.95}, "you": {"tomorrow": 0.9}})  # then "." is certain
    beam = make_beam(graph)
    phrase = beam.search(start(beam), [(vocab.id("see"), math.log(0.8))])
    assert words_of(vocab, phrase) == "see you tomorrow"
    assert phrase.log_prob == pytest.approx(math.log(0.8 * 0.95 * 0.9), abs=1e-4)
    # see -> you, you -> tomorrow, tomorrow -> (only "." is likely: nothing to keep)
    assert beam.stats.runs == 3
    for candidate in beam.candidates(start(beam), [(vocab.id("see"), math.log(0.8))]):
        assert "." not in words_of(vocab, candidate).split()


def test_only_single_tokens_are_fed_from_the_state_given(vocab, make_beam):
    graph = chain(vocab, {"see": {"you": 0.95}, "you": {"tomorrow": 0.9}})
    seen_states = []
    run = graph.run

    def recording(output_names, feeds):
        seen_states.append(feeds["h"].copy())
        return run(output_names, feeds)

    graph.run = recording
    beam = make_beam(graph)
    context = beam.session.zero_state()
    context[0][0, 0, 0] = 41.0  # as if 41 tokens of context had been fed
    graph.fed.clear()
    seen_states.clear()  # (opening the session ran one check step)
    beam.search(context, [(vocab.id("see"), math.log(0.8))])
    assert graph.fed == [[vocab.id("see")], [vocab.id("you")], [vocab.id("tomorrow")]]
    assert seen_states[0][0, 0, 0] == 41.0  # the context's state, not a rerun
    assert [s[0, 0, 0] for s in seen_states] == [41.0, 42.0, 43.0]


def test_a_first_word_below_the_floor_costs_no_network_run(vocab, make_beam):
    graph = chain(vocab, {"see": {"you": 0.99}})
    beam = make_beam(graph, threshold=math.log(0.05))
    graph.fed.clear()
    assert beam.search(start(beam), [(vocab.id("see"), math.log(0.04))]) is None
    assert beam.stats.runs == 0 and graph.fed == []
    # the caller's floor (the strip's last word) prunes the same way
    assert beam.search(start(beam), [(vocab.id("see"), math.log(0.3))], floor=math.log(0.35)) is None
    assert beam.stats.runs == 0


def test_a_phrase_whose_probability_falls_below_the_threshold_is_not_offered(vocab, make_beam):
    graph = chain(vocab, {"see": {"you": 0.5}, "you": {"tomorrow": 0.5}})
    beam = make_beam(graph, threshold=math.log(0.3))
    phrase = beam.search(start(beam), [(vocab.id("see"), math.log(0.8))])
    assert words_of(vocab, phrase) == "see you"  # 0.4; "see you tomorrow" is 0.2
    beam = make_beam(graph, threshold=math.log(0.5))
    assert beam.search(start(beam), [(vocab.id("see"), math.log(0.8))]) is None


def test_at_most_max_words_and_at_least_min_words(vocab, make_beam):
    follows = {"we": {"met": 0.99}, "met": {"in": 0.99}, "in": {"london": 0.99}, "london": {"tomorrow": 0.99}}
    beam = make_beam(chain(vocab, follows))
    assert words_of(vocab, beam.search(start(beam), [(vocab.id("we"), -0.01)])) == "we met in london"
    beam = make_beam(chain(vocab, {"see": {"you": 0.99}}), min_words=3)
    assert beam.search(start(beam), [(vocab.id("see"), -0.01)]) is None


def test_the_phrase_offered_is_the_one_worth_the_most_keystrokes(vocab, make_beam):
    # "cat a" is likelier (0.6) but adds 2 keystrokes; "cat tomorrow" (0.3) adds 9
    beam = make_beam(chain(vocab, {"cat": {"a": 0.6, "tomorrow": 0.3}}))
    first = [(vocab.id("cat"), 0.0)]
    assert words_of(vocab, beam.search(start(beam), first)) == "cat tomorrow"
    assert sorted(words_of(vocab, c) for c in beam.candidates(start(beam), first)) == ["cat a", "cat tomorrow"]


def test_hypotheses_from_several_first_words_go_in_one_batched_run(vocab, make_beam):
    graph = chain(vocab, {"see": {"you": 0.9}, "hello": {"tom": 0.9}})
    beam = make_beam(graph)
    graph.fed.clear()
    found = beam.candidates(start(beam), [(vocab.id("see"), math.log(0.5)), (vocab.id("hello"), math.log(0.4))])
    assert sorted(words_of(vocab, c) for c in found) == ["hello tom", "see you"]
    assert graph.fed[0] == [vocab.id("see")]  # row 0 of the first run
    assert beam.stats.runs == 2  # one run for both, then one that keeps nothing


def test_a_budget_of_zero_drops_the_phrase_before_any_run(vocab, make_beam):
    graph = chain(vocab, {"see": {"you": 0.99}})
    beam = make_beam(graph)
    graph.fed.clear()
    assert beam.search(start(beam), [(vocab.id("see"), -0.01)], budget=0.0) is None
    assert beam.stats.dropped and beam.stats.runs == 0 and graph.fed == []


def test_a_slow_step_runs_the_budget_out_and_the_phrase_is_dropped(vocab, make_beam):
    @dataclass
    class Clock:
        now: float = 0.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    graph = chain(vocab, {"we": {"met": 0.99}, "met": {"in": 0.99}, "in": {"london": 0.99}})
    run = graph.run

    def slow(output_names, feeds):
        clock.now += 0.004  # 4 ms a step
        return run(output_names, feeds)

    graph.run = slow
    beam = make_beam(graph, clock=clock, budget=0.005)
    assert beam.search(start(beam), [(vocab.id("we"), -0.01)]) is None
    assert beam.stats.dropped and beam.stats.runs == 2  # the third step would start after 8 ms
    beam = make_beam(graph, clock=clock, budget=0.1)
    assert words_of(vocab, beam.search(start(beam), [(vocab.id("we"), -0.01)])) == "we met in london"
    assert not beam.stats.dropped


def test_stop_asked_between_steps_drops_the_phrase(vocab, make_beam):
    beam = make_beam(chain(vocab, {"we": {"met": 0.99}, "met": {"in": 0.99}}))
    asked = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) > 1  # a keystroke arrives during the first step

    assert beam.search(start(beam), [(vocab.id("we"), -0.01)], stop=stop) is None
    assert beam.stats.dropped and beam.stats.runs == 1


@pytest.mark.parametrize("settings", [dict(min_words=1), dict(min_words=3, max_words=2), dict(width=0),
                                      dict(threshold=0.5), dict(odds=0.0), dict(budget=-1.0)])
def test_settings_out_of_range_are_refused(settings):
    with pytest.raises(ValueError):
        BeamSettings(**settings)


def test_batched_hypotheses_score_as_their_own_sequences_on_a_real_graph(random_bundle):
    bundle = load_bundle(random_bundle)
    session = RecurrentSession.open(bundle)
    vocab = bundle.vocab
    words = WordIndex(vocab).position >= 0
    beam = PhraseBeam(session, words, np.array([len(t) for t in vocab.tokens]),
                      BeamSettings(budget=None, width=6, branch=3))
    context = np.array([[vocab.id("<s>"), vocab.id("the"), vocab.id("cat")]], np.int64)
    log_probs, state = session.run(context, session.zero_state())
    first = WordIndex.best(log_probs[0], WordIndex(vocab).word_ids, 4)
    found = beam.candidates(state, first, floor=-1e9)
    assert len({c.ids[0] for c in found}) > 1 and max(len(c.ids) for c in found) == 4
    for candidate in found:
        expected = dict(first)[candidate.ids[0]]
        lp, st = log_probs, state
        for previous, word in zip(candidate.ids, candidate.ids[1:]):
            lp, st = session.run(np.array([[previous]], np.int64), st)
            expected += float(lp[0, word])
        assert candidate.log_prob == pytest.approx(expected, abs=1e-4)


@dataclass(frozen=True)
class Shown:
    text: str
    log_prob: float


STRIP = [Shown("for", -1.0), Shown("to", -2.0), Shown("and", -3.0)]


@pytest.mark.parametrize("score, k, expected", [
    (-2.5, 3, ["for", "to", "for the"]),  # likelier than the third word: takes its slot
    (-1.5, 3, ["for", "for the", "to"]),  # likelier than the second: shown before it
    (-3.5, 3, ["for", "to", "and"]),  # less likely than every word: not shown
    (-3.0, 3, ["for", "to", "and"]),  # a tie keeps the word
    (-0.5, 1, ["for"]),  # a strip of one slot keeps its word
    (-2.5, 5, ["for", "to", "for the", "and"]),  # a free slot
])
def test_the_phrase_takes_the_slot_it_earns(score, k, expected):
    assert [s.text for s in place(STRIP, Shown("for the", score), k)] == expected


def test_odds_above_one_ask_more_of_the_phrase():
    phrase = Shown("for the", -2.5)  # e^0.5 = 1.65 times the third word
    assert [s.text for s in place(STRIP, phrase, 3, odds=1.5)][-1] == "for the"
    assert [s.text for s in place(STRIP, phrase, 3, odds=2.0)][-1] == "and"
    assert place(STRIP, None, 3) == STRIP
