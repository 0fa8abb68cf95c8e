"""A narrow strip shows the words it can say, not five stubs (H53's finding 1).

Five slots in the narrowest window, at the largest word size of the Preferences,
showed "i…t", "i…l", "i…n" and two lone "…": width was shared, but every slot
kept its share however little was left.  Now the strip shows as many words as fit
legibly (whole, or a long word with ``READABLE_LETTERS`` of its start and end), in
rank order, and hides the slots after them; Alt+n and the screen reader follow
what is shown.
"""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAccessibleEvent

from keyboard_app.settings import MAX_FONT_SIZE
from keyboard_app.ui import strip as strip_module
from keyboard_app.ui.strip import READABLE_LETTERS, WORD_SCALE, SuggestionStrip
from qt_helpers import Word, shown_strip

WORD_SIZE = 13 * WORD_SCALE  # the words' size at the editor's default (13 pt)
LONG = ["international", "internationalize", "internationalization", "internationally", "internationalized"]
SHORT = ["the", "you", "it", "I", "a"]


def visible(strip: SuggestionStrip) -> list:
    return [b for b in strip.buttons if b.isVisible()]


def legible(text: str, word: str) -> bool:
    """``text`` (as drawn) is ``word`` whole, or its start and end around a "…", enough of it."""
    if text == word:
        return True
    head, _, tail = text.partition("…")
    return (word.startswith(head) and word.endswith(tail) and len(head) >= 3 and len(tail) >= 3
            and len(head + tail) >= READABLE_LETTERS - 1)


@pytest.mark.parametrize("size", [WORD_SIZE, MAX_FONT_SIZE], ids=["default size", "largest size"])
@pytest.mark.parametrize("words", [LONG, SHORT], ids=["long words", "short words"])
def test_every_slot_shown_says_its_word_in_the_narrowest_strip(qtbot, size, words):
    strip = shown_strip(qtbot, 5, words, size=size, height=80, settle=True)
    buttons = visible(strip)
    assert buttons, "the first word is always shown"
    assert buttons == strip.buttons[: len(buttons)]  # the first ones, in rank order
    for button, word in zip(buttons, words):
        assert legible(button.word.elided_text(), word), (button.word.elided_text(), word)
    assert strip.shown_count() == len(buttons)
    if words is SHORT and size == WORD_SIZE:
        assert len(buttons) == 5  # where they fit, all five are shown as before


def test_at_the_largest_size_long_words_leave_stubs_out(qtbot):
    # H53: 460 px, 40 pt: "i…t", "i…l", "i…n", "…", "…"
    strip = shown_strip(qtbot, 5, LONG, size=MAX_FONT_SIZE, height=80, settle=True)
    assert 1 <= strip.shown_count() < 5
    assert all(b.word.elided_text() not in ("", "…") for b in visible(strip))


def test_a_wider_strip_brings_the_hidden_words_back(qtbot):
    strip = shown_strip(qtbot, 5, LONG, size=MAX_FONT_SIZE, height=80, settle=True)
    narrow = strip.shown_count()
    strip.resize(3000, 80)
    qtbot.waitUntil(lambda: [b.word.elided_text() for b in visible(strip)] == LONG)
    assert narrow < 5 and strip.shown_count() == 5
    strip.resize(strip.minimumWidth(), 80)
    qtbot.waitUntil(lambda: strip.shown_count() == narrow)


def test_the_screen_reader_hears_the_words_shown_and_a_resize_is_not_announced(qtbot, monkeypatch):
    strip = shown_strip(qtbot, 5, LONG, size=MAX_FONT_SIZE, height=80, settle=True)
    count = strip.shown_count()
    named = ", ".join(f"{i + 1} {w}" for i, w in enumerate(LONG[:count]))
    assert strip.accessibleName() == f"Suggestions: {named}"
    announced: list[str] = []

    class Recorder:  # the strip's QAccessible, recording what would be announced
        @staticmethod
        def updateAccessibility(event: QAccessibleEvent) -> None:  # noqa: N802 - Qt API
            announced.append(event.message())

    monkeypatch.setattr(strip_module, "QAccessible", Recorder)
    strip.resize(3000, 80)
    qtbot.waitUntil(lambda: strip.shown_count() == 5)
    assert strip.accessibleName().endswith("5 internationalized") and announced == []
    strip.set_suggestions([Word(w) for w in SHORT])  # new words are announced, as before
    assert announced == [strip.accessibleName()]


def test_alt_number_of_a_hidden_slot_puts_nothing_in(qtbot, window, monkeypatch):
    window.settings.suggestion_count = 5
    window.settings.strip_font_size = MAX_FONT_SIZE
    window.apply_preferences()
    window.resize(window.minimumWidth(), window.height())
    window.strip.set_suggestions([Word(w) for w in LONG])
    qtbot.waitUntil(lambda: window.strip.width() < 600)
    shown = window.strip.shown_count()
    assert 1 <= shown < 5
    accepted: list[int] = []
    monkeypatch.setattr(window.controller, "accept", lambda i: accepted.append(i) or True)
    for action in window.accept_actions:
        action.trigger()
    assert accepted == list(range(shown))  # Alt+1 … Alt+shown; Alt+5 does not put in an unseen word
    window.never_menu.aboutToShow.emit()
    names = [a.text() for a in window.never_menu.actions()]
    assert names == [f"&{i + 1} {w}" for i, w in enumerate(LONG[:shown])]
