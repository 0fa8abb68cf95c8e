"""benchmarks/osk_injection.py: both injectors' rows and the ratios, under its own Xvfb."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from benchmark_scripts import ROOT


@pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("xterm") is None,
                    reason="needs Xvfb and xterm (Debian: xvfb, xterm)")
def test_it_prints_both_injectors_and_the_ratios():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "osk_injection.py"), "--rounds", "3"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "3 rounds of 'Hello, Zoë! ' (12 characters)" in out
    for row in ("xtest   p50 ", "pynput  p50 ", "ratio   xtest / pynput p50: ", "ratio   xtest / pynput p99: "):
        assert row in out, row
