"""benchmarks/eval_speed.py: keyboard-eval timed start to exit, one process and several."""

from __future__ import annotations

import subprocess
import sys

from benchmark_scripts import ROOT


def test_it_prints_both_runs_the_same_figures_and_the_target(tiny_bundle, patterned_text, tmp_path):
    text = tmp_path / "heldout.txt"
    text.write_text(patterned_text * 3, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "eval_speed.py"), str(tiny_bundle), "--words", "300",
         "--texts", str(text)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "keyboard-eval --jobs 1" in out and "same figures: yes" in out and "target   keyboard-eval" in out
