"""``keyboard-train``: train a word-level LSTM on a corpus and write a model bundle.

Usage::

    keyboard-train CORPUS [CORPUS ...] --out BUNDLE [options]
    keyboard-train CORPUS --out BUNDLE --resume            # continue after Ctrl-C
    keyboard-train MY_TEXT --out MINE --init-from assets/models/default   # fine-tune
    keyboard-train CORPUS --dry-run                        # one batch, export, parity check

CORPUS is any mix of UTF-8 text files and folders (searched recursively;
binary files, and symbolic links that lead out of the corpus or back to
themselves, are skipped with a warning; a file that is not UTF-8 is read as
Windows-1252, or Latin-1, and said so once).  The training state is kept in
``--work-dir`` (default: ``BUNDLE.work`` beside the bundle): ``checkpoint.pt``
is written after each epoch, every ``--checkpoint-minutes`` within one (5 by
default; 0: epoch ends only) and when the run is stopped, always atomically
(a kill or a full disk leaves the previous one whole), and ``--resume``
continues from it exactly, mid-epoch included.  The bundle is only written,
atomically, at the end: a run stopped early never leaves a half bundle.
After a successful run the work folder's files (checkpoint, encoded ids) are
removed, and the folder if that empties it, unless ``--keep-work``; a
stopped or failed run keeps its checkpoint and says where.  Files of the
user's own in a ``--work-dir`` are never touched.

``--out`` must be a new or empty folder or an existing model bundle, and may
not be, hold or lie inside the corpus, nor be a mount point (no rename can
replace one): anything else is refused (exit 2) before the corpus is read, as
is a destination that cannot be written; one that lacks room for the bundle
(its graphs, phrase tables and lexicon) is refused before training.  Nor may
``--out`` be, hold or lie inside the ``--init-from`` model: the source stays as
it is until the new model is complete.  ``--write-heldout FILE`` obeys the same
kind of rule, checked as early: a new file or one an earlier run wrote (replaced
atomically), never a file of the corpus, a folder or another existing file.  A
replacement cut short by a kill is repaired on the next run (the previous
bundle is restored; see ``engine.staging``).  Numbers no run can use (``--lr 0``,
``--threads -1``, ``--device tpu`` ...) are refused in one sentence naming the
option, before anything is read, as is a GPU this machine does not have (``--device
cuda`` without one, ``cuda:7`` with fewer; under ``--nproc N`` before any process starts).

For a person, standard error shows a bar while the corpus is counted and encoded (at
a terminal only) and one while training (neither with ``--quiet``); with ``--max-minutes``
the training bar says so, and the time it shows left, as the ``progress`` events'
``eta_s``, never passes the budget.  Where standard error is not a terminal (``2> train.log``,
``nohup``) training is shown as plain lines instead of a bar redrawn in place: one each
5 % of the way and at least once a minute, each with the tokens, speed, loss, time spent
and time left (``progress.PlainLines``).

Exit codes: 0 done; 2 bad input or settings (one sentence on stderr, no
traceback); 1 an unexpected error; 130 stopped by Ctrl-C (SIGINT) and 143 by
SIGTERM, in both cases after writing a checkpoint when training had begun.

Several processes or machines (``distributed``)
-----------------------------------------------
``torchrun --nproc-per-node=N [--nnodes M --node-rank R --rdzv-endpoint HOST:PORT]
-m model_training.cli CORPUS --out BUNDLE ...`` trains with DistributedDataParallel
(gloo on the CPU, NCCL on GPUs, chosen from ``--device``); ``--nproc N`` starts
torchrun on this machine for you.  ``--batch-size`` is per process, the learning
rate stays ``--lr`` (``--lr-scaling sqrt`` or ``linear`` to scale it with N), and ``--max-tokens``, the time
budget and the schedule count the tokens of all processes together.  Rank 0 alone
prepares the data (the others wait), validates, logs, writes ``--progress-json``,
the checkpoints and the bundle; a SIGINT or SIGTERM on any rank stops every rank
at the same step after one checkpoint.  ``--resume`` accepts a checkpoint written
by another number of processes: the data position is kept as the fraction of the
epoch done, the recurrent state restarts from zeros.  Under ``--nproc`` the exit
code is rank 0's, as above; under torchrun itself a stop exits 130/143 on every
rank, which torchrun reports as a failed run.

Data preparation keeps its working memory under ``--prep-memory`` GB (2):
the vocabulary and phrase counts are counted in shards, spilled to the work
folder and merged; ``--keep-prepared`` keeps the prepared data for the next run
over the same files (see ``prepared``).

Machine-readable progress (``--progress-json``)
-----------------------------------------------
Standard output then carries only JSON objects, one per line, flushed as
written; human messages and warnings go to standard error.  Events:

``{"event": "start", "files": n, "bytes": n}``
    the corpus was found.
``{"event": "skipped", "path": p, "kind": "binary"|"unreadable"|..., "reason": sentence}``
    a file left out of the corpus, one line each, right after ``start``.
``{"event": "encoding", "path": p, "encoding": "Windows-1252"|"Latin-1"}``
    a file that is not UTF-8, read in that encoding, one line each.
``{"event": "reading", "phase": "count"|"encode"|"phrases", "bytes": n, "total": n}``
    after each corpus file, in the two passes over the text.
``{"event": "progress", "tokens": n, "total": n, "loss": x, "tokens_per_s": x, "eta_s": x|null}``
    about twice a second while training; ``tokens`` seen so far of the
    ``total`` planned (which may shrink when a time budget is set), ``loss``
    the smoothed training loss in nats, ``eta_s`` the seconds left.
``{"event": "epoch", "epoch": x, "val_ppl": x, "train_loss": x, "step": n}``
    after each validation (``epoch`` may be fractional).
``{"event": "tuning", "step": n, "total": n}``
    fine-tuning only: the weights of the user's own phrase tables being
    chosen on held-out text, after each of ``total`` scorings.
``{"event": "evaluating", "words": n, "total": n}``
    keystroke savings being measured on held-out text.
``{"event": "metrics", ...}``
    the held-out metrics recorded in the manifest.
``{"event": "done", "bundle": path, "metrics": {...}}``
    the bundle is written and validated; the last line of a successful run.
``{"event": "cancelled", "checkpoint": path|null, "signal": "SIGTERM"|"SIGINT"}``
    stopped by a signal; no bundle was written.
``{"event": "error", "message": sentence}``
    the run failed; the same sentence is on standard error.

Values that are not finite numbers are written as ``null``.  Readers should
ignore unknown events and fields: later versions may add some.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import logging
import math
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from .config import CELLS, HELDOUT_AT, LR_SCALINGS, OUTPUT_LOSSES, PHRASES_LIMIT_MB, PRECISIONS, SCHEDULES, ModelConfig, TrainConfig

log = logging.getLogger("model_training")

EXIT_BAD_INPUT = 2
EXIT_ERROR = 1


class Interrupted(BaseException):
    """A stop signal arrived outside the training loop (reading, export)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except where there is none worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    m, t = ModelConfig(), TrainConfig()
    p = argparse.ArgumentParser(
        prog="keyboard-train",
        description="Train a word-level LSTM language model on a text corpus and "
        "write a validated ONNX model bundle for the predictive keyboard.",
        epilog="Exit codes: 0 done, 2 bad input, 1 unexpected error, 130/143 stopped by "
        "SIGINT/SIGTERM (a checkpoint is kept; continue with --resume).",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("corpus", nargs="+",
                   help="UTF-8 text files and/or folders of them (a file that is not UTF-8 is read as "
                   "Windows-1252)")
    p.add_argument("--out", "-o",
                   help="bundle folder to write: a new or empty folder, or an existing model bundle "
                   "(replaced only when the new one is complete); never a folder holding other "
                   "files or the corpus")
    p.add_argument("--name", default=None, help="the model's display name (default: the bundle's folder name)")
    p.add_argument("--work-dir", help="checkpoints and encoded ids (default: OUT.work); emptied of "
                   "them after a successful run, other files are left alone")
    p.add_argument("--keep-work", action="store_true",
                   help="keep the last checkpoint in the work folder after a successful run")
    p.add_argument("--keep-prepared", action="store_true",
                   help="keep the prepared data (vocabulary, encoded ids, phrase tables) in "
                   "WORK/prepared; a later run over the same files (same sizes and modification "
                   "times) and vocabulary settings uses it instead of reading the corpus again")
    p.add_argument("--checkpoint-minutes", type=float, default=t.checkpoint_minutes, metavar="MINUTES",
                   help="also checkpoint within an epoch whenever this many minutes have passed "
                   "(fractions allowed; 0: at epoch ends only)")
    p.add_argument("--resume", nargs="?", const="", metavar="CHECKPOINT",
                   help="continue from CHECKPOINT (default: the work folder's checkpoint.pt)")
    p.add_argument("--init-from", metavar="BUNDLE_OR_CHECKPOINT",
                   help="fine-tune an existing model (its architecture is kept, not its dropout; the vocabulary may grow)")
    g = p.add_argument_group("vocabulary and data")
    g.add_argument("--vocab-size", type=int, default=t.vocab_size,
                   help=f"tokens in the vocabulary, specials included; 0 = every word seen "
                   "--min-count times")
    g.add_argument("--min-count", type=int, default=t.min_count, help="rarer words become <unk>")
    g.add_argument("--max-new-words", type=int, default=t.max_new_words,
                   help=f"with --init-from: most new words added to the model's vocabulary "
                   f"")
    g.add_argument("--heldout-fraction", type=float, default=t.heldout_fraction,
                   help=f"part of each file kept for validation")
    g.add_argument("--heldout-at", choices=HELDOUT_AT, default=None,
                   help="where in each file that part is (default: its end; with --init-from its start, "
                   "so that the newest text, the most like what you will type next, is learned)")
    g.add_argument("--prep-memory", type=float, default=t.prep_memory_gb, metavar="GB",
                   help="ceiling of data preparation's working memory: the vocabulary and phrase "
                   "counts are spilled to the work folder in shards and merged to stay under it")
    g.add_argument("--phrases-limit", type=float, default=t.phrases_limit_mb, metavar="MB",
                   help="the most the bundle's phrase tables may take; a very large corpus's rarest "
                   "word pairs and triples are left out until they fit, before training starts "
                   f"(at most {PHRASES_LIMIT_MB:,.2f}, what the app accepts)")
    g = p.add_argument_group("model")
    g.add_argument("--cell", choices=CELLS, default=m.cell, help="recurrent cell")
    g.add_argument("--embedding-dim", type=int, default=m.embedding_dim, help="word vector width (also the tied output layer's)")
    g.add_argument("--hidden-size", type=int, default=m.hidden_size, help="recurrent state per layer")
    g.add_argument("--layers", type=int, default=m.num_layers, help="stacked recurrent layers")
    g.add_argument("--dropout", type=float, default=m.dropout, help="on embeddings, between layers, before the output")
    g.add_argument("--untied", action="store_true", help="do not tie the output layer to the embedding")
    g.add_argument("--projection", type=int, default=None,
                   help="untied models: bottleneck width before the output layer")
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=t.epochs, help="passes over the training text")
    g.add_argument("--batch-size", type=int, default=t.batch_size,
                   help="parallel text streams per process (under torchrun or --nproc N the "
                   "optimizer step sees N times as many)")
    g.add_argument("--bptt", type=int, default=t.bptt, help="time steps per batch (truncated back-propagation)")
    g.add_argument("--lr", type=float, default=t.lr,
                   help="AdamW peak learning rate of one process (N processes: see --lr-scaling)")
    g.add_argument("--lr-scaling", choices=LR_SCALINGS, default=t.lr_scaling,
                   help="with N processes the peak learning rate is lr*sqrt(N), lr*N or lr (none: "
                   "the same rate for an N times larger batch); --max-tokens, the time budget "
                   "and the schedule count all processes' tokens together")
    g.add_argument("--weight-decay", type=float, default=t.weight_decay, help="AdamW weight decay (not on embeddings and biases)")
    g.add_argument("--clip", type=float, default=t.clip, help="gradient norm clipping")
    g.add_argument("--warmup", type=int, default=t.warmup_steps, help="linear warm-up steps")
    g.add_argument("--schedule", choices=SCHEDULES, default=t.schedule, help="learning-rate schedule after warm-up")
    g.add_argument("--patience", type=int, default=t.patience, help="early stop after this many validations without gain")
    g.add_argument("--evals-per-epoch", type=int, default=t.evals_per_epoch, help="validations per epoch")
    g.add_argument("--output-loss", choices=OUTPUT_LOSSES, default=t.output_loss,
                   help="training loss of the output layer (export is always the full softmax)")
    g.add_argument("--exact", type=int, default=t.num_exact,
                   help=f"sampled softmax: most frequent words scored exactly")
    g.add_argument("--samples", type=int, default=t.num_samples,
                   help=f"sampled softmax: negatives drawn from the other words")
    g.add_argument("--anchor", type=float, default=t.anchor,
                   help="with --init-from: each step pulls the source model's weights back toward "
                   "their original values by this fraction of the learning rate (0: off)")
    g.add_argument("--interpolate", type=float, default=t.interpolate, metavar="ALPHA",
                   help="with --init-from: after training, blend each weight of the source model as "
                   "source + ALPHA x (trained - source) (WiSE-FT; new words keep their trained rows; "
                   "1: the trained weights)")
    g.add_argument("--no-user-phrases", dest="user_phrases", action="store_false", default=t.user_phrases,
                   help="with --init-from: do not add the corpus's own word pairs and triples as a second "
                   "phrase table (by default they are added)")
    g.add_argument("--max-minutes", type=float, default=t.max_minutes,
                   help="time budget: training stops there and the bundle is written (0: none)")
    g.add_argument("--max-tokens", type=int, default=t.max_tokens,
                   help="token budget: training stops there and the bundle is written (0: none)")
    g.add_argument("--seed", type=int, default=t.seed, help="random seed (initialisation, dropout, samples)")
    g.add_argument("--device", default=t.device, help="auto (CUDA when present), cpu, cuda, cuda:N")
    g.add_argument("--threads", type=int, default=t.threads,
                   help="CPU threads (0: all cores, shared out among the processes of this machine)")
    g.add_argument("--precision", choices=PRECISIONS, default=t.precision,
                   help="auto: bfloat16 autocast on a CUDA GPU that supports it, float32 elsewhere")
    g.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="train as N processes on this machine (torchrun --standalone; DDP, gloo "
                   "on the CPU, NCCL on GPUs); for several machines run torchrun yourself (README)")
    g = p.add_argument_group("export and output")
    g.add_argument("--compress-phrases", action="store_true", default=t.compress_phrases,
                   help="write the phrase tables compressed, as the built-in model's are: a quarter of "
                   "the size on disk; the app reads them through a stored copy in its cache folder "
                   "(without this they are stored uncompressed, to be memory-mapped)")
    g.add_argument("--quantize", action="store_true", help="int8 dynamic quantization of the graph")
    g.add_argument("--dry-run", action="store_true", help="one batch, export, parity check")
    g.add_argument("--ksr-words", type=int, default=t.eval_max_words,
                   help=f"held-out words scored for keystroke savings (0: not measured; default {t.eval_max_words})")
    g.add_argument("--write-heldout", type=Path, metavar="FILE",
                   help="write the text held out of the corpus to FILE (JSON), to compare models on it: a "
                   "new file, or one an earlier run wrote (replaced); never a file of the corpus")
    g.add_argument("--progress-json", action="store_true", help="JSON lines on stdout (events: see the module docstring)")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    g.add_argument("--verbose", "-v", action="store_true", help="more log lines; tracebacks on errors")
    return p


