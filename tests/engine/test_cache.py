"""Contract 3: the state cache does as little work as it can, and whatever the
edits, gives bit for bit what a fresh engine gives for the same text.

The int8 graph matters most here: it quantizes activations per run, so one
run over ten tokens and ten one-token runs differ (by ~1e-3); only the cache's
canonical computation (cells of ``CELL`` tokens) makes every path agree exactly.
"""

from __future__ import annotations

import functools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_helpers import ALPHABET, SAMPLE_TEXT, random_edit
from keyboard_app.engine.cache import CELL, RECENT, StateCache
from keyboard_app.engine.predictor import Predictor

BUNDLES = ["random_int8_bundle", "random_bundle", "random_gru_bundle"]
# Checkpoints far sparser than the defaults, so that thinning and far rewinds happen often.
SPARSE = functools.partial(StateCache, dense=16, recent=32, log_probs_kept=1)


def fresh_like(predictor: Predictor) -> Predictor:
    """A new engine on the same graph: no cache, no history."""
    return Predictor(predictor.bundle, predictor.session)


def assert_same_as_fresh(predictor: Predictor, text: str, k: int = 5) -> None:
    log_probs, view = predictor.next_word_log_probs(text)
    fresh = fresh_like(predictor)
    expected, expected_view = fresh.next_word_log_probs(text)
    np.testing.assert_array_equal(log_probs, expected, err_msg=repr(text[-80:]))
    assert view == expected_view or (view.length, view.partial) == (expected_view.length, expected_view.partial)
    assert predictor.suggest(text, k) == fresh.suggest(text, k)


def test_int8_runs_depend_on_how_tokens_are_grouped(random_int8_bundle):
    """Why the cells exist: without them the exactness tests below would fail."""
    session = Predictor.load(random_int8_bundle).session
    ids = np.array([[1, 7, 12, 5, 30, 9, 9, 41, 6, 2, 18]], np.int64)
    full, _ = session.run(ids, session.zero_state())
    state = session.zero_state()
    for t in range(ids.shape[1]):
        stepped, state = session.run(ids[:, t : t + 1], state)
    assert not np.array_equal(stepped, full)


@pytest.mark.parametrize("fixture", BUNDLES)
def test_each_kind_of_edit_gives_what_a_fresh_engine_gives(request, fixture):
    predictor = Predictor.load(request.getfixturevalue(fixture))
    text = "The quick brown fox jumps over the lazy dog. I don't know, said Alice; we met in London on Monday! "
    for end in range(1, len(text) + 1):  # typed one character at a time
        assert_same_as_fresh(predictor, text[:end])
    for cut in range(1, 12):  # backspace over word boundaries
        assert_same_as_fresh(predictor, text[:-cut])
    assert_same_as_fresh(predictor, text[:40])  # the cursor moved into the middle
    assert_same_as_fresh(predictor, text[:40] + "cat ")  # and typing there
    assert_same_as_fresh(predictor, text)  # undo
    pasted = text + SAMPLE_TEXT * 40  # a paste of thousands of words
    assert len(predictor.tokenizer.tokenize(pasted)) > 4000
    assert_same_as_fresh(predictor, pasted)
    assert_same_as_fresh(predictor, pasted + "the ca")
    assert_same_as_fresh(predictor, "")  # select all and delete
    assert_same_as_fresh(predictor, "We ")


@pytest.mark.parametrize("seed", range(4))
def test_random_edit_sequences_give_what_a_fresh_engine_gives(random_int8_bundle, seed):
    bundle = Predictor.load(random_int8_bundle)
    predictor = Predictor(bundle.bundle, bundle.session, state_cache=SPARSE)
    rng = random.Random(seed)
    text = ""
    for _ in range(150):
        text = random_edit(rng, text)
        if rng.random() < 0.2:
            text += SAMPLE_TEXT * rng.randint(1, 6)
        assert_same_as_fresh(predictor, text)


edits = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 10_000), st.text(ALPHABET + "the cat sat", max_size=6)),
    min_size=1,
    max_size=25,
)


@given(edits)
@settings(max_examples=60, deadline=None)
def test_any_edits_give_what_a_fresh_engine_gives(random_int8_bundle, edits):
    base = Predictor.load(random_int8_bundle)
    predictor = Predictor(base.bundle, base.session, state_cache=SPARSE)
    text = ""
    for kind, where, typed in edits:
        where = where % (len(text) + 1)
        if kind <= 2:
            text += typed
        elif kind == 3:
            text = text[:where]
        elif kind == 4:
            text = text[:where] + typed + text[where:]
        elif kind == 5:
            text += SAMPLE_TEXT[where % len(SAMPLE_TEXT):] * 2
        else:
            text = ""
        assert_same_as_fresh(predictor, text)


