"""Finding and streaming the corpus: text files and folders of them.

Files are read line by line (long lines in bounded pieces), so memory never
depends on the corpus size.  Each file is split by bytes (``Split``): the
lines in the last ``heldout_fraction`` of the file are held out for
validation, or in its first when adapting a model to a person's writing
(``config.HELDOUT_AT``), and the rest is training text.  Where whole lines
would hold out less than half of that share (a file on one line, with no line
breaks, or of a few long paragraphs), the split is inside the line, after a
sentence end near the share's edge, else between two words (``cut_in_line``):
every file holds out its share.  Knowing the split before reading means one
pass can count the vocabulary on training text only.

Text is UTF-8, or UTF-16 or UTF-32 with a byte-order mark (as Windows
editors save it; a UTF-8 mark is dropped too), or, for a file that is not
UTF-8, Windows-1252 (Latin-1 where it holds a byte Windows-1252 leaves
undefined): what older Windows and Mac programs, and the app's own editor when
told to keep a file's encoding, save.  Read as UTF-8 such a file splits every
accented word at its accent ("caf", "gar").  The encoding is chosen once per
file, by ``find_files`` (``CorpusFile.encoding``), from all its bytes, and
every pass reads the file the same way; offsets are always bytes of the file
(so the hash and the held-out split do not depend on the choice), and a wide
file's lines end at an encoded newline on a code-unit boundary, so the
held-out split works the same for every encoding.

Bad input raises ``CorpusError`` with one sentence for the user: a missing
path, no text at all.  A binary file (a NUL byte in its first 8 KiB, and no
byte-order mark; or, not being UTF-8, mostly control bytes:
``text_encoding.mostly_controls``) is skipped with a warning, which says when it looks like
UTF-16 saved without a mark.  A UTF-8 file with a few damaged bytes (fewer
invalid sequences than valid non-ASCII characters: a file cut inside a
character, a stray byte) stays UTF-8: its invalid sequences are decoded as
U+FFFD and their number is reported in a warning.  In a folder, a symbolic
link is followed only to a file inside the corpus given (a link to
``/etc/passwd`` is skipped with a warning, as is a link that leads back to
itself); a link named on the command line is the user's choice and read.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from keyboard_app.text_encoding import mostly_controls, utf16_without_mark

from .config import HELDOUT_AT

log = logging.getLogger(__name__)

SNIFF_BYTES = 8192
PIECE_BYTES = 1 << 16  # long lines reach the tokenizer in pieces of less than twice this
SCAN_BYTES = 1 << 20  # the encoding check reads a file in blocks of this
#: Bytes Windows-1252 leaves undefined: a file holding one is read as Latin-1, which has them all.
CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")


#: Byte-order marks and the encodings they announce; UTF-32-LE's first (it starts with UTF-16-LE's).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class CorpusError(Exception):
    """The corpus cannot be used; the message is one sentence for the user."""


@dataclass(frozen=True)
class Encoding:
    """How a file's bytes are text: the codec and the byte-order mark's length."""

    codec: str = "utf-8"
    bom: int = 0

    @property
    def newline(self) -> bytes:
        return "\n".encode(self.codec)

    @property
    def unit(self) -> int:  # bytes per code unit; lines end on a multiple of it
        return len(self.newline)

    @property
    def guessed(self) -> bool:
        """Not UTF-8 and no byte-order mark to say what it is: a single-byte encoding chosen
        from the bytes (Windows-1252 or Latin-1), which the trainer and the app say aloud."""
        return not self.bom and self.codec != "utf-8"

    @property
    def label(self) -> str:  # "UTF-16", "Windows-1252" for the user
        return LABELS.get(self.codec) or self.codec.upper().removesuffix("-LE").removesuffix("-BE")


LABELS = {"cp1252": "Windows-1252", "latin-1": "Latin-1"}


def encoding_of(head: bytes) -> Encoding:
    """The encoding a file's first bytes announce with a byte-order mark (UTF-8 without one)."""
    for bom, codec in BOMS:
        if head.startswith(bom):
            return Encoding(codec, len(bom))
    return Encoding()


