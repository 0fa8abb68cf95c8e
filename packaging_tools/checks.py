"""Keeping the training stack out of the build, reporting what the output folder is made of,
and holding the outputs to their size limits."""

from __future__ import annotations

from pathlib import Path
from typing import Collection


def forbidden_module(name: str, forbidden: Collection[str]) -> str | None:
    """The forbidden package a module belongs to, or None."""
    top = name.split(".")[0]
    return top if top in forbidden else None


def forbidden_path(path: str | Path, forbidden: Collection[str]) -> str | None:
    """The forbidden package a collected file belongs to, or None ("onnxruntime" is fine)."""
    for part in Path(path).parts:
        if part.lower() in forbidden or part.lower().startswith("libtorch"):
            return part
    return None


def check_no_forbidden(analysis, forbidden: Collection[str]) -> None:
    """Stop the build if a PyInstaller ``Analysis`` collected a forbidden module or file."""
    hits = {f"{name} ({hit})" for name, _src, _kind in analysis.pure
            if (hit := forbidden_module(name, forbidden))}
    hits |= {f"{dest} ({hit})" for dest, _src, _kind in (*analysis.binaries, *analysis.datas)
             if (hit := forbidden_path(dest, forbidden))}
    if hits:
        raise SystemExit("build.spec: the training stack slipped into the build: "
                         + ", ".join(sorted(hits)[:20]))


def check_output_folder(folder: Path, forbidden: Collection[str]) -> None:
    """After the build: no forbidden files in the folder; print its size and what it is made of."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    hits = sorted(str(p.relative_to(folder)) for p in files if forbidden_path(p.relative_to(folder), forbidden))
    if hits:
        raise SystemExit(f"build.spec: {folder} holds the training stack: {', '.join(hits[:20])}")
    total = sum(p.stat().st_size for p in files)
    parts: dict[str, int] = {}
    for p in files:
        rel = p.relative_to(folder).parts
        key = "/".join(rel[:3] if rel[:2] == ("_internal", "PySide6") else rel[:2])
        parts[key] = parts.get(key, 0) + p.stat().st_size
    print(f"build.spec: {folder} is {total / 1e6:.1f} MB in {len(files)} files; the largest parts:")
    for key, size in sorted(parts.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {size / 1e6:7.1f} MB  {key}")


def _files(folder: Path) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink()]


def check_size_limits(folder: Path, folder_limit_mb: float, file_limit_mb: float) -> None:
    """Stop the build when ``folder`` (all its files) or one file in it is larger than its
    limit, in MB of 10^6 bytes.  Symbolic links count nothing: they point at files counted."""
    files = _files(folder)
    total = sum(p.stat().st_size for p in files)
    largest = max(files, key=lambda p: p.stat().st_size, default=None)
    if total > folder_limit_mb * 1e6:
        raise SystemExit(f"build.spec: {folder} is {total / 1e6:.1f} MB, over its limit of {folder_limit_mb:g} MB "
                         "(leave more out, or raise the limit with -- --max-folder-mb N).")
    if largest is not None and largest.stat().st_size > file_limit_mb * 1e6:
        raise SystemExit(f"build.spec: {largest} is {largest.stat().st_size / 1e6:.1f} MB, over the limit of "
                         f"{file_limit_mb:g} MB for one file (raise it with -- --max-file-mb N).")
    print(f"build.spec: {folder.name}/ is {total / 1e6:.1f} MB (limit {folder_limit_mb:g} MB); its largest file "
          f"{largest.name if largest else '-'} {largest.stat().st_size / 1e6 if largest else 0:.1f} MB "
          f"(limit {file_limit_mb:g} MB)")


def check_file_size(path: Path, limit_mb: float, option: str) -> None:
    """Stop the build when the file ``path`` (the one-file program) is larger than ``limit_mb``."""
    size = Path(path).stat().st_size
    if size > limit_mb * 1e6:
        raise SystemExit(f"build.spec: {path} is {size / 1e6:.1f} MB, over its limit of {limit_mb:g} MB "
                         f"(leave more out, or raise the limit with -- {option} N).")
    print(f"build.spec: {path} is {size / 1e6:.1f} MB (limit {limit_mb:g} MB)")
