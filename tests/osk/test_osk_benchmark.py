"""benchmarks/osk_keystrokes.py runs on the real widget and types the text exactly."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_benchmark():
    spec = importlib.util.spec_from_file_location("osk_keystrokes", ROOT / "benchmarks" / "osk_keystrokes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["osk_keystrokes"] = module
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_counts_activations_and_scan_steps(qapp, tiny_bundle, tmp_path, capsys):
    text = tmp_path / "held-out.txt"
    text.write_text("The cat sat on the mat. Alice met Bob in London. We went to Paris on Monday.\n",
                    encoding="utf-8")
    benchmark = load_benchmark()
    assert benchmark.main([str(tiny_bundle), "--text", str(text), "--words", "16", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    runs = {run["name"]: run for run in figures["runs"]}
    assert figures["words"] == 16 and figures["left_out_characters"] == 0
    plain, suggested = runs["pointer"], runs["pointer + suggestions"]
    assert plain["activations"] == len("The cat sat on the mat. Alice met Bob in London. We went to Paris on") + 6
    assert suggested["accepts"] > 0 and suggested["activations"] < plain["activations"]
    assert runs["scan"]["activations"] == plain["activations"]
    assert runs["scan + suggestions"]["scan_steps"] < runs["scan"]["scan_steps"]
    assert set(figures["latency_ms"]) >= {"row_updated", "row_painted"}