def file_encoding(path: Path) -> Encoding:
    """The encoding a file's byte-order mark announces (UTF-8 without one)."""
    with open(path, "rb") as f:
        return encoding_of(f.read(4))


@dataclass(frozen=True)
class CorpusFile:
    path: Path  # where it is
    name: str  # how the manifest and hash name it (relative to the argument given)
    size: int  # bytes
    encoding: Encoding = field(default_factory=Encoding)  # how every pass decodes it (``text_encoding``)


class SkippedFile(str):
    """Why one file was left out of the corpus: the warning's sentence (``"PATH: reason"``,
    which is what it equals, so callers that list or join the sentences are unchanged),
    which also knows its ``path``, ``reason`` and short ``kind``, for the retrain dialog's
    "2 files skipped (binary: a.bin; unreadable: b.txt)" and the ``skipped`` progress event."""

    path: Path
    reason: str

    def __new__(cls, path: Path, reason: str) -> "SkippedFile":
        self = super().__new__(cls, f"{path}: {reason}")
        self.path, self.reason = Path(path), reason
        return self

    @property
    def kind(self) -> str:
        """A word or two for the reason (the reasons are this module's own sentences)."""
        return next((kind for start, kind in SKIP_KINDS if self.reason.startswith(start)), "skipped")


#: The short kinds of the reasons ``examine``, ``_walk`` and ``find_files`` give, by their start.
SKIP_KINDS = (
    ("it looks like a binary file", "binary"),
    ("it looks like UTF-16", "UTF-16 without a byte-order mark"),
    ("it is a symbolic link that leads back", "link loop"),
    ("it is a symbolic link to", "link out of the corpus"),
    ("it cannot be read", "unreadable"),
    ("it is not a regular file", "not a regular file"),
)


def not_text_reason(path: Path) -> str | None:
    """Why a file is not read as text (None when it is text)."""
    return examine(path)[1]


def examine(path: Path) -> tuple[Encoding | None, str | None]:
    """How a file is read as text, or why it is not: ``(encoding, None)`` or ``(None, reason)``."""
    if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block, /dev/zero never end
        return None, "it is not a regular file (a pipe, a device or a socket)"
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    announced = encoding_of(head)
    if announced.bom:
        return announced, None
    if b"\0" in head:
        if utf16_without_mark(head) is not None:
            return None, "it looks like UTF-16 text without a byte-order mark; save it as UTF-8"
        return None, "it looks like a binary file, not text"
    encoding = text_encoding(path)
    if encoding.codec != "utf-8" and mostly_controls(head):
        return None, "it looks like a binary file, not text"
    return encoding, None


