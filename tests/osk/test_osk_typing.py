"""Typing with the keyboard: keys, suggestions, the context and its reset, the shared engine."""

from __future__ import annotations

import sys

import pytest

from keyboard_app.engine.predictor import Suggestion
from keyboard_app.osk.context import FocusWatcher, TypedContext
from qt_helpers import type_on_keyboard as type_text


def press(keyboard, action: str) -> None:
    keyboard.press_key(*keyboard.layout_data.find_action(action))


def network_runs(keyboard) -> int:
    return keyboard.controller.worker.predictor.states.runs


def test_keys_type_into_the_target_shift_is_one_shot_caps_stays(make_keyboard):
    keyboard, injector = make_keyboard()
    type_text(keyboard, "Hé, ")
    press(keyboard, "caps")
    type_text(keyboard, "ok1")
    press(keyboard, "caps")
    press(keyboard, "backspace")
    press(keyboard, "enter")
    assert injector.text == "Hé, OK\n"
    assert keyboard.controller.context.text == "Hé, OK\n"
    assert ("press", "backspace") in injector.events
    assert keyboard.controller.stats.activations == 12  # Shift and Caps count as activations


def test_a_key_inside_a_word_runs_no_network(make_keyboard):
    keyboard, _ = make_keyboard()
    type_text(keyboard, "The cat sat on the m")
    runs = network_runs(keyboard)
    type_text(keyboard, "a")
    assert network_runs(keyboard) == runs
    assert [s.text for s in keyboard.controller.suggestions][:1] == ["mat"]
    type_text(keyboard, "t ")  # a finished word: one step
    assert network_runs(keyboard) == runs + 1


def test_a_suggestion_types_the_rest_of_the_word_and_a_space(make_keyboard):
    keyboard, injector = make_keyboard()
    type_text(keyboard, "The cat sat on the ma")
    assert keyboard.suggestion_buttons[0].text() == "mat"
    keyboard.suggestion_buttons[0].click()
    assert injector.events[-1] == ("type", "t ")
    assert injector.text == keyboard.controller.context.text == "The cat sat on the mat "
    type_text(keyboard, ".")  # the space the suggestion added makes way for the full stop
    assert injector.text == "The cat sat on the mat."
    stats = keyboard.controller.stats
    assert (stats.accepts, stats.chars_accepted, stats.keystrokes_saved) == (1, 2, 1)


def test_a_suggestion_in_another_case_replaces_what_was_typed(make_keyboard):
    keyboard, injector = make_keyboard()
    type_text(keyboard, "we met th")
    controller = keyboard.controller
    controller.suggestions = [Suggestion(text="The", token="the", log_prob=-1.0, is_completion=True)]
    assert controller.accept(0)
    assert injector.events[-3:] == [("press", "backspace"), ("press", "backspace"), ("type", "The ")]
    assert injector.text == "we met The "


def test_cursor_keys_and_tab_forget_the_context(make_keyboard):
    keyboard, injector = make_keyboard()
    for action in ("left", "tab"):
        type_text(keyboard, "the cat ")
        press(keyboard, action)
        assert keyboard.controller.context.text == ""
    assert injector.events[-1] == ("press", "tab")


def test_the_focus_watcher_calls_back_only_on_a_change():
    windows = iter([1, 1, None, 2, 2, 99, 2])
    changes = []
    watcher = FocusWatcher(lambda: next(windows), changes.append, ignore=lambda w: w == 99)
    results = [watcher.poll() for _ in range(7)]
    assert results == [False, False, True, True, False, False, False]
    assert changes == [None, 2]  # 99 (the keyboard itself) is ignored


def test_a_broken_display_connection_does_not_stop_typing():
    def broken():
        raise ConnectionError("display gone")

    assert FocusWatcher(broken, lambda w: None).poll() is False


