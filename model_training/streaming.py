"""Data preparation in bounded memory: counts made in shards, spilled to disk, merged.

Two things grow with the corpus when they are counted in one piece: the
vocabulary count (one entry per distinct word: a web crawl has tens of
millions) and the phrase tables' raw counts (every word pair and triple, about
1 GB per 20M tokens counted at once).  Both are counted here in shards that fit
a memory ceiling (``TrainConfig.prep_memory_gb``, 2 GB by default), each shard
sorted and written to a spill folder, then merged from disk in sorted order,
block by block, so that peak memory stays under the ceiling whatever the corpus
size.  The results are exactly those of counting in one piece (tests compare).

What the ceiling does not cover is what the run keeps by design: the
vocabulary and lexicon chosen, a model being fine-tuned, and the held-out text
(at most 1.5 MB).  The encoded ids go to a file in the work folder (``data``),
and so do the phrase tables kept after their pruning (``SpilledPhrases``: tens
of millions of entries for a large corpus), which are read back chunk by chunk,
with plain reads, when the bundle's ``phrases.npz`` is written: neither is ever
whole in this process's memory.  (Memory maps would not do: the pages of a map,
once read, count in the process's resident memory until the map goes.)

The budget is split: a quarter for a shard of the phrase counts (about 64 bytes
a token while ``np.unique`` sorts it), a quarter for the merge's blocks (about 96
bytes a merged entry with the pruning), half for the vocabulary count (about 400
bytes a distinct word in Python dicts).
"""

from __future__ import annotations

import heapq
import io
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import numpy as np

from keyboard_app.engine.phrases import (
    LEXICON_SHARE, ORDERS, PHRASES_FORMAT, PHRASES_FORMAT_VERSION,
    RARE_CONTEXT, Phrases, PhraseTable, _renumbered, aligned_member, ngram_codes,
)
from keyboard_app.engine.tokenizer import Tokenizer

from .corpus import CorpusFile, ReadStats, training_tokens

log = logging.getLogger(__name__)

GB = 1 << 30
PHRASE_BYTES_PER_TOKEN = 64  # a shard's ids, codes, mask and np.unique's sort, together
# A merged chunk's entries (codes and counts), np.unique's sort of them and the pruning's
# arrays, together: more than a shard's token, so the merge's blocks are sized by it.
MERGE_BYTES_PER_ENTRY = 96
WORD_ENTRY_BYTES = 400  # one distinct word in the count's three dicts (strings included)
DEFAULT_PREP_MEMORY_GB = 2.0


def shard_tokens(memory_bytes: int) -> int:
    """Tokens of one phrase-count shard under ``memory_bytes`` in all."""
    return max(4096, int(memory_bytes * 0.25 / PHRASE_BYTES_PER_TOKEN))


def max_word_types(memory_bytes: int) -> int:
    """Distinct words counted in memory before a spill, under ``memory_bytes`` in all."""
    return max(1000, int(memory_bytes * 0.5 / WORD_ENTRY_BYTES))


class SpillFolder:
    """A private folder for spilled shards, removed with everything in it at the end."""

    def __init__(self, parent: Path | None) -> None:
        if parent is not None:
            Path(parent).mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=".spill-", dir=parent))
        self.count = 0

    def new(self, suffix: str) -> Path:
        self.count += 1
        return self.path / f"{self.count:06d}{suffix}"

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> "SpillFolder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def save_array(path: Path, array: np.ndarray) -> None:
    """``np.save`` with the array's bytes written by Python's own file, so that a full
    disk is an ``OSError`` with its errno (ENOSPC) and file name, which the trainer says
    in one sentence: numpy's ``tofile`` raises one with neither ("70962 requested and
    59888 written")."""
    array = np.ascontiguousarray(array)
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, np.lib.format.header_data_from_array_1_0(array))
        f.write(memoryview(array).cast("B"))


# -- the phrase tables ---------------------------------------------------------------

def _stream_ids(files: list[CorpusFile], splits, index: dict[str, int], unk: int, tokenizer: Tokenizer,
                size: int, progress=None) -> Iterator[np.ndarray]:
    """The training part's phrase ids (``data.phrase_ids``'s stream) in arrays of ``size``;
    ``progress(bytes_done)`` after each file."""
    out = np.empty(size, np.int64)
    n = 0
    pending: list[int] = []

    def flush():
        nonlocal out, n
        while pending:
            take = min(len(pending), size - n)
            out[n : n + take] = pending[:take]
            del pending[:take]
            n += take
            if n == size:
                yield out
                out, n = np.empty(size, np.int64), 0

    done = 0
    for file in files:
        for token in training_tokens(file, splits[file.path], tokenizer, ReadStats()):
            pending.append(index.get(token.token, unk))
            if len(pending) >= 8192:
                yield from flush()
        done += file.size
        if progress is not None:
            progress(done)
    yield from flush()
    if n:
        yield out[:n]


_shard_codes = ngram_codes  # the n-grams of one shard, as the in-memory path counts them


