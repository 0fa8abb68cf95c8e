"""``keyboard-app --self-test`` from source: the code the frozen build runs, checked quickly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from keyboard_app import selftest
from keyboard_app.engine.predictor import Suggestion
from keyboard_app.engine.tokenizer import SPECIAL_TOKENS, Tokenizer, TokenizerSettings
from keyboard_app.engine.vocab import Vocabulary

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = ROOT / "assets" / "models" / "default"


def run_app(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "keyboard_app", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_self_test_passes_and_prints_its_figures(shipped_model):
    result = run_app("--self-test", "--model", str(shipped_model))
    assert result.returncode == 0, result.stdout + result.stderr
    for heading in ("load time:", "first suggestion:", "keystroke inside a word:",
                    "keystroke after a word", "self-test passed"):
        assert heading in result.stdout
    assert "Qt: not loaded" in result.stdout
    assert result.stderr == ""


def test_self_test_uses_the_built_in_model_by_default():
    if not (DEFAULT_MODEL / "manifest.json").is_file():
        pytest.skip("assets/models/default is not there yet")
    result = run_app("--self-test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"model: {DEFAULT_MODEL}" in result.stdout


def test_self_test_fails_with_one_line_naming_a_missing_model(tmp_path):
    missing = tmp_path / "no-such-bundle"
    result = run_app("--self-test", "--model", str(missing))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"self-test FAILED: the model does not load: {missing}: no such model bundle."
    ]


def test_self_test_fails_if_the_engine_pulls_in_torch(shipped_model):
    # In a fresh process: this one has imported torch and onnx to train the tiny model.
    code = ("import sys, types; sys.modules['torch'] = types.ModuleType('torch'); "
            "from keyboard_app.selftest import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "--model", str(shipped_model)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "self-test FAILED: the engine loaded torch;" in result.stdout


VOCAB = Vocabulary(
    tokens=[*SPECIAL_TOKENS, ".", "green", "red", "don't"],
    display=[*SPECIAL_TOKENS, ".", "green", "red", "don't"],
    counts=[0] * len(SPECIAL_TOKENS) + [5, 4, 3, 2],
)


@pytest.mark.parametrize(
    "text, shown, problem",
    [
        ("I like ", ["green", "red"], None),
        ("I like gr", ["green"], None),
        ("I like GR", ["GREEN"], None),
        ("I don", ["don't"], None),
        ("I like gr", [], None),  # no completion known: allowed
        ("I like ", [], "no suggestions"),
        ("I like ", ["<unk>"], "is not a word"),
        ("I like ", ["42"], "is not a word"),
        ("I like ", ["."], "is not a word"),
        ("I like ", ["blue"], "neither a word the model knows nor one typed before"),
        ("I like ", ["azure"], None),  # a lexicon word
        ("Blue, I like ", ["blue"], None),  # typed before: the document cache may suggest it
        ("I like gr", ["red"], "does not complete 'gr'"),
    ],
)
def test_suggestions_must_be_words_of_the_model(text, shown, problem):
    partial = text.rsplit(" ", 1)[1]
    suggestions = [Suggestion(s, s.lower(), -1.0, bool(partial)) for s in shown]
    check = (text, partial, suggestions, VOCAB, {"azure"}, Tokenizer(TokenizerSettings()))
    if problem is None:
        selftest._check_suggestions(*check)
    else:
        with pytest.raises(selftest.SelfTestFailure, match=problem):
            selftest._check_suggestions(*check)
