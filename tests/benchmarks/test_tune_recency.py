"""benchmarks/tune_recency.py: development text apart from the scored words, and a table."""

from __future__ import annotations

import benchmark_scripts
from keyboard_app.engine.tokenizer import Tokenizer, TokenizerSettings

tr = benchmark_scripts.load("tune_recency")


def test_development_text_starts_after_the_skipped_words_at_a_line_start(tmp_path):
    lines = [f"line {i} has words number {i} here" for i in range(100)]  # 5 words a line (numbers are not)
    (tmp_path / "a.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "short.txt").write_text("too short\n")
    texts = tr.dev_texts(tmp_path, Tokenizer(TokenizerSettings()), skip=52, words=20)
    assert list(texts) == ["a"]  # the short text has nothing beyond the skipped words
    # word 52 is in line 10 (words 50..54): the text starts at that line
    assert texts["a"].startswith("line 10 has words")


def test_the_table_has_the_reference_rows_and_each_setting(tmp_path, tiny_bundle, patterned_text, capsys):
    (tmp_path / "held.txt").write_text(patterned_text)
    code = tr.main(["--bundle", str(tiny_bundle), "--heldout", str(tmp_path), "--skip", "200", "--words", "60",
                    "--weights", "0.05,0.1", "--pair-weights", "0", "--triple-weights", "0",
                    "--phrase-weights", "0/0,0.1/0.2"])
    assert code == 0
    out = capsys.readouterr().out
    for row in ("network alone, no lexicon", "network, lexicon and phrases", "default settings, no phrases",
                "default settings", "w 0.05 ", "w 0.1 ", "phrases 0/0 ", "phrases 0.1/0.2 "):
        assert row in out
    assert len([line for line in out.splitlines() if line.startswith("w ")]) == 4
    assert tr.main(["--bundle", str(tiny_bundle), "--heldout", str(tmp_path), "--skip", "10000000"]) == 2
