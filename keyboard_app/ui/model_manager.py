"""The model manager: see the models, switch, import, rename, export, delete.

The list comes from ``ModelStore`` (manifests only, so it opens at once);
the slow parts -- importing (checksums, opening the graph, copying) and
exporting (zipping) -- run in background tasks.  The built-in model cannot
be renamed or deleted, and neither can the model in use be deleted.  The
dialog is given the ``ModelController``, not the window: it switches,
imports and renames through it and follows its signals.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QPalette, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStyle,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..model_store import ModelInfo, ModelStoreError, slugify
from . import boxes
from .elide import fit_to_screen
from .model_controller import ModelController
from .tasks import run_task
from .worker import LoadedModel

log = logging.getLogger(__name__)

BUNDLE_FILTER = "Model bundles: a .zip, or manifest.json in a folder (*.zip manifest.json);;All files (*)"
IMPORT_TITLE = "Import a Model"  # short: a window manager cuts long titles in the middle
DETAIL_ROWS = [
    ("origin", "Origin"), ("status", "Status"), ("size", "Size"), ("created", "Created"),
    ("shape", "Network"), ("corpus", "Trained on"), ("metrics", "Measured"), ("path", "Location"),
]
#: A typical name in the list, as the entry of the model in use shows it (in bold): a
#: retrain's proposal on a second run in a day.  The list is made wide enough for it in
#: the list's own font, so that it follows the font and its size.
TYPICAL_ENTRY = "My writing 2026-12-03 (2)"
IN_USE = "   (in use)"
#: The details are at least this many average characters of their font wide: beside the
#: list where the dialog is wide enough for both (an 800 px window is), under it where it is
#: not (200 % on a small screen). A fixed 400 px put them under the list at 800 px (H59).
DETAILS_CHARS = 44
#: The Rename box's field shows this many average characters of its font: a typical name
#: with room to add to it (QInputDialog.getText's field is as wide as the box's short label
#: and its buttons, and cut a typical name off while it was edited).
RENAME_CHARS = 48
ORIGINS = {
    "built-in": "Built in",
    "trained": "Trained by you",
    "imported": "Imported",
    "file": "Opened from a file",
}


TRAINER_METRIC_TOKENS = 300_000  # model_training.pipeline.METRIC_MAX_TOKENS: the perplexity's cap


def measured_text(manifest: dict) -> str:
    """The figures the trainer measured on the text it held out, each with what it was
    measured on, in words (H33's finding 6): the retrain dialog's comparison scores both
    models afresh on another sample of the held-out text (``retraining.EVAL_MAX_WORDS``
    words) and README's headline on the held-out texts of eleven sources, so the same model
    shows other figures there, and only the sample says why.  The next-word figure is the
    one of the suggestions shown (the manifest's ``strip_topk``), as the retrain dialog's
    is; the trainer's ``top3`` (the next word or punctuation mark among the network's three
    likeliest) is shown, said so, only where a manifest lacks it.  One line per sample."""
    m = manifest.get("metrics") if isinstance(manifest.get("metrics"), dict) else {}
    training = manifest.get("training") if isinstance(manifest.get("training"), dict) else {}
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    where = "start" if training.get("heldout_at") == "start" else "end"
    held = f"the text held out of training (the {where} of each file)"
    lines = []
    ksr = m.get("ksr") if isinstance(m.get("ksr"), dict) else {}
    strip = m.get("strip_topk") if isinstance(m.get("strip_topk"), dict) else {}
    typed = []
    if number(ksr.get("3")):
        # (the most its suggestions can save: a typist who takes every right one; the status bar
        # counts what a person saved, often far less, and a newcomer doubted the app, H77)
        typed.append(f"Keystrokes saved {ksr['3']:.1f}% (3 suggestions shown, every right one taken)")
    if number(strip.get("3")):
        typed.append(f"{'n' if typed else 'N'}ext word among the 3 shown {strip['3'] * 100:.1f}%")
    elif number(m.get("top3")):
        typed.append(f"{'n' if typed else 'N'}ext word or punctuation mark among the network's 3 likeliest "
                     f"{m['top3'] * 100:.1f}%")
    if typed:
        words, asked = m.get("ksr_words"), training.get("eval_max_words")
        if isinstance(words, int) and words > 0:
            # the trainer scores the held-out text's first ``eval_max_words`` words, or all it has
            first = "the first" if isinstance(asked, int) and words >= asked else "all"
            sample = f"{first} {words:,} words of {held}"
        else:
            sample = held
        lines.append(f"{', '.join(typed)}: on {sample}")
    if number(m.get("perplexity")):
        tokens = m.get("heldout_tokens")
        if isinstance(tokens, int) and tokens > 0:
            first = "the first" if tokens >= TRAINER_METRIC_TOKENS else "all"
            on = f"{first} {tokens:,} words and punctuation marks of {held}"
        else:
            on = held
        lines.append(f"How unsure it is of the next word (perplexity) {m['perplexity']:.1f}, lower is "
                     f"better: on {on}")
    return "\n".join(lines) or "not measured"


def list_width(view: QAbstractItemView) -> int:
    """The width ``view`` needs to show ``TYPICAL_ENTRY`` in use (bold) without cutting
    it: the text, the item's margins, the frame and a vertical scroll bar."""
    bold = QFont(view.font())
    bold.setBold(True)
    text = QFontMetrics(bold).horizontalAdvance(TYPICAL_ENTRY + IN_USE)
    style = view.style()
    margins = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1)
    scroll_bar = style.pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, view)
    return text + margins + 2 * view.frameWidth() + scroll_bar


