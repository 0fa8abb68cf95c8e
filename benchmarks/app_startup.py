"""How long the app takes from launch to its first suggestions, and its memory.

    .venv/bin/python benchmarks/app_startup.py [--model assets/models/default] [--runs 3] [--before TREE]

Launches the real app (``python -m keyboard_app --verbose``) as a person
would, with ``QT_QPA_PLATFORM=offscreen`` unless a display is set, with
empty temporary user folders and its modules' bytecode cached (one untimed
launch first writes it, as an installed program has it), and reads its log as it comes: the time from
the launch to "model ... ready" and to "first suggestions" (the strip filled
for the empty document), then closes it with ``--quit-after``.  Peak memory
(max RSS) comes from the operating system's accounting of the finished
child.  Beside it, the same launch of a bare Qt main window (PySide6
imported, one empty QMainWindow shown) as the baseline: what Python and Qt
cost before the app does anything.  Prints medians over ``--runs`` launches
and the ratio app / baseline; figures are printed, never asserted.

The model's phrase tables are launched in both forms, side by side: stored
uncompressed and memory-mapped (issue 17) and compressed (the form the
default model ships in), each a copy of ``--model`` made here
(``phrases.copy_bundle``).  The app keeps a stored copy of compressed tables
in the user's cache folder, written at the first start, and remembers there
the checksums of the bundle's files it confirmed (``checksum_memo``): so the
compressed form is launched twice per run, once with both removed first (a
first start, which writes them) and once after (every later start, which
maps the copy and reads no unchanged file to hash it).  For each form, beside the app: the engine alone in a fresh
process (``Predictor.load`` and the first suggestions, from the
interpreter's start, and its peak memory; no cache folder), and
``keyboard-suggest`` (one call, as a script makes it, start to exit), whose
target is to cost what loading the bundle costs.  (This process
never loads a model: a child's peak memory would count its parent's.)  The last
lines print issue 17's targets (first suggestions <= 0.5 s after launch,
<= 150 MB peak) beside the figures.

The app's rows also give the CPU time it had used (all threads, from
``/proc``) when its first suggestions came: on a shared machine the wall
time follows the load, the CPU time much less, and the peak memory not at
all.  ``--before TREE`` launches the app (later starts, the compressed form)
from TREE, a copy of this source tree before a change, and from this tree,
alternately, and prints both and their ratios: a change measured in one run.
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
ENGINE = (
    "import sys, time, resource\n"
    "from keyboard_app.engine.predictor import Predictor\n"
    "p = Predictor.load(sys.argv[1]); p.suggest('')\n"
    "print('loaded', file=sys.stderr, flush=True)\n"
)


def bytecode_cache(home: str) -> dict[str, str]:
    """The children's compiled modules go to a private folder under ``home`` and are
    reused: a launch then costs what it costs an installed (or frozen) program, whatever
    ``PYTHONDONTWRITEBYTECODE`` says here (set, every launch would compile every module
    changed since the tree's own caches were written, about 0.1 s)."""
    return {"PYTHONPYCACHEPREFIX": str(Path(home) / "pycache")}


def child_cpu(pid: int) -> float:
    """CPU seconds (user and system, all threads) the running process ``pid`` has used so
    far, from ``/proc/PID/stat`` (in clock ticks, 10 ms); NaN where there is no such file."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def launch(cmd: list[str], marks: dict[str, re.Pattern], env: dict, timeout: float = 60.0,
           cwd: Path | None = None) -> dict:
    """Run ``cmd``; seconds from launch to the first stderr line matching each mark, the
    CPU seconds used by then (``cpu_`` and the mark's name), and max RSS (MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, cwd=cwd)
    found: dict[str, float] = {}
    assert proc.stderr is not None
    for line in proc.stderr:
        for name, pattern in marks.items():
            if name not in found and pattern.search(line):
                found[name] = time.perf_counter() - started
                found[f"cpu_{name}"] = child_cpu(proc.pid)
        if all(name in found for name in marks) or time.perf_counter() - started > timeout:
            break
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    missing = sorted(set(marks) - set(found))
    if missing:
        raise RuntimeError(f"{' '.join(cmd[:4])}...: never logged {', '.join(missing)} (exit {proc.returncode})")
    return {**found, "rss_mb": usage.ru_maxrss / 1024}  # ru_maxrss is in KiB on Linux


def timed_run(cmd: list[str], env: dict) -> dict:
    """Run ``cmd`` to its end: seconds from launch to exit, and max RSS (MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed")
    return {"exit": time.perf_counter() - started, "rss_mb": usage.ru_maxrss / 1024}


def side_by_side(before: Path, model: Path, home: str, env: dict, runs: int) -> dict[str, list]:
    """Later starts of the app from ``before`` and from this tree, alternately, ``runs``
    each: the same model, each tree with user folders of its own (its stored copy and
    checksums made by an untimed start first) and run from its own folder (``python -m``
    imports from the working folder first)."""
    trees = {"before": before.resolve(), "now": ROOT}
    envs = {}
    for name, tree in trees.items():
        folder = Path(home) / f"tree-{name}"
        envs[name] = dict(env, XDG_DATA_HOME=f"{folder}/data", XDG_CONFIG_HOME=f"{folder}/config",
                          XDG_CACHE_HOME=f"{folder}/cache", PYTHONPATH=str(tree))
    cmd = [sys.executable, "-m", "keyboard_app", "--verbose", "--model", str(model), "--quit-after", "1"]
    for name, tree in trees.items():  # untimed: bytecode, the stored copy, the checksums
        launch(cmd, {"first": FIRST}, envs[name], cwd=tree)
    rows: dict[str, list] = {name: [] for name in trees}
    for _ in range(runs):
        for name, tree in trees.items():
            rows[name].append(launch(cmd, {"first": FIRST}, envs[name], cwd=tree))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "assets/models/default")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, metavar="TREE",
                        help="also launch the app from TREE (a copy of this source tree before a change), "
                             "alternately with this one, and print the two side by side")
    args = parser.parse_args(argv)
    if args.before is not None and not (args.before / "keyboard_app" / "__main__.py").is_file():
        parser.error(f"{args.before} is not a copy of this source tree (no keyboard_app/__main__.py in it)")

    forms = ("stored", "compressed")
    starts = {"stored": "stored in the bundle", "first": "compressed, first start",
              "later": "compressed, later starts"}
    apps: dict[str, list] = {start: [] for start in starts}
    engines: dict[str, list] = {form: [] for form in forms}
    suggests: dict[str, list] = {form: [] for form in forms}
    bares, pythons = [], []
    with tempfile.TemporaryDirectory(prefix="app-startup-") as home:
        env = dict(os.environ, XDG_DATA_HOME=f"{home}/data", XDG_CONFIG_HOME=f"{home}/config",
                   XDG_CACHE_HOME=f"{home}/cache", PYTHONPATH=str(ROOT), **bytecode_cache(home))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            env["QT_QPA_PLATFORM"] = "offscreen"
        # Copied by a child: a child's peak memory counts its parent's at the fork, so this
        # process stays small (it never loads a model itself).
        models = {form: Path(home) / form for form in forms}
        for form, model in models.items():
            subprocess.run([sys.executable, "-m", "keyboard_app.engine.phrases", str(args.model), str(model),
                            *(["--compressed"] if form == "compressed" else [])], env=env, check=True)
        copies = Path(home) / "cache" / "predictive-keyboard" / "phrase-tables"  # paths.phrase_cache_dir()
        memo = copies.parent / "bundle-checksums.json"  # checksum_memo.memo_path()
        bare_cmd = [sys.executable, "-c", BARE]
        # Untimed: the modules' bytecode is written (as an installed or frozen program has it)
        # and the files are in the page cache, for every launch below alike.
        launch([sys.executable, "-m", "keyboard_app", "--verbose", "--model", str(models["stored"]),
                "--quit-after", "1"], {"first": FIRST}, env)
        for model in models.values():  # (and the commands' own stored copy of the compressed tables)
            timed_run([sys.executable, "-m", "keyboard_app.engine.cli", "suggest", str(model), "a"], env)
        launch(bare_cmd, {"shown": re.compile("shown")}, env)
        for _ in range(args.runs):
            for start, form in (("stored", "stored"), ("first", "compressed"), ("later", "compressed")):
                if start == "first":  # nothing in the user's cache: no copy, no remembered checksum
                    for copy in copies.glob("*.npz"):  # the app's (the commands' folder inside is theirs)
                        copy.unlink()
                    memo.unlink(missing_ok=True)
                app_cmd = [sys.executable, "-m", "keyboard_app", "--verbose", "--model", str(models[form]),
                           "--quit-after", "1"]
                apps[start].append(launch(app_cmd, {"ready": READY, "first": FIRST}, env))
            for form, model in models.items():
                engines[form].append(launch([sys.executable, "-c", ENGINE, str(model)],
                                            {"loaded": re.compile("loaded")}, env))
                suggests[form].append(timed_run([sys.executable, "-m", "keyboard_app.engine.cli", "suggest",
                                                 str(model), "see you tom"], env))
            bares.append(launch(bare_cmd, {"shown": re.compile("shown")}, env))
            pythons.append(timed_run([sys.executable, "-c", "pass"], env))
        trees = side_by_side(args.before, models["compressed"], home, env, args.runs) if args.before else {}

    def med(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(f"model    {args.model}; {args.runs} launches each; platform "
          f"{env.get('QT_QPA_PLATFORM', 'the display')}; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for start, label in starts.items():
        print(f"app      phrase tables {label:24}: model ready {med(apps[start], 'ready'):.2f} s, first suggestions "
              f"{med(apps[start], 'first'):.2f} s after launch (CPU {med(apps[start], 'cpu_first'):.2f} s); "
              f"peak memory {med(apps[start], 'rss_mb'):.0f} MB")
    for form in forms:
        print(f"engine   phrase tables {form:10}: Predictor.load and first suggestions {med(engines[form], 'loaded'):.2f} s "
              f"after the interpreter's start; peak memory {med(engines[form], 'rss_mb'):.0f} MB")
    for form in forms:
        print(f"command  phrase tables {form:10}: keyboard-suggest, start to exit {med(suggests[form], 'exit'):.2f} s; "
              f"peak memory {med(suggests[form], 'rss_mb'):.0f} MB")
    print(f"baseline bare Qt window shown {med(bares, 'shown'):.2f} s after launch; "
          f"peak memory {med(bares, 'rss_mb'):.0f} MB; a bare interpreter (python -c pass) "
          f"{med(pythons, 'exit'):.2f} s")
    stored, first, later = apps["stored"], apps["first"], apps["later"]
    print(f"ratio    first suggestions, first start / later starts {med(first, 'first') / med(later, 'first'):.2f}x, "
          f"later starts / stored {med(later, 'first') / med(stored, 'first'):.2f}x; peak memory "
          f"{med(first, 'rss_mb') / med(later, 'rss_mb'):.2f}x, {med(later, 'rss_mb') / med(stored, 'rss_mb'):.2f}x; "
          f"later starts / bare window {med(later, 'first') / med(bares, 'shown'):.1f}x")
    print(f"ratio    keyboard-suggest / engine load (stored) "
          f"{med(suggests['stored'], 'exit') / med(engines['stored'], 'loaded'):.2f}x")
    if trees:
        for name, rows in trees.items():
            print(f"{name:8} later starts, launched alternately: first suggestions {med(rows, 'first'):.2f} s after "
                  f"launch (CPU {med(rows, 'cpu_first'):.2f} s); peak memory {med(rows, 'rss_mb'):.1f} MB")
        before, now = trees["before"], trees["now"]
        print(f"ratio    now / before: first suggestions {med(now, 'first') / med(before, 'first'):.2f}x, CPU "
              f"{med(now, 'cpu_first') / med(before, 'cpu_first'):.2f}x, peak memory "
              f"{med(now, 'rss_mb') / med(before, 'rss_mb'):.3f}x ({med(now, 'rss_mb') - med(before, 'rss_mb'):+.1f} MB)")
    print(f"target   first suggestions <= 0.50 s: {med(later, 'first'):.2f} s; "
          f"peak memory <= 150 MB: {med(later, 'rss_mb'):.0f} MB (the default model's form, later starts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
