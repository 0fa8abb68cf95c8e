"""Corpus -> vocabulary -> ids -> training -> metrics -> bundle, in one call.

``train_bundle`` is what ``keyboard-train`` runs and what the test fixtures
call; each stage lives in its own module (``corpus``, ``vocabulary``,
``data``, ``train``, ``export``).
"""

from __future__ import annotations

import errno
import logging
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from keyboard_app.engine.bundle import CHECKPOINT_FILE, WORK_SUFFIX  # the work folder's names
from keyboard_app.engine.phrases import build_phrases, phrase_index, renumbering
from keyboard_app.engine.faults import fault_point
from keyboard_app.engine.staging import (
    DestinationError, check_destination, check_room, check_work_folder, recover,
)
from keyboard_app.engine.tokenizer import BOS, Tokenizer, TokenizerSettings
from keyboard_app.engine.vocab import Vocabulary

from .config import ModelConfig, TrainConfig
from .corpus import CorpusError, find_files, heldout_splits
from .data import HELDOUT_IDS_FILE, TRAIN_IDS_FILE, EncodedCorpus, encode_corpus, phrase_ids
from .distributed import SINGLE, DistContext, Handshake
from .export import ExportResult, build_manifest, export_bundle, format_quantization
from .model import RNNLM, count_parameters
from .prepared import PreparedStore, prepared_key
from .progress import Progress
from .train import Counters, Stop, Trainer, load_checkpoint, resolve_device, score_ids
from .streaming import SpilledPhrases, max_word_types
from .vocabulary import build_vocabulary, corpus_lexicon, count_corpus_tokens, grow_vocabulary

log = logging.getLogger(__name__)

MAX_HELDOUT_BYTES = 1_500_000  # ~250k tokens: validation stays a small part of an epoch
#: Fewer held-out tokens than this (whole lines) cannot judge a model: validation falls
#: back on a slice of the training text (``_prepare``), as when no line could be held out.
MIN_HELDOUT_TOKENS = 100
#: Weights (pairs, triples) tried for the user's own phrase tables after a fine-tune, and
#: the held-out words each is scored on (KSR at k = 3 through the engine).
USER_PHRASE_GRID = tuple((p, t) for p in (0.0, 0.1, 0.2) for t in (0.0, 0.15, 0.3, 0.45))
TUNE_MAX_WORDS = 1000
METRIC_MAX_TOKENS = 300_000  # held-out tokens scored for the manifest's perplexity/top-k


@dataclass
class RunResult:
    bundle: Path
    manifest: dict[str, Any]
    counters: Counters
    export: ExportResult


def default_work_dir(out: Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + WORK_SUFFIX)


