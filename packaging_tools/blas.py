"""Leaving numpy's OpenBLAS out of the build (Linux): a small stand-in library in its place.

numpy's wheel links its extension modules to OpenBLAS (``libscipy_openblas64_``,
25 MB, and the Fortran runtime it needs, 3 MB), for matrix products and
``numpy.linalg``.  The app never multiplies matrices in numpy: onnxruntime
runs the network with its own kernels, and the engine ranks, mixes and
filters with element-wise operations, sorting and searching.  But the
extension modules cannot even be loaded without a library of that name
exporting the functions they import.

So the build compiles a stand-in with the same soname that exports exactly
those functions (read from the modules' dynamic symbol tables, so a new
numpy's list is followed), and ships it instead.  Two of them are real: the
float and double dot products, which numpy's own import-time sanity check
calls (``numpy/__init__.py``, ``x.dot(x)``).  Every other one prints one
sentence naming the function and aborts: a program that needed BLAS fails at
once and says why, rather than computing something wrong.
``tests/packaging/test_blas.py`` runs the engine with the stand-in
preloaded, so a change that starts to need BLAS is caught before a build.
``build.spec -- --with-blas`` keeps OpenBLAS.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Iterable

from .elf import dynamic_symbols
from .libraries import ImportsOf, TocEntry, direct_imports, library_key

BLAS_KEYS = ("scipy_openblas", "openblas")  # library keys (``library_key``) of the BLAS numpy links to
# The dot products numpy's import calls; ILP64 (64-bit integer) arguments as scipy-openblas has.
REAL_DOT = re.compile(r"cblas_(?P<kind>[sd])dot(?:64_)?$")
_C_TYPES = {"s": "float", "d": "double"}

_PREAMBLE = r"""/* A stand-in for BLAS, written by build.spec (packaging_tools/blas.py). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void left_out(const char *name) {
    fprintf(stderr, "keyboard-app: numpy called %s, a BLAS function this build leaves out "
                    "(build.spec -- --with-blas keeps it).\n", name);
    fflush(stderr);
    abort();
}
"""

_DOT = """
{ctype} {name}(int64_t n, const {ctype} *x, int64_t incx, const {ctype} *y, int64_t incy) {{
    {ctype} sum = 0;
    int64_t ix = incx < 0 ? (1 - n) * incx : 0, iy = incy < 0 ? (1 - n) * incy : 0;
    for (int64_t i = 0; i < n; i++, ix += incx, iy += incy)
        sum += x[ix] * y[iy];
    return sum;
}}
"""

_LEFT_OUT = 'void {name}(void) {{ left_out("{name}"); }}\n'


def is_blas(dest: str) -> bool:
    return library_key(dest).startswith(BLAS_KEYS)


def imported_from(blas: str | Path, users: Iterable[str | Path]) -> list[str]:
    """The functions the files ``users`` import that the library ``blas`` defines, sorted."""
    defined = {name for name, is_defined in dynamic_symbols(Path(blas).read_bytes()) if is_defined}
    wanted = set()
    for user in users:
        wanted |= {name for name, is_defined in dynamic_symbols(Path(user).read_bytes()) if not is_defined}
    return sorted(wanted & defined)


def stand_in_source(functions: Iterable[str]) -> str:
    """C source of the stand-in: the dot products real, every other function aborting."""
    parts = [_PREAMBLE]
    for name in functions:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"{name!r} is not a C function name")
        dot = REAL_DOT.search(name)
        parts.append(_DOT.format(ctype=_C_TYPES[dot["kind"]], name=name) if dot else _LEFT_OUT.format(name=name))
    return "".join(parts)


def build_stand_in(functions: Iterable[str], soname: str, workdir: Path, compiler: str) -> Path:
    """Compile ``workdir/<soname>``, the stand-in exporting ``functions``.

    Raises ``OSError`` or ``subprocess.CalledProcessError`` when the compiler fails.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "blas.c").write_text(stand_in_source(functions), encoding="ascii")
    library = workdir / soname
    subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-s", f"-Wl,-soname,{soname}",
                    "-o", str(library), "blas.c"], cwd=workdir, check=True)
    return library


def replace_blas(binaries: list[TocEntry], workdir: Path, compiler: str | None,
                 imports_of: ImportsOf = direct_imports) -> list[TocEntry]:
    """The same entries with numpy's BLAS library pointing at a stand-in built under ``workdir/blas``.

    The libraries only BLAS needed (the Fortran runtime) are left for
    ``prune_unused_libraries`` to drop.  Off Linux, without a compiler, or
    when it fails, BLAS ships and the reason is printed.
    """
    entries = [e for e in binaries if is_blas(e[0]) and e[2] == "BINARY"]
    if not sys.platform.startswith("linux") or not entries:
        return binaries
    if compiler is None:
        print("build.spec: no C compiler: shipping numpy's BLAS (28 MB more)")
        return binaries
    result = list(binaries)
    for dest, src, kind in entries:
        soname = Path(dest).name
        users = [s for d, s, k in binaries if k == "EXTENSION"
                 and any(library_key(name) == library_key(soname) for name, _ in imports_of(s))]
        functions = imported_from(src, users)
        try:
            library = build_stand_in(functions, soname, Path(workdir) / "blas", compiler)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"build.spec: cannot build the BLAS stand-in ({e}): shipping numpy's BLAS")
            return binaries
        print(f"build.spec: BLAS left out: {soname} ({Path(src).stat().st_size / 1e6:.1f} MB) replaced by "
              f"a {library.stat().st_size / 1e3:.0f} kB stand-in for the {len(functions)} functions "
              f"{len(users)} numpy modules import")
        result = [(d, str(library), k) if (d, s, k) == (dest, src, kind) else (d, s, k) for d, s, k in result]
    return result
