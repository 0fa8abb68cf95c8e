"""Retraining on the user's corpus, without Qt and without torch.

The app never imports torch: training runs as a separate process
(``python -m model_training.cli``, the ``keyboard-train`` command) that
reports progress as JSON lines.  This module decides whether that is
possible here, builds the command line, estimates how long it will take,
counts the corpus, and -- once a new model exists -- compares it with the
current one on the held-out part of the user's own text through the
engine's ``evaluate()``.

The held-out text is the one the trainer held out and wrote for us
(``--write-heldout``, ``keyboard_app.heldout``): the split is
defined once, by the trainer, so the comparison never scores a model on
text it was trained on.

A run lives in its own folder (``new_run_dir``: ``run-DATE-pPID-x``) until the
user chooses.  A kill, a crash or a power cut before that leaves the run's
finished bundle there: ``recover_runs`` finds it the next time (runs of live
processes are left alone), claims it by one rename, so that two copies of the
app never both take it, and hands it back to be offered to the user
(``UnaddedModel``); what a dead run left unfinished or damaged is removed.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import logging
import os
import re
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .settings import DEFAULT_SUGGESTIONS

log = logging.getLogger(__name__)

TRAIN_PACKAGE = "predictive-keyboard"
#: The ``train`` extra pins PyTorch's CPU build (``torch==…+cpu``), which only PyTorch's
#: own index has (README, "Set up"): without it pip finds no such version.
PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: From the app's source folder, what README's "Set up" runs for the training extra.
SOURCE_INSTALL_COMMAND = f'pip install -e ".[train]" --extra-index-url {PYTORCH_CPU_INDEX}'
HELDOUT_FRACTION = 0.1  # of each file: plenty for small personal corpora
EVAL_MAX_WORDS = 1500  # words scored per model (KSR asks the model at every keystroke)
#: The models are compared with as many suggestions shown as the strip shows by default
#: (the manifests' metrics use the same k, so the figures can be set side by side).  They are
#: scored as the trainer scores its held-out text, at every k its metrics record, so that the
#: comparison takes per word what the trainer's last step took (``ui.eta`` counts on that).
COMPARE_K = DEFAULT_SUGGESTIONS
COMPARE_KS = (1, COMPARE_K, 5)
TOKENS_PER_WORD = 1.25  # punctuation counts as tokens
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


@dataclass(frozen=True)
class SizePreset:
    label: str
    args: tuple[str, ...]
    tokens_per_s: float  # measured on 2 CPU cores; for the estimate only
    epochs: int = 3


#: Model sizes offered for training from scratch.
SIZES: dict[str, SizePreset] = {
    "small": SizePreset(
        "Small — fastest; for up to about a million words",
        ("--embedding-dim", "128", "--hidden-size", "256", "--layers", "1", "--vocab-size", "10000"),
        tokens_per_s=16000,  # measured (see FIXED_SECONDS)
    ),
    "medium": SizePreset(
        "Medium — the size of the built-in model",
        ("--embedding-dim", "256", "--hidden-size", "512", "--layers", "1", "--vocab-size", "20000"),
        tokens_per_s=2000,
    ),
    "large": SizePreset(
        "Large — for many millions of words; takes hours on most computers",
        ("--embedding-dim", "384", "--hidden-size", "768", "--layers", "2", "--vocab-size", "30000"),
        tokens_per_s=600,
    ),
}
DEFAULT_SIZE = "small"
#: Fine-tuning keeps the current model's shape; these are its extra settings: a word
#: the user wrote at least twice joins the vocabulary (up to 5,000 new words); a
#: learning rate a third of training from scratch, with a short warm-up; four
#: validations an epoch, the best network kept and training stopped after two without
#: gain; every weight of the current model pulled back toward its value (``--anchor``:
#: 5 x the learning rate a step), so a small corpus adapts the network without it
#: forgetting or memorising; and an int8 graph like the built-in model's, as fast.
#: The trainer starts each new word where the user's text puts it
#: (``model_training.init_from.init_new_words``), not at the bottom of the ranking.
#: At the end the trained weights are blended back toward the current model's
#: (``--interpolate 0.85``, WiSE-FT) and the user's own word pairs and triples are not
#: written as a second phrase table (``--no-user-phrases``): on the adaptation
#: benchmark both cut what the new model costs on other texts (the handbook's from
#: -0.82 to -0.39 KSR points, Wesnoth's from -1.70 to -0.86) for no loss of gain on
#: the user's own text (+2.67 -> +2.43, +1.76 -> +1.85).
#: Chosen on benchmarks/adaptation.py (issue 12): on the handbook's unseen text the
#: network's perplexity went 118.5 -> 89.8 with these, -> 97.1 with 3 epochs at 3e-3.
#: The validation text is the start of each of the user's files, not its end
#: (``--heldout-at start``): their newest writing is learned, with the names that only
#: it has (on the benchmark's Wesnoth text the gain went +1.84 -> +2.68 KSR points,
#: the kernel documentation's +1.09 -> +1.74; the model card has the table).
ADAPT_ARGS: tuple[str, ...] = (
    "--min-count", "2", "--max-new-words", "5000",
    "--lr", "1e-3", "--warmup", "30", "--evals-per-epoch", "4", "--patience", "2", "--anchor", "5",
    "--interpolate", "0.85", "--no-user-phrases", "--quantize",
    "--heldout-at", "start",  # (keyboard-train's own choice when adapting: said here for the reader)
)
ADAPT_EPOCHS = 3
#: The estimate's constants are a quiet computer's: the dialog stretches the estimate by
#: the load (``load_stretch`` below) and reads the adaptation speed from the manifest
#: (``ui.eta.estimate_before_start``).  Fitted to the app's own command on this 2-core
#: machine (benchmarks/retrain_estimate.py: the first N words of the handbook text;
#: 2026-12-03; three runs of each at load averages 1.4-3.3, the run included):
#:   adapt the default:  2,013 words 8.8-13.0 s (of which 1-2 s training), 6,688 words
#:     12.1-18.6 s (4-7), 20,466 words 20.4-30.7 s (11-16), 53,352 words 38.8-60.1 s
#:     (27-44), 140,650 words 83.7-145.6 s (65-114; 3.5k-6.1k tokens/s);
#:   scratch, small:  2,013 words 4.0-5.0 s, 20,466 words 7.1-9.4 s, 52,328 words
#:     14.5-16.3 s, 140,650 words 32.2-35.4 s (~16k tokens/s of training).
#: The estimates are 0.70-1.36x these times (1.00-1.16x on 140,650 words; one 2,013-word
#: run beside another training 0.58x); at a load of 5-7 (earlier runs: 6,688 words 47 s,
#: 140,596 words 228 s) 0.69-1.12x, but for a 2,013-word run whose start-up took 24 s.  The old constants (25 s; 15 s +
#: 0.06 s a held-out word) were measured with the trainer's earlier, slower tuning and
#: made the estimate 3-14x too long on small corpora (H18's finding 9).
FIXED_SECONDS = 4.0  # training from scratch: starting Python and torch, reading, export, the test
#: An adapted model also gets an int8 graph and its own phrase weights tuned on held-out
#: text (12 scorings of up to 1,000 held-out words, then one more for the manifest): the
#: part that does not grow with training, 7-11 s with 200 words held out, 10-32 s with 1,000.
ADAPT_START_SECONDS = 7.0
ADAPT_SECONDS_PER_HELDOUT_WORD = 0.005
TUNE_MAX_WORDS = 1000  # model_training.pipeline.TUNE_MAX_WORDS: the trainer's cap


def adapt_fixed_seconds(words: int) -> float:
    """The part of a fine-tune that does not grow with training: start, export, the
    phrase weights' tuning and the final scoring, which score the held-out words."""
    heldout_words = min(words * HELDOUT_FRACTION, TUNE_MAX_WORDS)
    return ADAPT_START_SECONDS + ADAPT_SECONDS_PER_HELDOUT_WORD * heldout_words


