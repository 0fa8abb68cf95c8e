"""benchmarks/compare_presage.py: both sides score the same words and keystrokes.

The parts that need Presage (Debian's ``presage`` package) are skipped where it
is not installed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import benchmark_scripts
from keyboard_app.engine.tokenizer import Tokenizer

cp = benchmark_scripts.load("compare_presage")
needs_presage = pytest.mark.skipif(
    shutil.which("presage_simulator") is None or shutil.which("text2ngram") is None,
    reason="Presage is not installed (apt-get install presage)",
)

# Presage's ForwardTokenizer: these bytes and blanks separate words.
PRESAGE_SEPARATORS = set(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \f\n\r\t\v")


def presage_keystrokes(text: str) -> int:
    """kn as presage_simulator counts it: bytes of each word, plus one."""
    kn, word = 0, b""
    for byte in text.encode("utf-8") + b" ":
        if byte in PRESAGE_SEPARATORS:
            if word:
                kn += len(word) + 1
            word = b""
        else:
            word += bytes([byte])
    return kn


MIXED = (
    "\u201cDon\u2019t panic,\u201d said Zo\u00eb \u2014 it's 3:30 in Z\u00fcrich.\n"
    "See https://example.org or mail me@example.org; well-known caf\u00e9s, 42 of them!\n\n"
    "New paragraph... The end\n"
)


@pytest.mark.parametrize(
    ("surface", "expected"),
    [("Caf\u00e9", "cafe"), ("Don't", "don't"), ("Z\u00dcRICH", "zurich"), ("na\u00efve", "naive")],
)
def test_presage_form_lowercases_and_folds_accents(surface, expected):
    assert cp.presage_form(surface) == expected


def test_presage_is_given_exactly_the_words_we_score(tmp_path):
    text = cp.HeldoutText.load(_write(MIXED, tmp_path), Tokenizer(), max_words=None)
    assert text.words == [
        "Don't", "panic", "said", "Zoë", "it's", "in", "Zürich", "See", "or", "mail",
        "well", "known", "cafés", "of", "them", "New", "paragraph", "The", "end",
    ]
    # No number, URL or e-mail address, no punctuation; no trailing blank.
    assert text.presage_text.split() == [cp.presage_form(w) for w in text.words]
    assert not text.presage_text.endswith(("\n", " "))
    # An apostrophe is a keystroke for us and a word break for Presage: same kn.
    assert presage_keystrokes(text.presage_text) == cp.keystrokes(text.words)


def test_max_words_cuts_both_sides_at_the_same_word(tmp_path):
    text = cp.HeldoutText.load(_write(MIXED, tmp_path), Tokenizer(), max_words=5)
    assert text.words == ["Don't", "panic", "said", "Zoë", "it's"]
    assert text.text.endswith("it's")
    assert text.presage_text == "don't panic said zoe it's"


def test_missing_presage_exits_2_with_one_sentence(monkeypatch, capsys):
    monkeypatch.setattr(cp.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as exit_info:
        cp.check_presage()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "apt-get install presage" in err and err.count("\n") == 0


def test_config_turns_learning_off_and_shows_k(tmp_path):
    config = cp.write_config(tmp_path, tmp_path / "db.sqlite", 4, cp.DEFAULT_PREDICTORS, repeat=True)
    xml = config.read_text()
    assert "<SUGGESTIONS>4</SUGGESTIONS>" in xml
    assert "<ONLINE_LEARNING>no</ONLINE_LEARNING>" in xml
    assert "<LEARN>true" not in xml
    assert "<REPEAT_SUGGESTIONS>yes</REPEAT_SUGGESTIONS>" in xml
    assert f"<DBFILENAME>{tmp_path / 'db.sqlite'}</DBFILENAME>" in xml
    assert "$" not in xml


@needs_presage
def test_simulator_scores_our_keystrokes(tmp_path, patterned_text):
    tokenizer = Tokenizer()
    corpus = tmp_path / "train.txt"
    corpus.write_text(patterned_text)
    work = tmp_path / "work"
    work.mkdir()
    database = cp.build_database([corpus], tokenizer, work, rebuild=False)
    assert cp.build_database([corpus], tokenizer, work, rebuild=False) == database  # reused
    cp.build_database([corpus], tokenizer, work, rebuild=True)  # an existing database is replaced
    config = cp.write_config(work, database, 3, cp.DEFAULT_PREDICTORS, repeat=True)
    env = cp.presage_env(work)

    held = cp.HeldoutText.load(_write(MIXED + patterned_text[:400], tmp_path), tokenizer, None)
    words_file = tmp_path / "held.words.txt"
    words_file.write_text(held.presage_text)
    result = cp.finish_simulator(cp.start_simulator(config, words_file, env))

    assert result.kn == cp.keystrokes(held.words)
    assert result.ksr == pytest.approx(100 * (1 - (result.ki + result.ks - 1) / result.kn))
    assert 0 < result.ksr < 100
    assert not any((work / "home").iterdir())  # nothing learnt into a profile


@needs_presage
def test_latency_worker_times_each_keystroke(tmp_path, patterned_text):
    corpus = tmp_path / "train.txt"
    corpus.write_text(patterned_text)
    database = cp.build_database([corpus], Tokenizer(), tmp_path, rebuild=False)
    config = cp.write_config(tmp_path, database, 3, cp.DEFAULT_PREDICTORS, repeat=True)
    seconds = cp.presage_latency(config, cp.presage_env(tmp_path), ["the", "cat", "sat"], 2)
    assert len(seconds) == len("the") + len("cat")
    assert all(s > 0 for s in seconds)


@needs_presage
def test_end_to_end_with_a_tiny_bundle(tmp_path, tiny_bundle, patterned_text, capsys, monkeypatch):
    corpus = tmp_path / "train"
    corpus.mkdir()
    (corpus / "patterned.txt").write_text(patterned_text)
    held = _write(patterned_text[-600:] + "\n" + MIXED, tmp_path)
    out = tmp_path / "out.json"
    code = cp.main([
        "--bundle", str(tiny_bundle), "--train-corpus", str(corpus), "--heldout", str(held),
        "--work", str(tmp_path / "work"), "--max-words", "60", "--latency-words", "5",
        "--json", str(out),
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "KSR Presage" in printed and "total" in printed
    report = json.loads(out.read_text())
    (row,) = report["rows"]
    assert row["words"] == 60
    assert row["kn_ours"] == row["kn_presage"]
    assert report["latency"]["ours"]["n"] == report["latency"]["presage"]["n"] > 0
    # a second run with the same database, settings and words reuses the simulator's result
    calls = []
    monkeypatch.setattr(cp, "start_simulator", lambda *a: calls.append(a) or pytest.fail("simulator rerun"))
    again = tmp_path / "again.json"
    assert cp.main([
        "--bundle", str(tiny_bundle), "--train-corpus", str(corpus), "--heldout", str(held),
        "--work", str(tmp_path / "work"), "--max-words", "60", "--latency-words", "0", "--json", str(again),
    ]) == 0
    assert json.loads(again.read_text())["rows"][0]["presage"] == row["presage"] and not calls


def _write(text: str, folder: Path) -> Path:
    path = folder / "heldout.txt"
    path.write_text(text, encoding="utf-8")
    return path
