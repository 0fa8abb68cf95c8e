"""benchmarks/startup_stages.py: the app's start-up, stage by stage, from a real start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmark_scripts import ROOT


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "startup_stages.py"), *args],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def rows(out: str) -> dict[str, list[str]]:
    """Each stage's first row, by its name: thread, start, end, wall, cpu, all cpu, RSS, peak."""
    found: dict[str, list[str]] = {}
    for line in out.splitlines()[2:]:
        name, *rest = line.split()
        if rest and rest[0] in ("main", "worker"):
            found.setdefault(name, rest)
    return found


@pytest.mark.parametrize("first", [False, True])
def test_the_app_is_probed_from_import_to_first_suggestions(tiny_bundle, first):
    out = run("--model", str(tiny_bundle), *(["--first"] if first else []))
    assert out.startswith("first start" if first else "later start")
    stages = rows(out)
    for name in ("create_application", "MainWindow.__init__", "load_predictor", "load_bundle", "_verify_files",
                 "Predictor.__init__", "LexiconIndex.__init__", "Predictor.suggest", "ElidingStatusBar.paintEvent"):
        assert name in stages, name
    assert stages["load_predictor"][0] == "worker" and stages["MainWindow.__init__"][0] == "main"
    start, end = float(stages["load_bundle"][1]), float(stages["load_bundle"][2])
    assert 0 < start <= end <= float(stages["load_predictor"][2])  # nested inside the load
    assert "peak memory (max RSS)" in out


def test_the_engine_alone_runs_on_one_thread_with_python_objects(tiny_bundle):
    stages = rows(run("--model", str(tiny_bundle), "--engine-only", "--tracemalloc"))
    assert "MainWindow.__init__" not in stages and {row[0] for row in stages.values()} == {"main"}
    assert len(stages["Vocabulary.load"]) == 10  # the two tracemalloc columns too