def training_available() -> tuple[bool, str]:
    """Whether this copy can train, and if not, why (one sentence for the user)."""
    if getattr(sys, "frozen", False):
        return False, (
            "This standalone copy of the app cannot train models: it carries the "
            "prediction engine but not PyTorch."
        )
    if importlib.util.find_spec("model_training") is None:
        return False, "The training part of the app (model_training) is not installed."
    if importlib.util.find_spec("torch") is None:
        return False, "Training needs PyTorch, which is not installed."
    return True, ""


@dataclass(frozen=True)
class TrainingAdvice:
    """How to make retraining possible, for a copy that cannot train (``training_advice``)."""

    text: str  # one or two sentences
    command: str = ""  # a command to copy and run; "" where none would help (a standalone program)


def training_advice() -> TrainingAdvice:
    """What the user can do to retrain, true for the way this copy was installed.

    A standalone program cannot be given PyTorch by any install: retraining happens in
    an install from source, whose models this program lists too (the same per-user
    folders) or imports.  An install from source lacking PyTorch gets the command that
    installs the training extra's packages into the Python it runs on, from PyTorch's
    CPU index (the extra pins its CPU build)."""
    if getattr(sys, "frozen", False):
        return TrainingAdvice(
            "To retrain, install the app from its source code with the training extra "
            "(see “Set up” in the project's README) and retrain there. A model made there on "
            "this computer with Models ▸ Retrain on My Writing appears here too, in "
            "Models ▸ Manage Models; one made with the keyboard-train command can be added "
            "here with Models ▸ Import Model."
        )
    requirements = _train_requirements()
    if importlib.util.find_spec("model_training") is None or not requirements:
        return TrainingAdvice(
            "To enable training, run this command in the app's source folder (see “Set up” "
            "in the project's README), then start the app again:",
            SOURCE_INSTALL_COMMAND,
        )
    command = [_console_python(), "-m", "pip", "install", *requirements, "--extra-index-url", PYTORCH_CPU_INDEX]
    return TrainingAdvice(
        "To enable training, install the training extra's packages into the Python this app "
        "runs on with this command, then start the app again:",
        _shell_command(command),
    )


