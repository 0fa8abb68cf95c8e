"""One OpenBLAS thread for our own programs, without changing what others inherit (no Qt).

numpy's OpenBLAS starts a thread per core when numpy is first imported; the app and
the engine's commands make no BLAS call (the network runs in onnxruntime), so those
threads only slow the start.  OpenBLAS reads ``OPENBLAS_NUM_THREADS`` once, when it is
loaded, so ``limit`` must run before the first ``import numpy``: the entry points'
``main()`` call it first thing.  Not their modules at import time: a program that
imports ``keyboard_app.engine.cli`` as a library would have its environment changed.
A value the user set before starting us is theirs and is kept.

The environment is inherited by the processes we start.  The in-app retrain's
trainer (torch, and numpy to prepare the corpus) should have the machine's cores as
when the user runs ``keyboard-train`` in a terminal, so it gets the user's
environment: ``ours`` names what ``limit`` added, for the caller to leave out.
"""

from __future__ import annotations

import os

VARIABLE = "OPENBLAS_NUM_THREADS"

_added = False  # whether ``limit`` set VARIABLE (else it was the user's, or is unset)


def limit() -> None:
    """One OpenBLAS thread for this process and its own workers, unless the user chose."""
    global _added
    if VARIABLE not in os.environ:
        os.environ[VARIABLE] = "1"
        _added = True


def ours() -> tuple[str, ...]:
    """The variables ``limit`` set in this process and the user did not: what a program we
    start for the user (the trainer) should not inherit."""
    return (VARIABLE,) if _added and os.environ.get(VARIABLE) == "1" else ()
