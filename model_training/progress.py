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

    def start(self, total: int, done: int = 0, desc: str = "training") -> None:
        if self.show_bar:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, initial=done, unit="tok", unit_scale=True, desc=desc,
                dynamic_ncols=True, smoothing=0.05, file=sys.stderr, mininterval=0.5,
            )

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
