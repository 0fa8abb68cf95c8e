"""The held-out text of a training run, as the trainer hands it to the app.

``keyboard-train --write-heldout FILE`` writes the text it held out of the
corpus (the end of each file, whole lines: ``model_training.corpus``) to
``FILE``; the app's retrain dialog compares the old and the new model on
exactly that text, instead of splitting the corpus again by a rule kept in
step by hand.  Both sides import this module (it needs neither torch nor
Qt), so the file's shape is defined once.

The file is JSON: ``{"format": "keyboard-heldout", "format_version": 1,
"texts": [one string per corpus file that held lines out]}``, written
atomically, read through ``jsonfile`` (bounded), and refused with one
sentence (``HeldoutError``) when it is anything else.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from . import jsonfile
from .staging import fsync_dir

HELDOUT_FORMAT = "keyboard-heldout"
HELDOUT_VERSION = 1
MAX_HELDOUT_FILE_BYTES = 64 * 1024**2  # the trainer holds out at most ~1.5 MB of text


class HeldoutError(ValueError):
    """The held-out file is missing or is not one the trainer wrote."""


def write_heldout(path: str | os.PathLike, texts: list[str]) -> Path:
    """Write ``texts`` to ``path`` atomically (a temporary file beside it, then a rename)."""
    path = Path(path)
    data = {"format": HELDOUT_FORMAT, "format_version": HELDOUT_VERSION, "texts": list(texts)}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def read_heldout(path: str | os.PathLike) -> list[str]:
    """The texts ``write_heldout`` wrote; ``HeldoutError`` names the file otherwise."""
    path = Path(path)
    try:
        data = jsonfile.load(path, max_bytes=MAX_HELDOUT_FILE_BYTES)
    except FileNotFoundError:
        raise HeldoutError(f"{path}: the trainer wrote no held-out text.") from None
    except (OSError, jsonfile.JSONFileError) as e:
        raise HeldoutError(f"{path}: {e}.") from None
    if (not isinstance(data, dict) or data.get("format") != HELDOUT_FORMAT
            or data.get("format_version") != HELDOUT_VERSION):
        raise HeldoutError(f"{path}: not a held-out text file of this version.")
    texts = data.get("texts")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise HeldoutError(f"{path}: its texts are not a list of strings.")
    return texts