def _console_python() -> str:
    """The Python to give a terminal: on Windows the app runs on ``pythonw.exe``, which shows
    nothing (pip's progress and errors would go nowhere); ``python.exe`` beside it does."""
    path = Path(sys.executable)
    if path.name.lower() == "pythonw.exe" and path.with_name("python.exe").exists():
        return str(path.with_name("python.exe"))
    return sys.executable


def _train_requirements() -> list[str]:
    """The ``train`` extra's requirements (``torch==…+cpu``, ``onnx>=…``, ...), read from
    the installed package's metadata; [] when it has none (not installed as a package)."""
    from importlib import metadata

    try:
        declared = metadata.requires(TRAIN_PACKAGE) or []
    except metadata.PackageNotFoundError:
        return []
    extra = re.compile(r"""extra\s*==\s*["']train["']""")
    return [req.split(";", 1)[0].strip() for req in declared if ";" in req and extra.search(req.split(";", 1)[1])]


def _shell_command(args: Sequence[str]) -> str:
    """``args`` as one line to paste into this system's shell (``>`` and spaces quoted)."""
    if sys.platform == "win32":  # cmd.exe: double quotes around what it would split or redirect
        return " ".join(f'"{a}"' if re.search(r'[\s<>|&^()]', a) else a for a in args)
    import shlex

    return shlex.join(args)


@dataclass
class TrainRequest:
    corpus: list[Path]
    out: Path  # the bundle to write (the trainer writes it atomically)
    work_dir: Path
    name: str
    init_from: Path | None = None  # fine-tune this bundle; None: from scratch
    size: str = DEFAULT_SIZE
    max_minutes: float = 0.0
    extra_args: list[str] = field(default_factory=list)

    @property
    def heldout_file(self) -> Path:
        """Where the trainer writes the text it held out (``--write-heldout``)."""
        return self.work_dir.parent / "heldout.json"

    def command(self) -> tuple[str, list[str]]:
        """The program and arguments of the ``keyboard-train`` process."""
        args = ["-m", "model_training.cli", *[str(Path(p).resolve()) for p in self.corpus]]
        args += ["--out", str(self.out), "--work-dir", str(self.work_dir), "--name", self.name]
        args += ["--progress-json", "--quiet", "--heldout-fraction", str(HELDOUT_FRACTION)]
        args += ["--ksr-words", "1000"]
        args += ["--write-heldout", str(self.heldout_file)]
        # the phrase tables compressed, as the built-in model's: a fine-tuned model's are nearly
        # all its source's, 44 MB stored; the app reads them through a stored copy in its cache
        args += ["--compress-phrases"]
        if self.init_from is not None:
            args += ["--init-from", str(self.init_from), *ADAPT_ARGS, "--epochs", str(ADAPT_EPOCHS)]
        else:
            preset = SIZES[self.size]  # int8 like the built-in model: a quarter of the size, as fast
            args += [*preset.args, "--epochs", str(preset.epochs), "--quantize"]
        if self.max_minutes > 0:
            args += ["--max-minutes", f"{self.max_minutes:g}"]
        args += self.extra_args
        return sys.executable, args


