"""The window's menu entry imports the on-screen keyboard when it is first used (not at
every start): triggering it must still reach ``toggle_for_window``, here on Wayland,
where it says why it cannot open instead of opening."""

from __future__ import annotations

import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Wayland check is for Linux")
def test_the_menu_entry_reaches_the_on_screen_keyboard(make_window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append(text)))
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    window = make_window()
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    [entry] = [a for a in view.actions() if a.text() == "On-Screen &Keyboard"]
    entry.trigger()
    assert len(shown) == 1 and shown[0].startswith("This is a Wayland session")
