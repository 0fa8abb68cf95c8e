"""Contract 3: the state cache does as little work as it can, and whatever the
edits, gives bit for bit what a fresh engine gives for the same text.

The int8 graph matters most here: it quantizes activations per run, so one
run over ten tokens and ten one-token runs differ (by ~1e-3); only the cache's
canonical computation (cells of ``CELL`` tokens) makes every path agree exactly.

The context starts at the last paragraph break (``<s>``), or at a sentence end
in a paragraph longer than the cache's ``cap``: a fresh engine runs only that.
"""

from __future__ import annotations

import functools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_helpers import ALPHABET, SAMPLE_TEXT, random_edit
from keyboard_app.engine.state_cache import CAP, CELL, RECENT, RELEASED_EACH, WARM, StateCache
from keyboard_app.engine.predictor import Predictor, RecencySettings
from keyboard_app.engine.tokenizer import BOS

BUNDLES = ["random_int8_bundle", "random_bundle", "random_gru_bundle"]
# Checkpoints far sparser than the defaults, so that thinning and far rewinds happen often.
SPARSE = functools.partial(StateCache, dense=16, recent=32, log_probs_kept=1)
# SAMPLE_TEXT without its blank line: one paragraph however often it is repeated.
ONE_PARAGRAPH = SAMPLE_TEXT.replace("\n\n", "\n")


def fresh_like(predictor: Predictor) -> Predictor:
    """A new engine on the same graph (and the same paragraph cap): no cache, no history."""
    return Predictor(predictor.bundle, predictor.session,
                     state_cache=functools.partial(StateCache, cap=predictor.states.cap,
                                                   warm=predictor.states.warm),
                     recency=predictor.recency)


def last_paragraph_tokens(predictor: Predictor) -> int:
    """Tokens from the last <s> of the committed tokens (it included) to their end."""
    ids = list(predictor._tokens.ids)
    return len(ids) - max(i for i, t in enumerate(ids) if t == predictor.bundle.vocab.id(BOS))


def warm_tokens(predictor: Predictor) -> int:
    """Tokens of the warm start before the last paragraph (its <s> included)."""
    ids = list(predictor._tokens.ids)
    last = max(i for i, t in enumerate(ids) if t == predictor.bundle.vocab.id(BOS))
    return min(predictor.states.warm, last + 1)


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


@pytest.mark.parametrize("seed, cap", [(0, CAP), (1, CAP), (2, CAP), (3, CAP), (4, 24), (5, 24), (6, None)])
def test_random_edit_sequences_give_what_a_fresh_engine_gives(random_int8_bundle, seed, cap):
    bundle = Predictor.load(random_int8_bundle)
    predictor = Predictor(bundle.bundle, bundle.session, state_cache=functools.partial(SPARSE, cap=cap))
    rng = random.Random(seed)
    text = ""
    for _ in range(150):
        text = random_edit(rng, text)
        if rng.random() < 0.2:
            text += rng.choice([SAMPLE_TEXT, ONE_PARAGRAPH]) * rng.randint(1, 6)
        if rng.random() < 0.1:  # a paragraph break typed or deleted somewhere
            where = rng.randint(0, len(text))
            text = text[:where] + "\n\n" + text[where:] if rng.random() < 0.5 else text.replace("\n\n", " ", 1)
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
    # (cells count from 1, the position after <s>)
    crossings = {i for i in range(len(fed)) if (i + 1) % CELL == 0}
    for i in crossings:
        assert fed[i] == [list(ids[i + 2 - CELL : i + 2])]
    assert all(f == [[ids[i + 1]]] for i, f in enumerate(fed) if i and i not in crossings)


def test_a_paste_runs_its_tokens_once_in_cells(make_predictor):
    predictor = make_predictor(state_cache=functools.partial(StateCache, cap=None))
    predictor.suggest("see you ")
    runs, tokens = predictor.states.runs, predictor.states.tokens_run
    text = "see you " + "the cat, " * 3000
    predictor.suggest(text)
    n = len(predictor.tokenizer.tokenize(text)) + 1
    # from the segment start at 1 (3 is inside the first cell): every token after <s> once
    assert predictor.states.tokens_run - tokens == n - 1
    assert predictor.states.runs - runs <= n // CELL + CELL


