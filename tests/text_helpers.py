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
