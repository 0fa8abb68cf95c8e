"""benchmarks/completion_hygiene.py: KSR per text with the strip's rules off, on and one by
one, the identifier count and the issue's examples (a tiny model, a tiny text)."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmark_scripts import ROOT


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "completion_hygiene.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_it_prints_every_variant_per_text_and_the_examples(tiny_bundle, patterned_text, tmp_path):
    text = tmp_path / "story.txt"
    text.write_text(patterned_text[:3000], encoding="utf-8")
    done = run(tiny_bundle, "--texts", text, "--max-words", "60")
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for row in ("before", "after", "typed word first", "capitals", "identifiers", "after - before"):
        assert f"\n{row}" in out, row
    assert "story" in out and "The quick" in out and "See you by Fri" in out
    assert "marks no identifiers" in done.stderr  # the tiny bundle has none: said, not hidden
    data = json.loads(run(tiny_bundle, "--texts", text, "--max-words", "60", "--variants", "before,after",
                          "--json").stdout)
    before, after = data["ksr"]["before"]["story"], data["ksr"]["after"]["story"]
    assert before["keystrokes"] == after["keystrokes"] > 0
    assert set(data["examples"][0]) == {"text", "problem", "before", "after"}


def test_an_unknown_variant_is_one_sentence(tiny_bundle, tmp_path):
    text = tmp_path / "story.txt"  # the built corpus may be absent (a fresh clone)
    text.write_text("The cat sat on the mat.\n", encoding="utf-8")
    done = run(tiny_bundle, "--texts", str(text), "--variants", "before,sideways")
    assert done.returncode == 2 and "unknown variant(s) sideways" in done.stderr
    assert "Traceback" not in done.stderr
