"""A slip of the model's lexicon (``slips``) in the window: typed in full, the words it means are
offered first, taken whole in one step, and each of them is learned after the one before."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slipped_store(tiny_bundle, patterned_text, tmp_path):
    """The tiny model, given a lexicon, with "metbob" marked as a slip meaning "met bob"."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from mark_identifiers import write_lexicon

    from keyboard_app.engine.bundle import load_bundle
    from keyboard_app.model_store import ModelStore
    from model_training.add_lexicon import add_lexicon

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(patterned_text + "Alice metbob twice: metbob.\n", encoding="utf-8")
    add_lexicon(tiny_bundle, [corpus], tmp_path / "with-lexicon", whole=True)
    bundle = load_bundle(tmp_path / "with-lexicon")
    try:
        assert "metbob" in bundle.lexicon.words
        bundle.lexicon.slips = {"metbob": "met bob"}
        write_lexicon(bundle, bundle.lexicon, tmp_path / "slipped")
    finally:
        bundle.close()
    return ModelStore(default_path=tmp_path / "slipped")


def test_taking_a_slips_correction_types_its_words_and_learns_each(qtbot, make_window, slipped_store):
    window = make_window(model_store=slipped_store)
    assert window.controller.worker.predictor.slips == {"metbob": "met bob"}
    window.learn_action.trigger()  # learning on
    qtbot.keyClicks(window.editor, "Alice metbob")
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["met Bob"], timeout=5000)
    assert window.strip.suggestions()[0].kind == "correction"
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "Alice met Bob "
    personal = window.personal
    assert personal.bigrams["alice"]["met"] == 1 and personal.bigrams["met"]["bob"] == 1
    assert "met bob" not in personal.unigrams
    qtbot.keyClick(window.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo step
    assert window.editor.toPlainText() == "Alice metbob"
