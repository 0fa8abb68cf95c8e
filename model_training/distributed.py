"""Training on several processes or machines: torchrun + DistributedDataParallel.

``keyboard-train`` notices that torchrun started it by the environment torchrun
sets (``WORLD_SIZE`` > 1, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``...), joins
the process group (gloo on a CPU, NCCL on GPUs, chosen from ``--device``) and
trains with the model wrapped in ``DistributedDataParallel``:

- ``--batch-size`` is per process: the training ids are laid out as
  ``world_size * batch_size`` streams and rank ``r`` trains on streams
  ``r*B .. (r+1)*B - 1``; one optimizer step sees ``world_size`` times the
  tokens, DDP averages the gradients, so every rank takes the same step.
- The learning rate stays ``--lr`` (``--lr-scaling none``, the default: the same
  rate for a ``world_size`` times larger batch), or is scaled by
  ``world_size ** 0.5`` (``sqrt``) or ``world_size`` (``linear``).  Warm-up counts
  steps.
- Token counts, ``--max-tokens`` and the schedule's horizon are counted over
  all processes together, so they mean the same whatever the world size; the
  time budget is rank 0's clock, shared with the others every step.
- Rank 0 alone validates, logs, writes ``--progress-json``, checkpoints and
  the bundle; the others train silently.  A stop request (SIGINT, SIGTERM) on
  any rank is shared at the next step: rank 0 writes one checkpoint and every
  rank stops.
- Data preparation runs once, on rank 0, while the others wait; they then map
  the encoded ids rank 0 wrote to the work folder (or receive them over the
  process group when the work folder is not shared with their machine).

Nothing here is imported by a one-process run except ``StepLoss``,
``SINGLE`` and ``autocast_dtype`` (cheap), and nothing of it by the app.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from .config import LR_SCALINGS  # noqa: F401 - the choices of --lr-scaling

log = logging.getLogger(__name__)

#: A collective waits this long (rank 0's data preparation of a very large corpus
#: included) before failing; torchrun ends every rank at once if one dies.
COLLECTIVE_TIMEOUT = timedelta(hours=12)
#: Set by ``--nproc``'s launcher: rank 0 writes its exit code there, and a stop or
#: a failure every rank agreed on exits 0, so torchrun does not report it as a crash.
STATUS_ENV = "KEYBOARD_TRAIN_STATUS_FILE"
CHUNK_IDS = 1 << 24  # ids per broadcast when a rank cannot read the work folder


@dataclass(frozen=True)
class DistContext:
    """Where this process stands among the ones training together."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""  # "" when there is no process group
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def comm_device(self) -> torch.device:
        """Where the tensors of a collective live (NCCL: on the GPU)."""
        return self.device if self.backend == "nccl" else torch.device("cpu")


SINGLE = DistContext()


class PeerFailed(Exception):
    """Rank 0 failed or was stopped while preparing the data; it said why itself.
    ``code`` is the exit code it chose, shared so every rank exits alike."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message or f"rank 0 stopped with exit code {code}")
        self.code = code


def exit_code_of(error: BaseException) -> int:
    """The exit code ``keyboard-train`` gives ``error`` (see ``cli``): 128 + the signal
    for a stop, 2 for bad input, 1 for anything else."""
    from keyboard_app.engine.bundle import ModelLoadError

    from .corpus import CorpusError
    from .init_from import InitError

    if isinstance(getattr(error, "signum", None), int):
        return 128 + error.signum  # type: ignore[attr-defined]
    if isinstance(error, (CorpusError, ModelLoadError, InitError, ValueError)):
        return 2
    return 1


def mark_told(error: BaseException) -> None:
    """Note on ``error`` that the other ranks were told of it (they exit too)."""
    try:
        error.keyboard_told_peers = True  # type: ignore[attr-defined]
    except AttributeError:
        pass


def told_peers(error: BaseException) -> bool:
    return bool(getattr(error, "keyboard_told_peers", False))


class QuietProgress:
    """The progress of a rank other than 0: says nothing (rank 0 speaks for all)."""

    json_lines = False
    on_closed = None

    def emit(self, event: str, **fields: Any) -> None:
        pass

    def write(self, message: str) -> None:
        pass

    def start(self, total: int, done: int = 0, desc: str = "training") -> None:
        pass

    def begin_reading(self, phase: str, total: int) -> None:
        pass

    def reading(self, phase: str, done: int, total: int) -> None:
        pass

    def update(self, **fields: Any) -> None:
        pass

    def close(self) -> None:
        pass


class Handshake:
    """Rank 0's word to the other ranks before training: the data and settings to
    train with (``send``), or that it failed before that (``fail``), so that every
    rank exits alike instead of waiting for a collective that never comes."""

    def __init__(self, ctx: DistContext) -> None:
        self.ctx = ctx
        self.sent = False

    def send(self, meta: dict) -> None:
        self.sent = True
        broadcast(self.ctx, meta)

    def fail(self, error: BaseException) -> None:
        if self.ctx.enabled and self.ctx.is_main and not self.sent:
            self.sent = True
            broadcast(self.ctx, {"failed": exit_code_of(error)})
            mark_told(error)


def under_torchrun() -> bool:
    """True in a process torchrun (or ``--nproc``) started as one of several."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ
    except ValueError:
        return False


