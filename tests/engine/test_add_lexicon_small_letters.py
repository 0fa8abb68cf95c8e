"""``model_training.add_lexicon`` counts the small letters of the words written with a capital
(lexicon.json's ``small_letters``, H56): inside a sentence only, of the vocabulary's words and
the lexicon's, and only those ever written small."""

from __future__ import annotations

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
