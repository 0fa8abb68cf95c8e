"""Run one slow function off the UI thread and get its result back as a signal.

For the odd job that is neither typing nor training: importing a bundle
(checksums, opening the graph, copying), evaluating models, counting a
corpus.  The function must not touch widgets; its exception's message
crosses back as ``failed``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal

from ..engine.bundle import ModelLoadError

log = logging.getLogger(__name__)

# what a function says to the user in one sentence: not a defect of ours
_SAID = (ModelLoadError, OSError, ValueError)


class Task(QThread):
    succeeded = Signal(object)
    failed = Signal(str)
    progress = Signal(object)  # whatever the function reports through its callback

    def __init__(self, fn: Callable[..., Any], *, with_progress: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._with_progress = with_progress
        self.cancelled = False

    def cancel(self) -> None:
        """Ask the function to stop (it checks ``task.cancelled`` through its callback)."""
        self.cancelled = True

    def run(self) -> None:
        try:
            if self._with_progress:
                result = self._fn(self._report)
            else:
                result = self._fn()
        except Exception as e:  # noqa: BLE001 - reported to the user, never raised in Qt
            # A file the user chose that is no model, a full disk: one line, as the dialog says it;
            # anything else is a defect, and its traceback goes to the log.
            log.warning("background task failed: %s", e, exc_info=not isinstance(e, _SAID))
            self.failed.emit(str(e) or e.__class__.__name__)
            return
        self.succeeded.emit(result)

    def _report(self, value: Any = None) -> bool:
        """The callback handed to the function: reports progress, says whether to go on."""
        if value is not None:
            self.progress.emit(value)
        return not self.cancelled


def run_task(fn: Callable[..., Any], *, parent: QObject, on_success: Callable[[Any], None],
             on_failure: Callable[[str], None], with_progress: bool = False) -> Task:
    """Start ``fn`` in a thread; the Task deletes itself when done."""
    task = Task(fn, with_progress=with_progress, parent=parent)
    task.succeeded.connect(on_success)
    task.failed.connect(on_failure)
    task.finished.connect(task.deleteLater)
    task.start()
    return task