def lr_factor(scaling: str, world_size: int) -> float:
    """The learning rate's multiplier for ``world_size`` processes."""
    if scaling == "linear":
        return float(world_size)
    if scaling == "sqrt":
        return float(world_size) ** 0.5
    return 1.0


def init(device_name: str) -> DistContext:
    """Join the process group torchrun prepared; the context of this rank.

    ``device_name`` is ``--device``: a CUDA device (or ``auto`` with one present)
    means NCCL and this rank's GPU (``LOCAL_RANK``); anything else gloo on the CPU.
    """
    import torch.distributed as dist

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device_name.startswith("cuda") or (device_name == "auto" and torch.cuda.is_available())
    if cuda:
        if not torch.cuda.is_available():
            raise ValueError(f"--device {device_name} was asked for but no CUDA GPU is available")
        if ":" in device_name and rank == 0:
            log.warning("under torchrun each process uses the GPU of its local rank; %s is ignored",
                        device_name)
        device = torch.device("cuda", local % torch.cuda.device_count())
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device, backend = torch.device("cpu"), "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT)
    return DistContext(rank, world, local, backend, device)


def shutdown(peers_done: bool = False) -> None:
    """Leave the process group.  ``peers_done``: every rank reached the same outcome, so
    all wait for each other first; a rank that tore its connections down while another
    still sent its last messages made that one abort (SIGABRT) and torchrun print a
    failure after a clean stop."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        if peers_done:
            try:
                dist.barrier()
            except RuntimeError:  # a peer already gone: nothing left to wait for
                pass
        dist.destroy_process_group()


# -- collectives --------------------------------------------------------------------

def agree(ctx: DistContext, *, stop: int, checkpoint_due: bool, elapsed_s: float) -> tuple[int, bool, float]:
    """One small all-reduce a step: a stop asked on any rank (``stop``: its signal
    number, 0 for none; the largest wins), rank 0's checkpoint clock and rank 0's
    training time (the time budget), the same on every rank."""
    import torch.distributed as dist

    main = ctx.is_main
    flags = torch.tensor([float(stop), float(checkpoint_due and main), elapsed_s if main else 0.0],
                         dtype=torch.float64, device=ctx.comm_device)
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    stop_f, due_f, elapsed_f = flags.tolist()
    return int(stop_f), due_f > 0, elapsed_f


def broadcast(ctx: DistContext, value: Any) -> Any:
    """Rank 0's ``value`` (any picklable object) on every rank."""
    import torch.distributed as dist

    box = [value if ctx.is_main else None]
    dist.broadcast_object_list(box, src=0, device=ctx.comm_device if ctx.backend == "nccl" else None)
    return box[0]


def gather(ctx: DistContext, value: Any) -> list[Any]:
    """Every rank's ``value``, in rank order, on every rank."""
    import torch.distributed as dist

    out: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, value)
    return out


def gather_state(ctx: DistContext, state: Sequence[Tensor]) -> list[Tensor]:
    """Each recurrent state tensor (layers, batch, hidden) of all ranks, joined along
    the batch: the state of all ``world_size * batch`` streams, on the CPU."""
    import torch.distributed as dist

    joined = []
    for s in state:
        parts = [torch.empty_like(s) for _ in range(ctx.world_size)]
        dist.all_gather(parts, s.contiguous())
        joined.append(torch.cat([p.cpu() for p in parts], dim=1))  # (layers, world * batch, hidden)
    return joined


def share_ids(ctx: DistContext, ids: np.ndarray | None, path: Path | None, length: int, dtype: str) -> np.ndarray:
    """The training ids on every rank: rank 0's array; the others map ``path`` when
    they can read it whole (a shared or local work folder), or receive the ids over
    the process group into a private temporary file (another machine's folder)."""
    import torch.distributed as dist

    dtype_np = np.dtype(dtype)
    readable = False
    if not ctx.is_main and path is not None:
        try:
            readable = path.is_file() and np.load(path, mmap_mode="r").shape[0] >= length
        except (OSError, ValueError):
            readable = False
    lacking = gather(ctx, (not ctx.is_main) and not readable)
    if not any(lacking):
        return ids if ctx.is_main else np.load(path, mmap_mode="r")[:length]
    if ctx.is_main:
        for start in range(0, length, CHUNK_IDS):
            chunk = torch.from_numpy(np.asarray(ids[start : start + CHUNK_IDS], dtype=np.int64)).to(ctx.comm_device)
            dist.broadcast(chunk, src=0)
        return ids
    if readable:  # others lack it: take part in the broadcast, keep the mapped file
        for start in range(0, length, CHUNK_IDS):
            dist.broadcast(torch.empty(min(CHUNK_IDS, length - start), dtype=torch.int64, device=ctx.comm_device), src=0)
        return np.load(path, mmap_mode="r")[:length]
    handle = tempfile.NamedTemporaryFile(prefix="keyboard-train-ids-", suffix=".bin")  # gone at exit
    out = np.memmap(handle.name, dtype=dtype_np, mode="w+", shape=(length,))
    for start in range(0, length, CHUNK_IDS):
        chunk = torch.empty(min(CHUNK_IDS, length - start), dtype=torch.int64, device=ctx.comm_device)
        dist.broadcast(chunk, src=0)
        out[start : start + len(chunk)] = chunk.cpu().numpy()
    out.flush()
    out._keyboard_handle = handle  # type: ignore[attr-defined]  # the file lives as long as the map
    return out


