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


def test_a_casual_files_capitals_count_only_for_the_words_no_other_file_writes(tmp_path):
    # chat typed in small letters: "korea" and "joe" there say nothing of how they are written,
    # but "iPhone", which only the chat writes, is written as the chat writes it
    (tmp_path / "novel.txt").write_text("They sailed for Korea with Joe at dawn. " * 40, encoding="utf-8")
    (tmp_path / "chitchat.txt").write_text(
        "we went to korea with joe lol. " * 30 + "my new iPhone is great. " * 4 + "my iphone broke. ",
        encoding="utf-8")
    files = find_files([tmp_path])
    splits = heldout_splits(files, 0.0, 0, "end")
    plain = count_corpus_tokens(files, splits, Tokenizer())
    casual = count_corpus_tokens(files, splits, Tokenizer(), casual=("chitchat",))
    assert plain.counts == casual.counts  # every word still counted
    assert casual.display_form("korea") == "Korea" and casual.display_form("joe") == "Joe"
    assert casual.non_initial["korea"] == 40
    assert casual.display_form("iphone") == "iPhone" and casual.non_initial["iphone"] == 5

    def small_letters(counts):
        return corpus_lexicon(counts, build_vocabulary(counts, 8, 1)).small_letters

    assert small_letters(plain)["korea"] == (30, 70)  # the chat's habit: "korea" small 43% of the time
    assert "korea" not in small_letters(casual) and "joe" not in small_letters(casual)
    for name in ("chitchat.txt", "chitchat"):
        assert count_corpus_tokens(files, splits, Tokenizer(), casual=(name,)).non_initial["joe"] == 40


def test_casual_files_are_named_whole_and_not_counted_with_a_bounded_memory(tmp_path):
    import pytest

    from model_training.vocabulary import is_casual

    assert is_casual("train/chitchat.txt", ("chitchat",)) and is_casual("chitchat.txt", ("chitchat.txt",))
    assert not is_casual("chat.txt", ("chitchat",)) and not is_casual("chat.txt", "chitchat")
    (tmp_path / "a.txt").write_text("One line. " * 5, encoding="utf-8")
    files = find_files([tmp_path])
    counts = count_corpus_tokens(files, heldout_splits(files, 0.0, 0, "end"), Tokenizer(), casual="chitchat")
    assert counts.casual_only == frozenset()  # a name, not its letters: "a" is not one of them
    with pytest.raises(ValueError, match="bounded memory"):
        count_corpus_tokens(files, heldout_splits(files, 0.0, 0, "end"), Tokenizer(), casual=("a",),
                            max_types=100, spill_dir=tmp_path)
