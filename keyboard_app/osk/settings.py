"""The on-screen keyboard's settings: their own validated dataclass and file.

Kept apart from the editor's ``settings.json`` (``osk.json`` in the same
config folder), read through the bounded JSON reader and written atomically
like every file of the user's.  A missing file gives the defaults; an
unusable one gives the defaults and one sentence naming the file (the bad
file is set aside as ``osk.json.corrupt``); a single field of the wrong type
falls back to its default and a number out of range is clamped, with a log
warning, the rest being kept.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

from .. import paths
from ..checks import checked_fields, choice, clamped, flag, text
from ..engine import jsonfile
from ..storage import atomic_write_json, set_aside

log = logging.getLogger(__name__)

OSK_SETTINGS_FORMAT = "keyboard-app-osk-settings"
OSK_SETTINGS_VERSION = 1
ACCESS_METHODS = ("pointer", "dwell", "scan")
DOCK_EDGES = ("bottom", "top", "none")  # "none": the window floats where it is put
DWELL_MS = (300, 2000)
SCAN_INTERVAL_MS = (250, 5000)
SLOTS = (3, 5)
ZOOM_PERCENT = (50, 300)
MAX_TEXT = 4096


@dataclass(frozen=True)
class OskSettings:
    access: str = "pointer"  # "pointer" (click), "dwell" (hover) or "scan" (switches)
    dwell_ms: int = 800  # hovering a key this long presses it (DWELL_MS)
    scan_interval_ms: int = 1000  # one switch: the highlight moves on this often (SCAN_INTERVAL_MS)
    scan_switches: int = 1  # 1: select only, the highlight moves by itself; 2: step and select
    # Keys a switch interface sends, grabbed while scanning (X11): the first selects, the second steps.
    switch_keys: str = "F9 F10"
    suggestion_slots: int = 4  # SLOTS
    zoom_percent: int = 100  # key and font size (ZOOM_PERCENT)
    high_contrast: bool = False
    layout_path: str = ""  # a layout file (see ``layout``); "" is the built-in QWERTY
    # Opt-in, like the editor's: count the words typed on the keyboard (counts, never text).
    learn_from_typing: bool = False
    # Follow the keys typed on the physical keyboard (X11; ``physical``): its context then
    # matches the text, at the price of hearing every key while it is shown, a password too
    # (kept in memory for the suggestions, never stored, never learned).
    follow_physical_keys: bool = True
    window_geometry: str = ""  # base64 of QWidget.saveGeometry() (floating: a docked place is not kept)
    # Docked to the screen's bottom edge by default (X11; ``dock``): other windows and their
    # dialogs are kept above it, where a floating keyboard covered their buttons.
    dock: str = "bottom"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "format": OSK_SETTINGS_FORMAT, "format_version": OSK_SETTINGS_VERSION}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OskSettings":
        """Settings from parsed JSON, each field checked on its own (``_CHECKS``)."""
        return cls(**checked_fields(cls, data, _CHECKS, "osk settings"))

    def with_(self, **changes: Any) -> "OskSettings":
        """A copy with ``changes``, each checked and clamped like a value read from the file."""
        return replace(self, **{name: _CHECKS[name](value) for name, value in changes.items()})


def _switch_keys(value: Any) -> str:
    from .switches import parse_switch_keys  # SwitchKeyError is a ValueError

    if not isinstance(value, str):
        raise ValueError("is not text")
    return " ".join(parse_switch_keys(value))


_text = text(MAX_TEXT)


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "access": choice(*ACCESS_METHODS),
    "dwell_ms": clamped(*DWELL_MS, fractions=True),
    "scan_interval_ms": clamped(*SCAN_INTERVAL_MS, fractions=True),
    "scan_switches": choice(1, 2),
    "switch_keys": _switch_keys,
    "suggestion_slots": clamped(*SLOTS, fractions=True),
    "zoom_percent": clamped(*ZOOM_PERCENT, fractions=True),
    "high_contrast": flag,
    "layout_path": _text,
    "learn_from_typing": flag,
    "follow_physical_keys": flag,
    "window_geometry": _text,
    "dock": choice(*DOCK_EDGES),
}


def osk_settings_path() -> Path:
    return paths.user_config_dir() / "osk.json"


class OskSettingsStore:
    """Loads and saves ``OskSettings`` at one path (by default ``osk.json`` in the config folder)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else osk_settings_path()

    def load(self) -> tuple[OskSettings, str | None]:
        """The settings, and a sentence for the user if the file was unusable."""
        try:
            data = jsonfile.load(self.path, max_bytes=1024 * 1024)
            if not isinstance(data, dict) or data.get("format", OSK_SETTINGS_FORMAT) != OSK_SETTINGS_FORMAT:
                raise jsonfile.JSONFileError("it is not a keyboard settings file")
            return OskSettings.from_dict(data), None
        except FileNotFoundError:
            return OskSettings(), None
        except jsonfile.JSONFileError as e:
            reason = str(e)
        except OSError as e:
            return OskSettings(), (f"The keyboard settings file {self.path} cannot be read "
                                   f"({e.strerror or e}); the defaults are used for now.")
        log.warning("the keyboard settings file %s is damaged (%s)", self.path, reason)
        backup, why_not = set_aside(self.path)
        if backup is None:
            return OskSettings(), (f"The keyboard settings file {self.path} is damaged ({reason}) and could "
                                   f"not be moved aside ({why_not}); the defaults are used for now.")
        return OskSettings(), (f"The keyboard settings file {self.path} was damaged ({reason}); the "
                               f"defaults are used and the damaged copy is kept as {backup}.")

    def save(self, settings: OskSettings) -> None:
        atomic_write_json(self.path, settings.to_dict())
