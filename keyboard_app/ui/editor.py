"""The text editor: a plain-text edit that reports what the user types.

It knows nothing about models.  It tells the controller about keystrokes
(for the keystroke-savings count and the personal layer) and hands Tab to
``tab_handler`` (the controller puts in the first suggestion); when that
takes nothing (no suggestion shown, the strip hidden with Esc, or Tab not
chosen as the accept key) Tab inserts a tab character as in any editor.
Ctrl+Y redoes, as Ctrl+Shift+Z does.

It also keeps the document's text as a Python string, patched from Qt's
``contentsChange`` at every edit: ``toPlainText()`` copies and converts the
whole document (about 4 ms for 350,000 characters), far too slow to call
on every keystroke of a long document.  The copy is checked against the
document's length after each patch and rebuilt if they ever disagree.
Qt counts positions in UTF-16 units; while the text has no character
outside the Basic Multilingual Plane (an emoji, say) they are Python
offsets too, and otherwise they are converted.
"""

from __future__ import annotations

import re
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget


class Editor(QPlainTextEdit):
    #: A key press that inserts text (as typed), before it is inserted.
    typing = Signal(str)
    #: Any key press that edits or moves (the strip comes back after Esc).
    keystroke = Signal()
    tab_pressed = Signal()  # Tab was used to accept (not inserted)

    def __init__(self, *, font_size: int = 13, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editor")
        self.setTabChangesFocus(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        font = QFont(self.font())
        font.setPointSize(font_size)
        self.setFont(font)
        self.document().setDocumentMargin(14)
        self.setPlaceholderText("Start typing — suggestions appear above.")
        self.document().setModified(False)  # the margin counts as a change to Qt
        self._text = ""
        self._text_valid = True  # _text is the document's text, and it is all BMP
        #: Called on Tab; True if it used the key (put a suggestion in). None: Tab is a tab.
        self.tab_handler: Callable[[], bool] | None = None
        self.document().contentsChange.connect(self._patch_text)

    # --- the text as Python sees it -----------------------------------------------
    def plain_text(self) -> str:
        """The whole text (``toPlainText()``, kept up to date cheaply)."""
        if not self._text_valid:
            self._text = self.toPlainText()
            self._text_valid = not _ASTRAL.search(self._text)
        return self._text

    def cursor_offset(self) -> int:
        """The caret as a Python offset into ``plain_text()``."""
        text = self.plain_text()
        position = self.textCursor().position()
        if self._text_valid:
            return position
        # Qt counts UTF-16 code units; an emoji is two of them but one Python character.
        return len(text.encode("utf-16-le", "surrogatepass")[: 2 * position].decode("utf-16-le", "replace"))

    def text_before_cursor(self) -> str:
        """The document's text up to the caret."""
        text = self.plain_text()
        return text[: self.cursor_offset()]

    def text_after_cursor(self, limit: int | None = None) -> str:
        """The document's text from the caret on (its first ``limit`` characters)."""
        start = self.cursor_offset()
        return self.plain_text()[start : None if limit is None else start + limit]

    def _patch_text(self, position: int, removed: int, added: int) -> None:
        if not self._text_valid:
            return
        document = self.document()
        length = document.characterCount() - 1  # without the final paragraph separator
        cursor = QTextCursor(document)
        cursor.setPosition(min(position, length))
        cursor.setPosition(min(position + added, length), QTextCursor.MoveMode.KeepAnchor)
        inserted = cursor.selectedText().translate(_PLAIN)
        text = self._text[:position] + inserted + self._text[position + removed:]
        if len(text) != length or _ASTRAL.search(inserted):
            self._text_valid = False  # rebuilt from the document when next asked for
            return
        self._text = text

    def replace_text(self, start: int, end: int, text: str, skip: int = 0) -> None:
        """Replace Python offsets ``[start, end)`` of the document with ``text``: one undo step,
        which the characters typed next do not join (see ``_seal``).

        The caret ends up after ``text``, then ``skip`` characters further on.
        """
        before = self.plain_text()[:end]
        qt_start, qt_end = _utf16_length(before[:start]), _utf16_length(before)
        cursor = self.textCursor()
        cursor.beginEditBlock()
        cursor.setPosition(qt_start)
        cursor.setPosition(qt_end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text)
        if text:
            _seal(cursor)
        cursor.endEditBlock()
        if skip:
            cursor.movePosition(QTextCursor.MoveOperation.NextCharacter, n=skip)
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key == Qt.Key.Key_Tab and mods == Qt.KeyboardModifier.NoModifier:
            if self.tab_handler is not None and self.tab_handler():
                event.accept()
                self.tab_pressed.emit()
                return
        if key == Qt.Key.Key_Y and mods == Qt.KeyboardModifier.ControlModifier:
            event.accept()
            self.redo()  # Qt binds redo to Ctrl+Shift+Z only, outside Windows
            return
        text = event.text()
        inserts = bool(text) and text.isprintable() or key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if inserts and not (mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)):
            self.typing.emit("\n" if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) else text)
        if key not in (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_Escape):
            self.keystroke.emit()
        super().keyPressEvent(event)


def _seal(cursor: QTextCursor) -> None:
    """End the open edit block on something typing cannot merge into.

    Qt merges typed characters into the insertion that ends the edit block just
    before them (``QTextDocumentPrivate::appendUndoItem``: "two sequential inserts
    that are not part of the same block"), so a suggestion put in and the words typed
    after it would go in one Ctrl+Z.  A character-format change of the last character
    put in, merging no property at all, changes nothing a reader sees and nothing in
    ``contentsChange`` (the range is already part of the edit), but it is the block's
    last undo command, and Qt merges typing only into an insertion.
    """
    last = QTextCursor(cursor)
    last.setPosition(cursor.position())
    last.movePosition(QTextCursor.MoveOperation.PreviousCharacter, QTextCursor.MoveMode.KeepAnchor)
    last.mergeCharFormat(QTextCharFormat())


def _utf16_length(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
# What toPlainText() turns Qt's separators into (QTextDocument::toPlainText).
_PLAIN = str.maketrans({"\u2029": "\n", "\u2028": "\n", "\ufdd0": "\n", "\ufdd1": "\n", "\u00a0": " "})
