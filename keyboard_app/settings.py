"""The user's settings: a small dataclass stored as JSON, written atomically.

A missing file gives the defaults silently.  A file that cannot be read as
settings (corrupt JSON, wrong shape) gives the defaults too, plus one message
for the user; the bad file is kept beside it (``settings.json.corrupt``) and
replaced by the defaults at once, so the message is shown once, not at every
start.  A single field of the wrong type falls back to its default quietly.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from . import paths
from .storage import atomic_write_json

log = logging.getLogger(__name__)

SETTINGS_FORMAT = "keyboard-app-settings"
SETTINGS_VERSION = 1
MAX_RECENT_FILES = 8


@dataclass
class Settings:
    # Which model to use: "default", "user:<folder name>" or an absolute path.
    model: str = "default"
    recent_files: list[str] = field(default_factory=list)
    # The personal layer is opt-in; when paused it is used but not updated.
    learning_enabled: bool = False
    learning_paused: bool = False
    editor_font_size: int = 13
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    last_directory: str = ""  # where the file dialogs start

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
        defaults = cls()
        values = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value, default = data[f.name], getattr(defaults, f.name)
            ok = isinstance(value, type(default)) and not (
                isinstance(value, bool) and not isinstance(default, bool)
            )
            if ok and isinstance(default, list):
                ok = all(isinstance(v, str) for v in value)
            if ok:
                values[f.name] = value
            else:
                log.warning("settings: ignoring %s=%r (wrong type)", f.name, value)
        return cls(**values)


class SettingsStore:
    """Loads and saves ``Settings`` at one path (by default the user's config folder)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else paths.settings_path()

    def load(self) -> tuple[Settings, str | None]:
        """The settings, and a message for the user if the file was unusable."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Settings(), None
        except OSError as e:
            return Settings(), f"The settings file {self.path} cannot be read ({e.strerror}); using the defaults."
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format", SETTINGS_FORMAT) != SETTINGS_FORMAT:
                raise ValueError("not a settings object")
            return Settings.from_dict(data), None
        except (ValueError, TypeError) as e:
            log.warning("corrupt settings file %s: %s", self.path, e)
        backup = self.path.with_name(self.path.name + ".corrupt")
        settings = Settings()
        try:
            os.replace(self.path, backup)
            self.save(settings)
        except OSError as e:
            log.warning("could not replace the corrupt settings file: %s", e)
        return settings, (
            f"The settings file was damaged and has been reset to the defaults "
            f"(the damaged copy is kept as {backup})."
        )

    def save(self, settings: Settings) -> None:
        atomic_write_json(self.path, settings.to_dict())
