"""benchmarks/keystroke_latency.py: every row, issue 17's ratios and targets, on a tiny model."""

from __future__ import annotations

import subprocess
import sys

from benchmark_scripts import ROOT


def test_it_prints_every_row_and_the_targets(tiny_bundle):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "keystroke_latency.py"), str(tiny_bundle),
         "--words", "80", "--paste-words", "40", "--naive-samples", "4", "--document-words", "0",
         "--paragraph-words", "200", "--gap-ms", "1"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for row in ("in-word keystroke", "word boundary", "first word of a paragraph", "same, not run ahead",
                "mix + top 3 (the engine's)", "same, candidates only", "same, as before",
                "in-word, typo tolerance on", "same pass, tolerance off", "same pass, rules off"):
        assert row in out, row
    assert "ratio   paragraph start, not run ahead / run ahead" in out
    assert "ratio   in-word keystroke, typo tolerance on / off (CPU p99)" in out
    assert "target  in-word keystroke, typo tolerance on, p99 <= 1.0 ms" in out
    assert "target  word boundary p99 <= 1.0 ms" in out and "target  in-word keystroke p99 <= 0.3 ms" in out
