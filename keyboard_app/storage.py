"""Atomic writes for everything the app keeps in the user's folders.

A write goes to a temporary file in the destination's folder, is flushed and
fsynced, and only then renamed over the destination (``os.replace`` is atomic
on POSIX and Windows).  A crash, a full disk or a killed process therefore
leaves either the old file or the new one, never half of either.

A killed process does leave its temporary file behind.  Its name says whose
it is (``.NAME.<pid>.<random>.tmp``), so ``remove_stale_temps`` can tell a
leftover (its process is gone, or it is older than any write takes) from a
write in progress in another copy of the app; it runs before every write and
when the app starts.

``locked(path)`` serialises read-modify-write cycles on one file between
processes (an advisory ``flock`` on ``NAME.lock`` beside it; a no-op where
there is no ``fcntl``).  ``hold(path)`` claims one file for as long as a copy
of the app works on it (a kept text in its editor): a ``flock`` on the file
itself, which the kernel lets go when the process ends, however it ends.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import stat
import time
from pathlib import Path
from typing import Any, Iterator

from .engine.faults import fault_point
from .engine.staging import atomic_file, fsync_dir, process_alive

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the writes stay atomic all the same
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# ".settings.json.1234.k3j_x9a2.tmp" (ours) and ".settings.json.k3j_x9a2.tmp" (older
# versions, without the pid): mkstemp's random part is 8 characters.
_TEMP_NAME = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{8}\.tmp$")
STALE_TEMP_SECONDS = 15 * 60  # no write of ours takes this long, whoever is writing
LOCK_TIMEOUT_SECONDS = 10.0


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically, creating its folder if needed; the path written.

    A symbolic link is written through: the file it names is replaced and the link kept (a
    document opened through a link in a synced folder is saved there, not beside it).  A path
    that is neither a regular file nor absent (a device, a pipe, a folder) is refused with an
    ``OSError`` before anything is written.
    """
    path = _regular_destination(Path(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, name=path.name)
    if mode is None and path.exists():
        mode = path.stat().st_mode & 0o7777
    with atomic_file(path, mode=mode, before_rename=lambda: fault_point("storage.before-rename")) as f:
        f.write(data)
    fsync_dir(path.parent)
    return path


def _regular_destination(path: Path) -> Path:
    """Where a write to ``path`` lands: the file a symbolic link names, or ``path``."""
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        kind = os.stat(path).st_mode
    except FileNotFoundError:
        return path  # a new file (or a link to one not made yet)
    except OSError:
        return path  # the write itself will say what is wrong
    if not stat.S_ISREG(kind):
        raise OSError(errno.EINVAL, "it is not a regular file", str(path))
    return path


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(path, text.encode(encoding))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(data: Any) -> str:
    """``data`` as the JSON text the app writes: indented, keys sorted, UTF-8 as it is, except
    a lone surrogate (an undecodable byte of a file name, ``os.fsdecode``), written as its
    escape, which reads back as the same character (UTF-8 cannot hold it).  A surrogate can
    only be inside a JSON string, where an escape is valid."""
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def atomic_write_json(path: str | os.PathLike, data: Any) -> Path:
    return atomic_write_text(path, json_text(data))


def set_aside(path: str | os.PathLike) -> tuple[Path | None, str | None]:
    """Move a damaged file of the user's to ``NAME.corrupt``, so that it is kept but
    no longer read: (the new path, None), or (None, why it could not be moved)."""
    path = Path(path)
    backup = path.with_name(path.name + ".corrupt")
    number = 1
    while backup.exists() and number < 100:  # an older damaged copy is the user's too
        number += 1
        backup = path.with_name(f"{path.name}.corrupt-{number}")
    try:
        os.replace(path, backup)
    except OSError as e:
        log.warning("could not move %s aside: %s", path, e)
        return None, e.strerror or str(e)
    return backup, None


def leftover_temps(folder: str | os.PathLike, *, name: str | None = None,
                   max_age: float = STALE_TEMP_SECONDS) -> list[tuple[Path, str]]:
    """The temporary files killed writers left in ``folder`` (only those of ``name`` if
    given): (the temporary file, the name it was being written for).  One whose process
    lives and that is younger than ``max_age`` is a write in progress (here, or in another
    copy of the app) and is not listed.  Never raises: this is housekeeping."""
    folder = Path(folder)
    found: list[tuple[Path, str]] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        pid = int(match["pid"]) if match["pid"] else None
        if age < max_age and (pid is None or process_alive(pid)):
            continue  # possibly a write in progress (here, or in another copy of the app)
        found.append((Path(entry.path), match["name"]))
    return found


def remove_stale_temps(folder: str | os.PathLike, *, name: str | None = None,
                       max_age: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Delete the temporary files killed writers left in ``folder`` (only those of
    ``name`` if given); the paths removed.  Never raises: this is housekeeping."""
    removed: list[Path] = []
    for path, _ in leftover_temps(folder, name=name, max_age=max_age):
        try:
            os.unlink(path)
            removed.append(path)
            log.info("removed %s, left by an interrupted write", path)
        except OSError as e:
            log.debug("could not remove %s: %s", path, e)
    return removed


@contextlib.contextmanager
def locked(path: str | os.PathLike, *, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold an exclusive advisory lock for ``path`` (on ``NAME.lock`` beside it).

    Raises ``TimeoutError`` if another process holds it for ``timeout`` seconds,
    and ``OSError`` if the lock file cannot be created (a read-only folder: the
    write that follows would fail too).  A no-op without ``fcntl``.
    """
    if fcntl is None:
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(errno.ETIMEDOUT, "another copy of the app keeps it locked") from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class Hold:
    """A claim on one file (``hold``), until ``release`` (idempotent) or the process's end."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def hold(path: str | os.PathLike) -> Hold | None:
    """Claim the file at ``path`` for this process: an exclusive advisory lock on the file
    itself (``flock``), held until ``Hold.release``; the kernel lets it go when the process
    ends, however it ends (a crash, SIGKILL), so nothing stays claimed by a copy that is
    gone.  None when another process (or another ``hold`` in this one) has it, or the file
    is gone.  A file replaced (by a rename) while this waited is held as it is now, never as
    it was.  Without ``fcntl`` (Windows) nothing is locked (a file kept open there could be
    neither replaced nor removed): the single-instance guard (``ui.app``) is all there is."""
    if fcntl is None:
        return Hold(None) if os.path.isfile(path) else None
    for _ in range(3):  # (replaced between the open and the lock: take the new one)
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            mine, now = os.fstat(fd), os.stat(path)
        except OSError:  # another holds it (BlockingIOError), or it went away meanwhile
            os.close(fd)
            return None
        if (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino):
            return Hold(fd)
        os.close(fd)
    return None
