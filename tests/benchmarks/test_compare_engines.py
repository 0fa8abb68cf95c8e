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


def changed_checkout(tmp_path, path: str, old: str, new: str):
    """A copy of this checkout's package with one line of ``path`` changed."""
    shutil.copytree(benchmark_scripts.ROOT / "keyboard_app", tmp_path / "other" / "keyboard_app",
                    ignore=shutil.ignore_patterns("__pycache__"))
    changed = tmp_path / "other" / "keyboard_app" / path
    source = changed.read_text()
    assert source.count(old) == 1
    changed.write_text(source.replace(old, new))
    return tmp_path / "other"


def test_a_tolerance_lets_last_bits_move_but_not_the_words(tmp_path, tiny_bundle, patterned_text, capsys):
    """A mixture whose numbers moved by 1e-5 differs exactly, and is the same within 1e-4,
    which the output counts apart; a changed weight still differs within 1e-4."""
    other = changed_checkout(tmp_path, "engine/mixture.py", "        v += self._added\n",
                             "        v += self._added + 1e-5\n")
    (tmp_path / "text.txt").write_text(patterned_text)
    common = ["--before", str(other), "--bundle", str(tiny_bundle), "--text", str(tmp_path / "text.txt"),
              "--chars", "300", "--setups", "engine"]
    assert compare.main(common) == 1
    capsys.readouterr()
    assert compare.main(common + ["--tolerance", "1e-4"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("identical")
    moved = next(line for line in out.splitlines() if line.startswith("within the tolerance"))
    lists, dists = (int(word.replace(",", "")) for word in moved.split() if word.replace(",", "").isdigit())
    assert lists > 100 and dists > 10
    assert 5e-6 < float(moved.split()[-1]) < 1e-4  # the largest move

    weighted = changed_checkout(tmp_path / "w", "engine/document_cache.py", "weight: float = 0.1  #",
                                "weight: float = 0.2  #")
    common[1] = str(weighted)
    assert compare.main(common + ["--tolerance", "1e-4"]) == 1
    assert "first differences:" in capsys.readouterr().out
