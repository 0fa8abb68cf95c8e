"""Retrain on your own writing: pick a corpus, train in a separate process, compare.

Training runs as ``keyboard-train`` in its own process (``trainer_process``:
never torch in this one), so the window stays responsive and a crash in
training cannot take the app down.  The dialog shows its progress events
(``progress_events``, typed) as a progress bar, the elapsed time and an
estimate of what is left, and live curves of the training loss and the
validation perplexity.  Cancel stops the trainer between two steps, before
it writes a bundle; the dialog then removes its work folder, so nothing
half-made is left.

The new bundle is written to a private staging folder (the run's folder,
named with this process's id).  When training is
done both models are scored on the part of the user's files the trainer held
out (their start when adapting, so that their newest text is learned; their
end otherwise) (a background task), side by side, and the user chooses: use the new model,
or keep the current one (and keep the new one in the list, or not).  The
dialog is given the ``ModelController``, not the window: keeping a model is
its ``adopt`` (checked, then moved into the store atomically), using it
its ``load``.

Nothing finished is lost to a kill: when the dialog opens, a finished bundle
that a run of a dead process left unadded (the app was killed, crashed or lost
power after training, before the user chose) is offered at the top of the
first page, "Add to My Models" or "Discard" (``retraining.recover_runs``);
only unfinished or damaged runs are removed unasked.  The files the trainer
will skip (binary, unreadable, links out of the corpus or in a loop) and those
it reads as Windows-1252 are said under the word count, and again, in the
trainer's own words (its ``skipped`` and ``encoding`` events), while it trains.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import math
import shutil
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QElapsedTimer, QEvent, QItemSelectionModel, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFontDatabase,
    QGuiApplication,
    QHideEvent,
    QPaintEvent,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyleOptionProgressBar,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from .. import paths, retraining
from ..engine.faults import fault_point
from ..model_store import ModelStore, format_size
from ..progress_events import (
    Cancelled,
    Decoded,
    Done,
    Epoch,
    Error,
    Evaluating,
    Metrics,
    ProgressEvent,
    Reading,
    Skipped,
    Start,
    Training,
    Tuning,
)
from ..retraining import COMPARE_K, ModelScore, TrainRequest, UnaddedModel, format_duration
from ..settings import Settings
from . import boxes
from .elide import Scrolling, fit_to_screen, screen_room
from .eta import RunEstimate, busy_factor, estimate_before_start
from .model_controller import ModelController
from .strip import AA_CONTRAST, contrast_ratio
from .tasks import Task
from .trainer_process import RunResult, TrainerRun

log = logging.getLogger(__name__)

#: The charts' titles and what they show, in plain words (their tooltips name the figures).
LOSS_TITLE = "How far off its guesses are"
LOSS_TIP = ("While it learns: how far off the model's guesses of the next word of your text are "
            "(the training loss, in nats). It falls as the model learns. The words read count "
            "punctuation marks too, and every pass over your text.")
PPL_TITLE = "Uncertainty about the next word"
PPL_TIP = ("Measured on part of your text that the model does not learn from (the validation "
           "perplexity): the model is as unsure of each next word as if it chose among this many "
           "words. Lower is better.")
CHART_MIN_HEIGHT = 200
EMPTY_CHART_RANGE = (0.0, 1.0)  #: an empty chart's axes, as pyqtgraph draws them before any run
#: the trainer holds out the start of the files when adapting (their newest text is learned)
COMPARING = "Comparing the two models on the {part} of your files, which the new model did not learn from…"
#: The name a retrain proposes for its model (see ``proposed_name``).
DEFAULT_NAME = "My writing {date}"
#: The trainer's passes over the text before it trains (``Reading.phase``), in order, and what
#: each is called here.  (A trainer that does not report its phrase counting, the longest
#: wait on a single file, shows a busy bar then.)
READING_PASSES = {"count": "Counting words…", "encode": "Preparing the text…", "phrases": "Finding your phrases…"}
#: The rows of the comparison: key, heading, tooltip.
RESULT_ROWS = (
    ("name", "Model", "The model in use now, and the one just trained"),
    ("ksr", "Keystrokes saved",
     f"The share of the keystrokes that choosing a suggestion (among {COMPARE_K}) spared in typing "
     "the text: how much typing each model saves you. The recommendation rests on it."),
    ("top_k", f"Next word among the {COMPARE_K} suggestions",
     f"How often the word that came next was among the {COMPARE_K} suggestions before its first letter"),
    ("perplexity", "Uncertainty (perplexity)",
     "The model is as unsure of each next word as if it chose among this many words; lower is "
     "better. A model that knows more words often scores higher and still saves more typing."),
)
#: Why the comparison could not be made when the trainer held no text out: every file is a
#: short note of a line or two, too short to cut a part from (``model_training.corpus``'s
#: ``MIN_CUT_SHARE``: about 350 words at a tenth held out); a file of many lines holds out its
#: last (or first) lines however short they are.
NOTHING_HELD_OUT = ("each of your files is too short to set part of it aside to test the two models on "
                    "(a file of a line or two needs a few hundred words). Put short notes together in "
                    "one file, one to a line, and the next retrain can compare them.")


class NothingHeldOut(ValueError):
    """The trainer held no text out of the user's files (``NOTHING_HELD_OUT``)."""


#: Below this gain in keystrokes saved (points) the two models do "about equally well".
EQUAL_KSR = 0.5
#: Reds for the error text: a deep one for light backgrounds, a light one for dark ones; the
#: first that keeps AA contrast with the dialog's background is used (see ``error_color``).
ERROR_REDS = ("#b00020", "#ff8a80")


def error_color(palette: QPalette) -> QColor:
    """A red that stays readable on ``palette``'s background in every theme (a fixed
    #b00020 was 1.9:1 on the dark theme's grey), else the palette's own text colour."""
    background = palette.color(QPalette.ColorRole.Window)
    for red in map(QColor, ERROR_REDS):
        if contrast_ratio(red, background) >= AA_CONTRAST:
            return red
    return palette.color(QPalette.ColorRole.WindowText)


def perplexity_note(current: ModelScore, new: ModelScore, *, new_recommended: bool, new_worse: bool) -> str:
    """A plain sentence or two where the perplexities point the other way from the
    recommendation (which rests on the keystrokes saved), else "".

    A newcomer read "perplexity 723 -> 2,279" beside "using it is recommended" as a
    contradiction: an adapted model that knows more words spreads its guesses over more of
    them, and its perplexity rises while it saves more typing."""
    higher = new.perplexity > current.perplexity
    if not ((new_recommended and higher) or (new_worse and not higher)):
        return ""
    words = new.vocab_size - current.vocab_size
    why = ""
    if words and (words > 0) == higher:  # more words to choose from: more uncertain
        why = (f" The new model knows {abs(words):,} {'more' if higher else 'fewer'} words, "
               f"which {'raises' if higher else 'lowers'} it.")
    return (
        "The recommendation rests on the keystrokes saved on your own text. The new model's "
        f"uncertainty (perplexity) is {'higher' if higher else 'lower'}, {format_perplexity(new.perplexity)} "
        f"against {format_perplexity(current.perplexity)}: it measures how unsure a model is of the "
        "exact next word, not how much typing its suggestions save." + why
    )


def format_perplexity(value: float) -> str:
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}"