def check_options(args: argparse.Namespace) -> None:
    """Numbers no run can use, refused in the command line's own terms (``ValueError``, one
    sentence naming the option) before anything is read; the configs check again, in theirs."""
    def number(option: str, value: float, ok: bool, rule: str) -> None:
        if not ok or value != value:  # NaN passes no comparison but "!="
            raise ValueError(f"{option} must be {rule}, not {value:g}")

    for option, dest in (("--embedding-dim", "embedding_dim"), ("--hidden-size", "hidden_size"),
                         ("--layers", "layers"), ("--batch-size", "batch_size"), ("--bptt", "bptt"),
                         ("--epochs", "epochs"), ("--patience", "patience"),
                         ("--evals-per-epoch", "evals_per_epoch"), ("--nproc", "nproc")):
        number(option, getattr(args, dest), getattr(args, dest) >= 1, "1 or more")
    if args.projection is not None:
        number("--projection", args.projection, args.projection >= 1, "1 or more")
    number("--min-count", args.min_count, args.min_count >= 1, "1 or more")
    number("--vocab-size", args.vocab_size, args.vocab_size >= 0, "0 (every word seen --min-count times) or more")
    number("--max-new-words", args.max_new_words, args.max_new_words >= 0, "0 or more")
    number("--lr", args.lr, 0 < args.lr < math.inf, "more than 0")
    number("--weight-decay", args.weight_decay, 0 <= args.weight_decay < math.inf, "0 or more")
    number("--clip", args.clip, 0 < args.clip < math.inf, "more than 0")
    number("--warmup", args.warmup, args.warmup >= 0, "0 (none) or more")
    number("--exact", args.exact, args.exact >= 0, "0 or more")
    number("--samples", args.samples, args.samples >= 0, "0 or more")
    number("--max-minutes", args.max_minutes, 0 <= args.max_minutes < math.inf, "0 (no time budget) or more")
    number("--max-tokens", args.max_tokens, args.max_tokens >= 0, "0 (no token budget) or more")
    number("--ksr-words", args.ksr_words, args.ksr_words >= 0, "0 (keystroke savings not measured) or more")
    number("--threads", args.threads, args.threads >= 0, "0 (all cores) or more")
    if not DEVICE.fullmatch(args.device):
        raise ValueError(f"--device must be auto, cpu, cuda or cuda:N (N a GPU's number), not {args.device!r}")