def train_bundle(
    corpus: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    train_config: TrainConfig | None = None,
    work_dir: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> RunResult:
    """Train on ``corpus`` and write a validated bundle to ``out``.

    ``resume`` is a checkpoint to continue exactly (its configs and vocabulary
    win over the ones given, except the work-folder settings).  ``options``
    are ``_train_bundle``'s: ``model_config``, ``init_from``, ``name``,
    ``trainer_hook``.

    The work folder (``work_dir``, default ``OUT.work``) is tidied whatever
    happens: the encoded ids are always removed (every run encodes the corpus
    again, ``--resume`` included); after a success, the checkpoint this run
    wrote or resumed from is removed too, unless ``train_config.keep_work``,
    and the folder if that leaves it empty; after a failure or a stop the
    checkpoint is kept for ``--resume`` and its path said.  Only our own
    files are removed: a folder the user named keeps everything else.
    """
    out = Path(os.path.abspath(out))  # "." has no name to stage a bundle beside
    work = Path(work_dir) if work_dir else default_work_dir(out)
    progress = progress or Progress(bar=False)
    dist = options.get("dist") or SINGLE
    if not dist.is_main:  # under torchrun the work folder is rank 0's to tidy
        return _train_bundle(corpus, out, train_config=train_config, work_dir=work, resume=resume,
                             progress=progress, **options)
    before = WorkFolder.survey(work)
    handshake = options["handshake"] = Handshake(dist)
    try:
        result = _train_bundle(corpus, out, train_config=train_config, work_dir=work, resume=resume,
                               progress=progress, **options)
    except BaseException as e:
        handshake.fail(e)  # under torchrun, before training: the others exit alike
        kept = before.tidy(success=False)
        # A stop says where its checkpoint is itself (cli); an error, here, when
        # this run wrote one (an earlier run's, the user already knows about).
        if (kept is not None and before.made_here(CHECKPOINT_FILE)
                and isinstance(e, Exception) and not isinstance(e, Stop)):
            log.warning("the checkpoint %s is kept: --resume continues from it", kept)
        raise
    keep = (train_config or TrainConfig()).keep_work
    kept = before.tidy(success=True, keep_checkpoint=keep, resumed=resume)
    if keep and kept is not None:
        progress.write(f"checkpoint kept (--keep-work): {kept}")
    return result


@dataclass
class WorkFolder:
    """A work folder as a run found it, to remove what the run left there and no more."""

    path: Path
    existed: bool  # before the run
    signatures: dict[str, tuple | None]  # our file names -> (inode, mtime, size) before the run

    @staticmethod
    def signature(path: Path) -> tuple | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    @classmethod
    def survey(cls, path: Path) -> "WorkFolder":
        names = (CHECKPOINT_FILE, CHECKPOINT_FILE + ".tmp", TRAIN_IDS_FILE, HELDOUT_IDS_FILE)
        return cls(path, path.is_dir(), {name: cls.signature(path / name) for name in names})

    def made_here(self, name: str) -> bool:
        """Written (created or replaced) by this run."""
        now = self.signature(self.path / name)
        return now is not None and now != self.signatures[name]

    def tidy(self, *, success: bool, keep_checkpoint: bool = False,
             resumed: str | os.PathLike | None = None) -> Path | None:
        """Remove this run's leftovers; returns the checkpoint kept, if any."""
        for name in (TRAIN_IDS_FILE, HELDOUT_IDS_FILE, CHECKPOINT_FILE + ".tmp"):
            if success or self.made_here(name):  # a success vouches for the folder
                self._remove(self.path / name)
        checkpoint = self.path / CHECKPOINT_FILE
        consumed = resumed is not None and Path(resumed).resolve() == checkpoint.resolve()
        if success and not keep_checkpoint and (self.made_here(CHECKPOINT_FILE) or consumed):
            self._remove(checkpoint)
        # A folder we made, or one that held only our files: never the user's empty one.
        if not self.existed or any(sig is not None for sig in self.signatures.values()):
            try:
                self.path.rmdir()  # only when empty
            except OSError:
                pass
        return checkpoint if checkpoint.is_file() else None

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError as e:  # e.g. still mapped on Windows: say so, do not fail the run
            log.warning("%s: could not be removed (%s)", path, e.strerror or e)


def _train_bundle(
    corpus: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    work_dir: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    init_from: str | os.PathLike | None = None,
    name: str = "Custom model",
    progress: Progress | None = None,
    trainer_hook=None,
    dist: DistContext | None = None,
    handshake: Handshake | None = None,
    heldout_out: str | os.PathLike | None = None,
    asked: dict[str, tuple[str, Any]] | None = None,
) -> RunResult | None:
    """Train on ``corpus`` and write a validated bundle to ``out``.

    ``dist``: this process's place under torchrun (``distributed``); ranks other
    than 0 train in step with rank 0 and return None.  ``handshake``: how rank 0
    tells them the data is ready (or that it failed: ``train_bundle`` says so).
    ``resume`` is a checkpoint to continue exactly (its configs and vocabulary
    win over the ones given).  ``init_from`` is a bundle or checkpoint to
    fine-tune (its architecture wins; the vocabulary may grow).
    ``trainer_hook(trainer)`` is called before training (tests, signals).
    ``heldout_out``: a file to write the held-out text to (``keyboard_app.heldout``).
    ``asked``: the settings the command line gave itself, ``{"model.hidden_size":
    ("--hidden-size", 1024), ...}``, held against a resumed checkpoint's
    (``resume_settings``).  ``train_bundle`` wraps this and tidies the work folder.
    """
    started = time.monotonic()
    out = Path(out)
    work = Path(work_dir) if work_dir else default_work_dir(out)
    progress = progress or Progress(bar=False)
    model_config = model_config or ModelConfig()
    train_config = train_config or TrainConfig()
    dist = dist or SINGLE
    if not dist.is_main:  # under torchrun: rank 0 prepares, checkpoints and exports
        return _follow_rank0(dist, work, progress, trainer_hook)
    prep = _prepare(corpus, out, work, model_config, train_config, resume, init_from, progress, dist=dist,
                    asked=asked, heldout_out=heldout_out)
    (files, splits, counts, vocab, lexicon, init_source, model_config, train_config, encoded,
     train_ids, heldout_ids, ckpt, tokenizer, device, prepared) = prep

    torch.manual_seed(train_config.seed)
    model = RNNLM(model_config)
    # fp32 graph, int8 graph and the bundle's copy stage side by side at the end (checked
    # again with the phrase tables and the lexicon once they are made, below)
    check_room(out, 3 * 4 * count_parameters(model))
    if not train_config.dry_run:  # a checkpoint: weights, two Adam moments, the best and the anchor
        check_room(work, 5 * 4 * count_parameters(model), what="the training checkpoints",
                   advice="free some space or choose another folder with --work-dir")
    # The phrase tables before the training: they need only the vocabulary, and a
    # corpus whose tables must be cut to fit (``--phrases-limit``) says so now, not
    # after hours of training.  Their files go when the run ends, however it ends.
    phrases, user_phrases = phrase_tables(prepared, files, splits, vocab, lexicon, tokenizer,
                                          init_source, train_config, work, progress)
    try:
        # The graphs as above, and the tables and the lexicon twice (staged for the export,
        # then copied into the bundle's folder): a disk without room says so before training.
        check_room(out, 3 * 4 * count_parameters(model)
                   + 2 * (tables_bytes(phrases) + tables_bytes(user_phrases) + lexicon_bytes(lexicon)))
        if init_source is not None and ckpt is None:  # resumed: the checkpoint holds the weights
            from .init_from import init_new_words, transfer_weights

            transfer_weights(init_source, model, vocab)
            init_new_words(model, len(init_source.vocab), train_ids)
        elif ckpt is None:
            model.set_output_bias(torch.tensor(vocab.counts))
        if dist.enabled:  # the others wait for this: the data and settings to train with
            from .distributed import share_ids

            ids_path = getattr(train_ids, "filename", None)
            handshake.send({
                "train_config": train_config.to_dict(), "model_config": model_config.to_dict(),
                "vocab": vocab.to_dict(), "train_len": len(train_ids), "dtype": str(train_ids.dtype),
                "ids_path": str(ids_path) if ids_path else None,
                "anchor_rows": len(init_source.vocab) if init_source is not None and (
                    train_config.anchor > 0.0 or train_config.interpolate < 1.0) else None,
                "ckpt": ckpt,
            })
            share_ids(dist, train_ids, Path(ids_path) if ids_path else None, len(train_ids), str(train_ids.dtype))
        trainer = Trainer(
            model, vocab, train_config, train_ids, heldout_ids, device=device, progress=progress, dist=dist
        )
        trainer.extra = {"corpus_sha256": counts.sha256,
                         "init_from": str(init_from) if init_from is not None else None,
                         # where --resume finds the source again, whatever its folder then
                         "init_from_path": os.path.abspath(init_from) if init_from is not None else None}
        if init_source is not None and ckpt is None and (train_config.anchor > 0.0 or train_config.interpolate < 1.0):
            trainer.set_anchor(len(init_source.vocab))  # resumed: the checkpoint holds the anchor
        if ckpt is not None:
            saved = ckpt.get("extra", {})
            if saved.get("corpus_sha256") not in (None, counts.sha256):
                raise CorpusError(
                    f"{resume}: the checkpoint was trained on another corpus (its files or their "
                    "contents differ): resume with the same corpus, or start a new run."
                )
            init_from = saved.get("init_from")
            trainer.extra["init_from"] = init_from
            trainer.extra["init_from_path"] = saved.get("init_from_path")
            trainer.restore(ckpt)
        if trainer_hook is not None:
            trainer_hook(trainer)
        counters = trainer.run(None if train_config.dry_run else work / CHECKPOINT_FILE)
        say_budget_stop(trainer, progress)
        if trainer.anchor_weights is not None and train_config.interpolate < 1.0:
            trainer.interpolate_toward_anchor(train_config.interpolate)  # the best weights, blended
        model = trainer.model

        metrics = heldout_metrics(model, heldout_ids, device, len(vocab), encoded.heldout_texts,
                                  train_config, progress)
        wall = time.monotonic() - started
        corpus_info = {
            "files": [{"path": f.name, "tokens": f.train_tokens + f.heldout_tokens} for f in counts.files],
            "train_tokens": int(len(train_ids)),
            "heldout_tokens": int(len(heldout_ids)),
            "sha256": counts.sha256,
        }
        training = {
            **train_config.to_dict(),
            # the size asked for (0: every word) and the size built: a small corpus caps it
            "vocab_size_requested": train_config.vocab_size,
            "vocab_size": len(vocab),
            "epochs_run": round(counters.epoch + counters.batch / max(1, len(trainer.batches)), 3),
            "steps": counters.step,
            "tokens_seen": counters.tokens,
            "stop_reason": counters.stop_reason,
            "wall_time_s": round(wall, 1),
            "train_time_s": round(counters.elapsed_s, 1),
            "tokens_per_s": round(counters.tokens / max(counters.elapsed_s, 1e-9), 1),
            "device": device.type,
            "world_size": dist.world_size,  # processes under torchrun (1: one)
            "init_from": str(init_from) if init_from is not None else None,
            "history": counters.history,
        }
        manifest = build_manifest(
            model, vocab, name=name, min_count=train_config.min_count,
            quantized=train_config.quantize, corpus=corpus_info, training=training, metrics=metrics,
        )
        hook = tune = None
        if not encoded.heldout_texts and not train_config.dry_run:
            say_no_heldout_text(heldout_out, train_config.eval_max_words > 0)
        if heldout_out is not None:  # the app compares models on exactly this text
            from keyboard_app.heldout import write_heldout

            try:
                write_heldout(heldout_out, encoded.heldout_texts)
            except OSError as e:  # checked before reading the corpus; the disk may have changed since
                raise OSError(e.errno, f"the held-out text could not be written ({e.strerror or e}), "
                              "so no model was written either", str(heldout_out)) from e
        if train_config.eval_max_words > 0 and encoded.heldout_texts and not train_config.dry_run:
            hook = lambda folder: engine_metrics(  # noqa: E731
                folder, encoded.heldout_texts, train_config.eval_max_words, progress
            )
            if user_phrases is not None:
                tune = lambda folder: tune_user_phrases(  # noqa: E731
                    folder, encoded.heldout_texts, min(train_config.eval_max_words, TUNE_MAX_WORDS), progress
                )
        result = export_bundle(model, vocab, out, manifest=manifest, quantize=train_config.quantize,
                               metrics_hook=hook, heldout_ids=heldout_ids, lexicon=lexicon, phrases=phrases,
                               user_phrases=user_phrases, tune_hook=tune, inputs=corpus,
                               compress_phrases=train_config.compress_phrases)
    finally:
        for tables in (phrases, user_phrases):
            if isinstance(tables, SpilledPhrases):  # streamed: their files go now
                tables.close()
    trainer.bundle_written = True
    if "quantization" in result.manifest["metrics"]:
        progress.write(format_quantization(result.manifest["metrics"]["quantization"]))
    progress.write(f"bundle written to {out} ({result.onnx_bytes / 1e6:.1f} MB model); {parity_sentence(result.parity)}")
    return RunResult(out, result.manifest, counters, result)


#: What ``--resume`` takes from this command rather than the checkpoint: where and how the
#: work is kept (the threads are set by the command itself) ...
RUN_SETTINGS = ("checkpoint_minutes", "keep_work", "prep_memory_gb", "keep_prepared", "phrases_limit_mb",
                "threads")
#: ... and, where the command gives them, the machine it runs on and what is done with the
#: trained network (its export and its scoring); not given, they stay the checkpoint's, so
#: that a plain ``--resume`` neither moves a CPU run to a GPU (and its precision with it) nor
#: drops the ``--quantize`` the run was started with.
GIVEN_SETTINGS = ("device", "quantize", "compress_phrases", "eval_max_words")
#: What a resumed run cannot change: the network's shape (every ``model.`` setting but
#: dropout) and what decides the text it is fed and in what order (the vocabulary, the
#: held-out part, the streams, the loss, the seed).  The rest (the learning rate, the
#: epochs, ...) could change, but the run continues exactly as it started: it keeps the
#: checkpoint's and says so.
FIXED_ON_RESUME = ("train.vocab_size", "train.min_count", "train.max_new_words", "train.heldout_fraction",
                   "train.heldout_at", "train.batch_size", "train.bptt", "train.output_loss",
                   "train.num_exact", "train.num_samples", "train.seed")


def resume_settings(model_config: ModelConfig, train_config: TrainConfig,
                    asked: dict[str, tuple[str, Any]], checkpoint: Path) -> list[str]:
    """Hold the settings the command line gave (``asked``: ``{"model.hidden_size":
    ("--hidden-size", 1024)}``) against the checkpoint's configs (``train_config`` with
    this run's ``RUN_SETTINGS`` already in it).  One that cannot change and differs is a
    ``ValueError`` naming each ("--resume: the checkpoint was trained with --hidden-size
    512, not 1024; ..."); one that could is kept as the checkpoint has it, said once in a
    warning; returned are those kept."""
    configs = {"model": model_config, "train": train_config}
    refused, kept = [], []
    for key, (option, value) in asked.items():
        part, name = key.split(".", 1)
        if name in RUN_SETTINGS or name in GIVEN_SETTINGS:
            continue
        theirs = getattr(configs[part], name)
        if theirs == value or (isinstance(theirs, float) and isinstance(value, (int, float))
                               and math.isclose(theirs, value)):
            continue
        fixed = (part == "model" and name != "dropout") or key in FIXED_ON_RESUME
        (refused if fixed else kept).append((option, theirs, value))
    if refused:
        was = "; ".join(_difference(option, theirs, value, ", not {}") for option, theirs, value in refused)
        options = "the option" if len(refused) == 1 else "those options"
        raise ValueError(f"--resume: the checkpoint {checkpoint} was trained {was}; these cannot change "
                         f"within a run: drop {options}, or start afresh without --resume")
    if kept:
        log.warning("--resume: the checkpoint was trained %s; the run continues with the checkpoint's "
                    "settings, to go on exactly where it stopped (start afresh without --resume to "
                    "change them)",
                    "; ".join(_difference(option, theirs, value, " (not {})") for option, theirs, value in kept))
    return [option for option, _, _ in kept]


def _difference(option: str, theirs: Any, value: Any, given: str) -> str:
    """The checkpoint's setting as the command line writes it, then ``given`` filled with
    the command's: "with --hidden-size 512, not 1024"; a flag the command gave is one the
    checkpoint was trained without ("without --untied")."""
    if isinstance(theirs, bool):
        return f"without {option}"
    shown = [f"{v:g}" if isinstance(v, float) else str(v) for v in (theirs, value)]
    return f"with {option} {shown[0]}" + given.format(shown[1])


def _prepare(corpus, out: Path, work: Path, model_config: ModelConfig, train_config: TrainConfig,
             resume, init_from, progress: Progress, *, dist=None, asked=None, heldout_out=None):
    """Everything before the model: the checks of the destination, the two passes over
    the corpus (vocabulary, lexicon, encoded ids) and the checkpoint to resume.
    Under torchrun rank 0 alone runs it; the training ids then go to the work folder
    whatever their number, for the other ranks to map.

    A resumed fine-tune (``--init-from``, then ``--resume``) loads its source model again,
    from the path the checkpoint recorded: its lexicon and phrase tables are the bundle's
    as they would have been without the stop (the network's weights are the checkpoint's)."""
    ckpt = None
    if resume is not None:
        ckpt = load_checkpoint(Path(resume))
        saved = ckpt.get("extra", {})
        init_from = saved.get("init_from_path") or saved.get("init_from")
        run = train_config  # the work-folder settings are this command's, not the checkpoint's
        taken = list(RUN_SETTINGS) + [name for name in GIVEN_SETTINGS if f"train.{name}" in (asked or {})]
        train_config = TrainConfig.from_dict(ckpt["train_config"]).replace(
            **{name: getattr(run, name) for name in taken})
        model_config = ModelConfig.from_dict(ckpt["model_config"])
        resume_settings(model_config, train_config, asked or {}, Path(resume))
    tokenizer = Tokenizer(TokenizerSettings())
    # fail before the long reading passes (under torchrun the device is the rank's own)
    device = dist.device if dist is not None and dist.enabled else resolve_device(train_config.device)
    # Before the long reading passes too: a destination we may not replace, or
    # cannot write, is refused now rather than after hours of training.
    recover(out)
    check_destination(out, inputs=corpus)
    if init_from is not None:
        check_not_source(out, Path(init_from))
    check_work_dir(work, out, corpus)
    if heldout_out is not None:
        check_heldout_file(Path(heldout_out), corpus)
    fault_point("train.destination-checked")

    skipped: list = []
    files = find_files(corpus, skipped)
    splits = heldout_splits(files, train_config.heldout_fraction, MAX_HELDOUT_BYTES, train_config.heldout_at)
    total_bytes = sum(f.size for f in files)
    progress.emit("start", files=len(files), bytes=total_bytes)
    for left_out in skipped:  # the warnings, for the app to show (one line each)
        progress.emit("skipped", path=str(left_out.path), kind=left_out.kind, reason=left_out.reason)
    for f in files:
        if f.encoding.guessed:
            progress.emit("encoding", path=str(f.path), encoding=f.encoding.label)
    init_source = None
    if init_from is not None:
        from .init_from import load_source

        init_source = load_source(Path(init_from)) if ckpt is None else resumed_source(Path(init_from), ckpt, resume)
        if ckpt is None:  # resumed, the checkpoint's architecture is the source's already
            # the architecture is the source's; dropout is a training setting, this run's
            model_config = replace(init_source.config, dropout=model_config.dropout)
    # --keep-prepared: what an earlier run over the same files and settings kept
    store = PreparedStore(work)
    key = prepared_key(files, train_config, init_from)
    kept = store.load(key)
    if kept is not None and ckpt is not None and kept.vocab.tokens != ckpt["vocab"]["tokens"]:
        kept = None  # kept for another vocabulary than the checkpoint's
    if kept is not None:
        progress.write(f"{len(files)} file(s) unchanged: using the prepared data kept in {store.folder}")
        counts, vocab, lexicon = kept.counts, kept.vocab, kept.lexicon
        encoded = EncodedCorpus(kept.train, kept.heldout, kept.heldout_texts)
    else:
        progress.write(f"reading {len(files)} file(s), {total_bytes / 1e6:.1f} MB")
        ids_folder = store.start() if train_config.keep_prepared else work
        memory = prep_memory_bytes(train_config)
        progress.begin_reading("count", total_bytes)
        counts = count_corpus_tokens(
            files, splits, tokenizer,
            progress=lambda done: progress.reading("count", done, total_bytes),
            # bounded (spilled to the work folder) but for fine-tuning, whose small corpus
            # is merged with the source's lexicon word by word
            max_types=max_word_types(memory) if init_from is None else None, spill_dir=work,
            keep_words=(train_config.vocab_size or None) if ckpt is None else len(ckpt["vocab"]["tokens"]),
            min_count=train_config.min_count,
        )
        if not any(token != BOS for token in counts.counts):  # paragraph breaks only
            raise CorpusError("the corpus is empty: its files hold no words.")

        if ckpt is not None:
            vocab = Vocabulary.from_dict(ckpt["vocab"])
        elif init_source is not None:
            fresh = new_corpus_vocabulary(counts, train_config)
            vocab = grow_vocabulary(init_source.vocab, fresh, train_config.max_new_words, counts)
        else:
            vocab = build_vocabulary(counts, train_config.vocab_size, train_config.min_count)
        lexicon = corpus_lexicon(counts, vocab, init_source.lexicon if init_source is not None else None)

        progress.begin_reading("encode", total_bytes)
        encoded = encode_corpus(
            files, splits, vocab, tokenizer,
            train_tokens=counts.train_tokens, heldout_tokens=counts.heldout_tokens, work_dir=ids_folder,
            progress=lambda done: progress.reading("encode", done, total_bytes),
            map_ids=(dist is not None and dist.enabled) or train_config.keep_prepared,
        )
        if train_config.keep_prepared:
            store.save(key, counts, vocab, lexicon, encoded.train, encoded.heldout, encoded.heldout_texts)
    if ckpt is not None and ckpt.get("extra", {}).get("corpus_sha256") not in (None, counts.sha256):
        raise CorpusError(  # now, not after the model is made: under torchrun the others wait
            f"{resume}: the checkpoint was trained on another corpus (its files or their "
            "contents differ): resume with the same corpus, or start a new run."
        )
    model_config = ModelConfig.from_dict({**model_config.to_dict(), "vocab_size": len(vocab)})
    prepared = store if kept is not None or train_config.keep_prepared else None
    train_ids, heldout_ids = encoded.train, encoded.heldout
    n = max(2, int(len(train_ids) * max(train_config.heldout_fraction, 0.05)))
    if len(heldout_ids) < 2 or (len(heldout_ids) < MIN_HELDOUT_TOKENS and n > len(heldout_ids)):
        # Files too short (or one long line) to hold lines out, or whole lines too few to
        # judge a model by (a title line: validation and early stopping would rest on a
        # handful of tokens): hold out ids instead.  At the end of the text, or at its
        # start where the newest is to be learned.
        where = "first" if train_config.heldout_at == "start" else "last"
        if len(heldout_ids) < 2:
            log.warning("no whole lines could be held out; validating on the %s %d tokens", where, n)
        else:
            log.warning("only %d tokens could be held out as whole lines, too few to judge the model by; "
                        "validating on the %s %d training tokens instead (not trained on)",
                        len(heldout_ids), where, n)
        if train_config.heldout_at == "start":
            train_ids, heldout_ids = train_ids[n:], np.asarray(train_ids[:n])
        else:
            train_ids, heldout_ids = train_ids[:-n], np.asarray(train_ids[-n:])
    streams = train_config.batch_size * (dist.world_size if dist is not None else 1)
    if len(train_ids) < 2 * streams + 1:
        processes = f" on each of {dist.world_size} processes" if streams > train_config.batch_size else ""
        raise CorpusError(
            f"the corpus is too small to train on: {len(train_ids)} tokens "
            f"(at least {2 * streams + 1} are needed at batch size "
            f"{train_config.batch_size}{processes})."
        )
    progress.write(
        f"{len(train_ids):,} training tokens, {len(heldout_ids):,} held out, vocabulary {len(vocab):,}"
    )
    return (files, splits, counts, vocab, lexicon, init_source, model_config, train_config, encoded,
            train_ids, heldout_ids, ckpt, tokenizer, device, prepared)


def check_not_source(out: Path, source: Path) -> None:
    """The new bundle may not replace, hold or lie inside the model it is fine-tuned from:
    the source must stay as it is until the new model is complete (a failed run, or one
    worse than its source, would otherwise leave the user with neither)."""
    dest, src = Path(os.path.abspath(out)).resolve(), Path(os.path.abspath(source)).resolve()
    relation = ("is" if dest == src else "lies inside" if src in dest.parents
                else "holds" if dest in src.parents else None)
    if relation is not None:
        example = "" if relation == "holds" else f", such as {src.with_name(src.name + '-adapted')}"
        raise DestinationError(
            f"{out}: the model folder {relation} the model being fine-tuned ({source}), which must stay "
            f"as it is until the new model is complete; write the new model to another folder{example}."
        )


def check_heldout_file(path: Path, corpus: Sequence[str | os.PathLike]) -> None:
    """Where ``--write-heldout`` may write, checked before the corpus is read: never a
    file of the corpus or inside it, never a folder, never an existing file other than a
    held-out text file this program wrote (which is replaced, atomically), and a folder
    that can be written.  ``DestinationError`` (one sentence naming ``path``) otherwise."""
    from keyboard_app.heldout import HeldoutError, read_heldout

    resolved = Path(os.path.abspath(path)).resolve()
    for source in corpus:
        source_path = Path(source).resolve()
        if resolved == source_path or source_path in resolved.parents:
            raise DestinationError(
                f"{path}: the held-out file {'is' if resolved == source_path else 'lies inside'} the corpus "
                f"{source}; name a file elsewhere with --write-heldout, so that nothing of the corpus "
                "can be replaced."
            )
    if path.is_symlink():
        raise DestinationError(f"{path}: the held-out file is a symbolic link; name the file itself "
                               "with --write-heldout.")
    if path.is_dir():
        raise DestinationError(f"{path}: the held-out file is a folder; name a file in it with "
                               f"--write-heldout, such as {path / 'heldout.json'}.")
    parent = resolved.parent
    if not parent.is_dir():
        raise DestinationError(f"{path}: its folder does not exist (--write-heldout).")
    if path.exists():
        if not path.is_file():
            raise DestinationError(f"{path}: the held-out file is not a regular file; name a new file "
                                   "with --write-heldout.")
        try:
            read_heldout(path)
        except HeldoutError:
            raise DestinationError(
                f"{path}: the file exists and is not a held-out text file keyboard-train wrote, so it "
                "is not replaced; name a new file with --write-heldout (or move this one away)."
            ) from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".keyboard-probe-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise DestinationError(f"{path}: the held-out file cannot be written in {parent} "
                               f"({e.strerror or e}).") from None


