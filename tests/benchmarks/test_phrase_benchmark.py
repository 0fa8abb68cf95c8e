"""benchmarks/phrases.py: the document-copy oracle's phrases, and the whole script run on a
tiny model and a tiny text (every part printed, the mixture's figures beside the network's)."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmark_scripts import ROOT, load

phrases = load("phrases")


def test_a_copy_is_the_longest_run_of_the_next_words_that_followed_the_same_tokens():
    tokens = "click the tools menu . then click the tools menu and the tools".split()
    starts = [2, 8, 12]  # the first "tools", the second, the third
    following = [["tools", "menu"], ["tools", "menu", "and", "the"], ["tools"]]
    assert phrases.copies(tokens, starts, following, 2) == [0, 2, 0]  # the third: one word only
    assert phrases.copies(tokens, starts, following, 3) == [0, 2, 0]  # "click the" both times
    tokens = "we see you . they see you tomorrow . we see".split()
    following = [["you", "tomorrow"]]
    assert phrases.copies(tokens, [len(tokens)], following, 2) == [2]  # after "see": "you tomorrow"
    assert phrases.copies(tokens, [len(tokens)], following, 3) == [0]  # after "we see": only "you ."
    assert phrases.copies(tokens, [len(tokens)], following, 2, window=4) == [0]  # too far back


def test_it_prints_ksr_both_ways_the_oracles_and_the_latency_rows(tiny_bundle, patterned_text, tmp_path):
    text = tmp_path / "story.txt"
    text.write_text(patterned_text[:2000], encoding="utf-8")
    args = [sys.executable, str(ROOT / "benchmarks" / "phrases.py"), str(tiny_bundle), str(text),
            "--words", "80", "--latency-words", "20"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for row in ("KSR@3, first 80 words", "network alone scores", "beam, slot rule", "copy1", "copy2",
                "tables", "word start, phrase (network alone)", "in-word keystroke, no phrases"):
        assert row in done.stdout, row
    data = json.loads(subprocess.run(args + ["--json", "--skip", "latency"], capture_output=True, text=True,
                                     timeout=600).stdout)
    assert data["ksr"]["story"]["words"] == data["ksr_network"]["story"]["words"] == 80
    oracles = data["curve"]["oracles"]
    assert oracles["beam + copy1"] >= max(oracles["beam"], oracles["copy1"])  # the union: at least either