#: The rates above are a quiet computer's: the run has the cores to itself.  On a shared
#: computer it runs beside other work: with ``load`` tasks wanting a core (the load average
#: read before Start, which does not count the run) and the run's threads on each of the
#: ``cores``, every thread gets cores / (cores + load) of a core, so the run takes
#: 1 + load / cores times as long (``load_stretch``).  Until H33's finding 3 the stretch
#: was load / cores, at least 1: the relation of a load average read *during* a run, which
#: counts the run itself (the runs it was fitted to: ``ui.eta``), applied to one read
#: before it, so up to one task per core was left out and a run on a computer at a load
#: of 2 per 2 cores was promised the quiet time.  Runs at the same load still differ, and
#: a load changes: on a busy computer the dialog also says how long it may take
#: (``slow_end``).
MAX_STRETCH = 4.0  # a load that may pass is not promised as hours
SLOW_MARGIN = 1.35  # the spread of runs at one load (benchmarks/retrain_estimate.py)
BUSY_STRETCH = 1.75  # from this stretch on (a load of 0.75 a core), the computer is called busy and the range shown


@dataclass(frozen=True)
class MachineLoad:
    """The load averages of the last minute and of the last five, and the cores this
    process may run on."""

    last_minute: float
    last_five: float
    cores: int

    @classmethod
    def read(cls) -> "MachineLoad | None":
        """Now; None where the system keeps no load average (Windows)."""
        try:
            last_minute, last_five, _ = os.getloadavg()
        except (AttributeError, OSError):
            return None
        return cls(last_minute, last_five, usable_cores())


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def load_stretch(load: float, cores: int) -> float:
    """How many times a quiet computer's time a run takes beside ``load`` other tasks
    wanting a core, on ``cores`` cores: ``1 + load / cores``, at most ``MAX_STRETCH``."""
    return min(MAX_STRETCH, 1.0 + max(0.0, load) / max(1, cores))


def busy_stretch(load: MachineLoad | None = None) -> float:
    """The stretch of the last minute's load (read now unless given); 1 where the system
    keeps no load average."""
    load = MachineLoad.read() if load is None else load
    return 1.0 if load is None else load_stretch(load.last_minute, load.cores)


def slow_end(seconds: float, load: MachineLoad | None = None) -> float:
    """How long a run estimated at ``seconds`` (stretched by the last minute's load) may
    take: ``SLOW_MARGIN`` times it, and more where the last five minutes were busier than
    the last one (a shared computer's load comes back)."""
    load = MachineLoad.read() if load is None else load
    if load is None:
        return seconds * SLOW_MARGIN
    sustained = load_stretch(max(load.last_minute, load.last_five), load.cores)
    return seconds * SLOW_MARGIN * sustained / load_stretch(load.last_minute, load.cores)


def estimate_seconds(
    words: int, *, size: str | None, adapt_tokens_per_s: float | None = None, max_minutes: float = 0.0
) -> float:
    """A rough, honest-by-construction estimate: measured speeds, not promises."""
    tokens = words * TOKENS_PER_WORD * (1.0 - HELDOUT_FRACTION)
    if size is None:  # fine-tuning the current model
        speed, epochs = adapt_tokens_per_s or 2500.0, ADAPT_EPOCHS
    else:
        speed, epochs = SIZES[size].tokens_per_s, SIZES[size].epochs
    seconds = tokens * epochs / max(speed, 1.0)
    if max_minutes > 0:
        seconds = min(seconds, max_minutes * 60)
    return seconds + (adapt_fixed_seconds(words) if size is None else FIXED_SECONDS)


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s" if minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass
class CorpusCount:
    files: int = 0
    words: int = 0
    bytes: int = 0
    #: the trainer's own reasons (``model_training.corpus.SkippedFile``: path, kind, reason)
    skipped: list[Any] = field(default_factory=list)
    decoded: list[tuple[str, str]] = field(default_factory=list)  # (path, encoding): not UTF-8

    def notes(self) -> tuple[str, str]:
        """What the trainer will skip or read in another encoding (``corpus_notes``)."""
        return corpus_notes(self.skipped, self.decoded)