#: What ``--device`` accepts, as its help says.
DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


def configs_from_args(args: argparse.Namespace) -> tuple[ModelConfig, TrainConfig]:
    check_options(args)
    model = ModelConfig(
        embedding_dim=args.embedding_dim, hidden_size=args.hidden_size, num_layers=args.layers,
        cell=args.cell, dropout=args.dropout, tied=not args.untied, projection=args.projection,
    )
    train = TrainConfig(
        vocab_size=args.vocab_size, min_count=args.min_count, max_new_words=args.max_new_words, heldout_fraction=args.heldout_fraction,
        heldout_at=args.heldout_at or ("start" if args.init_from else "end"),
        batch_size=args.batch_size, bptt=args.bptt, lr=args.lr, weight_decay=args.weight_decay,
        clip=args.clip, warmup_steps=args.warmup, schedule=args.schedule, epochs=args.epochs,
        patience=args.patience, evals_per_epoch=args.evals_per_epoch, output_loss=args.output_loss,
        num_samples=args.samples, num_exact=args.exact, max_minutes=args.max_minutes, max_tokens=args.max_tokens,
        seed=args.seed, device=args.device, threads=args.threads, quantize=args.quantize,
        lr_scaling=args.lr_scaling, precision=args.precision,
        dry_run=args.dry_run, eval_max_words=args.ksr_words, anchor=args.anchor, interpolate=args.interpolate, user_phrases=args.user_phrases,
        checkpoint_minutes=args.checkpoint_minutes, keep_work=args.keep_work,
        prep_memory_gb=args.prep_memory, keep_prepared=args.keep_prepared,
        phrases_limit_mb=args.phrases_limit, compress_phrases=args.compress_phrases,
    )
    return model, train