def held_out_nothing(request: TrainRequest) -> bool:
    """The trainer wrote its held-out text for ``request`` and it holds none (every file too
    short to cut a part from); False when it wrote no file at all (another failure)."""
    from ..heldout import HeldoutError

    try:
        return not retraining.heldout_texts(request)
    except HeldoutError:
        return False


def proposed_name(store: ModelStore, today: _dt.date | None = None) -> str:
    """Today's name for a new model, distinct from every name in the model list: a second
    retrain on the same day is "My writing 2026-12-03 (2)", as a second import of a bundle
    is.  The date alone proposed one name twice: a name the manager's Rename refuses, and
    which the store changed behind the comparison table's back when it kept the model."""
    return store.distinct_name(DEFAULT_NAME.format(date=(today or _dt.date.today()).isoformat()))


class CorpusList(QListWidget):
    """The files and folders to learn from, whose current item is always the selected one.

    Remove (Alt+R) acts on the selection, but a list given the focus by the keyboard makes
    its first item current without selecting it, and so does a removal for the next item:
    the person saw an item outlined and the shortcut did nothing to it."""

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt API
        super().focusInEvent(event)  # makes an item current if none was
        self.select_current()

    def select_current(self, row: int | None = None) -> None:
        """Make ``row`` (by default the current row, else the first) current and the only
        selected one."""
        if row is None:
            row = max(0, self.currentRow())
        if 0 <= row < self.count():
            self.setCurrentRow(row, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.scrollToItem(self.item(row))


class ProgressBar(QProgressBar):
    """A progress bar whose busy state (a range of 0 to 0: nothing reports progress) is a
    block sliding to and fro across the groove.

    The style's own busy bar (Fusion's) is the whole groove filled, its stripes drifting a
    pixel at a time: while the text was prepared, 8 s on 129k words, a newcomer read it as a
    full bar that did not move.  A screen reader still hears a busy bar (the range is 0-0)."""

    #: one way across, and the block's share of the groove
    SWEEP_MS = 1500
    BLOCK = 0.25
    FRAME_MS = 40

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        clock = QElapsedTimer()
        clock.start()
        self.elapsed_ms: Callable[[], int] = clock.elapsed  # (tests set it)
        self._frames = QTimer(self, interval=self.FRAME_MS)
        self._frames.timeout.connect(lambda: self.is_busy() and self.update())

    def is_busy(self) -> bool:
        return self.minimum() == 0 and self.maximum() == 0

    def busy_position(self) -> float:
        """Where the block is, from 0 (at the left) to 1 (at the right): there and back."""
        phase = (self.elapsed_ms() % (2 * self.SWEEP_MS)) / self.SWEEP_MS
        return phase if phase <= 1.0 else 2.0 - phase

    def block_rect(self) -> QRect:
        """The sliding block's rectangle in the bar, while it is busy."""
        option = QStyleOptionProgressBar()
        self.initStyleOption(option)
        groove = self.style().subElementRect(QStyle.SubElement.SE_ProgressBarContents, option, self)
        width = max(1, round(groove.width() * self.BLOCK))
        x = groove.x() + round((groove.width() - width) * self.busy_position())
        return QRect(x, groove.y(), width, groove.height())

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._frames.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt API
        super().hideEvent(event)
        self._frames.stop()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        if not self.is_busy():
            super().paintEvent(event)
            return
        painter = QStylePainter(self)
        option = QStyleOptionProgressBar()
        self.initStyleOption(option)
        painter.drawControl(QStyle.ControlElement.CE_ProgressBarGroove, option)
        block = QStyleOptionProgressBar(option)
        block.rect = self.block_rect()
        block.minimum, block.maximum, block.progress = 0, 1, 1  # the block drawn as a bar's full chunk
        block.textVisible = False
        block.styleObject = None  # (not the style's own busy animation)
        painter.drawControl(QStyle.ControlElement.CE_ProgressBarContents, block)


def training_dir() -> Path:
    """Staging for runs in progress: bundles are moved to the models folder when kept."""
    return paths.user_data_dir() / "training"


def radio_note(radio: QRadioButton, text: str) -> QLabel:
    """``text`` under ``radio``, wrapped, in line with its label: a radio button's text does
    not wrap, and the long ones were wider than a small screen (H53's finding 3)."""
    note = QLabel(text)
    note.setWordWrap(True)
    style = radio.style()
    note.setIndent(style.pixelMetric(QStyle.PixelMetric.PM_ExclusiveIndicatorWidth, None, radio)
                   + style.pixelMetric(QStyle.PixelMetric.PM_RadioButtonLabelSpacing, None, radio))
    return note


def scrolled_page(content: QWidget, buttons: QBoxLayout) -> QWidget:
    """A page of the dialog: ``content``, scrolled where the screen is too small for it,
    above its row of ``buttons``, which stay on the screen."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addWidget(Scrolling(content), 1)
    layout.addLayout(buttons)
    return page


class RetrainDialog(QDialog):
    #: Emitted when a run ends: "done", "cancelled" or "failed".
    run_finished = Signal(str)
    #: Emitted when the comparison is on screen.
    compared = Signal()
    #: The dialog went away (a choice made, or closed; not minimised): the keyboard goes
    #: back to the window (``MainWindow._back_to_the_editor``).
    hidden = Signal()

    def __init__(
        self,
        *,
        controller: ModelController,
        settings: Settings,
        save_settings: Callable[[], None],
        start_directory: Callable[[], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("RetrainDialog")
        self.setWindowTitle("Retrain on My Writing")
        self.controller = controller
        self.settings = settings  # the files chosen last time are kept there
        self._save_settings = save_settings
        self._start_directory = start_directory
        self.run: TrainerRun | None = None
        self.run_dir: Path | None = None
        self.new_bundle: Path | None = None
        self.request: TrainRequest | None = None
        self.scores: dict[str, ModelScore] = {}
        self.events: list[ProgressEvent] = []  # this run's, in order
        self.rejected: list[str] = []  # a sentence for each line of this run's that was not an event
        self._outcome = ""
        self._closed = False
        self._count_task: Task | None = None
        self._eval_task: Task | None = None
        self._elapsed = QElapsedTimer()
        self._words: int | None = None
        self._loss_x: list[float] = []
        self._loss_y: list[float] = []
        self._val_x: list[float] = []
        self._val_y: list[float] = []
        self._eta_s: float | None = None  # the trainer's own (tokens left only)
        self.estimate: RunEstimate | None = None  # the whole run's time left, see ``eta``
        self.now = lambda: self._elapsed.elapsed() / 1000.0  # seconds into the run (tests set it)
        self._trained: float | None = None  # the share of training done, once it has begun
        self.unadded: dict[Path, QWidget] = {}  # recovered models offered, by run folder: their rows
        self._skipped: list[Skipped] = []  # what the trainer of this run said it left out
        self._decoded: list[Decoded] = []  # ... and read as Windows-1252 or Latin-1

        self.pages = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        available, reason = retraining.training_available()
        self.available = available
        if available:
            self.setup_page = self._build_setup_page()
            self.training_page = self._build_training_page()
            self.results_page = self._build_results_page()
            for page in (self.setup_page, self.training_page, self.results_page):
                self.pages.addWidget(page)
            self._recover_runs()
            main_button = self.start_button
        else:
            self.unavailable_page = self._build_unavailable_page(reason)
            self.pages.addWidget(self.unavailable_page)
            main_button = self.unavailable_close
        # Made the default only once it is in the dialog: set while its page was not, QDialog
        # never knew it, and made the first button of the focus chain the default instead, so
        # Enter opened "Add Text Files" (H48's finding 3).  Enter does nothing while it is disabled.
        main_button.setDefault(True)
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._update_times)
        if available:
            fit_to_screen(self, QSize(760, 560))
            self._restore_sources()
        else:  # a few sentences: as tall as they are at a reading width, no empty page below
            width = min(560, screen_room(self).width())
            self.setMinimumWidth(width)
            fit_to_screen(self, QSize(width, self.heightForWidth(width) if self.hasHeightForWidth()
                                      else self.sizeHint().height()))

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt API
        super().hideEvent(event)
        if not event.spontaneous():  # (minimised: the window system hid it)
            self.hidden.emit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        """The theme can change while the dialog is open (Preferences): recolour the error."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "error_label"):
            self._color_error_label()

    def _color_error_label(self) -> None:
        palette = QPalette()  # only the text's colour set: the rest follows the theme
        palette.setColor(QPalette.ColorRole.WindowText, error_color(self.palette()))
        self.error_label.setPalette(palette)

    # --- pages ---------------------------------------------------------------------
    def _build_unavailable_page(self, reason: str) -> QWidget:
        """Why this copy cannot train and what would let the user retrain
        (``retraining.training_advice``): a command to copy only where one helps."""
        advice = retraining.training_advice()
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<h3>Training is not available here</h3>")
        text = QLabel(f"{reason} Suggestions work as usual; only retraining needs it.")
        how = QLabel(advice.text)
        for label in (text, how):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addSpacing(6)
        layout.addWidget(how)
        self.install_command: QLabel | None = None
        self.copy_command_button: QPushButton | None = None
        if advice.command:  # shown whole (wrapped at its spaces), to read before running it
            self.install_command = QLabel(advice.command)
            self.install_command.setObjectName("installCommand")
            self.install_command.setTextFormat(Qt.TextFormat.PlainText)
            self.install_command.setWordWrap(True)
            self.install_command.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.install_command.setFrameShape(QFrame.Shape.StyledPanel)
            self.install_command.setMargin(4)
            self.install_command.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            self.copy_command_button = QPushButton("&Copy Command")
            self.copy_command_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(advice.command))
            layout.addWidget(self.install_command)
        layout.addSpacing(12)
        layout.addStretch(1)  # (a dialog made taller keeps the text at the top, the buttons at the bottom)
        close = self.unavailable_close = QPushButton("Close")  # (Alt+C: Copy Command)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        if self.copy_command_button is not None:
            buttons.addWidget(self.copy_command_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        return page

    def _build_setup_page(self) -> QWidget:
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(
            "Teach the keyboard your own words and phrasing. Choose some of your writing "
            "(text files, or folders of them). Everything stays on this computer. The new "
            "model is stored compactly, like the built-in one, so it suggests as fast."
        )
        intro.setWordWrap(True)
        self.unadded_box = QWidget()  # the finished models a kill left unadded (``_recover_runs``)
        self.unadded_box.setObjectName("unaddedModels")
        self.unadded_layout = QVBoxLayout(self.unadded_box)
        self.unadded_layout.setContentsMargins(0, 0, 0, 0)
        self.unadded_box.hide()
        layout.addWidget(self.unadded_box)
        layout.addWidget(intro)

        self.corpus_list = CorpusList()
        self.corpus_list.setObjectName("corpusList")
        self.corpus_list.setAccessibleName("Text to learn from")
        self.corpus_list.setMinimumHeight(110)
        # What room the page has, no more: its own size hint (192 px) scrolled the estimate out
        # of sight on a 768 px screen when a recovered model was offered above it.
        self.corpus_list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.corpus_list.setToolTip("The files and folders to learn from")
        add_files = QPushButton("Add &Files…")
        add_folder = QPushButton("Add F&older…")
        self.remove_button = QPushButton("&Remove")
        add_files.clicked.connect(self._add_files)
        add_folder.clicked.connect(self._add_folder)
        self.remove_button.clicked.connect(self._remove_selected)
        side = QVBoxLayout()
        for button in (add_files, add_folder, self.remove_button):
            side.addWidget(button)
        side.addStretch(1)
        corpus_row = QHBoxLayout()
        corpus_row.addWidget(self.corpus_list, 1)
        corpus_row.addLayout(side)
        layout.addLayout(corpus_row, 1)
        self.count_label = boxes.plain_label("No text chosen yet.")  # a file's name in its messages
        self.count_label.setObjectName("countLabel")
        layout.addWidget(self.count_label)
        self.notes_label = boxes.plain_label()  # files skipped or read as Windows-1252; their paths in its tooltip
        self.notes_label.setObjectName("corpusNotesLabel")
        self.notes_label.setWordWrap(True)
        self.notes_label.hide()
        layout.addWidget(self.notes_label)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # (a small screen: label above)
        self.adapt_radio = QRadioButton("&Adapt the current model (recommended)")
        self.scratch_radio = QRadioButton("Train a ne&w model from scratch")
        self.adapt_radio.setChecked(True)
        self.mode_group = QButtonGroup(self)
        self.mode_group.addButton(self.adapt_radio)
        self.mode_group.addButton(self.scratch_radio)
        mode_box = QVBoxLayout()
        for radio, note in ((self.adapt_radio, "Quick, and works with little text."),
                            (self.scratch_radio, "Needs a lot of text.")):
            radio.setAccessibleDescription(note)
            mode_box.addWidget(radio)
            mode_box.addWidget(radio_note(radio, note))
        form.addRow("Method:", mode_box)
        self.size_combo = QComboBox()
        # As narrow as a small screen needs (a long size's text is elided); as wide as the
        # longest where there is room.
        self.size_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.size_combo.setMinimumContentsLength(20)
        for key, preset in retraining.SIZES.items():
            self.size_combo.addItem(preset.label, key)
        self.size_combo.setCurrentIndex(max(0, self.size_combo.findData(retraining.DEFAULT_SIZE)))
        form.addRow("Model si&ze:", self.size_combo)
        self._proposed = proposed_name(self.controller.store)
        self.name_edit = QLineEdit(self._proposed)
        form.addRow("&Name:", self.name_edit)
        self.limit_spin = QDoubleSpinBox()
        self.limit_spin.setRange(0, 24 * 60)
        self.limit_spin.setDecimals(0)
        self.limit_spin.setValue(60)
        self.limit_spin.setSuffix(" min")
        self.limit_spin.setSpecialValueText("no limit")
        self.limit_spin.setToolTip("Training stops (and keeps what it learned) after this long")
        form.addRow("&Time limit:", self.limit_spin)
        layout.addLayout(form)
        self.estimate_label = QLabel("")
        self.estimate_label.setObjectName("estimateLabel")
        self.estimate_label.setWordWrap(True)
        layout.addWidget(self.estimate_label)  # (the list, above, takes what room is left)

        self.start_button = QPushButton("&Start Training")
        self.start_button.setEnabled(False)
        self.start_button.clicked.connect(self.start_training)
        close = QPushButton("&Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.start_button)

        for signal_ in (self.adapt_radio.toggled, self.size_combo.currentIndexChanged,
                        self.limit_spin.valueChanged):
            signal_.connect(self._update_estimate)
        if self.controller.current is None:
            self.scratch_radio.setChecked(True)
            self.adapt_radio.setEnabled(False)
        self._update_estimate()
        return scrolled_page(content, buttons)

    def _build_training_page(self) -> QWidget:
        import pyqtgraph as pg  # imported here: it costs start-up time

        pg.setConfigOptions(antialias=True, background="w", foreground="k")
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        self.phase_label = QLabel("Starting…")
        self.phase_label.setObjectName("phaseLabel")
        font = self.phase_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.phase_label.setFont(font)
        self.progress = ProgressBar()
        self.progress.setObjectName("trainingProgress")
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p%")
        self.time_label = QLabel("")
        self.time_label.setObjectName("timeLabel")
        self.detail_label = QLabel("")
        self.detail_label.setObjectName("detailLabel")
        self.detail_label.setToolTip("Counted in tokens: words and punctuation marks, every pass over "
                                     "your text counted again")
        self.subtitle_label = boxes.plain_label()  # the current model's name
        self.subtitle_label.setObjectName("subtitleLabel")
        self.subtitle_label.setWordWrap(True)
        self.training_notes_label = boxes.plain_label()  # the trainer's own "skipped" and "encoding" lines
        self.training_notes_label.setObjectName("trainingNotesLabel")
        self.training_notes_label.setWordWrap(True)
        self.training_notes_label.hide()
        layout.addWidget(self.phase_label)
        layout.addWidget(self.subtitle_label)
        layout.addWidget(self.training_notes_label)
        layout.addWidget(self.progress)
        times = QHBoxLayout()
        times.addWidget(self.time_label)
        times.addStretch(1)
        times.addWidget(self.detail_label)
        layout.addLayout(times)

        self.loss_plot = pg.PlotWidget(title=LOSS_TITLE)
        self.loss_plot.setAccessibleName("Guessing error chart")
        self.loss_plot.setToolTip(LOSS_TIP)
        self.loss_plot.setLabel("bottom", "words read (thousands)")
        self.loss_plot.setLabel("left", "error (lower is better)")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2))
        self.ppl_plot = pg.PlotWidget(title=PPL_TITLE)
        self.ppl_plot.setAccessibleName("Uncertainty chart")
        self.ppl_plot.setToolTip(PPL_TIP)
        self.ppl_plot.setLabel("bottom", "passes over your text")
        self.ppl_plot.setLabel("left", "uncertainty (lower is better)")
        self.ppl_plot.showGrid(x=True, y=True, alpha=0.2)
        self.ppl_curve = self.ppl_plot.plot(
            [], [], pen=pg.mkPen("#d62728", width=2), symbol="o", symbolSize=7,
            symbolBrush="#d62728",
        )
        for plot in (self.loss_plot, self.ppl_plot):
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)  # no "(x0.001)" on the labels
            plot.setMinimumHeight(CHART_MIN_HEIGHT)
            # As tall as the page leaves them, no taller: their own size hint (381 px) made the
            # page taller than the dialog on a 768 px screen, the charts cut off at the bottom
            # in a scrolled page (a page with wrapped labels is given its preferred height).
            plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
            plot.setMenuEnabled(False)
            # Not Tab stops: they showed no focus and took four Tabs before Cancel Training
            # (H48's finding 7); what they show is said in the labels above them.
            plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            plot.viewport().setFocusPolicy(Qt.FocusPolicy.NoFocus)
            plot.getPlotItem().hideButtons()
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.ppl_plot)
        layout.addLayout(plots, 1)

        self.error_label = boxes.plain_label()  # the trainer's message, which may name files
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self._color_error_label()
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.error_label)
        self.cancel_button = QPushButton("&Cancel Training")
        self.cancel_button.clicked.connect(self.cancel_training)
        self.back_button = QPushButton("&Back")
        self.back_button.clicked.connect(lambda: self.pages.setCurrentWidget(self.setup_page))
        self.back_button.hide()
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.cancel_button)
        return scrolled_page(content, buttons)

    def _build_results_page(self) -> QWidget:
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        self.results_title = QLabel("<h3>Training finished</h3>")
        layout.addWidget(self.results_title)
        self.eval_label = boxes.plain_label(COMPARING.format(part="part"))
        self.eval_label.setObjectName("evalLabel")
        self.eval_label.setWordWrap(True)
        layout.addWidget(self.eval_label)
        self.eval_progress = ProgressBar()
        self.eval_progress.setRange(0, 1000)
        layout.addWidget(self.eval_progress)

        # the figures in a widget of their own: hidden when nothing could be measured (a table of
        # "…" under "could not be compared" looked like work still under way)
        self.figures_table = QWidget()
        self.figures_table.setObjectName("figuresTable")
        grid = QGridLayout(self.figures_table)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(24)
        self.table: dict[tuple[str, str], QLabel] = {}
        headers = ["", "Current model", "New model"]
        for col, text in enumerate(headers):
            label = QLabel(f"<b>{text}</b>")
            grid.addWidget(label, 0, col)
        # Keystrokes saved first: the recommendation rests on it.  The perplexity last, named
        # and explained: shown as the table's first figure it was read as the verdict, and a
        # new model that knows more words has a higher one while it saves more typing.
        for row, (key, text, tip) in enumerate(RESULT_ROWS, start=1):
            header = QLabel(text)
            header.setToolTip(tip)
            grid.addWidget(header, row, 0)
            for col, which in enumerate(("current", "new"), start=1):
                # the name row shows the models' names as they are; the figures' rows are bolded
                value = boxes.plain_label("…") if key == "name" else QLabel("…")
                value.setObjectName(f"score_{which}_{key}")
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                grid.addWidget(value, row, col)
                self.table[(which, key)] = value
        # The verdict heads the figures: what to do, and the keystrokes it rests on.
        self.verdict_label = QLabel("")
        self.verdict_label.setObjectName("verdictLabel")
        self.verdict_label.setWordWrap(True)
        layout.addSpacing(6)
        layout.addWidget(self.verdict_label)
        layout.addSpacing(6)
        layout.addWidget(self.figures_table)
        layout.addSpacing(6)
        self.figures_note_label = QLabel("")  # where the perplexity seems to say otherwise
        self.figures_note_label.setObjectName("figuresNoteLabel")
        self.figures_note_label.setWordWrap(True)
        self.figures_note_label.hide()
        layout.addWidget(self.figures_note_label)
        layout.addStretch(1)

        self.keep_new_check = QCheckBox("Keep the new model in the model &list")
        self.keep_new_check.setChecked(True)  # until the verdict (``_follow_verdict``)
        self._keep_chosen = False  # the person has ticked or cleared the box in this run
        self.keep_new_check.clicked.connect(self._keep_choice_made)
        self.use_new_button = QPushButton("&Use New Model")
        self.keep_current_button = QPushButton("&Keep Current Model")
        self.use_new_button.setEnabled(False)  # until the new model exists
        self.use_new_button.clicked.connect(self.use_new_model)
        self.keep_current_button.clicked.connect(self.keep_current_model)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.keep_current_button)
        row.addWidget(self.use_new_button)
        buttons = QVBoxLayout()  # the box on a line of its own: beside the buttons it was wider than a small screen
        buttons.addWidget(self.keep_new_check)
        buttons.addLayout(row)
        return scrolled_page(content, buttons)

    # --- corpus ------------------------------------------------------------------------
    def corpus_paths(self) -> list[Path]:
        return [Path(self.corpus_list.item(i).text()) for i in range(self.corpus_list.count())]

    def add_corpus_paths(self, paths_: list[Path]) -> None:
        """Add files and folders (not those already in the list); the last one added
        becomes the current and selected item, so that Remove takes back what was just added."""
        known = set(self.corpus_paths())
        added = None
        for path in (Path(p).absolute() for p in paths_):
            if path not in known:
                self.corpus_list.addItem(str(path))
                known.add(path)
                added = self.corpus_list.count() - 1
        self.corpus_list.select_current(added)
        self._recount()

    def _add_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self, "Add Text Files", self._start_directory(),
            "Text files (*.txt *.md *.text);;All files (*)",
        )
        self.add_corpus_paths([Path(n) for n in names])

    def _add_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Add a Folder of Text", self._start_directory())
        if name:
            self.add_corpus_paths([Path(name)])

    def _restore_sources(self) -> None:
        """The files and folders chosen last time (those still there), as the list starts."""
        remembered = [Path(p) for p in self.settings.retrain_sources]
        present = [p for p in remembered if p.exists()]
        if present:
            self.add_corpus_paths(present)

    def _remember_sources(self) -> None:
        chosen = [str(p) for p in self.corpus_paths()]
        if chosen != self.settings.retrain_sources:
            self.settings.retrain_sources = chosen
            self._save_settings()

    def _remove_selected(self) -> None:
        for item in self.corpus_list.selectedItems():
            self.corpus_list.takeItem(self.corpus_list.row(item))
        self.corpus_list.select_current()  # the item now outlined: Alt+R again removes it
        self._recount()

    def _recount(self) -> None:
        """Count the words in a background task; a newer count replaces an older one."""
        self._words = None
        self.start_button.setEnabled(False)
        self._remember_sources()
        if self._count_task is not None:
            self._count_task.cancel()
        corpus = self.corpus_paths()
        self._show_notes(self.notes_label, "", "")
        if not corpus:
            self.count_label.setText("No text chosen yet.")
            self._update_estimate()
            return
        self.count_label.setText("Counting words…")

        task = Task(lambda keep_going: retraining.count_corpus_words(corpus, keep_going),
                    with_progress=True, parent=self)

        def counted(count: retraining.CorpusCount) -> None:
            if task is not self._count_task:
                return
            self._words = count.words
            self.count_label.setText(
                f"{count.words:,} words in {count.files} file{'s' if count.files != 1 else ''} "
                f"({format_size(count.bytes)})."
            )
            self._show_notes(self.notes_label, *count.notes())
            self._update_estimate()

        def failed(message: str) -> None:
            if task is self._count_task:
                self.count_label.setText(f"This text cannot be used: {message}")

        task.progress.connect(lambda c: task is self._count_task and self.count_label.setText(
            f"Counting words… {c.words:,} so far"))
        task.succeeded.connect(counted)
        task.failed.connect(failed)
        task.finished.connect(task.deleteLater)
        self._count_task = task
        task.start()

    def _size_key(self) -> str | None:
        return None if self.adapt_radio.isChecked() else self.size_combo.currentData()

    def _update_estimate(self) -> None:
        self.size_combo.setEnabled(self.scratch_radio.isChecked())
        if self._words is None:
            self.estimate_label.setText("")
            return
        if self._words < 200:
            self.estimate_label.setText(
                f"That is very little text ({self._words} words): the model will not learn much. "
                "A few thousand words or more work better."
            )
        else:
            self.estimate_label.setText("")
        adapt_speed = None
        current = self.controller.current
        if current is not None:
            training = current.predictor.bundle.manifest.get("training", {}) or {}
            speed = training.get("tokens_per_s")
            adapt_speed = float(speed) if isinstance(speed, (int, float)) and speed > 0 else None
        busy = busy_factor()  # the rates are a quiet computer's
        seconds = estimate_before_start(self._words, size=self._size_key(), manifest_tokens_per_s=adapt_speed,
                                        max_minutes=self.limit_spin.value(), busy=busy)
        note = self.estimate_label.text()
        busy_now = busy >= retraining.BUSY_STRETCH  # then runs differ more: how long it may take too
        self.estimate_label.setText(
            (note + "\n" if note else "")
            + f"Estimated time: about {format_duration(seconds)}"
            + (f" (up to {format_duration(retraining.slow_end(seconds))})" if busy_now else "")
            + " on this computer" + (", as busy as it is now" if busy_now else "") + ". You can keep typing meanwhile."
        )
        self.start_button.setEnabled(self._words > 0)

    # --- training ----------------------------------------------------------------------
    def start_training(self) -> None:
        corpus = self.corpus_paths()
        if not corpus or self.run is not None:
            return
        current = self.controller.current
        init_from = current.path if (self.adapt_radio.isChecked() and current is not None) else None
        self.run_dir = retraining.new_run_dir(training_dir())
        paths.ensure_dir(self.run_dir)
        self.new_bundle = self.run_dir / "bundle"
        self.request = TrainRequest(
            corpus=corpus, out=self.new_bundle, work_dir=self.run_dir / "work",
            name=self.name_edit.text().strip() or "My writing", init_from=init_from,
            size=self.size_combo.currentData(), max_minutes=self.limit_spin.value(),
        )
        program, args = self.request.command()
        log.info("training: %s %s", program, " ".join(args))
        self._reset_training_view()
        words = f"{self._words:,} words" if self._words is not None else "your text"
        if init_from is not None and current is not None:
            self.subtitle_label.setText(f"Adapting “{current.name}” to {words} of your writing.")
        else:
            preset = retraining.SIZES[self.request.size].label.split(" — ")[0].lower()
            self.subtitle_label.setText(f"Training a new {preset} model on {words} of your writing.")
        self.pages.setCurrentWidget(self.training_page)
        self.cancel_button.setFocus()  # (the focus was on the setup page's Start Training)

        run = TrainerRun(program, args, parent=self)
        run.event.connect(self._on_event)
        run.finished.connect(self._run_finished)
        self.run = run
        self._elapsed.start()
        self._tick.start()
        run.start()

    def _reset_training_view(self) -> None:
        self.events.clear()
        self._skipped, self._decoded = [], []
        self._show_notes(self.training_notes_label, "", "")
        self.rejected = []
        self._outcome = ""
        self._eta_s = None
        self.estimate = self._new_estimate()
        self._trained = None
        self._loss_x, self._loss_y, self._val_x, self._val_y = [], [], [], []
        self.loss_curve.setData([], [])
        self.ppl_curve.setData([], [])
        for plot in (self.loss_plot, self.ppl_plot):
            # the empty charts of a new run: the first run's range, not the last run's
            # (0-35 thousand words and 75-86 stayed up while "Starting the trainer…")
            plot.setRange(xRange=EMPTY_CHART_RANGE, yRange=EMPTY_CHART_RANGE, padding=0)
            plot.enableAutoRange()  # (setRange turned it off) the new run's curves fit again
        self.ppl_plot.setTitle(PPL_TITLE)
        self.phase_label.setText("Starting the trainer…")
        self.progress.setRange(0, 0)
        self.progress.show()
        self.time_label.setText(f"Elapsed {format_duration(0)}")
        self.detail_label.setText("")
        self.error_label.setText("")
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self.back_button.hide()
        self.keep_new_check.setChecked(True)
        self._keep_chosen = False

    def is_training(self) -> bool:
        """The run is under way: training, or comparing the two models after it.  Until the
        user has seen the comparison nothing is theirs yet: the window asks before quitting,
        promising that nothing will be kept, and then drops it all
        (``stop_and_wait(drop_run=True)``)."""
        return self.run is not None or self._comparing_now()

    def _comparing_now(self) -> bool:
        return self._eval_task is not None and self._outcome == "done"

    def under_way(self) -> str:
        """What the run is doing now, as the first sentence of a box that asks to stop it
        (the window's before quitting, the dialog's before closing): after training, the
        new model is being scored, and a box that said "being trained" then was wrong."""
        if self.run is not None or not self._comparing_now():
            return "A model is being trained."
        if self.controller.current is None:  # nothing to compare with: scored alone
            return "The new model is being measured on your text."
        return "The new model is being compared with the current one."

    def _on_event(self, event: ProgressEvent) -> None:
        self.events.append(event)
        self.handle_event(event)

    def handle_event(self, event: ProgressEvent) -> None:
        """Show one progress event of the trainer."""
        match event:
            case Start(files=files):
                self.phase_label.setText(f"Reading {files:,} file{'s' if files != 1 else ''}…")
            case Skipped() | Decoded():
                (self._skipped if isinstance(event, Skipped) else self._decoded).append(event)
                self._show_notes(self.training_notes_label, *retraining.corpus_notes(
                    self._skipped, [(e.path, e.encoding) for e in self._decoded]))
            case Reading(bytes=done, total=total, phase=phase):
                if total and done < total and phase in READING_PASSES:
                    # (after each file) the passes over the text as one bar, not one that
                    # fills and starts again from nothing
                    self.phase_label.setText(READING_PASSES[phase])
                    passes = list(READING_PASSES)
                    self.progress.setRange(0, 1000)
                    self.progress.setValue(int(1000 * (passes.index(phase) + done / total) / len(passes)))
                else:
                    # A pass over the text is over; what follows it (the next pass, setting up
                    # the model) reports no progress: a busy bar, not a full one.
                    self.phase_label.setText("Preparing the text…")
                    self.progress.setRange(0, 0)
            case Training():
                self._show_training(event)
            case Epoch(epoch=epoch, val_ppl=ppl):
                if ppl is not None and math.isfinite(ppl):
                    self._val_x.append(epoch)
                    self._val_y.append(ppl)
                    self.ppl_curve.setData(self._val_x, self._val_y)
                    self.ppl_plot.setTitle(f"{PPL_TITLE}: {ppl:,.1f}")
            case Tuning(step=step, total=total) | Evaluating(words=step, total=total):
                # after training: fitting the weights of your own phrases, then measuring
                # the new model on your held-out text; each reports its own steps
                tuning = isinstance(event, Tuning)
                self.phase_label.setText("Fitting your phrases to your text…" if tuning
                                         else "Measuring the new model on your text…")
                if total:
                    self.progress.setRange(0, total)
                    self.progress.setValue(min(step, total))
                self.detail_label.setText("")
                if self.estimate is not None:
                    self.estimate.step(self.now(), event.EVENT, step=float(step), total=float(total))
                self._update_times()
            case Metrics():
                self.phase_label.setText("Writing the model…")
                if self.estimate is not None:
                    self.estimate.writing(self.now())
                self._update_times()
            case Done():
                # The trainer still has to exit before the comparison starts: "Done." here
                # read as the end while the time left still counted the comparison.
                scoring = ("compare the two models" if self.controller.current is not None
                           else "measure the new model")
                self.phase_label.setText(f"Trained. Getting ready to {scoring} on the text it did not learn from…")
                self._trained = 1.0
                self.progress.setRange(0, 1000)
                self.progress.setValue(1000)
            case Cancelled():
                self.phase_label.setText("Cancelled.")
            case Error(message=message):
                self.error_label.setText(message)

    def _show_training(self, event: Training) -> None:
        tokens, total = event.tokens, event.total
        if total:
            self._trained = min(1.0, tokens / total)
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * self._trained))
        self.phase_label.setText("Training…")
        if event.loss is not None and math.isfinite(event.loss):
            self._loss_x.append(tokens / 1000.0)
            self._loss_y.append(event.loss)
            self.loss_curve.setData(self._loss_x, self._loss_y)
        if event.tokens_per_s is not None:
            self.detail_label.setText(f"{tokens:,} of {total:,} words read · {event.tokens_per_s:,.0f} a second")
        self._eta_s = event.eta_s
        if self.estimate is not None:
            self.estimate.training(self.now(), tokens=tokens, total=total, eta_s=self._eta_s,
                                   tokens_per_s=event.tokens_per_s)
        self._update_times()

    def _update_times(self) -> None:
        if not self._elapsed.isValid():
            return
        elapsed = self._elapsed.elapsed() / 1000.0
        text = f"Elapsed {format_duration(elapsed)}"
        if self.run is not None:
            text += self._time_left_text()
        self.time_label.setText(text)

    def _new_estimate(self) -> RunEstimate:
        adapt = self.request is not None and self.request.init_from is not None
        words = self._words if self._words is not None else retraining.EVAL_MAX_WORDS * 10
        compare = int(min(retraining.EVAL_MAX_WORDS, words * retraining.HELDOUT_FRACTION))
        fixed_s = retraining.adapt_fixed_seconds(words) if adapt else retraining.FIXED_SECONDS
        return RunEstimate(
            fixed_s=fixed_s * busy_factor(),  # as the estimate before Start
            words=words, compare_words=compare, adapt=adapt,
            models_compared=2 if self.controller.current is not None else 1,
        )

    def _time_left_text(self) -> str:
        """" · about 40 s left" for the whole run (comparison included), or what is known."""
        if self.estimate is None or (self.run is not None and self.run.is_cancelling()):
            return ""  # cancelled: nothing is left to wait for but the stop
        now = self.now()
        left = self.estimate.left(now)
        if left is not None:
            return f" · about {format_duration(left)} left, the comparison included"
        if self.estimate.overrun(now):
            return " · taking longer than estimated"
        return ""

    def cancel_training(self) -> None:
        """Stop the trainer promptly (see ``TrainerRun.cancel``)."""
        if self.run is None or self.run.is_cancelling():
            return
        self.cancel_button.setEnabled(False)
        self.phase_label.setText("Stopping…")
        self.run.cancel()
        self._update_times()  # the time left goes at once, not at the next tick

    def _run_finished(self, result: RunResult) -> None:
        run, self.run = self.run, None
        if run is not None:
            self.rejected = list(run.rejected)
            run.deleteLater()
        self._tick.stop()
        self._update_times()
        if result.cancelled:
            self._finish_cancelled()
        elif result.succeeded and self.new_bundle is not None and self.new_bundle.is_dir():
            self._finish_done()
        else:
            self._finish_failed(result.failure_message())

    def _show_how_far_training_got(self) -> None:
        """After a run that did not finish: the share trained, or no bar before training began."""
        if self._trained is None:
            self.progress.hide()
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * self._trained))

    def _finish_cancelled(self) -> None:
        self._discard_run()
        self._show_how_far_training_got()
        self.phase_label.setText("Training cancelled; nothing was saved.")
        self.cancel_button.hide()
        self.back_button.show()
        self.back_button.setFocus()
        self._outcome = "cancelled"
        self.run_finished.emit("cancelled")

    def _finish_failed(self, message: str) -> None:
        self._tick.stop()
        self._discard_run()
        self.phase_label.setText("Training failed.")
        self.error_label.setText(message)
        self._show_how_far_training_got()
        self.cancel_button.hide()
        self.back_button.show()
        self.back_button.setFocus()
        self._outcome = "failed"
        self.run_finished.emit("failed")

    def _finish_done(self) -> None:
        fault_point("retrain.trained")  # (tests) killed with the new model in the run's folder
        self._outcome = "done"
        self.run_finished.emit("done")
        self.pages.setCurrentWidget(self.results_page)
        self.use_new_button.setEnabled(False)
        self.keep_current_button.setEnabled(True)
        elapsed = self._elapsed.elapsed() / 1000.0
        self.results_title.setText(f"<h3>Training finished in {format_duration(elapsed)}</h3>")
        self._compare()

    # --- comparison -------------------------------------------------------------------
    def _compare(self) -> None:
        assert self.request is not None and self.new_bundle is not None
        current = self.controller.current
        request, new_bundle = self.request, self.new_bundle
        new_name = self.request.name
        current_path = current.path if current is not None else None
        current_name = current.name if current is not None else "(none)"
        self.eval_progress.show()
        self.eval_progress.setValue(0)
        self.eval_label.setText(self._comparing())
        self.verdict_label.setText("")  # (a verdict of an earlier run of this dialog)
        self.figures_note_label.hide()
        for cell in self.table.values():  # not an earlier run's figures, in bold, while comparing
            cell.setText("…")
        self.figures_table.show()

        models = {"current": (current_path, current_name), "new": (new_bundle, new_name)}

        def work(report) -> dict[str, ModelScore]:
            try:
                return retraining.compare_models(request, models, progress=report)
            except ValueError:
                if held_out_nothing(request):
                    raise NothingHeldOut(NOTHING_HELD_OUT) from None
                raise

        task = Task(work, with_progress=True, parent=self)
        task.progress.connect(self._comparison_progress)
        task.succeeded.connect(self._show_scores)
        task.failed.connect(self._comparison_failed)
        task.finished.connect(task.deleteLater)
        self._eval_task = task
        task.start()

    def _held_part(self) -> str:
        """Where the trainer held out the text both models are scored on."""
        adapting = self.request is not None and self.request.init_from is not None
        return "start" if adapting else "end"

    def _comparing(self) -> str:
        return COMPARING.format(part=self._held_part())

    def _comparison_progress(self, fraction: float) -> None:
        self.eval_progress.setValue(int(1000 * fraction))
        text = self._comparing()
        if self.estimate is not None:
            now = self.now()
            self.estimate.comparing(now, fraction)
            left = self.estimate.left(now)
            if left is not None:
                text += f" About {format_duration(left)} left."
        self.eval_label.setText(text)

    def _show_scores(self, scores: dict[str, ModelScore]) -> None:
        if self._outcome == "stopped":  # a comparison stopped midway (``stop_and_wait``) ended late
            return
        self._eval_task = None
        self.scores = scores
        self.eval_progress.hide()
        new = scores.get("new")
        current = scores.get("current")
        words = new.words if new else 0
        self.eval_label.setText(
            f"Both models were tested on {words:,} words from the {self._held_part()} of your files, "
            "which the new model did not learn from."
        )
        for which, score in scores.items():
            self.table[(which, "name")].setText(score.name)
            self.table[(which, "perplexity")].setText(format_perplexity(score.perplexity))
            self.table[(which, "top_k")].setText(f"{score.top_k * 100:.1f}%")
            self.table[(which, "ksr")].setText(f"{score.ksr:.1f}%")
        if current is None:
            for key in ("name", "perplexity", "top_k", "ksr"):
                self.table[("current", key)].setText("—")
        verdict = note = ""
        new_recommended = True  # nothing to compare with: the new model is the one there is
        new_worse = False
        if current is not None and new is not None:
            gain = new.ksr - current.ksr
            new_recommended = gain >= EQUAL_KSR
            new_worse = gain <= -EQUAL_KSR
            # ksr is a percentage of keystrokes: a gain of 0.6 points is 0.6 keystrokes in 100
            if abs(gain) < EQUAL_KSR:
                verdict = "The two models save about as many keystrokes on your text."
            elif gain > 0:
                verdict = (f"The new model saves {gain:.1f} more keystrokes in every 100 on your text: "
                           "using it is recommended.")
            else:
                verdict = (f"The new model saves {-gain:.1f} fewer keystrokes in every 100 on your text: "
                           "keeping the current model is recommended.")
            note = perplexity_note(current, new, new_recommended=new_recommended, new_worse=new_worse)
            self._mark_better(current, new)
        self.verdict_label.setText(f"<b>{verdict}</b>" if verdict else "")
        self.figures_note_label.setText(note)
        self.figures_note_label.setVisible(bool(note))
        self.use_new_button.setEnabled(True)
        self._follow_verdict(keep_new=not new_worse)
        self._make_default(self.use_new_button if new_recommended else self.keep_current_button)
        self.compared.emit()

    def _keep_choice_made(self) -> None:
        self._keep_chosen = True

    def _follow_verdict(self, *, keep_new: bool) -> None:
        """Tick "Keep the new model in the model list" unless the verdict is to keep the
        current model because the new one does worse (it stayed ticked under that verdict,
        and Enter then filed a worse model in the list).  A model about as good is kept: it
        cost the training time.  A choice the person made during the comparison stands."""
        if not self._keep_chosen:
            self.keep_new_check.setChecked(keep_new)

    def _make_default(self, button: QPushButton) -> None:
        """Enter chooses what the verdict recommends: the new model only when it is better
        (or there is no current one); when the current one does as well or better, switching
        to the new one is the step that needs a click."""
        for other in (self.use_new_button, self.keep_current_button):
            other.setDefault(other is button)
        button.setFocus()

    def _mark_better(self, current: ModelScore, new: ModelScore) -> None:
        """Bold the better figure of each row; none where the two read the same.  The lower
        perplexity is bolded where its model knows as many words as the other or more: a
        model that knows fewer words has fewer to choose from, and its lower perplexity is
        often the worse model's, but one that knows more and is still less unsure is the
        better (an adapted model, which grows the vocabulary, had its lower figure plain)."""
        pairs = {"top_k": (new.top_k, current.top_k), "ksr": (new.ksr, current.ksr)}
        lower, other = (new, current) if new.perplexity < current.perplexity else (current, new)
        if lower.vocab_size >= other.vocab_size:  # lower is better
            pairs["perplexity"] = (-new.perplexity, -current.perplexity)
        for key, (new_value, current_value) in pairs.items():
            if self.table[("new", key)].text() != self.table[("current", key)].text():
                winner = self.table[("new" if new_value > current_value else "current", key)]
                winner.setText(f"<b>{winner.text()}</b>")

    def _comparison_failed(self, message: str) -> None:
        if self._outcome == "stopped":
            return
        self._eval_task = None
        self.eval_progress.hide()
        self.figures_table.hide()  # nothing was measured: no table of placeholders
        message = message.strip()
        if not message.endswith((".", "!", "?")):
            message += "."
        self.eval_label.setText(f"The models could not be compared: {message}")
        self.use_new_button.setEnabled(True)
        self._follow_verdict(keep_new=True)  # no evidence against it
        if self.controller.current is not None:  # no evidence that the new one is better
            self._make_default(self.keep_current_button)
        else:
            self._make_default(self.use_new_button)
        self.compared.emit()

    # --- the choice -------------------------------------------------------------------
    def _keep_new_model(self, *, use: bool, then: Callable[[bool], None] | None = None) -> bool:
        """Hand the new bundle to the store (``ModelController.adopt``: checked in a thread,
        then moved in atomically) and, with ``use``, switch to it.  Once that is over the
        run's folder is removed, unless the store refused the bundle and ``then`` (the
        dialog, still open) is told ``then(False)``: the user may try again.  False if
        there is no new bundle."""
        if self.new_bundle is None or not self.new_bundle.is_dir() or self.request is None:
            return False
        bundle, run_dir = self.new_bundle, self.run_dir
        self.new_bundle = self.run_dir = None  # the store's now, unless it refuses
        if run_dir is not None:
            # The copy of the user's held-out text and the trainer's work files are not needed
            # once the models are compared: gone now, not only when the store is done (which
            # the app may not see if it is quitting).
            with contextlib.suppress(OSError):
                for leftover in run_dir.iterdir():
                    if leftover.is_dir() and leftover != bundle:
                        shutil.rmtree(leftover, ignore_errors=True)
                    elif not leftover.is_dir():
                        leftover.unlink()

        def done(key: str | None) -> None:
            if then is not None and key is None and not self._closed:
                self.new_bundle, self.run_dir = bundle, run_dir
            elif run_dir is not None:  # what the trainer left beside the bundle
                shutil.rmtree(run_dir, ignore_errors=True)
            if then is not None and not self._closed:
                then(key is not None)

        self.controller.adopt(bundle, name=self.request.name, use=use, done=done)
        return True

    def use_new_model(self) -> None:
        """Hand the new model over and switch to it.  The dialog goes at once, not once the
        store has checked the model (a second or more for a large one): what was typed
        meanwhile went to the dialog and was lost (H33's finding 2).  It comes back if the
        store refuses the model."""
        self.use_new_button.setEnabled(False)
        self.keep_current_button.setEnabled(False)
        self.hide()

        def then(kept: bool) -> None:
            if kept:
                self.accept()
            else:  # the controller said why (a box); the current model stays in use
                self.use_new_button.setEnabled(True)
                self.keep_current_button.setEnabled(True)
                self.show()
                self.raise_()
                self.activateWindow()

        if not self._keep_new_model(use=True, then=then):
            self.accept()

    def keep_current_model(self) -> None:
        if self.keep_new_check.isChecked():
            self._keep_new_model(use=False)
        self._discard_run()
        self.accept()

    # --- clean-up ---------------------------------------------------------------------------
    def _discard_run(self) -> None:
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None
            self.new_bundle = None

    def _recover_runs(self) -> None:
        """What runs of earlier sessions left: a finished model is offered (a kill after
        training, before the user chose, must not cost them the training), the rest removed
        (``retraining.recover_runs``; another running copy's runs are left alone)."""
        for model in retraining.recover_runs(training_dir()):
            self._offer(model)

    def _offer(self, model: UnaddedModel) -> None:
        row = QFrame()
        row.setObjectName("unaddedModel")
        row.setFrameShape(QFrame.Shape.StyledPanel)
        text = boxes.plain_label(model.describe())  # the model's name and its files
        text.setWordWrap(True)
        add = QPushButton("Add to My &Models")
        add.setToolTip(boxes.plain_tooltip(
            f"Check the model and add it to the model list, without using it yet ({model.bundle})"))
        discard = QPushButton("&Discard")
        discard.setToolTip("Delete this model")
        add.clicked.connect(lambda: self.add_unadded(model))
        discard.clicked.connect(lambda: self.discard_unadded(model))
        layout = QHBoxLayout(row)
        layout.addWidget(text, 1)
        layout.addWidget(add)
        layout.addWidget(discard)
        self.unadded[model.run_dir] = row
        self.unadded_layout.addWidget(row)
        self.unadded_box.show()

    def add_unadded(self, model: UnaddedModel) -> None:
        """Check a recovered model and move it into the store (``ModelController.adopt``),
        not in use; its row goes once it is there, or stays (the controller said why)."""
        row = self.unadded.get(model.run_dir)
        if row is None:
            return
        row.setEnabled(False)

        def done(key: str | None) -> None:
            if key is not None:
                shutil.rmtree(model.run_dir, ignore_errors=True)  # what is left: the empty run folder
                retraining.forget_run(model.run_dir)
                if not self._closed:
                    self._drop_offer(model)
                    self._propose_name_again()
            elif not self._closed:
                row.setEnabled(True)

        self.controller.adopt(model.bundle, name=model.name, use=False, done=done)

    def _propose_name_again(self) -> None:
        """The model just added may carry the name proposed for the next run (both are
        "My writing DATE"): a name the user has not changed is proposed afresh."""
        if self.name_edit.text() == self._proposed:
            self._proposed = proposed_name(self.controller.store)
            self.name_edit.setText(self._proposed)

    def discard_unadded(self, model: UnaddedModel) -> None:
        """The user said so, twice (it may have taken hours to train): the recovered model
        is deleted."""
        sure = boxes.question(
            self, "Delete Retrained Model?",
            f"Delete \u201c{model.name}\u201d? It was never added to your models and cannot be recovered.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if sure != QMessageBox.StandardButton.Yes:
            return
        shutil.rmtree(model.run_dir, ignore_errors=True)
        retraining.forget_run(model.run_dir)
        self._drop_offer(model)

    def _drop_offer(self, model: UnaddedModel) -> None:
        row = self.unadded.pop(model.run_dir, None)
        if row is not None:
            row.hide()
            row.deleteLater()
        self.unadded_box.setVisible(bool(self.unadded))

    def _show_notes(self, label: QLabel, text: str, details: str) -> None:
        """A line of ``retraining.corpus_notes`` under the count (or the training's title),
        every file in its tooltip; hidden when there is nothing to say."""
        label.setText(text)
        label.setToolTip(boxes.plain_tooltip(details))
        label.setVisible(bool(text))

    def stop_and_wait(self, timeout_ms: int | None = None, *, drop_run: bool = False) -> None:
        """Stop the trainer and the comparison and wait for them (closing the dialog or the
        app).  ``drop_run``: the user was asked and agreed that nothing of this run be kept
        (the window's box before quitting, or the dialog's own): a finished run the user has
        not chosen is dropped like one stopped during training, its new bundle and the copy
        of their held-out text beside it (the run's folder) removed, even when the
        comparison ended while the box was open.  Without it, a run whose scores are shown
        is the user's to keep or not (see ``done``)."""
        if self.run is not None:
            self.run.stop_and_wait(timeout_ms)  # a run stopped in training removes its folder
        for task in (self._count_task, self._eval_task):
            if task is not None:
                try:
                    task.cancel()
                    task.wait()  # the comparison reads the new bundle: removed only after
                except RuntimeError:
                    pass
        if drop_run and self._outcome == "done":
            self._eval_task = None
            self._discard_run()
            self._outcome = "stopped"

    def done(self, result: int) -> None:  # noqa: D401 - Qt API
        question = ""
        if self.run is not None:
            question = "Training is still running. Stop it? Nothing will be saved."
        elif self._comparing_now():
            question = f"{self.under_way()} Stop? The new model will not be kept."
        if question:
            answer = boxes.question(
                self, "Stop Training?", question,
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.stop_and_wait(drop_run=bool(question))
        self._closed = True  # a check under way (``_keep_new_model``) must not touch the dialog
        if self._outcome == "done" and self.new_bundle is not None:
            # Closed without choosing: the current model stays; the new one is kept in the
            # list if the box says so (ticked unless the verdict found the new one worse).
            if self.keep_new_check.isChecked():
                self._keep_new_model(use=False)
            self._discard_run()
        self._tick.stop()
        super().done(result)