def count_phrase_runs(files, splits, index: dict[str, int], unk: int, tokenizer: Tokenizer, space: int,
                      spill: SpillFolder, memory_bytes: int, progress=None) -> dict[int, list[tuple[Path, Path]]]:
    """Count every pair and triple of the training text in shards; each shard's sorted
    (codes, counts) per order is written to ``spill``.  The n-grams that cross a shard
    boundary are counted once, in the shard where they end."""
    runs: dict[int, list[tuple[Path, Path]]] = {order: [] for order in ORDERS}
    keep = max(ORDERS) - 1
    tail = np.empty(0, np.int64)  # the last ids of the previous shard
    for shard in _stream_ids(files, splits, index, unk, tokenizer, shard_tokens(memory_bytes), progress):
        ids = np.concatenate([tail, shard])
        for order in ORDERS:
            first = max(0, len(tail) - (order - 1))  # n-grams ending in this shard only
            codes, counts = _shard_codes(ids[first:], order, space, unk)
            if len(codes):
                paths = spill.new(f"-{order}-codes.npy"), spill.new(f"-{order}-counts.npy")
                save_array(paths[0], codes)
                save_array(paths[1], counts)
                runs[order].append(paths)
            del codes, counts
        tail = ids[-keep:].copy()
        del ids
    return runs


