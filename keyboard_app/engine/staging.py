"""Where a bundle may be written, and what an interrupted write leaves behind.

One rule for every folder a model is written to (``keyboard-train --out``,
the model store's import and export, the retrain dialog's install):

* ``check_destination(dest, inputs=...)`` allows a missing folder, an empty
  folder or an existing model bundle (which is replaced atomically; plain files
  of the user's beside the bundle's own, such as a model card, are carried
  over).  Anything else is refused with one sentence naming the folder: a file,
  a folder holding other things, a symbolic link, a folder that is, holds or
  lies inside one of the ``inputs`` (the corpus), or one we cannot write to.
* Everything written on the way goes beside the destination, under names that
  carry the writer's process id: ``.NAME.export-PID-xxxx`` (the exported
  graphs), ``.NAME.partial-PID-xxxx`` (the bundle being assembled) and
  ``.NAME.old-PID`` (the bundle being replaced, for the instant between the two
  renames of the swap).  ``recover(dest)`` puts back a bundle whose swap was cut
  short (the old one is restored when the new one is not in place) and removes
  what dead writers left; ``write_bundle`` runs it first, ``keyboard-train``
  before it reads the corpus and the model store when it opens.
* ``write_errors(dest, *staging)`` turns a failure while writing (a full disk,
  a read-only folder) into a ``BundleWriteError`` that names the user's
  destination, never the private staging path.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from . import jsonfile

log = logging.getLogger(__name__)

#: Kinds of leftovers, as in ``.NAME.KIND-PID[-xxxx]``.
KINDS = ("partial", "export", "old", "deleting", "zip")
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>%s)-(?P<pid>\d+)(?:-[^/]*)?$" % "|".join(KINDS))
#: Leftovers of a format without a process id are removed once this old.
STALE_SECONDS = 24 * 3600
#: A file in every staging folder we create: only marked folders, bundles and our own
#: empty probes or zips are ever removed, never a user's folder that matches a name.
MARKER = ".keyboard-staging"
#: A destination's name may be this long, so that its staging names fit in 255 bytes.
MAX_NAME_BYTES = 200


class DestinationError(ValueError):
    """A bundle may not be written there; the message is one sentence naming it."""


class BundleWriteError(OSError):
    """Writing a bundle failed (full disk, permissions); one sentence naming the destination."""


def make_folder(dest: str | os.PathLike, kind: str) -> Path:
    """A new staging folder of ``kind`` beside ``dest``, marked as ours (``MARKER``), so
    that ``recover`` never takes a folder of the user's that happens to match the name."""
    folder = Path(tempfile.mkdtemp(prefix=staging_prefix(dest, kind), dir=Path(dest).parent))
    (folder / MARKER).write_text(f"{os.getpid()}\n")
    return folder


def unmark(folder: Path) -> None:
    """Take the marker out of a staging folder that is about to become the bundle."""
    with contextlib.suppress(FileNotFoundError):
        (folder / MARKER).unlink()


_umask_lock = threading.Lock()


def umask_mode(full: int = 0o666) -> int:
    """What the process's umask leaves of ``full``: a new file's mode (0o666, the default: 0644
    under the common 022) or a folder's (0o777), as a program that creates it directly gets,
    where ``tempfile`` gives 0600.  Windows: ``full``."""
    if sys.platform == "win32":
        return full
    with _umask_lock:  # reading the umask means setting it: keep the window short
        mask = os.umask(0o077)
        os.umask(mask)
    return full & ~mask


def new_folder_mode(dest: Path) -> int:
    """The mode a folder at ``dest`` should have: the one it has, or what the umask gives."""
    try:
        return dest.stat().st_mode & 0o7777
    except OSError:
        return umask_mode(0o777)


def new_file_mode(dest: Path) -> int:
    """The mode a file written at ``dest`` should have: the one it has, or what the umask gives."""
    try:
        return dest.stat().st_mode & 0o7777
    except OSError:
        return umask_mode(0o666)


def staging_prefix(dest: str | os.PathLike, kind: str) -> str:
    """The name prefix of a staging folder or file of ``kind`` for ``dest``."""
    assert kind in KINDS, kind
    return f".{Path(dest).name}.{kind}-{os.getpid()}-"