def test_a_paste_into_an_enormous_paragraph_runs_from_its_last_restart(make_predictor):
    predictor = make_predictor()  # the default cap: "the cat, " has no sentence end, so 2 * CAP
    predictor.suggest("see you ")
    tokens = predictor.states.tokens_run
    text = "see you " + "the cat, " * 3000
    predictor.suggest(text)
    n = len(predictor.tokenizer.tokenize(text)) + 1
    start = predictor.states.segment_start(predictor._tokens.ids, n)
    assert start == 1 + 2 * CAP * ((n - 1) // (2 * CAP))
    # the segment, and the warm start from the tokens before it
    assert predictor.states.tokens_run - tokens == n - start + predictor.states.warm <= 2 * CAP + WARM


# -- the context starts shortly before the last paragraph break -------------------------


FILLER = "Y. " * 40  # 80 tokens: more than the warm start looks back


@pytest.mark.parametrize("fixture", BUNDLES)
@pytest.mark.parametrize("typed", ["B c", "B c ", "We met in Lon", "the cat sat on the mat. "])
def test_what_came_long_before_a_paragraph_break_does_not_matter(request, fixture, typed):
    # to the network; the document cache looks further back on purpose (test_document_cache.py)
    predictor = Predictor.load(request.getfixturevalue(fixture), recency=RecencySettings.off())
    end = f"{FILLER}A\n\n{typed}"
    texts = [end, f"Z z z.\n\n{end}", f"Z z z. {end}", SAMPLE_TEXT * 5 + f"\n\n \n{end}",
             f"The cat sat on the mat; the dog ran\n\n\n{end}", f"{typed[:1]}\n\n{end}"]
    fresh = [fresh_like(predictor).next_word_log_probs(t)[0] for t in texts]
    cached = [predictor.next_word_log_probs(t)[0] for t in texts]  # one engine, editing
    for got in fresh[1:] + cached:
        np.testing.assert_array_equal(got, fresh[0])
    shown = [fresh_like(predictor).suggest(t, 5) for t in texts]
    assert all(s == shown[0] for s in shown) and shown[0]


@pytest.mark.parametrize("fixture", BUNDLES)
def test_how_the_text_before_a_paragraph_ended_is_context(request, fixture):
    predictor = Predictor.load(request.getfixturevalue(fixture), recency=RecencySettings.off())
    a = predictor.next_word_log_probs("I love London.\n\nWe met in ")[0].copy()
    b = predictor.next_word_log_probs("I love Paris.\n\nWe met in ")[0]
    assert not np.array_equal(a, b)
    assert_same_as_fresh(predictor, "I love Paris.\n\nWe met in ")


def test_a_paragraph_starts_from_one_run_over_the_tokens_before_it(make_predictor):
    predictor = make_predictor()
    graph = predictor.session._session
    vocab = predictor.bundle.vocab
    ids = [vocab.id(BOS)] + vocab.encode(predictor.tokenizer.tokenize("Z z z.\n\nthe cat\n\n"))
    # the first paragraph's start is <s> alone, the second's the run up to its <s>
    fed = _fed_after(predictor, graph, "Z z z.\n\nthe cat ")
    assert fed == [ids[:6], [vocab.id("the")], [vocab.id("cat")]]
    assert _fed_after(predictor, graph, "Z z z.\n\nthe cat\n\n") == [ids]
    assert _fed_after(predictor, graph, "Z z z.\n\nthe cat\n\nsee ") == [[vocab.id("see")]]
    # only the last WARM tokens count
    long = "see " * 100 + "\n\nthe "
    fed = _fed_after(predictor, graph, long)
    assert [len(run) for run in fed] == [WARM, 1]


def test_a_fresh_engine_runs_only_the_last_paragraph(random_int8_bundle):
    predictor = Predictor.load(random_int8_bundle)
    document = SAMPLE_TEXT * 400 + "\n\nWe met in London on Monday, and the cat sat on the ma"
    tokens = len(predictor.tokenizer.tokenize(document)) + 1
    assert tokens > 30_000
    before = predictor.states.tokens_run
    predictor.suggest(document)
    assert last_paragraph_tokens(predictor) == 14  # <s> and 13
    assert predictor.states.tokens_run - before == WARM + 13  # the warm start ends with the <s>
    # a jump back into an earlier paragraph reruns that paragraph's tokens, and its warm start, at most
    middle = document[: len(document) // 2]
    before = predictor.states.tokens_run
    predictor.suggest(middle)
    rerun = predictor.states.tokens_run - before
    fresh = fresh_like(predictor)
    fresh.suggest(middle)
    assert fresh.states.tokens_run == last_paragraph_tokens(fresh) - 1 + warm_tokens(fresh) < 150
    assert rerun == fresh.states.tokens_run
    assert_same_as_fresh(predictor, middle)


@pytest.mark.parametrize("cap", [20, 200])
def test_an_enormous_paragraph_restarts_at_a_sentence_end(random_int8_bundle, cap):
    base = Predictor.load(random_int8_bundle)
    predictor = Predictor(base.bundle, base.session, state_cache=functools.partial(StateCache, cap=cap))
    text = ONE_PARAGRAPH * 60  # about 6000 tokens, no blank line
    predictor.suggest(text)
    ids = predictor._tokens.ids
    n = len(ids)
    starts = sorted({predictor.states.segment_start(ids, m) for m in range(1, n + 1)})
    assert starts[0] == 1
    sentence_ends = {predictor.bundle.vocab.id(t) for t in ".!?"}
    for previous, start in zip(starts, starts[1:]):  # the first sentence end at least cap tokens on
        assert ids[start - 1] in sentence_ends or start == previous + 2 * cap
        assert start >= previous + cap
        assert not any(ids[m - 1] in sentence_ends for m in range(previous + cap, start))
    assert predictor.states.tokens_run <= 2 * cap + 1 + WARM
    assert_same_as_fresh(predictor, text)
    assert_same_as_fresh(predictor, text + " the ca")
    assert_same_as_fresh(predictor, text[: len(text) // 3])
    assert_same_as_fresh(predictor, "Hello. " + text[7:])  # an edit near the start moves every restart


# -- a long document ----------------------------------------------------------------------


def one_paragraph_engine(bundle_path) -> Predictor:
    """An engine without the paragraph cap, so that one paragraph can be as long as a document."""
    base = Predictor.load(bundle_path)
    return Predictor(base.bundle, base.session, state_cache=functools.partial(StateCache, cap=None))


def test_memory_stays_bounded_on_a_long_document(random_int8_bundle):
    predictor = one_paragraph_engine(random_int8_bundle)
    text = ONE_PARAGRAPH * 300  # about 30k tokens, one paragraph
    predictor.suggest(text)
    held = len(predictor.states)
    for word in "we met in London on Monday and the cat sat on the mat . ".split() * 20:
        text += word + " "
        predictor.suggest(text)
    assert len(predictor.states) <= max(held, 600)
    assert len(predictor.states) < len(predictor.tokenizer.tokenize(text)) // 40


def test_a_thinning_hands_its_states_back_a_few_at_each_later_run(random_int8_bundle):
    # Handing a couple of hundred states back to onnxruntime at once made the word boundary
    # that thinned the checkpoints the slowest of all: they go back a batch per network run.
    predictor = one_paragraph_engine(random_int8_bundle)
    cache = predictor.states
    text = ONE_PARAGRAPH * 20
    predictor.suggest(text)
    thinnings, since, longest_wait = 0, None, 0
    for word in "we met in London on Monday and the cat sat on the mat . ".split() * 60:
        runs, waiting, held = cache.runs, len(cache._released), set(cache._states)
        text += word + " "
        predictor.suggest(text)
        dropped = held - set(cache._states)
        if dropped:  # a thinning: what it dropped waits, nothing else is handed back beyond a batch
            thinnings += 1
            since = 0
            assert not dropped & set(cache._positions)
            assert len(cache._released) >= len(dropped) + waiting - RELEASED_EACH * (cache.runs - runs)
        else:
            assert waiting - len(cache._released) <= RELEASED_EACH * (cache.runs - runs)
            if since is not None:
                since += cache.runs - runs
                if cache._released:
                    longest_wait = max(longest_wait, since)
        assert len(cache._released) <= 2 * len(cache) + RELEASED_EACH  # memory still bounded
    assert thinnings >= 2
    assert not cache._released or since < 4 * len(cache) // RELEASED_EACH
    assert longest_wait <= 2 * len(cache) // RELEASED_EACH + 1  # all back within that many runs
    assert_same_as_fresh(predictor, text)


def test_a_far_rewind_reruns_little_more_than_the_edit_needs(random_int8_bundle):
    predictor = one_paragraph_engine(random_int8_bundle)
    text = ONE_PARAGRAPH * 300
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


# -- running ahead (issue 17): a new paragraph's start state computed after the first line break ----


def test_a_paragraph_start_is_computed_ahead_after_a_line_break(random_int8_bundle):
    import threading

    predictor = Predictor.load(random_int8_bundle)
    plain = Predictor(predictor.bundle, predictor.session)
    plain.run_ahead = False
    assert predictor.states.run_ahead_enabled and predictor.run_ahead
    session = predictor.session
    threads = []
    run = session.run

    def recording(tokens, state):
        if tokens.shape[1] > 1 and not state[0].any():  # a start state, from the zero state
            threads.append(threading.current_thread().name)
        return run(tokens, state)

    session.run = recording
    try:
        text = SAMPLE_TEXT.replace("\n\n", " ") * 3 + "That was all.\n\nThen we"
        first_break = text.index("\n\n") + 1
        for end in range(1, len(text) + 1):
            shown = predictor.suggest(text[:end])
            assert shown == plain.suggest(text[:end]), repr(text[:end][-20:])
            if end == first_break:
                predictor.states._ahead[next(iter(predictor.states._ahead))]._done.wait(30)
        assert np.array_equal(predictor.next_word_log_probs(text)[0], plain.next_word_log_probs(text)[0])
    finally:
        session.run = run
    # the blank line's start state came from the helper thread: the one computed on the
    # caller's thread is the other engine's, which does not run ahead; their counters agree
    assert "warm-start-ahead" in threads
    assert threads.count(threading.main_thread().name) == 1
    assert (predictor.states.runs, predictor.states.tokens_run) == (plain.states.runs, plain.states.tokens_run)
    assert_same_as_fresh(predictor, text)


def test_a_stand_in_graph_never_runs_ahead(make_predictor):
    predictor = make_predictor()
    assert not predictor.states.run_ahead_enabled
    predictor.suggest("the cat\n")
    assert not predictor.states._ahead


def test_the_state_at_a_position_is_the_canonical_one(random_int8_bundle):
    """``state_at``: what a fresh engine computes, and one step from it gives the next
    position's numbers where the canonical computation steps too (not at a cell boundary)."""
    predictor = Predictor.load(random_int8_bundle, recency=RecencySettings.off())
    text = SAMPLE_TEXT * 2
    for end in [*range(0, len(text), 7), len(text)]:  # typed on, the cache thinning behind
        predictor.next_word_log_probs(text[:end])
    fresh = fresh_like(predictor)
    fresh.next_word_log_probs(text)
    ids, states = predictor._tokens.ids, predictor.states
    assert fresh._tokens.ids == ids
    stepped = 0
    for position in range(1, len(ids)):
        state = states.state_at(ids, position)
        for mine, theirs in zip(state, fresh.states.state_at(ids, position)):
            np.testing.assert_array_equal(mine, theirs)
        after = position + 1
        segment = states.segment_start(ids, after)
        if after < len(ids) and segment != after and (after - segment) % CELL:
            out, _ = predictor.session.run(np.array([[ids[position]]], np.int64), state)
            np.testing.assert_array_equal(out[0], states.log_probs(ids, after))
            stepped += 1
    assert stepped > 50


def test_the_interpreter_waits_at_exit_for_a_run_started_ahead(random_int8_bundle, tmp_path):
    # A process that ends right after a line break (the app quitting, a benchmark's last
    # text) must let the run started ahead finish: a daemon thread still inside onnxruntime
    # at the interpreter's end aborted the process. Here the run is made slow, and leaves a mark.
    import subprocess
    import sys

    mark = tmp_path / "finished"
    script = f"""
import time
from pathlib import Path
from keyboard_app.engine.predictor import Predictor
predictor = Predictor.load({str(random_int8_bundle)!r})
session = predictor.session
run = session.run
def slow(tokens, state):
    if tokens.shape[1] > 1 and not state[0].any():  # the start state computed ahead
        time.sleep(0.5)
        out = run(tokens, state)
        Path({str(mark)!r}).write_text("done")
        return out
    return run(tokens, state)
session.run = slow
predictor.suggest("The cat sat on the mat.\\n")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert mark.read_text() == "done"
