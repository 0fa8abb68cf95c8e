"""The training loop: truncated BPTT, AdamW, clipping, schedule, early stopping.

The recurrent state is carried from one batch to the next (detached), so
the model learns from context longer than ``bptt``.  Everything needed to
continue exactly is in the checkpoint, a plain dict that loads with
``torch.load(weights_only=True)``: model, optimizer and best weights (state
dicts), both configs, the vocabulary, counters (epoch, batch index within
the epoch = the data position, step, tokens), the carried state and the RNG
state.  It is written at every epoch end, every ``checkpoint_minutes``
within an epoch (a run killed mid-epoch resumes at the same batch, as if it
had never stopped) and when a stop is honoured, always atomically: a
temporary file, flushed to the disk, then renamed over the previous one.  A
stop request (``Trainer.stop``, set by the signal handlers in ``cli``) is
honoured between two steps.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import pickle
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from keyboard_app.engine.faults import fault_point
from keyboard_app.engine.staging import fsync_dir
from keyboard_app.engine.vocab import Vocabulary

from .config import TrainConfig
from .data import Batches
from .distributed import SINGLE, DistContext, StepLoss, autocast_dtype, lr_factor
from .losses import SampledSoftmax
from .model import RNNLM, State
from .progress import Progress

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "keyboard-train-checkpoint"
CHECKPOINT_VERSION = 1
EVAL_BATCH = 16  # streams used to score held-out ids
VALIDATION_MAX_TOKENS = 100_000  # enough for a steady figure, a small part of an epoch
MIN_LR_FRACTION = 0.1  # the cosine schedule ends at this fraction of the peak


@dataclass
class Counters:
    epoch: int = 0  # current epoch (0-based)
    batch: int = 0  # next batch of the epoch: the data position
    step: int = 0  # optimizer steps taken
    tokens: int = 0  # training tokens seen
    elapsed_s: float = 0.0  # training wall time (resumes add up)
    horizon: int = 0  # step at which the cosine schedule ends
    lr_scale: float = 1.0  # plateau schedule: halved when validation stalls
    best_val_ppl: float = float("inf")
    bad_evals: int = 0  # validations in a row without a new best
    evals: int = 0
    finished: bool = False  # the run ended (epochs done, early stop or budget)
    stop_reason: str = ""
    pending_eval: bool = False  # a validation was cut short by a stop: redo it on resume
    smooth_loss: float | None = None  # the running training loss (recorded in the history)
    history: list = field(default_factory=list)  # [{"step", "epoch", "val_ppl", "train_loss"}]


class Stop(Exception):
    """Raised out of ``Trainer.run`` when a stop was requested (signal)."""


def param_groups(model: RNNLM, weight_decay: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or name.startswith("embedding") else decay).append(p)
    # The tied embedding is left without decay: rare words would fade away.
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def resolve_device(name: str) -> torch.device:
    """``--device`` as torch's device, or ``ValueError`` (one sentence naming what was asked)
    when this machine has no such GPU: said before the corpus is read, where torch would
    only fail once the model is moved there (a GPU number past the last: "invalid device
    ordinal", after minutes of reading)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if not count:
            raise ValueError(f"--device {name} was asked for but no CUDA GPU is available")
        if device.index is not None and device.index >= count:
            gpus = "cuda:0" if count == 1 else f"cuda:0 to cuda:{count - 1}"
            raise ValueError(f"--device {name} was asked for but this machine has {count} CUDA "
                             f"GPU{'s' if count > 1 else ''} ({gpus})")
    return device


def detach(state: State) -> State:
    return tuple(s.detach() for s in state)


@torch.no_grad()
def score_ids(
    model: RNNLM, ids: np.ndarray, device: torch.device, *, ks: tuple[int, ...] = (),
    batch: int = EVAL_BATCH, bptt: int = 64, max_tokens: int | None = None,
    should_stop=None,
) -> dict[str, float] | None:
    """Mean NLL (nats) and top-k accuracy of next-token prediction over ``ids``.

    ``ids`` is laid out as ``batch`` streams with the state carried, like
    training, and scored with the full softmax.  Returns None when
    ``should_stop()`` turned true on the way.
    """
    if max_tokens is not None:
        ids = ids[: max_tokens + 1]
    batch = max(1, min(batch, (len(ids) - 1) // 2))
    batches = Batches(ids, batch, bptt)
    was_training = model.training
    model.eval()
    state = model.init_state(batch, device)
    nll, n = 0.0, 0
    hits = {k: 0 for k in ks}
    for i in range(len(batches)):
        if should_stop is not None and should_stop():
            model.train(was_training)
            return None
        x, y = batches.get(i, device)  # (batch, time) each
        logits, state = model(x, state)  # (batch, time, vocab)
        logits = logits.reshape(-1, logits.shape[-1]).float()  # (batch * time, vocab)
        y = y.reshape(-1)  # (batch * time,)
        nll += torch.nn.functional.cross_entropy(logits, y, reduction="sum").item()
        n += y.numel()
        if ks:
            top = logits.topk(max(ks), dim=-1).indices  # (batch * time, kmax)
            correct = top == y.unsqueeze(1)  # (batch * time, kmax)
            for k in ks:
                hits[k] += int(correct[:, :k].any(dim=1).sum())
    model.train(was_training)
    result = {"nll": nll / max(n, 1), "tokens": n}
    result["perplexity"] = math.exp(min(result["nll"], 50.0))
    for k in ks:
        result[f"top{k}"] = hits[k] / max(n, 1)
    return result


#: Parameters with one row per vocabulary word (the tied decoder shares the embedding's).
WORD_ROWS = ("embedding.weight", "decoder.weight", "decoder.bias")


class Trainer:
    def __init__(
        self,
        model: RNNLM,
        vocab: Vocabulary,
        config: TrainConfig,
        train_ids: np.ndarray,
        heldout_ids: np.ndarray,
        *,
        device: torch.device,
        progress: Progress | None = None,
        dist: DistContext | None = None,
    ) -> None:
        self.model = model.to(device)
        self.vocab = vocab
        self.config = config
        self.device = device
        self.dist = dist or SINGLE  # under torchrun: this rank's place (see distributed)
        self.batches = Batches(train_ids, config.batch_size, config.bptt, self.dist.rank, self.dist.world_size)
        if device.type == "cuda":
            self.batches.to_device(device)
        self.heldout_ids = heldout_ids
        self.progress = progress or Progress(bar=False)
        # fused: one pass over the parameters (8x faster than the default on CPU,
        # which matters with a 5M-weight embedding updated densely every step)
        self.optimizer = torch.optim.AdamW(
            param_groups(model, config.weight_decay), lr=config.lr, betas=(0.9, 0.99), fused=True
        )
        counts = torch.tensor(vocab.counts, dtype=torch.float64)
        self.sampled = (
            SampledSoftmax(counts, config.num_samples, config.num_exact).to(device)
            if config.output_loss == "sampled" else None
        )
        self.counters = Counters()
        # The loss of a batch as one module's forward: what DDP wraps under torchrun.
        self.step_loss: torch.nn.Module = StepLoss(model, self.sampled, autocast_dtype(device, config.precision))
        self._agreed_stop = self._agreed_checkpoint = False  # under torchrun: shared every step
        if self.dist.enabled:
            from .distributed import wrap

            self.step_loss = wrap(self.step_loss, self.dist)  # rank 0's weights on every rank
            if not self.dist.is_main:  # other dropout masks and samples than rank 0's
                torch.manual_seed(config.seed + 1_000_003 * self.dist.rank)
        self.state: State = model.init_state(config.batch_size, device)
        self.best_weights: dict[str, Tensor] | None = None
        self.anchor_weights: dict[str, Tensor] | None = None  # fine-tuning: see set_anchor
        self.anchor_rows = 0
        self.stop_requested = False  # set by a signal handler; honoured between steps
        self.stop_signal: int | None = None
        self.in_loop = False  # a stop request can only wait for a step inside the loop
        self.bundle_written = False  # set once the bundle is in place: too late to stop
        self._last_save = time.monotonic()  # for checkpoint_minutes
        self.extra: dict[str, Any] = {}  # saved with checkpoints (corpus hash, init source)
        planned = config.epochs * len(self.batches)
        if config.max_tokens:
            planned = min(planned, math.ceil(config.max_tokens / max(1, self.batches.tokens // len(self.batches))))
        if config.dry_run:
            planned = 1
        self.counters.horizon = max(1, planned)

    # -- schedule ---------------------------------------------------------------
    def learning_rate(self) -> float:
        c, step = self.config, self.counters.step
        lr = c.lr * lr_factor(c.lr_scaling, self.dist.world_size)
        lr *= min(1.0, (step + 1) / max(1, c.warmup_steps))
        if c.schedule == "cosine" and step >= c.warmup_steps:
            span = max(1, self.counters.horizon - c.warmup_steps)
            t = min(1.0, (step - c.warmup_steps) / span)
            lr *= MIN_LR_FRACTION + (1 - MIN_LR_FRACTION) * 0.5 * (1 + math.cos(math.pi * t))
        elif c.schedule == "plateau":
            lr *= self.counters.lr_scale
        return lr

    @property
    def planned_tokens(self) -> int:
        per_batch = self.batches.tokens / len(self.batches)
        return max(int(self.counters.horizon * per_batch), self.counters.tokens)

    def shown_tokens(self, rate: float) -> int:
        """The tokens the bar and the ``progress`` events count toward, and so the time
        they show left: the planned ones, but under a time budget (``--max-minutes``)
        no more than the time left allows at ``rate``, from the first step on (the plan
        itself is cut once, after the warm-up: ``_adjust_horizon``), so a run capped at
        10 minutes is never shown as taking an hour."""
        c, counters = self.config, self.counters
        planned = self.planned_tokens
        if c.max_minutes and rate > 0:
            left_s = max(0.0, c.max_minutes * 60 - counters.elapsed_s)
            planned = min(planned, counters.tokens + int(left_s * rate))
        return planned

    # -- one step -----------------------------------------------------------------
    def train_step(self, x: Tensor, y: Tensor) -> float:
        model = self.model
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        loss, state = self.step_loss(x, self.state, y)  # DDP averages the gradients under torchrun
        self.state = detach(state)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), self.config.clip)
        self.optimizer.step()
        if self.anchor_weights is not None and self.config.anchor > 0.0:
            self._pull_to_anchor(self.optimizer.param_groups[0]["lr"] * self.config.anchor)
        return loss.item()

    def set_anchor(self, known_rows: int) -> None:
        """Remember the current weights (the source model's, before fine-tuning) as the
        anchor ``config.anchor`` pulls toward; rows of the vocabulary beyond
        ``known_rows`` (new words) are not pulled."""
        self.anchor_weights = {name: p.detach().clone() for name, p in self.model.named_parameters()}
        self.anchor_rows = known_rows

    @torch.no_grad()
    def interpolate_toward_anchor(self, alpha: float) -> None:
        """WiSE-FT: every weight of the source becomes ``anchor + alpha (w - anchor)``;
        new words' rows keep their trained values (they have no source)."""
        self._pull_to_anchor(1.0 - alpha)

    @torch.no_grad()
    def _pull_to_anchor(self, rate: float) -> None:
        rate = min(rate, 1.0)
        for name, p in self.model.named_parameters():
            anchor = self.anchor_weights[name]
            if name in WORD_ROWS:  # one row per word: new words' rows are free
                p[: self.anchor_rows].lerp_(anchor[: self.anchor_rows], rate)
            else:
                p.lerp_(anchor, rate)

    def validate(self) -> float | None:
        """Held-out perplexity; None when a stop request cut it short."""
        if self.dist.enabled:  # rank 0 validates, every rank takes its figure
            from .distributed import broadcast

            ppl = self._validate() if self.dist.is_main else None
            return broadcast(self.dist, ppl)
        return self._validate()

    def _validate(self) -> float | None:
        if len(self.heldout_ids) < 3:
            return float("nan")
        scores = score_ids(self.model, self.heldout_ids, self.device,
                           max_tokens=VALIDATION_MAX_TOKENS, should_stop=lambda: self.stop_requested)
        return None if scores is None else scores["perplexity"]

    # -- the loop -----------------------------------------------------------------
    def eval_points(self) -> set[int]:
        n, per = len(self.batches), max(1, self.config.evals_per_epoch)
        return {min(n, round(n * (i + 1) / per)) for i in range(per)}

    def run(self, checkpoint_path: Path | None = None) -> Counters:
        """Train until the epochs, the budget or early stopping end it.

        Raises ``Stop`` (after writing a checkpoint) when a stop was requested.
        """
        c, counters = self.config, self.counters
        self.model.train()
        eval_at = self.eval_points()
        start_time = time.monotonic()
        start_elapsed, start_tokens = counters.elapsed_s, counters.tokens
        self.progress.start(self.planned_tokens, counters.tokens,
                            desc=f"training (at most {c.max_minutes:g} min)" if c.max_minutes else "training")
        smooth_loss = counters.smooth_loss
        rate = 0.0
        self._last_save = start_time
        self.in_loop = True
        try:
            if counters.pending_eval:  # the last run stopped during this validation
                self._evaluate(None)
                if not counters.pending_eval:
                    self._roll_over("")
            while not counters.finished:
                if self._stop_now():
                    if checkpoint_path is not None:
                        self.save_checkpoint(checkpoint_path)
                    raise Stop()
                if counters.batch == 0:
                    self.state = self.model.init_state(c.batch_size, self.device)
                x, y = self.batches.get(counters.batch, self.device)
                loss = self.train_step(x, y)
                if not math.isfinite(loss):
                    raise FloatingPointError("the training loss became NaN or infinite")
                counters.step += 1
                counters.batch += 1
                counters.tokens += y.numel() * self.dist.world_size  # all processes together
                smooth_loss = loss if smooth_loss is None else 0.95 * smooth_loss + 0.05 * loss
                counters.smooth_loss = smooth_loss
                now = time.monotonic()
                counters.elapsed_s = start_elapsed + (now - start_time)
                if self.dist.enabled:  # stop requests, rank 0's clock: the same on every rank
                    self._share_flags()
                rate = (counters.tokens - start_tokens) / max(1e-9, counters.elapsed_s - start_elapsed)
                self._adjust_horizon(rate)
                self.progress.update(
                    tokens=counters.tokens, total=self.shown_tokens(rate), loss=smooth_loss,
                    tokens_per_s=rate,
                )
                budget = self._budget_reached()
                if c.dry_run:
                    counters.finished, counters.stop_reason = True, "dry run"
                    break
                if counters.batch in eval_at or budget:
                    self._evaluate(smooth_loss)
                if not counters.pending_eval:
                    self._roll_over(budget)
                    if checkpoint_path is not None and (counters.batch == 0 or counters.finished):
                        self.save_checkpoint(checkpoint_path)
                    elif checkpoint_path is not None and self._checkpoint_due():
                        self.save_checkpoint(checkpoint_path)
                        fault_point("train.timed-checkpoint-written")
                if self._stop_now():  # even on the last step: a cancelled run writes no bundle
                    if checkpoint_path is not None:
                        self.save_checkpoint(checkpoint_path)
                    raise Stop()
        finally:
            self.in_loop = False
            self.progress.close()
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        return counters

    def _roll_over(self, budget: str) -> None:
        """After a step (and its validation): next epoch, or the end of the run."""
        c, counters = self.config, self.counters
        if counters.batch >= len(self.batches):
            counters.epoch += 1
            counters.batch = 0
            if counters.epoch >= c.epochs and not counters.finished:
                counters.finished, counters.stop_reason = True, "all epochs done"
        if not budget:
            budget = self._budget_reached()
        if budget and not counters.finished:
            counters.finished, counters.stop_reason = True, budget

    def _stop_now(self) -> bool:
        """A stop to honour now: this process's request, or under torchrun the
        request of any rank as shared at the last step (all ranks stop together)."""
        return self._agreed_stop if self.dist.enabled else self.stop_requested

    def _share_flags(self) -> None:
        from .distributed import agree

        minutes = self.config.checkpoint_minutes
        due = minutes > 0 and time.monotonic() - self._last_save >= minutes * 60
        asked = (self.stop_signal or 2) if self.stop_requested else 0  # 2: SIGINT, as cli assumes
        signum, self._agreed_checkpoint, self.counters.elapsed_s = agree(
            self.dist, stop=asked, checkpoint_due=due, elapsed_s=self.counters.elapsed_s)
        self._agreed_stop = signum > 0
        if signum and not self.stop_requested:  # another rank's signal: stop as it does
            self.stop_requested, self.stop_signal = True, signum

    def _checkpoint_due(self) -> bool:
        if self.dist.enabled:
            return self._agreed_checkpoint
        minutes = self.config.checkpoint_minutes
        return minutes > 0 and time.monotonic() - self._last_save >= minutes * 60

    def _budget_reached(self) -> str:
        c, counters = self.config, self.counters
        if c.max_tokens and counters.tokens >= c.max_tokens:
            return "token budget reached"
        if c.max_minutes and counters.elapsed_s >= c.max_minutes * 60:
            return "time budget reached"
        return ""

    def _adjust_horizon(self, rate: float) -> None:
        """With a time budget, end the cosine where the budget will end."""
        c, counters = self.config, self.counters
        if not c.max_minutes or counters.step != max(c.warmup_steps, 20) or rate <= 0:
            return
        per_batch = self.batches.tokens / len(self.batches)
        left_s = c.max_minutes * 60 - counters.elapsed_s
        reachable = counters.step + int(left_s * rate * 0.95 / per_batch)
        counters.horizon = max(counters.step + 1, min(counters.horizon, reachable))

    def _evaluate(self, train_loss: float | None) -> None:
        c, counters = self.config, self.counters
        val_ppl = self.validate()
        counters.pending_eval = val_ppl is None
        if val_ppl is None:
            return
        counters.evals += 1
        epoch = counters.epoch + counters.batch / len(self.batches)
        counters.history.append(
            {"step": counters.step, "epoch": round(epoch, 3), "val_ppl": val_ppl,
             "train_loss": train_loss}
        )
        self.progress.emit("epoch", epoch=round(epoch, 3), val_ppl=round(val_ppl, 3),
                           train_loss=None if train_loss is None else round(train_loss, 4),
                           step=counters.step)
        self.progress.write(
            f"epoch {epoch:.2f}: validation perplexity {val_ppl:.2f} (step {counters.step})"
        )
        if math.isnan(val_ppl) or val_ppl < counters.best_val_ppl:
            if not math.isnan(val_ppl):
                counters.best_val_ppl = val_ppl
            counters.bad_evals = 0
            self.best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            counters.bad_evals += 1
            counters.lr_scale *= 0.5
            if counters.bad_evals >= c.patience:
                counters.finished = True
                counters.stop_reason = "early stop: validation perplexity stopped improving"

    # -- checkpoints --------------------------------------------------------------
    def checkpoint(self) -> dict[str, Any]:
        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        state, rank_rng = [s.cpu() for s in self.state], [rng]
        if self.dist.enabled:  # every rank's streams and random numbers (a collective)
            from .distributed import gather, gather_state

            state, rank_rng = gather_state(self.dist, self.state), gather(self.dist, rng)
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "best_model": self.best_weights,
            "model_config": self.model.config.to_dict(),
            "train_config": self.config.to_dict(),
            "vocab": self.vocab.to_dict(),
            "counters": asdict(self.counters),
            "recurrent_state": state,  # (layers, world_size * batch, hidden) each
            "rng": rng,
            # Under torchrun: the layout the data position and the state belong to.
            "world_size": self.dist.world_size,
            "batches_per_epoch": len(self.batches),
            "rank_rng": rank_rng,
            "extra": self.extra,
            "anchor": None if self.anchor_weights is None else {
                "weights": self.anchor_weights, "rows": self.anchor_rows},
        }

    def save_checkpoint(self, path: Path) -> None:
        """Write the checkpoint atomically: a crash, a kill or a full disk leaves
        the previous one whole.  A failed write raises ``OSError`` naming ``path``."""
        path = Path(path)
        ckpt = self.checkpoint()  # under torchrun a collective: every rank calls this
        if not self.dist.is_main:  # rank 0 alone writes
            self._last_save = time.monotonic()
            return
        tmp = path.with_name(path.name + ".tmp")
        sink = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                sink = _RecordingWriter(f)
                torch.save(ckpt, sink)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException as e:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:  # (a work "folder" that is a file): the first error is the one to tell
                pass
            # torch's zip writer turns a failed write into a RuntimeError
            # ("enforce fail at inline_container.cc"); the sink kept the real cause.
            cause = sink.error if sink is not None and sink.error is not None else e
            if not isinstance(cause, OSError):
                raise
            reason = ("no space left on the device" if cause.errno in (errno.ENOSPC, errno.EDQUOT)
                      else (cause.strerror or str(cause)).rstrip(".").lower())
            kept = "the previous checkpoint is kept" if path.exists() else "no checkpoint was kept"
            raise OSError(cause.errno, f"{reason} while writing the checkpoint ({kept})",
                          str(path)) from e
        fsync_dir(path.parent)  # the rename itself survives a power cut
        self._last_save = time.monotonic()

    def restore(self, ckpt: dict[str, Any]) -> None:
        """Continue from ``ckpt`` exactly (same data position, counters, RNG)."""
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.best_weights = ckpt.get("best_model")
        anchor = ckpt.get("anchor")
        if anchor is not None:
            self.anchor_weights, self.anchor_rows = anchor["weights"], int(anchor["rows"])
        self.counters = Counters(**ckpt["counters"])
        saved_world = int(ckpt.get("world_size", 1))
        saved_batches = int(ckpt.get("batches_per_epoch", 0)) or len(self.batches)
        rank, width = self.dist.rank, self.config.batch_size
        if saved_world == self.dist.world_size and saved_batches == len(self.batches):
            # The same layout: continue exactly, each rank with its own streams' state.
            self.state = tuple(s[:, rank * width : (rank + 1) * width].contiguous().to(self.device)
                               for s in ckpt["recurrent_state"])
            rng = ckpt.get("rank_rng", [ckpt["rng"]])[rank]
            torch.set_rng_state(rng["torch"])
            if "cuda" in rng and self.device.type == "cuda":
                torch.cuda.set_rng_state(rng["cuda"], self.device)
        else:
            self._remap(saved_world, saved_batches)

    def _remap(self, saved_world: int, saved_batches: int) -> None:
        """Resume a checkpoint written by another number of processes.

        The data position is kept as the fraction of the epoch done: batch ``b`` of
        ``n`` becomes batch ``floor(b / n * n')`` of the new layout's ``n'``, so
        every one of the ``world_size * batch_size`` new streams continues from
        the same fraction of its share of the text.  The recurrent state starts
        from zeros (the streams are not the old ones), the random numbers are
        reseeded, and the schedule's horizon, counted in steps, is rescaled to
        the tokens a step now takes.  Counters, weights and optimizer carry over.
        """
        c, new_world = self.counters, self.dist.world_size
        c.batch = min(len(self.batches) - 1, int(c.batch / saved_batches * len(self.batches)))
        left = max(0, c.horizon - c.step)
        c.horizon = c.step + max(1, round(left * saved_world / new_world))
        self.state = self.model.init_state(self.config.batch_size, self.device)
        torch.manual_seed(self.config.seed + 1_000_003 * self.dist.rank + c.step)
        if self.dist.is_main:
            log.warning("resuming on %d process(es) a run checkpointed on %d: continuing at batch %d of "
                        "%d of epoch %d, the recurrent state restarted", new_world, saved_world,
                        c.batch, len(self.batches), c.epoch + 1)


class _RecordingWriter:
    """A file for ``torch.save`` that remembers the ``OSError`` a write raised."""

    def __init__(self, file) -> None:
        self.file = file
        self.error: OSError | None = None

    def write(self, data) -> int:
        try:
            return self.file.write(data)
        except OSError as e:
            self.error = e
            raise

    def flush(self) -> None:
        try:
            self.file.flush()
        except OSError as e:
            self.error = e
            raise


class CheckpointError(ValueError):
    """A file given as a checkpoint that this program did not write, or cannot read."""


CHECKPOINT_KEYS = ("model", "optimizer", "model_config", "train_config", "vocab", "counters",
                   "recurrent_state", "rng")


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint written by ``Trainer.save_checkpoint``, loaded with
    ``weights_only=True`` (never unpickling arbitrary objects).

    Anything else raises ``CheckpointError``: one sentence naming ``path``.
    """

    def refuse(reason: str) -> CheckpointError:
        return CheckpointError(f"{path}: not a keyboard-train checkpoint ({reason})")

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except OSError:
        raise  # cannot be read at all (permissions, a folder): the system's own words
    except pickle.UnpicklingError as e:
        # torch's message is a page of advice (including weights_only=False, which
        # would run whatever code the file holds); keep only what the file holds.
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(e))
        if found:
            raise refuse(f"it holds a {found.group(1)} object, which is not loaded for safety") from e
        raise refuse("it is not a PyTorch file, or it is damaged") from e
    except EOFError as e:
        raise refuse("the file is empty or cut short") from e
    except Exception as e:  # noqa: BLE001 - torch raises RuntimeError, KeyError... on junk
        raise refuse("it is not a PyTorch file, or it is damaged") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise refuse("a PyTorch file without keyboard-train's training state")
    version = ckpt.get("version")
    if not isinstance(version, int):
        raise refuse("it has no format version")
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: written by a newer keyboard-train (checkpoint format "
                              f"{version}; this one reads up to {CHECKPOINT_VERSION})")
    missing = [key for key in CHECKPOINT_KEYS if key not in ckpt]
    if missing:
        raise refuse(f"its {', '.join(missing)} part is missing")
    return ckpt

