"""One ``keyboard-train`` process: started, read line by line, stopped.

The trainer runs as a separate process (never torch in the app's), so a
crash in training cannot take the app down.  Its standard output carries
only progress lines (``--progress-json``), each parsed into a
``progress_events`` dataclass and handed on in order (``event``); a line
that cannot be read is logged in one sentence and skipped.  Its standard
error is logged, and the last lines kept for the message of a run that
fails without saying why.  ``cancel`` sends SIGTERM (the trainer stops
between two steps and writes no bundle) and kills the process if it has
not stopped after ``STOP_GRACE_MS``.  When the process has ended,
``finished`` carries a ``RunResult``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from .. import blas_threads
from ..progress_events import Done, Error, ProgressEvent, ProgressLineError, parse_line

log = logging.getLogger(__name__)

STOP_GRACE_MS = 10_000  # after SIGTERM, how long before the trainer is killed
STDERR_LINES = 20  # kept for the message of a failed run


@dataclass
class RunResult:
    """How a run ended."""

    cancelled: bool = False  # stopped on request (cancel, or closing)
    exit_code: int = 0
    crashed: bool = False
    done: Done | None = None  # the last "done" event, if any
    error: Error | None = None  # the last "error" event, if any
    stderr_tail: list[str] = field(default_factory=list)
    start_error: str | None = None  # the trainer could not be started at all

    @property
    def succeeded(self) -> bool:
        return not self.cancelled and self.done is not None and self.exit_code == 0

    def failure_message(self) -> str:
        """What went wrong, in the trainer's words where it said, else what we saw."""
        if self.start_error is not None:
            return self.start_error
        if self.error is not None:
            return self.error.message.strip()
        tail = " ".join(self.stderr_tail[-3:])
        if self.crashed:
            return f"The trainer crashed. {tail}".strip()
        return f"The trainer stopped with code {self.exit_code}. {tail}".strip()


class TrainerRun(QObject):
    event = Signal(object)  # a ProgressEvent, in the order written
    finished = Signal(object)  # a RunResult, once

    def __init__(self, program: str, args: list[str], *, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.events: list[ProgressEvent] = []
        self.rejected: list[str] = []  # one sentence per line that could not be read
        self._result = RunResult()
        self._stdout_buffer = b""
        self._ended = False
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        for name in blas_threads.ours():  # the app's own limit, not the user's: the trainer gets the cores
            env.remove(name)
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("PYTHONIOENCODING", "utf-8")
        process.setProcessEnvironment(env)
        process.setProgram(program)
        process.setArguments(args)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._process_finished)
        process.errorOccurred.connect(self._process_error)
        self._process: QProcess | None = process

    def start(self) -> None:
        assert self._process is not None
        self._process.start()

    def is_running(self) -> bool:
        return self._process is not None

    def is_cancelling(self) -> bool:
        return self._result.cancelled

    # --- stopping -------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the trainer promptly: SIGTERM, then a kill if it does not stop in time."""
        process = self._process
        if process is None or self._result.cancelled:
            return
        self._result.cancelled = True
        process.terminate()  # SIGTERM: the trainer stops between two steps, writes no bundle
        # Bound to this process: stopped when it ends and deleted with it, so a run
        # started soon after this one can never be killed by it.
        kill = QTimer(process, singleShot=True, interval=STOP_GRACE_MS)
        kill.timeout.connect(lambda: _kill_if_running(process))
        process.finished.connect(kill.stop)
        kill.start()

    def stop_and_wait(self, timeout_ms: int | None = None) -> None:
        """Stop the trainer and wait for it (closing the dialog or the app)."""
        process = self._process
        if process is None:
            return
        self._result.cancelled = True
        process.terminate()
        if not process.waitForFinished(STOP_GRACE_MS if timeout_ms is None else timeout_ms):
            process.kill()
            process.waitForFinished(2000)
        self._process_finished(process.exitCode(), process.exitStatus())

    # --- reading --------------------------------------------------------------------
    def _read_stdout(self, final: bool = False) -> None:
        """The whole lines read so far; ``final`` (the process has ended) takes a last
        line without its newline too, which would otherwise be lost with the buffer."""
        if self._process is None:
            return
        self._stdout_buffer += bytes(self._process.readAllStandardOutput())
        *lines, self._stdout_buffer = self._stdout_buffer.split(b"\n")
        if final and self._stdout_buffer:
            lines.append(self._stdout_buffer)
            self._stdout_buffer = b""
        for line in lines:
            if not line.strip():
                continue
            try:
                event = parse_line(line)
            except ProgressLineError as e:
                log.warning("trainer: %s", e)
                self.rejected.append(str(e))
                continue
            if isinstance(event, Done):
                self._result.done = event
            elif isinstance(event, Error):
                self._result.error = event
            self.events.append(event)
            self.event.emit(event)

    def _read_stderr(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardError()).decode("utf-8", "replace")
        tail = self._result.stderr_tail
        for line in text.splitlines():
            if line.strip():
                log.info("trainer: %s", line)
                tail.append(line)
        del tail[:-STDERR_LINES]

    # --- the end --------------------------------------------------------------------
    def _process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._process is not None:
            self._result.start_error = f"The trainer could not be started ({self._process.errorString()})."
            self._end()

    def _process_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        if self._process is None:
            return
        self._read_stdout(final=True)
        self._read_stderr()
        self._result.exit_code = exit_code
        self._result.crashed = exit_status == QProcess.ExitStatus.CrashExit
        self._end()

    def _end(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.deleteLater()
        if not self._ended:
            self._ended = True
            self.finished.emit(self._result)


def _kill_if_running(process: QProcess) -> None:
    if process.state() != QProcess.ProcessState.NotRunning:
        log.warning("the trainer did not stop in time; killing it")
        process.kill()
