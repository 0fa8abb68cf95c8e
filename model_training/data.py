"""Token ids in compact arrays (pass 2 over the text), and the batches cut from them.

Ids are stored as uint16 (vocabularies up to 65,536) or uint32, in memory
for small corpora and in a memory map in the work folder for big ones, so
a corpus larger than memory still trains.  The map's disk space is reserved
before anything is written to it: a full disk is then an ``OSError`` naming
the work folder, not a SIGBUS in the middle of a write.  ``Batches`` lays the training
ids out as ``batch_size`` parallel streams and cuts them into ``bptt``-long
windows; a batch is addressed by its index, which is the data position a
checkpoint records.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from keyboard_app.engine.tokenizer import Tokenizer
from keyboard_app.engine.vocab import Vocabulary

from .corpus import CorpusError, CorpusFile, ReadStats, Split, read_lines, training_tokens

log = logging.getLogger(__name__)

MEMMAP_MIN_TOKENS = 20_000_000  # below this the ids simply live in memory
TRAIN_IDS_FILE = "train_ids.npy"  # in the work folder, for big corpora
HELDOUT_IDS_FILE = "heldout_ids.npy"


@dataclass
class EncodedCorpus:
    train: np.ndarray  # (train_tokens,) uint16/uint32, maybe a memmap
    heldout: np.ndarray  # (heldout_tokens,)
    heldout_texts: list[str]  # the held-out text of each file (for the engine's KSR)


def id_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 1 << 16 else np.dtype(np.uint32)


def _allocate(n: int, dtype: np.dtype, path: Path | None, always_map: bool = False) -> np.ndarray:
    if path is None or (n < MEMMAP_MIN_TOKENS and not always_map):
        return np.empty(n, dtype)
    size = n * dtype.itemsize
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (n,)}
            np.lib.format.write_array_header_1_0(f, header)
            f.flush()
            offset = f.tell()
            # A memory map over a sparse file dies of SIGBUS when the disk fills up
            # under it: claim every block now, while a full disk is a plain error.
            _reserve(f.fileno(), offset, size)
    except OSError as e:
        path.unlink(missing_ok=True)
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        free = shutil.disk_usage(path.parent).free
        raise OSError(
            e.errno, f"no space left on the device for the encoded corpus ({size / 1e6:.1f} MB "
            f"needed, {free / 1e6:.1f} MB free): free some space or choose another folder with "
            "--work-dir", str(path.parent),
        ) from e
    return _IdFile(path, offset, n, dtype)


class _IdFile:
    """The encoded ids on their way to the work folder's file, written at their offsets
    with plain writes: the pages written stay in the page cache, never in this
    process's resident memory as a memory map's would (data preparation's memory
    does not grow with the corpus).  ``finish()`` maps the file for training."""

    def __init__(self, path: Path, offset: int, n: int, dtype: np.dtype) -> None:
        self.path, self.offset, self.n, self.dtype = path, offset, n, dtype
        self.file = open(path, "r+b")

    def __len__(self) -> int:
        return self.n

    def __setitem__(self, key: slice, values) -> None:
        start, stop = key.start or 0, key.stop
        values = np.asarray(values, self.dtype)
        if stop > self.n or len(values) != stop - start:  # as numpy: a slot too small
            raise ValueError(f"{len(values)} ids do not fit positions {start}..{min(stop, self.n)}")
        self.file.seek(self.offset + start * self.dtype.itemsize)
        self.file.write(values.tobytes())

    def close(self) -> None:
        self.file.close()

    def finish(self) -> np.memmap:
        if not self.file.closed:
            self.file.flush()
            self.close()
        return np.memmap(self.path, dtype=self.dtype, mode="r+", offset=self.offset, shape=(self.n,))


def _reserve(fd: int, offset: int, length: int) -> None:
    """Allocate ``length`` bytes at ``offset`` on the disk (zeros), or raise ``OSError``."""
    if hasattr(os, "posix_fallocate"):
        try:
            os.posix_fallocate(fd, offset, length)
            return
        except OSError as e:  # a file system without it: write the zeros instead
            if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
    os.lseek(fd, offset, os.SEEK_SET)
    zeros = bytes(1 << 20)
    left = length
    while left > 0:
        left -= os.write(fd, zeros[: min(left, len(zeros))])


def encode_corpus(
    files: list[CorpusFile],
    splits: dict[Path, Split],
    vocab: Vocabulary,
    tokenizer: Tokenizer,
    *,
    train_tokens: int,
    heldout_tokens: int,
    work_dir: Path | None = None,
    heldout_text_bytes: int = 2_000_000,
    progress=None,
    map_ids: bool = False,
) -> EncodedCorpus:
    """Pass 2: every token's id, training and held-out parts in separate arrays.

    The token totals come from pass 1 (``vocabulary.count_corpus_tokens``).  ``map_ids``:
    the training ids go to the work folder's file whatever their number (under
    torchrun the other ranks map it).
    """
    dtype = id_dtype(len(vocab))
    train = _allocate(train_tokens, dtype, work_dir and work_dir / TRAIN_IDS_FILE, map_ids)
    heldout = _allocate(heldout_tokens, dtype, work_dir and work_dir / HELDOUT_IDS_FILE)
    index, unk = {t: i for i, t in enumerate(vocab.tokens)}, vocab.unk_id
    texts: list[str] = []
    text_budget = heldout_text_bytes
    pos_t = pos_h = 0
    buffer = np.empty(1 << 16, dtype)
    done = 0
    try:
        for file in files:
            try:
                pos_t, pos_h, text_budget = _encode_file(
                    file, splits[file.path], train, heldout, pos_t, pos_h, texts, text_budget, buffer,
                    index, unk, tokenizer)
            except ValueError as e:  # more tokens than the first pass counted: the file grew
                raise CorpusError(f"{file.path}: the file changed while it was being read; run again "
                                  "once it is saved.") from e
            if _size_now(file.path) != file.size:  # (each pass reads the bytes the split was made for)
                raise CorpusError(f"{file.path}: the file changed while it was being read; run again "
                                  "once it is saved.")
            done += file.size
            if progress is not None:
                progress(done)
    finally:
        for part in (train, heldout):
            if isinstance(part, _IdFile) and not part.file.closed:
                part.file.flush()
                part.close()
    train = train.finish() if isinstance(train, _IdFile) else train
    heldout = heldout.finish() if isinstance(heldout, _IdFile) else heldout
    if pos_t != train_tokens or pos_h != heldout_tokens:
        raise CorpusError("the corpus changed while it was being read (a file grew or shrank between "
                          "the two passes over it); run again once it is saved.")
    if isinstance(train, np.memmap):
        train.flush()
    return EncodedCorpus(train, heldout, texts)


def _encode_file(file, split, train, heldout, pos_t, pos_h, texts, text_budget, buffer, index, unk, tokenizer):
    """One file's training part into ``train`` and held-out part into ``heldout`` from the
    given positions; the new positions and what is left of the held-out text budget.
    A file that grew since it was counted overflows its slot: numpy's ``ValueError``."""
    stats = ReadStats()
    ids: list[int] = []
    for token in training_tokens(file, split, tokenizer, stats):
        ids.append(index.get(token.token, unk))
        if len(ids) == len(buffer):
            train[pos_t : pos_t + len(ids)] = ids
            pos_t += len(ids)
            ids.clear()
    train[pos_t : pos_t + len(ids)] = ids
    pos_t += len(ids)
    if split.stop > split.start:
        lines = list(read_lines(file.path, stats, split.start, split.stop, encoding=file.encoding))
        held = [index.get(t.token, unk) for t in tokenizer.iter_stream(lines)]
        heldout[pos_h : pos_h + len(held)] = held
        pos_h += len(held)
        text = "".join(lines)
        if text_budget > 0 and text.strip():
            texts.append(text[:text_budget])
            text_budget -= len(text)
    return pos_t, pos_h, text_budget


