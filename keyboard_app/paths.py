"""Where the app finds its own files and keeps the user's.

``resource_path`` finds files shipped with the program, both from a source
checkout (the repository root) and from a PyInstaller build (``sys._MEIPASS``).
The user's models, learned data and settings live in platformdirs' per-user
folders, never next to the program; the folders are created lazily, on the
first write (see ``storage``), so merely starting the app writes nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

# CPython's own SHA-256, the one hashlib falls back to without OpenSSL: importing hashlib
# would map OpenSSL's libcrypto into every start just to name the socket, while the
# bundle's checksums, the only other hashing, are remembered from one start to the next
# (``checksum_memo``).  The same digest either way, so every version finds the others.
try:
    from _sha2 import sha256 as _sha256  # CPython 3.12 and later
except ImportError:
    try:
        from _sha256 import sha256 as _sha256  # CPython 3.11
    except ImportError:  # another interpreter
        from hashlib import sha256 as _sha256

APP_NAME = "predictive-keyboard"
APP_DISPLAY_NAME = "Predictive Keyboard"

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    """A file shipped with the program: frozen (``sys._MEIPASS``) or from source."""
    base = getattr(sys, "_MEIPASS", None)
    root = Path(base) if base else _SOURCE_ROOT
    return root.joinpath(*parts)


def default_model_path() -> Path:
    """The built-in model bundle."""
    return resource_path("assets", "models", "default")


def _dirs() -> platformdirs.PlatformDirs:
    # Built on every call: platformdirs reads XDG_* at access time, which is
    # what lets tests point them at temporary folders.
    return platformdirs.PlatformDirs(APP_NAME, appauthor=False, ensure_exists=False)


def user_data_dir() -> Path:
    """User models and learned data (not created here)."""
    return Path(_dirs().user_data_dir)


def unsaved_texts_dir() -> Path:
    """Where the editor keeps the text it held unsaved when a signal closed it, and the copy
    of an unsaved text for a crash (not created here: ``private_folder``); the next start
    offers it (``ui.app.keep_unsaved_text``, ``MainWindow``)."""
    return user_data_dir() / "unsaved"


def private_folder(folder: Path) -> Path:
    """``folder``, made if need be, readable by its owner alone (0700): the names of the texts
    kept there are the names of the user's documents.  One made looser by an earlier version
    is tightened; a folder that cannot be changed is left as it is."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if os.name == "posix" and folder.stat().st_mode & 0o077:
            folder.chmod(0o700)
    except OSError:
        pass
    return folder


def user_config_dir() -> Path:
    """Settings (not created here)."""
    return Path(_dirs().user_config_dir)


def user_cache_dir() -> Path:
    """What the app can make again from the program's own files (not created here)."""
    return Path(_dirs().user_cache_dir)


def phrase_cache_dir() -> Path:
    """Stored copies of compressed phrase tables (``engine.phrases``: "The stored copy")."""
    return user_cache_dir() / "phrase-tables"


def user_models_dir() -> Path:
    """Models the user trained or imported, one bundle folder each."""
    return user_data_dir() / "models"


def settings_path() -> Path:
    return user_config_dir() / "settings.json"


def learned_data_path() -> Path:
    """The personal layer's counts (see ``learning``)."""
    return user_data_dir() / "personal.json"


def single_instance_name() -> str:
    """The local-socket name the running app listens on: one per user data folder.

    Derived from the folder, not the user name, so two test runs with their own
    ``XDG_DATA_HOME`` (or two users) never see each other's app; short, because
    on POSIX it becomes a socket path in the temporary folder.
    """
    digest = _sha256(str(user_data_dir().resolve()).encode("utf-8")).hexdigest()
    return f"keyboard-app-{digest[:16]}"


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path