#: The command-line options that set the network's shape (``ModelConfig``); the others set
#: ``TrainConfig``'s fields, under these names where the option's differs.
MODEL_OPTIONS = {"embedding_dim": "embedding_dim", "hidden_size": "hidden_size", "layers": "num_layers",
                 "cell": "cell", "dropout": "dropout", "untied": "tied", "projection": "projection"}
TRAIN_FIELDS = {"warmup": "warmup_steps", "samples": "num_samples", "exact": "num_exact",
                "ksr_words": "eval_max_words", "prep_memory": "prep_memory_gb", "phrases_limit": "phrases_limit_mb"}


def asked_settings(argv: list[str], model: ModelConfig, train: TrainConfig) -> dict[str, tuple[str, Any]]:
    """The settings the command line gave itself, not by default: ``{"model.hidden_size":
    ("--hidden-size", 1024), ...}`` with each value as the configs hold it (``--untied`` is
    ``model.tied`` False).  ``--resume`` holds them against the checkpoint's
    (``pipeline.resume_settings``): an option given with its default value is asked too."""
    probe = build_parser()
    for action in probe._actions:
        action.default = argparse.SUPPRESS  # only what the command line sets is in the namespace
    given, _ = probe.parse_known_args(argv)
    options = {action.dest: max(action.option_strings, key=len) for action in probe._actions if action.option_strings}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    asked = {}
    for dest in vars(given):
        if dest in MODEL_OPTIONS:
            key, value = f"model.{MODEL_OPTIONS[dest]}", getattr(model, MODEL_OPTIONS[dest])
        elif TRAIN_FIELDS.get(dest, dest) in train_fields:
            key, value = f"train.{TRAIN_FIELDS.get(dest, dest)}", getattr(train, TRAIN_FIELDS.get(dest, dest))
        else:
            continue
        asked[key] = (options[dest], value)
    return asked