# -- the step: one module DDP can wrap ----------------------------------------------

def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The reduced precision the forward pass runs in, or None for float32.

    ``precision`` "auto": bfloat16 on a CUDA device that supports it, float32
    elsewhere (CPU runs stay exactly as before).  Untested on a GPU here.
    """
    if precision == "fp32" or device.type != "cuda":
        return None
    if precision in ("auto", "bf16") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    if precision == "bf16":
        raise ValueError("--precision bf16 was asked for but this GPU does not support bfloat16")
    return None


class StepLoss(nn.Module):
    """The training loss of one batch as a module's ``forward`` (what DDP hooks):
    ``(x, state, y) -> (loss, new state)``.  The weights are the model's own."""

    def __init__(self, model: nn.Module, sampled=None, amp_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.model = model
        self.sampled = sampled  # a SampledSoftmax (not a module) or None: the full softmax
        self.amp_dtype = amp_dtype

    def forward(self, x: Tensor, state, y: Tensor):
        from .losses import full_softmax_loss

        amp = (torch.autocast(device_type=x.device.type, dtype=self.amp_dtype)
               if self.amp_dtype is not None else nullcontext())
        with amp:
            feats, state = self.model.features(x, state)  # (batch, time, output_dim)
            feats = feats.reshape(-1, feats.shape[-1])  # (batch * time, output_dim)
            targets = y.reshape(-1)  # (batch * time,)
            weight, bias = self.model.decoder.weight, self.model.decoder.bias  # (vocab, dim), (vocab,)
            if self.sampled is not None:
                loss = self.sampled(feats, targets, weight, bias)
            else:
                loss = full_softmax_loss(feats, targets, weight, bias)
        return loss.float(), state


def wrap(step: StepLoss, ctx: DistContext) -> nn.Module:
    """``step`` inside DistributedDataParallel (rank 0's weights broadcast to all)."""
    from torch.nn.parallel import DistributedDataParallel

    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(step, device_ids=ids)  # the step has no buffers to sync


# -- --nproc: torchrun on this machine ----------------------------------------------

def without_nproc(argv: Sequence[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--nproc":
            skip = True
            continue
        if arg.startswith("--nproc="):
            continue
        out.append(arg)
    return out


def launch_local(nproc: int, argv: Sequence[str], threads: int) -> int:
    """Run ``keyboard-train ARGV`` as ``nproc`` processes under torchrun on this
    machine; the exit code is rank 0's.  A SIGINT or SIGTERM here is passed on
    once (torchrun hands it to every worker, which checkpoint and stop)."""
    status = tempfile.NamedTemporaryFile(prefix="keyboard-train-status-", delete=False)
    status.close()
    env = dict(os.environ)
    env[STATUS_ENV] = status.name
    if threads == 0:  # split the cores: each process its share, no oversubscription
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "model_training.cli", *without_nproc(argv)]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)  # our signals reach it once, from us

    def forward(signum, frame):  # noqa: ARG001
        # To the workers themselves: they agree on the stop, checkpoint and exit 0, and
        # torchrun ends quietly (told itself, it prints a traceback of its own).
        targets = _children(proc.pid) or [proc.pid]
        for pid in targets:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    try:
        text = Path(status.name).read_text().strip()
        if text:
            return int(text)
        return code if code >= 0 else 128 - code
    except (OSError, ValueError):
        return code if code >= 0 else 128 - code
    finally:
        try:
            os.unlink(status.name)
        except OSError:
            pass


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc; empty elsewhere)."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def report_exit(ctx: DistContext | None, code: int, agreed: bool) -> int:
    """The exit code of this rank.  Under ``--nproc``, rank 0 writes its code for the
    launcher, and an outcome every rank agreed on (a stop, rank 0's failure to
    prepare the data, a success) exits 0 so torchrun does not report a crash;
    under plain torchrun the codes are the usual ones."""
    path = os.environ.get(STATUS_ENV)
    if ctx is None or not path:
        return code
    if ctx.is_main:
        try:
            Path(path).write_text(str(code))
        except OSError:
            return code
    return 0 if agreed else code