def count_corpus_words(paths: Sequence[Path], keep_going: Callable[[Any], bool] = lambda _: True) -> CorpusCount:
    """Count the words of the text files named or found under ``paths`` (streamed), and
    note the files the trainer will skip or read as Windows-1252: the same ``find_files``."""
    from model_training.corpus import ReadStats, find_files, read_lines

    skipped: list[Any] = []  # the trainer's reasons (a binary file, a link out of the corpus or in a loop)
    files = find_files(paths, skipped)
    count = CorpusCount(files=len(files), bytes=sum(f.size for f in files), skipped=skipped,
                        decoded=[(str(f.path), f.encoding.label) for f in files
                                 if f.encoding.guessed])
    for f in files:
        stats = ReadStats()
        for line in read_lines(f.path, stats, encoding=f.encoding):  # as the trainer reads it
            count.words += len(_WORD.findall(line))
        if not keep_going(count):
            break
    return count


NOTE_NAMES = 3  #: file names shown in a note's line; the tooltip lists more
TIP_FILES = 25  #: files listed in a note's tooltip, of each sort (a taller one leaves the screen)


def corpus_notes(skipped: Sequence[Any], decoded: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """The files left out of the corpus and those read in another encoding than UTF-8, as
    a line for the dialog and a list for its tooltip (``TIP_FILES`` of each sort, each with
    its whole path and reason): ``("2 files skipped (binary:
    a.bin; unreadable: b.txt). 1 file read as Windows-1252: notes.txt.", "...")``, the
    line naming at most ``NOTE_NAMES`` files of each sort ("and 4 more").  ``skipped``
    holds anything with ``path``, ``kind`` and ``reason`` (the trainer's ``SkippedFile``,
    the ``skipped`` progress event); ``("", "")`` when there is nothing to say."""
    line, tip = [], []
    if skipped:
        by_kind: dict[str, list[str]] = {}
        for item in skipped:
            by_kind.setdefault(item.kind, []).append(Path(item.path).name)
        groups, budget = [], NOTE_NAMES
        for kind, names in by_kind.items():
            shown = names[: max(1, budget)]
            budget -= len(shown)
            groups.append(f"{kind}: {_names(shown, len(names))}")
        line.append(f"{_files(len(skipped))} skipped ({'; '.join(groups)}).")
        tip.append("Skipped:")
        tip += _listed([f"  {item.path}: {item.reason}" for item in skipped])
    if decoded:
        by_encoding: dict[str, list[str]] = {}
        for path, encoding in decoded:
            by_encoding.setdefault(encoding, []).append(path)
        for encoding, paths_ in by_encoding.items():
            names = [Path(p).name for p in paths_]
            line.append(f"{_files(len(names))} read as {encoding}, not UTF-8: "
                        f"{_names(names[:NOTE_NAMES], len(names))}.")
            tip.append(f"Read as {encoding} (not UTF-8; an accented letter may be wrong if the file "
                       "was saved in another encoding):")
            tip += _listed([f"  {p}" for p in paths_])
    return " ".join(line), "\n".join(tip)


def _listed(lines: list[str]) -> list[str]:
    """At most ``TIP_FILES`` lines, then how many more."""
    if len(lines) <= TIP_FILES:
        return lines
    return lines[:TIP_FILES] + [f"  … and {len(lines) - TIP_FILES:,} more"]


def _files(n: int) -> str:
    return f"{n:,} file{'s' if n != 1 else ''}"


def _names(shown: list[str], total: int) -> str:
    return ", ".join(shown) + (f" and {total - len(shown):,} more" if total > len(shown) else "")


def heldout_texts(request: TrainRequest) -> list[str]:
    """The text the trainer held out of the user's corpus (it wrote it for us:
    ``--write-heldout``), so the comparison never scores a model on text it was
    trained on.  ``HeldoutError`` (one sentence) when the trainer wrote none."""
    from .heldout import read_heldout

    return [text for text in read_heldout(request.heldout_file) if text.strip()]


@dataclass
class ModelScore:
    name: str
    perplexity: float
    top_k: float  # fraction: the next word among the COMPARE_K shown
    ksr: float  # percent, k = COMPARE_K
    words: int
    vocab_size: int


def score_model(bundle: Path, texts: list[str], name: str,
                progress: Callable[[float], Any] | None = None) -> ModelScore:
    """Evaluate one model on ``texts`` with the engine (the strip's own suggestions)."""
    from .engine.evaluate import evaluate
    from .predictors import close_predictor, load_predictor

    predictor = load_predictor(bundle)
    try:
        report = evaluate(predictor, texts, ks=COMPARE_KS, max_words=EVAL_MAX_WORDS,
                          progress=_progress_adapter(progress))
    finally:
        close_predictor(predictor)
    return ModelScore(
        name=name,
        perplexity=float(report.perplexity),
        top_k=float(_pick(report.topk, COMPARE_K)),
        ksr=float(_pick(report.ksr, COMPARE_K)),
        words=int(report.words),
        vocab_size=len(predictor.bundle.vocab),
    )


def compare_models(request: TrainRequest, models: dict[str, tuple[Path | None, str]],
                   progress: Callable[[float], Any] | None = None) -> dict[str, ModelScore]:
    """Score each of ``models`` (``{which: (bundle, name)}``; a bundle of None is left out)
    on the text the trainer held out for ``request``; ``progress`` gets the fraction done
    of all of them.  A ``ValueError`` (one sentence) when there is no held-out text."""
    texts = heldout_texts(request)
    if not texts:
        raise ValueError("your files are too short to hold any text out for the comparison")
    parts = [(which, bundle, name) for which, (bundle, name) in models.items() if bundle is not None]
    scores = {}
    for i, (which, bundle, name) in enumerate(parts):
        report = None if progress is None else (lambda f, i=i: progress((i + f) / len(parts)))
        scores[which] = score_model(bundle, texts, name, progress=report)
    return scores


def _pick(table: dict, k: int) -> float:
    return table.get(k, table.get(str(k), 0.0))


def _progress_adapter(progress: Callable[[float], Any] | None) -> Callable[..., Any] | None:
    """The engine reports (done, total) or a fraction; hand on a fraction."""
    if progress is None:
        return None

    def report(*args: Any, **kwargs: Any) -> Any:
        try:
            if len(args) >= 2 and args[1]:
                return progress(float(args[0]) / float(args[1]))
            if args:
                return progress(float(args[0]))
        except (TypeError, ValueError):
            pass
        return None

    return report


# --- the runs' folders, and the finished models a kill left in them ---------------------------
RUN_BUNDLE = "bundle"  # the trainer's --out inside a run's folder
_RUN_NAME = re.compile(r"run-(?P<stamp>\d{8}-\d{6})-p(?P<pid>\d+)-(?P<tag>\w+)")
#: Runs this process claimed from dead ones and offered, not yet added or discarded: offered
#: again when the dialog opens again (a run with this process's id is otherwise its own, live).
_claimed: set[Path] = set()


def new_run_dir(folder: Path) -> Path:
    """A new run's folder in ``folder`` (not created), named with this process's id, so that
    ``recover_runs`` in another copy of the app leaves it alone while this one lives."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return folder / f"run-{stamp}-p{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class UnaddedModel:
    """A retrain's finished bundle that was never added to the models: the app ended (a kill,
    a crash, a power cut) after training, before the user chose.  Its run's folder is this
    process's now (``recover_runs``)."""

    run_dir: Path
    name: str
    created: str  # the manifest's, ISO 8601
    corpus: tuple[str, ...]  # the names of the files it was trained on

    @property
    def bundle(self) -> Path:
        return self.run_dir / RUN_BUNDLE

    def created_text(self) -> str:
        try:
            when = _dt.datetime.fromisoformat(self.created.replace("Z", "+00:00"))
        except ValueError:
            return self.created or "an unknown date"
        return when.astimezone().strftime("%Y-%m-%d %H:%M")

    def corpus_text(self) -> str:
        names = list(self.corpus[:2])
        more = len(self.corpus) - len(names)
        return ", ".join(names) + (f" and {more} more file{'s' if more != 1 else ''}" if more else "") \
            if names else "your text"

    def describe(self) -> str:
        """One sentence for the dialog."""
        return (f"\u201c{self.name}\u201d, trained on {self.created_text()} from {self.corpus_text()}, "
                "was not added to your models: the app stopped before you chose.")


