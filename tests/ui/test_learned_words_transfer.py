"""The learned-words list shows words as the user writes them, and carries them to another
computer: Export... and Import... (``ui/learned_words.py``, ``learning.export_words`` /
``import_words``; the format is in docs/CONTRACTS.md)."""

from __future__ import annotations

import json
import re

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractButton, QLabel

from keyboard_app import paths
from keyboard_app.learning import EXPORT_FORMAT, MAX_IMPORT_BYTES, PersonalModel


def learn(qtbot, window, text: str) -> None:
    window.learn_action.trigger()
    qtbot.keyClicks(window.editor, text)


def open_dialog(qtbot, window):
    dialog = window.learned_words_dialog()
    qtbot.waitExposed(dialog)
    return dialog


def test_i_and_names_are_listed_as_written_not_in_lowercase(qtbot, window):
    # "I" only ever typed at sentence starts: its capital said nothing, and the list showed "i"
    learn(qtbot, window, "I like tea. I think so. Then we met Frabnitz there. ")
    dialog = open_dialog(qtbot, window)
    words = dialog.words()
    assert "I" in words and "i" not in words
    assert "Frabnitz" in words and "like" in words and "then" in words
    dialog.close()


def test_export_then_import_on_a_fresh_install_gives_back_every_count(qtbot, window, boxes, tmp_path):
    learn(qtbot, window, "I met Frabnitz and Zorbulon in London. Frabnitz waved. ")
    window.personal.block("cherries")
    before = window.personal.to_dict()
    dialog = open_dialog(qtbot, window)
    exported = tmp_path / "moving" / "learned-words.json"
    exported.parent.mkdir()
    boxes.files.append(exported)
    dialog.export_button.click()
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert (data["format"], data["format_version"]) == (EXPORT_FORMAT, 1)
    assert data["unigrams"]["frabnitz"] == 2 and data["forms"]["frabnitz"] == {"Frabnitz": 1}  # (the second began a sentence)
    assert data["blocked"] == ["cherries"]
    assert str(exported) in dialog.status.text()

    window.personal.clear()  # the new computer: nothing learned
    dialog.refresh()
    assert dialog.words() == []
    boxes.files.append(exported)
    dialog.import_button.click()
    assert window.personal.to_dict() == before
    assert {"Frabnitz", "Zorbulon", "cherries"} <= set(dialog.words())
    assert "never" in next(dialog.list.topLevelItem(i).text(1) for i in range(dialog.list.topLevelItemCount())
                           if dialog.list.topLevelItem(i).text(0) == "cherries")
    assert boxes.kinds().count("warning") == 0
    # and what is imported is saved like anything learned
    dialog.close()
    window.editor.document().setModified(False)
    assert window.close()
    assert PersonalModel.load(paths.learned_data_path())[0].to_dict() == before


def test_an_import_adds_its_counts_to_what_was_learned_here(qtbot, window, boxes, tmp_path):
    elsewhere = PersonalModel()
    for previous, word in (("<s>", "Frabnitz"), ("met", "Frabnitz"), ("met", "Zorbulon")):
        elsewhere.observe(previous, word)
    exported = tmp_path / "elsewhere.json"
    elsewhere.export_words(exported)
    learn(qtbot, window, "We met Frabnitz. ")
    here = window.personal.unigrams["frabnitz"]
    dialog = open_dialog(qtbot, window)
    boxes.files.append(exported)
    dialog.import_button.click()
    assert window.personal.unigrams["frabnitz"] == here + 2
    assert window.personal.bigrams["met"]["frabnitz"] == 2 and window.personal.bigrams["met"]["zorbulon"] == 1
    assert window.personal.display("frabnitz") == "Frabnitz"
    assert "(1 new here)" in dialog.status.text()


