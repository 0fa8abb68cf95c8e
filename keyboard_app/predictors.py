"""Opening, checking and closing the engine's predictors, app-side (no Qt, no torch).

The worker, the model store's imports and adoptions and the retrain's
comparison all open predictors; these are the few lines they share, so that
each opens a model the same way (one thread: the app runs one predictor at
a time beside the UI) and releases what it holds the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from pathlib import Path
from typing import Any

from .settings import DEFAULT_SUGGESTIONS


def load_predictor(path: Path) -> Any:
    """The engine's loader (imported here, so the UI starts before the engine loads).
    Compressed phrase tables are read from their stored copy in the user's cache folder,
    made at the first start (``engine.phrases``); the files' checksums confirmed at an
    earlier start are not read again while the files are unchanged (``checksum_memo``)."""
    from . import paths
    from .checksum_memo import ChecksumMemo
    from .engine.bundle import load_bundle
    from .engine.predictor import Predictor

    memo = ChecksumMemo()
    bundle = load_bundle(path, phrase_cache=paths.phrase_cache_dir(), checksums=memo)
    memo.save()
    try:
        predictor = Predictor(bundle, threads=1)
    except BaseException:
        bundle.close()
        raise
    release_free_memory()
    return predictor


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``): a load
    leaves the parsed files' and the indexes' temporaries freed but still resident in
    the loading thread's heap, which the process's memory counts until something reuses
    them.  Nothing where the C library has no such call (not glibc, not Linux)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def close_predictor(predictor: Any) -> None:
    """Release what a predictor keeps open (its bundle's memory-mapped tables) now, not
    whenever it is collected.  Stand-ins for the engine in tests may have no bundle, or
    a bundle without ``close``; a failure to close is no reason to stop."""
    close = getattr(getattr(predictor, "bundle", None), "close", None)
    if callable(close):
        with contextlib.suppress(OSError):
            close()


def check_loads(folder: Path) -> None:
    """Validation for a bundle entering the user's models: the engine must open its graph
    and predict (what ``load_bundle``'s checksums cannot tell)."""
    predictor = load_predictor(folder)
    try:
        predictor.suggest("", DEFAULT_SUGGESTIONS)
    finally:
        close_predictor(predictor)
