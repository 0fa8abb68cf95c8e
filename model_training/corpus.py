"""Finding and streaming the corpus: text files and folders of them.

Files are read line by line (long lines in bounded pieces), so memory never
depends on the corpus size.  Each file is split by bytes: lines that start
in the last ``heldout_fraction`` of the file are held out for validation,
the rest is training text.  Knowing the split before reading means one pass
can count the vocabulary on training text only.

Bad input raises ``CorpusError`` with one sentence for the user: a missing
path, no text at all.  A binary file (a NUL byte in its first 8 KiB) is
skipped with a warning; invalid UTF-8 is decoded with U+FFFD and the number
of bad sequences is reported in a warning per file.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

log = logging.getLogger(__name__)

SNIFF_BYTES = 8192
PIECE_BYTES = 1 << 16  # long lines reach the tokenizer in pieces of less than twice this
_REPLACEMENT_UTF8 = "\ufffd".encode()


class CorpusError(Exception):
    """The corpus cannot be used; the message is one sentence for the user."""


@dataclass(frozen=True)
class CorpusFile:
    path: Path  # where it is
    name: str  # how the manifest and hash name it (relative to the argument given)
    size: int  # bytes


def is_binary(path: Path) -> bool:
    with open(path, "rb") as f:
        return b"\0" in f.read(SNIFF_BYTES)


def find_files(paths: Iterable[str | os.PathLike]) -> list[CorpusFile]:
    """The text files named or found (recursively, sorted) under ``paths``."""
    found: list[CorpusFile] = []
    seen: set[Path] = set()
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise CorpusError(f"{root}: no such file or folder.")
        if root.is_dir():
            candidates = sorted(p for p in root.rglob("*") if p.is_file())
            names = [f"{root.name}/{p.relative_to(root).as_posix()}" for p in candidates]
        else:
            candidates, names = [root], [root.name]
        for path, name in zip(candidates, names):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            try:
                if is_binary(path):
                    log.warning("%s: skipped, it looks like a binary file, not text.", path)
                    continue
                size = path.stat().st_size
            except OSError as e:
                log.warning("%s: skipped, it cannot be read (%s).", path, e.strerror or e)
                continue
            if size:
                found.append(CorpusFile(path, name, size))
    if not found:
        shown = ", ".join(str(p) for p in paths) or "(nothing given)"
        raise CorpusError(f"the corpus is empty: no text found in {shown}.")
    return found


def heldout_start(path: Path, split: int) -> int:
    """Offset of the first line that starts at or after byte ``split``."""
    if split <= 0:
        return 0
    with open(path, "rb") as f:
        f.seek(split - 1)
        f.readline()
        return f.tell()


def heldout_starts(files: list[CorpusFile], fraction: float, max_bytes: int) -> dict[Path, int]:
    """Byte offset in each file from which lines are held out (``size``: none)."""
    total = sum(f.size for f in files)
    if total and max_bytes and fraction * total > max_bytes:
        fraction = max_bytes / total
    if fraction <= 0:
        return {f.path: f.size for f in files}
    return {f.path: heldout_start(f.path, int(f.size * (1.0 - fraction))) for f in files}


@dataclass
class ReadStats:
    """What reading a file found; ``invalid`` counts bad UTF-8 sequences."""

    invalid: int = 0
    digest: "hashlib._Hash | None" = field(default=None, repr=False)


def _pieces(f, offset: int) -> Iterator[tuple[int, bytes]]:
    """(offset, piece) of a binary file: whole lines, long ones cut at a space."""
    carry = b""
    while True:
        chunk = f.readline(PIECE_BYTES)
        if not chunk:
            if carry:
                yield offset, carry
            return
        chunk = carry + chunk
        carry = b""
        if not chunk.endswith(b"\n") and len(chunk) >= PIECE_BYTES:
            cut = max(chunk.rfind(b" "), chunk.rfind(b"\t"))
            if cut > 0:
                chunk, carry = chunk[: cut + 1], chunk[cut + 1 :]
        yield offset, chunk
        offset += len(chunk)


def read_lines(
    path: Path, stats: ReadStats, start: int = 0, stop: int | None = None
) -> Iterator[str]:
    """Decoded lines (long lines in pieces) of bytes ``[start, stop)`` of a file.

    ``start`` and ``stop`` must be line starts (see ``heldout_start``).
    """
    with open(path, "rb") as f:
        f.seek(start)
        for offset, raw in _pieces(f, start):
            if stop is not None and offset >= stop:
                return
            if stats.digest is not None:
                stats.digest.update(raw)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("utf-8", errors="replace")
                stats.invalid += text.count("\ufffd") - raw.count(_REPLACEMENT_UTF8)
                yield text


def warn_invalid(path: Path, stats: ReadStats) -> None:
    if stats.invalid:
        log.warning(
            "%s: %d invalid UTF-8 sequence%s replaced by U+FFFD.",
            path, stats.invalid, "" if stats.invalid == 1 else "s",
        )
