"""The retrain dialog of a copy that cannot train: what it says is true for the way the
copy was installed (a standalone program: no pip command; an install from source
without PyTorch: the command that installs the training extra from PyTorch's CPU
index), and the dialog is as tall as its text, not an empty 760 x 560 page."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QPushButton

from keyboard_app import retraining
from keyboard_app.ui.retrain_dialog import RetrainDialog


@pytest.fixture
def without_torch(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))


@pytest.fixture
def frozen(monkeypatch, without_torch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # what PyInstaller's program sets


def shown_dialog(qtbot) -> RetrainDialog:
    """The dialog as the window makes it; its unavailable page needs no model."""
    dialog = RetrainDialog(controller=None, settings=None, save_settings=lambda: None,
                           start_directory=lambda: "")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def page_text(dialog: RetrainDialog) -> str:
    return "\n".join(label.text() for label in dialog.unavailable_page.findChildren(QLabel))


def test_the_standalone_program_offers_no_pip_command(qtbot, frozen):
    dialog = shown_dialog(qtbot)
    assert dialog.pages.currentWidget() is dialog.unavailable_page
    text = page_text(dialog)
    assert "pip" not in text
    assert dialog.install_command is None and dialog.copy_command_button is None
    buttons = [b.text() for b in dialog.unavailable_page.findChildren(QPushButton)]
    assert buttons == ["Close"]
    # where retraining happens instead, and how its model reaches this program
    assert "standalone" in text and "“Set up” in the project's README" in text
    assert "Models ▸ Import Model" in text and "Models ▸ Manage Models" in text


def test_a_source_install_without_torch_gets_the_extra_from_pytorchs_index(qtbot, without_torch):
    dialog = shown_dialog(qtbot)
    assert "PyTorch, which is not installed" in page_text(dialog)
    command = dialog.install_command.text()
    # the Python this app runs on, the train extra's pinned CPU build, and the index that has it
    assert command.startswith(f"{retraining._shell_command([retraining._console_python()])} -m pip install ")
    assert "torch==" in command and "+cpu" in command
    assert command.endswith("--extra-index-url https://download.pytorch.org/whl/cpu")
    assert '"predictive-keyboard[train]"' not in command
    dialog.copy_command_button.click()
    assert QGuiApplication.clipboard().text() == command


def test_without_the_packages_metadata_the_command_is_readmes(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "requires", missing)
    advice = retraining.training_advice()
    assert advice.command == 'pip install -e ".[train]" --extra-index-url https://download.pytorch.org/whl/cpu'
    assert "source folder" in advice.text


@pytest.mark.parametrize("case", ["frozen", "without_torch"])
def test_the_dialog_is_as_tall_as_its_text(qtbot, request, case):
    request.getfixturevalue(case)
    dialog = shown_dialog(qtbot)
    page = dialog.unavailable_page
    # no more than a line or two of room below the Close button (it was 560 px with 3 lines of text)
    assert dialog.height() < 320
    close = next(b for b in page.findChildren(QPushButton) if b.text() == "Close")
    bottom = close.mapTo(dialog, close.rect().bottomLeft()).y()
    assert dialog.height() - bottom < 40


def test_the_command_is_quoted_for_this_systems_shell(monkeypatch, without_torch):
    """``>=`` redirects in both shells, and a Windows Python often lives under "Program Files"."""
    monkeypatch.setattr(sys, "executable", r"C:\Program Files\Python311\python.exe")
    monkeypatch.setattr(sys, "platform", "win32")
    command = retraining.training_advice().command
    assert command.startswith(r'"C:\Program Files\Python311\python.exe" -m pip install ')
    assert re.search(r' "onnx>=[\d.]+" ', command) and " onnx>=" not in command
    monkeypatch.setattr(sys, "executable", "/home/me/my venv/bin/python")
    monkeypatch.setattr(sys, "platform", "linux")
    command = retraining.training_advice().command
    assert command.startswith("'/home/me/my venv/bin/python' -m pip install ")
    assert re.search(r" 'onnx>=[\d.]+' ", command)
