"""Message boxes that show the user's file, folder and model names as they are.

A ``QMessageBox`` shows its text as HTML when it looks like markup (``Qt::AutoText``),
so a box naming a file called "<b>x</b>.txt" showed a bold "x.txt", and one called
"<img src=…>" a picture instead of its name.  ``question``, ``warning``, ``critical``
and ``information`` are Qt's static functions with the text shown literally; a box
built by hand calls ``setTextFormat(Qt.TextFormat.PlainText)`` itself, and a label
that shows such a name is made with ``plain_label``.  A box or label that means its
markup (the About box) escapes the user's part with ``html.escape`` instead.

A tooltip is shown as HTML on the same guess, and has no format of its own to set: one
that holds such a name is set to ``plain_tooltip(text)``.

The static functions are still what is called (the tests replace them to answer):
the box they make is set to plain text as it is polished, before it is laid out.
"""

from __future__ import annotations

import html

from PySide6 import QtGui
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QWidget

SB = QMessageBox.StandardButton


class _PlainText(QObject):
    """While installed on the application: a message box left at ``AutoText`` shows plain text."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if (event.type() == QEvent.Type.Polish and isinstance(watched, QMessageBox)
                and watched.textFormat() == Qt.TextFormat.AutoText):
            watched.setTextFormat(Qt.TextFormat.PlainText)
        return False


def _show(kind: str, parent: QWidget | None, title: str, text: str,
          buttons: SB | None, default: SB | None) -> SB:
    # Only what was given is passed on: Qt's own defaults otherwise (Yes | No for a question).
    given = () if buttons is None else (buttons,) if default is None else (buttons, default)
    app = QApplication.instance()
    plain = _PlainText()
    app.installEventFilter(plain)
    try:
        return getattr(QMessageBox, kind)(parent, title, text, *given)
    finally:
        app.removeEventFilter(plain)


def question(parent: QWidget | None, title: str, text: str,
             buttons: SB | None = None, default: SB | None = None) -> SB:
    """``QMessageBox.question`` with ``text`` shown as it is."""
    return _show("question", parent, title, text, buttons, default)


def warning(parent: QWidget | None, title: str, text: str,
            buttons: SB | None = None, default: SB | None = None) -> SB:
    """``QMessageBox.warning`` with ``text`` shown as it is."""
    return _show("warning", parent, title, text, buttons, default)


def critical(parent: QWidget | None, title: str, text: str,
             buttons: SB | None = None, default: SB | None = None) -> SB:
    """``QMessageBox.critical`` with ``text`` shown as it is."""
    return _show("critical", parent, title, text, buttons, default)


def information(parent: QWidget | None, title: str, text: str,
                buttons: SB | None = None, default: SB | None = None) -> SB:
    """``QMessageBox.information`` with ``text`` shown as it is."""
    return _show("information", parent, title, text, buttons, default)


def plain_label(text: str = "") -> QLabel:
    """A label that shows ``text`` (and every later ``setText``) as it is, never as markup."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_tooltip(text: str) -> str:
    """``text`` for ``setToolTip`` so that the tooltip shows it as it is, never as markup.

    A tooltip is a label left at ``AutoText``: text that ``Qt.mightBeRichText`` takes for
    markup ("<b>x</b>.txt", "a &lt; b") is rendered as HTML.  That text is escaped into a
    paragraph that keeps its spaces and line breaks (``white-space: pre-wrap``; Qt's
    ``convertFromPlainText`` drops a line's leading spaces and blank lines); any other text
    is returned unchanged, so it looks as before.
    """
    if not QtGui.Qt.mightBeRichText(text):
        return text
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"
