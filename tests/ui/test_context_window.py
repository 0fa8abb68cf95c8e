"""The predictor is given a window of the text before the caret (``ui/context_window.py``):
in a long document a keystroke reads and hands over that window, never the whole text,
and the window gives the engine exactly what the whole text would.

The tiny model was trained on sentences such as "The cat sat on the mat.", so after
"The cat sat on the m" it completes "mat".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from text_helpers import make_patterned_text

from keyboard_app.engine import state_cache
from keyboard_app.engine.completions import CompletionSettings
from keyboard_app.engine.document_cache import RecencySettings
from keyboard_app.ui import context_window
from keyboard_app.ui.context_window import (CONTEXT_TOKENS, CUT_CHARS, FULL_CHARS, MAX_WINDOW_CHARS,
                                            SEARCH_CHARS, WARM_TOKENS, ContextWindow)
from keyboard_app.ui.editor import Editor

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = ROOT / "assets" / "models" / "default"
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture(scope="module")
def long_text() -> str:
    """About 0.8 MB of the patterned text's paragraphs: far more than ``FULL_CHARS``."""
    text = make_patterned_text(paragraphs=60 * 80, seed=11)
    assert len(text) > 4 * FULL_CHARS
    return text


@pytest.fixture
def editor(qtbot):
    widget = Editor()
    qtbot.addWidget(widget)
    return widget


def set_text(editor: Editor, text: str) -> None:
    editor.setPlainText(text)
    editor.moveCursor(QTextCursor.MoveOperation.End)


def move_to(editor: Editor, position: int) -> None:
    cursor = editor.textCursor()
    cursor.setPosition(position)
    editor.setTextCursor(cursor)


class Reads:
    """Counts what the editor reads out of Qt's document (characters), and any whole-text copy."""

    def __init__(self, editor: Editor, monkeypatch) -> None:
        self.chars = 0
        self.whole = 0
        read = editor._read

        def counted(start: int, end: int) -> str:
            text = read(start, end)
            self.chars += len(text)
            return text

        def whole() -> str:
            self.whole += 1
            return Editor.toPlainText(editor)

        monkeypatch.setattr(editor, "_read", counted)
        monkeypatch.setattr(editor, "toPlainText", whole)


def test_the_window_holds_more_than_the_engine_looks_back():
    """The exactness argument rests on these: the engine's windows fit in the cut's."""
    assert RecencySettings().window + 2 <= CONTEXT_TOKENS  # the document cache skips <s> at index 0
    assert CompletionSettings().identifier_window + 1 <= CONTEXT_TOKENS
    assert state_cache.WARM + 1 <= WARM_TOKENS


def test_near_the_start_the_window_is_the_whole_text_before_the_caret(editor, long_text):
    set_text(editor, long_text)
    window = ContextWindow(editor)
    move_to(editor, FULL_CHARS - 5)
    context = window.current()
    assert context.base == 0 and context.text == long_text[: FULL_CHARS - 5]


def test_far_on_the_window_starts_at_a_safe_point_and_holds_enough(editor, long_text):
    set_text(editor, long_text)
    window = ContextWindow(editor)
    context = window.current()
    assert 0 < context.base and window.exact
    assert context.text == long_text[context.base :]
    assert len(context.text) <= SEARCH_CHARS
    assert long_text[context.base - 1].isspace() and not long_text[context.base].isspace()
    assert "\n\n" in long_text[context.base : window.verified]
    assert len(long_text[context.base : window.verified].split()) >= CONTEXT_TOKENS


def test_typing_on_keeps_the_cut_and_an_edit_before_it_makes_a_new_one(qtbot, editor, long_text):
    set_text(editor, long_text)
    window = ContextWindow(editor)
    first = window.current()
    cuts = window.cuts
    qtbot.keyClicks(editor, "The cat sat on the m")
    assert window.current().base == first.base and window.cuts == cuts
    assert window.current().text == first.text + "The cat sat on the m"
    # an edit before the point the cut was verified to: a new cut
    cursor = QTextCursor(editor.document())
    cursor.setPosition(window.verified - 10)
    cursor.insertText("x")
    context = window.current()
    assert window.cuts == cuts + 1
    assert context.text == editor.toPlainText()[context.base :]
    # the caret moved back before that point: another
    verified = window.verified
    move_to(editor, verified - 1)
    context = window.current()
    assert window.cuts == cuts + 2 and context.text == editor.toPlainText()[context.base : verified - 1]
    # back near the start: the whole text before the caret
    move_to(editor, 100)
    assert window.current().base == 0


