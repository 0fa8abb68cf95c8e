"""Suggestions ▸ Learning ▸ Learned and Blocked Words: see, search, remove one by one.

The list holds the words learned from the user's typing (with how often
each was counted) and the words they chose never to see again, each as the
user writes it ("I", "Zanzibar": ``PersonalModel.display``).  Nothing is
selected when it opens, and no button is the default, so Enter in the
search field removes nothing: a word goes only when it is chosen and
"Remove" (or Delete) is pressed.  Removing a learned word forgets it;
removing a blocked one lets it be suggested again.

"Export..." writes everything learned, and the blocked words, to a file a
person takes to another computer or keeps over a reinstall; "Import..."
adds such a file's counts to these (``learning``: the format is in
docs/CONTRACTS.md).  A file that cannot be imported is one sentence in a
message box, and nothing changes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QSize, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import learning, paths
from ..learning import LearnedWordsFileError, PersonalModel
from . import boxes
from .elide import fit_to_screen

LEARNED, BLOCKED = "learned", "blocked"
FILE_FILTER = "Learned words (*.json);;All files (*)"


class _WordItem(QTreeWidgetItem):
    """A row sorted as a reader looks a word up: "are" before "Éclair" before "Frabnitz"
    before "zebra", and "counted 2×" before "10×" (Qt's own order puts every capital
    before every small letter and accents after z; ``QCollator`` follows the locale's
    order only where the system has one, which the C locale has not)."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        tree = self.treeWidget()
        column = tree.sortColumn() if tree is not None else 0
        return _reading_order(self.text(column)) < _reading_order(other.text(column))


def _words(count: int) -> str:
    return "word" if count == 1 else "words"


def _reading_order(text: str) -> tuple[list, str]:
    """The letters without their accents and case, numbers as numbers; then the text."""
    import unicodedata  # (when the list is first sorted, not at the start)

    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    return [int(part) if i % 2 else part for i, part in enumerate(re.split(r"(\d+)", plain))], text


