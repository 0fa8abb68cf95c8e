"""The lexicon index finds a word among the words of its lowercase key (a binary search
of its sorted keys) instead of a dictionary of every word: the answers must be the ones
a dictionary gives, for words that differ only in case, words it does not list (the
vocabulary's among them) and words sharing a prefix."""

from __future__ import annotations

import math

import numpy as np

from keyboard_app.engine.lexicon import Lexicon, LexiconIndex

WORDS = ["Selivanov", "selivanov", "SELIVANOV", "Sel", "sela", "Zoë", "zoë", "apple", "Apples", "run", "Émile",
         "émile", "straße", "STRASSE", "a"]
VOCABULARY = {"run", "a", "the"}  # listed in the lexicon too: the index leaves them out


def make_index(words=WORDS) -> tuple[Lexicon, LexiconIndex]:
    rng = np.random.default_rng(3)
    counts = [int(c) for c in rng.integers(1, 50, len(words))]
    display = [w.capitalize() if i % 3 == 0 else w for i, w in enumerate(words)]
    lexicon = Lexicon(list(words), display, counts, sum(counts) + 7)
    return lexicon, LexiconIndex(lexicon, VOCABULARY)


def test_every_lookup_answers_what_a_dictionary_of_the_words_would():
    lexicon, index = make_index()
    position = {w: i for i, w in enumerate(index.words)}  # the reference
    probes = WORDS + ["the", "selivanoV", "Apple", "apples", "strasse", "", "zz", "Émil", "éMILE"]
    for word in probes:
        i = position.get(word)
        assert (word in index) == (i is not None), word
        assert index.display_of(word) == (word if i is None else index.display[i]), word
        expected_id = None if i is None else lexicon.words.index(word)
        assert index.lexicon_id(word) == expected_id, word
        share = index.share(word)
        if i is None:
            assert share == -math.inf, word
        else:
            assert share == index.log_share[i], word
    # listed words that are vocabulary words are not the index's
    assert "run" not in index and "a" not in index and index.lexicon_id("run") is None


def test_the_index_keeps_no_dictionary_of_its_words():
    _, index = make_index([f"word{i}" for i in range(500)] + [f"Word{i}" for i in range(500)])
    assert len(index) == 1000
    assert not [name for name, value in vars(index).items() if isinstance(value, dict) and len(value) >= len(index)]
    assert all(index.lexicon_id(f"Word{i}") == 500 + i and index.lexicon_id(f"word{i}") == i for i in range(500))
