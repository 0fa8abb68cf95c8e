"""The keycodes a keyboard borrowed, written down so that a later start can give them back.

``xtest.XTestTyper`` maps a character the keymap lacks on a spare keycode and
empties it again when the keyboard closes (``restore``; Ctrl-C and SIGTERM
close it too).  A keyboard that is killed (SIGKILL, a crash) cannot, and the
keycodes stay mapped for every program on that display until its X server
ends: the spare keycodes run out for the next keyboard and for xdotool, and
the keymap is not the user's.  So each copy writes down what it borrowed
(``KeycodeLedger``): one small file per process in the user's cache folder,
``osk-keycodes/PID-HOST.json`` (the host in the name as well, so that two machines
sharing a home folder never write over each other's record when their process
numbers meet), with the host's and the display's names and each
keycode's keysym, written atomically at each new borrowing (before the keymap
changes, so a kill between the two leaves nothing unrecorded) and removed once
they are given back.

When a keyboard opens it gives back the keycodes of copies whose process is
gone, on its own display, and only those the keymap still maps exactly as
the dead copy left them (another program may have used a keycode since) and
that no running copy has written down (after the X server restarted, a
running copy may have borrowed the same keycode for the same character).  A
record of another display is left for a keyboard there, and removed once it
is a week old; one that cannot be read is removed with its dead process.
A record another host wrote (a home folder shared between machines) is left
alone: whether its process lives cannot be told from here.  (A record without
a host, an earlier version's ``PID.json``, counts as this host's.)  A record
whose process number has been given to another program since (after a reboot
numbers come round again) is a dead copy's: its process started after the
record was written.  That holds for this very process too, when an earlier
version's ``PID.json`` carries its number.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from ..engine import jsonfile
from ..engine.staging import process_alive
from ..storage import atomic_write_json

log = logging.getLogger(__name__)

LEDGER_FORMAT = "keyboard-osk-keycodes"
LEDGER_VERSION = 1
STALE_SECONDS = 7 * 24 * 3600  # a record of another display, of a process long gone
MAX_BYTES = 64 * 1024  # a record holds at most the ~250 keycodes X11 has


def ledger_folder() -> Path:
    from .. import paths

    return paths.user_cache_dir() / "osk-keycodes"


def display_key(name: str) -> str:
    """A display's name without its screen number (":0.0" and ":0" are the same keymap)."""
    host, colon, number = name.rpartition(":")
    return f"{host}{colon}{number.split('.')[0]}" if colon else name


@dataclass(frozen=True)
class Leftovers:
    """What other copies wrote down on this display."""

    dead: list[tuple[Path, dict[int, int]]]  # the records of copies whose process is gone
    live: frozenset[int]  # keycodes that running copies borrowed


class KeycodeLedger:
    """This process's record of the keycodes it borrowed on ``display``, and the others'."""

    def __init__(self, display: str, folder: Path | None = None, pid: int | None = None,
                 host: str | None = None) -> None:
        self.display = display_key(display)
        self.folder = folder if folder is not None else ledger_folder()
        self.pid = os.getpid() if pid is None else pid
        self.host = socket.gethostname() if host is None else host

    @property
    def path(self) -> Path:
        return self.folder / f"{self.pid}-{_file_safe(self.host)}.json"

    def record(self, borrowed: dict[int, int]) -> None:
        """Write down ``borrowed`` (keycode -> keysym), replacing what was written before."""
        if not borrowed:
            self.clear()
            return
        data = {"format": LEDGER_FORMAT, "format_version": LEDGER_VERSION, "pid": self.pid,
                "host": self.host, "display": self.display, "keycodes": {str(k): v for k, v in borrowed.items()}}
        try:
            atomic_write_json(self.path, data)
        except OSError as e:  # it only costs giving them back after a kill
            log.info("the borrowed keycodes could not be written down in %s: %s", self.path, e)

    def clear(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as e:
            log.info("%s could not be removed: %s", self.path, e)

    def leftovers(self) -> Leftovers:
        """The other copies' records on this display and host, those of dead processes apart."""
        dead: list[tuple[Path, dict[int, int]]] = []
        live: set[int] = set()
        try:
            paths = sorted(self.folder.glob("*.json"))
        except OSError:
            return Leftovers([], frozenset())
        for path in paths:
            pid = _record_pid(path)
            if pid is None or path == self.path:
                continue
            host, display, keycodes = _read(path)
            if host is not None and host != self.host:
                continue  # another machine's process: alive or not, it cannot be told here
            # (a process that started after the record was written is another program that
            # was given the same number: the record's writer is gone)
            alive = process_alive(pid, since=_written_at(path))  # (this process's own: written since it started)
            if display == self.display and keycodes is not None:
                if alive:
                    live.update(keycodes)
                else:
                    dead.append((path, keycodes))
            elif not alive and (keycodes is None or _older_than(path, STALE_SECONDS)):
                _remove(path)
        return Leftovers(dead, frozenset(live))


def _file_safe(host: str) -> str:
    """A host's name as part of a file name: letters, digits, dots and dashes, at most 64."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", host)[:64] or "_"


def _record_pid(path: Path) -> int | None:
    """The process number a record's name starts with ("123-host.json", or an earlier
    version's "123.json"); None for a file that is not a record."""
    number = path.stem.split("-", 1)[0]
    return int(number) if number.isdigit() else None


def _read(path: Path) -> tuple[str | None, str | None, dict[int, int] | None]:
    """(host, display, keycode -> keysym) of a record (host None: none written, an earlier
    version's); (None, None, None) where it cannot be read."""
    try:
        data = jsonfile.load(path, max_bytes=MAX_BYTES)
        if not isinstance(data, dict) or data.get("format") != LEDGER_FORMAT:
            raise ValueError("not a record of borrowed keycodes")
        keycodes = {int(k): v for k, v in data["keycodes"].items() if isinstance(v, int)}
        host = data.get("host")
        return (str(host) if host is not None else None), str(data["display"]), keycodes
    except FileNotFoundError:
        return None, None, None
    except (OSError, jsonfile.JSONFileError, ValueError, KeyError, TypeError, AttributeError) as e:
        log.info("%s is not a record of borrowed keycodes: %s", path, e)
        return None, None, None


def _written_at(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as e:
        log.info("%s could not be removed: %s", path, e)
