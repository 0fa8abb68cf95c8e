"""The corpus's phrases: which words followed a word, or two words, in training
(``phrases.npz``, optional in a bundle).

The network learns the corpus's statistics, but a 7M-parameter LSTM cannot
memorise its stock phrases ("the default value is", "see the documentation
for"), which is exactly what an n-gram engine like Presage does best.  So the
bundle may carry the corpus's bigram and trigram counts, and the engine mixes
them in where the text before the cursor ends with a context they know::

    P(w) = (1 - pair_weight - triple_weight) * P(w)
           + pair_weight * P_corpus(w | previous) + triple_weight * P_corpus(w | two previous)

``P_corpus`` is the maximum-likelihood estimate: how often ``w`` followed the
context among all the context's occurrences.  A part whose context never
occurred (or holds a word known to neither vocabulary nor lexicon) hands its
weight back, as the document cache's parts do.

A context seen only once or twice is weak evidence, yet its estimate gives
its one follower the whole weight ("tonight ?" was followed once by
"Chinatown": 0.15 of the probability, above almost every word the network
offers).  So each part's weight is scaled by the context's evidence,
``T / (T + evidence)``, T the context's occurrences in training: a context
seen once keeps 1/11 of its weight at ``evidence`` 10, one seen hundreds of
times almost all of it, and what a part does not take stays with the words
above it.  ``PhraseSettings.evidence`` is 0 (the fixed weights) unless set;
the engine's default for the corpus's tables is ``EVIDENCE``
(``MixtureWeights.phrases``), chosen on held-out text by
benchmarks/phrase_evidence.py: the largest b measured (of 0, 1, 2, 5, 10)
that keeps the pooled KSR@3 within 0.05 of the fixed weights' and costs no
text more than 0.15; it leaves a twelfth of the strips that showed a word
lifted from a context seen under 5 times.  An adapted model's own tables
keep 0: they are the user's text, where a phrase written once is one the
user writes, their few contexts are all rare, and their weights were tuned
without it.

The ids are the model's own (``<s>`` included, so the phrases that open a
paragraph count too), extended by the bundle's lexicon: id ``vocab_size + i``
is the lexicon's word ``i``.  So the tables also know the names and rare
terms beyond the vocabulary that a manual repeats ("Contributed by Yury" ->
"Selivanov"), where the network can only say ``<unk>``.

Pruning (``build_phrases``): a follower seen once is kept only where its
context is rare (fewer than ``rare_context`` occurrences); after a frequent
context such a word gets a tiny share that the network already does better.
A lexicon word is kept only with at least 1% of its context: after "the" a
thousand rare words each get a sliver, which would cost time at every word
boundary and change nothing the strip shows.
For stop 29's default corpus (6.2M tokens, 46k lexicon words) that keeps 0.58M
word pairs and 2.59M triples, 9.8 MB compressed.

The file is a NumPy ``.npz`` archive (read without pickle): ``vocab_size`` and
``lexicon_size`` (the ids run to their sum), then for each order ``o`` in
``orders``, the sorted context keys ``context_o`` (the context's ids as
digits in base ``vocab_size + lexicon_size``), the context's training occurrences
``total_o``, its number of kept followers ``followers_o``, and then, context
by context, the followers' ids ``next_o`` and counts ``count_o``.  Counts, not
probabilities, so that fine-tuning can add a new corpus's counts to them.

Since issue 17 the archive's members are stored, not compressed, each
``.npy``'s data at a multiple of 64 bytes in the file (the zip's extra
field pads the member's header), so the engine memory-maps the arrays
instead of inflating 40 MB at start-up: the file is 4x larger on disk
(a downloaded bundle is compressed anyway), loading takes milliseconds,
and only the pages of the contexts looked up are ever read.  It is still
an ordinary ``.npz`` (``numpy.load`` and older versions of this program
read it), and a compressed file, as bundles made before held, is still
read (inflated into memory).  A context's log-probabilities are computed
when it is looked up (a few thousand entries at most), not for all 3M
entries at load.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import mmap
import os
import re
import struct
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .contract import PHRASE_ARRAYS_MAX_BYTES
from .staging import atomic_file, fsync_dir, process_alive
from .vocab import VocabError

log = logging.getLogger(__name__)

PHRASES_FORMAT = "keyboard-phrases"
PHRASES_FORMAT_VERSION = 1
ORDERS = (2, 3)  # word pairs and triples: the context is one or two tokens
RARE_CONTEXT = 50  # contexts seen fewer times keep the followers seen once
LEXICON_SHARE = 0.01  # a lexicon word is kept as a follower with at least this share of its context
# What a file may declare before anything is allocated (``_check_headers``): the
# default model has 2.6M entries in one order and 40 MB of arrays.
MAX_ENTRIES = 200_000_000  # per order
MAX_ARRAY_BYTES = PHRASE_ARRAYS_MAX_BYTES  # all arrays together
MAX_MEMBERS = 64  # 5 scalars and 5 arrays per order
ALIGN = 64  # bytes: where each stored array's data starts in the file
OFFSET_BLOCK = 32  # (a power of two) a loaded table keeps every OFFSET_BLOCK-th of its offsets (``Offsets``)
_BLOCK_SHIFT = OFFSET_BLOCK.bit_length() - 1
LARGE_CONTEXT = 256  # followers: a context's log-probabilities are kept from this many on
KEPT_CONTEXTS = 64  # ... for this many contexts at most (the first looked up goes first)
COMPRESS_LEVEL = 1  # zlib's, for ``compress_file``
EVIDENCE = 10.0  # the corpus's tables' ``PhraseSettings.evidence`` (benchmarks/phrase_evidence.py)
_PADDING_ID = 0xD935  # the zip extra field that pads a member's header (as Android's zipalign)
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra field length
# What a damaged or foreign file raises while it is read (the last two: an encrypted or
# unknown zip member).
_DAMAGED = (OSError, ValueError, EOFError, zipfile.BadZipFile, io.UnsupportedOperation,
            RuntimeError, NotImplementedError)


@dataclass(frozen=True)
class PhraseSettings:
    pair_weight: float = 0.05  # share of P_corpus(w | previous token)
    triple_weight: float = 0.15  # share of P_corpus(w | two previous tokens)
    # b: a context seen T times in training gets T / (T + b) of its part's weight (module
    # docstring); 0, the fixed weights.  The corpus's tables get ``EVIDENCE`` by default
    # (``MixtureWeights.phrases``), a user's tables 0.
    evidence: float = 0.0

    def __post_init__(self) -> None:
        if min(self.pair_weight, self.triple_weight) < 0 or self.pair_weight + self.triple_weight >= 1:
            raise ValueError("the phrase weights must be >= 0 with a sum below 1")
        if not (self.evidence >= 0.0 and math.isfinite(self.evidence)):
            raise ValueError(f"the phrase tables' evidence must be a number >= 0, not {self.evidence!r}")

    @classmethod
    def off(cls) -> "PhraseSettings":
        return cls(0.0, 0.0)

    def to_dict(self) -> dict[str, float]:
        """As a manifest records it (``user_phrases.weights``); ``evidence`` only where it
        is not 0, so that a manifest reads as it did before."""
        data = {"pair": self.pair_weight, "triple": self.triple_weight}
        if self.evidence:
            data["evidence"] = self.evidence
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "PhraseSettings":
        """From ``to_dict``'s form; a missing weight (or evidence) is 0.  ``ValueError`` if
        one is not a finite number, the weights do not sum below 1 or the evidence is negative."""
        values = []
        for key in ("pair", "triple", "evidence"):
            value = data.get(key, 0.0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"the {key} {'weight ' if key != 'evidence' else ''}{value!r} is not a number")
            values.append(float(value))
        return cls(*values)

    @property
    def enabled(self) -> bool:
        return self.pair_weight > 0.0 or self.triple_weight > 0.0

    def weight(self, order: int) -> float:
        return self.pair_weight if order == 2 else self.triple_weight

    def share(self, order: int, total: int) -> float:
        """The weight of an order's part whose context was seen ``total`` times in training:
        ``weight(order) * total / (total + evidence)``; the weight itself where evidence is 0."""
        weight = self.weight(order)
        return weight * (total / (total + self.evidence)) if self.evidence else weight


class Offsets:
    """Where each context's followers start, as a loaded table knows it: the file's
    follower numbers (``followers_o``, memory-mapped) and every ``OFFSET_BLOCK``-th
    offset, kept in memory.  Indexing it gives what the full array of offsets
    (``np.cumsum`` of the numbers, from 0) would; a context's offset is its block's
    plus at most ``OFFSET_BLOCK - 1`` numbers summed.  So a load no longer builds an
    offset for every context of every order, which the file already implies and the
    start's peak memory would count: typing reads the pages of the numbers near the
    contexts it looks up, as it does the contexts' keys.  ``np.asarray`` builds the
    full array (fine-tuning, saving)."""

    __slots__ = ("followers", "blocks")
    dtype = np.dtype(np.int64)  # what indexing gives

    def __init__(self, followers: np.ndarray, blocks: np.ndarray) -> None:
        self.followers = followers  # (n,) positive, an integer type
        self.blocks = blocks  # (n // OFFSET_BLOCK + 1,) int64: offsets 0, OFFSET_BLOCK, ...

    def __len__(self) -> int:
        return len(self.followers) + 1

    @property
    def nbytes(self) -> int:
        """What it keeps in memory (the numbers are the file's)."""
        return self.blocks.nbytes

    def at(self, i: int) -> int:
        """Offset ``i`` (0 <= i <= n)."""
        block = i >> _BLOCK_SHIFT
        first = block << _BLOCK_SHIFT
        offset = int(self.blocks[block])
        return offset + int(self.followers[first:i].sum(dtype=np.int64)) if i > first else offset

    def span(self, i: int) -> tuple[int, int]:
        """Context ``i``'s followers: entries [lo, hi)."""
        lo = self.at(i)
        return lo, lo + int(self.followers[i])

    def __getitem__(self, key):
        n = len(self)
        if isinstance(key, slice):
            a, b, step = key.indices(n)
            if step != 1:
                return np.asarray(self)[key]
            if b <= a:
                return np.zeros(0, np.int64)
            out = np.empty(b - a, np.int64)
            out[0] = self.at(a)
            np.cumsum(self.followers[a : b - 1], dtype=np.int64, out=out[1:])
            out[1:] += out[0]
            return out
        i = int(key)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of bounds for {n} offsets")
        return self.at(i % n)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        full = self[:]
        return full if dtype is None else full.astype(dtype)


@dataclass
class PhraseTable:
    """One order's counts: contexts sorted by key, their followers contiguous."""

    order: int
    contexts: np.ndarray  # (n,) int64 keys, strictly increasing
    totals: np.ndarray  # (n,) occurrences of each context in training (an integer type)
    # (n + 1,) int64: context i's followers are [starts[i], starts[i + 1]); ``Offsets``
    # where the table was loaded from a file
    starts: np.ndarray | Offsets
    next_ids: np.ndarray  # (m,) follower ids (uint16 or uint32 as read, int64 as built)
    counts: np.ndarray  # (m,) their counts (an integer type)

    def __len__(self) -> int:
        return len(self.next_ids)


class Phrases:
    """The bundle's phrase tables, and the followers of the text's last tokens."""

    def __init__(self, vocab_size: int, lexicon_size: int, tables: dict[int, PhraseTable], unk_id: int = 0,
                 *, checked: bool = False) -> None:
        self.vocab_size = vocab_size
        self.lexicon_size = lexicon_size
        self.id_space = vocab_size + lexicon_size  # the base of the context keys
        self.tables = tables
        self.unk_id = unk_id
        # the log-probabilities of the largest contexts looked up lately (``followers``)
        self._kept: dict[tuple[int, int], np.ndarray] = {}
        self._last: tuple[int, int, int] = (0, -1, 0)  # (order, key, index) of the context found last
        self._lock = threading.Lock()
        self.copying: threading.Thread | None = None  # writing the stored copy (``load``)
        for order, t in tables.items():  # (``checked``: ``load`` has, a chunk at a time)
            if not checked and len(t.contexts) and np.any(np.maximum.reduceat(t.counts, t.starts[:-1]) > t.totals):
                raise VocabError(f"its order-{order} counts exceed their contexts' totals")

    def __len__(self) -> int:
        return sum(len(t) for t in self.tables.values())

    def _find(self, context: list[int], order: int) -> tuple[PhraseTable, int] | None:
        """The table of ``order`` and the index in it of the context the last ``order - 1``
        ids of ``context`` make; None when the corpus never had that context.  The last
        context found is remembered: ``total`` right after ``followers`` (a stage's
        evidence) searches nothing again."""
        table = self.tables.get(order)
        if table is None or len(context) < order - 1:
            return None
        key = 0
        for token in context[len(context) - order + 1 :]:
            if token == self.unk_id:
                return None
            key = key * self.id_space + int(token)
        last = self._last
        if last[0] == order and last[1] == key:
            return table, last[2]
        i = int(np.searchsorted(table.contexts, key))
        if i == len(table.contexts) or table.contexts[i] != key:
            return None
        self._last = (order, key, i)  # (one assignment: another thread sees this or the one before)
        return table, i

    def total(self, context: list[int], order: int) -> int:
        """How many times the context of ``followers(context, order)`` occurred in training
        (0: never, or not a context the tables can have)."""
        found = self._find(context, order)
        return 0 if found is None else int(found[0].totals[found[1]])

    def followers(self, context: list[int], order: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(follower ids, log P_corpus) after the last ``order - 1`` ids of ``context``
        (vocabulary or lexicon ids); None when the corpus never had that context."""
        found = self._find(context, order)
        if found is None:
            return None
        table, i = found
        starts = table.starts
        lo, hi = starts.span(i) if isinstance(starts, Offsets) else (int(starts[i]), int(starts[i + 1]))
        with self._lock:
            log_probs = self._kept.get((order, i))
        if log_probs is None:
            # log(count / total) in float32, like the network's, element by element as a
            # whole-table computation would give it
            shares = table.counts[lo:hi].astype(np.float32)
            shares /= np.float32(table.totals[i])
            log_probs = np.log(shares)
            log_probs.flags.writeable = False
            if hi - lo >= LARGE_CONTEXT:  # "the", "of": thousands of followers, often again
                with self._lock:
                    self._kept[(order, i)] = log_probs
                    if len(self._kept) > KEPT_CONTEXTS:
                        self._kept.pop(next(iter(self._kept)))
        return table.next_ids[lo:hi], log_probs

    # -- the file ---------------------------------------------------------------

    def save(self, path: Path, *, compressed: bool = False) -> None:
        """Write the file (stored uncompressed for memory-mapping; ``compressed``: the
        form bundles had before issue 17, for tests and benchmarks)."""
        arrays = {
            "format": np.array(PHRASES_FORMAT),
            "format_version": np.array(PHRASES_FORMAT_VERSION),
            "vocab_size": np.array(self.vocab_size),
            "lexicon_size": np.array(self.lexicon_size),
            "orders": np.array(sorted(self.tables), np.int64),
        }
        id_type = np.uint16 if self.id_space <= 1 << 16 else np.uint32
        compact = lambda a: a.astype(np.uint32 if a.max(initial=0) < 1 << 32 else np.int64)  # noqa: E731
        for order, t in self.tables.items():
            arrays[f"context_{order}"] = t.contexts
            arrays[f"total_{order}"] = compact(t.totals)
            arrays[f"followers_{order}"] = np.diff(t.starts).astype(np.uint32)
            arrays[f"next_{order}"] = t.next_ids.astype(id_type)
            arrays[f"count_{order}"] = compact(t.counts)
        with open(path, "wb") as f:
            if compressed:
                np.savez_compressed(f, **arrays)
            else:
                write_aligned_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())

    @classmethod
    def load(cls, path: Path, vocab_size: int, lexicon_size: int, unk_id: int,
             entries: dict[str, int] | None = None, *, cache_folder: Path | None = None,
             sha256: str | None = None) -> "Phrases":
        """Read and check a phrases file for a vocabulary and lexicon of these sizes;
        ``VocabError`` (one clause) if it is unusable.  ``entries``: the manifest's
        entries per order (``{"2": n, "3": n}``), which the file must hold exactly.

        ``cache_folder`` and ``sha256`` (the file's checksum, as the bundle's manifest
        records it and the bundle's check confirmed): a compressed file is read from its
        stored copy ``cache_folder/<sha256>.npz`` when there is a usable one; otherwise it
        is inflated as before and the copy is written, on the thread ``copying``, for the
        next load (see "The stored copy" below)."""
        copy = Path(cache_folder) / f"{sha256}.npz" if cache_folder is not None and sha256 else None
        if copy is not None and is_compressed(path):
            # the copy gets every check; the compressed file's headers matter only to inflate it
            phrases = cls._load_copy(copy, vocab_size, lexicon_size, unk_id, entries)
            if phrases is not None:
                return phrases
        arrays, mapped = _read(path, entries)
        inflated = arrays is None
        if inflated:  # compressed (a bundle made before issue 17): inflate it
            arrays = _inflate(path)
        phrases = cls._checked(arrays, mapped, vocab_size, lexicon_size, unk_id)
        if inflated and copy is not None:
            # not a daemon (a thread started from a Qt thread would be one by default):
            # the interpreter waits for the copy at exit rather than leave half of it
            phrases.copying = threading.Thread(target=_write_copy, args=(arrays, copy),
                                               name="phrase-tables-copy", daemon=False)
            phrases.copying.start()
        return phrases

    @classmethod
    def _checked(cls, arrays: dict[str, np.ndarray], mapped: mmap.mmap | None, vocab_size: int,
                 lexicon_size: int, unk_id: int) -> "Phrases":
        """The tables the arrays of a file hold, checked; ``VocabError`` if they are unusable."""
        try:
            if str(arrays["format"]) != PHRASES_FORMAT:
                raise VocabError(f"it is not a phrases file (format {str(arrays['format'])!r})")
            if int(arrays["format_version"]) != PHRASES_FORMAT_VERSION:
                raise VocabError(f"phrases format version {int(arrays['format_version'])} is not supported "
                                 f"(this program reads version {PHRASES_FORMAT_VERSION})")
            sizes = int(arrays["vocab_size"]), int(arrays["lexicon_size"])
            if sizes != (vocab_size, lexicon_size):
                raise VocabError(f"it was made for a vocabulary of {sizes[0]} tokens and a lexicon of {sizes[1]} "
                                 f"words, not {vocab_size} and {lexicon_size}")
            tables = {}
            release = _page_releaser(mapped)
            for order in (int(o) for o in arrays["orders"]):
                if order not in ORDERS or order in tables:
                    raise VocabError(f"order {order} is not a phrase order this program reads")
                tables[order] = _checked_table(order, vocab_size + lexicon_size, *(
                    arrays[f"{name}_{order}"] for name in ("context", "total", "followers", "next", "count")),
                    release=release)
        except VocabError:
            raise
        except KeyError as e:
            raise VocabError(f"the array {e} is missing") from e
        except (TypeError, ValueError, IndexError) as e:
            raise VocabError(f"a field is malformed ({e})") from e
        return cls(vocab_size, lexicon_size, tables, unk_id, checked=True)

    @classmethod
    def _load_copy(cls, copy: Path, vocab_size: int, lexicon_size: int, unk_id: int,
                   entries: dict[str, int] | None) -> "Phrases | None":
        """The tables from the stored copy ``copy``, or None (no copy, or an unusable one,
        which is removed so that this load makes it again)."""
        if not copy.is_file():
            return None
        try:
            arrays, mapped = _read(copy, entries)
            if arrays is None:
                raise VocabError("it is compressed")
            phrases = cls._checked(arrays, mapped, vocab_size, lexicon_size, unk_id)
        except VocabError as e:
            log.warning("%s: the stored copy of the phrase tables is unusable (%s); it is made again", copy, e)
            with contextlib.suppress(OSError):
                copy.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(copy)  # used: the pruning keeps the copies used last
        return phrases


def write_aligned_npz(f, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to the open file ``f`` as an ``.npz`` whose members are stored
    uncompressed, each array's data starting at a multiple of ``ALIGN`` bytes."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            data = buffer.getvalue()  # its header is padded to a multiple of 64 bytes
            archive.writestr(aligned_member(archive, name), data)


def aligned_member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    """The stored member ``name.npy`` to write next into ``archive``, its local header
    padded (an extra field, as zipalign does) so its data starts at a multiple of
    ``ALIGN`` bytes in the file."""
    info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = archive.fp.tell() + _LOCAL_HEADER.size + len(info.filename.encode())
    pad = -start % ALIGN
    if pad:
        pad += ALIGN if pad < 4 else 0  # an extra field takes 4 bytes at least
        info.extra = struct.pack("<HH", _PADDING_ID, pad - 4) + bytes(pad - 4)
    return info


def _mapped_arrays(path: Path) -> tuple[dict[str, np.ndarray] | None, mmap.mmap | None]:
    """The arrays of an archive of stored members, memory-mapped (read into memory on
    Windows, where a mapped file could not be replaced), and the map (None if not
    mapped); (None, None) if a member is compressed.  ``_check_headers`` has judged
    every header first."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    if any(info.compress_type != zipfile.ZIP_STORED for info in members):
        return None, None
    arrays = {}
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.name != "nt" and size else None
        for info in members:
            f.seek(info.header_offset)
            signature, name_length, extra_length = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
            if signature != b"PK\x03\x04":
                raise ValueError(f"the member {info.filename!r} has no local header")
            start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
            f.seek(start)
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read_header(f)
            count = math.prod(shape)
            offset = f.tell()
            if offset + count * dtype.itemsize > start + info.file_size:
                raise ValueError(f"the array {info.filename!r} runs past its member")
            name = info.filename[: -len(".npy")]
            if mapped is not None and count:
                arrays[name] = np.frombuffer(mapped, dtype, count, offset).reshape(shape)
            else:
                arrays[name] = np.fromfile(f, dtype, count).reshape(shape)
    return arrays, mapped


def is_compressed(path: Path) -> bool:
    """Whether ``path`` is a zip archive with a compressed member (its central directory
    only); False for anything unreadable, which ``_read`` then names."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(info.compress_type != zipfile.ZIP_STORED for info in archive.infolist())
    except _DAMAGED:
        return False


def _read(path: Path, entries: dict[str, int] | None) -> tuple[dict[str, np.ndarray] | None, mmap.mmap | None]:
    """``_mapped_arrays`` after ``_check_headers``, with a damaged file as ``VocabError``."""
    try:
        _check_headers(path, entries)
        return _mapped_arrays(path)
    except VocabError:
        raise
    except _DAMAGED as e:
        raise VocabError(f"it is not a phrases file or is damaged ({e})") from e


def _inflate(path: Path) -> dict[str, np.ndarray]:
    """Every array of a compressed file, read into memory."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except _DAMAGED as e:
        raise VocabError(f"it is not a phrases file or is damaged ({e})") from e


# -- the stored copy of a compressed file ---------------------------------------------
#
# A bundle whose tables are compressed (the default model's: 9.8 MB, where the stored
# form is 44 MB, in git, in the download and in the standalone folder) costs an
# inflation of 40 MB at every start.  So the first load writes the stored form into a
# cache folder the caller names (the app: its user cache folder), under the compressed
# file's checksum, which the bundle's check has just confirmed against its manifest:
# a changed bundle has another checksum and so another copy, and a copy is only ever
# read for the file it was made from.  The copy is read with every check a bundle's
# file gets (headers, sizes, the manifest's entries, sorted contexts, ids in range),
# and one that fails them is removed and made again.  It is written to a temporary
# file, synced and renamed into place (a crash leaves the old state, and a temporary
# file whose writer is gone, which the next write removes), and the copies used
# longest ago beyond ``KEPT_COPIES`` are removed.  A failure to write (a full disk, no
# cache folder) is logged and changes nothing else: the next start inflates again.

KEPT_COPIES = 3
_COPY_NAME = re.compile(r"^[0-9a-f]{64}\.npz$")
_COPY_TEMP = re.compile(r"^\.[0-9a-f]{64}\.npz\.(?P<pid>\d+)\.[a-z0-9_]{8}\.tmp$")


def _write_copy(arrays: dict[str, np.ndarray], copy: Path) -> None:
    """Write ``arrays`` to ``copy`` in the stored form, atomically (on the ``copying`` thread)."""
    try:
        folder = copy.parent
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.iterdir():
            match = _COPY_TEMP.match(path.name)
            if match and not process_alive(int(match["pid"])):
                path.unlink(missing_ok=True)  # a write that was cut short
        with atomic_file(copy) as f:
            write_aligned_npz(f, arrays)
        fsync_dir(folder)
        copies = sorted((p for p in folder.iterdir() if _COPY_NAME.match(p.name) and p != copy),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for old in copies[KEPT_COPIES - 1:]:
            old.unlink(missing_ok=True)
        log.info("%s: a stored copy of the phrase tables, read from now on", copy)
    except Exception as e:  # noqa: BLE001 (a thread's failure has nowhere else to go)
        log.warning("%s: cannot keep a stored copy of the phrase tables (%s); they are inflated at every start",
                    copy.parent, e)


def _check_headers(path: Path, entries: dict[str, int] | None) -> None:
    """Judge every array by its ``.npy`` header before any is read: no objects,
    flat, and no larger than the manifest's ``entries`` (or ``MAX_ENTRIES``) and
    ``MAX_ARRAY_BYTES`` allow, so a small file declaring a huge array is refused
    before the memory is taken."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise VocabError(f"it holds {len(members)} arrays, more than a phrases file has")
        for info in members:
            if not info.filename.endswith(".npy"):
                raise VocabError(f"it holds {info.filename!r}, which is not an array")
            name = info.filename[: -len(".npy")]
            with archive.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise VocabError(f"its array {name!r} is in .npy format {version}, which is not read")
            if dtype.hasobject:
                raise VocabError(f"its array {name!r} holds Python objects, which are never read")
            if len(shape) > 1 or any(d < 0 for d in shape):
                raise VocabError(f"its array {name!r} has the shape {shape}, not a flat one")
            length = math.prod(shape)
            kind, _, order = name.rpartition("_")
            if kind in ("context", "total", "followers", "next", "count"):
                declared = None if entries is None else entries.get(order)
                if kind in ("next", "count") and declared is not None and length != declared:
                    raise VocabError(f"its array {name!r} declares {length:,} entries, "
                                     f"but the manifest says {declared:,}")
                if length > (MAX_ENTRIES if declared is None else declared):
                    raise VocabError(f"its array {name!r} declares {length:,} entries, "
                                     f"more than {MAX_ENTRIES if declared is None else declared:,}")
            total += length * dtype.itemsize
            if total > MAX_ARRAY_BYTES:
                raise VocabError(f"its arrays declare more than the {MAX_ARRAY_BYTES / 1e6:,.0f} MB "
                                 f"a phrases file may hold (at {name!r}, {length:,} x {dtype})")


CHECK_CHUNK = 1 << 18  # entries checked at a time, their pages handed back after


def _page_releaser(mapped: mmap.mmap | None):
    """``release(array)``: hand the pages of a memory-mapped array's slice back to the
    system (``MADV_DONTNEED``; they are read again from the page cache when needed),
    so that checking a large file keeps only a chunk of it resident at a time, not
    the whole file (a peak of its size at every start).  A no-op where the arrays
    are not mapped or the system has no ``madvise``."""
    if mapped is None or not hasattr(mapped, "madvise") or not hasattr(mmap, "MADV_DONTNEED") or not len(mapped):
        return lambda array: None
    base = np.frombuffer(mapped, np.uint8, 1).ctypes.data
    page = mmap.PAGESIZE

    def release(array: np.ndarray) -> None:
        start = array.ctypes.data - base
        if not array.nbytes or not 0 <= start < len(mapped):
            return  # not in the map (a copy in memory)
        first = start - start % page
        mapped.madvise(mmap.MADV_DONTNEED, first, min(start + array.nbytes, len(mapped)) - first)

    return release


def _chunks(array: np.ndarray, release):
    """``array`` in slices, each one's pages released once the caller is done with it."""
    size = CHECK_CHUNK
    for i in range(0, len(array), size):
        part = array[i : i + size]
        yield part
        release(part)


def _checked_table(order, id_space, contexts, totals, followers, next_ids, counts, *,
                   release=lambda array: None) -> PhraseTable:
    """The table the arrays hold, every entry checked a chunk at a time (``release``:
    ``_page_releaser``'s); only every ``OFFSET_BLOCK``-th of the followers' offsets,
    which the checks compute, stays in memory (``Offsets``).  The contexts' and the
    follower numbers' pages are handed back too: a word boundary's binary search
    touches about twenty of the first and a page of the second, which come back from
    the page cache as it does, so the process holds the pages typing uses rather
    than the whole arrays."""
    n, m = len(contexts), len(next_ids)
    if any(a.ndim != 1 for a in (contexts, totals, followers, next_ids, counts)):
        raise VocabError(f"its order-{order} arrays are not flat")
    if not all(np.issubdtype(a.dtype, np.integer) for a in (contexts, totals, followers, next_ids, counts)):
        raise VocabError(f"its order-{order} arrays are not integers")
    if len(totals) != n or len(followers) != n or len(counts) != m:
        raise VocabError(f"its order-{order} arrays disagree in length")
    contexts = contexts.astype(np.int64, copy=False)  # the others keep their compact types
    blocks = np.zeros(n // OFFSET_BLOCK + 1, np.int64)
    # Whole contexts a chunk at a time (their offsets summed in int64: a damaged number
    # must not wrap around): every context has followers, within the entries, and
    # every count is positive and none above its context's total.
    total = 0
    for c0 in range(0, n, CHECK_CHUNK):
        part = followers[c0 : c0 + CHECK_CHUNK]
        if part.min() <= 0:
            raise VocabError(f"an order-{order} context has no follower")
        if part.max() > m:  # (nor can a chunk's sum then wrap around)
            raise VocabError(f"its order-{order} arrays disagree in length")
        offsets = np.empty(len(part) + 1, np.int64)
        offsets[0] = total
        np.cumsum(part, dtype=np.int64, out=offsets[1:])
        offsets[1:] += total
        if offsets[-1] > m:
            raise VocabError(f"its order-{order} arrays disagree in length")
        kept = offsets[-c0 % OFFSET_BLOCK :: OFFSET_BLOCK]  # offsets c0 ... c0 + len(part)
        block = -(-c0 // OFFSET_BLOCK)
        blocks[block : block + len(kept)] = kept
        # their counts, whole contexts about CHECK_CHUNK entries at a time: a chunk of
        # contexts may hold many more entries (every order-2 table is one chunk)
        their_totals = totals[c0 : c0 + len(part)]
        j = 0
        while j < len(part):
            k = max(j + 1, min(len(part), int(np.searchsorted(offsets, offsets[j] + CHECK_CHUNK, "right")) - 1))
            e0, e1 = int(offsets[j]), int(offsets[k])
            entries = counts[e0:e1]
            if entries.min() <= 0:
                raise VocabError(f"its order-{order} followers are not ids of the vocabulary with positive counts")
            if np.any(np.maximum.reduceat(entries, offsets[j:k] - e0) > their_totals[j:k]):
                raise VocabError(f"its order-{order} counts exceed their contexts' totals")
            release(entries)
            j = k
        release(part)
        release(their_totals)
        total = int(offsets[-1])
    if total != m:
        raise VocabError(f"its order-{order} arrays disagree in length")
    limit = id_space ** (order - 1)
    if n and contexts[-1] >= limit:
        raise VocabError(f"its order-{order} contexts are not sorted ids of the vocabulary")
    previous = -1  # (so the first context must not be negative)
    for part in _chunks(contexts, release):
        if part[0] <= previous or np.any(part[1:] <= part[:-1]):
            raise VocabError(f"its order-{order} contexts are not sorted ids of the vocabulary")
        previous = int(part[-1])
    for part in _chunks(next_ids, release):
        if part.min() < 0 or part.max() >= id_space:
            raise VocabError(f"its order-{order} followers are not ids of the vocabulary with positive counts")
    return PhraseTable(order, contexts, totals, Offsets(followers, blocks), next_ids, counts)


def build_phrases(
    ids: np.ndarray,
    vocab_size: int,
    lexicon_size: int,
    unk_id: int,
    *,
    base: Phrases | None = None,
    base_ids: np.ndarray | None = None,
    rare_context: int = RARE_CONTEXT,
) -> Phrases | None:
    """Count the word pairs and triples of a training id stream (vocabulary ids, and
    ``vocab_size + i`` for the lexicon's word ``i``; module docstring).

    ``base``: the phrases of a model being fine-tuned, whose counts are added;
    ``base_ids[old id]`` is that id in the new vocabulary and lexicon (``unk_id``
    for a word in neither).  None when the stream holds no phrase.
    """
    ids = np.asarray(ids, dtype=np.int64)
    space = vocab_size + lexicon_size
    tables: dict[int, PhraseTable] = {}
    for order in ORDERS:
        codes, counts, context_keys, totals = _count(ids, order, space, unk_id)
        if base is not None and order in base.tables:
            old_codes, old_counts, old_keys, old_totals = _renumbered(base.tables[order], base.id_space, base_ids,
                                                                      space, unk_id)
            codes, inverse = np.unique(np.concatenate([codes, old_codes]), return_inverse=True)
            counts = np.bincount(inverse, weights=np.concatenate([counts, old_counts])).astype(np.int64)
            context_keys, where = np.unique(np.concatenate([context_keys, old_keys]), return_inverse=True)
            totals = np.bincount(where, weights=np.concatenate([totals, old_totals])).astype(np.int64)
        context_of = np.searchsorted(context_keys, codes // space)
        keep = (counts >= 2) | (totals[context_of] < rare_context)
        keep &= (codes % space < vocab_size) | (counts >= LEXICON_SHARE * totals[context_of])
        codes, counts, context_of = codes[keep], counts[keep], context_of[keep]
        if len(codes) == 0:
            continue
        used, followers = np.unique(context_of, return_counts=True)
        starts = np.zeros(len(used) + 1, np.int64)
        np.cumsum(followers, out=starts[1:])
        tables[order] = PhraseTable(order, context_keys[used], totals[used], starts, codes % space, counts)
    if not tables:
        return None
    return Phrases(vocab_size, lexicon_size, tables, unk_id)


def ngram_codes(ids: np.ndarray, order: int, space: int, unk_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Every n-gram of ``ids`` (every start) as a code (context key * space + follower):
    the sorted unique codes and their counts; contexts holding ``unk_id`` are left out."""
    n = max(len(ids) - order + 1, 0)
    codes = np.zeros(n, np.int64)
    known = np.ones(n, bool)
    for t in range(order):
        codes = codes * space + ids[t : t + n]
        if t < order - 1:
            known &= ids[t : t + n] != unk_id
    codes, counts = np.unique(codes[known], return_counts=True)
    return codes, counts.astype(np.int64)


def _count(ids: np.ndarray, order: int, space: int, unk_id: int):
    """``ngram_codes``, and every context key with its total."""
    codes, counts = ngram_codes(ids, order, space, unk_id)
    context_keys, inverse = np.unique(codes // space, return_inverse=True)
    totals = np.bincount(inverse, weights=counts, minlength=len(context_keys)).astype(np.int64)
    return codes, counts.astype(np.int64), context_keys, totals


def _renumbered(table: PhraseTable, old_space: int, new_ids: np.ndarray, space: int, unk_id: int):
    """A base table's entries (codes, counts) and contexts (keys, totals) in the new id space;
    contexts that hold a word the new model lacks are dropped."""
    digits, rest = [], table.contexts.copy()
    for _ in range(table.order - 1):
        digits.append(new_ids[rest % old_space])
        rest //= old_space
    keys = np.zeros(len(table.contexts), np.int64)
    known = np.ones(len(table.contexts), bool)
    for digit in reversed(digits):  # most significant first
        keys = keys * space + digit
        known &= digit != unk_id
    per_entry = np.diff(table.starts)
    entry_keys, entry_known = np.repeat(keys, per_entry), np.repeat(known, per_entry)
    codes = entry_keys * space + new_ids[table.next_ids]
    # two old contexts or followers may now be one (both unknown words): np.unique adds them up
    return codes[entry_known], table.counts[entry_known], keys[known], table.totals[known]


def phrase_index(vocab_tokens, lexicon) -> dict[str, int]:
    """Word -> id in the phrase tables: the vocabulary's ids, then ``len(vocab) + i``
    for the lexicon's word ``i`` (``lexicon`` may be None)."""
    index = {token: i for i, token in enumerate(vocab_tokens)}
    if lexicon is not None:
        size = len(index)
        for i, word in enumerate(lexicon.words):
            index.setdefault(word, size + i)
    return index


def renumbering(old_vocab_tokens, old_lexicon_words, new_index: dict[str, int], unk_id: int) -> np.ndarray:
    """``result[old id]``: the id of the same word among the new vocabulary and lexicon
    (``new_index``: word -> new id), ``unk_id`` where the new model has no such word."""
    words = list(old_vocab_tokens) + list(old_lexicon_words)
    return np.array([new_index.get(w, unk_id) for w in words], np.int64)


def compress_file(path: Path) -> None:
    """Rewrite the stored phrases file ``path`` compressed (the built-in model's form at
    rest: read through a stored copy in the app's cache), member by member, so that a
    large table never sits in memory whole: ``keyboard-train --compress-phrases``, which
    the app's retrain asks for (a fine-tuned model's tables are the source's, 99.6% of
    their entries, and take four times as much space stored).  Written beside it, synced
    and renamed over it.  zlib's fastest level: the default level's file is hardly smaller
    and takes several times as long to write, seconds of every retrain
    (benchmarks/adapted_bundle_size.py prints both)."""
    path = Path(path)
    with atomic_file(path) as f, zipfile.ZipFile(path) as source, \
            zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for info in source.infolist():  # (a name, so that the archive's level applies)
            with source.open(info) as src, archive.open(info.filename, "w") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)


def copy_bundle(source, dest, *, compressed: bool = False) -> Path:
    """Copy the bundle ``source`` to ``dest`` with its phrase tables written anew: stored
    uncompressed (issue 17's form), or ``compressed`` (the form before); all else as it was."""
    import json
    import tempfile

    from .bundle import MANIFEST, PHRASE_PARTS, load_bundle, write_bundle

    bundle = load_bundle(source)
    try:
        manifest = json.loads((bundle.path / MANIFEST).read_text(encoding="utf-8"))
        files = {name: bundle.path / name for name in manifest["files"]}
        with tempfile.TemporaryDirectory(prefix="phrases-") as tmp:
            for part in PHRASE_PARTS:
                table = getattr(bundle, part)
                if table is not None:
                    name = manifest[part]["file"]
                    table.save(Path(tmp) / name, compressed=compressed)
                    files[name] = Path(tmp) / name
            # over itself is fine: the files are copied before the old bundle is replaced
            same = Path(os.path.abspath(dest)) == Path(os.path.abspath(source))
            return write_bundle(dest, manifest, files, inputs=[] if same else [source])
    finally:
        bundle.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m keyboard_app.engine.phrases SOURCE DEST``: copy the bundle SOURCE to
    DEST with its phrase tables stored uncompressed (issue 17's form), everything else as
    it was: for a bundle made before (keyboard-train writes the new form itself)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m keyboard_app.engine.phrases", description=main.__doc__)
    parser.add_argument("source", help="a model bundle (folder or .zip)")
    parser.add_argument("dest", help="where the copy goes (a new folder, or the same bundle to rewrite it)")
    parser.add_argument("--compressed", action="store_true", help="write the form before issue 17 instead")
    args = parser.parse_args(argv)
    copy_bundle(args.source, args.dest, compressed=args.compressed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