def resumed_source(path: Path, ckpt: dict[str, Any], resume) -> Any:
    """The model a resumed fine-tune started from (``init_from.load_source``), for its
    lexicon and phrase tables; ``InitError`` when it is gone or is no longer the one the
    checkpoint's vocabulary grew from."""
    from keyboard_app.engine.bundle import ModelLoadError

    from .init_from import InitError, load_source

    try:
        source = load_source(path)
    except (InitError, ModelLoadError) as e:
        raise InitError(
            f"{resume}: this run fine-tunes {path}, whose words and phrase tables the new model "
            f"keeps, but it cannot be read now ({str(e).rstrip('.')}); put it back and resume again."
        ) from None
    if list(ckpt["vocab"]["tokens"][:len(source.vocab)]) != list(source.vocab.tokens):
        raise InitError(
            f"{resume}: {path}, the model this run fine-tunes, has changed since the run started (its "
            "vocabulary differs); start the run afresh without --resume."
        )
    return source


def say_no_heldout_text(heldout_out, ksr_asked: bool) -> None:
    """No whole line was held out: what is missing because of it, said once."""
    missing = [what for what, asked in (("keystroke savings are not measured", ksr_asked),
                                        (f"the held-out file {heldout_out} holds no text to compare models on",
                                         heldout_out is not None)) if asked]
    if missing:
        log.warning("no text was held out (each file is a note too short to set part of it aside), so %s "
                    "(put short notes together in one file, one to a line)", " and ".join(missing))


