"""Issue 18, a new user's first hour: elided text, where Save As starts and the mode it
writes, encodings, and the friction list (zoom, contrast, never-suggest from the keyboard,
the learned-words list, paused learning shown, the retrain dialog's mnemonics and memory)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontMetrics, QPalette
from PySide6.QtWidgets import QAbstractButton, QFileDialog, QLabel, QMessageBox

from keyboard_app.ui import appearance
from keyboard_app.ui.strip import MIN_SLOT_WIDTH, contrast_ratio, muted_color
from qt_helpers import Word


def type_text(qtbot, window, text: str) -> None:
    qtbot.keyClicks(window.editor, text)


def fits(label) -> bool:
    metrics = QFontMetrics(label.drawn_font())
    return metrics.horizontalAdvance(label.elided_text()) <= label.contentsRect().width()


# --- bug 5: clipped text -----------------------------------------------------------------

def test_a_long_word_is_elided_at_its_end_not_cut_on_both_sides(qtbot, window):
    window.resize(200, 600)  # its narrowest: at 500 px the long word has the room to fit whole
    qtbot.waitUntil(lambda: window.width() <= window.minimumWidth())
    # (a word too long to fit whole even drawn smaller: "internationalization" now fits at
    # this width, the width shared by what each word lacks, not by what it needs)
    window.strip.set_suggestions([Word("antidisestablishmentarianism"), Word("international"), Word("in")])
    qtbot.wait(1)
    label = window.strip.buttons[0].word
    shown = label.elided_text()
    # the typed start and the distinguishing end stay: never "ntidisestablishmentarianis"
    assert shown.startswith("antid") and "…" in shown and shown.endswith("ism")
    assert fits(label)
    assert window.strip.buttons[1].word.elided_text() != shown  # the two can be told apart
    assert window.strip.buttons[2].word.elided_text() == "in"


def test_the_hidden_note_is_elided_and_whole_in_its_tooltip(qtbot, window):
    window.resize(500, 600)
    type_text(qtbot, window, "The cat ")
    qtbot.keyClick(window.editor, Qt.Key.Key_Escape)
    button = window.strip.buttons[0]
    note = "Hidden — keep typing to bring them back"
    assert button.word.text() == note and button.toolTip() == note
    qtbot.wait(1)
    shown = button.word.elided_text()
    assert shown.startswith("Hidden")  # never "en — keep typing to bring them"
    assert shown == note or shown.endswith("…")
    assert fits(button.word)


def test_the_strip_has_a_minimum_width_each_slot_keeps(qtbot, window):
    window.resize(200, 600)  # narrower than the strip allows
    qtbot.wait(1)
    assert window.strip.minimumWidth() >= 3 * MIN_SLOT_WIDTH
    assert window.strip.width() >= window.strip.minimumWidth()
    assert all(b.width() >= MIN_SLOT_WIDTH for b in window.strip.buttons[:3])


def test_status_messages_are_elided_and_whole_in_the_tooltip(qtbot, window):
    window.resize(500, 600)
    qtbot.wait(1)
    bar = window.statusBar()
    message = "The words learned in this session could not be saved to a very long path " * 2
    bar.showMessage(message)
    # the model's name and the keystroke count stay in view (H72), the message elided beside them
    assert window.model_label.isVisible() and window.ksr_label.isVisible()
    shown = bar.elided_message()
    assert shown.endswith("…") and message.startswith(shown[:-1]) and len(shown) >= 20  # (a third of 500 px)
    assert bar.toolTip() == message
    bar.clearMessage()
    assert window.model_label.isVisible() and window.ksr_label.isVisible()
    bar.showMessage("Saved.")
    assert bar.elided_message() == "Saved." and bar.toolTip() == ""
    assert window.model_label.isVisible()  # a short message leaves them be


def test_the_import_dialog_title_is_short(qtbot, window, monkeypatch):
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda parent, title, *a, **k: (asked.append(title), ("", ""))[1]))
    window.import_model_dialog()
    assert asked and len(asked[0]) <= 30, asked  # "Import a Model (choose a .zip, or the ma…"


# --- bug 6: Save As's folder, the new file's mode ------------------------------------------

def test_save_as_starts_in_home_not_the_working_directory(qtbot, window, monkeypatch, tmp_path):
    home, elsewhere = tmp_path / "home", tmp_path / "started-here"
    home.mkdir()
    elsewhere.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda parent, title, start, *a, **k: (asked.append(start), ("", ""))[1]))
    type_text(qtbot, window, "Dear Alice")
    window.save_as_action.trigger()
    assert Path(asked[0]).parent == home
    window.settings.last_directory = str(elsewhere)  # a folder the user saved in before
    window.save_as_action.trigger()
    assert Path(asked[1]).parent == elsewhere


@pytest.fixture
def umask():
    def set_umask(value: int) -> None:
        os.umask(value)

    old = os.umask(0o022)
    os.umask(old)
    yield set_umask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_a_new_document_gets_the_mode_of_the_umask(qtbot, window, boxes, tmp_path, umask, mask, mode):
    umask(mask)
    target = tmp_path / "letter.txt"
    type_text(qtbot, window, "Dear Alice")
    boxes.files.append(target)
    assert window.save_document()
    assert stat.S_IMODE(target.stat().st_mode) == mode  # not 0600


def test_an_existing_file_keeps_its_mode(qtbot, window, tmp_path, umask):
    umask(0o022)
    doc = tmp_path / "private.txt"
    doc.write_text("secret", encoding="utf-8")
    doc.chmod(0o600)
    window.open_document(doc)
    type_text(qtbot, window, " notes")
    assert window.save_document()
    assert stat.S_IMODE(doc.stat().st_mode) == 0o600


# --- bug 7: encodings -----------------------------------------------------------------------

def when_encoding_box_shows(window, action) -> None:
    """Run ``action(box)`` once the encoding question is up (polled: it is modal)."""
    tries = [500]  # about five seconds, then give up (the test then fails on its asserts)

    def poll() -> None:
        box = window.findChild(QMessageBox, "encodingBox")
        if box is not None and box.isVisible():
            action(box)
            return
        tries[0] -= 1
        if tries[0] > 0:
            QTimer.singleShot(10, window, poll)  # dropped if the window goes

    QTimer.singleShot(0, window, poll)


def answer_encoding_box(qtbot, window, button_name: str | None, seen: list):
    """Click ``button_name`` (or Cancel when None) in the encoding question when it shows."""

    def click(box) -> None:
        seen.append(box.text())
        if button_name is None:
            box.button(QMessageBox.StandardButton.Cancel).click()
        else:
            box.findChild(QAbstractButton, button_name).click()

    when_encoding_box_shows(window, click)


def open_latin1(window, tmp_path) -> Path:
    doc = tmp_path / "old.txt"
    doc.write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    assert window.open_document(doc)
    return doc


def test_saving_a_latin1_file_asks_and_can_keep_latin1(qtbot, window, tmp_path):
    doc = open_latin1(window, tmp_path)
    window.editor.insertPlainText(" br\xfbl\xe9e")  # keyClicks is for ASCII
    seen: list = []
    answer_encoding_box(qtbot, window, "keepEncoding", seen)
    assert window.save_document()
    assert seen and "Latin-1" in seen[0] and "old.txt" in seen[0]
    assert doc.read_bytes() == "Caf\xe9 cr\xe8me br\xfbl\xe9e".encode("latin-1")
    type_text(qtbot, window, ".")
    assert window.save_document()  # asked once: the answer holds for this document
    assert len(seen) == 1 and doc.read_bytes().endswith("\xe9e.".encode("latin-1"))


def test_saving_a_latin1_file_can_convert_it_to_utf8(qtbot, window, tmp_path):
    doc = open_latin1(window, tmp_path)
    answer_encoding_box(qtbot, window, "convertToUtf8", [])
    type_text(qtbot, window, "!")
    assert window.save_document()
    assert doc.read_bytes() == "Caf\xe9 cr\xe8me!".encode("utf-8")


def test_cancelling_the_encoding_question_writes_nothing(qtbot, window, tmp_path):
    doc = open_latin1(window, tmp_path)
    before = doc.read_bytes()
    type_text(qtbot, window, "!")
    answer_encoding_box(qtbot, window, None, [])
    assert not window.save_document()
    assert doc.read_bytes() == before and window.isWindowModified()


def test_text_latin1_cannot_hold_is_offered_only_utf8(qtbot, window, tmp_path):
    doc = open_latin1(window, tmp_path)
    window.editor.insertPlainText(" \u2014 \u20ac5")  # an em dash and a euro sign: not in Latin-1
    seen: list = []

    def check_and_convert(box) -> None:
        seen.append(box.findChild(QAbstractButton, "keepEncoding").isVisible())
        box.findChild(QAbstractButton, "convertToUtf8").click()

    when_encoding_box_shows(window, check_and_convert)
    assert window.save_document()
    assert seen == [False]
    assert doc.read_bytes().decode("utf-8").endswith("\u2014 \u20ac5")


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
    bytes(range(1, 32)) * 20 + b"\xff\xfe\xfd",  # control characters, no NUL, not UTF-8
])
def test_a_binary_file_is_refused_with_one_sentence(qtbot, window, boxes, tmp_path, data):
    type_text(qtbot, window, "kept")
    window.editor.document().setModified(False)
    blob = tmp_path / "picture.png"
    blob.write_bytes(data)
    assert not window.open_document(blob)
    assert boxes.kinds() == ["critical"]
    [text] = boxes.texts()
    assert "picture.png is not a text file" in text and text.count(".") <= 2 and "\n" not in text
    assert window.editor.toPlainText() == "kept" and window.document_path is None


def test_utf8_and_utf16_files_are_written_back_as_they_were(qtbot, window, tmp_path):
    for name, data in (("bom.txt", "\ufeffna\xefve".encode("utf-8")), ("wide.txt", "na\xefve".encode("utf-16"))):
        doc = tmp_path / name
        doc.write_bytes(data)
        assert window.open_document(doc)
        assert window.editor.toPlainText() == "na\xefve"
        if name == "wide.txt":
            answer_encoding_box(qtbot, window, "keepEncoding", [])
        assert window.save_document()
        assert doc.read_bytes() == data


# --- friction -------------------------------------------------------------------------------

def test_zoom_enlarges_the_strip_too(qtbot, window):
    before = window.strip.buttons[0].word.font().pointSizeF()
    for _ in range(3):
        window.zoom_in_action.trigger()
    after = window.strip.buttons[0].word.font().pointSizeF()
    assert after == pytest.approx(before + 3 * 1.25)
    window.zoom_reset_action.trigger()
    assert window.strip.buttons[0].word.font().pointSizeF() == pytest.approx(before)


@pytest.mark.parametrize("palette", [appearance.light_palette(), appearance.dark_palette(),
                                     appearance.light_palette(True), appearance.dark_palette(True)])
def test_slot_numbers_meet_wcag_aa_contrast(palette):
    base = palette.color(QPalette.ColorRole.Base)
    assert contrast_ratio(muted_color(palette), base) >= 4.5


def test_the_strips_numbers_use_the_accessible_colour(window):
    base = window.strip.colors().color(QPalette.ColorRole.Base)
    hint = window.strip.hint_color()
    assert contrast_ratio(hint, base) >= 4.5
    assert hint.name() in window.strip.styleSheet()
    assert "placeholder-text" not in window.strip.styleSheet()  # ~#808080 on white: 3.9:1


def test_never_suggest_from_the_keyboard_and_undo_it(qtbot, window):
    type_text(qtbot, window, "The cat sat on the ")
    assert "mat" in window.strip.words()
    window._fill_never_menu()  # what opening Suggestions ▸ Never Suggest does
    labels = [a.text() for a in window.never_menu.actions()]
    index = window.strip.words().index("mat")
    assert labels[index] == f"&{index + 1} mat"
    window.never_menu.actions()[index].trigger()
    assert "mat" not in window.strip.words()
    assert window.unblock_last_action.isEnabled() and "mat" in window.unblock_last_action.text()
    window.unblock_last_action.trigger()
    assert "mat" in window.strip.words()
    assert not window.unblock_last_action.isEnabled()


def learn(qtbot, window, text: str) -> None:
    window.learn_action.trigger()
    type_text(qtbot, window, text)


def test_the_forget_dialog_selects_nothing_so_enter_forgets_nothing(qtbot, window):
    learn(qtbot, window, "aardvark zebra ")
    dialog = window.forget_word_dialog()
    qtbot.waitExposed(dialog)
    assert dialog.list.selectedItems() == []
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    qtbot.keyClick(dialog.list, Qt.Key.Key_Return)
    assert window.personal.knows("aardvark") and window.personal.knows("zebra")
    dialog.close()


def test_learned_and_blocked_words_can_be_searched_and_removed_one_by_one(qtbot, window):
    learn(qtbot, window, "aardvark zebra zebu ")
    window.personal.block("mat")
    dialog = window.learned_words_dialog()
    assert {"aardvark", "zebra", "zebu", "mat"} <= set(dialog.words())
    qtbot.keyClicks(dialog.search, "zeb")
    assert sorted(dialog.words()) == ["zebra", "zebu"]
    assert not dialog.remove_button.isEnabled()
    dialog.list.setCurrentItem(next(dialog.list.topLevelItem(i) for i in range(dialog.list.topLevelItemCount())
                                    if dialog.list.topLevelItem(i).text(0) == "zebu"))
    dialog.remove_button.click()
    assert not window.personal.knows("zebu") and window.personal.knows("zebra")
    assert dialog.words() == ["zebra"]
    dialog.search.clear()
    item = next(dialog.list.topLevelItem(i) for i in range(dialog.list.topLevelItemCount())
                if dialog.list.topLevelItem(i).text(0) == "mat")
    assert "never" in item.text(1)
    dialog.list.setCurrentItem(item)
    dialog.remove_button.click()
    assert "mat" not in window.personal.blocked
    # Delete removes the chosen word from the list, but only edits text in the search field
    item = next(dialog.list.topLevelItem(i) for i in range(dialog.list.topLevelItemCount())
                if dialog.list.topLevelItem(i).text(0) == "aardvark")
    dialog.list.setCurrentItem(item)
    dialog.search.setFocus()
    qtbot.keyClick(dialog.search, Qt.Key.Key_Delete)
    assert window.personal.knows("aardvark")
    dialog.list.setFocus()
    qtbot.keyClick(dialog.list, Qt.Key.Key_Delete)
    assert not window.personal.knows("aardvark") and "aardvark" not in dialog.words()
    dialog.close()


def test_paused_learning_shows_in_the_status_bar(qtbot, window):
    assert window.learning_label.isHidden()
    window.learn_action.trigger()
    assert window.learning_label.isHidden()
    window.pause_action.trigger()
    assert window.learning_label.isVisible() and "paused" in window.learning_label.text().lower()
    window.pause_action.trigger()
    assert window.learning_label.isHidden()


def mnemonics(widget) -> list[str]:
    texts = [w.text() for w in widget.findChildren(QAbstractButton) + widget.findChildren(QLabel)
             if w.isVisibleTo(widget)]
    return [m.group(1).lower() for t in texts for m in re.finditer(r"&([^&\s])", t)]


def test_the_retrain_dialogs_mnemonics_are_unique(qtbot, window):
    window.open_retrain_dialog()
    dialog = window.retrain_dialog
    if not dialog.available:
        pytest.skip("training is not installed here")
    for page in (dialog.setup_page, dialog.training_page, dialog.results_page):
        keys = mnemonics(page)
        assert len(keys) == len(set(keys)), keys
    assert "&" in dialog.start_button.text()
    dialog.close()


def test_the_retrain_dialog_remembers_the_chosen_files(qtbot, window, tmp_path):
    window.open_retrain_dialog()
    dialog = window.retrain_dialog
    if not dialog.available:
        pytest.skip("training is not installed here")
    mine = tmp_path / "mine.txt"
    mine.write_text("Some words of mine.\n", encoding="utf-8")
    dialog.add_corpus_paths([mine])
    dialog.close()
    qtbot.waitUntil(lambda: window.retrain_dialog is None)
    assert window.settings.retrain_sources == [str(mine.absolute())]
    window.open_retrain_dialog()
    assert window.retrain_dialog.corpus_paths() == [mine.absolute()]
    window.retrain_dialog.close()


def test_the_unsaved_changes_box_answers_to_alt_letters(qtbot, window):
    # Issue 18 (friction): "Discard" had no mnemonic.  Qt's static boxes take no button
    # texts, so every message box gets free letters underlined as it is shown.
    SB = QMessageBox.StandardButton
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved Changes", "Save the changes?",
                      SB.Save | SB.Discard | SB.Cancel, window)
    box.open()
    qtbot.waitExposed(box)
    texts = [box.button(b).text() for b in (SB.Save, SB.Discard, SB.Cancel)]
    letters = [t[t.index("&") + 1].lower() for t in texts]
    assert all("&" in t for t in texts) and len(set(letters)) == 3, texts
    assert texts[1].replace("&", "") == "Discard"
    box.close()


def test_a_learned_word_that_is_blocked_is_listed_once_and_the_list_reads_in_dictionary_order(qtbot, window):
    """Found by a hostile tester (stop 26): "Frabnitz" learned and then blocked was
    listed twice, and words with capitals came before every small one."""
    learn(qtbot, window, "Frabnitz met Zorbulon at the arbour with Frabnitz ")
    window.personal.block("Frabnitz")
    window.personal.block("éclair")  # (QTest cannot type it)
    dialog = window.learned_words_dialog()
    words = dialog.words()
    assert [w.casefold() for w in words].count("frabnitz") == 1
    assert (words.index("arbour") < words.index("éclair") < words.index("Frabnitz") < words.index("met")
            < words.index("Zorbulon"))
    row = next(dialog.list.topLevelItem(i) for i in range(dialog.list.topLevelItemCount())
               if dialog.list.topLevelItem(i).text(0) == "Frabnitz")
    assert row.text(1) == "never suggested (learned, counted 2×)"
    dialog.list.setCurrentItem(row)
    dialog.remove_button.click()  # suggested again, and still learned
    assert "frabnitz" not in window.personal.blocked and window.personal.knows("frabnitz")
    assert [dialog.list.topLevelItem(i).text(1) for i in range(dialog.list.topLevelItemCount())
            if dialog.list.topLevelItem(i).text(0) == "Frabnitz"] == ["learned, counted 2×"]
