"""The entry point: options, --self-test delegation, and a real start-and-quit."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from keyboard_app import __main__ as entry


def test_options():
    args = entry.build_parser().parse_args(["--model", "m.zip", "--quit-after", "2.5"])
    assert str(args.model) == "m.zip" and args.quit_after == 2.5 and not args.self_test


def test_self_test_is_delegated_lazily(monkeypatch):
    import keyboard_app.selftest as selftest

    seen = []
    monkeypatch.setattr(selftest, "main", lambda argv=None: seen.append(argv) or 0)
    assert entry.main(["--self-test", "--model", "x"]) == 0
    assert seen == [["--model", "x"]]


def test_unknown_options_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        entry.main(["--frobnicate"])
    assert exit_.value.code == 2
    assert "--frobnicate" in capsys.readouterr().err


def test_the_app_starts_and_quits_by_itself(tiny_bundle, user_folders):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "keyboard_app", "--model", str(tiny_bundle), "--quit-after", "1.5", "-v"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "ready" in result.stderr  # the model loaded before the window closed
