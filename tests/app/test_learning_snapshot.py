"""A save's snapshot of the learned words shares the rows of the counts (copy on write,
``learning``): whatever the model does after it, the snapshot keeps the counts of its
moment, and the file written is the counts, row for row."""

from __future__ import annotations

import copy
import json

import pytest

from keyboard_app.learning import PersonalModel, _Counts, _Difference


def learned() -> PersonalModel:
    model = PersonalModel()
    text = "we met Frabnitz at the arbour and Frabnitz met Zorbulon at the gate".split()
    for previous, word in zip(["<s>", *text], text):
        model.observe(previous, word)
    model.observe(".", "Then", initial=True)
    model.block("gate")
    return model


def frozen(counts: _Counts) -> dict:
    return copy.deepcopy(counts.to_dict())


@pytest.mark.parametrize("change", [
    lambda m: m.observe("met", "Frabnitz"),  # a row the snapshot shares
    lambda m: m.observe("arbour", "and"),
    lambda m: m.observe("brand", "new"),  # a new row
    lambda m: m.forget("met"),  # a follower of several rows
    lambda m: m.forget("frabnitz"),
    lambda m: m._prune(),  # every word seen once
    lambda m: m.clear(),
    lambda m: m.unblock("gate"),
], ids=["a shared row", "another shared row", "a new row", "a follower of several rows", "a word with rows",
        "a prune", "a clear", "an unblock"])
def test_the_snapshot_keeps_its_moment_whatever_the_model_does_next(change):
    model = learned()
    with model._lock:
        snapshot = model._shared_copy()
    at_the_time = frozen(snapshot)
    change(model)
    model.observe("met", "Frabnitz")  # and more learning after that
    assert snapshot.to_dict() == at_the_time
    assert json.loads(snapshot.to_json()) == at_the_time


def test_what_other_copies_added_is_taken_in_without_touching_the_snapshot():
    model = learned()
    with model._lock:
        snapshot = model._shared_copy()
    at_the_time = frozen(snapshot)
    merged = snapshot.shallow()
    merged.bigrams = {**merged.bigrams, "met": {**merged.bigrams["met"], "zorbulon": 5}}
    merged.forms = {**merged.forms, "zorbulon": {"Zorbulon": 9}}
    _Difference.between(merged, snapshot).apply(model)
    assert model.bigrams["met"]["zorbulon"] == 5 and model.forms["zorbulon"]["Zorbulon"] == 9
    assert snapshot.to_dict() == at_the_time


def test_a_save_writes_the_counts_row_for_row_and_learning_during_it_waits(tmp_path):
    model = learned()
    path = tmp_path / "personal.json"
    model.save(path)
    assert json.loads(path.read_text(encoding="utf-8")) == model.to_dict()
    loaded, problem = PersonalModel.load(path)
    assert problem is None and loaded.to_dict() == model.to_dict()
    # a row the saved base shares, changed after the save, is counted once at the next
    loaded.observe("met", "Frabnitz")
    loaded.save(path)
    again, _ = PersonalModel.load(path)
    assert again.bigrams["met"]["frabnitz"] == model.bigrams["met"]["frabnitz"] + 1
    assert again.unigrams == loaded.unigrams


def test_the_written_text_is_plain_json_a_row_a_line():
    model = learned()
    text = model._shared_copy().to_json()
    assert json.loads(text) == model.to_dict()
    lines = text.splitlines()
    assert '"met":{"frabnitz":1,"zorbulon":1},' in lines
    assert '"frabnitz":2,' in lines