def text_encoding(path: Path) -> Encoding:
    """UTF-8, unless the file is not: then Windows-1252, or Latin-1 where it holds a byte
    Windows-1252 leaves undefined.  "Not UTF-8" counts invalid sequences against valid
    non-ASCII characters over the whole file: a UTF-8 file with a damaged byte or two
    (cut inside a character) stays UTF-8, and a Latin-1 one, whose accented letters are
    each an invalid sequence and which rarely holds a valid one, does not.  Valid UTF-8
    costs one strict decode per block; only a file that fails it is counted."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    invalid = valid = 0
    undefined = False  # a byte Windows-1252 does not define
    with open(path, "rb") as f:
        strict = True
        while True:
            block = f.read(SCAN_BYTES)
            final = not block
            if strict:
                try:
                    decoder.decode(block, final)
                except UnicodeDecodeError:
                    strict = False  # count from the start: the choice is the whole file's
                    f.seek(0)
                    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
                    continue
            else:
                text = decoder.decode(block, final)
                bad = text.count("\ufffd") - block.count(b"\xef\xbf\xbd")
                invalid += bad
                valid += len(text) - len(text.encode("ascii", "ignore")) - bad
                undefined = undefined or any(byte in block for byte in CP1252_UNDEFINED)
            if final:
                break
    if strict or valid >= invalid:
        return Encoding()
    return Encoding("latin-1" if undefined else "cp1252")


def is_binary(path: Path) -> bool:
    return not_text_reason(path) is not None


def _inside(target: Path, roots: list[Path]) -> bool:
    return any(target == root or root in target.parents for root in roots)


def _resolve(path: Path) -> Path | None:
    """Where a path leads, or None for a symbolic link that leads back to itself
    (``RuntimeError`` on Python 3.11 and 3.12, ``OSError`` from 3.13)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def _walk(folder: Path, roots: list[Path], skipped: list[str]) -> list[Path]:
    """The regular files under ``folder``, sorted.  Symbolic links are followed only
    to a file inside one of ``roots`` (the corpus as given, resolved); a link that
    leads elsewhere, or back to itself, is skipped with a warning naming it.  Linked
    folders are not entered: one inside the corpus is read where it is."""
    found = []
    for parent, dirs, files in os.walk(folder):  # followlinks=False
        for name in sorted(dirs + files):  # the warnings in a stable order
            path = Path(parent) / name
            if path.is_symlink():
                target = _resolve(path)
                if target is None:
                    reason = "it is a symbolic link that leads back to itself (a loop)"
                elif not _inside(target, roots):
                    reason = f"it is a symbolic link to {target}, outside the corpus given"
                else:
                    reason = None
                if reason is not None:
                    log.warning("%s: skipped, %s.", path, reason)
                    skipped.append(SkippedFile(path, reason))
                    continue
                if target.is_file():
                    found.append(path)
            elif name in files and path.is_file():
                found.append(path)
    return sorted(found)


def find_files(paths: Iterable[str | os.PathLike], skipped: list[SkippedFile] | None = None) -> list[CorpusFile]:
    """The text files named or found (recursively, sorted) under ``paths``, each with the
    encoding it is read in (said once, in a warning, when it is not UTF-8).  ``skipped``,
    when given, receives why each file left out was (the warnings' sentences)."""
    found: list[CorpusFile] = []
    skipped = [] if skipped is None else skipped  # for the error when nothing is left
    seen: set[Path] = set()
    paths = list(paths)
    for given in paths:
        root = Path(given)
        if not root.exists():
            if root.is_symlink():
                raise CorpusError(f"{root}: a symbolic link that leads nowhere (to a missing file, or "
                                  "back to itself).")
            raise CorpusError(f"{root}: no such file or folder.")
    roots = [Path(given).resolve() for given in paths]
    for given in paths:
        root = Path(given)
        if root.is_dir():
            candidates = _walk(root, roots, skipped)
            names = [f"{root.name}/{p.relative_to(root).as_posix()}" for p in candidates]
        else:
            candidates, names = [root], [root.name]
        for path, name in zip(candidates, names):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            try:
                encoding, reason = examine(path)
                if reason is not None:
                    log.warning("%s: skipped, %s.", path, reason)
                    skipped.append(SkippedFile(path, reason))
                    continue
                size = path.stat().st_size
            except OSError as e:
                log.warning("%s: skipped, it cannot be read (%s).", path, e.strerror or e)
                skipped.append(SkippedFile(path, f"it cannot be read ({e.strerror or e})"))
                continue
            if size:
                if encoding.guessed:
                    log.warning("%s: not UTF-8; read as %s.", path, encoding.label)
                found.append(CorpusFile(path, name, size, encoding))
    if not found:
        if len(skipped) == 1:  # the one file given (or found) says why (a warning alone scrolls by)
            raise CorpusError(f"the corpus is empty: {skipped[0]}.")
        shown = ", ".join(str(p) for p in paths) or "(nothing given)"
        why = f" ({len(skipped)} files skipped: not text, unreadable or links out of the corpus)" if skipped else ""
        raise CorpusError(f"the corpus is empty: no text found in {shown}{why}.")
    return found


