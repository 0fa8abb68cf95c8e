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
