"""The strip's ranking (engine/ranking.py): what it keeps between keystrokes changes nothing."""

from __future__ import annotations

import random

import pytest

import keyboard_app.engine.ranking as ranking
from keyboard_app.engine.lexicon import Lexicon, LexiconIndex
from keyboard_app.engine.ranking import Ranker, WordIndex
from keyboard_app.engine.tokenizer import SPECIAL_TOKENS
from keyboard_app.engine.vocab import Vocabulary


def lexicon_words(seed: int, n: int = 400) -> Lexicon:
    rng = random.Random(seed)
    words = sorted({"".join(rng.choice("abcde") for _ in range(rng.randint(1, 6))) for _ in range(n)})
    counts = [rng.choice([1, 1, 2, 3, 5, 8, 40]) for _ in words]  # ties included
    return Lexicon(words, [w.capitalize() if i % 5 == 0 else w for i, w in enumerate(words)], counts,
                   sum(counts) + 100)


@pytest.mark.parametrize("seed", range(3))
def test_the_lexicons_best_words_kept_per_prefix_are_its_own(seed, monkeypatch):
    """Typing asks for the same prefixes again and again: the ranker keeps the lexicon's
    answers (its order is by count, the same in every context), bounded by LEXICON_KEPT;
    whatever was kept or dropped, the answer is ``LexiconIndex.best``'s."""
    index = LexiconIndex(lexicon_words(seed), frozenset())
    tokens = list(SPECIAL_TOKENS) + ["x"]
    vocab = Vocabulary(tokens, tokens, [0] * len(SPECIAL_TOKENS) + [1])
    ranker = Ranker(WordIndex(vocab), vocab, index)
    asked = []
    best = index.best
    monkeypatch.setattr(index, "best", lambda prefix, k: asked.append((prefix, k)) or best(prefix, k))
    monkeypatch.setattr(ranking, "LEXICON_KEPT", 16)
    rng = random.Random(seed)
    for _ in range(600):
        prefix = "".join(rng.choice("abcdef") for _ in range(rng.randint(0, 3)))
        k = rng.choice([3, 5, 12])
        before = len(asked)
        assert ranker._lexicon_best(prefix, k) == best(prefix, k)
        repeat = len(asked)
        assert ranker._lexicon_best(prefix, k) == best(prefix, k)
        assert len(asked) == repeat <= before + 1  # asked at most once, and not again right after
        assert len(ranker._lexicon_kept) <= 16
    assert len(asked) < 600  # prefixes met again were answered from what was kept


@pytest.mark.parametrize("depth", [1, None])
@pytest.mark.parametrize("seed", range(4))
def test_a_strip_of_k_is_the_first_k_of_a_longer_one_even_at_exact_ties(seed, depth, monkeypatch):
    """The evaluation relies on the best k being the first k of the best k + n.  Counts in
    powers of two and a capital's penalty of log 2 make exact ties between a penalised
    word and one the ranker has not fetched yet; the ranker fetches deeper at a tie."""
    import math

    import numpy as np

    from keyboard_app.engine.completions import Rules
    from keyboard_app.engine.mixture import combine

    if depth is not None:  # lists read k deep first, so that the ties fall at the fetch floor
        monkeypatch.setattr(ranking, "FIRST_DEPTH", depth)
        monkeypatch.setattr(ranking, "PENALISED_DEPTH", depth)
    rng = random.Random(seed)
    words = sorted({"".join(rng.choice("ab") for _ in range(rng.randint(2, 7))) for _ in range(300)})
    counts = [2 ** rng.randint(0, 5) for _ in words]
    display = [w.capitalize() if rng.random() < 0.5 else w for w in words]
    index = LexiconIndex(Lexicon(words, display, counts, 4096), frozenset())
    tokens = list(SPECIAL_TOKENS) + ["ba", "bab", "ab"]
    vocab = Vocabulary(tokens, tokens, [0] * len(SPECIAL_TOKENS) + [4, 2, 1])
    word_index = WordIndex(vocab)
    network = np.log(np.array([0.5] + [0.5 / (len(tokens) - 1)] * (len(tokens) - 1), np.float32))
    scores = combine(network, word_index, index, vocab.unk_id, [])
    small = np.array([not d[:1].isupper() for d in vocab.display], bool)
    rules = Rules(None, frozenset(), math.log(2.0), small, index)
    ranker = Ranker(word_index, vocab, index)
    for prefix in ["A", "B", "Ab", "Ba", "Aa", "Bb", "Aab", "Bab", "Abb"]:
        for k in (1, 2, 3):
            short = [(s.text, s.log_prob) for s in ranker.rank(scores, prefix, False, k, rules)]
            longer = [(s.text, s.log_prob) for s in ranker.rank(scores, prefix, False, k + 3, rules)]
            assert short == longer[:k], (prefix, k)
