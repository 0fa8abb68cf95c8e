"""keyboard-train counts lexicon.json's small_letters (how often a word written with a capital
is written small inside a sentence), and a fine-tune adds its corpus's counts to its source's."""

from __future__ import annotations

from keyboard_app.engine.lexicon import Lexicon
from keyboard_app.engine.tokenizer import Tokenizer
from model_training.corpus import find_files, heldout_splits
from model_training.vocabulary import build_vocabulary, corpus_lexicon, count_corpus_tokens, merged_small_letters


def test_a_fine_tune_adds_its_counts_to_the_sources_even_where_it_never_writes_small():
    base = {"parsonage": (22, 86), "interior": (87, 220)}
    counted = {"interior": (3, 10)}  # the user writes "interior" small 3 times of 10
    inside = {"interior": 10, "parsonage": 14}  # ... and "Parsonage" 14 times, always so
    assert merged_small_letters(counted, inside, base) == {"parsonage": (22, 100), "interior": (90, 230)}
    assert merged_small_letters(counted, inside, {}) == counted


def test_training_counts_the_small_letters_of_words_written_with_a_capital(tmp_path):
    text = ("We met at the Parsonage today. " * 3 + "It was a fine parsonage. " + "We saw London. " * 4) * 5
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    files = find_files([path])
    counts = count_corpus_tokens(files, heldout_splits(files, 0.0, 0, "end"), Tokenizer())
    vocab = build_vocabulary(counts, 0, 1)
    base = Lexicon(["zzz"], ["Zzz"], [1], 1, small_letters={"parsonage": (1, 10)})
    lexicon = corpus_lexicon(counts, vocab, base)
    # 15 "Parsonage" and 5 "parsonage" inside a sentence here, and the source's 1 of 10
    assert lexicon.small_letters["parsonage"] == (6, 30)
    assert "london" not in lexicon.small_letters  # never written small