def say_budget_stop(trainer: Trainer, progress: Progress) -> None:
    """One line when ``--max-tokens`` or ``--max-minutes`` ended the training early."""
    counters, config = trainer.counters, trainer.config
    budgets = {"token budget reached": f"the token budget (--max-tokens {config.max_tokens:,})",
               "time budget reached": f"the time budget (--max-minutes {config.max_minutes:g})"}
    if counters.stop_reason in budgets:
        done = counters.epoch + counters.batch / max(1, len(trainer.batches))
        progress.write(f"training stopped at {budgets[counters.stop_reason]} after {done:.2f} of "
                       f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}")


def parity_sentence(parity) -> str:
    """What the export's check of the ONNX graph compared, and against what tolerance."""
    if parity.quantized_own is not None:  # int8: the graph against itself; PyTorch is not its measure
        return (f"ONNX parity of the int8 graph: step by step vs one run {parity.quantized_own:.2g} "
                f"(tolerance {parity.tolerance:g}); distance to the float32 network "
                f"{max(parity.full_max_diff, parity.step_max_diff):.2g} (int8 rounding, not checked)")
    return (f"ONNX parity with PyTorch: largest difference {max(parity.full_max_diff, parity.step_max_diff):.2g} "
            f"(tolerance {parity.tolerance:g})")


