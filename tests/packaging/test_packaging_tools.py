"""packaging_tools: what build.spec does to the collected files, tested without a build.

The ELF reader runs on real files of this machine (/bin/ls, the venv's
libraries); the ICU cut on small packages crafted here; the pruning rules on
fake trees whose "libraries" are text files naming what they link to.  The
steps that need a C compiler or binutils are skipped where those are missing.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from packaging_tools import checks, debuginfo, elf, icu, libraries  # noqa: E402

LINUX = sys.platform.startswith("linux")
COMPILER = icu.find_compiler()
needs_linux = pytest.mark.skipif(not LINUX, reason="the ELF and ICU steps run on Linux only")
needs_compiler = pytest.mark.skipif(COMPILER is None, reason="no C compiler (cc or gcc) on this machine")
needs_readelf = pytest.mark.skipif(shutil.which("readelf") is None, reason="binutils' readelf is missing")
needs_strip = pytest.mark.skipif(shutil.which("strip") is None, reason="binutils' strip is missing")

LS = Path("/bin/ls")
needs_ls = pytest.mark.skipif(not LS.is_file() or not LS.read_bytes().startswith(elf.ELF64_LITTLE_ENDIAN),
                              reason="/bin/ls is not a 64-bit little-endian ELF file here")


def venv_library(pattern: str) -> Path:
    import PySide6

    found = sorted(Path(PySide6.__file__).parent.glob(pattern))
    if not found:
        pytest.skip(f"no {pattern} in this PySide6 wheel")
    return found[0]


def readelf(*args: str) -> str:
    return subprocess.run(["readelf", "-W", *args], capture_output=True, text=True, check=True).stdout


# --------------------------------------------------------------------------
# ELF
# --------------------------------------------------------------------------
@needs_ls
@needs_readelf
def test_the_sections_of_bin_ls_are_those_readelf_lists():
    listed = {}
    for line in readelf("-S", str(LS)).splitlines():
        if line.strip().startswith("[") and not line.strip().startswith("[Nr]"):
            fields = line.split("]", 1)[1].split()
            if len(fields) >= 5 and fields[0].startswith("."):
                listed[fields[0]] = (int(fields[3], 16), int(fields[4], 16))  # offset, size
    sections = elf.elf_sections(LS.read_bytes())
    assert {s.name: (s.offset, s.size) for s in sections if s.name} == listed


@needs_ls
def test_the_dynamic_symbol_table_links_to_its_string_table():
    sections = elf.elf_sections(LS.read_bytes())
    (dynsym,) = [s for s in sections if s.kind == elf.SHT_DYNSYM]
    assert sections[dynsym.link].name == ".dynstr"
    assert dynsym.entsize == 24  # Elf64_Sym


@needs_linux
def test_the_icu_data_symbol_is_found_and_points_at_an_icu_package():
    data = venv_library("Qt/lib/libicudata.so.*").read_bytes()
    symbol = elf.elf_symbol(data, "icudt", "_dat")
    assert symbol.name.startswith("icudt") and symbol.name.endswith("_dat")
    blob = data[symbol.offset: symbol.offset + symbol.size]
    assert blob[2:4] == icu.ICU_DATA_MAGIC and blob[12:16] == icu.COMMON_DATA_FORMAT
    assert symbol.offset + symbol.size <= len(data)


@needs_linux
@needs_readelf
def test_a_symbol_has_the_size_readelf_gives_it():
    library = venv_library("Qt/lib/libQt6Core.so.*")
    symbol = elf.elf_symbol(library.read_bytes(), "qVersion", "")
    listed = [line.split() for line in readelf("--dyn-syms", str(library)).splitlines()]
    sizes = {fields[7].split("@")[0]: int(fields[2], 0) for fields in listed
             if len(fields) >= 8 and fields[0][:-1].isdigit() and fields[6] != "UND"}
    assert symbol.name == "qVersion"
    assert symbol.size == sizes["qVersion"]


@needs_ls
def test_a_symbol_the_file_only_imports_is_not_found():
    with pytest.raises(ValueError, match="no symbol malloc"):
        elf.elf_symbol(LS.read_bytes(), "malloc", "")  # defined in libc, not in ls


def test_other_files_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an ELF file\n")
    assert not elf.is_elf64le(text)
    assert not elf.has_debug_info(text)
    with pytest.raises(ValueError, match="not a 64-bit"):
        elf.elf_sections(b"\x7fELF\x01\x01" + bytes(64))  # a 32-bit file


@needs_ls
def test_bin_ls_carries_no_debug_info():
    assert elf.is_elf64le(LS)
    assert not elf.has_debug_info(LS)


@needs_ls
@needs_readelf
def test_the_libraries_bin_ls_links_to_are_those_readelf_lists():
    listed = [line.split("[", 1)[1].rstrip("]") for line in readelf("-d", str(LS)).splitlines()
              if "(NEEDED)" in line]
    assert listed and elf.needed_libraries(LS.read_bytes()) == listed


@needs_ls
@needs_readelf
def test_the_dynamic_symbols_of_bin_ls_are_those_readelf_lists():
    listed = set()
    for line in readelf("--dyn-syms", str(LS)).splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0].rstrip(":").isdigit():
            listed.add((fields[7].split("@")[0], fields[6] != "UND"))
    symbols = set(elf.dynamic_symbols(LS.read_bytes()))
    assert symbols == listed
    assert ("malloc", False) in symbols  # imported from libc


@needs_ls
def test_pruning_reads_the_libraries_a_real_file_links_to():
    needed = {name for name, _path in libraries.direct_imports(str(LS))}
    assert "libc.so.6" in needed


# --------------------------------------------------------------------------
# Which files are kept
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name, key", [
    ("libQt6Core.so.6", "qt6core"),
    ("PySide6/Qt/lib/libicudata.so.73", "icudata"),
    ("qwindows.dll", "qwindows"),
    ("libpython3.11.so.1.0", "python3.11"),
    ("libfoo.dylib", "foo"),
    ("numpy/core/_umath.cpython-311-x86_64-linux-gnu.so", "_umath.cpython-311-x86_64-linux-gnu"),
])
def test_library_keys(name, key):
    assert libraries.library_key(name) == key


PLUGINS = {"platforms": {"qxcb", "qoffscreen"}, "platformthemes": {"qxdgdesktopportal"}}


@pytest.mark.parametrize("dest, kept", [
    ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("PySide6/Qt/plugins/platforms/libqwayland-egl.so", False),
    ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", True),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
    ("PySide6/Qt/plugins/imageformats/libqjpeg.so", False),  # a type not named at all
    ("PySide6/Qt/translations/qtbase_de.qm", False),
    ("PySide6/Qt/lib/libQt6Core.so.6", True),
    ("PySide6/QtCore.abi3.so", True),
    ("numpy/translations/readme.txt", True),  # only Qt's translations go
    ("plugins/platforms/libqgtk3.so", True),  # not PySide6's
])
def test_which_qt_files_are_kept(dest, kept):
    assert libraries.keep_qt_file(dest, PLUGINS) is kept


def fake_tree(tmp_path: Path, links: dict[str, list[str]]) -> list[libraries.TocEntry]:
    """A TOC whose files are text files listing the names each one links to."""
    toc = []
    for dest, needs in links.items():
        src = tmp_path / "src" / dest
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text("\n".join(needs))
        kind = "EXTENSION" if dest.endswith(".abi3.so") else "BINARY"
        toc.append((dest, str(src), kind))
    return toc


def read_links(src: str) -> list[tuple[str, None]]:
    return [(name, None) for name in Path(src).read_text().split()]


def test_pruning_keeps_what_the_extensions_and_kept_plugins_link_to(tmp_path, capsys):
    toc = fake_tree(tmp_path, {
        "PySide6/QtGui.abi3.so": ["libQt6Gui.so.6"],
        "PySide6/Qt/lib/libQt6Gui.so.6": ["libQt6Core.so.6", "libc.so.6"],
        "PySide6/Qt/lib/libQt6Core.so.6": ["libicuuc.so.73"],
        "PySide6/Qt/lib/libicuuc.so.73": [],
        "PySide6/Qt/plugins/platforms/libqxcb.so": ["libxcb-icccm.so.4"],
        "libxcb-icccm.so.4": [],
        # left behind by the GTK theme plugin, which the Qt filter dropped:
        "libgtk-3.so.0": ["libcairo.so.2"],
        "libcairo.so.2": [],
        # loaded with dlopen(): nothing links to it
        "onnxruntime/capi/libonnxruntime_providers_shared.so": ["libdl.so.2"],
        "libdl.so.2": [],
    })
    toc.append(("libQt6Core.so", "libQt6Core.so.6", "SYMLINK"))
    kept = libraries.prune_unused_libraries(toc, dlopened=("onnxruntime_providers_shared",),
                                            imports_of=read_links)
    assert [Path(dest).name for dest, _src, _kind in kept] == [
        "QtGui.abi3.so", "libQt6Gui.so.6", "libQt6Core.so.6", "libicuuc.so.73", "libqxcb.so",
        "libxcb-icccm.so.4", "libonnxruntime_providers_shared.so", "libdl.so.2", "libQt6Core.so"]
    assert "left out 2 libraries nothing uses: libcairo.so.2, libgtk-3.so.0" in capsys.readouterr().out


def test_pruning_with_nothing_to_drop_says_nothing(tmp_path, capsys):
    toc = fake_tree(tmp_path, {"PySide6/QtCore.abi3.so": ["libQt6Core.so.6"], "libQt6Core.so.6": []})
    assert libraries.prune_unused_libraries(toc, dlopened=(), imports_of=read_links) == toc
    assert capsys.readouterr().out == ""


def test_libraries_left_to_the_host_go_and_so_does_what_only_they_needed(tmp_path, capsys):
    toc = fake_tree(tmp_path, {
        "PySide6/QtGui.abi3.so": ["libQt6Gui.so.6"],
        "PySide6/Qt/lib/libQt6Gui.so.6": ["libX11.so.6", "libxkbcommon.so.0"],
        "libX11.so.6": ["libXau.so.6"],
        "libXau.so.6": [],
        "libxkbcommon.so.0": [],
    })
    left = libraries.leave_to_host(toc, ["libX11.so.6", "libdbus-1.so.3"])
    assert "left to the host system (0.0 MB): libX11.so.6" in capsys.readouterr().out
    kept = libraries.prune_unused_libraries(left, dlopened=(), imports_of=read_links)
    assert [Path(dest).name for dest, _src, _kind in kept] == [
        "QtGui.abi3.so", "libQt6Gui.so.6", "libxkbcommon.so.0"]


def test_symbolic_links_to_files_left_out_go_too():
    kept = [("lib/libfoo.so.1", "/src/libfoo.so.1", "BINARY")]
    toc = [
        ("lib/libfoo.so", "libfoo.so.1", "SYMLINK"),  # its target is kept
        ("lib/libbar.so", "libbar.so.1", "SYMLINK"),  # its target was left out
        ("lib/libfoo.so.1", "/src/libfoo.so.1", "BINARY"),
        ("data/readme.txt", "/src/readme.txt", "DATA"),
    ]
    assert libraries.drop_dangling_symlinks(toc, kept) == [toc[0], toc[2], toc[3]]


# --------------------------------------------------------------------------
# ICU data
# --------------------------------------------------------------------------
PACKAGE = "icudt99l"


def icu_package(items: dict[str, bytes], header_size: int = 32) -> bytes:
    """A common data package laid out as ICU (and subset_icu_common_data) writes it."""
    header = struct.pack("<H", header_size) + icu.ICU_DATA_MAGIC + bytes(8) + icu.COMMON_DATA_FORMAT
    header += bytes(header_size - len(header))
    names = [f"{PACKAGE}/{name}".encode("ascii") + b"\0" for name in items]
    name_at = 4 + 8 * len(items)
    data_at = -(-(header_size + name_at + sum(map(len, names))) // 16) * 16 - header_size
    toc, body = struct.pack("<I", len(items)), b""
    for name, item in zip(names, items.values()):
        toc += struct.pack("<II", name_at, data_at + len(body))
        name_at += len(name)
        body += item + bytes(-len(item) % 16)
    head = header + toc + b"".join(names)
    return head + bytes(header_size + data_at - len(head)) + body


ITEMS = {
    "root.res": b"ROOT" * 5,  # 20 bytes: padded to 32
    "de.res": b"DE" * 8,  # 16 bytes: no padding
    "coll/root.res": b"collation",
    "coll/de.res": b"kollation",
    "uprops.icu": b"properties!",
}


def test_a_package_is_read_back_item_by_item():
    header_size, items = icu.common_data_items(icu_package(ITEMS))
    assert header_size == 32
    assert [name for name, _ in items] == [f"{PACKAGE}/{name}" for name in ITEMS]
    for (_name, got), want in zip(items, ITEMS.values()):
        assert got == want + bytes(-len(want) % 16)  # an item runs to the next one's start


def test_the_cut_keeps_only_the_items_asked_for():
    seen = []

    def keep(name: str) -> bool:
        seen.append(name)
        return name in {"root.res", "coll/root.res", "uprops.icu"}

    blob, kept, total = icu.subset_icu_common_data(icu_package(ITEMS), keep)
    assert seen == list(ITEMS)  # names without the package prefix
    assert (kept, total) == (3, 5)
    assert blob == icu_package({name: ITEMS[name] for name in ("root.res", "coll/root.res", "uprops.icu")})


def test_every_item_of_the_cut_starts_on_16_bytes():
    blob, _kept, _total = icu.subset_icu_common_data(icu_package(ITEMS), lambda name: name != "de.res")
    header_size = struct.unpack_from("<H", blob, 0)[0]
    (count,) = struct.unpack_from("<I", blob, header_size)
    starts = [struct.unpack_from("<II", blob, header_size + 4 + 8 * i)[1] + header_size for i in range(count)]
    assert count == 4 and all(start % 16 == 0 for start in starts)
    assert blob[:header_size] == icu_package(ITEMS)[:header_size]


def test_the_patterns_match_names_as_the_shell_does():
    keep = icu.matches_any(["*.icu", "root.res", "coll/root.res"])
    assert keep("uprops.icu") and keep("brkitr/char.icu") and keep("coll/root.res")
    assert not keep("coll/de.res") and not keep("de.res") and not keep("ROOT.RES")


def test_something_else_is_not_cut():
    with pytest.raises(ValueError, match="not an ICU common data package"):
        icu.subset_icu_common_data(b"\x20\x00" + bytes(62), lambda name: True)


@needs_linux
def test_keeping_everything_of_qts_icu_data_keeps_every_item():
    data = venv_library("Qt/lib/libicudata.so.*").read_bytes()
    symbol = elf.elf_symbol(data, "icudt", "_dat")
    original = data[symbol.offset: symbol.offset + symbol.size]
    blob, kept, total = icu.subset_icu_common_data(original, lambda name: True)
    assert kept == total > 1000
    assert icu.common_data_items(blob) == icu.common_data_items(original)


# --------------------------------------------------------------------------
# The C compiler step
# --------------------------------------------------------------------------
@needs_linux
@needs_compiler
def test_the_compiled_library_exports_the_data_under_its_symbol(tmp_path):
    blob = icu_package(ITEMS)
    library = icu.build_data_library(blob, "icudt99_dat", "libicudata.so.99", tmp_path, COMPILER)
    assert library == tmp_path / "libicudata.so.99"
    symbol = elf.elf_symbol(library.read_bytes(), "icudt", "_dat")
    assert symbol.name == "icudt99_dat"
    assert library.read_bytes()[symbol.offset: symbol.offset + symbol.size] == blob
    if shutil.which("readelf"):
        assert "(SONAME)" in (dynamic := readelf("-d", str(library)))
        assert "[libicudata.so.99]" in dynamic


@needs_linux
@needs_compiler
def test_a_failing_compiler_is_an_error(tmp_path):
    with pytest.raises(subprocess.CalledProcessError):
        icu.build_data_library(b"x", "not a symbol name", "libx.so", tmp_path, COMPILER)


@needs_linux
@needs_compiler
def test_trimming_replaces_the_icu_library_only(tmp_path, capsys):
    original = icu.build_data_library(icu_package(ITEMS), "icudt99_dat", "libicudata.so.99",
                                      tmp_path / "wheel", COMPILER)
    binaries = [("PySide6/Qt/lib/libicudata.so.99", str(original), "BINARY"),
                ("PySide6/Qt/lib/libicuuc.so.99", "/src/libicuuc.so.99", "BINARY")]
    result = icu.trim_icu_data(binaries, ["root.res", "coll/*"], tmp_path / "work")
    trimmed = tmp_path / "work" / "icu" / "libicudata.so.99"
    assert result == [("PySide6/Qt/lib/libicudata.so.99", str(trimmed), "BINARY"), binaries[1]]
    data = trimmed.read_bytes()
    symbol = elf.elf_symbol(data, "icudt", "_dat")
    _header, items = icu.common_data_items(data[symbol.offset: symbol.offset + symbol.size])
    assert [name for name, _ in items] == [f"{PACKAGE}/{n}" for n in ("root.res", "coll/root.res", "coll/de.res")]
    assert "ICU data trimmed to 3 of 5 items" in capsys.readouterr().out


def test_without_a_compiler_the_full_icu_data_ships(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(icu, "find_compiler", lambda: None)
    monkeypatch.setattr(sys, "platform", "linux")
    binaries = [("PySide6/Qt/lib/libicudata.so.73", "/src/libicudata.so.73", "BINARY")]
    assert icu.trim_icu_data(binaries, ["*"], tmp_path) == binaries
    assert "no C compiler: shipping the full ICU data" in capsys.readouterr().out


def test_without_icu_data_nothing_is_trimmed(tmp_path):
    binaries = [("libfoo.so", "/src/libfoo.so", "BINARY"), ("libicudata.so.73", "/src/x", "SYMLINK")]
    assert icu.trim_icu_data(binaries, ["*"], tmp_path) == binaries


# --------------------------------------------------------------------------
# Stripping debug information
# --------------------------------------------------------------------------
@needs_linux
@needs_compiler
@needs_strip
def test_only_libraries_with_debug_info_are_stripped(tmp_path, capsys):
    source = tmp_path / "f.c"
    source.write_text("int answer(void) { return 42; }\n")
    with_debug, without = tmp_path / "libdebug.so", tmp_path / "libplain.so"
    subprocess.run([COMPILER, "-shared", "-fPIC", "-g", "-o", str(with_debug), str(source)], check=True)
    subprocess.run([COMPILER, "-shared", "-fPIC", "-s", "-o", str(without), str(source)], check=True)
    assert elf.has_debug_info(with_debug) and not elf.has_debug_info(without)
    binaries = [("lib/libdebug.so", str(with_debug), "BINARY"), ("libplain.so", str(without), "BINARY"),
                ("data.txt", str(source), "DATA")]
    result = debuginfo.strip_debug_info(binaries, tmp_path / "work")
    stripped = tmp_path / "work" / "stripped" / "lib" / "libdebug.so"
    assert result == [("lib/libdebug.so", str(stripped), "BINARY"), binaries[1], binaries[2]]
    assert not elf.has_debug_info(stripped)
    assert stripped.stat().st_size < with_debug.stat().st_size
    assert "build.spec: stripped debug info:" in capsys.readouterr().out


# --------------------------------------------------------------------------
# Keeping the training stack out
# --------------------------------------------------------------------------
FORBIDDEN = ("torch", "torchgen", "functorch", "onnx", "onnxscript")


@pytest.mark.parametrize("path, hit", [
    ("torch/lib/libc10.so", "torch"),
    ("_internal/onnx/onnx_cpp2py_export.so", "onnx"),
    ("_internal/onnxruntime/capi/libonnxruntime.so.1", None),
    ("_internal/libtorch_cpu.so", "libtorch_cpu.so"),
    ("_internal/Torch/x.py", "Torch"),
])
def test_forbidden_paths(path, hit):
    assert checks.forbidden_path(path, FORBIDDEN) == hit


def test_forbidden_modules():
    assert checks.forbidden_module("torch.nn.functional", FORBIDDEN) == "torch"
    assert checks.forbidden_module("onnxruntime.capi", FORBIDDEN) is None


def test_an_analysis_with_torch_stops_the_build():
    analysis = SimpleNamespace(pure=[("torch.nn", "", "PYMODULE"), ("numpy", "", "PYMODULE")],
                               binaries=[("onnx/x.so", "", "BINARY")], datas=[])
    with pytest.raises(SystemExit, match=r"slipped into the build: onnx/x.so \(onnx\), torch.nn \(torch\)"):
        checks.check_no_forbidden(analysis, FORBIDDEN)
    checks.check_no_forbidden(SimpleNamespace(pure=[("numpy", "", "PYMODULE")], binaries=[], datas=[]),
                              FORBIDDEN)


def test_the_output_folder_report(tmp_path, capsys):
    folder = tmp_path / "keyboard-app"
    (folder / "_internal" / "PySide6" / "Qt").mkdir(parents=True)
    (folder / "_internal" / "PySide6" / "Qt" / "libQt6Core.so.6").write_bytes(bytes(3_000_000))
    (folder / "keyboard-app").write_bytes(bytes(1_000_000))
    checks.check_output_folder(folder, FORBIDDEN)
    out = capsys.readouterr().out
    assert f"{folder} is 4.0 MB in 2 files" in out
    assert "3.0 MB  _internal/PySide6/Qt" in out
    (folder / "_internal" / "torch").mkdir()
    (folder / "_internal" / "torch" / "x.so").write_bytes(b"")
    with pytest.raises(SystemExit, match="holds the training stack"):
        checks.check_output_folder(folder, FORBIDDEN)


def test_the_size_limits_pass_a_folder_within_them(tmp_path, capsys):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.bin").write_bytes(b"x" * 600_000)
    (tmp_path / "app" / "b.bin").write_bytes(b"x" * 300_000)
    (tmp_path / "app" / "link").symlink_to("a.bin")  # counts nothing
    checks.check_size_limits(tmp_path / "app", folder_limit_mb=1, file_limit_mb=0.7)
    assert "app/ is 0.9 MB (limit 1 MB); its largest file a.bin 0.6 MB" in capsys.readouterr().out


def test_a_folder_over_its_limit_stops_the_build(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.bin").write_bytes(b"x" * 600_000)
    (tmp_path / "app" / "b.bin").write_bytes(b"x" * 500_000)
    with pytest.raises(SystemExit, match=r"app is 1\.1 MB, over its limit of 1 MB .*--max-folder-mb"):
        checks.check_size_limits(tmp_path / "app", folder_limit_mb=1, file_limit_mb=0.7)


def test_one_file_over_its_limit_stops_the_build(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "big.bin").write_bytes(b"x" * 800_000)
    with pytest.raises(SystemExit, match=r"big\.bin is 0\.8 MB, over the limit of 0\.7 MB .*--max-file-mb"):
        checks.check_size_limits(tmp_path / "app", folder_limit_mb=1, file_limit_mb=0.7)


def test_the_single_file_program_is_held_to_its_limit(tmp_path, capsys):
    program = tmp_path / "keyboard-app-onefile"
    program.write_bytes(b"x" * 700_000)
    checks.check_file_size(program, 0.7, "--max-onefile-mb")
    assert "is 0.7 MB (limit 0.7 MB)" in capsys.readouterr().out
    program.write_bytes(b"x" * 700_001)
    with pytest.raises(SystemExit, match="over its limit of 0.7 MB .*-- --max-onefile-mb N"):
        checks.check_file_size(program, 0.7, "--max-onefile-mb")
