"""One app per user (issue 11): a second start brings the first window forward and exits 0.

Two copies learning at once would each save over the other's words.  These
start real processes: the first runs; the second, with the same user folders,
must not open a window but make the first one come forward, and exit 0;
``--self-test`` is never refused; another user (other folders) gets their own
window; and a first copy that was killed does not lock the user out.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from keyboard_app import paths

from .conftest import REPO, run_module

ENV = {"QT_QPA_PLATFORM": "offscreen"}
ALREADY = "is already running; its window was brought to the front"
READY = " ready "  # the log line "model ... ready 1.2 s after start"


class RunningApp:
    """``keyboard-app -v`` in the background, its stderr read line by line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "keyboard_app", "-v", *map(str, args)],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=REPO,
            env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE", **ENV, **(env or {})},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 120) -> None:
        """Until a line of stderr contains ``text``; fails if the app exits first."""
        while not any(text in line for line in self.seen):
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no {text!r} within {timeout} s:\n{''.join(self.seen)}")
            if line is None:
                pytest.fail(f"the app ended (exit {self.proc.wait()}) before {text!r}:\n{''.join(self.seen)}")
            self.seen.append(line)

    def kill(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=60)


@pytest.fixture
def started():
    """``started(*args)`` -> a RunningApp; every one is ended and its files removed at the end."""
    apps: list[RunningApp] = []

    def start(*args: str, env: dict[str, str] | None = None) -> RunningApp:
        app = RunningApp(*args, env=env)
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.kill()
    name = paths.single_instance_name()  # a killed app leaves its lock and socket behind
    for leftover in (Path(tempfile.gettempdir()) / name, Path(tempfile.gettempdir()) / f"{name}.lock"):
        leftover.unlink(missing_ok=True)


def test_a_second_start_brings_the_first_window_forward_and_exits(started, tiny_bundle, tmp_path):
    first = started("--model", tiny_bundle)
    first.wait_for(READY)

    # --quit-after: were the rule broken, this copy would open a window and close it by itself
    second = run_module("keyboard_app", "--model", tiny_bundle, "-v", "--quit-after", "20", env=ENV, timeout=120)
    assert second.returncode == 0, second.output
    assert ALREADY in second.stderr and "Traceback" not in second.output
    assert f"--model applies to a new start only: close that window first to use {tiny_bundle}." in second.stderr
    assert READY not in second.stderr  # it opened no window and loaded no model
    first.wait_for("another start asked for the window; brought it to the front")
    assert first.proc.poll() is None  # the first copy runs on

    checked = run_module("keyboard_app", "--self-test", "--model", tiny_bundle, env=ENV, timeout=120)
    assert checked.returncode == 0, checked.output  # never refused by the rule

    other_user = {"XDG_DATA_HOME": str(tmp_path / "other-data"), "XDG_CONFIG_HOME": str(tmp_path / "other-config")}
    other = run_module("keyboard_app", "--model", tiny_bundle, "-v", "--quit-after", "0.5",
                       env={**ENV, **other_user}, timeout=120)
    assert other.returncode == 0 and READY in other.stderr and ALREADY not in other.stderr, other.output


def test_a_killed_first_copy_does_not_lock_the_user_out(started, tiny_bundle):
    first = started("--model", tiny_bundle)
    first.wait_for(READY)
    first.kill(signal.SIGKILL)  # leaves its lock file and its socket behind
    assert (Path(tempfile.gettempdir()) / paths.single_instance_name()).exists()

    second = started("--model", tiny_bundle)
    second.wait_for(READY)  # it started its own window ...
    third = run_module("keyboard_app", "--model", tiny_bundle, "--quit-after", "20", env=ENV, timeout=120)
    assert third.returncode == 0 and ALREADY in third.stderr, third.output  # ... and answers for it
    second.wait_for("brought it to the front")


def test_a_file_named_at_the_start_is_opened_and_a_second_start_opens_its_file_in_the_first(
        started, tiny_bundle, tmp_path):
    """``keyboard-app FILE`` (a file manager's "Open With" too): the window opens it; with
    a copy running, the second start hands the file to it and exits 0."""
    notes, letter = tmp_path / "notes.txt", tmp_path / "a letter.txt"
    notes.write_text("Dear diary,\n")
    letter.write_text("Dear Quimby,\n")
    first = started("--model", tiny_bundle, notes)
    first.wait_for(f"opened {notes}")
    first.wait_for(READY)
    second = run_module("keyboard_app", "--model", tiny_bundle, "-v", "--quit-after", "20",
                        letter.name, env=ENV, timeout=120, cwd=tmp_path)
    assert second.returncode == 0, second.output
    assert "is already running; its window, with a letter.txt, was brought to the front" in second.stderr
    first.wait_for(f"opened {letter}")  # the first copy opened it, by its whole path
    assert first.proc.poll() is None


def test_a_file_is_not_for_the_on_screen_keyboard(tmp_path):
    outcome = run_module("keyboard_app", "--osk", tmp_path / "notes.txt", env=ENV, timeout=60)
    assert outcome.returncode == 2 and "leave out --osk to open it" in outcome.stderr
    assert "Traceback" not in outcome.output