def rename_box(parent: QWidget, name: str) -> QInputDialog:
    """The Rename box, its field ``RENAME_CHARS`` wide: made here because
    ``QInputDialog.getText`` gives no say over the width."""
    box = QInputDialog(parent)
    box.setWindowTitle("Rename Model")
    box.setInputMode(QInputDialog.InputMode.TextInput)
    box.setLabelText("New name:")
    box.setTextValue(name)
    field = box.findChild(QLineEdit)
    field.setObjectName("renameField")
    field.setMinimumWidth(field.fontMetrics().averageCharWidth() * RENAME_CHARS)
    return box


def choose_bundle_to_import(parent: QWidget, start: str = "") -> Path | None:
    """Ask for a bundle: a .zip, or the manifest.json inside a bundle folder."""
    name, _ = QFileDialog.getOpenFileName(
        parent, IMPORT_TITLE, start,
        BUNDLE_FILTER,
    )
    if not name:
        return None
    path = Path(name)
    return path.parent if path.name == "manifest.json" else path


class ModelManagerDialog(QDialog):
    def __init__(
        self,
        *,
        controller: ModelController,
        start_directory: Callable[[], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ModelManager")
        self.setWindowTitle("Models")
        self.controller = controller
        self.store = controller.store
        self._start_directory = start_directory
        self._tasks: list = []
        self.models: list[ModelInfo] = []

        self.list = QListWidget()
        self.list.setObjectName("modelList")
        self.list.setAccessibleName("Models")
        self.list.setMinimumWidth(list_width(self.list))
        self.list.currentRowChanged.connect(self._show_details)
        self.list.itemActivated.connect(lambda _item: self.use_selected())

        # One rich-text view for the details: it wraps long values (paths, corpus
        # lists) properly and lets them be selected and copied.
        self.details = QTextBrowser()
        self.details.setObjectName("modelDetails")
        self.details.setAccessibleName("Model details")
        self.details.setOpenLinks(False)
        self.details.setFrameShape(QFrame.Shape.NoFrame)
        self.details.setMinimumWidth(self.details.fontMetrics().averageCharWidth() * DETAILS_CHARS)
        self.details.viewport().setAutoFillBackground(False)
        self.values: dict[str, str] = {}  # the details as plain text (for tests and tools)
        details_box = self.details

        self.use_button = QPushButton("&Use This Model")
        self.import_button = QPushButton("&Import…")
        self.rename_button = QPushButton("Re&name…")
        self.export_button = QPushButton("E&xport…")
        self.delete_button = QPushButton("&Delete")
        self.use_button.clicked.connect(self.use_selected)
        self.import_button.clicked.connect(self.import_dialog)
        self.rename_button.clicked.connect(self.rename_selected)
        self.export_button.clicked.connect(self.export_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.rename_button.setToolTip("Rename (F2)")
        self.delete_button.setToolTip("Delete (Del)")
        QShortcut(QKeySequence(Qt.Key.Key_F2), self, self.rename_selected)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list, self.delete_selected)

        buttons = QVBoxLayout()
        for button in (self.use_button, self.import_button, self.rename_button,
                       self.export_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.message = boxes.plain_label()  # names models and files
        self.message.setObjectName("managerMessage")
        self.message.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText("&Close")
        close.rejected.connect(self.reject)

        self.views = views = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        views.addWidget(self.list, 1)
        views.addWidget(details_box, 2)
        top = QHBoxLayout()
        top.addLayout(views, 1)
        top.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.message)
        layout.addWidget(close)
        # Made the default once it is in the dialog: set before, QDialog did not know it and
        # chose the first button of the focus chain (H48's finding 3).
        self.use_button.setDefault(True)
        self._side_by_side_width = self._measure_arrangements()
        fit_to_screen(self, QSize(860, 420))
        self._arrange(self.width())

        controller.ready.connect(self._model_switched)
        controller.failed.connect(self._model_failed)
        self.refresh(select=controller.current_key())

    def _measure_arrangements(self) -> int:
        """The width the list and the details need side by side; the dialog's own minimum
        width is made the narrower one of the details under the list, so that it can be
        made narrow (a small screen, 200 %) and the layout follows its width (``_arrange``)."""
        widths = {}
        for direction in (QBoxLayout.Direction.TopToBottom, QBoxLayout.Direction.LeftToRight):
            self.views.setDirection(direction)
            self.layout().activate()  # (invalidate() left the outer layouts' sizes as they were)
            widths[direction] = self.layout().totalMinimumSize().width()
        self.setMinimumWidth(widths[QBoxLayout.Direction.TopToBottom])
        return widths[QBoxLayout.Direction.LeftToRight]

    def _arrange(self, width: int) -> None:
        """The details beside the list where ``width`` has room for both, under it where
        it has not (200 % on a 1280 or 1024 px screen: H53's finding 3), so that the
        buttons beside them stay on the screen."""
        direction = (QBoxLayout.Direction.LeftToRight if width >= self._side_by_side_width
                     else QBoxLayout.Direction.TopToBottom)
        if self.views.direction() != direction:
            self.views.setDirection(direction)
            # under the list the details take more of the height: they are what is read
            self.views.setStretchFactor(self.details, 2 if direction == QBoxLayout.Direction.LeftToRight else 3)

    def side_by_side(self) -> bool:
        return self.views.direction() == QBoxLayout.Direction.LeftToRight

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        self._arrange(event.size().width())
        super().resizeEvent(event)

    # --- list --------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        current = self.controller.current_key()
        if select is None and 0 <= self.list.currentRow() < len(self.models):
            select = self.models[self.list.currentRow()].key
        self.models = self.store.list()
        if current and current not in {m.key for m in self.models}:
            try:  # a model opened with --model from elsewhere
                self.models.insert(0, self.store.info(current))
            except ModelStoreError:
                pass
        self.list.clear()
        row = 0
        for i, info in enumerate(self.models):
            text = info.name + (IN_USE if info.key == current else "")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, info.key)
            item.setToolTip(boxes.plain_tooltip(str(info.path)))
            if info.key == current:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.list.addItem(item)
            if info.key == select:
                row = i
        if self.models:
            self.list.setCurrentRow(row)
        self._show_details(self.list.currentRow())
        self.list.setFocus()

    def selected(self) -> ModelInfo | None:
        row = self.list.currentRow()
        return self.models[row] if 0 <= row < len(self.models) else None

    def select_key(self, key: str) -> None:
        for i, info in enumerate(self.models):
            if info.key == key:
                self.list.setCurrentRow(i)

    def _show_details(self, row: int) -> None:
        info = self.models[row] if 0 <= row < len(self.models) else None
        current = self.controller.current_key()
        self.values = {}
        self.details.clear()
        if info is None:
            self._enable(None)
            return
        m = info.manifest.get("model", {}) or {}
        shape = ""
        if m:
            # words first, the network's make-up after it (plain words: a newcomer read "LSTM, int8")
            shape = f"{m.get('vocab_size', 0):,} words known; a network of "
            params = m.get("parameters")
            if isinstance(params, int):
                shape += f"{params / 1e6:.1f} million numbers" if params >= 1e6 else f"{params:,} numbers"
            else:
                shape += "unknown size"
            shape += (f" ({str(m.get('cell', '?')).upper()}, {m.get('num_layers', '?')} × {m.get('hidden_size', '?')}"
                      f"{', stored compactly' if m.get('quantized') else ''})")
        self.values = {
            "name": info.name,
            "origin": ORIGINS.get(info.origin, info.origin),
            "status": f"Cannot be used: {info.problem}" if info.problem
            else ("In use" if info.key == current else "Ready"),
            "size": info.size_text(),
            "created": info.created_text(),
            "shape": shape,
            "corpus": info.corpus_summary(),
            "metrics": measured_text(info.manifest),
            "path": str(info.path),
        }
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        rows = "".join(
            f"<tr><td style='padding:2px 12px 6px 0; color:{muted}'><nobr>{label}</nobr></td>"
            f"<td style='padding:2px 0 6px 0'>{html.escape(self.values[key]).replace(chr(10), '<br>')}</td></tr>"
            for key, label in DETAIL_ROWS if self.values[key]
        )
        self.details.setHtml(f"<h3 style='margin-top:0'>{html.escape(info.name)}</h3><table>{rows}</table>")
        self._enable(info)

    def _enable(self, info: ModelInfo | None) -> None:
        current = self.controller.current_key()
        user = info is not None and info.key.startswith("user:")
        self.use_button.setEnabled(info is not None and info.key != current and not info.problem)
        self.rename_button.setEnabled(user)
        self.export_button.setEnabled(info is not None and not info.problem)
        self.delete_button.setEnabled(user and info.key != current)
        if info is not None and info.is_default:
            self.delete_button.setToolTip("The built-in model cannot be deleted")
        elif info is not None and info.key == current:
            self.delete_button.setToolTip("Switch to another model before deleting this one")
        else:
            self.delete_button.setToolTip("Delete (Del)")

    def _say(self, text: str) -> None:
        self.message.setText(text)

    # --- actions -----------------------------------------------------------------
    def use_selected(self) -> None:
        info = self.selected()
        if info is None or info.key == self.controller.current_key() or info.problem:
            return
        self._say(f"Loading “{info.name}”…")
        self.use_button.setEnabled(False)
        self.controller.load(info.key)

    def _model_switched(self, loaded: LoadedModel) -> None:
        self._say(f"Now using “{loaded.name}”.")
        self.refresh()

    def _model_failed(self, message: str, detail: str) -> None:
        self._say("That model could not be loaded; the previous one is still in use.")
        self.refresh()

    def import_dialog(self) -> None:
        source = choose_bundle_to_import(self, self._start_directory())
        if source is not None:
            self.import_from(source)

    def import_from(self, source: Path) -> None:
        self._say(f"Checking and copying {source.name}…")
        self.import_button.setEnabled(False)

        def done(key: str | None) -> None:
            self.import_button.setEnabled(True)
            if key is None:
                self._say(f"{source.name} was not imported.")
                return
            self.refresh(select=key)
            self._say(f"Imported “{self.store.info(key).name}”. Press “Use This Model” to switch to it.")

        self.controller.import_bundle(source, use=False, done=done)

    def rename_selected(self) -> None:
        info = self.selected()
        if info is None or not info.key.startswith("user:"):
            return
        name = info.name
        while True:  # a refused name is asked again, as typed (it was lost with the box, H77)
            box = rename_box(self, name)
            ok = box.exec() == QDialog.DialogCode.Accepted
            name = box.textValue()
            box.deleteLater()
            if not ok or not name.strip():
                return
            try:
                self.controller.rename(info.key, name)  # the status bar follows, by a signal
            except ModelStoreError as e:
                boxes.critical(self, "Cannot rename", str(e))
                continue
            break
        self.refresh(select=info.key)
        self._say(f"Renamed to “{name.strip()}”.")

    def export_selected(self) -> None:
        info = self.selected()
        if info is None:
            return
        start = str(Path(self._start_directory()) / f"{slugify(info.name)}.zip")
        name, _ = QFileDialog.getSaveFileName(self, "Export Model", start, "Zip archive (*.zip)")
        if not name:
            return
        dest = Path(name)
        confirmed = dest.suffix.lower() == ".zip"  # the dialog asked before replacing this very file
        if not confirmed:
            dest = dest.with_name(dest.name + ".zip")
            if dest.exists() and not self._confirm("Export Model", f"{dest} already exists. Replace it?"):
                return
        self._say(f"Exporting to {dest}…")
        store, key = self.store, info.key

        def failed(message: str) -> None:
            self._say("The export failed.")
            boxes.critical(self, "Cannot export", message)

        self._tasks.append(run_task(
            lambda: store.export(key, dest, replace=True), parent=self,
            on_success=lambda path: self._say(f"Exported to {path}."), on_failure=failed,
        ))

    def _confirm(self, title: str, question: str) -> bool:
        """Yes or Cancel, Cancel by default."""
        answer = boxes.question(
            self, title, question, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def delete_selected(self) -> None:
        info = self.selected()
        if info is None or not self.delete_button.isEnabled():
            return
        if not self._confirm("Delete Model", f"Delete “{info.name}” ({info.size_text()})? This cannot be undone."):
            return
        try:
            self.store.delete(info.key)
        except ModelStoreError as e:
            boxes.critical(self, "Cannot delete", str(e))
            return
        self._say(f"Deleted “{info.name}”.")
        self.refresh(select=self.controller.current_key())

    def done(self, result: int) -> None:  # noqa: D401 - Qt API
        for task in self._tasks:
            try:
                task.wait()
            except RuntimeError:
                pass
        try:
            self.controller.ready.disconnect(self._model_switched)
            self.controller.failed.disconnect(self._model_failed)
        except (RuntimeError, TypeError):
            pass
        super().done(result)
