"""``keyboard-app`` in a terminal: what it writes there is plain sentences after the program's
name (the modules' names, ``keyboard_app.ui.worker: ...``, only with ``--verbose``, for a log),
and Ctrl-C before its event loop runs ends it in one line, not a traceback (in the loop, see
tests/ui/test_app_signals.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

MISSING = "/nonexistent/bundle"


def ours(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("keyboard-app:")]


@pytest.mark.parametrize("verbose", [False, True])
def test_a_warning_names_the_program_and_the_module_only_when_verbose(user_folders, verbose):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "keyboard_app", "--model", MISSING, "--quit-after", "1",
         *(["-v"] if verbose else [])],
        capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    failed = f"loading {MISSING} failed: {MISSING}: no such model bundle."
    if verbose:
        assert f"keyboard-app: keyboard_app.ui.worker: {failed}" in ours(result.stderr)
    else:
        assert f"keyboard-app: {failed}" in ours(result.stderr)
        assert not any("keyboard_app." in line for line in ours(result.stderr)), result.stderr


@pytest.mark.parametrize("osk", [False, True])
def test_ctrl_c_while_starting_is_one_line_and_the_shells_status(monkeypatch, capsys, osk):
    from keyboard_app import __main__ as entry
    from keyboard_app.osk import app as osk_app
    from keyboard_app.ui import app as ui_app

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(osk_app if osk else ui_app, "run_osk" if osk else "run_gui", interrupted)
    assert entry.main(["--osk"] if osk else []) == 130
    assert capsys.readouterr().err == "keyboard-app: interrupted.\n"

