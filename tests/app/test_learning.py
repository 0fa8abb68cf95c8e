"""The personal layer: counts only, prefix candidates, forgetting, storage."""

from __future__ import annotations

import json

import pytest

from keyboard_app import paths
from keyboard_app.engine.mixture import MixtureWeights
from keyboard_app.learning import PersonalLayer, PersonalModel


def typed(model: PersonalModel, text: str) -> None:
    previous = "<s>"
    for i, word in enumerate(text.split()):
        model.observe(previous, word, initial=(i == 0))
        previous = word.lower()


def test_counts_words_and_pairs_not_text():
    model = PersonalModel()
    typed(model, "We flew to Zanzibar and then to Zanzibar again")
    data = model.to_dict()
    assert data["unigrams"]["zanzibar"] == 2
    assert data["bigrams"]["to"]["zanzibar"] == 2
    assert "We flew to" not in json.dumps(data)  # only counts, never the sentence


def test_candidates_follow_the_previous_word_and_prefix():
    model = PersonalModel()
    typed(model, "to Zanzibar to Zanzibar to Zambia we went")
    after_to = model.candidates("to", "")
    assert after_to[0].token == "zanzibar" and after_to[0].display == "Zanzibar"
    assert [c.token for c in model.candidates("to", "zam")] == ["zambia"]
    assert model.candidates("to", "q") == []
    total = sum(c.prob for c in model.candidates("to", "", limit=100))
    assert total == pytest.approx(1.0)


def test_sentence_initial_capital_is_not_the_written_form():
    model = PersonalModel()
    model.observe("<s>", "Then", initial=True)
    model.observe("and", "then")
    assert model.display("then") == "then"
    model.observe("<s>", "McDonald", initial=True)
    assert model.display("mcdonald") == "mcdonald"  # no evidence yet
    model.observe("met", "McDonald")
    assert model.display("mcdonald") == "McDonald"


@pytest.mark.parametrize("word", ["", "42", "x" * 100, "a-b", "<s>", "http"])
def test_only_words_are_learned(word):
    model = PersonalModel()
    learned = model.observe("<s>", word)
    assert learned == (word == "http")


def test_forget_and_block():
    model = PersonalModel()
    typed(model, "hello Zanzibar hello Zanzibar")
    assert model.forget("Zanzibar")
    assert not model.knows("zanzibar")
    assert "zanzibar" not in model.bigrams.get("hello", {})
    assert not model.forget("zanzibar")
    model.block("hello")
    assert model.candidates("<s>", "") == []
    model.clear()
    assert len(model) == 0 and not model.blocked


def test_the_layers_share_grows_with_use():
    model = PersonalModel()
    layer = PersonalLayer(model)
    weights = MixtureWeights()
    assert layer.share(weights) == 0
    typed(model, "one two")
    small = layer.share(weights)
    typed(model, "word " * 200)
    assert 0 < small < layer.share(weights) < weights.personal


def test_save_load_round_trip():
    model = PersonalModel()
    typed(model, "Alice met Zanzibar")
    model.block("met")
    path = paths.learned_data_path()
    model.save(path)
    loaded, problem = PersonalModel.load(path)
    assert problem is None
    assert loaded.to_dict() == model.to_dict()
    assert loaded.total == model.total


def test_corrupt_file_is_set_aside_once():
    path = paths.learned_data_path()
    path.parent.mkdir(parents=True)
    path.write_text("{broken", encoding="utf-8")
    model, problem = PersonalModel.load(path)
    assert len(model) == 0 and problem and "set aside" in problem
    assert path.with_name(path.name + ".corrupt").exists()
    _, again = PersonalModel.load(path)
    assert again is None


def test_block_refuses_a_phrase_so_the_session_and_the_saved_file_agree():
    model = PersonalModel()
    assert not model.block("of the")
    assert model.block("Hello")
    assert model.blocked == {"hello"}
    path = paths.learned_data_path()
    model.save(path)
    loaded, problem = PersonalModel.load(path)
    assert problem is None and loaded.blocked == model.blocked
