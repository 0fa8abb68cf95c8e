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
    # both forms of the phrase tables, the engine alone and keyboard-suggest, and issue 17's targets
    for form in ("stored", "compressed"):
        assert f"app      phrase tables {form}" in out and f"engine   phrase tables {form}" in out
        assert f"command  phrase tables {form}" in out
    assert "target   first suggestions <= 0.50 s" in out