def unusable(qtbot, window, boxes, path) -> str:
    """Import ``path`` into a window that learned a word: the one sentence shown (nothing changed)."""
    learn(qtbot, window, "We met Frabnitz. ")
    before = window.personal.to_dict()
    dialog = open_dialog(qtbot, window)
    boxes.files.append(path)
    dialog.import_button.click()
    assert window.personal.to_dict() == before
    assert boxes.kinds() == ["open", "warning"]
    dialog.close()
    sentence = boxes.texts("warning")[0]
    assert str(path) in sentence and "Traceback" not in sentence and sentence.count(". ") == 0
    return sentence


def test_a_corrupt_export_is_one_sentence_and_changes_nothing(qtbot, window, boxes, tmp_path):
    good = tmp_path / "good.json"
    model = PersonalModel()
    model.observe("met", "Frabnitz")
    model.export_words(good)
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    sentence = unusable(qtbot, window, boxes, truncated)
    assert re.search(r"cannot be imported: it is not valid JSON \(.+\)\.$", sentence)


def test_a_file_of_another_format_is_refused(qtbot, window, boxes, tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"format": "keyboard-settings", "suggestion_count": 3}), encoding="utf-8")
    assert unusable(qtbot, window, boxes, settings).endswith("cannot be imported: it is not a file of learned words.")


def test_a_newer_version_or_a_huge_file_is_refused(qtbot, window, boxes, tmp_path):
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"format": EXPORT_FORMAT, "format_version": 2, "unigrams": {}}), encoding="utf-8")
    assert "its format version 2 is not one this app reads" in unusable(qtbot, window, boxes, newer)
    boxes.shown.clear()
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:  # (sparse: judged by its size, never read)
        f.truncate(MAX_IMPORT_BYTES + 1)
    dialog = open_dialog(qtbot, window)
    boxes.files.append(huge)
    dialog.import_button.click()
    assert re.search(r"cannot be imported: it is \d+ MB, more than the \d+ MB allowed\.$", boxes.texts("warning")[0])
    dialog.close()


def test_an_export_that_cannot_be_written_keeps_the_file_there(qtbot, window, boxes, tmp_path, monkeypatch):
    from keyboard_app import learning

    learn(qtbot, window, "We met Frabnitz. ")
    target = tmp_path / "learned-words.json"
    target.write_text("an older export", encoding="utf-8")

    def full(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(learning, "atomic_write_text", full)
    dialog = open_dialog(qtbot, window)
    boxes.files.append(target)
    dialog.export_button.click()
    assert boxes.texts("warning") == [
        f"The learned words could not be written to {target} (No space left on device)."]
    assert target.read_text(encoding="utf-8") == "an older export"
    dialog.close()


def test_export_and_import_have_letters_of_their_own(qtbot, window):
    # (pressing Alt+E and Alt+I was checked under a real X server: the offscreen platform
    # gives buttons no mnemonic shortcuts)
    learn(qtbot, window, "We met Frabnitz. ")
    dialog = open_dialog(qtbot, window)
    texts = [w.text() for w in dialog.findChildren(QAbstractButton) + dialog.findChildren(QLabel)
             if w.isVisibleTo(dialog)]
    keys = [m.group(1).lower() for t in texts for m in re.finditer(r"&([^&\s])", t)]
    assert len(keys) == len(set(keys)) and {"e", "i"} <= set(keys)
    assert QKeySequence.mnemonic(dialog.export_button.text()) == QKeySequence("Alt+E")
    assert QKeySequence.mnemonic(dialog.import_button.text()) == QKeySequence("Alt+I")
    dialog.close()


def test_an_export_onto_the_apps_own_file_is_refused(qtbot, window, boxes):
    from keyboard_app import paths

    own = paths.learned_data_path()
    before = own.read_bytes() if own.exists() else None
    dialog = open_dialog(qtbot, window)
    boxes.files.append(own)
    assert dialog.export_words() is None
    assert boxes.texts("warning")[-1].endswith("is the app's own file of learned words: choose another name or folder.")
    assert (own.read_bytes() if own.exists() else None) == before
    dialog.close()
