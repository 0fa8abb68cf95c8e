"""The incremental tokenization agrees with a full scan after any edits."""

from __future__ import annotations

import random
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyboard_app.engine.token_cache import (
    TokenCache,
    common_prefix_length,
    first_difference,
    last_restart_point,
)
from keyboard_app.engine.tokenizer import _PARTIAL, Tokenizer, partial_start

from engine_helpers import ALPHABET, make_vocab, random_edit

tok = Tokenizer()


def whole_text_partial_start(text: str) -> int:
    """The reference: search the whole text for the word being typed."""
    match = _PARTIAL.search(text)
    if match is None or any(ch.isdigit() for ch in match.group()):
        return len(text)
    return match.start()

texts = st.text(alphabet=ALPHABET, max_size=80)


@given(texts)
@settings(max_examples=400, deadline=None)
def test_partial_start_matches_a_whole_text_search(text):
    assert partial_start(text, len(text)) == whole_text_partial_start(text)
    assert tok.split_context(text).partial_start == whole_text_partial_start(text)


@pytest.mark.parametrize("pad", [0, 10, 63, 64, 65, 200, 5000])
def test_partial_start_of_long_words(pad):
    for text in ["x " + "a" * pad, "a" * pad, "'" + "a" * pad, "don't" * pad + "'", "1" + "a" * pad]:
        assert partial_start(text, len(text)) == whole_text_partial_start(text)


@given(texts, st.integers(0, 100))
@settings(max_examples=200, deadline=None)
def test_last_restart_point_is_the_last_blank_to_nonblank(text, cut):
    limit = min(cut, len(text))
    expected = max((j for j in range(1, limit) if text[j - 1].isspace() and not text[j].isspace()), default=0)
    assert last_restart_point(text, limit) == expected


@given(st.text("ab", max_size=3000), st.text("ab", max_size=3000))
@settings(max_examples=200, deadline=None)
def test_common_prefix_length(a, b):
    expected = 0
    while expected < min(len(a), len(b)) and a[expected] == b[expected]:
        expected += 1
    assert common_prefix_length(a, b) == common_prefix_length(a, b, len(a), len(b)) == expected
    # only the first a_end and b_end characters count
    assert common_prefix_length(a, b, len(a) // 2, len(b)) == min(expected, len(a) // 2)
    assert common_prefix_length(a, a + b, len(a), len(a)) == len(a)


def test_first_difference():
    a = array("q", range(100))
    b = array("q", range(100))
    b[70] = -1
    assert first_difference(a, b) == 70
    assert first_difference(a, a[:50]) == 50
    assert first_difference(a[:5], array("q", [0, 1, 9])) == 2
    assert first_difference(a, a, 30) == 100


def _expected(cache_vocab, text):
    context = tok.split_context(text)
    return cache_vocab.encode(context.tokens), context


def _check(cache, vocab, text):
    view = cache.update(text)
    ids, context = _expected(vocab, text)
    assert list(cache.ids[: view.length]) == ids
    assert (view.partial, view.partial_start, view.sentence_start) == (
        context.partial, context.partial_start, context.sentence_start
    )
    return view


def test_random_edits_keep_the_tokens_of_a_full_scan():
    vocab = make_vocab()
    cache = TokenCache(tok, vocab)
    rng = random.Random(1234)
    text = ""
    for _ in range(3000):
        text = random_edit(rng, text)
        _check(cache, vocab, text)


@given(st.lists(texts, min_size=1, max_size=12))
@settings(max_examples=300, deadline=None)
def test_any_sequence_of_texts_gives_the_full_scan(sequence):
    vocab = make_vocab()
    cache = TokenCache(tok, vocab)
    for text in sequence:
        _check(cache, vocab, text)
    # and each text again, growing from its neighbour's prefix
    for text in sequence:
        _check(cache, vocab, sequence[0] + text)


def test_changed_from_is_the_first_changed_token():
    vocab = make_vocab()
    cache = TokenCache(tok, vocab)
    assert cache.update("the cat ").changed_from == 1
    assert cache.update("the cat sa").changed_from is None  # typing inside a word
    assert cache.update("the cat sat ").changed_from == 3
    assert cache.update("the cat").changed_from is None  # a prefix: the branch is kept
    assert cache.update("the cat sat ").changed_from is None  # and is still there
    assert cache.update("the dog sat ").changed_from == 2
    assert cache.update("").length == 1


def test_a_title_written_with_its_capital_asks_a_capital_of_the_next_word():
    vocab = make_vocab()
    cache = TokenCache(tok, vocab)
    view = cache.update("we met Mrs ")
    assert view.capital_next and not view.sentence_start  # a name, inside the sentence
    assert cache.update("we met Mrs cl").capital_next
    assert not cache.update("we met mrs ").capital_next  # typed small: the person's way
    assert not cache.update("we met Mrs Clay and ").capital_next
    view = cache.update("we met. ")
    assert view.capital_next and view.sentence_start
    assert not cache.update("we met ").capital_next


def test_typing_at_the_end_of_a_long_text_rescans_only_its_end(monkeypatch):
    vocab = make_vocab()
    own = Tokenizer()  # counted; the full scans of _check use ``tok``
    cache = TokenCache(own, vocab)
    text = "the cat sat on the mat. " * 3_000
    cache.update(text)
    scanned = []
    original = own.iter_tokens

    def counting(text, pos=0, endpos=None, **kw):
        for t in original(text, pos, endpos, **kw):
            scanned.append(t)
            yield t

    monkeypatch.setattr(own, "iter_tokens", counting)
    for word in ["we ", "met ", "in ", "London. "]:
        for i in range(1, len(word)):
            cache.update(text + word[:i])
        text += word
        _check(cache, vocab, text)
    assert len(scanned) < 40  # of 21,000 tokens
