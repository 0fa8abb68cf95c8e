"""benchmarks/learned_words_save.py: a row for each way of saving, the ratio line; the file it
builds is one the app reads without a word dropped."""

from __future__ import annotations

import benchmark_scripts
from keyboard_app.learning import PersonalModel
from keyboard_app.storage import atomic_write_json

lws = benchmark_scripts.load("learned_words_save")


def test_the_built_file_is_read_whole(tmp_path, caplog):
    path = tmp_path / "personal.json"
    atomic_write_json(path, lws.counts_file(300, 900))
    with caplog.at_level("WARNING"):
        model, problem = PersonalModel.load(path)
    assert problem is None and caplog.records == []
    assert 250 < len(model) <= 300 and sum(map(len, model.bigrams.values())) > 800


def test_a_row_per_case_and_the_ratios(capsys):
    assert lws.main(["--words", "400", "--pairs", "1200", "--runs", "2", "--tick-ms", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    labels = ["idle (no save)", "UI thread (before)", "saver, file ours", "saver, file changed"]
    rows = {label: line[len(label):].split() for line in out for label in labels if line.startswith(label)}
    assert list(rows) == labels and all(len(r) == 4 for r in rows.values())
    save, call = map(float, rows["UI thread (before)"][:2])
    assert abs(1000 * save - call) <= 5  # before, the UI thread paid the whole save (s vs ms, rounded)
    assert any(line.startswith("UI thread's longest stall, before / after: saver, file ours ") for line in out)
    assert out[-1].startswith("the model's lock for the snapshot: deep copy (before) ")


def test_bad_arguments_are_one_sentence(capsys):
    import pytest

    with pytest.raises(SystemExit) as stop:
        lws.main(["--runs", "0"])
    assert stop.value.code == 2 and "--runs must be at least 1" in capsys.readouterr().err
