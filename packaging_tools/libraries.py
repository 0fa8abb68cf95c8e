"""Which of the collected libraries, Qt plugins and translations the build keeps.

PyInstaller's TOC entries are ``(dest, src, kind)`` tuples: ``dest`` the path
inside the output folder, ``src`` the file it is copied from, ``kind`` one of
``BINARY``, ``EXTENSION``, ``SYMLINK``, ``DATA``, ...  Every function here
takes and returns such lists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Collection, Iterable, Mapping

TocEntry = tuple[str, str, str]
#: A library's file -> the (name, resolved path) pairs it links to.
ImportsOf = Callable[[str], Iterable[tuple[str, object]]]


def library_key(name: str) -> str:
    """'libQt6Core.so.6' -> 'qt6core', 'qwindows.dll' -> 'qwindows'."""
    base = Path(name).name.lower()
    base = base.split(".so")[0].split(".dll")[0].split(".dylib")[0]
    return base[3:] if base.startswith("lib") else base


def qt_plugin(dest: str) -> tuple[str, str] | None:
    """(type, name) if ``dest`` is a Qt plugin, else None."""
    parts = Path(dest).parts
    if "plugins" in parts and parts[0].startswith("PySide6"):
        i = parts.index("plugins")
        if len(parts) == i + 3:
            return parts[i + 1], library_key(parts[-1])
    return None


def keep_qt_file(dest: str, plugins: Mapping[str, Collection[str]]) -> bool:
    """Whether the build keeps ``dest``: a plugin only if ``plugins`` names it under its type.

    Qt's own translations go too: the app's text is English and Qt's standard
    dialogs fall back to English (7 MB).
    """
    plugin = qt_plugin(dest)
    if plugin is not None:
        kind, name = plugin
        return name in plugins.get(kind, ())
    parts = Path(dest).parts
    return not (parts[0] == "PySide6" and "translations" in parts)


def direct_imports(path: str) -> Iterable[tuple[str, object]]:
    """What ``path`` links to directly: its ELF ``DT_NEEDED`` entries, or PyInstaller's
    ``get_imports`` for other formats (on Linux that runs ``ldd``, which also lists what
    the libraries linked to link to, so a library replaced by one needing less, as
    ``blas`` does, would keep its old dependencies)."""
    from .elf import is_elf64le, needed_libraries

    if is_elf64le(path):
        return [(name, None) for name in needed_libraries(Path(path).read_bytes())]
    from PyInstaller.depend.bindepend import get_imports

    return get_imports(path)


def prune_unused_libraries(binaries: list[TocEntry], dlopened: tuple[str, ...],
                           imports_of: ImportsOf = direct_imports) -> list[TocEntry]:
    """Drop shared libraries that nothing kept links to any more.

    PyInstaller collects the libraries of every plugin before the filters
    above run, so a dropped plugin leaves its libraries behind (the GTK
    theme's GTK stack, the Wayland plugins' client library, ...).  Start from
    the extension modules, the kept plugins and the ``dlopen()``ed libraries
    (``dlopened``: library key prefixes, since nothing links to them), and
    keep what they link to, transitively.  ``imports_of`` reads what a
    library links to (PyInstaller's ``get_imports`` unless a test swaps it).
    """
    by_key: dict[str, list[TocEntry]] = {}
    for entry in binaries:
        by_key.setdefault(library_key(entry[0]), []).append(entry)
    todo = [e for e in binaries
            if e[2] == "EXTENSION" or qt_plugin(e[0]) or library_key(e[0]).startswith(dlopened)]
    needed, seen = set(), set()
    while todo:
        dest, src, kind = todo.pop()
        if dest in seen:
            continue
        seen.add(dest)
        needed.add(library_key(dest))
        if kind != "SYMLINK":
            for name, _path in imports_of(src):
                todo.extend(by_key.get(library_key(name), ()))
    kept = [e for e in binaries if library_key(e[0]) in needed]
    dropped = sorted({e[0] for e in binaries} - {e[0] for e in kept})
    if dropped:
        print(f"build.spec: left out {len(dropped)} libraries nothing uses: {', '.join(dropped)}")
    return kept


def leave_to_host(binaries: list[TocEntry], names: Collection[str]) -> list[TocEntry]:
    """Drop the libraries ``names`` (file names as linked, "libX11.so.6"): the program takes
    them from the machine it runs on.  Run before ``prune_unused_libraries``, which then
    drops what only they needed."""
    wanted = set(names)
    kept = [e for e in binaries if Path(e[0]).name not in wanted]
    left = sorted({Path(e[0]).name for e in binaries} & wanted)
    if left:
        size = sum(Path(src).stat().st_size for dest, src, kind in binaries
                   if Path(dest).name in wanted and kind != "SYMLINK")
        print(f"build.spec: left to the host system ({size / 1e6:.1f} MB): {', '.join(left)}")
    return kept


def drop_dangling_symlinks(toc: list[TocEntry], kept: list[TocEntry]) -> list[TocEntry]:
    """Symbolic links (PyInstaller's SYMLINK entries) whose target is not in ``kept`` go too."""
    targets = {str(Path(dest)) for dest, _src, kind in kept if kind != "SYMLINK"}
    return [e for e in toc
            if e[2] != "SYMLINK" or str(Path(e[0]).parent / e[1]) in targets]
