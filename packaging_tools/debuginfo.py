"""Stripping debug information from the few libraries that carry it (Linux).

PyInstaller's own ``strip=True`` strips everything, and that breaks
libraries that auditwheel/patchelf rewrote (numpy's OpenBLAS fails with
"ELF load command address/offset not page-aligned"); only a few libraries
carry debug info at all (libpython: 23 MB -> 6 MB).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .elf import has_debug_info
from .libraries import TocEntry


def strip_debug_info(binaries: list[TocEntry], workdir: Path) -> list[TocEntry]:
    """The same entries, those with debug info pointing at a stripped copy under ``workdir/stripped``.

    Nothing changes off Linux or without binutils' ``strip``.
    """
    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return binaries
    out = Path(workdir) / "stripped"
    result, before, after = [], 0, 0
    for dest, src, kind in binaries:
        if kind in ("BINARY", "EXTENSION") and has_debug_info(src):
            target = out / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([strip, "--strip-unneeded", "-o", str(target), src], check=True)
            before += Path(src).stat().st_size
            after += target.stat().st_size
            src = str(target)
        result.append((dest, src, kind))
    if before:
        print(f"build.spec: stripped debug info: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    return result