def merge_runs(runs: list[tuple[np.ndarray, np.ndarray]], space: int, block_entries: int
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Sorted (codes, counts) runs merged, counts of equal codes added, as chunks in
    increasing order; each chunk holds whole contexts (``code // space``), so a
    context's total can be taken chunk by chunk."""
    pos = [0] * len(runs)
    block = max(1, block_entries)
    while True:
        bound = None
        for (codes, _), p in zip(runs, pos):
            end = p + block
            if end < len(codes):  # this run goes on past its block: the merge may go no further
                last = int(codes[end - 1])
                bound = last if bound is None else min(bound, last)
        limit = None if bound is None else (bound // space) * space  # whole contexts only
        taken_codes, taken_counts = [], []
        for i, (codes, counts) in enumerate(runs):
            p = pos[i]
            if p >= len(codes):
                continue
            window = np.asarray(codes[p : p + block])
            k = len(window) if limit is None else int(np.searchsorted(window, limit, side="left"))
            if k:
                taken_codes.append(window[:k])
                taken_counts.append(np.asarray(counts[p : p + k]))
                pos[i] = p + k
        if not taken_codes:
            if limit is None:
                return  # every run is done
            block *= 2  # one context fills a whole block: look further
            continue
        merged, inverse = np.unique(np.concatenate(taken_codes), return_inverse=True)
        summed = np.bincount(inverse, weights=np.concatenate(taken_counts)).astype(np.int64)
        del taken_codes, taken_counts, inverse
        yield merged, summed
        del merged, summed  # before the next chunk is gathered: two would be alive at once


def _prune_chunk(codes, counts, space, vocab_size, rare_context, extra_keys, extra_totals):
    """One chunk of merged counts (whole contexts) -> the kept entries and their contexts,
    with ``engine.phrases.build_phrases``'s rule."""
    context_keys, context_of = np.unique(codes // space, return_inverse=True)
    totals = np.bincount(context_of, weights=counts, minlength=len(context_keys)).astype(np.int64)
    if extra_keys is not None and len(extra_keys):  # the base's totals beyond its kept followers
        where = np.searchsorted(extra_keys, context_keys)
        where = np.minimum(where, len(extra_keys) - 1)
        hit = extra_keys[where] == context_keys
        totals[hit] += extra_totals[where[hit]]
    keep = (counts >= 2) | (totals[context_of] < rare_context)
    keep &= (codes % space < vocab_size) | (counts >= LEXICON_SHARE * totals[context_of])
    codes, counts, context_of = codes[keep], counts[keep], context_of[keep]
    used, followers = np.unique(context_of, return_counts=True)
    return codes, counts, context_keys[used], totals[used], followers


def merged_table(order: int, runs, space: int, vocab_size: int, block_entries: int,
                 base_codes=None, base_counts=None, extra_keys=None, extra_totals=None,
                 rare_context: int = RARE_CONTEXT, *, out: SpillFolder) -> "SpilledTable | None":
    """One order's table from the spilled runs (plus a base table's entries), its kept
    entries written chunk by chunk to files in ``out``: the tables a large corpus keeps
    (tens of millions of entries) never sit in this process's memory."""
    loaded = [(_RunFile(c), _RunFile(n)) for c, n in runs]
    if base_codes is not None and len(base_codes):
        loaded.append((base_codes, base_counts))
    sink = _TableSink(order, out)
    for codes, counts in merge_runs(loaded, space, block_entries):
        kept, kept_counts, contexts, totals, followers = _prune_chunk(
            codes, counts, space, vocab_size, rare_context, extra_keys, extra_totals)
        del codes, counts
        sink.add_contexts(contexts, totals, followers, kept % space, kept_counts)
        del kept, kept_counts, contexts, totals, followers  # gone before the next chunk is merged
    return sink.finish_kept()


class _RunFile:
    """A spilled run (a .npy file) read block by block with plain reads: a memory map's
    pages, once read, would count in this process's resident memory until the end."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(f)
            self.offset = f.tell()
        self.path, self.dtype, self.n = path, np.dtype(dtype), int(shape[0])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop = max(0, key.start or 0), min(self.n, self.n if key.stop is None else key.stop)
            count = max(0, stop - start)
        else:
            start, count = int(key), 1
        with open(self.path, "rb") as f:
            f.seek(self.offset + start * self.dtype.itemsize)
            values = np.fromfile(f, dtype=self.dtype, count=count)
        return values if isinstance(key, slice) else values[0]


class _TableSink:
    """A table's arrays built chunk by chunk, appended to files in a spill folder."""

    def __init__(self, order: int, out: SpillFolder) -> None:
        self.order = order
        self.paths = {name: out.new(f"-{order}-{name}.bin") for name in TABLE_ARRAYS}
        self.files = {name: open(path, "wb") for name, path in self.paths.items()}
        self.lengths = dict.fromkeys(TABLE_ARRAYS, 0)
        self.maxima = dict.fromkeys(TABLE_ARRAYS, 0)

    def add(self, name: str, array: np.ndarray) -> None:
        array = np.ascontiguousarray(array, dtype=np.int64)
        if len(array):
            self.lengths[name] += len(array)
            self.maxima[name] = max(self.maxima[name], int(array.max()))
            self.files[name].write(array.tobytes())

    def add_contexts(self, contexts, totals, followers, next_ids, counts) -> None:
        """Whole contexts and their followers, after those added so far: ``starts``
        (from 0, running on) is made from the followers' numbers."""
        if not len(next_ids):
            return
        if not self.lengths["starts"]:
            self.add("starts", np.zeros(1, np.int64))
        offset = self.lengths["next_ids"]
        self.add("contexts", contexts)
        self.add("totals", totals)
        self.add("starts", offset + np.cumsum(followers))
        self.add("next_ids", next_ids)
        self.add("counts", counts)

    def finish(self) -> "SpilledTable":
        for f in self.files.values():
            f.close()
        return SpilledTable(self.order, self.paths, self.lengths, self.maxima)

    def finish_kept(self) -> "SpilledTable | None":
        """``finish``, or None (its files closed) when no entry was added."""
        table = self.finish()
        if not len(table):
            table.close()
            return None
        return table


TABLE_ARRAYS = ("contexts", "totals", "starts", "next_ids", "counts")  # ``PhraseTable``'s, as int64
CHUNK_ENTRIES = 1 << 20  # read back and written into a bundle this many at a time (8 MB an array)


class SpilledTable:
    """One order's kept entries: ``PhraseTable``'s five arrays in files (int64), read
    back chunk by chunk with plain reads.  The files are open from the start, so where
    the system allows it (Linux, macOS) they can leave the disk's folder at once and
    go with the last handle, even if the process is killed."""

    def __init__(self, order: int, paths: dict[str, Path], lengths: dict[str, int],
                 maxima: dict[str, int]) -> None:
        self.order = order
        self.paths, self.lengths, self.maxima = dict(paths), dict(lengths), dict(maxima)
        self._files = {name: open(path, "rb") for name, path in self.paths.items()}

    def __len__(self) -> int:
        return self.lengths["next_ids"]

    def chunks(self, name: str, size: int | None = None) -> Iterator[np.ndarray]:
        """The array ``name`` in pieces of at most ``size`` (``CHUNK_ENTRIES``) entries."""
        f, n = self._files[name], self.lengths[name]
        size = size or CHUNK_ENTRIES
        for start in range(0, n, size):
            f.seek(start * 8)
            yield np.fromfile(f, np.int64, min(size, n - start))

    def read(self, name: str, start: int, stop: int) -> np.ndarray:
        """Entries ``start:stop`` of the array ``name``."""
        f = self._files[name]
        stop = min(stop, self.lengths[name])
        if stop <= start:
            return np.zeros(0, np.int64)
        f.seek(start * 8)
        return np.fromfile(f, np.int64, stop - start)

    def array(self, name: str) -> np.ndarray:
        """The whole array in memory (small tables, tests)."""
        parts = list(self.chunks(name))
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def to_table(self) -> PhraseTable:
        return PhraseTable(self.order, *(self.array(name) for name in TABLE_ARRAYS))

    def close(self) -> None:
        for f in self._files.values():
            f.close()


class SpilledPhrases:
    """The phrase tables ``stream_phrases`` built, in files: what ``engine.phrases.Phrases``
    holds, for a training run that only writes them into a bundle.  ``save`` writes the
    bytes ``Phrases.save`` would, chunk by chunk (tests compare), so that a large
    corpus's tables never sit in memory on their way to the bundle; ``to_phrases``
    reads them whole into a ``Phrases`` for small tables and tests."""

    def __init__(self, vocab_size: int, lexicon_size: int, tables: dict[int, SpilledTable], unk_id: int,
                 folder: Path | None = None) -> None:
        self.vocab_size, self.lexicon_size, self.unk_id = vocab_size, lexicon_size, unk_id
        self.id_space = vocab_size + lexicon_size
        self.tables = tables
        self.folder = folder  # removed by ``close`` (None: the files are someone else's)

    def __len__(self) -> int:
        return sum(len(t) for t in self.tables.values())

    def to_phrases(self) -> Phrases:
        return Phrases(self.vocab_size, self.lexicon_size,
                       {order: t.to_table() for order, t in self.tables.items()}, self.unk_id)

    def _members(self) -> dict[str, tuple[np.dtype, int, Callable[[], Iterator[np.ndarray]]]]:
        """The arrays of ``phrases.npz``: name -> (type, length, their chunks)."""
        members: dict[str, tuple[np.dtype, int, Callable[[], Iterator[np.ndarray]]]] = {}
        id_type = np.dtype(np.uint16 if self.id_space <= 1 << 16 else np.uint32)
        compact = lambda t, name: np.dtype(np.uint32 if t.maxima[name] < 1 << 32 else np.int64)  # noqa: E731
        for order, t in self.tables.items():
            members[f"context_{order}"] = (np.dtype(np.int64), t.lengths["contexts"],
                                           lambda t=t: t.chunks("contexts"))
            members[f"total_{order}"] = (compact(t, "totals"), t.lengths["totals"], lambda t=t: t.chunks("totals"))
            members[f"followers_{order}"] = (np.dtype(np.uint32), t.lengths["starts"] - 1,
                                             lambda t=t: _differences(t.chunks("starts")))
            members[f"next_{order}"] = (id_type, len(t), lambda t=t: t.chunks("next_ids"))
            members[f"count_{order}"] = (compact(t, "counts"), len(t), lambda t=t: t.chunks("counts"))
        return members

    def file_bytes(self) -> int:
        """About what ``save`` writes: the arrays' bytes, and room for the headers and scalars."""
        return sum(n * dtype.itemsize + 512 for dtype, n, _ in self._members().values()) + 4096

    def save(self, path: Path) -> None:
        """Write ``phrases.npz`` as ``Phrases.save`` does (stored, aligned), in chunks."""
        members = self._members()
        small = {
            "format": np.array(PHRASES_FORMAT),
            "format_version": np.array(PHRASES_FORMAT_VERSION),
            "vocab_size": np.array(self.vocab_size),
            "lexicon_size": np.array(self.lexicon_size),
            "orders": np.array(sorted(self.tables), np.int64),
        }
        with open(path, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
                for name, array in small.items():
                    buffer = io.BytesIO()
                    np.lib.format.write_array(buffer, array, allow_pickle=False)
                    _write_member(archive, name, [buffer.getvalue()])
                for name, (dtype, n, chunks) in members.items():
                    header = io.BytesIO()
                    np.lib.format.write_array_header_1_0(header, {
                        "descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (n,)})
                    data = (c.astype(dtype).tobytes() for c in chunks())
                    _write_member(archive, name, [header.getvalue()], data, n * dtype.itemsize)
            f.flush()
            os.fsync(f.fileno())

    def keep(self, folder: Path) -> None:
        """Copy the tables' files into ``folder`` (``prepared``'s store), with what ``kept`` needs."""
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"vocab_size": self.vocab_size, "lexicon_size": self.lexicon_size, "unk_id": self.unk_id,
                "tables": {}}
        for order, t in self.tables.items():
            for name in TABLE_ARRAYS:  # through the open files: their folder may be gone
                with open(folder / f"{order}-{name}.bin", "wb") as dst:
                    for chunk in t.chunks(name):
                        dst.write(chunk.tobytes())
            meta["tables"][str(order)] = {"lengths": t.lengths, "maxima": t.maxima}
        with open(folder / "tables.json", "w", encoding="utf-8") as f:
            json.dump(meta, f)

    @classmethod
    def kept(cls, folder: Path) -> "SpilledPhrases":
        """The tables ``keep`` left in ``folder`` (``OSError``, ``ValueError`` or
        ``KeyError`` when they are not all there)."""
        with open(folder / "tables.json", encoding="utf-8") as f:
            meta = json.load(f)
        tables = {}
        for order_text, entry in meta["tables"].items():
            order = int(order_text)
            paths = {name: folder / f"{order}-{name}.bin" for name in TABLE_ARRAYS}
            for name, path in paths.items():
                if path.stat().st_size != 8 * entry["lengths"][name]:
                    raise ValueError(f"{path.name} is not the length its table says")
            tables[order] = SpilledTable(order, paths, entry["lengths"], entry["maxima"])
        return cls(meta["vocab_size"], meta["lexicon_size"], tables, meta["unk_id"])

    def close(self) -> None:
        for t in self.tables.values():
            t.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


# -- the tables' size: what the engine accepts -----------------------------------------

THRESHOLD_CAP = 1 << 16  # counts at or above it are one bin of the histograms below


def _entry_and_context_bytes(id_space: int, wide_totals: bool, wide_counts: bool) -> tuple[int, int]:
    """Bytes ``phrases.npz`` spends on a kept entry (its id and count) and on a kept
    context (its key, total and follower count), as ``Phrases.save`` writes them."""
    id_bytes = 2 if id_space <= 1 << 16 else 4
    return id_bytes + (8 if wide_counts else 4), 8 + (8 if wide_totals else 4) + 4


def _blocks(read, n_contexts: int, contexts_per_block: int = 1 << 18):
    """A table's contexts a block at a time: (contexts, totals, starts, next_ids,
    counts), ``starts`` relative to the block's first entry.  ``read(name, a, b)``
    gives entries ``a:b`` of one of ``TABLE_ARRAYS``."""
    for c0 in range(0, n_contexts, contexts_per_block):
        c1 = min(n_contexts, c0 + contexts_per_block)
        starts = np.asarray(read("starts", c0, c1 + 1), np.int64)
        e0, e1 = int(starts[0]), int(starts[-1])
        yield (read("contexts", c0, c1), read("totals", c0, c1), starts - e0,
               read("next_ids", e0, e1), np.asarray(read("counts", e0, e1), np.int64))


def _reader(table) -> tuple[Callable[[str, int, int], np.ndarray], int]:
    """``_blocks``'s ``read`` for a ``SpilledTable`` or an in-memory ``PhraseTable``."""
    if isinstance(table, SpilledTable):
        return table.read, table.lengths["contexts"]
    return (lambda name, a, b: getattr(table, name)[a:b]), len(table.contexts)


def _histograms(table) -> tuple[np.ndarray, np.ndarray]:
    """How many entries have each count, and how many contexts have each largest
    follower count (a context stays while one follower does): counts from
    ``THRESHOLD_CAP`` on share the last bin."""
    entries = np.zeros(THRESHOLD_CAP + 1, np.int64)
    contexts = np.zeros(THRESHOLD_CAP + 1, np.int64)
    read, n = _reader(table)
    for _, _, starts, _, counts in _blocks(read, n):
        if not len(counts):
            continue
        entries += np.bincount(np.minimum(counts, THRESHOLD_CAP), minlength=THRESHOLD_CAP + 1)
        largest = np.maximum.reduceat(counts, starts[:-1])
        contexts += np.bincount(np.minimum(largest, THRESHOLD_CAP), minlength=THRESHOLD_CAP + 1)
    return entries, contexts


class Cut(NamedTuple):
    """How tables are cut to fit (``fitting_cut``): every follower seen ``min_count``
    times or more is kept, and of those seen ``min_count - 1`` times, the first in
    the tables' order (pairs, then triples; contexts by key) while their bytes fit
    in ``spare``."""

    min_count: int
    spare: int


def _widths(table, id_space: int) -> tuple[int, int]:
    """``_entry_and_context_bytes`` for ``table`` as ``Phrases.save`` will write it."""
    if isinstance(table, SpilledTable):
        wide_totals, wide_counts = table.maxima["totals"] >= 1 << 32, table.maxima["counts"] >= 1 << 32
    else:
        wide_totals = len(table.totals) and int(table.totals.max()) >= 1 << 32
        wide_counts = len(table.counts) and int(table.counts.max()) >= 1 << 32
    return _entry_and_context_bytes(id_space, bool(wide_totals), bool(wide_counts))


def fitting_cut(tables: dict, id_space: int, max_bytes: int) -> Cut:
    """How to cut the tables so that their arrays fit in ``max_bytes``
    (``Cut(1, ...)``: they fit as they are).  The rarest evidence goes first: the
    smallest count N that fits when every follower seen fewer than N times goes,
    the same in every order (a pair or triple seen a few times in a corpus this
    large is what the network predicts as well on its own); the room N leaves is
    then filled with followers seen N - 1 times, so that a cut of one count (two
    thirds of a real corpus's entries are seen once) does not leave the tables far
    under the limit.  ``ValueError`` when not even the commonest entries fit."""
    need = np.zeros(THRESHOLD_CAP + 2, np.int64)  # need[t]: bytes kept with threshold t
    for order in sorted(tables):
        table = tables[order]
        entry_bytes, context_bytes = _widths(table, id_space)
        entries, contexts = _histograms(table)
        # kept at threshold t: the bins t and above (a reverse cumulative sum)
        need[:-1] += entry_bytes * np.cumsum(entries[::-1])[::-1] + context_bytes * np.cumsum(contexts[::-1])[::-1]
    fits = np.flatnonzero(need[1:THRESHOLD_CAP + 1] <= max_bytes)
    if not len(fits):
        raise ValueError(f"the phrase tables cannot be cut to {max_bytes / 1e6:,.2f} MB")
    min_count = int(fits[0]) + 1
    return Cut(min_count, int(max_bytes - need[min_count]))


def _pruned_blocks(table, cut: Cut, room: list[int], id_space: int):
    """The table's arrays cut by ``cut`` (nor the contexts left with no follower),
    block by block: (contexts, totals, followers, next_ids, counts).  ``room``: the
    bytes left for followers seen ``cut.min_count - 1`` times, shared by the orders
    in turn (a one-element list, spent here; -1 once one did not fit, so that what
    is kept is a prefix of the tables' order however they are split in blocks)."""
    entry_bytes, context_bytes = _widths(table, id_space)
    read, n = _reader(table)
    for contexts, totals, starts, next_ids, counts in _blocks(read, n):
        keep = counts >= cut.min_count
        owner = np.repeat(np.arange(len(contexts)), np.diff(starts))
        if cut.min_count > 1 and room[0] >= 0:
            edge = np.flatnonzero(counts == cut.min_count - 1)
            if len(edge):
                has_kept = np.bincount(owner[keep], minlength=len(contexts)) > 0
                first = np.ones(len(edge), bool)
                first[1:] = owner[edge][1:] != owner[edge][:-1]
                cost = entry_bytes + context_bytes * (first & ~has_kept[owner[edge]])
                spent = np.cumsum(cost)
                taken = int(np.searchsorted(spent, room[0], side="right"))
                keep[edge[:taken]] = True
                room[0] = -1 if taken < len(edge) else room[0] - int(spent[-1])
        followers = np.bincount(owner[keep], minlength=len(contexts))
        used = followers > 0
        yield (np.asarray(contexts)[used], np.asarray(totals)[used], followers[used],
               np.asarray(next_ids)[keep], counts[keep])


def prune_spilled(table: SpilledTable, cut: Cut, room: list[int], id_space: int,
                  out: SpillFolder) -> SpilledTable | None:
    """``table`` cut by ``cut`` (``_pruned_blocks``), in new files; None if nothing stays."""
    sink = _TableSink(table.order, out)
    for block in _pruned_blocks(table, cut, room, id_space):
        sink.add_contexts(*block)
    return sink.finish_kept()


def prune_table(table: PhraseTable, cut: Cut, room: list[int], id_space: int) -> PhraseTable | None:
    """The in-memory ``prune_spilled``."""
    parts = [p for p in _pruned_blocks(table, cut, room, id_space) if len(p[3])]
    if not parts:
        return None
    contexts, totals, followers, next_ids, counts = (np.concatenate([p[i] for p in parts]) for i in range(5))
    starts = np.zeros(len(followers) + 1, np.int64)
    np.cumsum(followers, out=starts[1:])
    return PhraseTable(table.order, contexts, totals, starts, next_ids, counts)


def fit_phrases(phrases: "Phrases | None", max_bytes: int, what: str = "phrase tables") -> "Phrases | None":
    """In-memory tables (``build_phrases``'s) cut to ``max_bytes`` as ``stream_phrases``
    cuts its own: the same cut, the same entries kept."""
    if phrases is None:
        return None
    cut = fitting_cut(phrases.tables, phrases.id_space, max_bytes)
    if cut.min_count <= 1:
        return phrases
    room = [cut.spare]
    tables = {}
    for order in sorted(phrases.tables):
        pruned = prune_table(phrases.tables[order], cut, room, phrases.id_space)
        if pruned is not None:
            tables[order] = pruned
    kept = Phrases(phrases.vocab_size, phrases.lexicon_size, tables, phrases.unk_id) if tables else None
    _say_cut(what, cut, max_bytes, len(phrases), len(kept) if kept is not None else 0)
    return kept


def _say_cut(what: str, cut: Cut, max_bytes: int, before: int, after: int) -> None:
    if after:
        edge = cut.min_count - 1
        log.warning("%s: %s of %s entries kept to fit in %.2f MB (--phrases-limit): those seen fewer "
                    "than %d times left out, and some seen %s", what, f"{after:,}", f"{before:,}",
                    max_bytes / 1e6, cut.min_count, {1: "once", 2: "twice"}.get(edge, f"{edge} times"))
    else:
        log.warning("%s: none kept: %.2f MB (--phrases-limit) holds none of their %s entries",
                    what, max_bytes / 1e6, f"{before:,}")


def _fit_spilled(tables: dict[int, SpilledTable], id_space: int, max_bytes: int,
                 out: SpillFolder, what: str) -> dict[int, SpilledTable]:
    """``fit_phrases`` for spilled tables: the cut ones in new files, the old closed."""
    if not tables:
        return tables
    cut = fitting_cut(tables, id_space, max_bytes)
    if cut.min_count <= 1:
        return tables
    room = [cut.spare]
    fitted = {}
    try:
        for order in sorted(tables):
            pruned = prune_spilled(tables[order], cut, room, id_space, out)
            if pruned is not None:
                fitted[order] = pruned
    except BaseException:
        for table in fitted.values():
            table.close()
        raise
    before = sum(len(t) for t in tables.values())
    for table in tables.values():
        table.close()
    _say_cut(what, cut, max_bytes, before, sum(len(t) for t in fitted.values()))
    return fitted


def _differences(chunks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """``np.diff`` of an array given in chunks, chunk by chunk."""
    previous = None
    for chunk in chunks:
        if previous is not None:
            yield np.diff(chunk, prepend=previous)
        elif len(chunk) > 1:
            yield np.diff(chunk)
        if len(chunk):
            previous = chunk[-1]


def _write_member(archive: zipfile.ZipFile, name: str, head: list[bytes], data: Iterator[bytes] = iter(()),
                  data_bytes: int = 0) -> None:
    """One ``.npy`` member, stored, its data at a multiple of ``ALIGN`` bytes in the file:
    ``engine.phrases.write_aligned_npz``'s layout, written piece by piece."""
    info = aligned_member(archive, name)
    info.file_size = sum(len(h) for h in head) + data_bytes
    with archive.open(info, "w") as member:
        for piece in head:
            member.write(piece)
        for piece in data:
            member.write(piece)


def _base_entries(base: Phrases, order: int, base_ids: np.ndarray, space: int, unk_id: int):
    """A base table's entries renumbered, merged and sorted; and per context its total
    beyond the counts of the entries it kept (what ``build_phrases`` adds on top)."""
    codes, counts, keys, totals = _renumbered(base.tables[order], base.id_space, base_ids, space, unk_id)
    codes, inverse = np.unique(codes, return_inverse=True)
    counts = np.bincount(inverse, weights=counts).astype(np.int64)
    keys, where = np.unique(keys, return_inverse=True)
    totals = np.bincount(where, weights=totals).astype(np.int64)
    kept = np.bincount(np.searchsorted(keys, codes // space), weights=counts, minlength=len(keys)).astype(np.int64)
    return codes, counts, keys, totals - kept


def stream_phrases(files, splits, index: dict[str, int], vocab_size: int, lexicon_size: int, unk_id: int,
                   tokenizer: Tokenizer, *, memory_bytes: int, spill_parent: Path | None,
                   base: Phrases | None = None, base_ids: np.ndarray | None = None,
                   user_tables: bool = False, max_bytes: int | None = None, progress=None,
                   ) -> tuple[SpilledPhrases | None, SpilledPhrases | None]:
    """``engine.phrases.build_phrases`` over the training text, in bounded memory.

    Returns the tables (added to ``base``'s, renumbered by ``base_ids``, when
    fine-tuning) and, when ``user_tables``, the corpus's own tables alone, in files
    (``SpilledPhrases``; ``close`` them when done).  ``max_bytes``: each set of
    tables is cut to fit a ``phrases.npz`` whose arrays take at most this many
    bytes (``fit_phrases``).  ``progress(bytes_done)``: after each file is read.
    """
    space = vocab_size + lexicon_size
    # The kept tables' files are open from the start, so they outlive their folder's
    # removal below, leaving the disk with their last handle (on Linux and macOS;
    # elsewhere the folder stays until ``SpilledPhrases.close``).
    tables_folder = SpillFolder(spill_parent)
    tables: dict[int, SpilledTable] = {}
    user: dict[int, SpilledTable] = {}
    try:
        with SpillFolder(spill_parent) as spill:
            runs = count_phrase_runs(files, splits, index, unk_id, tokenizer, space, spill, memory_bytes, progress)
            n_runs = max(1, max(len(r) for r in runs.values()) + 1)
            block = max(4096, int(memory_bytes * 0.25 / (MERGE_BYTES_PER_ENTRY * n_runs)))
            for order in ORDERS:
                extra = (None, None, None, None)
                if base is not None and order in base.tables:
                    extra = _base_entries(base, order, base_ids, space, unk_id)
                table = merged_table(order, runs[order], space, vocab_size, block, *extra, out=tables_folder)
                if table is not None:
                    tables[order] = table
                if user_tables:
                    own = merged_table(order, runs[order], space, vocab_size, block, out=tables_folder)
                    if own is not None:
                        user[order] = own
            if max_bytes is not None:
                tables = _fit_spilled(tables, space, max_bytes, tables_folder, "phrase tables")
                user = _fit_spilled(user, space, max_bytes, tables_folder, "your own phrase tables")
    except BaseException:
        for table in (*tables.values(), *user.values()):
            table.close()
        raise
    finally:
        tables_folder.close()  # the open files stay readable until they are closed
    folder = None if os.name == "posix" else tables_folder.path  # where removing it failed
    phrases = SpilledPhrases(vocab_size, lexicon_size, tables, unk_id, folder) if tables else None
    own_phrases = SpilledPhrases(vocab_size, lexicon_size, user, unk_id, folder) if user else None
    return phrases, own_phrases


# -- the vocabulary count ------------------------------------------------------------

def spill_counts(counts: Counter, non_initial: Counter, forms: dict, spill: SpillFolder) -> Path:
    """Write the counts so far, sorted by token, one token a line:
    ``token TAB count TAB non_initial [TAB form TAB n]...``; then empty them."""
    path = spill.new("-words.tsv")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for token in sorted(counts):
            fields = [token, str(counts[token]), str(non_initial.get(token, 0))]
            for form, n in (forms.get(token) or {}).items():
                fields += [form, str(n)]
            f.write("\t".join(fields) + "\n")
    counts.clear()
    non_initial.clear()
    forms.clear()
    return path


def _read_spill(path: Path) -> Iterator[tuple[str, int, int, list[tuple[str, int]]]]:
    with open(path, encoding="utf-8", newline="\n") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            pairs = [(fields[i], int(fields[i + 1])) for i in range(3, len(fields), 2)]
            yield fields[0], int(fields[1]), int(fields[2]), pairs


def merge_counts(paths: list[Path]) -> Iterator[tuple[str, int, int, dict[str, int]]]:
    """The spilled counts merged: each token once, in sorted order, its numbers added."""
    current = None
    for token, n, initial_not, pairs in heapq.merge(*(_read_spill(p) for p in paths), key=lambda r: r[0]):
        if current is not None and current[0] == token:
            current[1] += n
            current[2] += initial_not
            for form, k in pairs:
                current[3][form] = current[3].get(form, 0) + k
            continue
        if current is not None:
            yield tuple(current)  # type: ignore[misc]
        current = [token, n, initial_not, dict(pairs)]
    if current is not None:
        yield tuple(current)  # type: ignore[misc]


def keep_top(paths: list[Path], keep_words: int | None, min_count: int, lexicon_words: int):
    """Merge spilled counts and keep what the vocabulary and the lexicon can use:
    the ``keep_words`` most frequent tokens (every token seen ``min_count`` times when
    None) and the ``keep_words + lexicon_words`` most frequent suggestable ones, ties by
    token as ``vocabulary.build_vocabulary`` and ``engine.lexicon.build_lexicon`` break
    them.  Returns (counts, non_initial, forms, dropped): ``dropped`` the occurrences of
    the tokens left out (they are unknown words either way)."""
    from keyboard_app.engine.ranking import is_suggestable
    from keyboard_app.engine.tokenizer import SPECIAL_TOKENS

    special = set(SPECIAL_TOKENS)
    top: list = []  # min-heaps of ((count, reversed token), token): the best stay
    top_words: list = []
    records: dict[str, tuple[int, int, dict]] = {}
    holders: Counter = Counter()  # token -> heaps holding it
    dropped = 0

    def offer(heap: list, limit: int, key, token: str) -> int:
        """1 when ``token`` is among the ``limit`` best so far; an evicted token whose
        last heap this was is dropped."""
        nonlocal dropped
        if len(heap) < limit:
            heapq.heappush(heap, (key, token))
            return 1
        if not key > heap[0][0]:
            return 0
        evicted = heapq.heapreplace(heap, (key, token))[1]
        holders[evicted] -= 1
        if holders[evicted] <= 0:
            del holders[evicted]
            dropped += records.pop(evicted)[0]
        return 1

    for token, n, initial_not, forms in merge_counts(paths):
        if token in special:
            records[token] = (n, initial_not, forms)
            continue
        key = (n, _Reverse(token))  # the larger count first, then the smaller token
        held = 0
        if keep_words is None:  # the vocabulary is every token seen min_count times
            if n >= min_count:
                held = 1
            elif is_suggestable(token):
                held = offer(top_words, lexicon_words, key, token)
        else:
            held = offer(top, keep_words, key, token)
            if is_suggestable(token):
                held += offer(top_words, keep_words + lexicon_words, key, token)
        if held:
            records[token] = (n, initial_not, forms)
            holders[token] = held
        else:
            dropped += n
    counts, non_initial, forms_out = Counter(), Counter(), {}
    for token, (n, initial_not, forms) in records.items():
        counts[token] = n
        if initial_not:
            non_initial[token] = initial_not
        if forms:
            forms_out[token] = Counter(forms)
    return counts, non_initial, forms_out, dropped


class _Reverse:
    """A string that sorts backwards (so a min-heap drops the larger token first)."""

    __slots__ = ("s",)

    def __init__(self, s: str) -> None:
        self.s = s

    def __lt__(self, other: "_Reverse") -> bool:
        return self.s > other.s

    def __gt__(self, other: "_Reverse") -> bool:
        return self.s < other.s

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and self.s == other.s


def memory_bytes_of(gb: float) -> int:
    return int(gb * GB)


def reset_peak_rss() -> bool:
    """Start this process's peak resident memory again from now (Linux: VmHWM).
    ``getrusage``'s peak cannot be reset and is inherited through fork and exec (a
    process started by a big one starts with its parent's peak)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """This process's peak resident memory (since ``reset_peak_rss``, on Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) if Path(path).exists() else 0


__all__ = [
    "DEFAULT_PREP_MEMORY_GB", "SpillFolder", "Cut", "fit_phrases", "fitting_cut", "SpilledPhrases", "stream_phrases", "spill_counts", "keep_top",
    "max_word_types", "shard_tokens", "peak_rss_bytes", "reset_peak_rss",
]
