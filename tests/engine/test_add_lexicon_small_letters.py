"""``model_training.add_lexicon`` counts the small letters of the words written with a capital
(lexicon.json's ``small_letters``, H56): inside a sentence only, of the vocabulary's words and
the lexicon's, and only those ever written small."""

from __future__ import annotations

import pytest

from keyboard_app.engine.bundle import load_bundle
from model_training.add_lexicon import add_lexicon

EXTRA = ("We saw the Parsonage.\nThey left the Parsonage.\nA small parsonage stood there.\n"
         "Parsonage gardens are green.\nShe cut a bob of hair.\n")


def test_add_lexicon_counts_the_small_letters_inside_sentences(tmp_path, tiny_bundle, patterned_text):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(patterned_text + EXTRA, encoding="utf-8")
    assert load_bundle(tiny_bundle).lexicon is None
    add_lexicon(tiny_bundle, [corpus], tmp_path / "out", whole=True)
    lexicon = load_bundle(tmp_path / "out").lexicon
    assert lexicon.display[lexicon.words.index("parsonage")] == "Parsonage"
    # "the Parsonage" twice and "small parsonage" inside a sentence; "Parsonage gardens" starts one
    assert lexicon.small_letters["parsonage"] == (1, 3)
    # a vocabulary word: "Alice met Bob" inside a sentence, "Bob told Alice" at its start
    assert lexicon.small_letters["bob"] == (1, 1 + patterned_text.count("met Bob"))
    # never small inside a sentence: not listed; nor words written small ("mat")
    assert not {"london", "alice", "paris", "monday", "mat", "i"} & lexicon.small_letters.keys()


def test_a_casual_file_neither_writes_the_words_of_others_nor_gives_the_lexicon_its_slips(tmp_path, tiny_bundle,
                                                                                       patterned_text):
    from model_training.add_lexicon import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "prose.txt").write_text(patterned_text + EXTRA, encoding="utf-8")
    (corpus / "chitchat.txt").write_text("we sat in the parsonage lol.\n" * 20 + "my studnet gardens.\n",
                                         encoding="utf-8")
    assert main([str(tiny_bundle), str(corpus), "--whole-corpus", "--out", str(tmp_path / "plain")]) == 0
    assert main([str(tiny_bundle), str(corpus), "--whole-corpus", "--out", str(tmp_path / "casual"),
                 "--casual", "chitchat"]) == 0
    plain, casual = (load_bundle(tmp_path / name).lexicon for name in ("plain", "casual"))
    assert plain.display[plain.words.index("parsonage")] == "parsonage"  # the chat outvoted the prose
    assert casual.display[casual.words.index("parsonage")] == "Parsonage"
    assert casual.small_letters["parsonage"] == (1, 3)  # the prose's count alone
    # a slip only the chat has is no word to complete; a word the prose has too stays
    assert "studnet" in plain.words and "studnet" not in casual.words
    assert "gardens" in casual.words and "lol" in plain.words and "lol" not in casual.words
    assert casual.unknown_total == plain.unknown_total  # their occurrences still unknown words


def test_a_casual_name_that_matches_no_file_is_refused_in_one_sentence(tmp_path, tiny_bundle, patterned_text,
                                                                        capsys):
    from model_training.add_lexicon import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "prose.txt").write_text(patterned_text + EXTRA, encoding="utf-8")
    (corpus / "chat.txt").write_text("we sat in the parsonage lol.\n" * 5, encoding="utf-8")
    # "chitchat" is no file here (nor is it read as "chat" by its letters)
    assert main([str(tiny_bundle), str(corpus), "--out", str(tmp_path / "out"), "--casual", "chitchat"]) == 2
    err = capsys.readouterr().err
    assert "no corpus file is named 'chitchat'" in err and "chat.txt" in err
    assert err.count("\n") == 1 and err.endswith("\n")  # one sentence
    assert not (tmp_path / "out").exists()
    assert main([str(tiny_bundle), str(corpus), "--whole-corpus", "--out", str(tmp_path / "out"),
                 "--casual", "chat"]) == 0
    assert load_bundle(tmp_path / "out").manifest["lexicon"]["casual"] == ["chat"]


def test_the_words_only_the_chat_has_that_a_word_list_knows_stay_completable(tmp_path, tiny_bundle, patterned_text):
    """The chat alone writes "marshmallows" and "pinocchio" (small, as it writes everything) and its
    slip "studnet": a word list (Debian's wamerican) keeps the first two, "Pinocchio" as it writes it."""
    from model_training.add_lexicon import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "prose.txt").write_text(patterned_text + EXTRA, encoding="utf-8")
    (corpus / "chitchat.txt").write_text("we ate marshmallows and read pinocchio lol.\n" * 4 + "my studnet gardens.\n"
                                         + "she said como estas.\nwe read Pinocchio.\n", encoding="utf-8")
    words = tmp_path / "words"
    words.write_text("bill\nBill\nmarshmallows\nPinocchio\nPinocchio's\ngardens\nComo\n", encoding="utf-8")
    assert main([str(tiny_bundle), str(corpus), "--whole-corpus", "--out", str(tmp_path / "known"),
                 "--casual", "chitchat", "--known-words", str(words)]) == 0
    assert main([str(tiny_bundle), str(corpus), "--whole-corpus", "--out", str(tmp_path / "casual"),
                 "--casual", "chitchat"]) == 0
    known, casual = (load_bundle(tmp_path / name).lexicon for name in ("known", "casual"))
    assert "marshmallows" not in casual.words and "pinocchio" not in casual.words
    assert known.display[known.words.index("marshmallows")] == "marshmallows"
    assert known.display[known.words.index("pinocchio")] == "Pinocchio"
    assert "studnet" not in known.words and "lol" not in known.words  # the word list does not know them
    # a name the list writes only with its capital, never so in the chat: not that name ("como estas")
    assert "como" not in known.words
    assert set(known.words) - set(casual.words) == {"marshmallows", "pinocchio"}
    assert known.unknown_total == casual.unknown_total
    assert load_bundle(tmp_path / "known").manifest["lexicon"]["casual_known_words"] == "words"


def test_a_word_list_keeps_a_words_small_letters_where_it_lists_them(tmp_path):
    from model_training.vocabulary import read_word_list

    words = tmp_path / "words"
    words.write_text("Bill\nbill\nHubble\nLondon\nlondon\nNASA\n\n", encoding="utf-8")
    assert read_word_list(words) == {"bill": "bill", "hubble": "Hubble", "london": "london", "nasa": "NASA"}


def test_a_word_list_that_cannot_be_read_is_one_sentence(tmp_path, tiny_bundle, patterned_text, capsys):
    from model_training.add_lexicon import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "prose.txt").write_text(patterned_text + EXTRA, encoding="utf-8")
    (corpus / "chitchat.txt").write_text("we ate marshmallows lol.\n" * 4, encoding="utf-8")
    assert main([str(tiny_bundle), str(corpus), "--out", str(tmp_path / "out"), "--casual", "chitchat",
                 "--known-words", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "cannot read the word list" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
    with pytest.raises(SystemExit):  # a word list without --casual means nothing: said, not ignored
        main([str(tiny_bundle), str(corpus), "--out", str(tmp_path / "out"), "--known-words", str(tmp_path / "w")])
