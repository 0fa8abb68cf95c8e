"""The standalone program, tested as it is shipped: build.spec's one-folder build.

Builds once per run (about a minute on 2 cores), then runs the frozen
program's ``--self-test`` and starts its window offscreen.  Skip with
``-m "not frozen"``.  The figures (build time, size, start-up) are printed;
run with ``-s`` to see them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.frozen, pytest.mark.slow, pytest.mark.timeout(900)]

APP_NAME = "keyboard-app"
FORBIDDEN = {"torch", "torchgen", "functorch", "onnx", "onnxscript"}
# Issue 17's limits, which build.spec also enforces (MAX_FOLDER_MB, MAX_FILE_MB):
# the Linux folder is ~130 MB plus the model (docs/PACKAGING.md).  torch inside
# would be ~950 MB; numpy's OpenBLAS would add 28 MB, all of ICU's locale data 29.
SIZE_BUDGET_MB = 150
FILE_BUDGET_MB = 70
# Qt's offscreen platform says this whenever a window is shown; nothing else
# may appear on the GUI's stderr.
BENIGN_STDERR = {"This plugin does not support propagateSizeHints()"}


@dataclass
class FrozenBuild:
    folder: Path
    program: Path
    build_s: float
    log: str

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file() and not p.is_symlink())

    def run(self, *args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.program), *args], env=env, capture_output=True, text=True,
                              timeout=timeout, cwd=self.folder.parent)


def report(line: str) -> None:
    print(f"[frozen build] {line}")


@pytest.fixture(scope="module")
def frozen(tmp_path_factory, shipped_model):
    out = tmp_path_factory.mktemp("pyinstaller")
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(out / "dist"), "--workpath", str(out / "build"),
               str(ROOT / "build.spec"), "--", "--onedir", "--model", str(shipped_model)]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=840)
    build_s = time.perf_counter() - started
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"pyinstaller build.spec failed:\n{log[-6000:]}"
    folder = out / "dist" / APP_NAME
    program = folder / (APP_NAME + (".exe" if sys.platform == "win32" else ""))
    assert program.is_file(), log[-3000:]
    shutil.rmtree(out / "build")  # PyInstaller's work files (~100 MB)
    report(f"one-folder build in {build_s:.0f} s, model {shipped_model}")
    yield FrozenBuild(folder, program, build_s, log)
    shutil.rmtree(out, ignore_errors=True)


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The user's environment with private user folders; no display unless asked for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "PYTHON"))}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(tmp_path / name.lower())
    env.update(extra)
    return env


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


def test_the_folder_holds_no_torch_or_onnx(frozen):
    from PyInstaller.archive.readers import CArchiveReader

    files = [p.relative_to(frozen.folder) for p in frozen.folder.rglob("*")]
    assert not [f for f in files if FORBIDDEN & {part.lower() for part in f.parts}]
    assert not [f for f in files if f.name.lower().startswith("libtorch")]
    modules = CArchiveReader(str(frozen.program)).open_embedded_archive("PYZ.pyz").toc
    assert not {name.split(".")[0] for name in modules} & FORBIDDEN
    assert "onnxruntime" in {name.split(".")[0] for name in modules}


def test_the_folder_stays_small(frozen):
    size_mb = frozen.size_bytes() / 1e6
    largest = max((p for p in frozen.folder.rglob("*") if p.is_file() and not p.is_symlink()),
                  key=lambda p: p.stat().st_size)
    report(f"folder {frozen.folder.name}/ is {size_mb:.1f} MB (MB = 10^6 bytes); largest file "
           f"{largest.name} {largest.stat().st_size / 1e6:.1f} MB")
    assert size_mb <= SIZE_BUDGET_MB, frozen.log[-3000:]
    assert largest.stat().st_size <= FILE_BUDGET_MB * 1e6


def test_numpys_blas_and_the_desktops_libraries_are_left_out(frozen):
    names = {p.name for p in frozen.folder.rglob("*")}
    if sys.platform.startswith("linux"):
        (blas,) = [p for p in frozen.folder.rglob("libscipy_openblas*") if not p.is_symlink()]
        assert blas.stat().st_size < 100_000  # the stand-in (packaging_tools/blas.py), not 25 MB
        assert not [n for n in names if n.startswith(("libgfortran", "libquadmath"))]
        assert not names & {"libX11.so.6", "libfontconfig.so.1", "libfreetype.so.6", "libdbus-1.so.3",
                            "libsystemd.so.0", "libgcrypt.so.20"}
        # kept: what desktops often lack (Qt's xcb plugin needs them)
        assert {"libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"} <= names


def test_qt_network_is_kept_for_the_single_instance_check_and_pynput_is_left_out_on_linux(frozen):
    """A second start reaches the running copy through QLocalSocket (ui/app.py): QtNetwork
    must be in.  On X11 the keyboard types through python-xlib, so pynput stays out: its
    hook imported it at build time, which without a display warned and kept a part of it."""
    from PyInstaller.archive.readers import CArchiveReader

    names = {p.name for p in frozen.folder.rglob("*")}
    assert any(n.startswith("QtNetwork.") for n in names)
    if sys.platform.startswith("linux"):
        modules = CArchiveReader(str(frozen.program)).open_embedded_archive("PYZ.pyz").toc
        assert not [m for m in modules if m.split(".")[0] == "pynput"]
        assert "Xlib.ext.xtest" in modules
        assert "pynput" not in frozen.log


def test_the_frozen_program_keeps_onnxruntimes_telemetry_off(frozen, tmp_path):
    """onnxruntime 1.32 writes a device id and a queue of usage events under
    ~/.cache/Microsoft/ as soon as it is imported, unless ORT_DISABLE_TELEMETRY is set:
    the program sets it itself (build.spec's launcher)."""
    env = app_env(tmp_path, HOME=str(tmp_path / "home"))
    env.pop("ORT_DISABLE_TELEMETRY", None)
    result = frozen.run("--self-test", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    written = [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "Microsoft" in p.parts]
    assert written == []


def test_the_frozen_self_test_predicts_without_a_display(frozen, tmp_path):
    started = time.perf_counter()
    result = frozen.run("--self-test", env=app_env(tmp_path))
    wall_s = time.perf_counter() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running: frozen (PyInstaller)" in result.stdout
    assert "self-test passed" in result.stdout
    assert "no application object" in result.stdout
    assert result.stderr == ""
    for line in result.stdout.splitlines():
        report(f"self-test: {line}")
    report(f"self-test process: {wall_s * 1000:.0f} ms from start to exit")


def test_the_frozen_window_starts_and_quits_cleanly(frozen, tmp_path):
    before = snapshot(frozen.folder)
    started = time.perf_counter()
    result = frozen.run("--quit-after", "2", env=app_env(tmp_path, QT_QPA_PLATFORM="offscreen"), timeout=60)
    report(f"window: --quit-after 2 exited {result.returncode} after {time.perf_counter() - started:.1f} s")
    assert result.returncode == 0, result.stderr
    alarming = [line for line in result.stderr.splitlines() if line.strip() and line not in BENIGN_STDERR]
    assert alarming == []
    # User data goes to platformdirs' folders, never into the program's folder.
    assert snapshot(frozen.folder) == before


def test_the_frozen_window_keeps_its_phrase_tables_stored_copy_in_the_users_cache(frozen, tmp_path, shipped_model):
    """The shipped tables are compressed: the first start writes their stored copy to the
    user's cache folder (never the program's), and the next start reads it."""
    import zipfile

    tables = shipped_model / "phrases.npz"
    if not tables.is_file() or {i.compress_type for i in zipfile.ZipFile(tables).infolist()} == {zipfile.ZIP_STORED}:
        pytest.skip("the shipped model has no compressed phrase tables")
    before = snapshot(frozen.folder)
    env = app_env(tmp_path, QT_QPA_PLATFORM="offscreen")
    first = frozen.run("--verbose", "--quit-after", "6", env=env, timeout=90)
    assert first.returncode == 0, first.stderr
    assert "first suggestions" in first.stderr, first.stderr[-2000:]
    copies = sorted((tmp_path / "xdg_cache_home").rglob("*.npz"))
    assert [p.parent.name for p in copies] == ["phrase-tables"]
    assert "a stored copy of the phrase tables" in first.stderr
    second = frozen.run("--verbose", "--quit-after", "6", env=env, timeout=90)
    assert second.returncode == 0, second.stderr
    assert "first suggestions" in second.stderr, second.stderr[-2000:]
    assert "a stored copy of the phrase tables" not in second.stderr  # read, not written again
    assert sorted((tmp_path / "xdg_cache_home").rglob("*.npz")) == copies
    assert snapshot(frozen.folder) == before
    for run, result in (("first", first), ("second", second)):
        line = next(line for line in result.stderr.splitlines() if "first suggestions" in line)
        report(f"window, {run} start: {line.split(': ', 2)[-1]}")


ICU_PROBE = r"""
import json
from PySide6.QtCore import QCollator, QCoreApplication, QLocale, QTimeZone
app = QCoreApplication([])
collator = QCollator(QLocale("en_US"))
collator.setNumericMode(True)
words = ["zebra", "Äpfel", "apple", "file10", "file9", "École", "eagle", "Zoo"]
zone = QTimeZone(b"Europe/Berlin")
print(json.dumps({
    "sorted": sorted(words, key=collator.sortKey),
    "upper": [QLocale("en_US").toUpper("straße"), QLocale("tr_TR").toUpper("istanbul")],
    "zone": zone.displayName(QTimeZone.TimeType.StandardTime, QTimeZone.NameType.LongName,
                             QLocale("en_US")),
}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ICU ships with Qt on Linux only")
def test_the_trimmed_icu_data_serves_what_qt_asks_of_it(frozen, tmp_path):
    libraries = sorted((frozen.folder / "_internal" / "PySide6" / "Qt" / "lib").glob("libicudata.so.*"))
    if not libraries or libraries[0].stat().st_size > 10e6:
        pytest.skip("this build ships the full ICU data (or none)")
    library = libraries[0]

    def probe(**extra: str) -> subprocess.CompletedProcess:
        env = app_env(tmp_path, **extra)
        return subprocess.run([sys.executable, "-c", ICU_PROBE], env=env, capture_output=True,
                              text=True, timeout=60)

    full, trimmed = probe(), probe(LD_PRELOAD=str(library))
    assert trimmed.returncode == 0 and trimmed.stderr == "", trimmed.stderr
    assert trimmed.stdout == full.stdout
