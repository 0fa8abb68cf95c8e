"""Shared tools of the reliability suite: what a user sees, and what must survive.

Every case in ``tests/reliability`` asserts the user-facing outcome of a
fault or a hostile input: the exit code, one clear sentence that names the
user's own file or folder (never a private staging path), no traceback, and
every file the user had before byte-for-byte intact (``snapshot``).
docs/RELIABILITY.md is the table of these cases.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_module(module: str, *args: str, env: dict[str, str] | None = None,
               timeout: float = 300, cwd: Path | None = None) -> Outcome:
    """Run ``python -m module args`` as a user would run the console script."""
    full_env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
        env=full_env, timeout=timeout, cwd=cwd or REPO,
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def assert_clean_failure(outcome: Outcome, *, code: int | None = None, names: str | os.PathLike | None = None,
                         says: str | None = None) -> str:
    """A refusal as a user must see it: a non-zero exit (``code`` if given), no
    traceback, the error sentence naming ``names`` (the user's path) and
    containing ``says``.  Returns the error text."""
    assert outcome.returncode != 0, f"expected a failure, got exit 0:\n{outcome.output}"
    if code is not None:
        assert outcome.returncode == code, outcome.output
    assert "Traceback" not in outcome.output, outcome.output
    errors = [line for line in outcome.stderr.splitlines() if "error" in line.lower()]
    assert errors, f"no error sentence on stderr:\n{outcome.output}"
    text = "\n".join(errors)
    if names is not None:
        assert str(names) in text, f"the error does not name {names}:\n{text}"
    if says is not None:
        assert says.lower() in text.lower(), f"the error does not say {says!r}:\n{text}"
    for private in ("keyboard-export-", ".partial-", ".old-"):
        assert private not in text, f"the error names a private staging path:\n{text}"
    return text


def snapshot(root: str | os.PathLike) -> dict[str, str]:
    """Every file under ``root`` (symlinks as their targets' names) with its SHA-256."""
    root = Path(root)
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            found[rel + "/"] = "dir"
    return found


def assert_intact(before: dict[str, str], root: str | os.PathLike) -> None:
    """Everything in ``before`` is still there, byte for byte (new files may be added)."""
    after = snapshot(root)
    lost = {k: v for k, v in before.items() if after.get(k) != v}
    assert not lost, f"changed or lost under {root}: {sorted(lost)}"


@pytest.fixture
def small_disk(tmp_path):
    """A folder on a tmpfs of 4 MB, to fill up: a full disk for real.

    Needs the right to mount (root in a container that allows it); skipped
    with the reason otherwise.
    """
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({proc.stderr.strip() or 'mount failed'})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the file system holding ``folder`` until ``leave`` bytes or fewer are free."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    with open(folder / ".filler", "wb") as f:
        try:
            chunk = b"\0" * 65536
            while free - f.tell() > leave + len(chunk):
                f.write(chunk)
            f.write(b"\0" * max(0, free - f.tell() - leave))
            f.flush()
        except OSError:
            pass