def test_a_focus_change_resets_the_context_to_a_sentence_start(make_keyboard):
    active = {"window": "mail"}  # not a number: never the keyboard's own window id
    keyboard, injector = make_keyboard(active_window=lambda: active["window"])
    start = [s.text for s in keyboard.controller.suggestions]
    keyboard.focus_watcher.poll()  # the keyboard learns which window is the target
    type_text(keyboard, "The cat sat on the ")
    assert keyboard.controller.context.text == "The cat sat on the "
    keyboard.focus_watcher.poll()
    assert keyboard.controller.context.text == "The cat sat on the "  # same window: kept
    active["window"] = "chat"  # the user clicked into another window
    keyboard.focus_watcher.poll()
    assert keyboard.controller.context.text == ""
    assert [s.text for s in keyboard.controller.suggestions] == start
    type_text(keyboard, "I")
    assert injector.text == "The cat sat on the I"  # what was typed is the target's own


def test_the_context_is_bounded():
    context = TypedContext()
    context.type("word " * 2000)
    assert len(context.text) <= 4000 and context.text.endswith("word ")


def test_learning_is_off_by_default_and_counts_words_when_on(make_keyboard):
    from keyboard_app.learning import PersonalModel

    keyboard, _ = make_keyboard()
    personal = PersonalModel()
    keyboard.controller.personal = personal
    type_text(keyboard, "zebras run ")
    assert len(personal) == 0
    keyboard.update_settings(learn_from_typing=True)
    type_text(keyboard, "zebras run ")
    assert personal.knows("zebras") and personal.knows("run")


def test_settings_changes_are_saved_and_shown(make_keyboard, tmp_path):
    from keyboard_app.osk.settings import OskSettingsStore

    keyboard, _ = make_keyboard()
    keyboard.update_settings(suggestion_slots=5, high_contrast=True, zoom_percent=150)
    assert sum(button.isVisible() for button in keyboard.suggestion_buttons) == 5
    assert len(keyboard.controller.suggestions) <= 5 and keyboard.controller.slots == 5
    from keyboard_app.osk.window import style_sheet

    assert keyboard.styleSheet() == style_sheet(dark=False, high_contrast=True)  # (offscreen: light)
    saved, problem = OskSettingsStore(tmp_path / "osk.json").load()
    assert problem is None and (saved.suggestion_slots, saved.high_contrast, saved.zoom_percent) == (5, True, 150)


def test_the_window_never_takes_the_focus(make_keyboard):
    from PySide6.QtCore import Qt

    keyboard, _ = make_keyboard()
    flags = keyboard.windowFlags()
    assert flags & Qt.WindowType.WindowDoesNotAcceptFocus and flags & Qt.WindowType.WindowStaysOnTopHint
    assert keyboard.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert all(button.focusPolicy() == Qt.FocusPolicy.NoFocus for button in keyboard._all_buttons())


def test_the_main_windows_keyboard_shares_its_engine(make_window, qtbot):
    from keyboard_app.osk.app import toggle_for_window
    from keyboard_app.osk.backend import RecordingInjector

    window = make_window()
    window.editor.setPlainText("The cat sat on the ")
    injector = RecordingInjector()
    keyboard = toggle_for_window(window, injector=injector)
    assert keyboard.isVisible() and keyboard.controller.worker is window.worker
    type_text(keyboard, "Alice met Bob in L")
    assert injector.text == "Alice met Bob in L"
    assert keyboard.suggestion_buttons[0].text() == "London"
    toggle_for_window(window)  # the menu entry again: hidden, and kept
    assert not keyboard.isVisible()
    assert toggle_for_window(window) is keyboard and keyboard.isVisible()
    window.close()
    qtbot.waitUntil(lambda: not keyboard.isVisible(), timeout=5000)


def test_the_menu_entry_is_in_the_view_menu(make_window):
    window = make_window()
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert "On-Screen &Keyboard" in [a.text() for a in view.actions()]


# --- the entry point and the platform check ----------------------------------

