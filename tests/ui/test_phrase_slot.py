"""Phrase suggestions in the window: shown after the words, in one slot, taken whole, never in the way.

The tiny model was trained on sentences such as "Alice met Bob in London.", so
after "Alice " it is sure of "met Bob in London" (engine: tests/engine/test_beam*.py).
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import Qt

from keyboard_app.engine.beam import BeamSettings
from keyboard_app.engine.predictor import Predictor


def phrases_for(worker) -> list[tuple[str, str]]:
    """Records (text, phrase) as the worker sends them (the one for the empty document at
    start-up may come at any time, so tests look for their own text)."""
    sent: list[tuple[str, str]] = []
    worker.phrase_ready.connect(lambda generation, text, phrase: sent.append((text, phrase.text)))
    return sent


def phrase_slot(window) -> int | None:
    return next((i for i, s in enumerate(window.strip.suggestions()) if s.kind == "phrase"), None)


def fresh_suggestions(window, text: str) -> list[str]:
    fresh = Predictor.load(window.current_model.path)
    try:
        return [s.text for s in fresh.suggest(text, window.controller.k)]
    finally:
        fresh.close()


def test_the_phrase_follows_the_words_in_a_slot_of_its_own(qtbot, window):
    sent = phrases_for(window.controller.worker)
    qtbot.keyClicks(window.editor, "Alice ")
    assert window.strip.words()[0] == "met"  # the words are there at once
    qtbot.waitUntil(lambda: ("Alice ", "met Bob in London") in sent, timeout=5000)
    qtbot.waitUntil(lambda: phrase_slot(window) is not None, timeout=2000)
    slot = phrase_slot(window)
    assert window.strip.words()[slot] == "met Bob in London"
    assert window.strip.words()[0] == "met" and slot > 0  # after its first word, never Tab's
    button = window.strip.buttons[slot]
    assert button.accessibleName() == f"Suggestion {slot + 1}: met Bob in London (phrase)"
    assert button.property("phrase") is True and button.spacer.text() == "»"
    assert "phrase" in button.toolTip()
    assert window.strip.buttons[0].property("phrase") is not True


def test_taking_the_phrase_types_it_whole_and_the_next_suggestions_are_a_fresh_engines(qtbot, window):
    qtbot.keyClicks(window.editor, "Alice ")
    qtbot.waitUntil(lambda: phrase_slot(window) is not None, timeout=5000)
    slot = phrase_slot(window)
    qtbot.keyClick(window.editor, Qt.Key(Qt.Key.Key_1 + slot), Qt.KeyboardModifier.AltModifier)
    assert window.editor.toPlainText() == "Alice met Bob in London "
    assert window.strip.words() and phrase_slot(window) is None
    assert [s.text for s in window.strip.suggestions() if s.kind != "phrase"] == fresh_suggestions(
        window, "Alice met Bob in London ")
    # one undo step takes the whole phrase back
    qtbot.keyClick(window.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.toPlainText() == "Alice "


def test_backspace_after_a_phrase_behaves_as_after_a_word(qtbot, window):
    qtbot.keyClicks(window.editor, "Alice ")
    qtbot.waitUntil(lambda: phrase_slot(window) is not None, timeout=5000)
    qtbot.mouseClick(window.strip.buttons[phrase_slot(window)], Qt.MouseButton.LeftButton)
    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)
    assert window.editor.toPlainText() == "Alice met Bob in London"
    after_phrase = window.strip.words()
    assert after_phrase == fresh_suggestions(window, "Alice met Bob in London")
    # the same as taking "London" as a word and going back over its space
    window.editor.clear()
    qtbot.keyClicks(window.editor, "Alice met Bob in ")
    assert window.strip.words()[0] == "London"
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)
    assert window.editor.toPlainText() == "Alice met Bob in London"
    assert window.strip.words() == after_phrase


def test_a_budget_that_runs_out_drops_the_phrase_and_the_words_still_come(qtbot, window):
    worker = window.controller.worker
    predictor = worker.predictor
    predictor.phrase_beam = BeamSettings(budget=0.0)
    sent = phrases_for(worker)
    qtbot.keyClicks(window.editor, "Alice ")
    assert window.strip.words()[0] == "met"
    qtbot.waitUntil(lambda: predictor.phrase_stats.dropped, timeout=5000)
    qtbot.wait(200)
    assert phrase_slot(window) is None and not [text for text, _ in sent if text == "Alice "]


def test_a_slow_step_never_holds_up_the_words_of_the_next_keystrokes(qtbot, window):
    """Every step of the beam takes 300 ms (the budget is 5 ms): a keystroke typed while it
    runs gets its words from the UI thread at once, and the phrase is dropped."""
    worker = window.controller.worker
    predictor = worker.predictor
    session = predictor.session
    run = session.run
    stepping = threading.Event()

    def slow(tokens, state):
        if threading.current_thread() is not threading.main_thread():  # the worker's beam
            stepping.set()
            time.sleep(0.3)
        return run(tokens, state)

    session.run = slow
    predictor.phrase_beam = BeamSettings()  # the app's budget (the suite's is a second: conftest)
    sent = phrases_for(worker)
    qtbot.keyClicks(window.editor, "Alice ")
    assert window.strip.words()[0] == "met"
    qtbot.waitUntil(stepping.is_set, timeout=5000)  # the beam is in its first step
    started = time.perf_counter()
    qtbot.keyClicks(window.editor, "m")
    assert time.perf_counter() - started < 0.15  # not after the beam's step
    assert window.strip.words()[0] == "met"
    qtbot.waitUntil(lambda: predictor.phrase_stats.dropped, timeout=5000)
    qtbot.wait(200)
    assert phrase_slot(window) is None and not [text for text, _ in sent if text == "Alice "]


def test_no_phrase_inside_a_word_nor_when_phrases_are_off(qtbot, window):
    sent = phrases_for(window.controller.worker)
    qtbot.keyClicks(window.editor, "Alice m")
    qtbot.wait(300)
    assert phrase_slot(window) is None and "Alice m" not in [text for text, _ in sent]
    window.controller.offer_phrases = False
    qtbot.keyClicks(window.editor, "et ")  # a word start: "Bob in London" would follow
    qtbot.wait(300)
    assert phrase_slot(window) is None and "Alice met " not in [text for text, _ in sent]


def test_without_auto_capitals_a_phrase_at_a_sentence_start_is_written_as_its_words(qtbot, window):
    from keyboard_app.engine.ranking import Suggestion

    controller = window.controller
    controller.auto_capitalise, controller.offer_phrases = False, False  # the phrase is ours
    qtbot.keyClicks(window.editor, "Alice met Bob in London. ")
    words = window.strip.suggestions()
    assert any(w.text == "the" for w in words)  # the words were lowercased
    best = words[0].log_prob + 1.0
    for text, expected in (("The cat sat", "the cat sat"), ("Alice met Bob", "Alice met Bob")):
        phrase = Suggestion(text, text.lower(), best, False, kind="phrase")
        controller._on_phrase(controller._generation, window.editor.text_before_cursor(), phrase)
        assert window.strip.suggestions()[phrase_slot(window)].text == expected
        window.strip.set_suggestions(words)  # as shown before the phrase came
        controller._shown_words = words


def test_the_phrase_slot_is_tinted_but_only_the_first_slot_is_framed_in_the_highlight(qtbot, window):
    """High contrast drew two yellow frames, the first slot's and the phrase's, and which one Tab
    takes was unclear (H77): the phrase keeps its tint, its frame is any slot's."""
    from PySide6.QtGui import QPalette

    qtbot.keyClicks(window.editor, "Alice ")
    qtbot.waitUntil(lambda: phrase_slot(window) is not None, timeout=5000)
    strip, slot = window.strip, phrase_slot(window)
    highlight = strip.colors().color(QPalette.ColorRole.Highlight)

    def frame(i):  # the colour of a button's left border, half way down
        image = strip.buttons[i].grab().toImage()
        return image.pixelColor(0, image.height() // 2)

    def near(a, b):
        return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) < 60

    assert near(frame(0), highlight)  # the first slot: Tab's
    assert not near(frame(slot), highlight)
    other = next(i for i in range(len(strip.suggestions())) if i not in (0, slot))
    assert near(frame(slot), frame(other))
