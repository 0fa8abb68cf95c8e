"""A word file's display forms: one written as its word is the word's own string (the
JSON parser's copy is dropped), one written otherwise is kept as written."""

from __future__ import annotations

import json

import pytest

from keyboard_app.engine.lexicon import Lexicon
from keyboard_app.engine.tokenizer import SPECIAL_TOKENS
from keyboard_app.engine.vocab import Vocabulary, VocabError


def test_a_vocabulary_s_display_forms_share_the_words_strings(tmp_path):
    tokens = list(SPECIAL_TOKENS) + ["the", "london", "i"]
    display = list(SPECIAL_TOKENS) + ["the", "London", "I"]
    Vocabulary(tokens, display, [1] * len(tokens)).save(tmp_path / "vocab.json")
    vocab = Vocabulary.load(tmp_path / "vocab.json")
    assert vocab.display == display
    the = vocab.tokens.index("the")
    assert vocab.display[the] is vocab.tokens[the]
    london = vocab.tokens.index("london")
    assert vocab.display[london] == "London" and vocab.display[london] is not vocab.tokens[london]


def test_a_lexicon_s_display_forms_share_the_words_strings(tmp_path):
    Lexicon(["gyroscope", "selivanov"], ["gyroscope", "Selivanov"], [3, 2], 10).save(tmp_path / "lexicon.json")
    lexicon = Lexicon.load(tmp_path / "lexicon.json")
    assert lexicon.display == ["gyroscope", "Selivanov"]
    assert lexicon.display[0] is lexicon.words[0]


def test_display_forms_of_another_length_are_still_refused(tmp_path):
    path = tmp_path / "lexicon.json"
    data = Lexicon(["gyroscope", "selivanov"], ["gyroscope", "Selivanov"], [3, 2], 10).to_dict()
    data["display"] = ["gyroscope"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(VocabError, match="differ in length"):
        Lexicon.load(path)