# -- how much work each keystroke does (FakeGraph records what it is fed) ---------------


def _fed_after(predictor, graph, text):
    before = len(graph.fed)
    predictor.suggest(text)
    return graph.fed[before:]


def test_a_keystroke_inside_a_word_runs_no_network(make_predictor):
    predictor = make_predictor()
    graph = predictor.session._session
    predictor.suggest("see you ")
    for typed in ["see you t", "see you to", "see you tom", "see you to", "see you tomo"]:
        assert _fed_after(predictor, graph, typed) == []


def test_finishing_a_word_runs_one_step(make_predictor):
    predictor = make_predictor()
    graph = predictor.session._session
    vocab = predictor.bundle.vocab
    predictor.suggest("see you tomorrow")
    assert _fed_after(predictor, graph, "see you tomorrow ") == [[vocab.id("tomorrow")]]
    assert _fed_after(predictor, graph, "see you tomorrow, ") == [[vocab.id(",")]]


def test_backspace_over_a_word_boundary_runs_nothing(make_predictor):
    predictor = make_predictor()
    graph = predictor.session._session
    predictor.suggest("see you tomorrow")
    predictor.suggest("see you tomorrow ")
    assert _fed_after(predictor, graph, "see you tomorrow") == []
    assert _fed_after(predictor, graph, "see you tomorro") == []
    assert _fed_after(predictor, graph, "see you tomorrow ") == []


def test_every_cell_boundary_runs_its_cell(make_predictor):
    predictor = make_predictor()
    graph = predictor.session._session
    text = ""
    fed = []
    for word in ["the", "cat", "see", "you"] * CELL:
        text += word + " "
        fed.append(_fed_after(predictor, graph, text))
    ids = predictor._tokens.ids
    assert fed[0] == [[ids[0]], [ids[1]]]  # <s> and "the", one step each
    # after i + 1 words the position is i + 2 (<s> first): a cell boundary runs the whole cell
    crossings = {i for i in range(len(fed)) if (i + 2) % CELL == 0}
    for i in crossings:
        assert fed[i] == [list(ids[i + 2 - CELL : i + 2])]
    assert all(f == [[ids[i + 1]]] for i, f in enumerate(fed) if i and i not in crossings)


def test_a_paste_runs_its_tokens_once_in_cells(make_predictor):
    predictor = make_predictor()
    predictor.suggest("see you ")
    runs, tokens = predictor.states.runs, predictor.states.tokens_run
    text = "see you " + "the cat, " * 3000
    predictor.suggest(text)
    n = len(predictor.tokenizer.tokenize(text)) + 1
    # from the cell boundary at 0 (3 is inside the first cell): every token once
    assert predictor.states.tokens_run - tokens == n
    assert predictor.states.runs - runs <= n // CELL + CELL


# -- a long document ----------------------------------------------------------------------


def test_memory_stays_bounded_on_a_long_document(random_int8_bundle):
    predictor = Predictor.load(random_int8_bundle)
    text = SAMPLE_TEXT * 300  # about 30k tokens
    predictor.suggest(text)
    held = len(predictor.states)
    for word in "we met in London on Monday and the cat sat on the mat . ".split() * 20:
        text += word + " "
        predictor.suggest(text)
    assert len(predictor.states) <= max(held, 600)
    assert len(predictor.states) < len(predictor.tokenizer.tokenize(text)) // 40


def test_a_far_rewind_reruns_little_more_than_the_edit_needs(random_int8_bundle):
    predictor = Predictor.load(random_int8_bundle)
    text = SAMPLE_TEXT * 300
    predictor.suggest(text)
    n = len(predictor.tokenizer.tokenize(text)) + 1
    cut = len(text) // 3
    before = predictor.states.tokens_run
    assert_same_as_fresh(predictor, text[:cut])  # the cursor moved a long way back
    back = predictor.states.tokens_run - before
    # from a checkpoint (spaced at most 2 * distance * CELL / RECENT there), not from the start
    assert back <= 2 * (n - n // 3) * CELL // RECENT + 4 * CELL < n // 3
    before = predictor.states.tokens_run
    assert_same_as_fresh(predictor, text)  # and forward again: the end's checkpoints are kept
    assert predictor.states.tokens_run - before <= CELL
    edited = text[:cut] + " tea " + text[cut:]  # an edit there reruns what follows it
    before = predictor.states.tokens_run
    assert_same_as_fresh(predictor, edited)
    rerun = predictor.states.tokens_run - before
    assert rerun <= n - n // 3 + 2 * (n - n // 3) * CELL // RECENT + 4 * CELL
