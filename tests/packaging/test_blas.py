"""The BLAS stand-in (packaging_tools/blas.py): numpy and the engine run without OpenBLAS.

The stand-in is compiled here from this venv's numpy, exactly as build.spec
does, and preloaded into a fresh interpreter (``LD_PRELOAD``; it has
OpenBLAS's soname, so numpy's modules bind to it and the real library is
never mapped).  The engine's work there, from loading the shipped model to
the typo channel and ``evaluate``, proves the frozen program needs no BLAS,
and catches a change that starts to; a matrix product shows what a user
would see if one did.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from packaging_tools import blas, icu, libraries  # noqa: E402

COMPILER = icu.find_compiler()
pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the stand-in is built on Linux only"),
    pytest.mark.skipif(COMPILER is None, reason="no C compiler (cc or gcc) on this machine"),
]


def numpy_blas() -> tuple[Path, list[Path]]:
    """This venv's numpy BLAS library, and numpy's extension modules."""
    import numpy

    package = Path(numpy.__file__).parent
    found = sorted(p for p in (package.parent / "numpy.libs").glob("lib*.so*") if blas.is_blas(p.name))
    if not found:
        pytest.skip("this numpy carries no OpenBLAS of its own")
    return found[0], sorted(package.rglob("*.so"))


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """(the stand-in, the real library, the functions numpy imports from it)."""
    real, modules = numpy_blas()
    functions = blas.imported_from(real, modules)
    library = blas.build_stand_in(functions, real.name, tmp_path_factory.mktemp("blas"), COMPILER)
    return library, real, functions


def run_preloaded(library: Path, code: str, *args: str) -> subprocess.CompletedProcess:
    env = {"LD_PRELOAD": str(library), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                          capture_output=True, text=True, timeout=300)


MAPPED = """
import sys
maps = open("/proc/self/maps").read()
print("real BLAS mapped:", sys.argv[1] in maps, "| Fortran runtime mapped:", "libgfortran" in maps)
"""


def test_the_stand_in_exports_every_function_numpy_imports_from_blas(stand_in):
    from packaging_tools.elf import dynamic_symbols

    library, real, functions = stand_in
    assert any("gemm" in name for name in functions) and any("dot" in name for name in functions)
    exported = {name for name, defined in dynamic_symbols(library.read_bytes()) if defined}
    assert set(functions) <= exported
    assert library.stat().st_size < real.stat().st_size / 100  # 25 MB -> a few kB


def test_numpy_loads_on_the_stand_in_and_never_maps_openblas(stand_in):
    library, real, _ = stand_in
    result = run_preloaded(library, "import numpy\n" + MAPPED, str(real))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "real BLAS mapped: False | Fortran runtime mapped: False"


def test_the_dot_products_numpy_checks_at_import_are_real(stand_in):
    library, _, _ = stand_in
    code = """
    import math
    import numpy as np
    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        x, y = rng.standard_normal(101).astype(dtype), rng.standard_normal(303).astype(dtype)
        for a, b in ((x, y[:101]), (x[::-1], y[::3]), (x[::2], y[-1:-103:-2]), (x[:0], y[:0])):
            want = math.fsum(float(p) * float(q) for p, q in zip(a, b))
            got = float(a.dot(b))
            assert abs(got - want) <= 1e-4 * max(1.0, abs(want)), (dtype, got, want)
    print("dots ok")
    """
    result = run_preloaded(library, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "dots ok"


def test_the_engine_predicts_evaluates_and_corrects_without_blas(stand_in, shipped_model, patterned_text, tmp_path):
    library, real, _ = stand_in
    text = tmp_path / "text.txt"
    text.write_text(patterned_text[:3000], encoding="utf-8")
    code = """
    import sys
    from keyboard_app.engine.evaluate import evaluate
    from keyboard_app.engine.predictor import Predictor
    predictor = Predictor.load(sys.argv[1])
    predictor.typo_tolerance = True
    typed = ""
    for word in open(sys.argv[2], encoding="utf-8").read().split()[:120]:
        for letter in word:
            predictor.suggest(typed)
            typed += letter
        shown = predictor.suggest(typed)
        typed += " "
    predictor.suggest("the qiuck")  # a slip: the typo channel
    report = evaluate(predictor, [open(sys.argv[2], encoding="utf-8").read()], max_words=150)
    maps = open("/proc/self/maps").read()
    print("ok", sys.argv[3] in maps, "libgfortran" in maps)
    """
    result = run_preloaded(library, code, str(shipped_model), str(text), str(real))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-3:] == ["ok", "False", "False"]


def test_a_matrix_product_stops_the_program_with_one_sentence(stand_in):
    library, _, functions = stand_in
    result = run_preloaded(library, "import numpy as np\na = np.ones((3, 3), np.float32)\nprint(a @ a)")
    assert result.returncode == -signal.SIGABRT
    (gemm,) = [name for name in functions if "cblas_sgemm" in name]
    assert result.stderr.splitlines()[0] == (
        f"keyboard-app: numpy called {gemm}, a BLAS function this build leaves out "
        "(build.spec -- --with-blas keeps it).")
    assert result.stdout == ""


def test_only_c_names_make_a_stand_in():
    with pytest.raises(ValueError, match="not a C function name"):
        blas.stand_in_source(["ok_name", "evil(); system(\"x\")"])


def test_the_build_replaces_blas_and_pruning_then_drops_the_fortran_runtime(stand_in, tmp_path, capsys):
    _, real, _ = stand_in
    import numpy

    module = next(Path(numpy.__file__).parent.glob("_core/_multiarray_umath*.so"))
    fortran = sorted(real.parent.glob("libgfortran*"))
    binaries = [("numpy/_core/" + module.name, str(module), "EXTENSION"),
                ("numpy.libs/" + real.name, str(real), "BINARY"),
                *[("numpy.libs/" + f.name, str(f), "BINARY") for f in fortran]]
    replaced = blas.replace_blas(binaries, tmp_path, COMPILER)
    assert [d for d, _, _ in replaced] == [d for d, _, _ in binaries]
    (entry,) = [e for e in replaced if blas.is_blas(e[0])]
    assert entry[1] == str(tmp_path / "blas" / real.name)
    assert "BLAS left out" in capsys.readouterr().out
    pruned = libraries.prune_unused_libraries(replaced, dlopened=())
    assert {d for d, _, _ in pruned} == {binaries[0][0], binaries[1][0]}


def test_without_a_compiler_blas_ships(capsys, tmp_path):
    real, _ = numpy_blas()
    binaries = [("numpy.libs/" + real.name, str(real), "BINARY")]
    assert blas.replace_blas(binaries, tmp_path, None) == binaries
    assert "no C compiler: shipping numpy's BLAS" in capsys.readouterr().out
