"""A fine-tuned model keeps its source's identifier marks (engine/completions.py), except
for the words the user's own corpus uses."""

from __future__ import annotations

from collections import Counter

from keyboard_app.engine.lexicon import Lexicon
from keyboard_app.engine.tokenizer import SPECIAL_TOKENS
from keyboard_app.engine.vocab import Vocabulary
from model_training.vocabulary import CorpusCounts, corpus_lexicon


def test_the_sources_marks_are_kept_but_not_for_the_users_own_words():
    tokens = list(SPECIAL_TOKENS) + ["the", "from", "runserver"]
    vocab = Vocabulary(tokens, tokens, [0] * len(SPECIAL_TOKENS) + [50, 40, 3])
    base = Lexicon(["fromhex", "gyroscope"], ["fromhex", "gyroscope"], [4, 9], 20,
                   identifiers=frozenset({"fromhex", "runserver", "runsql"}))
    counts = CorpusCounts(counts=Counter({"the": 30, "from": 5, "runserver": 2, "tomahawk": 1}))
    lexicon = corpus_lexicon(counts, vocab, base)
    assert lexicon.identifiers == {"fromhex", "runsql"}  # "runserver": the user writes it
    assert "tomahawk" in lexicon.words and "fromhex" in lexicon.words
    assert corpus_lexicon(counts, vocab).identifiers == frozenset()  # no source: nothing marked