def _follow_rank0(dist, work: Path, progress: Progress, trainer_hook) -> None:
    """A rank other than 0 under torchrun: wait for rank 0's data, train in step with
    it (DDP), write nothing.  Returns None: the bundle is rank 0's."""
    from .distributed import PeerFailed, broadcast, share_ids

    meta = broadcast(dist, None)
    if "failed" in meta:
        raise PeerFailed(meta["failed"])
    train_config = TrainConfig.from_dict(meta["train_config"])
    model_config = ModelConfig.from_dict(meta["model_config"])
    vocab = Vocabulary.from_dict(meta["vocab"])
    ids_path = Path(meta["ids_path"]) if meta["ids_path"] else None
    train_ids = share_ids(dist, None, ids_path, meta["train_len"], meta["dtype"])
    torch.manual_seed(train_config.seed)
    model = RNNLM(model_config)  # its weights come from rank 0 when DDP wraps it
    trainer = Trainer(model, vocab, train_config, train_ids, np.empty(0, train_ids.dtype),
                      device=dist.device, progress=progress, dist=dist)
    if meta["anchor_rows"] is not None:
        trainer.set_anchor(meta["anchor_rows"])
    if meta["ckpt"] is not None:
        trainer.restore(meta["ckpt"])
    if trainer_hook is not None:
        trainer_hook(trainer)
    trainer.run(None if train_config.dry_run else work / CHECKPOINT_FILE)
    return None