class LearnedWordsDialog(QDialog):
    changed = Signal()  # a word was forgotten or unblocked, or a file imported

    def __init__(self, *, personal: PersonalModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LearnedWordsDialog")
        self.setWindowTitle("Learned and Blocked Words")
        self.personal = personal

        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Type to filter the list")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the learned and blocked words")
        search_label = QLabel("&Search:")
        search_label.setBuddy(self.search)
        self.list = QTreeWidget()
        self.list.setObjectName("words")
        self.list.setColumnCount(2)
        self.list.setHeaderLabels(["Word", "Status"])
        self.list.setRootIsDecorated(False)
        self.list.setSortingEnabled(True)
        self.list.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setAccessibleName("Learned and blocked words")
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setObjectName("remove")
        self.remove_button.setAutoDefault(False)
        self.remove_button.setAccessibleName("Remove the chosen words")
        self.remove_button.setToolTip("Forget a learned word, or let a blocked word be suggested again (Delete)")
        self.export_button = QPushButton("&Export…")
        self.export_button.setObjectName("export")
        self.export_button.setAccessibleName("Export the learned and blocked words to a file")
        self.export_button.setToolTip("Save everything learned, and the blocked words, to a file "
                                      "to take to another computer")
        self.import_button = QPushButton("&Import…")
        self.import_button.setObjectName("import")
        self.import_button.setAccessibleName("Import learned and blocked words from a file")
        self.import_button.setToolTip("Add the words of an exported file to those learned here")
        self.status = boxes.plain_label()  # names the file exported or imported
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.ActionRole)
        for button in buttons.buttons():
            button.setAutoDefault(False)
            button.setDefault(False)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText("&Close")

        top = QHBoxLayout()
        top.addWidget(search_label)
        top.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        # Tab as they are laid out (the button box put Close first): Remove, Export, Import, Close.
        for before, after in ((self.list, self.remove_button), (self.remove_button, self.export_button),
                              (self.export_button, self.import_button), (self.import_button, close)):
            QWidget.setTabOrder(before, after)

        self.search.textChanged.connect(self._filter)
        self.list.itemSelectionChanged.connect(self._enable)
        self.remove_button.clicked.connect(self.remove_selected)
        self.export_button.clicked.connect(self.export_words)
        self.import_button.clicked.connect(self.import_words)
        self.list.installEventFilter(self)  # Delete in the list removes (in the search field it edits)
        fit_to_screen(self, QSize(520, 440))
        self.refresh()
        self.search.setFocus()

    def refresh(self) -> None:
        """One row a word: a blocked word that was learned too is listed once, as blocked
        (Remove lets it be suggested again; its learned row then comes back)."""
        self.list.setSortingEnabled(False)
        self.list.clear()
        blocked = self.personal.blocked
        for token, count in self.personal.unigrams.items():
            if token in blocked:
                continue
            item = _WordItem([self.personal.display(token), f"learned, counted {count}×"])
            item.setData(0, Qt.ItemDataRole.UserRole, (LEARNED, token))
            self.list.addTopLevelItem(item)
        for token in blocked:
            count = self.personal.unigrams.get(token)
            status = "never suggested" + (f" (learned, counted {count}×)" if count else "")
            item = _WordItem([self.personal.display(token) if count else token, status])
            item.setData(0, Qt.ItemDataRole.UserRole, (BLOCKED, token))
            self.list.addTopLevelItem(item)
        self.list.setSortingEnabled(True)
        self.list.setCurrentItem(None)
        self.list.clearSelection()
        self._filter(self.search.text())

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        shown = 0
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            hidden = bool(needle) and needle not in item.text(0).lower()
            item.setHidden(hidden)
            if hidden:
                item.setSelected(False)
            shown += not hidden
        total = self.list.topLevelItemCount()
        self.summary.setText(f"{shown} of {total} words" if needle else f"{total} words")
        self._enable()

    def selected(self) -> list[tuple[str, str]]:
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()
                if not item.isHidden()]

    def _enable(self) -> None:
        self.remove_button.setEnabled(bool(self.selected()))

    def remove_selected(self) -> None:
        chosen = self.selected()
        if not chosen:
            return
        shown = self._shown_items()
        row = next(i for i, item in enumerate(shown) if item.isSelected())  # (one pass: 50,000 words)
        for kind, token in chosen:
            if kind == LEARNED:
                self.personal.forget(token)
            else:
                self.personal.unblock(token)
        self.refresh()
        self._current_at(row)
        self.changed.emit()

    def _shown_items(self) -> list[QTreeWidgetItem]:
        """The rows not filtered out, top to bottom."""
        items = (self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount()))
        return [item for item in items if not item.isHidden()]

    def _current_at(self, row: int) -> None:
        """Put the list's cursor on the ``row``-th shown row (the word after those removed; the
        last if they were last), nothing selected: the cursor went back to the top after each
        removal, and removing several words meant walking down again each time (H48's finding 8).
        Space selects the row, Delete then removes it."""
        shown = self._shown_items()
        if not shown:
            return
        item = shown[min(row, len(shown) - 1)]
        self.list.setCurrentItem(item, 0, QItemSelectionModel.SelectionFlag.NoUpdate)
        self.list.scrollToItem(item)

    def export_words(self) -> Path | None:
        """Ask where, and write the file (atomically: a file already there stays whole if
        the write fails); the path written, or None."""
        name, _ = QFileDialog.getSaveFileName(self, "Export Learned Words",
                                              str(Path.home() / "learned-words.json"), FILE_FILTER)
        if not name:
            return None
        path = Path(name)
        own = paths.learned_data_path()
        if path.resolve() == own.resolve():  # an export is another format: the app would set it aside
            boxes.warning(self, "Export Learned Words",
                          f"{path} is the app's own file of learned words: choose another name or folder.")
            return None
        try:
            count = self.personal.export_words(path)
        except OSError as e:
            boxes.warning(self, "Export Learned Words",
                          f"The learned words could not be written to {path} ({e.strerror or e}).")
            return None
        blocked = len(self.personal.blocked)
        self.status.setText(f"Exported {count:,} learned {_words(count)} and {blocked:,} blocked "
                            f"{_words(blocked)} to {path}.")
        return path

    def import_words(self) -> bool:
        """Ask which file, and add its words to those learned here; False if none was
        chosen or it could not be used (said in one sentence)."""
        name, _ = QFileDialog.getOpenFileName(self, "Import Learned Words", str(Path.home()), FILE_FILTER)
        if not name:
            return False
        try:
            imported = self.personal.import_words(name)
        except LearnedWordsFileError as e:
            boxes.warning(self, "Import Learned Words", str(e))
            return False
        n = imported.dropped
        dropped = (f"; {n:,} little-used {_words(n)} {'was' if n == 1 else 'were'} dropped to keep at most "
                   f"{learning.MAX_WORDS:,} learned words" if n else "")
        self.status.setText(f"Imported {imported.words:,} {_words(imported.words)} ({imported.new_words:,} "
                            f"new here) and {imported.blocked:,} blocked {_words(imported.blocked)} "
                            f"from {Path(name)}{dropped}.")
        self.refresh()
        self.changed.emit()
        return True

    def words(self) -> list[str]:
        """The words listed and not filtered out (for tests)."""
        return [self.list.topLevelItem(i).text(0) for i in range(self.list.topLevelItemCount())
                if not self.list.topLevelItem(i).isHidden()]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if (watched is self.list and event.type() == QEvent.Type.KeyPress
                and event.matches(QKeySequence.StandardKey.Delete)):
            self.remove_selected()
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        # Enter never removes: a dialog would press its default button; there is none here.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)
