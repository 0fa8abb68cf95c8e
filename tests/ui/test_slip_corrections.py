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


def test_a_corrections_two_words_cannot_be_chosen_to_never_suggest(qtbot):
    """Blocking keeps single words: the strip's menu does not offer to block "a lot" (it said
    it could not, after offering), as for a phrase; a one-word correction can be blocked."""
    from qt_helpers import Word

    from keyboard_app.ui.strip import SuggestionStrip

    strip = SuggestionStrip(slots=3)
    qtbot.addWidget(strip)
    strip.set_suggestions([Word("a lot", "a lot", kind="correction"), Word("the", "the", kind="correction")])
    blocks = [[a for a in strip.context_menu(i).actions() if a.text().startswith("&Never")][0] for i in (0, 1)]
    assert not blocks[0].isEnabled() and blocks[1].isEnabled()


def test_a_model_file_refused_in_the_background_is_one_line_in_the_log(qtbot, caplog):
    """A background task's failure the user is told of in one sentence (a file that is no
    model, a full disk) is logged in one line; an unexpected one keeps its traceback."""
    import errno

    from keyboard_app.engine.bundle import ModelLoadError
    from keyboard_app.ui.tasks import Task

    def fails(error):
        def run():
            raise error
        return run

    for error, traceback in [(ModelLoadError("x.zip is not a model"), False), (OSError(errno.ENOSPC, "full"), False),
                             (AttributeError("a defect"), True)]:
        caplog.clear()
        task = Task(fails(error))
        with qtbot.waitSignal(task.failed, timeout=5000):
            task.start()
        task.wait()
        logged = [r for r in caplog.records if "background task failed" in r.getMessage()]
        assert len(logged) == 1 and bool(logged[0].exc_info) is traceback, error
