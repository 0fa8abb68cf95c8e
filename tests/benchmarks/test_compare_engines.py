"""benchmarks/compare_engines.py: two checkouts of the engine typed side by side."""

from __future__ import annotations

import shutil

import benchmark_scripts

compare = benchmark_scripts.load("compare_engines")


def test_the_same_code_is_identical_keystroke_for_keystroke(tmp_path, tiny_bundle, patterned_text, capsys):
    (tmp_path / "text.txt").write_text(patterned_text)
    code = compare.main(["--before", str(benchmark_scripts.ROOT), "--bundle", str(tiny_bundle),
                         "--text", str(tmp_path / "text.txt"), "--chars", "300", "--setups", "engine,personal"])
    out = capsys.readouterr().out
    assert code == 0 and out.rstrip().endswith("identical")
    rows = [row for row in map(str.split, out.splitlines()) if len(row) == 7 and row[3].isdigit()]
    assert [(row[2], row[3], row[4], row[5]) for row in rows] == [("engine", "301", "0", "0"),
                                                                  ("personal", "301", "0", "0")]
    assert "after/before p50" in out


def test_a_changed_weight_is_reported(tmp_path, tiny_bundle, patterned_text, capsys):
    """A checkout whose document cache weighs twice as much: other log-probabilities."""
    shutil.copytree(benchmark_scripts.ROOT / "keyboard_app", tmp_path / "other" / "keyboard_app",
                    ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "other" / "keyboard_app" / "engine" / "document_cache.py"
    source = cache.read_text()
    assert source.count("weight: float = 0.1  #") == 1
    cache.write_text(source.replace("weight: float = 0.1  #", "weight: float = 0.2  #"))
    (tmp_path / "text.txt").write_text(patterned_text)
    code = compare.main(["--before", str(tmp_path / "other"), "--bundle", str(tiny_bundle),
                         "--text", str(tmp_path / "text.txt"), "--chars", "300", "--setups", "engine"])
    out = capsys.readouterr().out
    assert code == 1
    assert "first differences:" in out and "log-probabilities differ" in out
    assert not out.rstrip().endswith("identical")


def test_a_folder_without_the_package_is_one_sentence(tmp_path):
    try:
        compare.main(["--before", str(tmp_path), "--text", __file__])
    except SystemExit as e:
        assert str(e) == f"{tmp_path} holds no keyboard_app package"
    else:
        raise AssertionError("no error")