def _runs(folder: Path) -> list[tuple[Path, "re.Match[str] | None", str]]:
    """The runs in ``folder``, oldest first, each with its name's parts and whose it is:
    "claimed" (taken by this process from a dead one, not yet answered), "ours" (this
    process's own, under way or being added), "live" (another running copy's) or "dead"
    (a run of an earlier version, whose name has no process id, counts as a crash's)."""
    from .engine.staging import process_alive

    try:
        runs = sorted(p for p in folder.iterdir() if p.name.startswith("run-") and p.is_dir())
    except OSError:
        return []
    found = []
    for run in runs:
        match = _RUN_NAME.fullmatch(run.name)
        pid = int(match["pid"]) if match else None
        if pid == os.getpid():
            whose = "claimed" if run in _claimed else "ours"
        else:
            # a live process that started after the run did is another program with its number
            whose = "live" if pid is not None and process_alive(pid, since=_stamp_time(match)) else "dead"
        found.append((run, match, whose))
    return found


def _stamp_time(match: "re.Match[str] | None") -> float | None:
    """When a run started, from its name's stamp (local time, as ``run_folder`` writes it)."""
    try:
        return time.mktime(time.strptime(match["stamp"], "%Y%m%d-%H%M%S")) if match else None
    except (ValueError, OverflowError):
        return None