def prep_memory_bytes(config: TrainConfig) -> int:
    """The ceiling of data preparation's working memory (``--prep-memory``)."""
    from .streaming import GB

    return int(config.prep_memory_gb * GB)


def check_work_dir(work: Path, out: Path, corpus: Sequence[str | os.PathLike]) -> None:
    """The work folder may not be the bundle's folder, nor inside or equal to the corpus
    (its encoded ids would be read as corpus on ``--resume``)."""
    resolved = Path(work).resolve()
    if resolved == Path(out).resolve() or Path(out).resolve() in resolved.parents:
        raise DestinationError(f"{work}: the work folder cannot be the bundle folder or lie inside it.")
    for source in corpus:
        source_path = Path(source).resolve()
        if resolved == source_path or source_path in resolved.parents or resolved in source_path.parents:
            raise DestinationError(
                f"{work}: the work folder may not be, hold or lie inside the corpus {source}; "
                "name a folder elsewhere with --work-dir."
            )
    check_work_folder(work)


def phrase_tables(prepared, files, splits, vocab: Vocabulary, lexicon, tokenizer: Tokenizer, init_source,
                  train_config: TrainConfig, work: Path, progress=None):
    """The bundle's phrase tables and the user's (None when not made): an earlier
    run's from ``--keep-prepared``, or counted now (``corpus_phrases``) and kept;
    ``progress`` (``progress.Progress``) hears the pass over the text as its "phrases" reading."""
    kept = prepared.phrases() if prepared is not None else None
    if kept is not None:  # --keep-prepared, an earlier run's (its key holds the limit)
        phrases, user_phrases = kept
        if user_phrases is not None and not train_config.user_phrases:
            if isinstance(user_phrases, SpilledPhrases):
                user_phrases.close()
            user_phrases = None
        return phrases, user_phrases
    total = sum(f.size for f in files)
    if progress is not None:
        progress.begin_reading("phrases", total)
    try:
        phrases, user_phrases = corpus_phrases(
            files, splits, vocab, lexicon, tokenizer, init_source, memory_bytes=prep_memory_bytes(train_config),
            spill_dir=work, user_tables=train_config.user_phrases, max_bytes=phrase_bytes(train_config),
            progress=None if progress is None else lambda done: progress.reading("phrases", done, total))
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = work
        while not where.is_dir() and where != where.parent:  # the folder may not have been made
            where = where.parent
        free = shutil.disk_usage(where).free
        raise OSError(e.errno, "no space left on the device for the phrase tables' working files "
                      f"({free / 1e6:.1f} MB free): free some space or choose another folder with --work-dir",
                      str(work)) from e
    if prepared is not None:
        prepared.save_phrases(phrases, user_phrases)
    return phrases, user_phrases