def test_a_window_that_grew_past_its_limit_is_cut_again(editor, long_text):
    set_text(editor, long_text)
    window = ContextWindow(editor)
    move_to(editor, len(long_text) // 2)
    first = window.current()
    move_to(editor, first.base + MAX_WINDOW_CHARS + CUT_CHARS)
    assert window.current().base > first.base


def test_a_paragraph_longer_than_the_search_is_cut_inexactly_and_said_so(editor):
    sentence = "Alice met Bob in London and they talked about the weather. "
    text = sentence * (2 * SEARCH_CHARS // len(sentence))  # one paragraph, no blank line
    set_text(editor, text)
    window = ContextWindow(editor)
    context = window.current()
    assert not window.exact
    assert 0 < len(context.text) <= CUT_CHARS and context.text == text[context.base :]


def test_a_keystroke_in_a_long_document_reads_no_more_than_it_types(qtbot, window, long_text, monkeypatch):
    editor = window.editor
    set_text(editor, long_text + "\n\n")
    controller = window.controller
    qtbot.waitUntil(lambda: controller._shown_for == controller.window.current().text, timeout=20_000)
    given: list[int] = []
    try_suggest = window.worker.try_suggest
    monkeypatch.setattr(window.worker, "try_suggest", lambda text, k=3: given.append(len(text)) or try_suggest(text, k))
    reads = Reads(editor, monkeypatch)
    typed = "The cat sat on the m"
    qtbot.keyClicks(editor, typed)
    assert window.strip.words()[0] == "mat"
    assert reads.whole == 0  # never toPlainText(), and nothing in proportion to the document:
    assert reads.chars <= 2 * len(typed)  # each edit reads what it put in
    assert len(given) == len(typed) and max(given) <= MAX_WINDOW_CHARS


def test_accepting_in_a_long_document_puts_the_word_at_the_caret_as_one_undo_step(qtbot, window, long_text):
    editor = window.editor
    set_text(editor, long_text + "\n\n")
    qtbot.keyClicks(editor, "The cat sat on the m")
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["mat"], timeout=20_000)
    assert window.controller.window.base > 0  # (the window was cut: offsets go through its base)
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == long_text + "\n\nThe cat sat on the mat "
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == long_text + "\n\nThe cat sat on the m"


def test_accepting_after_an_emoji_in_the_window_counts_qts_positions(qtbot, window, long_text):
    """An emoji is one Python character but two of Qt's units: the word still goes at the caret."""
    editor = window.editor
    set_text(editor, long_text + "\n\nWe \U0001F600 it. ")
    qtbot.keyClicks(editor, "The cat sat on the m")
    qtbot.waitUntil(lambda: window.strip.words()[:1] == ["mat"], timeout=20_000)
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == long_text + "\n\nWe \U0001F600 it. The cat sat on the mat "


def test_auto_correction_in_a_long_document_and_its_backspace(qtbot, window, long_text):
    window.settings.auto_correct = True
    window.apply_preferences()
    editor = window.editor
    set_text(editor, long_text + "\n\n")
    qtbot.keyClicks(editor, "The cat sat on")
    controller = window.controller
    qtbot.waitUntil(lambda: controller._shown_for == controller.window.current().text, timeout=20_000)
    qtbot.keyClicks(editor, " teh ")
    assert editor.toPlainText().endswith("\n\nThe cat sat on the ")
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert editor.toPlainText() == long_text + "\n\nThe cat sat on teh"


def test_the_editors_copy_follows_every_kind_of_edit(qtbot, editor):
    editor.show()
    qtbot.waitExposed(editor)
    editor.setFocus()
    set_text(editor, make_patterned_text(paragraphs=3))

    def check() -> None:
        whole = editor.toPlainText()
        caret = editor.position()
        if caret < 30:
            return
        if whole.isascii() or not any(ord(c) > 0xFFFF for c in whole):
            assert editor.text_between(20, caret) == whole[20:caret]  # the copy, patched or read
            assert editor.text_between(30, caret) == whole[30:caret]  # a later start: served from it
        else:  # an emoji: Qt counts two units for it
            units = whole.encode("utf-16-le", "surrogatepass")
            assert editor.text_between(20, caret) == units[40 : 2 * caret].decode("utf-16-le", "surrogatepass")

    check()
    qtbot.keyClicks(editor, "Hello world")
    check()
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    check()
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    check()
    editor.insertPlainText("pasted\u00a0text\nwith lines\u2028and a separator")
    check()
    move_to(editor, editor.position() - 5)
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    check()
    qtbot.keyClicks(editor, "in the middle")
    check()
    editor.undo()
    check()
    editor.redo()
    check()
    move_to(editor, 10)  # an edit before the copy's start
    qtbot.keyClicks(editor, "early")
    editor.moveCursor(QTextCursor.MoveOperation.End)
    check()
    editor.insertPlainText("caf\u00e9 \U0001F600 done")
    check()
    editor.selectAll()
    qtbot.keyClicks(editor, "x")
    check()
    editor.clear()
    qtbot.keyClicks(editor, "again and again, long enough to read from twenty on")
    check()


def test_typing_at_the_end_of_the_copy_patches_it_and_reads_only_the_typed(qtbot, editor, monkeypatch):
    editor.show()
    qtbot.waitExposed(editor)
    editor.setFocus()
    text = make_patterned_text(paragraphs=200)
    set_text(editor, text)
    assert editor.text_between(1000, editor.position()) == text[1000:]
    reads = Reads(editor, monkeypatch)
    qtbot.keyClicks(editor, "more words")
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert editor.text_between(1000, editor.position()) == text[1000:] + "more word"
    assert reads.chars == len("more words") and reads.whole == 0


@pytest.mark.skipif(not (DEFAULT_MODEL / "manifest.json").is_file(), reason="the default model is not built")
@pytest.mark.parametrize("cut_chars", [CUT_CHARS, 1024])
def test_the_window_gives_the_engine_what_the_whole_text_gives(qtbot, editor, monkeypatch, cut_chars):
    """Bit for bit, with the default model (document cache, phrase tables, lexicon): the whole
    distribution at the caret and the strip, at caret positions of every kind.  With a first
    look back of 1024 characters, the window is as short as its tokens and paragraph allow."""
    from keyboard_app.engine.predictor import Predictor

    monkeypatch.setattr(context_window, "CUT_CHARS", cut_chars)

    # the project's own prose (tracked, so on every checkout; the corpus is built, not tracked),
    # as often as it takes to be long
    prose = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), DEFAULT_MODEL / "MODEL_CARD.md"]
    text = "\n\n".join(p.read_text(encoding="utf-8").strip() for p in prose)
    document = "\n\n".join([text] * (1 + 5 * FULL_CHARS // len(text)))
    # and a last paragraph of ~7,000 tokens (its soft restarts at sentence ends, its start far back)
    long_paragraph = " ".join(document[-250_000:].split())[:40_000]
    document += "\n\n" + long_paragraph
    start = len(document) - len(long_paragraph)
    assert len(document) > 4 * FULL_CHARS
    assert all(ord(c) < 0x10000 for c in document)
    set_text(editor, document)
    window = ContextWindow(editor)
    whole, windowed = Predictor.load(DEFAULT_MODEL), Predictor.load(DEFAULT_MODEL)
    positions = [len(document)]
    for anchor in (0.5, 0.6, 0.7, 0.8, 0.95):
        at = int(start * anchor)  # (in the prose before the long last paragraph)
        paragraph = document.index("\n\n", at) + 2  # the first word of a paragraph
        sentence = document.index(". ", at) + 2  # after a sentence end
        in_word = document.index(" ", at) + 3  # two letters into a word
        positions += [paragraph, sentence, in_word]
    # a look back of 32,768 characters meets the long paragraph's start some 30 tokens in: too
    # few for its warm start, so the window must reach further
    positions += [start + 32_768 - 150, start + 20_000]
    cut = 0
    try:
        for position in sorted(positions):
            move_to(editor, position)  # (Qt's positions are Python offsets only in the BMP: checked below)
            context = window.current()
            before = document[:position]
            assert context.text == before[context.base :]
            cut += context.base > 0
            a, _ = whole.next_word_log_probs(before)
            b, _ = windowed.next_word_log_probs(context.text)
            assert np.array_equal(a, b), position
            strip = [(s.text, s.token, s.log_prob, s.kind) for s in whole.suggest(before, 3)]
            assert strip == [(s.text, s.token, s.log_prob, s.kind) for s in windowed.suggest(context.text, 3)]
    finally:
        whole.close()
        windowed.close()
    assert cut >= len(positions) - 1 and window.exact

