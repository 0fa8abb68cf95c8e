"""Mnemonics for the buttons of Qt's standard message boxes.

``QMessageBox.warning(..., Save | Discard | Cancel)`` labels its buttons
from the platform theme, which on Linux gives "Save", "Discard", "Cancel"
with no underlined letter, so a keyboard user cannot answer "Discard" with
Alt+D.  ``ButtonMnemonics``, installed once on the application, gives every
button of a message box that has none the first letter of its text that no
other button in the box uses, just before the box is shown.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMessageBox


def add_mnemonics(box: QMessageBox) -> None:
    """Underline a free letter of each button of ``box`` that has no mnemonic yet."""
    buttons = box.buttons()
    taken = {_mnemonic(b.text()) for b in buttons} - {None}
    for button in buttons:
        text = button.text()
        if not text or _mnemonic(text) is not None:
            continue
        for i, char in enumerate(text):
            if char.isalnum() and char.lower() not in taken:
                button.setText(text[:i] + "&" + text[i:])
                taken.add(char.lower())
                break


def _mnemonic(text: str) -> str | None:
    i = 0
    while True:
        i = text.find("&", i)
        if i < 0 or i + 1 >= len(text):
            return None
        if text[i + 1] != "&":
            return text[i + 1].lower()
        i += 2  # "&&" is a literal ampersand


class ButtonMnemonics(QObject):
    """An application-wide event filter: message boxes get mnemonics as they are shown."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Show and isinstance(watched, QMessageBox):
            add_mnemonics(watched)
        return False


def install(app: QApplication | None = None) -> None:
    """Install the filter on the application (once)."""
    app = app or QApplication.instance()
    if app is None or app.property("buttonMnemonics"):
        return
    app.installEventFilter(ButtonMnemonics(app))
    app.setProperty("buttonMnemonics", True)