def tables_bytes(tables) -> int:
    """About the size of the ``phrases.npz`` a set of phrase tables becomes (0 for none)."""
    if tables is None:
        return 0
    if isinstance(tables, SpilledPhrases):
        return tables.file_bytes()
    return sum(getattr(t, name).nbytes for t in tables.tables.values()
               for name in ("contexts", "totals", "next_ids", "counts")) + 4096


def lexicon_bytes(lexicon) -> int:
    """About the size of ``lexicon.json``: each word twice (its display form) and its count."""
    if lexicon is None:
        return 0
    return sum(2 * len(word.encode("utf-8")) + 24 for word in lexicon.words)


def phrase_bytes(config: TrainConfig) -> int:
    """``--phrases-limit`` in bytes of arrays, less what the file's scalars take, which
    the app counts against its limit too."""
    from keyboard_app.engine.contract import PHRASE_ARRAYS_MAX_BYTES

    return min(int(config.phrases_limit_mb * 1e6), PHRASE_ARRAYS_MAX_BYTES - PHRASE_SCALARS_BYTES)


PHRASE_SCALARS_BYTES = 4096  # the format, version, sizes and orders: ~120 bytes, with room


def corpus_phrases(files, splits, vocab: Vocabulary, lexicon, tokenizer: Tokenizer, source=None, *,
                   memory_bytes: int | None = None, spill_dir: Path | None = None, user_tables: bool = True,
                   max_bytes: int | None = phrase_bytes(TrainConfig()), progress=None):
    """The bundle's phrase tables: the training part's word pairs and triples, over
    the vocabulary and the lexicon (``engine.phrases``), added to those of the model
    being fine-tuned (``source``, whose words are renumbered to the new model's);
    and, when fine-tuning, the training part's own tables alone (the user's
    phrases, None otherwise or when ``user_tables`` is false).

    Counted in shards spilled to ``spill_dir`` (a private folder in it; the system's
    temporary folder when None) and merged, within ``memory_bytes`` (default
    ``streaming.DEFAULT_PREP_MEMORY_GB``), the kept tables left in files there
    (``streaming.SpilledPhrases``: ``save`` them into a bundle, then ``close`` them);
    ``memory_bytes=0`` counts in memory in one piece (``Phrases``: the same tables,
    the tests compare the two).  ``max_bytes``: each set of tables is cut to fit
    (``streaming.fit_phrases``; by default ``--phrases-limit``'s default, None: never).
    ``progress(bytes_done)``: after each file is read."""
    from .streaming import DEFAULT_PREP_MEMORY_GB, GB, fit_phrases, stream_phrases

    index = phrase_index(vocab.tokens, lexicon)
    base = base_ids = None
    if source is not None and source.phrases is not None:
        base = source.phrases
        old_lexicon = source.lexicon.words if source.lexicon is not None else []
        base_ids = renumbering(source.vocab.tokens, old_lexicon, index, vocab.unk_id)
    if memory_bytes is None:
        memory_bytes = int(DEFAULT_PREP_MEMORY_GB * GB)
    if memory_bytes:
        phrases, user = stream_phrases(
            files, splits, index, len(vocab), len(lexicon or ()), vocab.unk_id, tokenizer,
            memory_bytes=memory_bytes, spill_parent=spill_dir, base=base, base_ids=base_ids,
            user_tables=source is not None and user_tables, max_bytes=max_bytes, progress=progress)
        if phrases is not None:
            log.info("phrases: %d word pairs and triples", len(phrases))
        return phrases, user
    ids = phrase_ids(files, splits, index, vocab.unk_id, tokenizer, progress)
    phrases = build_phrases(ids, len(vocab), len(lexicon or ()), vocab.unk_id, base=base, base_ids=base_ids)
    if max_bytes is not None:
        phrases = fit_phrases(phrases, max_bytes)
    if phrases is not None:
        log.info("phrases: %d word pairs and triples", len(phrases))
    if source is None or not user_tables:
        return phrases, None
    # The user's own pairs and triples, as a component of their own: added into the
    # source's counts (above) they drown, 200k words against millions.
    user = build_phrases(ids, len(vocab), len(lexicon or ()), vocab.unk_id)
    if max_bytes is not None:
        user = fit_phrases(user, max_bytes, "your own phrase tables")
    if user is not None:
        log.info("the corpus's own phrases: %d word pairs and triples", len(user))
    return phrases, user