def test_osk_flag_opens_the_keyboard(monkeypatch, tmp_path):
    from keyboard_app import __main__ as entry
    from keyboard_app.osk import app as osk_app

    calls = []
    monkeypatch.setattr(osk_app, "run_osk", lambda **kwargs: calls.append(kwargs) or 0)
    assert entry.main(["--osk", "--model", str(tmp_path)]) == 0
    assert calls == [{"model": tmp_path, "quit_after": None}]


@pytest.mark.parametrize("environ", [
    {"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"},
    {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"},
])
def test_wayland_is_detected_and_said_in_one_sentence(environ):
    from keyboard_app.osk.backend import injection_problem

    problem = injection_problem(environ, platform="linux")
    assert problem.startswith("This is a Wayland session") and problem.count(". ") == 0
    assert "X11 session" in problem and "editor" in problem
    assert injection_problem({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, platform="linux") is None
    assert injection_problem({}, platform="win32") is None


def test_run_osk_on_wayland_says_so_and_exits(monkeypatch, capsys):
    from keyboard_app.osk.app import run_osk

    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    if not sys.platform.startswith("linux"):
        pytest.skip("the Wayland check is for Linux")
    assert run_osk() == 1
    err = capsys.readouterr().err
    assert err.startswith("keyboard-app: This is a Wayland session") and err.count("\n") == 1


def test_the_menu_entry_on_wayland_says_why_instead_of_opening(make_window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from keyboard_app.osk.app import toggle_for_window

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append(text)))
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    window = make_window()
    assert toggle_for_window(window) is None
    assert len(shown) == 1 and shown[0].startswith("This is a Wayland session")


def test_the_main_windows_keyboard_holds_the_one_keyboard_claim_while_shown(make_window, qtbot, monkeypatch):
    """The editor's keyboard and ``--osk`` are one keyboard per user (the second reader of
    stop 26 opened both, one on top of the other): shown, the editor's holds the claim a
    ``--osk`` start asks; hidden, it lets it go; while a keyboard of its own runs, the menu
    entry brings that one forward instead of opening a second."""
    from keyboard_app.osk import app as osk_app
    from keyboard_app.osk.backend import RecordingInjector
    from keyboard_app.ui.app import SingleInstance

    window = make_window()
    keyboard = osk_app.toggle_for_window(window, injector=RecordingInjector())
    other = SingleInstance(osk_app.instance_name())
    assert keyboard.isVisible() and not other.claim()  # a --osk start would be sent to it
    osk_app.toggle_for_window(window)  # hidden: the claim is let go
    assert not keyboard.isVisible() and other.claim()

    asked = []
    monkeypatch.setattr("keyboard_app.ui.app.ask_running_copy", lambda name, **_: asked.append(name) or True)
    assert osk_app.toggle_for_window(window) is None and not keyboard.isVisible()
    assert asked == [osk_app.instance_name()] and "already open" in window.statusBar().currentMessage()
    other.release()
    assert osk_app.toggle_for_window(window) is keyboard and keyboard.isVisible()
    window.close()
    qtbot.waitUntil(lambda: not keyboard.isVisible(), timeout=5000)


class RefusingInjector:
    """A target the characters in ``refused`` never reach (as a lost display connection):
    ``prepare`` refuses them, ``type_text`` types up to the first of them and fails."""

    def __init__(self, refused: str) -> None:
        from keyboard_app.osk.backend import RecordingInjector

        self.refused = refused
        self.target = RecordingInjector()
        self.events = self.target.events

    def prepare(self, text: str) -> None:
        from keyboard_app.osk.backend import InjectionError

        if any(char in self.refused for char in text):
            raise InjectionError("Keys could not be sent (the display went away).")

    def type_text(self, text: str) -> None:
        from keyboard_app.osk.backend import InjectionError

        for done, char in enumerate(text):
            if char in self.refused:
                raise InjectionError("Keys could not be sent (the display went away).", delivered=text[:done])
            self.target.type_text(char)

    def press(self, action: str) -> None:
        self.target.press(action)

    def restore(self) -> None:
        self.target.restore()


def test_a_suggestion_that_cannot_be_typed_erases_nothing(make_keyboard):
    """H25's finding 1: the Backspaces of a suggestion in another case reached xterm and the
    word did not; now nothing is erased unless the word can be typed in its place."""
    keyboard, _ = make_keyboard()
    injector = RefusingInjector("T")
    keyboard.controller.injector = injector
    type_text(keyboard, "we met th")
    controller = keyboard.controller
    controller.suggestions = [Suggestion(text="The", token="the", log_prob=-1.0, is_completion=True)]
    assert not controller.accept(0)
    assert ("press", "backspace") not in injector.events
    assert injector.target.text == controller.context.text == "we met th"
    assert keyboard.notice.isVisibleTo(keyboard) and "could not be sent" in keyboard.notice.text()
    assert controller.stats.accepts == 0


def test_text_that_did_not_arrive_is_not_in_the_context_and_is_never_erased(make_keyboard):
    keyboard, _ = make_keyboard()
    injector = RefusingInjector("m")
    keyboard.controller.injector = injector
    type_text(keyboard, "we met th")  # the m never arrives
    controller = keyboard.controller
    assert injector.target.text == controller.context.text == "we et th"
    controller.suggestions = [Suggestion(text="The", token="the", log_prob=-1.0, is_completion=True)]
    before = len(injector.events)
    assert controller.accept(0)
    sent = injector.events[before:]
    assert sent[:2] == [("press", "backspace")] * 2 and "".join(text for _, text in sent[2:]) == "The "
    assert injector.target.text == "we et The "
    assert not keyboard.notice.isVisibleTo(keyboard)  # keys arrive again: the sentence goes


def test_a_full_stop_that_cannot_be_typed_leaves_the_space_of_the_suggestion(make_keyboard):
    keyboard, _ = make_keyboard()
    injector = RefusingInjector(".")
    keyboard.controller.injector = injector
    type_text(keyboard, "The cat sat on the ma")
    keyboard.suggestion_buttons[0].click()
    type_text(keyboard, ".")
    assert injector.target.text == keyboard.controller.context.text == "The cat sat on the mat "
    assert "could not be sent" in keyboard.notice.text()


def test_closing_the_keyboard_gives_back_what_typing_borrowed(make_keyboard):
    keyboard, injector = make_keyboard()
    type_text(keyboard, "é")
    keyboard.close()
    assert injector.restores == 1


class EditorInjector:
    """Types into the app's own editor with Qt key events, as the desktop would deliver them."""

    def __init__(self, qtbot, editor) -> None:
        self.qtbot, self.editor = qtbot, editor

    def prepare(self, text: str) -> None:
        pass

    def type_text(self, text: str) -> None:
        self.qtbot.keyClicks(self.editor, text)

    def press(self, action: str) -> None:
        from PySide6.QtCore import Qt

        keys = {"backspace": Qt.Key.Key_Backspace, "enter": Qt.Key.Key_Return, "tab": Qt.Key.Key_Tab}
        self.qtbot.keyClick(self.editor, keys.get(action, Qt.Key.Key_Right))

    def restore(self) -> None:
        pass


@pytest.mark.parametrize("editor_learns", [True, False])
def test_words_typed_into_the_apps_own_editor_are_counted_once(make_window, qtbot, editor_learns):
    """H25's finding 9: the editor learned the words it received and the keyboard those it
    sent, so each counted twice. While the editor is the target and learns, the keyboard leaves
    the words to it; with the editor's learning off, the keyboard's own opt-in still counts them."""
    from keyboard_app.osk import app as osk_app

    window = make_window()
    if editor_learns:
        window.learn_action.trigger()
    keyboard = osk_app.toggle_for_window(window, injector=EditorInjector(qtbot, window.editor))
    keyboard.update_settings(learn_from_typing=True)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    try:
        type_text(keyboard, "zemblat zemblat zemblat and ")
        assert window.editor.toPlainText().endswith("zemblat zemblat zemblat and ")
        assert window.personal.unigrams.get("zemblat") == 3
    finally:
        keyboard.close()
        window.editor.document().setModified(False)  # (pytest-qt closes the window before the fixture)


def test_keyboard_app_osk_leaves_words_typed_into_the_editor_to_the_editor(make_keyboard, monkeypatch):
    """The same for ``--osk``, a process of its own: the editor's windows are told by their X11
    class (the keyboard's own), and the editor's learning is read from its settings."""
    from keyboard_app.learning import PersonalModel
    from keyboard_app.osk import app as osk_app

    active = {"window": 7}
    keyboard, _ = make_keyboard(active_window=lambda: active["window"])
    ours = ("keyboard-app", "Predictive Keyboard")
    classes = {int(keyboard.winId()): ours, 42: ours, 7: ("xterm", "XTerm")}
    editor_learning = {"on": True}
    monkeypatch.setattr(osk_app, "x11_window_class", lambda: classes.get)
    monkeypatch.setattr(osk_app, "_editor_choices", lambda: osk_app.EditorChoices(learning=editor_learning["on"]))
    controller = keyboard.controller
    controller.target_learns = osk_app._editor_window_learns(keyboard)
    controller.personal = personal = PersonalModel()
    keyboard.update_settings(learn_from_typing=True)

    def typed_into(window: int, word: str) -> None:
        active["window"] = window
        keyboard.focus_watcher.poll()
        type_text(keyboard, word + " ")

    typed_into(42, "zebras")  # the editor, learning: it counts the word itself
    typed_into(7, "okapis")  # a terminal: the keyboard counts it
    editor_learning["on"] = False
    typed_into(42, "quaggas")  # the editor, not learning: the keyboard's opt-in counts it
    assert [personal.knows(w) for w in ("zebras", "okapis", "quaggas")] == [False, True, True]


# --- the editor's "Capital letter at the start of a sentence" -------------------------
# One setting for both: read when the keyboard opens and followed when it changes, in the
# same process (the main window's keyboard) or in another (``--osk``, from the editor's
# settings file).

NAMES = {"I", "Alice", "Bob", "London", "Paris", "Monday"}


def row(keyboard) -> list[str]:
    return [s.text for s in keyboard.controller.suggestions]


def sentence_capitals_only_on_names(words: list[str]) -> bool:
    return any(w[:1].islower() for w in words) and all(w[:1].islower() or w in NAMES for w in words)


def test_with_capitals_off_a_sentence_starts_with_the_word_as_written(make_keyboard):
    keyboard, injector = make_keyboard()
    type_text(keyboard, "Alice met Bob in London. ")
    assert row(keyboard) and all(w[:1].isupper() for w in row(keyboard))
    keyboard.controller.set_auto_capitalise(False)  # shown at once, without another key
    assert sentence_capitals_only_on_names(row(keyboard))
    assert [b.text() for b in keyboard.suggestion_buttons if b.text()] == row(keyboard)[:4]
    the = row(keyboard).index("the")
    assert keyboard.controller.accept(the)
    assert injector.text == "Alice met Bob in London. the "
    type_text(keyboard, "cat sat. T")  # a capital the user typed is kept
    assert row(keyboard) and all(w[:1].isupper() for w in row(keyboard))


def test_inside_a_sentence_nothing_changes(make_keyboard):
    keyboard, _ = make_keyboard()
    type_text(keyboard, "Alice met Bob in ")
    before = row(keyboard)
    keyboard.controller.set_auto_capitalise(False)
    assert row(keyboard) == before and "London" in before


def test_osk_reads_the_editors_setting_at_start_and_follows_its_changes(make_keyboard, qtbot, user_folders):
    """``--osk`` is another process: it reads the editor's settings file, and reads it again
    when the editor saves it (atomically, as ``SettingsStore`` does)."""
    from keyboard_app.osk import app as osk_app
    from keyboard_app.settings import Settings, SettingsStore

    store = SettingsStore()
    store.save(Settings(auto_capitalise=False))
    keyboard, _ = make_keyboard()
    followed = []

    def follow(choices) -> None:
        followed.append(choices)
        keyboard.controller.set_auto_capitalise(choices.auto_capitalise)

    osk_app.EditorSettingsWatch(osk_app._editor_choices, follow, parent=keyboard)
    assert followed == [osk_app.EditorChoices(auto_capitalise=False)]
    type_text(keyboard, "Alice met Bob in London. ")
    assert sentence_capitals_only_on_names(row(keyboard))

    store.save(Settings(auto_capitalise=True))  # the editor's Preferences, in another process
    qtbot.waitUntil(lambda: all(w[:1].isupper() for w in row(keyboard)), timeout=5000)
    store.save(Settings(auto_capitalise=True, learning_enabled=True))
    qtbot.waitUntil(lambda: len(followed) == 3, timeout=5000)
    assert followed[-1] == osk_app.EditorChoices(learning=True, auto_capitalise=True)
    assert all(w[:1].isupper() for w in row(keyboard))


def test_editor_choices_of_a_damaged_or_odd_file_are_the_defaults_field_by_field(user_folders):
    from keyboard_app import paths
    from keyboard_app.osk.app import EditorChoices, _editor_choices

    path = paths.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"auto_capitalise": ', encoding="utf-8")
    assert _editor_choices() == EditorChoices()
    path.write_text('{"auto_capitalise": "no", "model": "user:mine", "learning_enabled": true}', encoding="utf-8")
    assert _editor_choices() == EditorChoices(model="user:mine", learning=True, auto_capitalise=True)
    path.write_text('{"auto_capitalise": false}', encoding="utf-8")
    assert _editor_choices() == EditorChoices(auto_capitalise=False)


def test_the_main_windows_keyboard_follows_the_preferences_dialog(make_window, qtbot):
    from keyboard_app.osk.app import toggle_for_window
    from keyboard_app.osk.backend import RecordingInjector

    window = make_window()
    window.settings.auto_capitalise = False  # chosen before the keyboard opens
    keyboard = toggle_for_window(window, injector=RecordingInjector())
    try:
        assert keyboard.controller.auto_capitalise is False
        type_text(keyboard, "Alice met Bob in London. ")
        assert sentence_capitals_only_on_names(row(keyboard))
        prefs = window.open_preferences()
        prefs.capitals_check.setChecked(True)  # saved and applied at once, as a user's click is
        qtbot.waitUntil(lambda: all(w[:1].isupper() for w in row(keyboard)), timeout=5000)
        prefs.capitals_check.setChecked(False)
        qtbot.waitUntil(lambda: sentence_capitals_only_on_names(row(keyboard)), timeout=5000)
        prefs.close()
    finally:
        keyboard.close()


def test_a_correction_is_marked_as_on_the_editors_strip(make_keyboard):
    """A suggestion that corrects the typed letters is drawn in italics, underlined, and named
    so to a screen reader (H64: the keyboard showed it as any word); the next words are not."""
    keyboard, _ = make_keyboard()
    keyboard._show_suggestions([Suggestion("a lot", "a lot", -1.0, True, kind="correction"),
                                Suggestion("along", "along", -2.0, True)])
    first, second = keyboard.suggestion_buttons[:2]
    assert first.font().italic() and first.font().underline() and first.accessibleName() == "a lot (correction)"
    assert not second.font().italic() and not second.font().underline() and second.accessibleName() == ""
    keyboard._show_suggestions([Suggestion("all", "all", -1.0, True)])
    assert not first.font().italic() and first.accessibleName() == ""
