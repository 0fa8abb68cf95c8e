"""benchmarks/large_document.py: opens a small and a large document in the real window and types."""

from __future__ import annotations

import re
import subprocess
import sys

from benchmark_scripts import ROOT, load


def test_the_documents_are_built_from_the_texts_in_their_paragraphs():
    script = load("large_document")
    text = script.build_document(["One two.\n\nThree.", "Four five."], 100)
    assert 60 <= len(text) <= 102 and text.endswith("\n\n")
    assert text.startswith("One two.\n\nThree.\n\nFour five.\n\nOne two.")


def test_it_prints_both_documents_and_their_ratios(tiny_bundle, patterned_text, tmp_path):
    corpus = tmp_path / "text.txt"
    corpus.write_text(patterned_text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "large_document.py"), "--model", str(tiny_bundle),
         "--small-kb", "20", "--large-mb", "0.5", "--keys", "8", "--gap-ms", "5", "--text", str(corpus)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    assert re.match(r"small\s+[\d,]+\s+[\d.]+\s+[\d.]+", rows["small"])
    assert re.match(r"large\s+[\d,]+\s+[\d.]+\s+[\d.]+", rows["large"])
    assert len(re.findall(r"[\d.]+x", rows["ratio"])) == 8  # the size and seven figures
