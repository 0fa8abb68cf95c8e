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


def test_the_sources_slips_are_kept_but_not_a_misspelling_the_user_writes_as_a_habit():
    """scripts/mark_slips.py's marks: kept by a fine-tune, but a slip the user's own text writes
    three times or more (``OWN_SLIP``) and at least a tenth as often as the word meant is their
    spelling; a slip of theirs, rare beside the word meant, stays marked."""
    from model_training.vocabulary import OWN_SLIP

    tokens = list(SPECIAL_TOKENS) + ["the", "teh", "alot", "becuase", "a", "lot"]
    vocab = Vocabulary(tokens, tokens, [0] * len(SPECIAL_TOKENS) + [50, 9, 8, 7, 6, 5])
    base = Lexicon(["gyroscope", "tomatoe"], ["gyroscope", "tomatoe"], [9, 4], 20,
                   slips={"teh": "the", "alot": "a lot", "becuase": "because", "tomatoe": "tomato", "gone": "go"})
    counts = CorpusCounts(counts=Counter({"the": 30_000, "a": 9_000, "lot": 20, "alot": OWN_SLIP, "teh": 5,
                                         "zebra": 1}))
    lexicon = corpus_lexicon(counts, vocab, base)
    # "alot": the user's habit (as often as "lot"); "teh": five times beside "the" 30,000 times, a slip;
    # "gone": in neither the vocabulary nor the lexicon
    assert lexicon.slips == {"teh": "the", "becuase": "because", "tomatoe": "tomato"}
    counts.counts["teh"] = 3_000  # a tenth as often as "the": their spelling
    assert "teh" not in corpus_lexicon(counts, vocab, base).slips
    assert corpus_lexicon(counts, vocab).slips == {}  # no source: nothing marked
