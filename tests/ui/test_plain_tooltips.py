"""A tooltip that holds a name the user or a file chose shows it as it is, never as markup.

A tooltip is a label left at ``Qt::AutoText``: a model folder, file or suggestion such as
"<b>bold</b> & <i>x</i>" read as a bold "bold & x" in it (and an "<img src=…>" as a
picture).  These tests read what a tooltip shows: its text, or the text of the HTML it is
when Qt takes it for markup (``boxes.plain_tooltip``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QTextDocument, Qt
from PySide6.QtWidgets import QMenu

from keyboard_app.retraining import UnaddedModel
from keyboard_app.ui import boxes
from qt_helpers import Word, shown_strip

CRAFTED = "<b>bold</b> & <i>x</i>"  # as a path: three folders, "<b>bold<", "b> & <i>x<" and "i>"


def shown(tooltip: str) -> str:
    """What a tooltip set to ``tooltip`` shows, as plain text."""
    if not Qt.mightBeRichText(tooltip):
        return tooltip
    document = QTextDocument()
    document.setHtml(tooltip)
    return document.toPlainText()


@pytest.mark.parametrize("text", [
    CRAFTED,
    "<img src=nothing.png> a &lt; b &amp; c",
    f"Insert “{CRAFTED}” (Tab, Alt+1 or Ctrl+1)\nRight-click for more",
    f"Skipped:\n  /w/{CRAFTED}.bin: binary\n\n  two  spaces\tand a tab",
    "/home/ann/notes.txt",
    "",
])
def test_a_plain_tooltip_shows_its_text_as_written(qtbot, text):
    assert shown(boxes.plain_tooltip(text)) == text


def test_a_tooltip_qt_would_not_read_as_markup_is_left_as_it_is(qtbot):
    # (so it looks as before: a plain tooltip is not word-wrapped, a rich one is)
    for text in ("/home/ann/notes.txt", "Skipped:\n  /w/<b>x</b>.bin", "a & b"):
        assert boxes.plain_tooltip(text) == text


def test_the_model_managers_list_shows_a_crafted_model_folder_as_it_is(qtbot, make_window, tiny_bundle, tmp_path):
    from keyboard_app.model_store import ModelStore
    from keyboard_app.ui.model_manager import ModelManagerDialog

    store = ModelStore(models_dir=tmp_path / CRAFTED, default_path=tiny_bundle)
    key = store.import_bundle(tiny_bundle)
    window = make_window(model_store=store)
    dialog = ModelManagerDialog(controller=window.models, start_directory=window.start_directory, parent=window)
    qtbot.addWidget(dialog)
    path = store.info(key).path
    assert CRAFTED in str(path)
    [item] = [dialog.list.item(i) for i in range(dialog.list.count()) if dialog.models[i].key == key]
    assert shown(item.toolTip()) == str(path)
    dialog.close()


def test_the_status_bars_model_name_has_a_crafted_path_as_it_is_in_its_tooltip(window):
    window.set_model_label("Mine", f"/models/{CRAFTED}")
    assert shown(window.model_label.toolTip()) == f"/models/{CRAFTED}"


def test_a_crafted_suggestion_is_named_as_it_is_in_its_tooltip(qtbot):
    strip = shown_strip(qtbot, 3, [CRAFTED, "bold"])
    assert shown(strip.buttons[0].toolTip()) == f"Insert “{CRAFTED}” (Tab, Alt+1 or Ctrl+1)\nRight-click for more"
    strip.set_suggestions([Word(CRAFTED, kind="correction")])
    assert shown(strip.buttons[0].toolTip()) == f"Correct to “{CRAFTED}” (Tab, Alt+1 or Ctrl+1)\nRight-click for more"


def test_an_error_naming_a_crafted_file_is_as_it_is_in_the_strips_tooltip(qtbot):
    strip = shown_strip(qtbot, 3, [])
    placeholder = f"No suggestions: cannot read /models/{CRAFTED}/model.onnx"
    strip.set_suggestions([], placeholder=placeholder)
    assert shown(strip.buttons[0].toolTip()) == placeholder


def test_a_crafted_recent_file_is_named_as_it_is_in_its_tooltip_and_status_tip(window, tmp_path):
    doc = tmp_path / CRAFTED / "notes.txt"
    doc.parent.mkdir(parents=True)
    doc.write_text("Dear Ann,")
    window.settings.add_recent_file(str(doc))
    menu = QMenu()
    window.documents.fill_recent_menu(menu)
    action = menu.actions()[0]
    assert action.text() == "&1 notes.txt"
    assert shown(action.toolTip()) == str(doc.resolve())
    assert action.statusTip() == str(doc.resolve())  # drawn in the status bar, as plain text


def test_a_crafted_word_in_an_elided_status_message_is_as_it_is_in_its_tooltip(qtbot, window):
    # Never Suggest on a suggestion that is not a word of letters (a word of the document):
    # the status bar names it, elided in a narrow window, the whole message in its tooltip.
    window.resize(420, window.height())
    qtbot.waitUntil(lambda: window.width() <= 500)
    window.strip.set_suggestions([Word(CRAFTED, token=CRAFTED)])
    window._block_suggestion(0)
    message = f"“{CRAFTED}” cannot be blocked: only words of letters can be never suggested."
    bar = window.statusBar()
    assert bar.currentMessage() == message
    assert bar.elided_message() != message
    assert shown(bar.toolTip()) == message


def test_a_recovered_model_in_a_crafted_folder_is_named_as_it_is_in_its_tooltip(qtbot, window, tmp_path):
    from keyboard_app.ui.retrain_dialog import RetrainDialog

    dialog = RetrainDialog(controller=window.models, settings=window.settings, save_settings=window.save_settings,
                           start_directory=window.start_directory, parent=window)
    qtbot.addWidget(dialog)
    model = UnaddedModel(run_dir=tmp_path / CRAFTED / "run", name="Mine", created="", corpus=())
    dialog._offer(model)
    [add] = [b for b in dialog.unadded[model.run_dir].findChildren(type(dialog.start_button))
             if "Add" in b.text()]
    assert shown(add.toolTip()) == (
        f"Check the model and add it to the model list, without using it yet ({model.bundle})")
    dialog.close()


def test_the_files_skipped_are_listed_as_they_are_in_the_notes_tooltip(qtbot, window):
    from keyboard_app.progress_events import Skipped
    from keyboard_app.ui.retrain_dialog import RetrainDialog

    dialog = RetrainDialog(controller=window.models, settings=window.settings, save_settings=window.save_settings,
                           start_directory=window.start_directory, parent=window)
    qtbot.addWidget(dialog)
    dialog.handle_event(Skipped(path=f"/w/{CRAFTED}.bin", kind="binary", reason="it looks like a binary file"))
    assert shown(dialog.training_notes_label.toolTip()) == f"Skipped:\n  /w/{CRAFTED}.bin: it looks like a binary file"
    dialog.close()
