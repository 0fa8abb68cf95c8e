"""benchmarks/boundary_stages.py: the stages of a word boundary, its slowest ones, and
onnxruntime's options, on a tiny model."""

from __future__ import annotations

import re
import subprocess
import sys

from benchmark_scripts import ROOT


def test_it_prints_the_stages_the_slowest_boundaries_and_the_options(tiny_bundle, patterned_text, tmp_path):
    text = tmp_path / "text.txt"
    text.write_text(patterned_text)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "boundary_stages.py"), str(tiny_bundle), "--text", str(text),
         "--words", "300", "--onnx-steps", "60", "--session-options"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    boundaries = int(re.search(r"every word boundary: (\d+) boundaries", out).group(1))
    assert boundaries > 250
    slowest = re.search(r"the slowest 1% of boundaries by CPU time \((\d+)\)", out)
    assert slowest and int(slowest.group(1)) == max(1, boundaries // 100)
    cells = re.search(r"ran a whole cell: (\d+) of (\d+) \(all: (\d+) of (\d+)\)", out)
    assert cells and int(cells.group(4)) == boundaries and 0 < int(cells.group(3)) < boundaries
    assert re.search(rf"saw a garbage collection: \d+ of {slowest.group(1)} \(all: \d+ of {boundaries}\)", out)
    assert "minor page faults, mean:" in out and "whole-vocabulary array" in out
    options = re.findall(r"^  (.+?)\s+p50\s+[\d.]+ us\s+p99\s+[\d.]+ us\s+/ the engine's: p50 ([\d.]+)x", out, re.M)
    assert [name for name, _ in options] == ["the engine's options", "denormals as zero", "no memory arena",
                                             "no memory pattern", "extended optimisation"]
    assert options[0][1] == "1.00"
