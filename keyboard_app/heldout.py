"""The held-out text of a training run, as the trainer hands it to the app.

``keyboard-train --write-heldout FILE`` writes the text it held out of the
corpus (the end of each file, or its start when adapting a model: whole lines,
or, in a file of one or a few long lines, from a sentence end inside one:
``model_training.corpus``) to ``FILE``; the app's retrain dialog compares the
old and the new model on exactly that text, instead of splitting the corpus
again by a rule kept in step by hand.  Both sides import this module (it needs neither torch nor
Qt: the engine's bounded JSON reader and the app's atomic writer), so the
file's shape is defined once.

The file is JSON: ``{"format": "keyboard-heldout", "format_version": 1,
"texts": [one string per corpus file that held text out]}`` (none where every
file was too short to cut a part from: the app then says so), written
atomically, read through ``jsonfile`` (bounded), and refused with one
sentence (``HeldoutError``) when it is anything else.
"""

from __future__ import annotations

import os
from pathlib import Path

from .engine import jsonfile
from .storage import atomic_write_json

HELDOUT_FORMAT = "keyboard-heldout"
HELDOUT_VERSION = 1
MAX_HELDOUT_FILE_BYTES = 64 * 1024**2  # the trainer holds out at most ~1.5 MB of text


class HeldoutError(ValueError):
    """The held-out file is missing or is not one the trainer wrote."""


def write_heldout(path: str | os.PathLike, texts: list[str]) -> Path:
    """Write ``texts`` to ``path`` atomically (``storage.atomic_write_json``)."""
    return atomic_write_json(path, {"format": HELDOUT_FORMAT, "format_version": HELDOUT_VERSION,
                                    "texts": list(texts)})


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
