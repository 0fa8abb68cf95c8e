"""benchmarks/heldout_table.py: bundles side by side on held-out texts."""

from __future__ import annotations

import benchmark_scripts

table = benchmark_scripts.load("heldout_table")


def test_one_row_per_text_and_the_mean_with_the_engines_figures(tmp_path, tiny_bundle, patterned_text, capsys):
    from keyboard_app.engine.evaluate import evaluate
    from keyboard_app.engine.predictor import Predictor

    heldout = tmp_path / "heldout"
    heldout.mkdir()
    (heldout / "a.txt").write_text(patterned_text[:600])
    (heldout / "b.txt").write_text(patterned_text[600:1400])
    assert table.main([str(tiny_bundle), str(tiny_bundle), "--heldout", str(heldout), "--words", "40"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[2:]] == ["a", "b", "mean"]
    predictor = Predictor.load(tiny_bundle)
    expected = evaluate(predictor, [patterned_text[:600]], ks=(3,), max_words=40).ksr[3]
    predictor.close()
    assert lines[2].split()[1] == f"{expected:.2f}" and "(+0.00)" in lines[2]


def test_no_held_out_texts_is_one_sentence(tmp_path, tiny_bundle, capsys):
    assert table.main([str(tiny_bundle), "--heldout", str(tmp_path)]) == 2
    assert "no held-out .txt files" in capsys.readouterr().err
