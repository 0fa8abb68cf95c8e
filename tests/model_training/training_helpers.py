"""Helpers for the training tests: predicting straight from a bundle's graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from keyboard_app.engine.bundle import load_bundle
from keyboard_app.engine.tokenizer import BOS, Tokenizer

# (context, the word the pattern says comes next)
PATTERN_CASES = [
    ("The cat sat on the", "mat"),
    ("Alice met Bob in", "london"),
    ("We went to", "paris"),
    ("The dog ran to the", "park"),
]


def next_word(bundle_path: Path, context: str) -> str:
    """The most likely next token after ``context``, straight from the ONNX graph."""
    from model_training.export import ort_session, run_ort

    bundle = load_bundle(bundle_path)
    try:
        ids = bundle.vocab.encode([BOS] + Tokenizer().tokenize(context))
        session = ort_session(bundle.onnx_path)
        zeros = tuple(
            np.zeros((bundle.num_layers, 1, bundle.hidden_size), np.float32)
            for _ in range(2 if bundle.cell == "lstm" else 1)
        )
        log_probs = run_ort(session, np.array([ids], np.int64), zeros)[0]  # (1, vocab)
        return bundle.vocab.tokens[int(log_probs[0].argmax())]
    finally:
        bundle.close()


# A tiny, fast network for keyboard-train's command line (``main``), as the console script runs it.
TINY_ARGS = ["--embedding-dim", "16", "--hidden-size", "24", "--batch-size", "4", "--bptt", "8",
             "--vocab-size", "0", "--min-count", "1", "--heldout-fraction", "0.1", "--quiet",
             "--threads", "1", "--ksr-words", "0", "--warmup", "5", "--lr", "0.01"]


def run_main(capsys, *argv) -> tuple[int, str, str]:
    """keyboard-train's ``main`` on ``argv``: (exit status, stdout, stderr)."""
    from model_training.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err
