"""The text editor: a plain-text edit that reports what the user types.

It knows nothing about models.  It tells the controller about keystrokes
(for the keystroke-savings count and the personal layer) and hands Tab to
``tab_handler`` (the controller puts in the first suggestion); when that
takes nothing (no suggestion shown, the strip hidden with Esc, or Tab not
chosen as the accept key) Tab inserts a tab character as in any editor.
Ctrl+Y redoes, as Ctrl+Shift+Z does.

Undo goes a word at a time, as in LibreOffice or gedit: each word with the
spaces and punctuation typed after it is one step, and so is a paste, an
accepted suggestion or a correction (``replace_range``).  Qt merges every
plain insertion into the one before it when they are adjacent, so left alone
one Ctrl+Z took back all the typing since the last suggestion, whole
sentences of it.  A key that starts a word (text other than white space typed
after white space) is handled inside an edit block, which Qt does not merge
into the plain insertion before it, while the letters typed after it still
merge into it (``QTextDocumentPrivate::appendUndoItem``); redo replays the
same steps.  An edit a ``typing`` handler makes for the key (the
auto-correction on a space, the accepted word's space that a full stop takes
back) goes in the same step as the key.

The controller reads the text a window at a time (``text_between``, in
Qt's positions): the predictor needs the end of the text before the caret,
not all of it (``context_window``), and anything that costs in proportion
to the document at every keystroke makes typing lag in a long one
(``toPlainText()`` copies and converts all of it, and a Python copy of the
whole text patched at every edit meant building the whole string anew at
every key).  So the editor keeps a copy of the last range read, patched from
Qt's ``contentsChange`` when an edit falls inside it or at its end (typing
at the caret), left alone when it falls after it, and dropped otherwise, to
be read again when next asked for.  Qt counts positions in UTF-16 units;
while the copy has no character outside the Basic Multilingual Plane (an
emoji, say) they are Python offsets into it too, and otherwise it is read
again for each range.
"""

from __future__ import annotations

import re
from typing import Callable