def _setup_logging(verbose: bool) -> logging.Handler:
    """Warnings (and with ``--verbose`` info) to stderr, prefixed with the program name."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("keyboard-train: %(message)s"))
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    if verbose or root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.INFO if verbose else logging.WARNING)
    return handler


def main(argv: list[str] | None = None) -> int:
    # OpenMP threads that spin while waiting make a 2-core machine shared with
    # other work several times slower (measured: 240 vs 1,100 tokens/s under
    # load); waiting passively costs little when the machine is idle.  Only
    # effective before torch is imported, which is why torch is imported late.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--progress-json" in argv:
        def parser_error(message: str):  # the app reads errors from stdout too
            print(json.dumps({"event": "error", "message": message}), flush=True)
            argparse.ArgumentParser.error(parser, message)

        parser.error = parser_error  # type: ignore[method-assign]
    args = parser.parse_args(argv)
    args.argv = argv  # for ``asked_settings``
    handler = _setup_logging(args.verbose)
    try:
        if args.nproc > 1:
            from .distributed import launch_local, under_torchrun

            if not under_torchrun():  # launch torchrun, which runs this again N times
                try:
                    configs_from_args(args)
                except ValueError:  # bad settings: said once, as by a one-process run
                    return _main(args)
                if ((not args.out and not args.dry_run) or _out_is_top_folder(args) or _missing_checkpoint(args)
                        or _no_gpu(args)):
                    return _main(args)  # the same: one sentence, before N processes start
                return launch_local(args.nproc, argv, args.threads)
        return _main(args)
    finally:
        logging.getLogger().removeHandler(handler)


def _say_unused_with_init_from(argv: list[str], model: ModelConfig, train: TrainConfig) -> None:
    """A fine-tune keeps its source's architecture and vocabulary: the options that would set
    them are said to be unused rather than dropped silently."""
    unused = sorted({option for key, (option, _) in asked_settings(argv, model, train).items()
                     if (key.startswith("model.") and key != "model.dropout") or key == "train.vocab_size"})
    if unused:
        log.warning("%s not used with --init-from: the source model's architecture and vocabulary are kept "
                    "(the vocabulary grows by at most --max-new-words of your words)", ", ".join(unused))


def _out_is_top_folder(args: argparse.Namespace) -> bool:
    """``--out /``: a folder with no name to stage a bundle beside, and no rename can replace it."""
    return bool(args.out) and not Path(os.path.abspath(args.out)).name


def _missing_checkpoint(args: argparse.Namespace) -> bool:
    """``--resume`` without the checkpoint it names (or the work folder's)."""
    if args.resume is None:
        return False
    if args.resume:
        return not Path(args.resume).is_file()
    return not _checkpoint_in(_work_folder(args)).is_file()


def _no_gpu(args: argparse.Namespace) -> bool:
    """``--device cuda`` on a machine without a CUDA GPU, which every one of N processes
    would say (and torchrun then report, traceback and all, as a failed run)."""
    if not args.device.startswith("cuda"):
        return False
    import torch

    return not torch.cuda.is_available()


def _work_folder(args: argparse.Namespace) -> Path:
    """The work folder the options name (``pipeline.default_work_dir``'s rule, without
    importing it: it imports torch)."""
    from keyboard_app.engine.bundle import WORK_SUFFIX

    out = Path(os.path.abspath(args.out or "."))
    return Path(args.work_dir) if args.work_dir else out.with_name(out.name + WORK_SUFFIX)


def _checkpoint_in(work: Path) -> Path:
    """The checkpoint a run keeps in its work folder (named where a checkpoint given for a
    bundle is recognized: ``engine.bundle``)."""
    from keyboard_app.engine.bundle import CHECKPOINT_FILE

    return work / CHECKPOINT_FILE


def _torchrun_rank() -> int:
    """This process's rank when torchrun started it as one of several, else 0
    (read from the environment: torch is not imported yet)."""
    try:
        return int(os.environ["RANK"]) if int(os.environ.get("WORLD_SIZE", "1")) > 1 else 0
    except (KeyError, ValueError):
        return 0


def _main(args: argparse.Namespace) -> int:
    from .progress import Progress

    if _torchrun_rank():  # under torchrun rank 0 alone speaks: logs, progress, JSON lines
        from .distributed import QuietProgress

        progress = QuietProgress()
        logging.getLogger().setLevel(logging.ERROR)
    else:
        progress = Progress(json_lines=args.progress_json, bar=not args.quiet)

    def fail(message: str, code: int) -> int:
        message = message.rstrip()
        if not message.endswith("."):
            message += "."
        progress.on_closed = None  # a reader gone by now changes nothing: we are stopping
        progress.close()  # a reading bar cut short: the sentence on a line of its own
        progress.emit("error", message=message)
        print(f"keyboard-train: error: {message}", file=sys.stderr, flush=True)
        return code

    if not args.out and not args.dry_run:
        return fail("--out BUNDLE is required (the bundle folder to write)", EXIT_BAD_INPUT)
    if _out_is_top_folder(args):
        return fail(f"{args.out}: the model folder is the top folder of the disk, which cannot be replaced; "
                    f"name a new folder inside it, such as {Path(os.path.abspath(args.out)) / 'model'}",
                    EXIT_BAD_INPUT)
    try:
        model_cfg, train_cfg = configs_from_args(args)
    except ValueError as e:
        return fail(str(e), EXIT_BAD_INPUT)
    if args.resume is not None and args.init_from:
        return fail("--resume and --init-from cannot be used together", EXIT_BAD_INPUT)
    if args.init_from and not _torchrun_rank():
        _say_unused_with_init_from(getattr(args, "argv", []), model_cfg, train_cfg)

    trainer_box: list = []

    stopping = []  # a stop under way: further signals (a second Ctrl-C) change nothing

    def on_signal(signum, frame):  # noqa: ARG001
        trainer = trainer_box[0] if trainer_box else None
        if stopping or (trainer is not None and trainer.bundle_written):
            return  # one stop is enough; once the new bundle is in place, the run finishes
        stopping.append(signum)
        if trainer is not None and trainer.in_loop and not trainer.stop_requested:
            trainer.stop_requested = True  # honoured between two steps
            trainer.stop_signal = signum
            return
        raise Interrupted(signum)

    # The app reads --progress-json through a pipe: if it goes away, stop as on SIGPIPE.
    progress.on_closed = lambda: on_signal(signal.SIGPIPE, None)
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            return _run(args, model_cfg, train_cfg, progress, trainer_box, fail)
        except Interrupted as e:  # before the run's own handling: importing torch, joining the others
            work = _work_folder(args) if args.out else None  # a dry run without --out keeps none
            return _report_interrupted(e.signum, work, progress, main_rank=not _torchrun_rank())
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if stopping:
            _stopped_by_signal.append(stopping[0])


def _run(args, model_cfg, train_cfg, progress, trainer_box, fail) -> int:
    import torch

    from . import distributed

    dist = None
    if distributed.under_torchrun():
        try:
            dist = distributed.init(train_cfg.device)
        except (ValueError, RuntimeError) as e:
            return fail(f"could not join the other processes: {e}", EXIT_BAD_INPUT
                        if isinstance(e, ValueError) else EXIT_ERROR)
    agreed: list[bool] = []  # an outcome every rank shares (see distributed.report_exit)
    try:
        code = _run_rank(args, model_cfg, train_cfg, progress, trainer_box, fail, dist, agreed)
    finally:
        if dist is not None:
            distributed.shutdown(peers_done=bool(agreed))
    return distributed.report_exit(dist, code, bool(agreed))


def _run_rank(args, model_cfg, train_cfg, progress, trainer_box, fail, dist, agreed) -> int:
    import torch

    from keyboard_app.engine.bundle import ModelLoadError
    from keyboard_app.engine.staging import BundleWriteError

    from .corpus import CorpusError
    from .distributed import PeerFailed, told_peers
    from .export import ExportError
    from .init_from import InitError
    from .pipeline import default_work_dir, train_bundle
    from .train import Stop

    main_rank = dist is None or dist.is_main
    threads = train_cfg.threads
    if not threads:  # all cores, shared out among this machine's processes
        threads = max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    torch.set_num_threads(threads)
    tmp_out = None
    if args.out:
        out = Path(os.path.abspath(args.out))  # "." and "dir/.." have no name to stage beside
    else:  # --dry-run without --out: a throw-away bundle
        tmp_out = tempfile.TemporaryDirectory(prefix="keyboard-dry-run-")
        out = Path(tmp_out.name) / "bundle"
    work = Path(args.work_dir) if args.work_dir else default_work_dir(out)
    resume = None
    if args.resume is not None:
        resume = Path(args.resume) if args.resume else _checkpoint_in(work)
        if not resume.is_file():
            return fail(f"{resume}: no checkpoint to resume from", EXIT_BAD_INPUT)
    name = args.name or out.name
    try:
        try:
            result = train_bundle(
                args.corpus, out, model_config=model_cfg, train_config=train_cfg,
                work_dir=work, resume=resume, init_from=args.init_from, name=name,
                progress=progress, trainer_hook=trainer_box.append, heldout_out=args.write_heldout, dist=dist,
                asked=asked_settings(getattr(args, "argv", []), model_cfg, train_cfg) if resume else None,
            )
        except BaseException as e:
            if told_peers(e):  # rank 0's failure before training, which the others exit on too
                agreed.append(True)
            raise
    except PeerFailed as e:  # rank 0 failed or stopped while preparing the data, and said so
        agreed.append(True)
        return e.code
    except Stop:
        agreed.append(True)  # under torchrun every rank stops at the same step
        trainer = trainer_box[0]
        signum = trainer.stop_signal or signal.SIGINT
        if not main_rank:
            return 128 + int(signum)
        ckpt = _checkpoint_in(work)
        saved = ckpt.is_file()  # a dry run writes none
        progress.emit("cancelled", checkpoint=str(ckpt) if saved else None,
                      signal=signal.Signals(signum).name)
        print(f"keyboard-train: stopped; checkpoint saved to {ckpt} (continue with --resume)."
              if saved else "keyboard-train: stopped; no bundle was written.",
              file=sys.stderr, flush=True)
        return 128 + int(signum)
    except Interrupted as e:
        return _report_interrupted(e.signum, work, progress, main_rank=main_rank)
    except (CorpusError, ModelLoadError, InitError) as e:
        return fail(str(e), EXIT_BAD_INPUT)
    except ValueError as e:  # settings the configs could not reject earlier
        if args.verbose:
            log.exception("details")
        return fail(str(e), EXIT_BAD_INPUT)
    except (ExportError, FloatingPointError, BundleWriteError) as e:
        return fail(str(e), EXIT_ERROR)
    except OSError as e:
        return fail(_os_error_sentence(e), EXIT_ERROR)
    except Exception as e:  # noqa: BLE001 - a bug: one line, details with --verbose
        if args.verbose:
            log.exception("unexpected error")
        return fail(f"unexpected error: {type(e).__name__}: {e} (run with --verbose for details)",
                    EXIT_ERROR)
    finally:
        if tmp_out is not None:
            tmp_out.cleanup()
    agreed.append(True)
    if result is None:  # a rank other than 0: the bundle is rank 0's
        return 0
    progress.emit("metrics", **result.manifest["metrics"])
    progress.emit("done", bundle=str(result.bundle if tmp_out is None else ""),
                  metrics=result.manifest["metrics"])
    if tmp_out is None:
        progress.write(f"done: {result.bundle}")
    else:
        progress.write("dry run done: one batch trained, export and parity check passed")
    return 0


def _os_error_sentence(error: OSError) -> str:
    """An ``OSError`` the run did not word itself, in one sentence: a full disk names the
    folder and the room left there (the file, often a private working file, may be gone)."""
    raw = error.strerror == os.strerror(error.errno or 0)  # not one of the run's own sentences
    if error.errno in (errno.ENOSPC, errno.EDQUOT) and error.filename and raw:
        folder = _existing_folder(Path(os.path.abspath(error.filename)).parent)
        free = shutil.disk_usage(folder).free
        return (f"{folder}: no space left on the device ({free / 1e6:.1f} MB free): free some space, "
                "or write the model (--out) or the work folder (--work-dir) to another disk")
    return f"{error.filename or ''}: {error.strerror or error}".lstrip(": ")


def _existing_folder(path: Path) -> Path:
    """``path``, or its nearest folder that exists (a private working folder may be gone)."""
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


def _report_interrupted(signum: int, work: Path | None, progress, *, main_rank: bool) -> int:
    """Stopped outside the training loop (starting, reading, export): one line, and the
    exit code of the signal.  A checkpoint of this or an earlier run may still be in the
    work folder to continue from."""
    if not main_rank:
        return 128 + signum
    ckpt = _checkpoint_in(work) if work is not None else None
    saved = ckpt is not None and ckpt.is_file()
    progress.on_closed = None  # a reader gone by now changes nothing: we are stopping
    progress.close()  # a reading bar cut short: the sentence on a line of its own
    progress.emit("cancelled", checkpoint=str(ckpt) if saved else None, signal=signal.Signals(signum).name)
    print("keyboard-train: stopped; no bundle was written"
          + (f"; the checkpoint {ckpt} is kept (continue with --resume)." if saved else "."),
          file=sys.stderr, flush=True)
    return 128 + signum


_stopped_by_signal: list[int] = []  # set by main() when a signal stopped the run


def console_main() -> int:
    """The ``keyboard-train`` command: ``main``, and after a stop by a signal, further
    ones ignored for the few moments left before the process exits, so a second
    Ctrl-C cannot reach Python's default handler during the interpreter's shutdown
    (a KeyboardInterrupt traceback).  Not done in ``main`` itself: in a process that
    goes on (tests, a caller), an ignored SIGTERM would be inherited by every child."""
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl-C before main's own handler was in place: nothing begun
        print("keyboard-train: stopped; no bundle was written.", file=sys.stderr, flush=True)
        code = 128 + signal.SIGINT
        _stopped_by_signal.append(signal.SIGINT)
    if _stopped_by_signal:
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)
    return code


if __name__ == "__main__":
    sys.exit(console_main())
