"""Progress for people (a tqdm bar on stderr) and for programs (JSON lines on stdout).

A bar is for a terminal.  Where stderr is a file or a pipe (``2> train.log``,
``nohup``) training is shown as plain lines instead (``PlainLines``): one each
``PLAIN_STEP_PERCENT`` of the way and at least every ``PLAIN_INTERVAL_S``, each
with its tokens, speed, loss, time spent and time left, where tqdm's bar wrote
one endless line of carriage-return redraws.

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
READING = {"count": "counting words", "encode": "encoding the text", "phrases": "counting phrases"}

#: Training's plain lines (stderr not a terminal): a line each this many percent of the
#: way, and one at least this often where the run moves slower than that.
PLAIN_STEP_PERCENT = 5
PLAIN_INTERVAL_S = 60.0


def _count(n: float) -> str:
    """``n`` in at most four figures: 950, 12.3k, 1.2M."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size * 0.9995:  # 999,600 is "1M", not "1e+03k"
            return f"{n / size:.3g}{suffix}"
    return f"{n:.0f}"


def _clock(seconds: float) -> str:
    """``seconds`` as H:MM:SS."""
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class PlainLines:
    """Training's progress as whole lines, for a log file: where stderr is not a
    terminal a bar redrawn in place is one enormous line of carriage returns.

    A line is written at the first update, each time the run passes another
    ``step_percent`` of its planned tokens, when ``interval_s`` passed since the last
    line, and, for the last update, at ``close``.  ``clock`` is for tests."""

    def __init__(self, desc: str, *, stream: TextIO, step_percent: float = PLAIN_STEP_PERCENT,
                 interval_s: float = PLAIN_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.desc = desc
        self.stream = stream
        self.step_percent = step_percent
        self.interval_s = interval_s
        self.clock = clock
        self._started = clock()
        self._last_time = self._started
        self._last_step: int | None = None
        self._unwritten: tuple[int, int, float, float] | None = None

    def update(self, *, tokens: int, total: int, loss: float, tokens_per_s: float) -> None:
        now = self.clock()
        self._unwritten = (tokens, total, loss, tokens_per_s)
        step = int(self._percent(tokens, total) // self.step_percent)
        if self._last_step is None or step > self._last_step or now - self._last_time >= self.interval_s:
            self._last_step = step if self._last_step is None else max(step, self._last_step)
            self._write(now)

    def close(self) -> None:
        """The last update, if its line was not written yet."""
        if self._unwritten is not None:
            self._write(self.clock())

    @staticmethod
    def _percent(tokens: int, total: int) -> float:
        return min(100.0, 100.0 * tokens / total) if total > 0 else 0.0

    def line(self, tokens: int, total: int, loss: float, tokens_per_s: float, now: float) -> str:
        left = (f"{_clock(max(0, total - tokens) / tokens_per_s)} left" if tokens_per_s > 0
                else "time left not known yet")
        loss_text = (f"loss {loss:.3f} (perplexity {math.exp(min(loss, 50)):.0f})" if math.isfinite(loss)
                     else "loss not a number")
        return (f"{self.desc}: {self._percent(tokens, total):3.0f}% {_count(tokens)}/{_count(total)} tokens, "
                f"{_count(tokens_per_s)} tokens/s, {loss_text}, {_clock(now - self._started)} spent, {left}")

    def _write(self, now: float) -> None:
        assert self._unwritten is not None
        text = self.line(*self._unwritten, now)
        self._unwritten = None
        self._last_time = now
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a log that cannot be written never stops the training
            pass


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
        self._plain: PlainLines | None = None  # training, where stderr is not a terminal
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
        """Training begins: a bar at a terminal, plain lines into a file or a pipe."""
        if not self.show_bar:
            return
        if sys.stderr.isatty():
            self._open_bar(total=total, initial=done, unit="tok", unit_scale=True, desc=desc, smoothing=0.05)
        else:
            self.close()
            self._plain = PlainLines(desc, stream=sys.stderr)

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
        if self._plain is not None:
            self._plain.update(tokens=tokens, total=total, loss=loss, tokens_per_s=tokens_per_s)
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
        if self._plain is not None:
            self._plain.close()
            self._plain = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._logging is not None:
            self._logging.__exit__(None, None, None)
            self._logging = None
