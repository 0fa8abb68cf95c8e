"""Cutting Qt's ICU data down to the items the app needs (Linux).

The PySide6 wheel's ``libicudata`` is one exported symbol (``icudt<N>_dat``)
holding an ICU *common data package*: a header, a table of contents (item
names and offsets) and the items, each aligned to 16 bytes.  The build reads
that symbol's bytes (``elf.elf_symbol``), writes a package holding only the
items it keeps, and assembles it into a new library with the same soname and
symbol (``.incbin`` in a C compiler's assembler), so Qt loads it unchanged.
"""

from __future__ import annotations

import fnmatch
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .elf import elf_symbol
from .libraries import TocEntry, library_key

ICU_DATA_MAGIC = b"\xda\x27"  # bytes 2-3 of every ICU data header
COMMON_DATA_FORMAT = b"CmnD"  # the header's dataFormat for a common data package
ALIGNMENT = 16  # ICU aligns every item to 16 bytes


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) & ~(ALIGNMENT - 1)


def common_data_items(blob: bytes) -> tuple[int, list[tuple[str, bytes]]]:
    """(header size, [(name, bytes)]) of an ICU common data package.

    Names carry the package prefix ("icudt73l/coll/root.res"); an item's bytes
    run to the next item's start, so they include its alignment padding.
    """
    (header_size,) = struct.unpack_from("<H", blob, 0)
    if blob[2:4] != ICU_DATA_MAGIC or blob[12:16] != COMMON_DATA_FORMAT:
        raise ValueError("not an ICU common data package")
    (count,) = struct.unpack_from("<I", blob, header_size)
    offsets = [struct.unpack_from("<II", blob, header_size + 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_at, data_at) in enumerate(offsets):  # offsets count from the table of contents
        name_at += header_size
        name = blob[name_at: blob.index(b"\0", name_at)].decode("ascii")
        end = offsets[i + 1][1] if i + 1 < count else len(blob) - header_size
        items.append((name, blob[header_size + data_at: header_size + end]))
    return header_size, items


def subset_icu_common_data(blob: bytes, keep: Callable[[str], bool]) -> tuple[bytes, int, int]:
    """(package, items kept, items before): ``blob`` holding only the items whose names ``keep`` accepts.

    ``keep`` sees names without the package prefix ("coll/root.res").  The
    header is copied as it is.
    """
    header_size, everything = common_data_items(blob)
    items = [(name, item) for name, item in everything if keep(name.split("/", 1)[1])]
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    toc = struct.pack("<I", len(items))
    name_at, data_at = 4 + 8 * len(items), _align(header_size + 4 + 8 * len(items) + len(names)) - header_size
    body = b""
    for name, item in items:
        toc += struct.pack("<II", name_at, data_at + len(body))
        name_at += len(name) + 1
        body += item + b"\0" * (_align(len(item)) - len(item))
    head = blob[:header_size] + toc + names
    return head + b"\0" * (header_size + data_at - len(head)) + body, len(items), len(everything)


def matches_any(patterns: Iterable[str]) -> Callable[[str], bool]:
    """A ``keep`` for ``subset_icu_common_data``: the name matches one of the shell-style patterns."""
    patterns = tuple(patterns)
    return lambda name: any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def data_library_assembly(symbol: str, data_file: str) -> str:
    """Assembler source of a library exporting ``symbol``: the bytes of ``data_file``, 16-aligned."""
    return (f'.section .rodata\n.globl {symbol}\n.type {symbol}, %object\n.balign 16\n'
            f'{symbol}:\n.incbin "{data_file}"\n.size {symbol}, . - {symbol}\n'
            '.section .note.GNU-stack,"",%progbits\n')


def build_data_library(blob: bytes, symbol: str, soname: str, workdir: Path, compiler: str) -> Path:
    """Compile ``workdir/<soname>``: a shared library whose ``symbol`` holds ``blob``.

    Raises ``OSError`` or ``subprocess.CalledProcessError`` when the compiler fails.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "icudata.dat").write_bytes(blob)
    (workdir / "icudata.S").write_text(data_library_assembly(symbol, "icudata.dat"), encoding="ascii")
    library = workdir / soname
    subprocess.run([compiler, "-shared", "-nostdlib", f"-Wl,-soname,{soname}",
                    "-o", str(library), "icudata.S"], cwd=workdir, check=True)
    return library


def find_compiler() -> str | None:
    return shutil.which("cc") or shutil.which("gcc")


def _icudata_entries(binaries: list[TocEntry]) -> Iterator[TocEntry]:
    return (e for e in binaries if library_key(e[0]).startswith("icudata") and e[2] == "BINARY")


def trim_icu_data(binaries: list[TocEntry], kept_patterns: Iterable[str], workdir: Path) -> list[TocEntry]:
    """Replace Qt's libicudata by one holding the items ``kept_patterns`` match (Linux, needs a C compiler).

    The new library is built under ``workdir/icu``; without a compiler, or
    when it fails, the full data is shipped and the reason printed.
    """
    entries = list(_icudata_entries(binaries))
    compiler = find_compiler()
    if not sys.platform.startswith("linux") or not entries:
        return binaries
    if compiler is None:
        print("build.spec: no C compiler: shipping the full ICU data (32 MB more)")
        return binaries
    dest, src, kind = entries[0]
    original = Path(src).read_bytes()
    symbol = elf_symbol(original, "icudt", "_dat")
    blob, kept, total = subset_icu_common_data(
        original[symbol.offset: symbol.offset + symbol.size], matches_any(kept_patterns))
    try:
        library = build_data_library(blob, symbol.name, Path(dest).name, Path(workdir) / "icu", compiler)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"build.spec: cannot build the trimmed ICU data ({e}): shipping the full ICU data")
        return binaries
    print(f"build.spec: ICU data trimmed to {kept} of {total} items: "
          f"{len(original) / 1e6:.1f} MB -> {library.stat().st_size / 1e6:.1f} MB")
    return [(d, str(library), k) if (d, s, k) == entries[0] else (d, s, k) for d, s, k in binaries]
