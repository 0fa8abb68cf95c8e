"""UI tests: offscreen Qt, temporary user folders, scripted dialogs, Qt warnings fail.

Every test here gets:

* ``QT_QPA_PLATFORM=offscreen`` and ``XDG_DATA_HOME``/``XDG_CONFIG_HOME`` in a
  temporary folder (never the real user folders);
* ``boxes``: QMessageBox, QFileDialog and QInputDialog replaced by a script,
  so no test can hang on a modal dialog, and what was shown is recorded;
* the ``qt_log_level_fail("WARNING")`` mark: a Qt warning fails the test
  (the offscreen platform's own notice about size hints excepted).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from qt_helpers import fail_on_qt_warnings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_collection_modifyitems(config, items):
    fail_on_qt_warnings(Path(__file__).parent, items)


@dataclass
class Boxes:
    """The script the replaced dialogs follow, and what they were asked."""

    shown: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, title, text)
    answers: list[Any] = field(default_factory=list)  # QMessageBox answers, in order
    files: list[Any] = field(default_factory=list)  # file dialog results, in order
    inputs: list[Any] = field(default_factory=list)  # (value, ok) for QInputDialog

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.shown]

    def texts(self, kind: str | None = None) -> list[str]:
        return [text for k, _, text in self.shown if kind is None or k == kind]


@pytest.fixture(autouse=True)
def boxes(monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

    script = Boxes()
    SB = QMessageBox.StandardButton

    def box(kind):
        def show(parent, title, text, buttons=SB.Ok, default=SB.NoButton, *args, **kwargs):
            script.shown.append((kind, title, text))
            if script.answers:
                return script.answers.pop(0)
            if kind == "question":
                return SB.Cancel if buttons & SB.Cancel else SB.No
            if kind == "warning" and buttons & SB.Cancel:
                return SB.Cancel
            return SB.Ok

        return staticmethod(show)

    for kind in ("warning", "critical", "question", "information"):
        monkeypatch.setattr(QMessageBox, kind, box(kind))
    monkeypatch.setattr(QMessageBox, "about", staticmethod(
        lambda parent, title, text: script.shown.append(("about", title, text))))

    def file_dialog(kind, many=False):
        def ask(*args, **kwargs):
            script.shown.append((kind, "", ""))
            value = script.files.pop(0) if script.files else ([] if many else "")
            if kind == "directory":
                return str(value)
            if many:
                return [str(v) for v in value], ""
            return str(value) if value else "", ""

        return staticmethod(ask)

    monkeypatch.setattr(QFileDialog, "getOpenFileName", file_dialog("open"))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", file_dialog("open-many", many=True))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", file_dialog("save"))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", file_dialog("directory"))

    def input_dialog(kind):
        def ask(*args, **kwargs):
            script.shown.append((kind, "", ""))
            return script.inputs.pop(0) if script.inputs else ("", False)

        return staticmethod(ask)

    monkeypatch.setattr(QInputDialog, "getText", input_dialog("text"))
    monkeypatch.setattr(QInputDialog, "getItem", input_dialog("item"))

    def input_box(box):  # a QInputDialog the code makes and runs itself (the manager's Rename)
        value, ok = input_dialog("text").__func__()
        box.setTextValue(value)
        box.setResult(int(ok))
        return int(ok)

    monkeypatch.setattr(QInputDialog, "exec", input_box)
    return script


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def prefs(qtbot, window):
    """The window's Preferences dialog, shown; the theme given back after."""
    from keyboard_app.ui import appearance

    dialog = window.open_preferences()
    qtbot.waitExposed(dialog)
    yield dialog
    appearance.apply_theme("system")  # the palette is the application's: give it back
    dialog.close()



@pytest.fixture
def editor(qtbot):
    """A bare editor widget, shown and focused (the undo tests)."""
    from keyboard_app.ui.editor import Editor

    widget = Editor()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.setFocus()
    return widget


@pytest.fixture(autouse=True)
def unhurried_phrases(monkeypatch):
    """Phrase suggestions with a budget of a second, not the app's 5 ms: on a loaded machine
    (the whole suite on two cores) a 5 ms beam is often preempted past its budget and
    dropped, and a test waiting for a phrase timed out.  A test of the budget sets its own
    (tests/ui/test_phrase_slot.py)."""
    from keyboard_app.engine import predictor
    from keyboard_app.engine.beam import BeamSettings

    monkeypatch.setattr(predictor, "BeamSettings", lambda: BeamSettings(budget=1.0))
