"""The phrase tables' word ids answered from the vocabulary's and the lexicon index's own
dictionaries (``lexicon.PhraseIds``): the same numbering as ``phrases.phrase_index``."""

from __future__ import annotations

import pytest

from engine_helpers import make_vocab
from keyboard_app.engine.lexicon import Lexicon, LexiconIndex, PhraseIds
from keyboard_app.engine.phrases import phrase_index

# "the" is a vocabulary word as well: its id is the vocabulary's, as phrase_index gives it
LEXICON = Lexicon(
    words=["gyroscope", "gymkhana", "the", "tomahawk", "Selivanov"],
    display=["gyroscope", "gymkhana", "the", "tomahawk", "Selivanov"],
    counts=[30, 10, 7, 5, 2],
    unknown_total=100_000,
)


@pytest.mark.parametrize("lexicon", [LEXICON, None])
def test_the_ids_are_phrase_index_s(lexicon):
    vocab = make_vocab()
    ids = PhraseIds(vocab, LexiconIndex(lexicon, vocab))
    expected = phrase_index(vocab.tokens, lexicon)
    assert dict(ids) == expected
    assert len(ids) == len(expected)
    for word, id_ in expected.items():
        assert ids.get(word) == id_ and ids[word] == id_ and word in ids


def test_a_lexicon_word_gets_the_vocabulary_size_plus_its_lexicon_position():
    vocab = make_vocab()
    ids = PhraseIds(vocab, LexiconIndex(LEXICON, vocab))
    assert ids["tomahawk"] == len(vocab) + 3
    assert ids["Selivanov"] == len(vocab) + 4
    assert ids["the"] == vocab.id("the") < len(vocab)


def test_a_word_in_neither_has_no_id():
    vocab = make_vocab()
    ids = PhraseIds(vocab, LexiconIndex(LEXICON, vocab))
    assert ids.get("zyzzyva") is None
    assert ids.get("zyzzyva", -1) == -1
    assert "zyzzyva" not in ids
    with pytest.raises(KeyError):
        ids["zyzzyva"]