def old_name(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.old-{os.getpid()}")


def is_bundle_folder(path: Path) -> bool:
    """A folder whose manifest says it is a model bundle (its files are not checked)."""
    from .bundle import BUNDLE_FORMAT, MANIFEST

    try:
        manifest = jsonfile.load(path / MANIFEST, max_bytes=16 * 1024**2)
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == BUNDLE_FORMAT


def _overlap(dest: Path, source: Path) -> str | None:
    if dest == source:
        return "is"
    if source in dest.parents:
        return "lies inside"
    if dest in source.parents:
        return "holds"
    return None


def _nearest_existing(path: Path) -> Path:
    for candidate in [path, *path.parents]:
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def check_destination(
    dest: str | os.PathLike,
    *,
    inputs: Iterable[str | os.PathLike] = (),
    what: str = "the model folder",
    needed_bytes: int = 0,
) -> Path:
    """Refuse, with one sentence, a destination that is not ours to replace.

    ``inputs`` are the paths being read (the corpus): the destination may not
    be one of them, lie inside one, or hold one.  ``needed_bytes``, when
    given, is the room the bundle needs on the destination's disk.
    """
    dest = Path(dest)
    resolved = dest.resolve()
    for source in inputs:
        relation = _overlap(resolved, Path(source).resolve())
        if relation is not None:
            raise DestinationError(
                f"{dest}: {what} {relation} the corpus {source}; write the model to a new or "
                "empty folder elsewhere, so that nothing of the corpus can be replaced."
            )
    if dest.is_symlink():
        raise DestinationError(f"{dest}: {what} is a symbolic link; name the folder itself.")
    if len(dest.name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise DestinationError(
            f"{dest}: the name of {what} is {len(dest.name)} characters long; keep it under "
            f"{MAX_NAME_BYTES} (room is needed beside it for the files written on the way)."
        )
    if dest.exists():
        if not dest.is_dir():
            raise DestinationError(
                f"{dest}: {what} is a file, not a folder; name a new or empty folder, or an "
                "existing model bundle to replace."
            )
        if is_mount_point(dest):  # the final rename would fail (EBUSY) after all the work
            raise DestinationError(
                f"{dest}: {what} is a mount point (the top folder of a disk, such as a USB stick), "
                f"which cannot be replaced; name a new folder inside it, such as {dest / 'model'}."
            )
        try:
            entries = sorted(p.name for p in dest.iterdir())
        except OSError as e:
            raise DestinationError(f"{dest}: {what} cannot be read ({e.strerror or e}).") from None
        if entries and not (is_bundle_folder(dest) and all((dest / n).is_file() for n in entries)):
            shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
            raise DestinationError(
                f"{dest}: {what} already holds files that are not a model bundle ({shown}); "
                "name a new or empty folder, or an existing model bundle to replace."
            )
    _check_writable(dest, what)
    if needed_bytes:
        check_room(dest, needed_bytes)
    return dest


def is_mount_point(path: str | os.PathLike) -> bool:
    """Whether a file system is mounted at ``path`` (a disk, a USB stick, a bind mount):
    no rename can move or replace it.  ``os.path.ismount`` misses a bind mount of a folder
    of the same disk, which Linux's mount table (``/proc/self/mountinfo``) lists."""
    if os.path.ismount(path):
        return True
    try:
        with open("/proc/self/mountinfo", "rb") as f:
            table = f.read()
    except OSError:  # not Linux: ismount is the test there
        return False
    target = os.fsencode(os.path.realpath(path))
    unescape = lambda m: bytes([int(m[1], 8)])  # noqa: E731 - "\040" for a space, and so on
    return any(len(fields) > 4 and re.sub(rb"\\([0-7]{3})", unescape, fields[4]) == target
               for fields in (line.split(b" ") for line in table.splitlines()))


def check_work_folder(folder: str | os.PathLike, *, what: str = "the work folder") -> Path:
    """A folder we will create files in: it must be a folder (or creatable) and writable.
    Refused, with one sentence naming it, before any work is done."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DestinationError(f"{folder}: {what} is a file, not a folder; name a folder with --work-dir.")
    if folder.is_dir():
        try:
            _probe(folder)
        except OSError as e:
            raise DestinationError(f"{folder}: {what} cannot be written ({e.strerror or e}).") from None
        return folder
    _check_writable(folder, what)
    return folder


def check_room(path: str | os.PathLike, needed_bytes: int, *, what: str = "the model", advice: str = "") -> None:
    """Refuse, naming ``path``, when its disk has less than ``needed_bytes`` free."""
    path = Path(path)
    free = shutil.disk_usage(_nearest_existing(path)).free
    if free < needed_bytes:
        raise DestinationError(
            f"{path}: not enough room for {what}: {needed_bytes / 1e6:.0f} MB needed, "
            f"{free / 1e6:.0f} MB free on that disk{'; ' + advice if advice else ''}."
        )


def _probe(folder: Path) -> None:
    """Create and remove a file in ``folder``: the only reliable test of writing there
    (permissions, read-only mounts, ACLs).  ``OSError`` if it cannot be done."""
    fd, probe = tempfile.mkstemp(prefix=".keyboard-probe-", dir=folder)
    os.close(fd)
    os.unlink(probe)


def _check_writable(dest: Path, what: str) -> None:
    parent = dest.parent if dest.parent != dest else dest
    base = _nearest_existing(parent)
    if not base.is_dir():
        raise DestinationError(f"{dest}: {what} cannot be created: {base} is not a folder.")
    if base == parent:
        try:
            _probe(parent)
        except OSError as e:
            raise DestinationError(
                f"{dest}: {what} cannot be written in {parent} ({e.strerror or e})."
            ) from None
    elif not os.access(base, os.W_OK | os.X_OK):
        raise DestinationError(f"{dest}: {what} cannot be created: {base} is not writable.")


# -- recovering from interrupted writes --------------------------------------------------


def process_alive(pid: int, *, since: float | None = None) -> bool:
    """Whether process ``pid`` may be running.  On Windows, whose ``os.kill(pid, 0)`` would
    end the process, psutil answers (a dependency there); where nothing can tell, True, so a
    leftover is then only ever left (a retrain's finished model never offered, though).

    ``since``: when the thing it is asked for was made (seconds since the epoch).  A process
    with that number that started later is another program that was given the same number
    (after a reboot numbers come round again): False.  Where a start time cannot be read
    (not Linux or Windows), the number alone answers.  That holds for this very process
    too: a record bearing its number, made before it started, is a dead program's."""
    if pid == os.getpid() and since is None:
        return True
    if os.name != "posix":
        try:
            import psutil
        except ImportError:
            return True
        try:
            return psutil.pid_exists(pid) and (since is None or psutil.Process(pid).create_time() <= since + 2)
        except psutil.Error:
            return False
    if not 0 < pid <= MAX_PID:
        return False  # (a crafted record's number: os.kill would raise OverflowError)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's process
        pass
    fields = _linux_stat(pid)
    if fields is not None and fields[0] in (b"Z", b"X"):
        return False  # it ended, and its parent has not reaped it yet (a launcher that never does)
    if since is not None:
        started = _linux_start_time(pid, fields)
        if started is not None and started > since + 2:  # (the clock's tick and the stamp's second)
            return False
    return True


#: The largest process number a system gives (Linux's PID_MAX_LIMIT, 2^22).
MAX_PID = 1 << 22


def _linux_stat(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the program's name (the state first); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()  # the name may hold spaces and ")"
    except (OSError, IndexError):
        return None


def _linux_start_time(pid: int, fields: list[bytes] | None = None) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from /proc; None elsewhere."""
    try:
        if fields is None:
            fields = _linux_stat(pid)
            if fields is None:
                return None
        ticks = int(fields[19])  # field 22, starttime: clock ticks after the boot
        with open("/proc/stat", "rb") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith(b"btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


@contextlib.contextmanager
def atomic_file(path: Path, *, mode: int | None = None, before_rename=None) -> Iterator[BinaryIO]:
    """Write ``path`` through a file beside it: the block writes to the binary file yielded,
    a temporary ``.NAME.PID.RANDOM.tmp`` (its process id tells a killed writer's leftover from
    a write under way), which is flushed and fsynced, given ``mode`` if one is given, and
    renamed over ``path`` (``before_rename`` called just before: a fault point) only if the
    block ends without an exception; otherwise it is removed.  The folder is not fsynced
    (``fsync_dir``: the caller's, once its renames are done)."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        if before_rename is not None:
            before_rename()
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # (the write's own error is the one to tell)
            os.unlink(temp)
        raise


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (where the platform can fsync a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def _ours(path: Path, kind: str) -> bool:
    """Whether a leftover of ``kind`` is provably something we wrote."""
    try:
        if path.is_symlink():
            return False
        if path.is_file():
            return kind == "zip" and (path.stat().st_size == 0 or zipfile.is_zipfile(path))
        if not path.is_dir():
            return False
        if kind in ("partial", "export") and (path / MARKER).is_file():
            return True
        return kind in ("partial", "old", "deleting") and is_bundle_folder(path) and all(
            p.is_file() and not p.is_symlink() for p in path.iterdir())
    except OSError:
        return False


def recover(dest: str | os.PathLike) -> list[str]:
    """Finish or undo what dead writers left beside ``dest``; what was done, in words.

    A bundle whose swap was cut short between its two renames is restored
    from ``.NAME.old-PID`` when nothing is at ``dest``; when the new bundle is
    in place, the old copy is removed.  Staging folders of dead processes are
    removed.  Leftovers of live processes (another copy still writing) are
    left alone.
    """
    dest = Path(dest)
    folder = dest.parent
    done: list[str] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return done
    olds: list[Path] = []
    for path in entries:
        match = _LEFTOVER.match(path.name)
        if not match or match["name"] != dest.name or process_alive(int(match["pid"])) \
                or not _ours(path, match["kind"]):
            continue  # someone else's, or a live writer's
        if match["kind"] == "old":
            olds.append(path)
        else:
            _remove(path)
            done.append(f"removed {path.name}, left by an interrupted write")
    for old in sorted(olds, key=lambda p: p.stat().st_mtime, reverse=True):
        if not dest.exists() and is_bundle_folder(old):
            try:
                os.replace(old, dest)
            except OSError as e:
                log.warning("%s: the previous model could not be restored from %s (%s)", dest, old, e)
                continue
            done.append(f"restored the previous model at {dest} (the last write of it was interrupted)")
        else:
            _remove(old)
            done.append(f"removed {old.name}, the copy a completed replacement left")
    for line in done:
        log.warning("%s", line)
    return done


def recover_folder(folder: str | os.PathLike) -> list[str]:
    """``recover`` every destination in ``folder`` that has leftovers (the models folder)."""
    folder = Path(folder)
    done: list[str] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return done
    names = {m["name"] for p in entries if (m := _LEFTOVER.match(p.name))}
    for name in sorted(names):
        done += recover(folder / name)
    now = time.time()
    for path in entries:  # earlier leftovers without a process id in their name
        kind = re.search(r"\.(partial|deleting)(-[^/]*)?$", path.name)
        if path.name.startswith(".") and kind and not _LEFTOVER.match(path.name) \
                and _ours(path, kind.group(1)):
            with contextlib.suppress(OSError):
                if now - path.lstat().st_mtime > STALE_SECONDS:
                    _remove(path)
                    done.append(f"removed {path.name}, left by an interrupted write")
    return done


# -- errors while writing ----------------------------------------------------------------


@contextlib.contextmanager
def write_errors(dest: str | os.PathLike, *staging: str | os.PathLike) -> Iterator[None]:
    """Say a failure to write ``dest`` in the user's terms.

    An ``OSError`` becomes a ``BundleWriteError`` naming ``dest``; any other
    error whose message names a ``staging`` path gets ``dest`` in its place.
    """
    dest = Path(dest)
    try:
        yield
    except BundleWriteError:
        raise
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            reason = "the disk is full"
        elif e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            reason = "it is not writable"
        else:
            reason = _private(str(e.strerror or e), dest, staging)
        raise BundleWriteError(f"{dest}: the model could not be written: {reason}.") from e
    except Exception as e:
        text = str(e)
        clean = _private(text, dest, staging)
        if clean != text:
            with contextlib.suppress(TypeError):
                e.args = (clean,)
        raise


def _private(text: str, dest: Path, staging) -> str:
    for path in staging:
        text = text.replace(str(path), str(dest))
    return text
