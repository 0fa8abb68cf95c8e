"""Named places where the reliability tests may kill the process.

``fault_point("bundle.swapped-out")`` does nothing unless the environment
variable ``KEYBOARD_FAULT`` names that point (a comma-separated list may name
several), in which case the process kills itself with SIGKILL there: no
handler, no ``finally``, no flush, exactly what a power cut or the OOM killer
does.  Tests use it to stop a trainer, an export or an app at the worst
moment without racing a timer; a user never sets it.  The points in use are
listed in docs/RELIABILITY.md.
"""

from __future__ import annotations

import os
import signal

ENV = "KEYBOARD_FAULT"


def fault_point(name: str) -> None:
    """Die here, at once, when ``KEYBOARD_FAULT`` names this point."""
    wanted = os.environ.get(ENV)
    if wanted and name in wanted.split(","):
        os.kill(os.getpid(), signal.SIGKILL)