from PySide6.QtCore import QMimeData, Qt, Signal
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
        self.document().clearUndoRedoStacks()  # and as an undo step, which changed nothing seen
        # The copy of the last range read (``text_between``): Qt positions [start, end).
        self._copy: str | None = None
        self._copy_start = self._copy_end = 0
        self._copy_bmp = True  # no character outside the BMP: Qt positions are offsets into it
        #: Called on Tab; True if it used the key (put a suggestion in). None: Tab is a tab.
        self.tab_handler: Callable[[], bool] | None = None
        #: (revision, caret) right after the last key that typed text, and after the last
        #: ``replace_range``: where the step they made goes on.
        self._typed_end: tuple[int, int] | None = None
        self._replaced_end: tuple[int, int] | None = None
        self.document().contentsChange.connect(self._patch_copy)

    # --- the text as Python sees it -----------------------------------------------
    def position(self) -> int:
        """The caret, in Qt's positions (UTF-16 units from the start of the document)."""
        return self.textCursor().position()

    def text_between(self, start: int, end: int) -> str:
        """The text between Qt positions ``start`` and ``end``, as ``toPlainText()`` writes it.

        Costs in proportion to the range, not to the document: served from the copy of
        the range read last where it covers this one (a range that ends further on is
        read from the copy's end only)."""
        copy = self._copy
        if copy is not None and self._copy_bmp and self._copy_start <= start <= min(end, self._copy_end):
            if end > self._copy_end:  # the caret moved on: read from the copy's end only
                more = self._read(self._copy_end, end)
                if _ASTRAL.search(more) is None and len(more) == end - self._copy_end:
                    copy = self._copy = copy + more
                    self._copy_end = end
            if end <= self._copy_end:
                if start > self._copy_start:  # keep only what is asked for from now on
                    copy = self._copy = copy[start - self._copy_start :]
                    self._copy_start = start
                return copy if end == self._copy_end else copy[: end - start]
        text = self._read(start, end)
        self._copy, self._copy_start, self._copy_end = text, start, end
        self._copy_bmp = _ASTRAL.search(text) is None
        return text

    def text_at(self, start: int, end: int) -> str:
        """The text between Qt positions ``start`` and ``end``, read from Qt: for a short range
        read once (the copy, which the next keystroke needs, is left as it is)."""
        return self._read(start, end)

    def _read(self, start: int, end: int) -> str:
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        return _plain(cursor.selectedText())

    def plain_text(self) -> str:
        """The whole text (``toPlainText()``): in proportion to the document, so not for
        every keystroke."""
        return self.toPlainText()

    def text_before_cursor(self) -> str:
        """The whole text up to the caret (in proportion to the document, as ``plain_text``)."""
        return self._read(0, self.position())

    def text_after_cursor(self, limit: int) -> str:
        """The first ``limit`` characters after the caret."""
        start = self.position()
        end = min(start + 2 * limit, self.document().characterCount() - 1)  # an emoji is two units
        return self._read(start, end)[:limit]

    def _patch_copy(self, position: int, removed: int, added: int) -> None:
        """Keep the copy the document's text after an edit: patched where the edit falls
        inside it or at its end, as it is where the edit comes after it, dropped otherwise."""
        if self._copy is None:
            return
        start, end = self._copy_start, self._copy_end
        if position > end or (position == end and removed):
            return  # after the copy: its text and positions are unchanged
        if not self._copy_bmp or position < start or position + removed > end or added > _PATCH_LIMIT:
            self._copy = None  # read again when next asked for
            return
        length = self.document().characterCount() - 1  # without the final paragraph separator
        inserted = self._read(min(position, length), min(position + added, length))
        if len(inserted) != added or _ASTRAL.search(inserted) is not None:
            self._copy = None  # (Qt counts the final separator in some changes: read it all again)
            return
        offset = position - start
        self._copy = self._copy[:offset] + inserted + self._copy[offset + removed :]
        self._copy_end = end + added - removed

    def replace_text(self, start: int, end: int, text: str, skip: int = 0) -> None:
        """``replace_range`` with Python offsets into ``plain_text()`` (reads the text before
        ``end``; the controller, which has its window's offsets, calls ``replace_range``)."""
        before = self.plain_text()[:end]
        self.replace_range(_utf16_length(before[:start]), _utf16_length(before), text, skip)

    def replace_range(self, start: int, end: int, text: str, skip: int = 0) -> None:
        """Replace Qt positions ``[start, end)`` of the document with ``text``: one undo step,
        which the word typed next does not join (see ``_seal``); white space typed right
        after it does (``keyPressEvent``), as the space of an accepted word would.

        The caret ends up after ``text``, then ``skip`` characters further on.
        """
        cursor = self.textCursor()
        cursor.beginEditBlock()
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text)
        if text:
            _seal(cursor)
        cursor.endEditBlock()
        if skip:
            cursor.movePosition(QTextCursor.MoveOperation.NextCharacter, n=skip)
        self.setTextCursor(cursor)
        self.ensureCursorVisible()
        self._replaced_end = (self.document().revision(), cursor.position())

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
        if not inserts or mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            self._key(event)
            return
        line_break = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        typed = "\n" if line_break else text
        cursor = self.textCursor()
        if self._starts_word(cursor, typed):
            cursor.beginEditBlock()  # its own undo step, which the rest of the word joins
            try:
                self.typing.emit(typed)
                self._key(event)
            finally:
                cursor.endEditBlock()
            self.ensureCursorVisible()  # (the layout was out of date inside the block)
        else:
            # Joined by hand to the step before: a line break (not an insertion, which Qt
            # would merge) right after a word typed, white space right after a replacement
            # (an accepted word's space, when it did not put one in), and this key to an
            # edit a handler made for it.
            here = (self.document().revision(), cursor.position())
            join = (line_break and here == self._typed_end) or (typed.isspace() and here == self._replaced_end)
            revision = self.document().revision()
            self.typing.emit(typed)
            if self.document().revision() == revision and not join:
                self._key(event)
            else:
                cursor.joinPreviousEditBlock()
                try:
                    self._key(event)
                finally:
                    cursor.endEditBlock()
                self.ensureCursorVisible()
        self._typed_end = (self.document().revision(), self.textCursor().position())

    def _key(self, event: QKeyEvent) -> None:
        if event.key() not in (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta,
                               Qt.Key.Key_Escape):
            self.keystroke.emit()
        super().keyPressEvent(event)

    def _starts_word(self, cursor: QTextCursor, typed: str) -> bool:
        """Whether ``typed`` starts a new undo step: text other than white space typed after
        white space (or the start of the text), or over a selection."""
        if cursor.hasSelection():
            return True
        if typed.isspace():
            return False
        position = cursor.position()
        return position == 0 or self.document().characterAt(position - 1).isspace()

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt API
        """A paste or a drop: one undo step, which neither the typing before it nor the
        typing after it joins."""
        block = self.textCursor()
        revision = self.document().revision()
        block.beginEditBlock()
        try:
            super().insertFromMimeData(source)
            cursor = self.textCursor()
            if self.document().revision() != revision and cursor.position() > 0 and not cursor.hasSelection():
                _seal(cursor)
        finally:
            block.endEditBlock()


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


def _plain(selected: str) -> str:
    """``QTextCursor.selectedText()`` as ``toPlainText()`` writes it: Qt's separators as line
    breaks, no-break spaces as spaces (one ``replace`` at C speed for the common case)."""
    text = selected.replace("\u2029", "\n")
    return text.translate(_PLAIN) if _RARE.search(text) else text


_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
_RARE = re.compile("[\u2028\ufdd0\ufdd1\u00a0]")
#: An edit inserting more than this drops the copy rather than read what it put in.
_PATCH_LIMIT = 1 << 16
# What toPlainText() turns Qt's separators into (QTextDocument::toPlainText).
_PLAIN = str.maketrans({"\u2029": "\n", "\u2028": "\n", "\ufdd0": "\n", "\ufdd1": "\n", "\u00a0": " "})
