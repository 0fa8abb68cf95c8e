"""The keyboard under a real X server: it types into another process and never takes the focus.

Starts Xvfb and openbox (focus handling needs a window manager), a separate
target program with a text field (``target_app.py``) and ``keyboard-app --osk``
(through ``osk_driver.py``, which reports where the keys are), then clicks
keys and a suggestion with real pointer events (xdotool), and checks that
the target received exactly the text, é and a Backspace included, and stayed
the active window throughout; then that activating another window resets the
keyboard's context and the keys type there.  Skipped, with the reason, where
Xvfb, openbox or xdotool is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TOOLS = {"Xvfb": "xvfb", "openbox": "openbox", "xdotool": "xdotool", "xprop": "x11-utils"}
STEP_TIMEOUT = 20.0  # seconds for one reaction on a busy 2-core machine (not a timing assertion)


def _missing_tools() -> list[str]:
    return [f"{tool} (Debian: {package})" for tool, package in TOOLS.items() if shutil.which(tool) is None]


pytestmark = pytest.mark.skipif(bool(_missing_tools()), reason=f"needs an X server to type into: "
                                f"{', '.join(_missing_tools())} not installed")


def wait_for(what: str, condition, timeout: float = STEP_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class X11:
    """Xvfb + openbox, and the processes started on them (all stopped at the end)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.logs: dict[str, Path] = {}
        read_fd, write_fd = os.pipe()
        self.server = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.server.kill()
            pytest.skip("Xvfb did not start")
        self.display = f":{number}"
        self.env = {**os.environ, "DISPLAY": self.display, "QT_QPA_PLATFORM": "xcb",
                    "XDG_SESSION_TYPE": "x11", "PYTHONPATH": str(HERE.parent.parent)}
        self.env.pop("WAYLAND_DISPLAY", None)
        self.start("openbox", ["openbox"])
        wait_for("openbox", lambda: "window id" in self.run("xprop", "-root", "_NET_SUPPORTING_WM_CHECK"))

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = self.tmp_path / f"{name}.log"
        self.logs[name] = log
        with open(log, "wb") as out:
            process = subprocess.Popen(argv, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def run(self, *argv: str) -> str:
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=30).stdout

    def active_window(self) -> int:
        return int(self.run("xdotool", "getactivewindow").strip() or 0)

    def click(self, at: list[int]) -> None:
        self.run("xdotool", "mousemove", "--sync", str(at[0]), str(at[1]), "click", "1")

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")[-3000:]

    def close(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.server.terminate()
        self.server.wait(10)


@pytest.fixture
def x11(tmp_path):
    server = X11(tmp_path)
    yield server
    server.close()


def start_target(x11: X11, name: str) -> tuple[Path, dict]:
    state = x11.tmp_path / f"{name}.json"
    process = x11.start(name, [sys.executable, str(HERE / "target_app.py"), str(state), name])
    try:
        return state, wait_for(f"{name} to be the active window",
                               lambda: (s := read_json(state)) and s["active"] and s)
    except AssertionError:
        if process.poll() is not None and "xcb" in x11.log(name):
            pytest.skip(f"Qt cannot open the X11 display: {x11.log(name).strip().splitlines()[-1]}")
        raise


def test_the_keyboard_types_into_another_application_which_keeps_the_focus(x11, tiny_bundle):
    if importlib.util.find_spec("pynput") is None:
        pytest.skip("pynput, which injects the key events, is not installed")
    target_state, target = start_target(x11, "target")
    window = target["window"]
    osk_state = x11.tmp_path / "osk.json"
    x11.start("osk", [sys.executable, str(HERE / "osk_driver.py"), str(osk_state), "--model", str(tiny_bundle)])
    osk = wait_for("the keyboard with its first suggestions",
                   lambda: (s := read_json(osk_state)) and s["keys"] and s["suggestions"] and s)
    assert osk["window"] != window
    assert x11.active_window() == window, "opening the keyboard took the focus"

    def target_text() -> str:
        return read_json(target_state)["text"]

    def press(key: str, expected: str) -> None:
        x11.click(read_json(osk_state)["keys"][key])
        try:
            wait_for(f"{expected!r} in the target", lambda: target_text() == expected)
        except AssertionError:
            raise AssertionError(f"after {key}: {target_text()!r}, not {expected!r}\n{x11.log('osk')}")
        assert x11.active_window() == window, f"clicking {key} took the focus"

    press("shift", "")
    press("t", "T")
    press("h", "Th")
    osk = wait_for("completions of 'Th'", lambda: (s := read_json(osk_state)) and s["context"] == "Th"
                   and any(x["text"].lower() == "the" for x in s["suggestions"]) and s)
    the = next(x for x in osk["suggestions"] if x["text"].lower() == "the")
    x11.click(the["at"])
    expected = the["text"] + " "
    wait_for(f"{expected!r} in the target", lambda: target_text() == expected)
    assert x11.active_window() == window
    for key, text in [("c", "c"), ("a", "ca"), ("f", "caf"), ("e", "cafe"), ("backspace", "caf"), ("é", "café")]:
        press(key, expected + text)
    final = read_json(target_state)
    assert final["text"] == "The café"
    assert final["active"] and final["deactivations"] == 0
    assert read_json(osk_state)["context"] == "The café"

    # Another window gets the focus: the context starts again, and the keys type there.
    other_state, other = start_target(x11, "other")
    wait_for("the other window to be active for the window manager",
             lambda: x11.active_window() == other["window"])
    wait_for("the context reset", lambda: read_json(osk_state)["context"] == ""
             and read_json(osk_state)["resets"] >= 1)
    x11.click(read_json(osk_state)["keys"]["o"])
    x11.click(read_json(osk_state)["keys"]["k"])
    wait_for("'ok' in the other window", lambda: read_json(other_state)["text"] == "ok")
    assert target_text() == "The café"
    assert x11.active_window() == other["window"]


def test_switch_keys_scan_the_keyboard_and_never_reach_the_application(x11, tiny_bundle, user_folders):
    if importlib.util.find_spec("pynput") is None:
        pytest.skip("pynput, which injects the key events, is not installed")
    config = user_folders / "xdg-config" / "predictive-keyboard"
    config.mkdir(parents=True)
    (config / "osk.json").write_text(json.dumps({
        "access": "scan", "scan_switches": 2, "switch_keys": "F9 F10", "scan_interval_ms": 5000}))
    target_state, target = start_target(x11, "target")
    osk_state = x11.tmp_path / "osk.json"
    x11.start("osk", [sys.executable, str(HERE / "osk_driver.py"), str(osk_state), "--model", str(tiny_bundle)])
    wait_for("the keyboard with its first suggestions",
             lambda: (s := read_json(osk_state)) and s["keys"] and s["suggestions"])
    # Row-column scanning from the suggestion row: "q" is key 1 of row 1 (group 2).
    for key in ["F10", "F10", "F9", "F10", "F9"]:
        x11.run("xdotool", "key", key)
        time.sleep(0.2)  # one switch press at a time, as a person would
    try:
        wait_for("'q' in the target", lambda: read_json(target_state)["text"] == "q")
    except AssertionError:
        raise AssertionError(f"{read_json(target_state)}\n{x11.log('osk')}")
    state = read_json(target_state)
    assert state["function_keys"] == 0 and state["deactivations"] == 0
    assert x11.active_window() == target["window"]


def test_keyboard_app_osk_starts_and_quits_by_itself(x11, tiny_bundle):
    if importlib.util.find_spec("pynput") is None:
        pytest.skip("pynput, which injects the key events, is not installed")
    result = subprocess.run(
        [sys.executable, "-m", "keyboard_app", "--osk", "--model", str(tiny_bundle), "--quit-after", "2"],
        env=x11.env, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")


def test_the_keyboard_types_into_xterm_which_drops_synthetic_events(x11, tiny_bundle):
    """H25's finding 1: pynput's ``type()`` sent letters as synthetic events, which xterm drops,
    while its Backspaces (XTest) arrived, so a suggestion erased the user's text. Letters now go
    through XTest too: they arrive, and a suggestion in another case replaces only the word.
    (In a terminal the keyboard adds no sentence capital, H33's finding 8: a name keeps its own.)"""
    if shutil.which("xterm") is None:
        pytest.skip("xterm (Debian: xterm) not installed")
    state = x11.tmp_path / "terminal.json"
    x11.start("xterm", ["xterm", "-T", "terminal-target", "-geometry", "80x8+0+0", "-e",
                        sys.executable, str(HERE / "terminal_target.py"), str(state)])
    wait_for("the terminal to be active", lambda: read_json(state) is not None
             and x11.run("xdotool", "getactivewindow", "getwindowname").strip() == "terminal-target")
    osk_state = x11.tmp_path / "osk.json"
    x11.start("osk", [sys.executable, str(HERE / "osk_driver.py"), str(osk_state), "--model", str(tiny_bundle)])
    wait_for("the keyboard with its first suggestions",
             lambda: (s := read_json(osk_state)) and s["keys"] and s["suggestions"])

    def terminal_text() -> str:
        return read_json(state)["text"]

    typed = ""
    for key in "hello. al":
        x11.click(read_json(osk_state)["keys"]["space" if key == " " else key])
        typed += key
        try:
            wait_for(f"{typed!r} in xterm", lambda: terminal_text() == typed)
        except AssertionError:
            raise AssertionError(f"after {key!r}: {terminal_text()!r}, not {typed!r}\n{x11.log('osk')}")
    osk = wait_for("completions of 'al'", lambda: (s := read_json(osk_state)) and s["context"] == "hello. al"
                   and any(x["text"] == "Alice" for x in s["suggestions"]) and s)
    assert all(x["text"] == "Alice" or x["text"][:1].islower() for x in osk["suggestions"])
    x11.click(next(x for x in osk["suggestions"] if x["text"] == "Alice")["at"])  # Backspaces, then "Alice "
    expected = "hello. Alice "
    try:
        wait_for(f"{expected!r} in xterm", lambda: terminal_text() == expected)
    except AssertionError:
        raise AssertionError(f"{terminal_text()!r}, not {expected!r}\n{x11.log('osk')}")


def keymap_keysyms(x11: X11) -> set[int]:
    """Every keysym the X server's keymap holds now."""
    from Xlib import display

    connection = display.Display(x11.display)
    try:
        first = connection.display.info.min_keycode
        rows = connection.get_keyboard_mapping(first, connection.display.info.max_keycode - first + 1)
        return {keysym for row in rows for keysym in row}
    finally:
        connection.close()


def start_typing_keyboard(x11: X11, tiny_bundle, user_folders) -> tuple[subprocess.Popen, Path, Path]:
    """``keyboard-app --osk`` learning what it types, with "café " typed into a target
    (é is not on Xvfb's keymap: a keycode is borrowed for it)."""
    if importlib.util.find_spec("pynput") is None:
        pytest.skip("pynput, which injects the key events, is not installed")
    config = user_folders / "xdg-config" / "predictive-keyboard"
    config.mkdir(parents=True, exist_ok=True)
    (config / "osk.json").write_text(json.dumps({"learn_from_typing": True}))
    target_state, _ = start_target(x11, "target")
    osk_state = x11.tmp_path / "osk-state.json"
    osk_state.unlink(missing_ok=True)
    process = x11.start("osk", [sys.executable, str(HERE / "osk_driver.py"), str(osk_state),
                                "--model", str(tiny_bundle)])
    wait_for("the keyboard with its first suggestions",
             lambda: (s := read_json(osk_state)) and s["keys"] and s["suggestions"])
    assert keymap_keysyms(x11).isdisjoint({0xE9}), "Xvfb's keymap has é already: nothing to borrow"
    for key in ["c", "a", "f", "é", "space"]:
        x11.click(read_json(osk_state)["keys"][key])
    wait_for("'café ' in the target", lambda: read_json(target_state)["text"] == "café ")
    assert 0xE9 in keymap_keysyms(x11)  # borrowed while the keyboard runs
    return process, config, user_folders / "xdg-data" / "predictive-keyboard"


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_terminal_signal_closes_the_keyboard_as_its_close_does(x11, tiny_bundle, user_folders, signum, code):
    """Ctrl-C in the terminal ``--osk`` was started from: the borrowed keycode given back, the
    keyboard's place and the word it learned saved, the shell's status for the signal."""
    process, config, data = start_typing_keyboard(x11, tiny_bundle, user_folders)
    process.send_signal(signum)
    assert process.wait(STEP_TIMEOUT) == code, x11.log("osk")
    assert "Traceback" not in x11.log("osk")
    assert 0xE9 not in keymap_keysyms(x11)
    assert json.loads((config / "osk.json").read_text(encoding="utf-8"))["window_geometry"]
    assert "café" in (data / "personal.json").read_text(encoding="utf-8")


def test_the_next_keyboard_gives_back_the_keycodes_a_killed_one_borrowed(x11, tiny_bundle, user_folders):
    process, _, _ = start_typing_keyboard(x11, tiny_bundle, user_folders)
    process.kill()  # SIGKILL: nothing of the keyboard's own runs
    process.wait(STEP_TIMEOUT)
    assert 0xE9 in keymap_keysyms(x11)  # still mapped, for every program on the display
    osk_state = x11.tmp_path / "osk-again.json"
    again = x11.start("osk-again", [sys.executable, str(HERE / "osk_driver.py"), str(osk_state),
                                    "--model", str(tiny_bundle)])
    wait_for("the next keyboard", lambda: (s := read_json(osk_state)) and s["keys"])
    assert 0xE9 not in keymap_keysyms(x11)
    again.terminate()
    assert again.wait(STEP_TIMEOUT) == 143
