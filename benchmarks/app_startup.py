"""How long the app takes from launch to its first suggestions, and its memory.

    .venv/bin/python benchmarks/app_startup.py [--model assets/models/default] [--runs 3]

Launches the real app (``python -m keyboard_app --verbose``) as a person
would, with ``QT_QPA_PLATFORM=offscreen`` unless a display is set and with
empty temporary user folders, and reads its log as it comes: the time from
the launch to "model ... ready" and to "first suggestions" (the strip filled
for the empty document), then closes it with ``--quit-after``.  Peak memory
(max RSS) comes from the operating system's accounting of the finished
child.  Beside it, the same launch of a bare Qt main window (PySide6
imported, one empty QMainWindow shown) as the baseline: what Python and Qt
cost before the app does anything.  Prints medians over ``--runs`` launches
and the ratio app / baseline; figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY = re.compile(r"model .* ready")
FIRST = re.compile(r"first suggestions")
BARE = (
    "import sys\n"
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "app = QApplication(sys.argv[:1]); w = QMainWindow(); w.show(); app.processEvents()\n"
    "print('shown', file=sys.stderr, flush=True)\n"
)


def launch(cmd: list[str], marks: dict[str, re.Pattern], env: dict, timeout: float = 60.0) -> dict:
    """Run ``cmd``; seconds from launch to the first stderr line matching each mark, and max RSS (MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    found: dict[str, float] = {}
    assert proc.stderr is not None
    for line in proc.stderr:
        for name, pattern in marks.items():
            if name not in found and pattern.search(line):
                found[name] = time.perf_counter() - started
        if len(found) == len(marks) or time.perf_counter() - started > timeout:
            break
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    missing = sorted(set(marks) - set(found))
    if missing:
        raise RuntimeError(f"{' '.join(cmd[:4])}...: never logged {', '.join(missing)} (exit {proc.returncode})")
    return {**found, "rss_mb": usage.ru_maxrss / 1024}  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "assets/models/default")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="app-startup-") as home:
        env = dict(os.environ, XDG_DATA_HOME=f"{home}/data", XDG_CONFIG_HOME=f"{home}/config",
                   XDG_CACHE_HOME=f"{home}/cache")
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            env["QT_QPA_PLATFORM"] = "offscreen"
        app_cmd = [sys.executable, "-m", "keyboard_app", "--verbose", "--model", str(args.model),
                   "--quit-after", "1"]
        bare_cmd = [sys.executable, "-c", BARE]
        apps, bares = [], []
        for _ in range(args.runs):
            apps.append(launch(app_cmd, {"ready": READY, "first": FIRST}, env))
            bares.append(launch(bare_cmd, {"shown": re.compile("shown")}, env))

    def med(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(f"model    {args.model}; {args.runs} launches each; platform "
          f"{env.get('QT_QPA_PLATFORM', 'the display')}; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"app      model ready {med(apps, 'ready'):.2f} s, first suggestions {med(apps, 'first'):.2f} s "
          f"after launch; peak memory {med(apps, 'rss_mb'):.0f} MB")
    print(f"baseline bare Qt window shown {med(bares, 'shown'):.2f} s after launch; "
          f"peak memory {med(bares, 'rss_mb'):.0f} MB")
    print(f"ratio    first suggestions / bare window {med(apps, 'first') / med(bares, 'shown'):.1f}x; "
          f"memory {med(apps, 'rss_mb') / med(bares, 'rss_mb'):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