def recover_runs(folder: Path) -> list[UnaddedModel]:
    """The finished models that runs of dead processes left in ``folder`` (the app's
    training folder), claimed for this process, oldest first; those claimed earlier by
    this process and not yet added or discarded too.  A dead run without a finished bundle
    (stopped in training, killed while writing it) or with a damaged one is removed, as
    before; a live process's run is left alone.  A claim is one rename of the run's folder
    to a name with this process's id: of two copies of the app only one can make it."""
    found: list[UnaddedModel] = []
    for run, match, whose in _runs(folder):
        if whose == "claimed":
            unadded = _finished(run)
            if unadded is not None:
                found.append(unadded)
        if whose != "dead":
            continue  # this process's own run, under way or being added, or another copy's
        # a fresh stamp: the claim is this process's run from now on, and a process that
        # started after the run's first stamp would make it look like another program's
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        tag = match["tag"] if match else uuid.uuid4().hex[:6]
        claimed = folder / f"run-{stamp}-p{os.getpid()}-{tag}"
        try:
            os.rename(run, claimed)  # ours from now on, or another copy's first
        except OSError:
            continue
        unadded = _finished(claimed)
        if unadded is None:
            shutil.rmtree(claimed, ignore_errors=True)
            continue
        for leftover in claimed.iterdir():  # the trainer's work files, the copy of the held-out text
            if leftover.name != RUN_BUNDLE:
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)
        _claimed.add(claimed)
        log.info("%s: a finished model that was never added (%s)", claimed, unadded.name)
        found.append(unadded)
    return found


def unadded_waiting(folder: Path) -> int:
    """How many runs in ``folder`` hold a model that was never added: runs of dead processes
    with a bundle's manifest, and those this process claimed and has not had answered.  Claims
    and checks nothing (``recover_runs`` does, when the retrain dialog offers them): cheap
    enough for the app's start, to tell the user that something is waiting."""
    return sum(1 for run, _, whose in _runs(folder)
               if whose in ("claimed", "dead") and (run / RUN_BUNDLE / "manifest.json").is_file())


def forget_run(run_dir: Path) -> None:
    """The user added or discarded a recovered run's model: its folder is no longer offered."""
    _claimed.discard(run_dir)


def _finished(run: Path) -> UnaddedModel | None:
    """The run's model if its bundle is complete (the manifest and every checksum), else None."""
    from . import paths  # the stored copy of compressed tables, which adding it reads too
    from .engine.bundle import ModelLoadError, load_bundle

    try:
        bundle = load_bundle(run / RUN_BUNDLE, phrase_cache=paths.phrase_cache_dir())
    except (ModelLoadError, OSError):
        return None
    manifest = dict(bundle.manifest)
    bundle.close()
    files = (manifest.get("corpus") or {}).get("files") if isinstance(manifest.get("corpus"), dict) else None
    names = tuple(Path(str(f.get("path", "?"))).name for f in files if isinstance(f, dict)) \
        if isinstance(files, list) else ()
    return UnaddedModel(run_dir=run, name=str(manifest.get("name") or "My writing"),
                        created=str(manifest.get("created", "")), corpus=names)