def heldout_start(path: Path, split: int) -> int:
    """Offset of the first line that starts at or after byte ``split``."""
    if split <= 0:
        return 0
    encoding = file_encoding(path)
    with open(path, "rb") as f:
        if encoding.unit == 1:
            f.seek(split - 1)
            f.readline()
            return f.tell()
        # the code unit before the first whole one at or after split, then on to a newline
        unit = encoding.unit
        position = -(-split // unit) * unit - unit
        f.seek(position)
        buf = b""
        while block := f.read(PIECE_BYTES):
            buf += block
            end = _find_aligned(buf, encoding.newline)
            if end >= 0:
                return position + end + unit
            position += len(buf) - len(buf) % unit
            buf = buf[len(buf) - len(buf) % unit :]
        return f.tell()



@dataclass(frozen=True)
class Split:
    """The held-out part of a file, bytes ``[start, stop)``; the rest trains."""

    start: int
    stop: int

    def parts(self, size: int) -> list[tuple[int, int, bool]]:
        """The file's non-empty parts in file order: (start, stop, held out)."""
        parts = [(0, self.start, False), (self.start, self.stop, True), (self.stop, size, False)]
        return [part for part in parts if part[1] > part[0]]

    def train_parts(self, size: int) -> list[tuple[int, int]]:
        return [(a, b) for a, b, held in self.parts(size) if not held]


def line_start_before(path: Path, split: int) -> int:
    """Offset of the line that holds byte ``split``: the last line start at or before it."""
    encoding = file_encoding(path)
    unit = encoding.unit
    end = max(0, split - split % unit)  # a code-unit boundary
    with open(path, "rb") as f:
        while end > 0:
            start = max(0, end - PIECE_BYTES)
            start -= start % unit
            f.seek(start)
            buf = f.read(end - start)
            i = _rfind_aligned(buf, encoding.newline, 0, len(buf))
            if i >= 0:
                return start + i + unit
            end = start
    return 0


def heldout_splits(files: list[CorpusFile], fraction: float, max_bytes: int,
                   at: str = "end") -> dict[Path, Split]:
    """Each file's held-out part: ``fraction`` of its bytes (less where the corpus's
    held-out part would pass ``max_bytes``) at its ``end`` or ``start``, whole lines
    where they hold at least half of that, else cut inside the line (``cut_in_line``).
    The split depends only on the file's bytes and these settings: a resumed run, and
    the prepared data kept for the same files and settings, find the same one."""
    if at not in HELDOUT_AT:
        raise ValueError(f"the held-out part is at the end or the start of a file, not {at!r}")
    total = sum(f.size for f in files)
    if total and max_bytes and fraction * total > max_bytes:
        fraction = max_bytes / total
    if fraction <= 0:
        return {f.path: Split(f.size, f.size) for f in files}
    if at == "start":
        return {f.path: Split(0, _start_split(f, int(f.size * fraction))) for f in files}
    return {f.path: Split(_end_split(f, int(f.size * (1.0 - fraction))), f.size) for f in files}


def _end_split(file: CorpusFile, split: int) -> int:
    """Where the held-out end of ``file`` starts, for a share from byte ``split`` on:
    the first line start after it, unless that holds less than half the share of a
    file that has ``MIN_CUT_SHARE`` to hold out (a file on one line holds none)."""
    start = heldout_start(file.path, split)
    share = file.size - split
    if file.size - start >= share / 2 or share < MIN_CUT_SHARE:  # whole lines hold enough, or it is a note
        return start
    cut = cut_in_line(file, split, share)
    return start if cut is None else cut


def _start_split(file: CorpusFile, split: int) -> int:
    """Where the held-out start of ``file`` stops, for a share of ``split`` bytes."""
    stop = line_start_before(file.path, split)
    if stop >= split / 2 or split < MIN_CUT_SHARE:
        return stop
    cut = cut_in_line(file, split, split)
    return stop if cut is None else cut


#: The characters a cut inside a line looks for: a cut comes after a run of spaces, and is
#: after a sentence end where the run follows one of ``SENTENCE_ENDS`` (then closing marks).
SPACES = (" ", "\t", "\r", "\n", "\f", "\v", "\u00a0")
SENTENCE_ENDS = (".", "!", "?")
CLOSERS = ('"', "'", ")", "]", "\u201d", "\u2019", "\u00bb")
#: A share smaller than this (about 35 words) is not cut out of a line: a short note of a line
#: or two trains whole, as it did, rather than hold out its last word or two.
MIN_CUT_SHARE = 200


def cut_in_line(file: CorpusFile, split: int, share: int) -> int | None:
    """A place near byte ``split`` to cut a file inside a line: just before the word after
    the sentence end nearest ``split`` (a line start counts as one), else before the word
    nearest it; looked for within half the held-out ``share`` of it (at most
    ``PIECE_BYTES``), so the held-out part keeps between half and one and a half times
    its share.  None where there is no space at all there (one
    long "word"): the file is then split at whole lines.  The cut is on a code-unit
    boundary of the file's encoding, after its byte-order mark, and leaves a part on each
    side; only the bytes around ``split`` are read."""
    encoding = file.encoding if file.encoding.bom or file.encoding.codec != "utf-8" else file_encoding(file.path)
    unit = encoding.unit
    reach = min(PIECE_BYTES, share // 2)
    low = max(encoding.bom, split - reach)
    low += -low % unit
    high = min(file.size, split + reach)
    high -= high % unit
    if high - low < 2 * unit:
        return None
    with open(file.path, "rb") as f:
        f.seek(low)
        buf = f.read(high - low)
    spaces = {c.encode(encoding.codec, errors="ignore") for c in SPACES} - {b""}
    ends = {c.encode(encoding.codec, errors="ignore") for c in SENTENCE_ENDS} - {b""}
    closers = [c.encode(encoding.codec, errors="ignore") for c in CLOSERS]
    closers = [c for c in closers if c]

    def is_space(i: int) -> bool:  # the code unit at buf[i] (i aligned)
        return buf[i : i + unit] in spaces

    best_sentence = best_word = None
    for i in range(unit, len(buf) - len(buf) % unit, unit):
        if not is_space(i - unit) or is_space(i):
            continue
        cut = low + i  # a word starts here, after a run of spaces
        if cut <= encoding.bom or cut >= file.size:
            continue
        j = i - unit  # back over the spaces, then any closing marks, to what ends the sentence
        while j >= 0 and is_space(j):
            j -= unit
        newline = j + unit < i and buf[j + unit : i].find(encoding.newline) >= 0
        k = j + unit  # buf[:k] ends where the spaces begin
        stripped = True
        while stripped:
            stripped = False
            for closer in closers:
                if k - len(closer) >= 0 and buf[k - len(closer) : k] == closer:
                    k -= len(closer)
                    stripped = True
        sentence = newline or (k >= unit and buf[k - unit : k] in ends)
        distance = abs(cut - split)
        if sentence and (best_sentence is None or distance < abs(best_sentence - split)):
            best_sentence = cut
        if best_word is None or distance < abs(best_word - split):
            best_word = cut
    return best_sentence if best_sentence is not None else best_word


def training_tokens(file: CorpusFile, split: Split, tokenizer, stats: "ReadStats") -> Iterator:
    """``tokenizer.iter_stream`` of the training part of ``file``: one stream, or none where
    the whole file is held out (no ``<s>`` that the count, which reads the parts, never saw)."""
    parts = split.train_parts(file.size)
    if parts:
        yield from tokenizer.iter_stream(
            line for a, b in parts for line in read_lines(file.path, stats, a, b, encoding=file.encoding))


@dataclass
class ReadStats:
    """What reading a file found; ``invalid`` counts bad UTF-8 sequences."""

    invalid: int = 0
    digest: "hashlib._Hash | None" = field(default=None, repr=False)
    encoding: Encoding = field(default_factory=Encoding)  # of the file last read


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


def _find_aligned(buf: bytes, needle: bytes, start: int = 0, end: int | None = None) -> int:
    """The first ``needle`` in ``buf[start:end]`` at a multiple of its length (a whole code unit)."""
    unit = len(needle)
    i = buf.find(needle, start, end)
    while i >= 0 and i % unit:
        i = buf.find(needle, i + 1, end)
    return i


def _rfind_aligned(buf: bytes, needle: bytes, start: int, end: int) -> int:
    unit = len(needle)
    i = buf.rfind(needle, start, end)
    while i >= 0 and i % unit:
        i = buf.rfind(needle, start, i + unit - 1)
    return i


def _wide_pieces(f, offset: int, codec: str) -> Iterator[tuple[int, bytes]]:
    """(offset, piece) of a UTF-16/32 file from a line start: whole lines, ending in a
    newline on a code-unit boundary, long ones cut after a space (as ``_pieces``)."""
    newline, space = "\n".encode(codec), " ".encode(codec)
    unit = len(newline)
    buf, pos, eof = b"", 0, False  # buf[0] is always on a code-unit boundary
    while True:
        end = _find_aligned(buf, newline, pos)
        if end >= 0:
            end += unit
        elif len(buf) - pos >= PIECE_BYTES:
            cut = _rfind_aligned(buf, space, pos, pos + PIECE_BYTES)
            end = cut + unit if cut > pos else pos + PIECE_BYTES
        elif eof:
            if pos < len(buf):
                yield offset, buf[pos:]
            return
        else:
            block = f.read(PIECE_BYTES)
            eof = not block
            buf, pos = buf[pos:] + block, 0
            continue
        yield offset, buf[pos:end]
        offset += end - pos
        pos = end


def _decode(raw: bytes, codec: str, stats: ReadStats) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        text = raw.decode(codec, errors="replace")
        stats.invalid += text.count("\ufffd") - raw.count("\ufffd".encode(codec))
        return text


def read_lines(
    path: Path, stats: ReadStats, start: int = 0, stop: int | None = None, *, encoding: Encoding | None = None
) -> Iterator[str]:
    """Decoded lines (long lines in pieces) of bytes ``[start, stop)`` of a file.

    ``start`` and ``stop`` are line starts (see ``heldout_start``) or cuts between two
    words inside a line (``cut_in_line``): a piece that runs past ``stop`` ends there.  A
    byte-order mark says the encoding and is not part of the text.  ``encoding``:
    the file's, as ``find_files`` chose it (``CorpusFile.encoding``); without it,
    what a byte-order mark announces, else UTF-8.
    """
    encoding = stats.encoding = encoding or file_encoding(path)
    with open(path, "rb") as f:
        f.seek(start)
        if encoding.unit == 1:
            pieces = _pieces(f, start)
        else:
            pieces = _wide_pieces(f, start, encoding.codec)
        for offset, raw in pieces:
            if stop is not None:
                if offset >= stop:
                    return
                raw = raw[: stop - offset]  # a cut inside a line: the rest is the other part's
            if stats.digest is not None:
                stats.digest.update(raw)
            yield _decode(raw[encoding.bom :] if offset == 0 else raw, encoding.codec, stats)


def warn_invalid(path: Path, stats: ReadStats) -> None:
    if stats.invalid:
        log.warning(
            "%s: %d invalid %s sequence%s replaced by U+FFFD.",
            path, stats.invalid, stats.encoding.label, "" if stats.invalid == 1 else "s",
        )
