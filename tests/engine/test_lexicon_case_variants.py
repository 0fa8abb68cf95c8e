"""The lexicon index finds a word among the words of its lowercase key; a crafted
lexicon listing thousands of case variants of one word ("abcdefghijkl",
"Abcdefghijkl", ... 4,096 of them) must not make each lookup compare it with thousands
of others (a keystroke makes a few dozen lookups).  Counted in string comparisons,
not timed."""

from __future__ import annotations

import itertools

from keyboard_app.engine.lexicon import Lexicon, LexiconIndex


class Counted(str):
    """A word that counts the times it is compared for equality."""

    compared = 0

    def __eq__(self, other):
        Counted.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_a_lookup_compares_a_bounded_number_of_case_variants():
    base = "abcdefghijkl"
    words = [Counted("".join(c.upper() if up else c for c, up in zip(base, bits)))
             for bits in itertools.product((False, True), repeat=len(base))]  # 4,096 variants
    index = LexiconIndex(Lexicon(words, list(words), list(range(1, len(words) + 1)), 10**9), set())
    ids = {str(w): i for i, w in enumerate(words)}  # the answers, from a dictionary
    for probe in (str(index.words[-1]), str(index.words[len(words) // 2]), "ABCDEFGHIJKL", "abcdefghijkL"):
        Counted.compared = 0
        found = index.lexicon_id(probe)
        compared, Counted.compared = Counted.compared, 0
        assert found == ids[probe]
        assert compared <= 64, (probe, compared)  # (a scan of the key: 4,098)
    Counted.compared = 0
    assert index.lexicon_id("abcdefghijkX") is None and "Abcdefghijkl" in index
    assert Counted.compared <= 128
