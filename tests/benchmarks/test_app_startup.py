"""benchmarks/app_startup.py: launches the real app and reads its first-suggestion time."""

from __future__ import annotations

import subprocess
import sys

from benchmark_scripts import ROOT


def test_it_prints_the_app_and_baseline_figures(tiny_bundle):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "app_startup.py"), "--model", str(tiny_bundle), "--runs", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "first suggestions" in out and "bare Qt window shown" in out and "ratio" in out
