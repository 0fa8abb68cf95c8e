"""Progress for people (a tqdm bar on stderr) and for programs (JSON lines on stdout).

With ``--progress-json`` each update is one JSON object on its own line of
stdout, flushed at once.  Nothing else is ever written to stdout in that mode.
The events and their fields are defined once, in ``keyboard_app.progress_events``
(torch-free dataclasses the app parses the same lines into); ``cli``'s
docstring describes them for people.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any, Callable, TextIO

from keyboard_app import progress_events
from keyboard_app.progress_events import ProgressEvent


#: The passes over the corpus (the ``reading`` event's ``phase``), as the bar names them.
READING = {"count": "counting words", "encode": "encoding the text"}


class Progress:
    def __init__(
        self,
        *,
        json_lines: bool = False,
        bar: bool = True,
        stream: TextIO | None = None,
        interval_s: float = 0.5,
    ) -> None:
        self.json_lines = json_lines
        self.show_bar = bar and not json_lines
        self.stream = stream or sys.stdout
        self.interval_s = interval_s
        self._bar = None
        self._logging = None  # while a bar is open: log lines go above it (``_open_bar``)
        self._last = 0.0
        self.on_closed: Callable[[], None] | None = None  # the JSON reader went away

    def emit(self, event: str, **fields: Any) -> None:
        """Write the event named ``event`` (see ``progress_events``; a name or field it
        does not define is a ``TypeError``, whether or not lines are being written)."""
        self.send(progress_events.make(event, **fields))

    def send(self, event: ProgressEvent) -> None:
        if not self.json_lines:
            return
        try:
            self.stream.write(event.to_line() + "\n")
            self.stream.flush()
        except (BrokenPipeError, ValueError) as e:  # the reader is gone (ValueError: closed file)
            self._reader_gone(e)

    def _reader_gone(self, error: Exception) -> None:
        """Nobody reads the JSON lines any more: stop writing them, point stdout at
        /dev/null (so the interpreter's last flush cannot fail either) and tell
        ``on_closed``, which stops the run as a signal would."""
        self.json_lines = False
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
        if self.on_closed is not None:
            self.on_closed()

    def begin_reading(self, phase: str, total: int) -> None:
        """A pass over the corpus of ``total`` bytes begins (``phase``: one of ``READING``):
        for a person at a terminal, a bar until its last file (a 50 MB corpus takes a
        minute to count; without one the run looks frozen).  Not into a file or a pipe,
        where a bar redrawn in place is only noise, nor with ``--quiet``."""
        if self.show_bar and total and sys.stderr.isatty():
            self._open_bar(total=total, unit="B", unit_scale=True, desc=READING[phase], leave=False)

    def reading(self, phase: str, done: int, total: int) -> None:
        """The pass has read ``done`` of its ``total`` bytes (after each file): the
        ``reading`` event, and the bar moved on, gone once the pass is over."""
        self.emit("reading", phase=phase, bytes=done, total=total)
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            if done >= total:
                self.close()

    def start(self, total: int, done: int = 0, desc: str = "training") -> None:
        if self.show_bar:
            self._open_bar(total=total, initial=done, unit="tok", unit_scale=True, desc=desc, smoothing=0.05)

    def _open_bar(self, **options: Any) -> None:
        """A tqdm bar on stderr.  At a terminal, until it closes, log lines (a file's
        invalid bytes, a warning) are written above it by tqdm's logging redirection,
        not into the line it redraws."""
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        self.close()
        self._bar = tqdm(dynamic_ncols=True, file=sys.stderr, mininterval=0.5, **options)
        if sys.stderr.isatty():
            self._logging = logging_redirect_tqdm()
            self._logging.__enter__()

    def update(
        self, *, tokens: int, total: int, loss: float, tokens_per_s: float, force: bool = False
    ) -> None:
        now = time.monotonic()
        if self._bar is not None:
            self._bar.total = total
            self._bar.update(tokens - self._bar.n)
            self._bar.set_postfix(loss=f"{loss:.3f}", ppl=f"{math.exp(min(loss, 50)):.0f}",
                                  refresh=False)
        if force or now - self._last >= self.interval_s:
            self._last = now
            eta = max(0.0, total - tokens) / tokens_per_s if tokens_per_s > 0 else None
            self.send(progress_events.Training(
                tokens=tokens, total=total, loss=round(loss, 4),
                tokens_per_s=round(tokens_per_s, 1), eta_s=None if eta is None else round(eta, 1),
            ))

    def write(self, message: str) -> None:
        """A line for people, kept clear of the bar (stderr)."""
        if self._bar is not None:
            self._bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._logging is not None:
            self._logging.__exit__(None, None, None)
            self._logging = None
