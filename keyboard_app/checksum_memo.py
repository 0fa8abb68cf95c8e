"""The checksums of model files the app has confirmed, kept between starts (no Qt).

Loading a bundle checks every file against its manifest's SHA-256
(``engine.bundle``), which means reading all of them at every start.  This
remembers, in the user's cache folder, each checksum a load confirmed with
the file's identity at that time (``bundle.file_identity``: size,
modification and change times, inode, device); the next load reads only the
files whose identity changed.  A write to a file always changes its change
time, so an edited, truncated or replaced file is read and checked again and
a corrupt one still gives its one sentence.  That trust rests on the change
time, which only POSIX systems keep: on Windows ``st_ctime`` is the file's
creation time (Python 3.12 deprecates it there, and the standard library has
no change time yet), so a same-size edit with its modification time put back
would keep the identity.  There (``change_time_kept``) the memo remembers
nothing, reads and writes no file, and every file is hashed at every load.

It is a cache: a missing, damaged or unwritable file costs only the reading
it would have saved, never the start (a line in the log says why).  Writes
are atomic (``storage``), and what a killed save left is removed at the next
load; two programs saving at once keep one or the other's entries, and a lost
entry is one more read.  At most ``MAX_ENTRIES`` files
are kept, those confirmed last.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from . import paths
from .engine import jsonfile
from .storage import atomic_write_json, remove_stale_temps

log = logging.getLogger(__name__)

MEMO_FORMAT = "keyboard-checksums"
MEMO_VERSION = 1
MAX_ENTRIES = 64  # a few bundles' files (4-6 each): the models a user switches between
# What a memo of MAX_ENTRIES can take as ``atomic_write_json`` writes it: per entry a path of
# at most 4,096 bytes (Linux's PATH_MAX), each byte at most 6 in JSON (a control character's
# escape), the identity's five integers of up to 20 digits and the checksum on indented lines
# (~300 bytes): ~25 KB, so ~1.6 MB for 64.  A real memo is a few kB.  A larger file is not
# read: the general cap of ``jsonfile`` (256 MB) would be read whole at every start.
MAX_BYTES = 2 * 1024**2


def memo_path() -> Path:
    return paths.user_cache_dir() / "bundle-checksums.json"


def change_time_kept() -> bool:
    """Whether file identities here include a change time no program can set back
    (``bundle.file_identity``'s ``st_ctime_ns``): not on Windows, where it is the time the
    file was created."""
    return sys.platform != "win32"


class ChecksumMemo:
    """``engine.bundle.ChecksumMemo`` kept in a JSON file; ``save`` writes what changed."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = memo_path() if path is None else Path(path)
        self.enabled = change_time_kept()  # else: remembers nothing, every file is hashed
        self._entries: dict[str, dict] = {}
        self._changed = False
        if self.enabled:
            remove_stale_temps(self.path.parent, name=self.path.name)  # a killed save's, even if none follows
            self._entries = self._read()

    def _read(self) -> dict[str, dict]:
        try:
            data = jsonfile.load(self.path, max_bytes=MAX_BYTES)  # judged by its size before it is read
        except FileNotFoundError:
            return {}
        except (OSError, jsonfile.JSONFileError) as e:
            log.info("%s: not used (%s); the model files are checked in full", self.path, e)
            return {}
        if not isinstance(data, dict) or data.get("format") != MEMO_FORMAT or data.get("version") != MEMO_VERSION:
            log.info("%s: not a file of remembered checksums; the model files are checked in full", self.path)
            return {}
        files = data.get("files")  # in the order of use, the last used last
        if not isinstance(files, list):
            return {}
        return {entry["path"]: {"identity": entry["identity"], "sha256": entry["sha256"]}
                for entry in files if _valid(entry)}

    def known(self, path: Path, identity: tuple[int, ...]) -> str | None:
        entry = self._entries.get(str(Path(path).absolute()))
        return entry["sha256"] if entry is not None and tuple(entry["identity"]) == tuple(identity) else None

    def remember(self, path: Path, identity: tuple[int, ...], sha256: str) -> None:
        if not self.enabled:
            return
        key = str(Path(path).absolute())
        self._entries.pop(key, None)  # re-inserted last: the dict's order is the order of use
        self._entries[key] = {"identity": list(identity), "sha256": sha256}
        while len(self._entries) > MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]
        self._changed = True

    def save(self) -> None:
        """Write the file if a checksum was confirmed anew; a failure is logged, not raised."""
        if not self._changed:
            return
        try:
            files = [{"path": name, **entry} for name, entry in self._entries.items()]
            atomic_write_json(self.path, {"format": MEMO_FORMAT, "version": MEMO_VERSION, "files": files})
            self._changed = False
        except (OSError, ValueError) as e:  # ValueError: a name that cannot be written
            log.info("%s: cannot remember the model files' checksums (%s); they are read at every start",
                     self.path, getattr(e, "strerror", None) or e)


_HEX = frozenset("0123456789abcdef")


def _valid(entry) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("path"), str) and _encodable(entry["path"])
            and isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64
            and set(entry["sha256"]) <= _HEX
            and isinstance(entry.get("identity"), list) and len(entry["identity"]) == 5
            and all(isinstance(x, int) and not isinstance(x, bool) for x in entry["identity"]))


def _encodable(path: str) -> bool:
    """A name a file system can hold (JSON can carry a lone surrogate, UTF-8 cannot)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
