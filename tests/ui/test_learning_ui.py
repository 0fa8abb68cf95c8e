"""Learning from what the user types: opt-in, mixed into the strip, forget, pause, clear, saved."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from keyboard_app import paths
from keyboard_app.learning import PersonalModel


def enable_learning(window):
    window.learn_action.trigger()
    assert window.settings.learning_enabled and window.controller.learning


def type_sentence(qtbot, window, text):
    qtbot.keyClicks(window.editor, text)


def test_learning_is_off_until_the_user_turns_it_on(qtbot, window):
    assert not window.learn_action.isChecked()
    type_sentence(qtbot, window, "We went to Zanzibar. We went to Zanzibar. ")
    assert len(window.personal) == 0


def test_a_new_name_appears_after_a_few_uses(qtbot, window):
    enable_learning(window)
    for _ in range(3):
        type_sentence(qtbot, window, "We went to Zanzibar. ")
    type_sentence(qtbot, window, "We went to ")
    assert "Zanzibar" in window.strip.words()
    type_sentence(qtbot, window, "Za")
    assert window.strip.words()[0] == "Zanzibar"
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText().endswith("We went to Zanzibar ")
    assert window.personal.unigrams["zanzibar"] == 4  # accepted words count too


def test_forget_a_word_from_the_strip(qtbot, window):
    enable_learning(window)
    for _ in range(3):
        type_sentence(qtbot, window, "We went to Zanzibar. ")
    type_sentence(qtbot, window, "We went to Za")
    index = window.strip.words().index("Zanzibar")
    menu = window.strip.context_menu(index)
    forget = [a for a in menu.actions() if a.text().replace("&", "").startswith("Forget")][0]
    assert forget.isEnabled()
    forget.trigger()
    assert "Zanzibar" not in window.strip.words()
    assert not window.personal.knows("zanzibar")


def test_never_suggest_a_model_word(qtbot, window):
    type_sentence(qtbot, window, "The cat sat on the ")
    index = window.strip.words().index("mat")
    menu = window.strip.context_menu(index)
    [a for a in menu.actions() if a.text().replace("&", "").startswith("Never")][0].trigger()
    assert "mat" not in window.strip.words()
    assert len(window.strip.words()) == 3


def test_pause_keeps_using_but_stops_learning(qtbot, window):
    enable_learning(window)
    type_sentence(qtbot, window, "Hello Zanzibar. ")
    window.pause_action.trigger()
    type_sentence(qtbot, window, "Hello Zanzibar. ")
    assert window.personal.unigrams["zanzibar"] == 1
    assert window.worker.personal_layer.enabled


def test_clear_everything_asks_first(qtbot, window, boxes):
    enable_learning(window)
    type_sentence(qtbot, window, "Hello Zanzibar. ")
    window.clear_learned()  # the scripted box answers Cancel
    assert len(window.personal) > 0
    boxes.answers.append(QMessageBox.StandardButton.Yes)
    window.clear_learned()
    assert len(window.personal) == 0
    assert PersonalModel.load(paths.learned_data_path())[0].total == 0


def test_counts_are_saved_debounced_and_on_close(qtbot, window):
    enable_learning(window)
    type_sentence(qtbot, window, "Hello Zanzibar. ")
    assert window._learn_timer.isActive()
    assert not paths.learned_data_path().exists()  # not written on every keystroke
    window.editor.document().setModified(False)
    assert window.close()
    saved, problem = PersonalModel.load(paths.learned_data_path())
    assert problem is None and saved.unigrams["zanzibar"] == 1
    assert "Hello Zanzibar" not in paths.learned_data_path().read_text(encoding="utf-8")


def test_a_phrase_cannot_be_forgotten_or_blocked(qtbot, window):
    qtbot.keyClicks(window.editor, "Alice ")
    qtbot.waitUntil(lambda: any(s.kind == "phrase" for s in window.strip.suggestions()), timeout=5000)
    index = next(i for i, s in enumerate(window.strip.suggestions()) if s.kind == "phrase")
    phrase = window.strip.suggestions()[index].text
    menu = window.strip.context_menu(index)
    labels = {a.text().replace("&", "").split(" ")[0]: a for a in menu.actions() if a.text()}
    assert not labels["Forget"].isEnabled() and not labels["Never"].isEnabled()
    window._fill_never_menu()  # what opening Suggestions ▸ Never Suggest does
    entry = [a for a in window.never_menu.actions() if phrase in a.text()][0]
    assert not entry.isEnabled()
    window._block_suggestion(index)  # a late click still blocks nothing, and says so
    assert not window.personal.blocked and not window.unblock_last_action.isEnabled()
    assert "phrase" in window.statusBar().currentMessage()
    assert window.strip.suggestions()[index].kind == "phrase"


def test_the_debounced_save_writes_off_the_ui_thread_and_closing_waits_for_it(qtbot, window, monkeypatch):
    """H25 finding 4: at the size the learned words may reach a save takes about a second,
    which froze the typing.  The timer's save runs on the saver's thread: with the write held,
    the editor still takes keys and learns them; closing finishes that write, then saves the rest."""
    import threading

    from keyboard_app import learning

    entered, go, threads = threading.Event(), threading.Event(), []
    real = learning.atomic_write_text

    def slow_write(path, data):
        threads.append(threading.current_thread())
        entered.set()
        assert go.wait(30)
        return real(path, data)

    monkeypatch.setattr(learning, "atomic_write_text", slow_write)
    enable_learning(window)
    window._learn_timer.setInterval(10)
    type_sentence(qtbot, window, "Hello Zanzibar. ")
    qtbot.waitUntil(entered.is_set, timeout=5000)  # the timer's save is writing, held
    assert threads[0] is not threading.main_thread()
    type_sentence(qtbot, window, "Hello Quimby. ")  # the UI thread is free: keys and learning go on
    assert window.editor.toPlainText().endswith("Hello Quimby. ") and window.personal.unigrams["quimby"] == 1
    assert not paths.learned_data_path().exists()
    threading.Timer(0.3, go.set).start()
    window.editor.document().setModified(False)
    assert window.close()  # waits for the held write, then writes what was learned since
    saved, problem = PersonalModel.load(paths.learned_data_path())
    assert problem is None and saved.unigrams["zanzibar"] == 1 and saved.unigrams["quimby"] == 1
    assert saved.bigrams["."] == {"hello": 1}  # (the pair after the full stop is kept too)


def test_a_failed_background_save_says_so_in_the_status_bar(qtbot, window, monkeypatch):
    import errno

    from keyboard_app import learning

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(learning, "atomic_write_text", full)
    enable_learning(window)
    window._learn_timer.setInterval(10)
    type_sentence(qtbot, window, "Hello Zanzibar. ")
    qtbot.waitUntil(lambda: "No space left" in window.statusBar().currentMessage(), timeout=5000)
    message = window.statusBar().currentMessage()
    assert str(paths.learned_data_path()) in message and "tried again as you type" in message
