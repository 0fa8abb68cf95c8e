"""What typing a text costs the on-screen keyboard on X11: XTest (the keyboard's) against pynput's ``type()``.

    .venv/bin/python benchmarks/osk_injection.py [--rounds 20] [--text "Hello, Zoë! "]

Starts its own Xvfb and types into an xterm there (``allowSendEvents`` off, as
xterm has it by default) ``--rounds`` times with each injector, the two taking
turns in one process: ``keyboard_app.osk.xtest.XTestTyper`` (what the keyboard
uses) and, as the baseline, pynput's ``Controller.type()`` (what it used,
whose ``XSendEvent`` events xterm drops).  Prints, per injector, the wall time
of one ``type_text`` call per character (p50 / p99: the time the keyboard's
UI thread spends sending, the server's round trips included) and the ratio
XTest / pynput.  A character off the keymap (ë) borrows a keycode once, in
the first round.  Figures are printed, never asserted; needs Xvfb and xterm.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--text", default="Hello, Zoë! ")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("Xvfb", "xterm") if shutil.which(tool) is None]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed", file=sys.stderr)
        return 1
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "800x600x24", "-nolisten",
                               "tcp"], pass_fds=(write_fd,), stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        os.environ["DISPLAY"] = ":" + pipe.readline().strip()
    terminal = subprocess.Popen(["xterm", "-e", "cat > /dev/null"], stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # (no window manager: xterm takes the focus under the pointer's root)
        from pynput.keyboard import Controller

        from keyboard_app.osk.xtest import XTestTyper

        xtest, pynput = XTestTyper.open(), Controller()
        injectors = {"xtest": xtest.type_text, "pynput": pynput.type}
        per_char: dict[str, list[float]] = {name: [] for name in injectors}
        for _ in range(args.rounds):
            for name, type_text in injectors.items():
                start = time.perf_counter()
                type_text(args.text)
                per_char[name].append((time.perf_counter() - start) * 1000 / len(args.text))
        xtest.restore()
    finally:
        terminal.terminate()
        terminal.wait(10)
        server.terminate()
        server.wait(10)
    print(f"{args.rounds} rounds of {args.text!r} ({len(args.text)} characters), ms per character")
    for name in injectors:
        values = per_char[name]
        print(f"{name:7s} p50 {percentile(values, 50):.3f}  p99 {percentile(values, 99):.3f}")
    for q in (50, 99):
        print(f"ratio   xtest / pynput p{q}: "
              f"{percentile(per_char['xtest'], q) / percentile(per_char['pynput'], q):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
