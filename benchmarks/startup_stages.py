"""Where the app's start-up time and memory go, stage by stage.

    .venv/bin/python benchmarks/startup_stages.py [--model assets/models/default] [--first]
        [--engine-only] [--tracemalloc]

Starts the real app (``keyboard_app.__main__.main`` with ``--quit-after``) in a
fresh interpreter, offscreen and with empty temporary user folders, with
probes around the imports and calls of its start-up: each probe records the
thread it ran on, its start and end (wall, from the interpreter's start), the
CPU time of that thread, and the process's resident memory after it and at
its peak so far (``/proc/self/status`` VmRSS / VmHWM, which count
memory-mapped files and native libraries as well as Python's objects).  With
``--tracemalloc`` also the memory Python's objects hold after each stage and
their peak within it (tracemalloc's, of all threads; an allocation counts
whole even where its pages are never touched, as ``read(n)``'s buffer of n
bytes); slower, so the times are then not the app's.

A start made first and not timed writes the modules' bytecode (as an
installed program has it) and fills the user's cache (the stored copy of
compressed phrase tables, the remembered checksums): a later start is
measured; ``--first`` empties the user's cache first (a first start).
``--engine-only`` runs the engine's part alone, in the worker's order, on the
main thread (``predictors.load_predictor`` and the first suggestions).

The rows are printed in the order they started; a probe inside another is
indented.  The figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Calls probed, as "module:qualified name", in the order the app reaches them.
CALLS = (
    "keyboard_app.ui.app:create_application",
    "keyboard_app.ui.main_window:MainWindow.__init__",
    "keyboard_app.settings:SettingsStore.load",
    "keyboard_app.learning:PersonalModel.load",
    "keyboard_app.model_store:ModelStore.__init__",
    "keyboard_app.ui.main_window:MainWindow.show",
    "keyboard_app.predictors:load_predictor",
    "keyboard_app.engine.bundle:load_bundle",
    "keyboard_app.engine.bundle:read_manifest",
    "keyboard_app.engine.bundle:_verify_files",
    "keyboard_app.engine.bundle:Vocabulary.load",
    "keyboard_app.engine.bundle:Lexicon.load",
    "keyboard_app.engine.bundle:Phrases.load",
    "keyboard_app.engine.predictor:Predictor.__init__",
    "keyboard_app.engine.predictor:RecurrentSession.open",
    "keyboard_app.engine.predictor:WordIndex.__init__",
    "keyboard_app.engine.predictor:TokenCache.__init__",
    "keyboard_app.engine.predictor:StateCache.__init__",
    "keyboard_app.engine.predictor:LexiconIndex.__init__",
    "keyboard_app.engine.predictor:Predictor._built_in_components",
    "keyboard_app.engine.predictor:Completions.__init__",
    "keyboard_app.engine.predictor:Predictor.suggest",
    "keyboard_app.ui.elide:ElidingStatusBar.paintEvent",  # the window's first frame (first call only)
)
#: Calls probed at their first call only.
FIRST_ONLY = ("paintEvent",)
#: Modules whose import is probed (each the first time it is imported).
IMPORTS = (
    "PySide6.QtWidgets", "keyboard_app.ui.app", "keyboard_app.ui.main_window", "numpy", "onnxruntime",
    "keyboard_app.engine.components", "keyboard_app.engine.predictor", "keyboard_app.engine.bundle",
)

CHILD = r'''
import sys, time, threading
T0 = time.perf_counter()
import importlib.abc, importlib.util, functools, os, resource
TRACE = bool(int(sys.argv[1])); ENGINE_ONLY = bool(int(sys.argv[2])); MODEL = sys.argv[3]
CALLS = sys.argv[4].split(","); IMPORTS = set(sys.argv[5].split(","))
if TRACE:
    import tracemalloc; tracemalloc.start()
rows, depth = [], threading.local()

def memory():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line[:5]] = int(line.split()[1]) / 1024
    return out["VmRSS"], out["VmHWM"]

resident = {}  # resident MB by mapping, after the first suggestions (``by_mapping``)

def by_mapping():
    out, name = {}, None
    with open("/proc/self/smaps") as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and not fields[0].endswith(":"):
                name = fields[5] if len(fields) > 5 else "[anon]"
            elif fields[0] == "Rss:" and fields[1] != "0":
                out[name] = out.get(name, 0) + int(fields[1]) / 1024
    return out

def probe(name, call, *args, **kwargs):
    level = getattr(depth, "n", 0); depth.n = level + 1
    row = {"name": name, "thread": threading.current_thread().name, "level": level,
           "start": time.perf_counter() - T0}
    rows.append(row)
    if TRACE:  # the peak is tracemalloc's, of all threads; a parent's includes its children's
        before, peak = tracemalloc.get_traced_memory()
        peaks = depth.__dict__.setdefault("peaks", [])
        if peaks:
            peaks[-1] = max(peaks[-1], peak)
        tracemalloc.reset_peak(); peaks.append(before)
    cpu = time.thread_time()
    try:
        return call(*args, **kwargs)
    finally:
        row["cpu"] = time.thread_time() - cpu
        row["end"] = time.perf_counter() - T0
        row["process_cpu"] = time.process_time()
        row["rss"], row["hwm"] = memory()
        if name == "Predictor.suggest" and not resident:
            resident.update(by_mapping())
        if TRACE:
            now, peak = tracemalloc.get_traced_memory()
            own = max(peaks.pop(), peak)
            if peaks:
                peaks[-1] = max(peaks[-1], own)
            row["py"], row["py_peak"] = (now - before) / 2**20, (own - before) / 2**20
        depth.n = level

class Timed(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in IMPORTS:
            return None
        IMPORTS.discard(name)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module
        spec.loader.exec_module = lambda module: probe("import " + name, run, module)
        return spec

sys.meta_path.insert(0, Timed())
wrapped, seen = set(), set()
FIRST_ONLY = tuple(sys.argv[6].split(","))

def wrap(target):
    module_name, qualname = target.split(":")
    module = sys.modules.get(module_name)
    if module is None or target in wrapped:
        return
    owner, *path = qualname.split(".")
    if not hasattr(module, owner):
        return
    holder = module if not path else getattr(module, owner)
    attr = path[-1] if path else owner
    original = holder.__dict__.get(attr) if isinstance(holder, type) else None
    original = original if original is not None else getattr(holder, attr, None)
    if original is None:
        return
    wrapped.add(target)
    label = qualname
    first_only = label.endswith(FIRST_ONLY)
    def wrapper(*a, **k):
        if first_only and label in seen:
            return original(*a, **k)
        seen.add(label)
        return probe(label, original, *a, **k)
    if isinstance(original, classmethod):
        setattr(holder, attr, classmethod(lambda cls, *a, **k: probe(label, original.__func__, cls, *a, **k)))
    else:
        functools.update_wrapper(wrapper, original)
        setattr(holder, attr, wrapper)

class Wrapping(importlib.abc.MetaPathFinder):
    """Wraps the probed calls as soon as their module has run."""
    def find_spec(self, name, path, target=None):
        if not any(c.startswith(name + ":") for c in CALLS):
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(1, self)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module
        def exec_and_wrap(module):
            run(module)
            for c in CALLS:
                if c.startswith(name + ":"):
                    wrap(c)
        spec.loader.exec_module = exec_and_wrap
        return spec

sys.meta_path.insert(1, Wrapping())
if ENGINE_ONLY:
    from keyboard_app.predictors import load_predictor
    from pathlib import Path
    predictor = load_predictor(Path(MODEL))
    predictor.suggest("", 3)
else:
    from keyboard_app.__main__ import main
    import keyboard_app.ui.app as app
    main(["--model", MODEL, "--quit-after", "1.5"])
if TRACE:
    peak = tracemalloc.get_traced_memory()[1] / 2**20
import json
print("STAGES " + json.dumps({"rows": rows, "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                              "resident": resident}),
      flush=True)
'''


def run_child(model: Path, env: dict, trace: bool, engine_only: bool) -> dict:
    import json

    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(int(trace)), str(int(engine_only)), str(model), ",".join(CALLS),
         ",".join(IMPORTS), ",".join(FIRST_ONLY)], env=env, capture_output=True, text=True, timeout=300)
    for line in out.stdout.splitlines():
        if line.startswith("STAGES "):
            return json.loads(line[len("STAGES "):])
    raise RuntimeError(f"the probed start failed:\n{out.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "assets/models/default")
    parser.add_argument("--first", action="store_true", help="a first start (the user's cache empty)")
    parser.add_argument("--engine-only", action="store_true", help="the engine's part alone, on one thread")
    parser.add_argument("--tracemalloc", action="store_true", help="also Python's objects (slower)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="startup-stages-") as home:
        env = dict(os.environ, XDG_DATA_HOME=f"{home}/data", XDG_CONFIG_HOME=f"{home}/config",
                   XDG_CACHE_HOME=f"{home}/cache", PYTHONPATH=os.pathsep.join(
                       p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p),
                   PYTHONPYCACHEPREFIX=f"{home}/pycache")  # reused from the untimed start on
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        # A start first, untimed, writes the modules' bytecode (as an installed program has
        # it) and, for a later start, what the user's cache keeps.
        run_child(args.model, env, False, args.engine_only)
        if args.first:
            shutil.rmtree(Path(home) / "cache", ignore_errors=True)
        result = run_child(args.model, env, args.tracemalloc, args.engine_only)
    rows = sorted(result["rows"], key=lambda r: r["start"])
    head = (f"{'stage':52} {'thread':6} {'start':>6} {'end':>6} {'wall':>6} {'cpu':>6} {'all cpu':>7} {'RSS':>6} "
            f"{'peak':>6}")
    if args.tracemalloc:
        head += f" {'py+':>6} {'py^':>6}"
    print(f"{'first' if args.first else 'later'} start of {args.model}"
          f"{' (engine only)' if args.engine_only else ''}; seconds from the interpreter's start; MB")
    print(head)
    for r in rows:
        thread = "main" if r["thread"] == "MainThread" else "worker"
        line = (f"{'  ' * r['level'] + r['name']:52.52} {thread:6} {r['start']:6.3f} {r['end']:6.3f} "
                f"{r['end'] - r['start']:6.3f} {r['cpu']:6.3f} {r['process_cpu']:7.3f} {r['rss']:6.1f} {r['hwm']:6.1f}")
        if args.tracemalloc:
            line += f" {r['py']:6.1f} {r['py_peak']:6.1f}"
        print(line)
    print(f"peak memory (max RSS) {result['maxrss']:.0f} MB")
    groups: dict[str, float] = {}
    for path, mb in result["resident"].items():
        group = library(path)
        groups[group] = groups.get(group, 0.0) + mb
    print(f"resident after the first suggestions, by what is mapped (MB; {sum(groups.values()):.1f} in all):")
    for group, mb in sorted(groups.items(), key=lambda item: -item[1]):
        print(f"  {mb:6.1f}  {group}")
    return 0


#: (what a mapping's path contains, the group it is counted in), the first match wins
LIBRARIES = (
    ("/PySide6/", "Qt: its libraries, plugins and PySide6's bindings (mapped files)"),
    ("/shiboken6/", "Qt: its libraries, plugins and PySide6's bindings (mapped files)"),
    ("/onnxruntime/", "onnxruntime's library (mapped files)"),
    ("/numpy", "numpy and its OpenBLAS (mapped files)"),
    ("libpython", "the interpreter and its extension modules (mapped files)"),
    ("/lib-dynload/", "the interpreter and its extension modules (mapped files)"),
    ("/bin/python", "the interpreter and its extension modules (mapped files)"),
    ("/fonts", "fonts and fontconfig's caches"),
    ("/fontconfig/", "fonts and fontconfig's caches"),
    (".npz", "phrase tables, memory-mapped (the pages touched)"),
    ("[heap]", "the main thread's C heap (Python's objects, Qt's, numpy's arrays)"),
    ("[anon]", "anonymous memory: other threads' C heaps, Python's arenas, large arrays, "
               "onnxruntime's weights and buffers"),
    ("/lib", "system libraries (libc, libstdc++, OpenSSL, X11, GL, ...)"),
)


def library(path: str) -> str:
    for part, group in LIBRARIES:
        if part in path:
            return group
    return "other"


if __name__ == "__main__":
    sys.exit(main())