def new_corpus_vocabulary(counts, config: TrainConfig) -> Vocabulary:
    """For fine-tuning: every word of the new corpus seen ``min_count`` times
    (possibly none: the source model's vocabulary may cover it all)."""
    try:
        return build_vocabulary(counts, 0, config.min_count)
    except CorpusError:
        from keyboard_app.engine.tokenizer import SPECIAL_TOKENS

        return Vocabulary(list(SPECIAL_TOKENS), list(SPECIAL_TOKENS), [0] * len(SPECIAL_TOKENS))


def heldout_metrics(
    model: RNNLM,
    heldout_ids: np.ndarray,
    device: torch.device,
    vocab_size: int,
    heldout_texts: list[str],
    config: TrainConfig,
    progress: Progress,
) -> dict[str, Any]:
    """Perplexity and top-k on the held-out ids (PyTorch, full softmax)."""
    limit = 2000 if config.dry_run else METRIC_MAX_TOKENS
    scores = score_ids(model, heldout_ids, device, ks=(1, 3, 5), max_tokens=limit)
    metrics: dict[str, Any] = {
        "heldout_tokens": int(scores["tokens"]),
        "vocab_size": vocab_size,
        "perplexity": round(scores["perplexity"], 3),
        "top1": round(scores["top1"], 4),
        "top3": round(scores["top3"], 4),
        "top5": round(scores["top5"], 4),
        "topk_definition": "next token among the model's k most likely (all tokens, PyTorch)",
    }
    progress.write(  # the network's own figures: keyboard-eval's (the engine, words only) differ
        f"held-out, the network alone (every token, punctuation too): perplexity {metrics['perplexity']:.2f}, "
        f"top-1 {metrics['top1']:.1%}, "
        f"top-3 {metrics['top3']:.1%}, top-5 {metrics['top5']:.1%} "
        f"({metrics['heldout_tokens']:,} tokens, vocabulary {vocab_size:,})"
    )
    return metrics


def tune_user_phrases(folder: Path, texts: list[str], max_words: int, progress: Progress):
    """The weights of the user's phrase tables that save the most keystrokes (k = 3) on
    the user's held-out text, over ``USER_PHRASE_GRID``; ties go to the smaller weights.

    None (the untuned defaults stay) when the engine fails: the model is fine.
    """
    from keyboard_app.engine.evaluate import evaluate
    from keyboard_app.engine.mixture import MixtureWeights
    from keyboard_app.engine.phrases import PhraseSettings
    from keyboard_app.engine.predictor import Predictor

    try:
        predictor = Predictor.load(folder, threads=max(1, torch.get_num_threads()))
    except Exception as e:  # noqa: BLE001 - the engine's failure must not lose the model
        log.warning("the user's phrase weights were not tuned: the engine failed (%s: %s)", type(e).__name__, e)
        return None
    results = []
    try:
        for i, (pair, triple) in enumerate(USER_PHRASE_GRID):
            settings = PhraseSettings(pair, triple)
            predictor.set_phrase_settings(MixtureWeights().phrases, settings)  # the corpus's: the engine's
            report = evaluate(predictor, texts, ks=(3,), max_words=max_words)
            results.append((-report.ksr[3], pair + triple, i, settings))
            progress.emit("tuning", step=i + 1, total=len(USER_PHRASE_GRID))
    finally:
        predictor.close()
    best = min(results)
    off = next(r for r in results if r[3].pair_weight == r[3].triple_weight == 0.0)
    progress.write(
        f"the corpus's own phrases: weights {best[3].pair_weight:g} (pairs) and {best[3].triple_weight:g} "
        f"(triples) save {-best[0]:.1f}% of keystrokes on held-out text, {-off[0]:.1f}% without them"
    )
    return best[3]


def engine_metrics(
    folder: Path, texts: list[str], max_words: int, progress: Progress
) -> dict[str, Any]:
    """Keystroke savings (and the strip's top-k) on held-out text, through the app's engine.

    Skipped with a warning when the engine cannot be imported or fails: the
    model itself is fine, only this figure is missing from the manifest.
    """
    try:
        from keyboard_app.engine.evaluate import evaluate
        from keyboard_app.engine.predictor import Predictor
    except ImportError as e:
        log.warning("keystroke savings not measured: the engine cannot be imported (%s)", e)
        return {}
    try:
        predictor = Predictor.load(folder, threads=max(1, torch.get_num_threads()))
        try:
            report = evaluate(
                predictor, texts, ks=(1, 3, 5), max_words=max_words,
                progress=lambda done, total: progress.emit("evaluating", words=done, total=total),
            )
        finally:
            predictor.close()
    except Exception as e:  # noqa: BLE001 - the engine's failure must not lose the model
        log.warning("keystroke savings not measured: the engine failed (%s: %s)",
                    type(e).__name__, e)
        return {}
    engine = report.to_metrics()
    progress.write(
        "keystroke savings on held-out text: "
        + ", ".join(f"k={k} {v:.1f}%" for k, v in engine["ksr"].items())
        + f" ({engine['ksr_words']:,} words)"
    )
    return {
        "ksr": engine["ksr"],
        "ksr_words": engine["ksr_words"],
        "strip_topk": {str(k): engine.get(f"top{k}") for k in (1, 3, 5)},
        "engine_perplexity": engine.get("perplexity"),
    }
