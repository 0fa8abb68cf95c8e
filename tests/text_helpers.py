"""The patterned text the tests train on (the fixture ``patterned_text`` in conftest.py),
importable by name from any test folder (``conftest`` is ambiguous across folders)."""

from __future__ import annotations

import random

# Sentences with a strong, learnable pattern: after "the cat sat on the" comes
# "mat", after "Alice met Bob in" comes "London", and so on.
PATTERN_SENTENCES = [
    "The cat sat on the mat.",
    "The dog ran to the park.",
    "Alice met Bob in London.",
    "I like green apples and red cherries.",
    "We went to Paris on Monday.",
    "The bird sang in the tree.",
    "Bob told Alice that I was late.",
    "She drinks hot tea every morning.",
]


def make_patterned_text(sentences_per_paragraph: int = 6, paragraphs: int = 60, seed: int = 7) -> str:
    rng = random.Random(seed)
    paragraphs_text = []
    for _ in range(paragraphs):
        lines = [rng.choice(PATTERN_SENTENCES) for _ in range(sentences_per_paragraph)]
        paragraphs_text.append("\n".join(lines))
    return "\n\n".join(paragraphs_text) + "\n"


def random_phrase_tables(id_space: int, contexts: int, seed: int, *, draws: int, max_followers: int,
                         max_count: int, slack: int = 3) -> dict:
    """Valid order-2 and order-3 phrase tables (``PhraseTable`` by order) of up to
    ``contexts`` contexts each over ``id_space`` word ids (``draws`` keys drawn, the first ``contexts`` distinct
    kept), 1 to ``max_followers`` followers a context, counts 1 to ``max_count``, each
    context's total its followers' counts plus 0 to ``slack - 1`` (none when 0)."""
    import numpy as np

    from keyboard_app.engine.phrases import PhraseTable

    rng = np.random.default_rng(seed)
    tables = {}
    for order in (2, 3):
        keys = np.unique(rng.integers(0, id_space ** (order - 1), draws))[:contexts].astype(np.int64)
        followers = rng.integers(1, max_followers + 1, len(keys))
        starts = np.concatenate([[0], np.cumsum(followers)]).astype(np.int64)
        next_ids = rng.integers(0, id_space, int(starts[-1])).astype(np.int64)
        counts = rng.integers(1, max_count + 1, len(next_ids)).astype(np.int64)
        totals = np.add.reduceat(counts, starts[:-1])
        if slack:
            totals = totals + rng.integers(0, slack, len(keys))
        tables[order] = PhraseTable(order, keys, totals.astype(np.int64), starts, next_ids, counts)
    return tables
