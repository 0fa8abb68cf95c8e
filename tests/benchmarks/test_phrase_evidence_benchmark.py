"""benchmarks/phrase_evidence.py: the rule that chooses b, and the whole script run on a tiny
model and a tiny text (KSR and the lifted strips per b, and H41's examples)."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmark_scripts import ROOT, load

pe = load("phrase_evidence")


def rows(**ksr3):
    """Texts of 1,000 keystrokes each with these KSR@3 (so pooled is their mean)."""
    return {name: {"ksr": {1: 0.0, 3: value, 5: 0.0}, "keystrokes": 1000} for name, value in ksr3.items()}


def test_the_rule_takes_the_largest_b_that_costs_neither_all_texts_nor_one():
    table = {
        0.0: rows(a=50.0, b=60.0),
        1.0: rows(a=50.02, b=59.98),
        2.0: rows(a=49.9, b=60.05),  # pooled -0.025, text a -0.1: fine
        5.0: rows(a=49.8, b=60.2),  # pooled even, but text a -0.2
        10.0: rows(a=49.95, b=59.9),  # pooled -0.075
    }
    assert pe.choose(table) == 2.0
    assert pe.choose({b: table[b] for b in (0.0, 5.0, 10.0)}) == 0.0  # every b > 0 costs more: 0 stays
    assert pe.choose(table, text_margin=0.25) == 5.0
    assert pe.choose({2.0: table[2.0]}) == 0.0  # nothing to compare with


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "phrase_evidence.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_it_prints_ksr_and_the_lifted_strips_per_b(tiny_bundle, patterned_text, tmp_path):
    text = tmp_path / "story.txt"
    text.write_text(patterned_text[:3000], encoding="utf-8")
    done = run(tiny_bundle, "--texts", text, "--max-words", "60", "--evidence", "0,2")
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "story" in out and "\n     0" in out and "\n     2" in out and "\n 2 - 0" in out
    assert "chosen by the rule" in out and "lifted" in out and "rare" in out
    assert "'Hey Sam, '" in out and "b 2 " in out
    data = json.loads(run(tiny_bundle, "--texts", text, "--max-words", "60", "--evidence", "2,0", "--json").stdout)
    assert list(data["ksr"]) == ["0.0", "2.0"]  # in order of b
    assert data["ksr"]["0.0"]["story"]["keystrokes"] == data["ksr"]["2.0"]["story"]["keystrokes"] > 0
    for b in ("0.0", "2.0"):
        counts = data["lifted"][b]["story"]
        assert counts["strips"] == 60 and 0 <= counts["rare"] <= counts["lifted"] <= counts["strips"]
    assert data["chosen"] in (0.0, 2.0)
    assert set(data["examples"][0]["strips"]) == {"0.0", "2.0"}


def test_a_bad_evidence_value_is_one_sentence(tiny_bundle, tmp_path):
    text = tmp_path / "story.txt"  # the built corpus may be absent (a fresh clone)
    text.write_text("The cat sat on the mat.\n", encoding="utf-8")
    done = run(tiny_bundle, "--texts", text, "--evidence", "0,-1")
    assert done.returncode == 2 and "evidence values are numbers >= 0" in done.stderr
    assert "Traceback" not in done.stderr
