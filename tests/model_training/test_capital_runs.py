"""A run of words written in capitals ("WITHOUT WARRANTY OF ANY KIND") says nothing of how its words
are written: a user who retrained on licences was offered "KIND" and "OUT" in capitals (H69)."""

from __future__ import annotations

from keyboard_app.engine.tokenizer import Tokenizer
from model_training.corpus import find_files, heldout_splits
from model_training.vocabulary import count_corpus_tokens, telling_forms

DISCLAIMER = ("This program is distributed WITHOUT ANY WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, "
              "including FITNESS FOR A PARTICULAR PURPOSE. IN NO EVENT SHALL THE AUTHORS BE LIABLE.\n")
PROSE = ("You may copy the GNU General Public License, and any kind of warranty is out of "
         "the question for a particular purpose. I agree, and I sign the MIT licence.\n")


def _counts(tmp_path, text):
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    files = find_files([path])
    return count_corpus_tokens(files, heldout_splits(files, 0.0, 0, "end"), Tokenizer())


def test_runs_of_capitals_are_told_apart_from_a_words_own_capitals(tmp_path):
    counts = _counts(tmp_path, DISCLAIMER * 30 + PROSE * 3)
    for word in ("any", "warranty", "kind", "a", "particular", "purpose", "the"):
        assert counts.display_form(word, runs=False) == word, word
    assert counts.display_form("kind") == "KIND"  # (with the runs: 30 to 3)
    # words in capitals on their own still tell: an acronym, the pronoun
    assert counts.display_form("gnu", runs=False) == "GNU" and counts.display_form("mit", runs=False) == "MIT"
    assert counts.display_form("i", runs=False) == "I"
    assert counts.outside_runs("warranty") == 3 and counts.non_initial["warranty"] == 33


def test_a_word_only_ever_written_in_a_run_of_capitals_keeps_them(tmp_path):
    """A manual's constants and keywords ("NO MAXVALUE", "ICMP ECHO") are written in capitals
    wherever they stand: a new word's form counts its runs."""
    counts = _counts(tmp_path, "The sequence has NO MAXVALUE set, and sends ICMP ECHO packets.\n" * 5
                     + "There is no limit.\n")
    assert counts.display_form("maxvalue") == "MAXVALUE" and counts.display_form("icmp") == "ICMP"
    assert counts.display_form("no", runs=False) == "no"  # written small elsewhere
    assert counts.outside_runs("maxvalue") == 0  # so a fine-tune keeps the source's form of a known word


def test_a_fine_tune_on_licences_keeps_the_small_letters_of_the_words_their_disclaimers_shout(tmp_path):
    from keyboard_app.engine.tokenizer import SPECIAL_TOKENS
    from keyboard_app.engine.vocab import Vocabulary
    from model_training.vocabulary import build_vocabulary, grow_vocabulary

    counts = _counts(tmp_path, DISCLAIMER * 30 + PROSE * 3 + "DATA BEING RENDERED INACCURATE, OR LOSSES.\n" * 5)
    words = [*SPECIAL_TOKENS, "rendered", "kind", "gnu", "warranty", "purpose"]
    base = Vocabulary(words, words, [0] * len(SPECIAL_TOKENS) + [5] * 5)
    grown = grow_vocabulary(base, build_vocabulary(counts, 0, 1), 100, counts)
    shown = dict(zip(grown.tokens, grown.display))
    assert shown["rendered"] == "rendered" and shown["kind"] == "kind"  # the source's forms stay
    assert shown["gnu"] == "GNU"  # written so inside the user's sentences
    assert shown["inaccurate"] == "INACCURATE"  # a new word, only ever in capitals: as written
    assert shown["warranty"] == "warranty" and shown["purpose"] == "purpose"
    assert shown["particular"] == "PARTICULAR"  # a new word: its runs count, as a manual's "MAXVALUE"


def test_each_token_is_counted_once_and_every_word_outside_a_run_is_told(tmp_path):
    text = "We ship it AS IS, with NO warranty. NASA said so. OK\n\nA B C stay here TODAY\n"
    tokens = list(Tokenizer().iter_stream(text.splitlines(keepends=True)))
    triples = list(telling_forms(tokens))
    assert [t for t, _, _ in triples if t is not None] == tokens  # every token, in order
    told = [t.surface for _, t, in_run in triples if t is not None and not in_run and t.token[:1].isalpha()]
    assert [t.surface for _, t, in_run in triples if in_run] == ["AS", "IS"]
    assert {t.surface for _, t, _ in triples if t is not None and not t.token[:1].isalpha()} == {"", ",", "."}  # (a paragraph mark, marks)
    # "AS IS" is a run; "NO" stands alone (a run needs two words in capitals); sentence starts
    # ("NASA", "OK", "A") tell nothing; "A B C" (single letters) is no run; "TODAY", last, is told
    # once the stream ends
    assert told == ["ship", "it", "with", "NO", "warranty", "said", "so", "B", "C", "stay", "here", "TODAY"]
