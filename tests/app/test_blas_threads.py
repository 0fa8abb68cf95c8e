"""One OpenBLAS thread for the app and the commands, set in ``main()`` before numpy loads,
and nothing of it in a library importer's environment or the trainer's (keyboard_app/blas_threads.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from keyboard_app import blas_threads
from keyboard_app.blas_threads import VARIABLE

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the trainer test's QProcess needs an application

# Run in a child after a main(): the thread count the loaded OpenBLAS itself reports (what
# threadpoolctl reads), so a setting made after numpy's import, which it ignores, shows.
OPENBLAS_THREADS = r'''
import ctypes, json, os, sys
assert "numpy" in sys.modules, "numpy was never loaded"
(path,) = {line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.rsplit("/", 1)[-1]}
lib = ctypes.CDLL(path)
get = next(getattr(lib, n) for n in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                                      "openblas_get_num_threads") if hasattr(lib, n))
print("\nBLAS " + json.dumps([get(), os.environ.get(%r)]))
''' % VARIABLE


def child(code: str, user_value: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    if user_value is not None:
        env[VARIABLE] = user_value
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env)


def blas_line(proc: subprocess.CompletedProcess) -> list:
    lines = [line for line in proc.stdout.splitlines() if line.startswith("BLAS ")]
    assert lines, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(lines[-1][len("BLAS "):])


def test_importing_the_entry_points_leaves_the_environment_alone():
    proc = child("import json, os, sys\n"
                 "import keyboard_app.engine.cli, keyboard_app.__main__\n"
                 f"print(json.dumps([os.environ.get({VARIABLE!r}), 'numpy' in sys.modules]))")
    assert proc.returncode == 0, proc.stderr
    # unset, and numpy not loaded yet: a main() that sets it still comes before numpy
    assert json.loads(proc.stdout) == [None, False]


needs_cores = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: one OpenBLAS thread either way")


@needs_cores
@pytest.mark.parametrize("user_value, threads", [(None, 1), ("2", 2)])
def test_the_commands_main_gives_openblas_one_thread_unless_the_user_chose(tiny_bundle, user_value, threads):
    code = ("from keyboard_app.engine.cli import suggest_main\n"
            f"assert suggest_main([{str(tiny_bundle)!r}, 'the cat']) == 0\n" + OPENBLAS_THREADS)
    proc = child(code, user_value)
    assert proc.returncode == 0, proc.stderr
    assert blas_line(proc) == [threads, "1" if user_value is None else user_value]


@needs_cores
def test_the_apps_main_gives_openblas_one_thread(tiny_bundle):
    code = ("import keyboard_app.__main__ as app\n"
            f"app.main(['--self-test', '--model', {str(tiny_bundle)!r}])\n" + OPENBLAS_THREADS)
    proc = child(code)
    assert blas_line(proc) == [1, "1"]


@pytest.mark.parametrize("user_value", [None, "1", "3"])
def test_the_trainer_gets_the_users_environment_not_the_apps_limit(qtbot, monkeypatch, user_value):
    """The in-app retrain's trainer process: OPENBLAS_NUM_THREADS as the user launched the
    app with it (unset, or their value), whatever the app set for itself."""
    from keyboard_app.ui.trainer_process import TrainerRun

    monkeypatch.setattr(blas_threads, "_added", False)  # the state of a fresh start
    if user_value is None:
        monkeypatch.delenv(VARIABLE, raising=False)
    else:
        monkeypatch.setenv(VARIABLE, user_value)
    blas_threads.limit()  # what main() does at start-up
    assert os.environ[VARIABLE] == (user_value or "1")
    report = f"import os, sys; sys.stderr.write(repr(os.environ.get({VARIABLE!r}))); sys.exit(1)"
    run = TrainerRun(sys.executable, ["-c", report])
    with qtbot.waitSignal(run.finished, timeout=15000) as ended:
        run.start()
    assert ended.args[0].stderr_tail == [repr(user_value)]
