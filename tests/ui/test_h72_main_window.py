"""The main window as a newcomer met it at an X server (H72): the strip's slots keep their
place while typing, a long status message leaves the model's name and the keystroke count in
view, F10 opens the first menu, and Help says what a correction and a phrase look like."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu, QTextBrowser

from keyboard_app.ui.strip import READABLE_LETTERS, SuggestionStrip
from qt_helpers import Word, shown_strip

# Words of ordinary length, as the strip shows them at successive keystrokes.
KEYSTROKES = [
    ["the", "I", "it", "a", "you"],
    ["because", "before", "between", "behind", "beautiful"],
    ["interest", "internet", "interpreter", "interesting", "interests"],
    ["think", "thinking", "thinks"],  # fewer words than slots: the others stay, empty
    ["information", "instance", "in", "individual", "instrument"],
]


def geometry(strip: SuggestionStrip) -> list[tuple[int, int, bool]]:
    """Where each slot is: its left edge, its width, whether it is shown."""
    return [(b.x(), b.width(), b.isVisible()) for b in strip.buttons[: strip.slot_count()]]


def drawn(strip: SuggestionStrip) -> list[str]:
    return [b.word.elided_text() for b in strip.buttons[: len(strip.suggestions())]]


@pytest.mark.parametrize("slots, width", [(5, 900), (3, 900), (5, 1366), (3, 500)])
def test_the_slots_keep_their_place_and_width_while_typing(qtbot, slots, width):
    # With five slots the width was shared by the words' lengths: every keystroke moved them.
    strip = shown_strip(qtbot, slots, KEYSTROKES[0], width=width)
    before = geometry(strip)
    assert all(shown for _, _, shown in before)
    assert max(w for _, w, _ in before) - min(w for _, w, _ in before) <= 1  # equal shares
    for words in KEYSTROKES[1:]:
        strip.set_suggestions([Word(w) for w in words])
        qtbot.wait(1)
        assert geometry(strip) == before, words
        assert drawn(strip) == words[:slots]  # nothing elided
        assert strip.shown_count() == len(words[:slots])


def test_a_long_word_is_drawn_smaller_in_its_slot_before_the_slots_move(qtbot):
    strip = shown_strip(qtbot, 5, KEYSTROKES[0], width=900)
    before = geometry(strip)
    strip.set_suggestions([Word(w) for w in ("international", "internationally", "internal",
                                             "internet", "interested")])
    qtbot.wait(1)
    assert geometry(strip) == before
    assert drawn(strip)[1] == "internationally"
    assert strip.buttons[1].word.drawn_font().pointSizeF() <= strip.buttons[1].word.font().pointSizeF()


def test_a_word_too_long_for_its_share_takes_room_rather_than_be_elided(qtbot):
    # Stable, but fair: a word that cannot fit its equal share even drawn smaller is not
    # elided beside short words drawn larger than they must be (H62); the width goes to it.
    strip = shown_strip(qtbot, 5, KEYSTROKES[0], width=900)
    words = ["internal", "international", "internally", "internals", "internationalization"]
    strip.set_suggestions([Word(w) for w in words])
    qtbot.wait(1)
    assert drawn(strip) == words
    assert strip.buttons[4].width() > strip.buttons[0].width()


MIXED = ["the", "information", "internationalization", "a", "presidential"]


def test_across_widths_the_slots_are_equal_with_every_word_whole_or_fitted_to_the_words(qtbot):
    # Stable where it can be: at every width either the five slots are equal and every word
    # whole, or the width is fitted to the words as before (H53, H62), each legible.
    strip = shown_strip(qtbot, 5, MIXED)
    seen_equal = seen_fitted = False
    for width in range(strip.minimumWidth(), 1500, 23):
        strip.resize(width, 52)
        qtbot.wait(1)
        shown = [b for b in strip.buttons if b.isVisible()]
        texts = [b.word.elided_text() for b in shown]
        if len(shown) == 5 and max(b.width() for b in shown) - min(b.width() for b in shown) <= 1:
            seen_equal = True
            assert texts == MIXED, (width, texts)
        else:
            seen_fitted = True
            for text, word in zip(texts, MIXED):
                head, _, tail = text.partition("…")
                assert text == word or (word.startswith(head) and word.endswith(tail)
                                        and len(head + tail) >= READABLE_LETTERS - 1), (width, texts)
    assert seen_equal and seen_fitted


# --- the status bar ------------------------------------------------------------------------
LONG_MESSAGE = ("Could not save the learned words to /home/someone/.local/share/predictive-keyboard/"
                "learned.json (No space left on device); the file keeps what was saved before.")


@pytest.mark.parametrize("width", [900, 600])
def test_a_long_message_is_elided_and_the_fields_stay_in_view(qtbot, window, width):
    window.resize(width, 600)
    qtbot.waitUntil(lambda: window.width() <= max(width, window.minimumWidth()))
    bar = window.statusBar()
    bar.showMessage(LONG_MESSAGE)
    assert window.model_label.isVisible() and window.ksr_label.isVisible()
    assert window.model_label.width() > 0 and window.ksr_label.width() > 0
    shown = bar.elided_message()
    assert shown.endswith("…") and LONG_MESSAGE.startswith(shown[:-1])
    assert bar.fontMetrics().horizontalAdvance(shown) <= bar.message_rect().width()
    assert bar.message_rect().right() < window.model_label.geometry().left()  # never drawn over them
    assert len(shown) >= 20  # the message keeps room to say something
    assert bar.toolTip() == LONG_MESSAGE
    assert window.ksr_label.text().startswith("Keystrokes saved")
    bar.clearMessage()
    assert window.model_label.isVisible() and window.ksr_label.isVisible()
    assert window.model_label.elided_text() == window.model_label.text()  # whole again
    assert bar.toolTip() == ""


# --- F10 ------------------------------------------------------------------------------------
def test_f10_opens_the_file_menu_and_esc_gives_the_keyboard_back(qtbot, window):
    window.editor.setPlainText("Dear ")
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    qtbot.keyClick(window.editor, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=2_000)
    menu = QApplication.activePopupWidget()
    assert menu.title() == "&File"
    assert window.editor.toPlainText() == "Dear "  # the key typed nothing
    qtbot.keyClick(menu, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None, timeout=2_000)
    qtbot.waitUntil(window.editor.hasFocus, timeout=2_000)
    qtbot.keyClicks(QApplication.focusWidget(), "ff")
    assert window.editor.toPlainText() == "Dear ff"


def test_shift_f10_is_not_taken_for_the_menus(qtbot, window):
    qtbot.keyClick(window.editor, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    qtbot.wait(10)
    assert not isinstance(QApplication.activePopupWidget(), QMenu)


# --- Help -----------------------------------------------------------------------------------
def test_help_says_what_corrections_and_phrases_are(qtbot, window):
    window.shortcuts_action.trigger()
    box = window.findChild(QTextBrowser).window()
    qtbot.waitExposed(box)
    text = box.findChild(QTextBrowser).toPlainText()
    assert "italics, underlined" in text and "replaces the word you typed" in text
    assert "»" in text and "phrase" in text and "several words" in text
    assert "F10" in text
    box.close()


def test_f10_in_an_open_menu_closes_it(qtbot, window):
    qtbot.keyClick(window.editor, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=2_000)
    menu = QApplication.activePopupWidget()
    assert menu.activeAction() is window.new_action  # its first item chosen, as Alt+F does
    qtbot.keyClick(menu, Qt.Key.Key_Right)  # the next menu (Edit), by the arrows as before
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() not in (None, menu), timeout=2_000)
    qtbot.keyClick(QApplication.activePopupWidget(), Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None, timeout=2_000)
    qtbot.waitUntil(window.editor.hasFocus, timeout=2_000)
    qtbot.keyClicks(QApplication.focusWidget(), "ok")
    assert window.editor.toPlainText() == "ok"


STATUS_MESSAGE = "Saved my_document_with_a_long_name_about_the_quarterly_report_of_the_committee.txt."


@pytest.mark.parametrize("width", [600, 450])
def test_a_long_message_is_the_one_cut_the_models_name_stays_readable(qtbot, window, width):
    """H74: after Save As to a long name a 600 px window showed the message whole and
    "Model: English (de…", 450 px "Mo…": the message is the one to shorten (its whole in the
    tooltip) while it keeps a third of the bar; only then does the name give way, a little."""
    window.resize(width, 500)
    qtbot.waitUntil(lambda: window.width() <= max(width, window.minimumWidth()))
    window.statusBar().showMessage(STATUS_MESSAGE)
    qtbot.wait(50)
    name = window.model_label.elided_text()
    whole = window.model_label.text()
    assert name == whole if width == 600 else (name.startswith("Model: ") and len(name) >= len(whole) * 2 // 3), name
    shown = window.statusBar().elided_message()
    assert shown.endswith("…") and STATUS_MESSAGE.startswith(shown[:-1])