def _size_now(path: Path) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def phrase_ids(
    files: list[CorpusFile], splits: dict[Path, Split], index: dict[str, int], unk: int, tokenizer: Tokenizer,
    progress=None,
) -> np.ndarray:
    """The training part's ids for the phrase tables, ``index`` mapping each token
    (``engine.phrases.phrase_index``: vocabulary and lexicon), ``unk`` the rest;
    ``progress(bytes_done)`` after each file."""
    chunks, ids = [], []
    done = 0
    for file in files:
        for token in training_tokens(file, splits[file.path], tokenizer, ReadStats()):
            ids.append(index.get(token.token, unk))
            if len(ids) >= 1 << 20:
                chunks.append(np.array(ids, np.int64))
                ids = []
        done += file.size
        if progress is not None:
            progress(done)
    chunks.append(np.array(ids, np.int64))
    return np.concatenate(chunks)


class Batches:
    """``batch_size`` parallel streams over ``ids``, cut into ``bptt`` windows.

    Batch ``i`` is ``(x, y)``, both (batch, bptt) int64, with ``y`` the ids
    one position later: the state at the end of batch ``i`` is the right
    start for batch ``i + 1``.
    """

    def __init__(self, ids: np.ndarray, batch_size: int, bptt: int, rank: int = 0, world_size: int = 1) -> None:
        self.bptt = bptt
        # Under torchrun: world_size * batch_size streams, rank r trains on B of them.
        per_stream = (len(ids) - 1) // (batch_size * world_size)
        if per_stream < 2:
            raise ValueError("too few tokens for one batch")
        self.streams = ids[: per_stream * batch_size * world_size + 1]
        self.batch_size = batch_size
        self.world_size = world_size
        self.first_stream = rank * batch_size
        self.per_stream = per_stream
        self.num_batches = (per_stream + bptt - 1) // bptt
        self.on_device: torch.Tensor | None = None  # this rank's streams, see to_device

    def __len__(self) -> int:
        return self.num_batches

    @property
    def tokens(self) -> int:
        """Training tokens of one epoch, all processes together."""
        return self.per_stream * self.batch_size * self.world_size

    def batch_tokens(self, i: int) -> int:
        return self.batch_size * self.world_size * (min(self.bptt, self.per_stream - i * self.bptt))

    def to_device(self, device: torch.device, max_fraction: float = 0.25) -> bool:
        """Keep this rank's streams on ``device`` (a GPU) as int32, so a batch is cut
        there without a copy from the host; only when they take under ``max_fraction``
        of its free memory.  True when done.  (Untested on a GPU here.)"""
        if device.type != "cuda":
            return False
        share = self.share()
        free, _ = torch.cuda.mem_get_info(device)
        if share.size * 4 > max_fraction * free:
            return False
        self.on_device = torch.from_numpy(share.astype(np.int32)).to(device)
        return True

    def share(self) -> np.ndarray:
        """This rank's streams, one after another (what ``to_device`` moves)."""
        first = self.first_stream * self.per_stream
        return np.asarray(self.streams[first : first + self.batch_size * self.per_stream + 1])

    def get(self, i: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        start = i * self.bptt
        length = min(self.bptt, self.per_stream - start)
        # Stream s covers ids[s * per_stream : (s + 1) * per_stream + 1].
        if self.on_device is not None:  # this rank's streams, already on the GPU
            offsets = torch.arange(self.batch_size, device=self.on_device.device)[:, None] * self.per_stream + start
            window_d = self.on_device[offsets + torch.arange(length + 1, device=offsets.device)].long()
            return window_d[:, :-1], window_d[:, 1:]  # (batch, length) each
        offsets = (self.first_stream + np.arange(self.batch_size))[:, None] * self.per_stream + start  # (batch, 1)
        window = np.asarray(self.streams[offsets + np.arange(length + 1)], dtype=np.int64)
        window_t = torch.from_numpy(window)  # (batch, length + 1)
        x = window_t[:, :-1].to(device, non_blocking=True)  # (batch, length)
        y = window_t[:, 1:].to(device, non_blocking=True)  # (batch, length)
        return x, y

