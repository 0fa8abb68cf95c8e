"""The suggestion strip: three buttons above the editor.

Buttons never take the keyboard focus, so clicking one leaves the caret in
the editor.  Each shows its number (the Alt/Ctrl shortcut), the first one
is marked as the Tab target, and a right-click offers to forget the word.
The strip keeps its height when empty, so the text never jumps.
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QSizePolicy, QWidget


class SuggestionButton(QPushButton):
    """A flat button showing ``n  word``; the labels let clicks through."""

    def __init__(self, *, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.setObjectName(f"suggestion{index + 1}")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(40)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 2, 10, 2)
        self.hint = QLabel(str(index + 1))
        self.hint.setObjectName("hint")
        self.word = QLabel("")
        self.word.setObjectName("word")
        self.word.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.word.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.word.setFont(font)
        for label in (self.hint, self.word):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout.addWidget(self.hint)
        layout.addWidget(self.word, 1)
        spacer = QLabel("")  # balances the hint so the word is centred
        spacer.setFixedWidth(self.hint.sizeHint().width())
        layout.addWidget(spacer)

    def set_word(self, word: str) -> None:
        self.word.setText(word)
        self.setAccessibleName(f"Suggestion {self.index + 1}: {word}" if word else f"Suggestion {self.index + 1}")


class SuggestionStrip(QWidget):
    activated = Signal(int)  # the index of the suggestion to put in
    forget_requested = Signal(int)  # right-click: forget what was learned of it
    block_requested = Signal(int)  # right-click: never suggest it

    def __init__(self, *, slots: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("strip")
        self._suggestions: list[Any] = []
        self._placeholder = ""
        self.can_forget = lambda suggestion: False  # set by the window (personal layer)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        self.buttons: list[SuggestionButton] = []
        for i in range(slots):
            button = SuggestionButton(index=i)
            button.clicked.connect(lambda _=False, i=i: self.activated.emit(i))
            button.customContextMenuRequested.connect(lambda pos, i=i: self._context_menu(i, pos))
            layout.addWidget(button)
            self.buttons.append(button)
        self.buttons[0].setProperty("first", True)
        self.setStyleSheet(
            """
            QPushButton { border: 1px solid palette(mid); border-radius: 6px;
                          background: palette(base); }
            QPushButton:hover:enabled { background: palette(alternate-base);
                                        border-color: palette(highlight); }
            QPushButton:pressed { background: palette(midlight); }
            QPushButton[first="true"]:enabled { border: 2px solid palette(highlight); }
            QPushButton:disabled { border-style: dashed; }
            QLabel#hint { color: palette(placeholder-text); }
            QLabel#word:disabled { color: palette(placeholder-text); }
            """
        )
        self.set_suggestions([])

    def suggestions(self) -> list[Any]:
        return list(self._suggestions)

    def words(self) -> list[str]:
        return [s.text for s in self._suggestions]

    def set_suggestions(self, suggestions: Sequence[Any], *, placeholder: str = "") -> None:
        self._suggestions = list(suggestions)[: len(self.buttons)]
        self._placeholder = placeholder
        for i, button in enumerate(self.buttons):
            if i < len(self._suggestions):
                word = self._suggestions[i].text
                button.set_word(word)
                button.setEnabled(True)
                keys = "Tab, " if i == 0 else ""
                button.setToolTip(
                    f"Insert “{word}” ({keys}Alt+{i + 1} or Ctrl+{i + 1})\nRight-click for more"
                )
            else:
                button.set_word(placeholder if i == 0 and not self._suggestions else "")
                button.setEnabled(False)
                button.setToolTip(f"Suggestion {i + 1} (Alt+{i + 1} or Ctrl+{i + 1})")

    def _context_menu(self, index: int, pos: QPoint) -> None:
        if index >= len(self._suggestions):
            return
        menu = self.context_menu(index)
        menu.exec(self.buttons[index].mapToGlobal(pos))

    def context_menu(self, index: int) -> QMenu:
        suggestion = self._suggestions[index]
        menu = QMenu(self)
        insert = QAction(f"Insert “{suggestion.text}”", menu)
        insert.triggered.connect(lambda: self.activated.emit(index))
        forget = QAction(f"Forget “{suggestion.text}” (learned from my typing)", menu)
        forget.setEnabled(bool(self.can_forget(suggestion)))
        forget.triggered.connect(lambda: self.forget_requested.emit(index))
        block = QAction(f"Never Suggest “{suggestion.text}”", menu)
        block.triggered.connect(lambda: self.block_requested.emit(index))
        menu.addActions([insert])
        menu.addSeparator()
        menu.addActions([forget, block])
        return menu
