"""The user's settings: a small dataclass stored as JSON, written atomically.

A missing file gives the defaults silently.  A file that cannot be read as
settings (not JSON, binary, nested too deeply, numbers out of range, the
wrong shape) gives the defaults too, plus one sentence for the user that
names the file; the bad file is kept beside it (``settings.json.corrupt``)
and replaced by the defaults at once, so the sentence is shown once, not at
every start.  Where it cannot be moved (a read-only folder) the sentence
says so.  A single field of the wrong type or out of range falls back to its
default, or is clamped into range, with a log warning; the rest are kept.

File names are bytes on POSIX, and one that is not valid UTF-8 (a Latin-1
"caf\xe9.txt" from an old disk) reaches Python as text with lone surrogates
(``os.fsdecode``), which no UTF-8 file can hold.  The settings file writes
those characters as JSON escapes (``\udce9``, ``storage.json_text``), which the JSON
reader turns back into the same characters, so such a file is remembered in
the recent files and opened again by the same bytes; every other character
is written as itself.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import paths
from .engine import jsonfile
from .checks import checked_fields, clamped, choice as _choice, flag as _flag, text as _text
from .storage import atomic_write_json, set_aside

log = logging.getLogger(__name__)

SETTINGS_FORMAT = "keyboard-app-settings"
SETTINGS_VERSION = 1
MAX_RECENT_FILES = 8
MIN_FONT_SIZE, MAX_FONT_SIZE = 8, 40
MAX_PATH_LENGTH = 4096  # longer "paths" are junk, not a file the user opened
MAX_GEOMETRY_LENGTH = 4096  # base64 of QWidget.saveGeometry() is under 100 characters
#: The suggestion slots: how many the strip may show, and how many it shows until the user
#: chooses (Preferences); everything that asks for "the suggestions" uses these.
MIN_SUGGESTIONS, MAX_SUGGESTIONS, DEFAULT_SUGGESTIONS = 1, 5, 3
THEMES = ("system", "light", "dark")
ACCEPT_KEYS = ("tab", "none")
MAX_RETRAIN_SOURCES = 200


@dataclass
class Settings:
    # Which model to use: "default", "user:<folder name>" or an absolute path.
    model: str = "default"
    recent_files: list[str] = field(default_factory=list)
    # The personal layer is opt-in; when paused it is used but not updated.
    learning_enabled: bool = False
    learning_paused: bool = False
    editor_font_size: int = 13  # points, MIN_FONT_SIZE..MAX_FONT_SIZE
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    last_directory: str = ""  # where the file dialogs start
    # Preferences (Edit > Preferences); each is checked in _CHECKS like the rest.
    suggestion_count: int = DEFAULT_SUGGESTIONS  # slots in the strip, MIN_SUGGESTIONS..MAX_SUGGESTIONS
    strip_font_size: int = 0  # points; 0 follows the editor's size (its zoom)
    theme: str = "system"  # one of THEMES
    accept_key: str = "tab"  # one of ACCEPT_KEYS; "none": Tab inserts a tab character
    space_after_accept: bool = True  # an accepted word is followed by a space
    auto_capitalise: bool = True  # capitals at sentence starts
    typo_corrections: bool = True  # the strip offers the word meant through a typing slip
    auto_correct: bool = False  # a space replaces a mistyped word with the word meant (Backspace undoes it)
    phrase_suggestions: bool = True  # at a word start a slot may offer the next few words at once
    large_strip_buttons: bool = False  # taller buttons, easier to hit
    high_contrast: bool = False  # black on white (white on black when dark), thick borders
    retrain_sources: list[str] = field(default_factory=list)  # the files last chosen to retrain on
    # The user was told where earlier versions left texts (``unsaved/opened/``): said once.
    told_of_old_opened_texts: bool = False

    def add_recent_file(self, path: str) -> None:
        path = str(Path(path).resolve())
        self.recent_files = [path] + [p for p in self.recent_files if p != path]
        del self.recent_files[MAX_RECENT_FILES:]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = SETTINGS_FORMAT
        data["format_version"] = SETTINGS_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Settings":
        """Settings from parsed JSON: each field checked on its own (see ``_CHECKS``)."""
        return cls(**checked_fields(cls, data, _CHECKS, "settings"))


_font_size = clamped(MIN_FONT_SIZE, MAX_FONT_SIZE)
_suggestion_count = clamped(MIN_SUGGESTIONS, MAX_SUGGESTIONS)


def _strip_font_size(value: Any) -> int:
    value = clamped(0, MAX_FONT_SIZE)(value)  # 0 (or less): follow the zoom
    return 0 if value == 0 else _font_size(value)


def _model_key(value: Any) -> str:
    value = _text(MAX_PATH_LENGTH)(value)
    if not value.strip():
        raise ValueError("is empty")
    return value


def _path_list(limit: int) -> Callable[[Any], list[str]]:
    def check(value: Any) -> list[str]:
        if not isinstance(value, list):
            raise ValueError("is not a list")
        check_path = _text(MAX_PATH_LENGTH)
        kept = []
        for item in value:
            try:
                item = check_path(item)
            except ValueError:
                continue
            if item and item not in kept:
                kept.append(item)
        return kept[:limit]

    return check


_recent_files = _path_list(MAX_RECENT_FILES)


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "model": _model_key,
    "recent_files": _recent_files,
    "learning_enabled": _flag,
    "learning_paused": _flag,
    "editor_font_size": _font_size,
    "window_geometry": _text(MAX_GEOMETRY_LENGTH),
    "last_directory": _text(MAX_PATH_LENGTH),
    "suggestion_count": _suggestion_count,
    "strip_font_size": _strip_font_size,
    "theme": _choice(*THEMES),
    "accept_key": _choice(*ACCEPT_KEYS),
    "space_after_accept": _flag,
    "auto_capitalise": _flag,
    "large_strip_buttons": _flag,
    "typo_corrections": _flag,
    "auto_correct": _flag,
    "phrase_suggestions": _flag,
    "high_contrast": _flag,
    "retrain_sources": _path_list(MAX_RETRAIN_SOURCES),
    "told_of_old_opened_texts": _flag,
}


class SettingsStore:
    """Loads and saves ``Settings`` at one path (by default the user's config folder)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else paths.settings_path()

    def load(self) -> tuple[Settings, str | None]:
        """The settings, and a sentence for the user if the file was unusable."""
        try:
            data = jsonfile.load(self.path)
            if not isinstance(data, dict) or data.get("format", SETTINGS_FORMAT) != SETTINGS_FORMAT:
                raise jsonfile.JSONFileError("it is not a settings file")
            return Settings.from_dict(data), None
        except FileNotFoundError:
            return Settings(), None
        except jsonfile.JSONFileError as e:
            log.warning("damaged settings file %s: %s", self.path, e)
            reason = str(e)
        except OSError as e:
            return Settings(), (
                f"The settings file {self.path} cannot be read ({e.strerror or e}); "
                "the defaults are used for now."
            )
        settings = Settings()
        backup, why_not = set_aside(self.path)
        if backup is None:
            return settings, (
                f"The settings file {self.path} is damaged ({reason}) and could not be moved "
                f"aside ({why_not}), so it was left as it is and the defaults are used for now."
            )
        try:
            self.save(settings)
        except OSError as e:
            log.warning("could not write the default settings: %s", e)
        return settings, (
            f"The settings file {self.path} was damaged ({reason}) and has been reset to the "
            f"defaults; the damaged copy is kept as {backup}."
        )

    def save(self, settings: Settings) -> None:
        atomic_write_json(self.path, settings.to_dict())


