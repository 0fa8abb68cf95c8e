"""Where a word boundary's time goes: each stage of ``Predictor.suggest``, timed in place.

    .venv/bin/python benchmarks/boundary_stages.py [BUNDLE] [--text FILE] [--words 2000]
        [--onnx-steps 3000] [--prepacking] [--session-options]

Types the first ``--words`` words of ``--text`` into one ``Predictor`` a character at
a time, as benchmarks/keystroke_latency.py does, and at every word boundary records
the time spent inside each stage (inclusive: a stage's row contains the rows nested
in it, e.g. the network's step inside the state cache).  It prints p50 / mean / p90 /
p99 per stage in microseconds for all boundaries, for those that run a whole 8-token
cell of the state cache (``state_cache.CELL``) and for the one-step ones, and the
remainder (the predictor's own code between stages).  Then what the slowest 1% of
boundaries (by CPU time) have in common beside the others: how many ran a whole
cell, how many saw a garbage collection (``gc.callbacks``) and how many minor page
faults they took (``getrusage``), each stage's mean excess over the middle half
(the stages are timed by the wall clock: a stage during which the process waited
for a core shows that wait, which the keystroke's CPU time leaves out).

Then it opens the bundle's graph alone with onnxruntime's profiler and steps it
``--onnx-steps`` times (one token, the state fed back): the time of each node,
which splits the network's step into the LSTM, the projection, the output layer
and the log-softmax.  Those figures are for a graph whose weights stay in the CPU's
caches between steps; inside the engine they do not (compare the network's row).

``--prepacking`` then weighs onnxruntime's pre-packed weights (on in the engine's
``session.session_options``): the resident memory an open session adds, each variant
opened in a fresh interpreter, and a one-token step's time with and without them,
the two sessions stepped in turn in this process.

``--session-options`` steps the graph opened with the engine's options and with
each of a few onnxruntime options changed (denormals as zero, no memory arena, no
memory pattern, extended instead of all graph optimisations), in turn, the same
tokens, with an 8 MB array read between steps so that the weights come back from
memory as they do at a word boundary: CPU time per step and the ratio to the
engine's options.

The stages are timed by wrapping the engine's methods for the run, so the timer's
own cost (about a microsecond a stage) is in the figures.  Figures are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keyboard_app.engine import components, completions, document_cache, mixture, phrases  # noqa: E402
from keyboard_app.engine import predictor, ranking, session, state_cache, token_cache  # noqa: E402

DEFAULT_BUNDLE = ROOT / "assets" / "models" / "default"
DEFAULT_TEXT = ROOT / "corpus" / "heldout" / "austen.txt"
THREAD = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)  # (Linux: this thread's page faults)

# (owner, method, row): the rows in the order printed; nesting is shown by indentation.
STAGES = [
    (token_cache.TokenCache, "update", "tokens (TokenCache.update)"),
    (state_cache.StateCache, "log_probs", "state cache (log_probs)"),
    (session.RecurrentSession, "run", "  network step (session.run)"),
    (components.DocumentCache, "stage", "document cache stage"),
    (document_cache.RecentWords, "distribution", "  its distribution"),
    (components.PhraseTables, "stage", "phrase tables stage"),
    (phrases.Phrases, "followers", "  table lookups"),
    (mixture, "combine", "combine"),
    (ranking.Ranker, "rank", "rank (the strip's words)"),
    (mixture.Mixture, "dense", "  whole-vocabulary array"),
    (mixture.Mixture, "_best_of_all", "  top-k over it"),
    (completions.Completions, "rules", "completion rules"),
    (completions.Completions, "finish", "completion finish"),
]
# the rows whose sum leaves the predictor's own code as the remainder (not nested in each other)
OUTER = ["tokens (TokenCache.update)", "state cache (log_probs)", "document cache stage", "phrase tables stage",
         "combine", "rank (the strip's words)", "completion rules", "completion finish"]


def instrument(record: dict[str, int]) -> None:
    """Wrap every stage's method so that it adds its time (ns) to ``record[row]``."""
    for owner, name, row in STAGES:
        original = getattr(owner, name)

        def timed(*args, _original=original, _row=row, **kwargs):
            start = time.perf_counter_ns()
            try:
                return _original(*args, **kwargs)
            finally:
                record[_row] += time.perf_counter_ns() - start

        setattr(owner, name, timed)
    predictor.combine = mixture.combine  # (the predictor imported it by name)


def table(rows: list[dict[str, float]], title: str) -> None:
    print(f"{title}: {len(rows)} boundaries")
    print(f"  {'stage':32}{'p50':>9}{'mean':>9}{'p90':>9}{'p99':>9}   (us)")
    names = ["keystroke (wall)", "keystroke (CPU)"] + [row for _, _, row in STAGES] + ["the predictor's own code"]
    for name in names:
        a = np.array([r.get(name, 0.0) for r in rows]) / 1e3
        print(f"  {name:32}{np.median(a):9.1f}{a.mean():9.1f}{np.percentile(a, 90):9.1f}{np.percentile(a, 99):9.1f}")
    print()


def slowest(rows: list[dict[str, float]], share: float = 0.01) -> None:
    """What the slowest ``share`` of boundaries (CPU time) have that the middle half has not."""
    cpu = np.array([r["keystroke (CPU)"] for r in rows])
    order = np.argsort(cpu)
    top, middle = order[len(rows) - max(1, int(len(rows) * share)):], order[len(rows) // 4: 3 * len(rows) // 4]

    def mean(name: str, chosen: np.ndarray) -> float:
        return float(np.mean([rows[i].get(name, 0.0) for i in chosen]))

    everyone = range(len(rows))
    print(f"the slowest {share:.0%} of boundaries by CPU time ({len(top)}), beside the middle half and all:")
    print(f"  ran a whole cell: {sum(rows[i]['cell'] for i in top)} of {len(top)} "
          f"(all: {sum(r['cell'] for r in rows)} of {len(rows)})")
    print(f"  saw a garbage collection: {sum(rows[i]['collections'] > 0 for i in top)} of {len(top)} "
          f"(all: {sum(r['collections'] > 0 for r in rows)} of {len(rows)})")
    print(f"  minor page faults, mean: {mean('faults', top):.1f} (middle half {mean('faults', middle):.1f}, "
          f"all {mean('faults', everyone):.1f})")
    print(f"  {'stage':32}{'slowest':>9}{'middle':>9}{'excess':>9}   (us, means)")
    names = ["keystroke (CPU)"] + [row for _, _, row in STAGES] + ["the predictor's own code"]
    for name in names:
        a, b = mean(name, top) / 1e3, mean(name, middle) / 1e3
        print(f"  {name:32}{a:9.1f}{b:9.1f}{a - b:9.1f}")
    print()


def onnx_nodes(bundle: Path, steps: int) -> None:
    """Each node's time over ``steps`` one-token steps (onnxruntime's profiler)."""
    import onnxruntime as ort

    from keyboard_app.engine.bundle import load_bundle

    loaded = load_bundle(bundle)
    options = session.session_options(1)
    options.enable_profiling = True
    with tempfile.TemporaryDirectory(prefix="onnx-profile-") as folder:
        options.profile_file_prefix = str(Path(folder) / "profile")
        graph = ort.InferenceSession(str(loaded.onnx_path), options, providers=["CPUExecutionProvider"])
        opened = session.RecurrentSession(graph, loaded)
        state = opened.zero_state()
        rng = np.random.default_rng(0)
        for token in rng.integers(16, len(loaded.vocab), steps):  # (past the special tokens)
            _, state = opened.run(np.array([[token]], np.int64), state)
        events = json.loads(Path(graph.end_profiling()).read_text())
    loaded.close()
    times: dict[str, list[int]] = collections.defaultdict(list)
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            times[event["name"][: -len("_kernel_time")]].append(event["dur"])
        elif event.get("cat") == "Session" and event["name"] == "model_run":
            times["(the whole run)"].append(event["dur"])
    skip = steps // 10  # the first steps warm up
    print(f"the graph alone, {steps} one-token steps, onnxruntime's profiler (us; its own cost included):")
    print(f"  {'node':56}{'p50':>8}{'p99':>8}")
    for name, durations in sorted(times.items(), key=lambda item: -float(np.median(item[1][skip:]))):
        a = np.array(durations[skip:], float)
        print(f"  {name:56}{np.median(a):8.1f}{np.percentile(a, 99):8.1f}")


PREPACK_CHILD = r"""
import sys
import onnxruntime as ort
from keyboard_app.engine import session
from keyboard_app.engine.bundle import load_bundle
def rss_kb():
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1])
bundle = load_bundle(sys.argv[1])
options = session.session_options(1)
options.add_session_config_entry("session.disable_prepacking", sys.argv[2])
before = rss_kb()
graph = ort.InferenceSession(str(bundle.onnx_path), options, providers=["CPUExecutionProvider"])
print(rss_kb() - before)
"""


def _opened(loaded, options) -> list:
    """A recurrent session of ``loaded``'s graph with ``options``, and its zero state."""
    import onnxruntime as ort

    graph = ort.InferenceSession(str(loaded.onnx_path), options, providers=["CPUExecutionProvider"])
    recurrent = session.RecurrentSession(graph, loaded)
    return [recurrent, recurrent.zero_state()]


def _step_times(loaded, opened: dict[str, list], steps: int, *, sweep: bool) -> dict[str, np.ndarray]:
    """CPU time (us) of ``steps`` one-token steps of each session, the same tokens, each
    session first in turn (the order alone moves a step's time); the first tenth left out
    (warm-up).  ``sweep``: an 8 MB array read before each step, so the weights leave the
    CPU's caches as they do between word boundaries."""
    swept = np.ones(1 << 20) if sweep else None
    names = list(opened)
    times: dict[str, list[int]] = {name: [] for name in names}
    for i, token in enumerate(np.random.default_rng(0).integers(16, len(loaded.vocab), steps)):
        for name in names[i % len(names):] + names[: i % len(names)]:
            if swept is not None:
                swept.sum()
            pair = opened[name]
            start = time.thread_time_ns()
            _, pair[1] = pair[0].run(np.array([[token]], np.int64), pair[1])
            times[name].append(time.thread_time_ns() - start)
    return {name: np.array(t[steps // 10:]) / 1e3 for name, t in times.items()}


def prepacking(bundle: Path, steps: int) -> None:
    """A session's memory and step time with and without onnxruntime's pre-packed weights."""
    import subprocess

    from keyboard_app.engine.bundle import load_bundle

    loaded = load_bundle(bundle)
    variants = {"pre-packed (the engine's)": "0", "not pre-packed": "1"}
    memory, opened = {}, {}
    for name, disabled in variants.items():
        child = subprocess.run([sys.executable, "-c", PREPACK_CHILD, str(bundle), disabled], check=True,
                               capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        memory[name] = int(child.stdout.split()[-1]) / 1024
        options = session.session_options(1)
        options.add_session_config_entry("session.disable_prepacking", disabled)
        opened[name] = _opened(loaded, options)
    steps_us = _step_times(loaded, opened, steps, sweep=False)
    print(f"onnxruntime's pre-packed weights: {steps} one-token steps each, in turn, CPU time "
          f"(memory: the session's RSS growth in a fresh interpreter):")
    base, other = variants
    for name, a in steps_us.items():
        print(f"  {name:28} session {memory[name]:6.1f} MB   step p50 {np.median(a):7.1f} us  "
              f"p99 {np.percentile(a, 99):7.1f} us   p50 / pre-packed {np.median(a) / np.median(steps_us[base]):.2f}x")
    print(f"  memory saved without pre-packing: {memory[base] - memory[other]:.1f} MB")
    loaded.close()


def option_variants(bundle: Path, steps: int) -> None:
    """A one-token step's CPU time with the engine's session options and with one changed."""
    import onnxruntime as ort

    from keyboard_app.engine.bundle import load_bundle

    def engine_options(options):
        return options

    def denormals_as_zero(options):
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
        return options

    def no_arena(options):
        options.enable_cpu_mem_arena = False
        return options

    def no_pattern(options):
        options.enable_mem_pattern = False
        return options

    def extended(options):
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        return options

    loaded = load_bundle(bundle)
    variants = {"the engine's options": engine_options, "denormals as zero": denormals_as_zero,
                "no memory arena": no_arena, "no memory pattern": no_pattern,
                "extended optimisation": extended}
    opened = {name: _opened(loaded, change(session.session_options(1))) for name, change in variants.items()}
    step_us = _step_times(loaded, opened, steps, sweep=True)
    print(f"onnxruntime's session options: {steps} one-token steps each, in turn, the caches swept between steps "
          f"(CPU time; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}):")
    base = step_us["the engine's options"]
    for name, a in step_us.items():
        print(f"  {name:24} p50 {np.median(a):7.1f} us  p99 {np.percentile(a, 99):7.1f} us   "
              f"/ the engine's: p50 {np.median(a) / np.median(base):.2f}x  p99 "
              f"{np.percentile(a, 99) / np.percentile(base, 99):.2f}x")
    loaded.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", default=str(DEFAULT_BUNDLE))
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--onnx-steps", type=int, default=3000, help="steps of the graph alone (0: skip)")
    parser.add_argument("--prepacking", action="store_true",
                        help="also a session's memory and step time without pre-packed weights")
    parser.add_argument("--session-options", action="store_true",
                        help="also a step's time with a few onnxruntime options changed, one at a time")
    args = parser.parse_args(argv)
    if not args.text.is_file():
        parser.error(f"{args.text}: no such text (build the corpus, or name one with --text)")

    record: dict[str, int] = collections.defaultdict(int)
    instrument(record)
    engine = predictor.Predictor.load(args.bundle)
    engine.suggest("")
    typed = " ".join(args.text.read_text(encoding="utf-8").split()[: args.words]) + " "
    classifier = token_cache.TokenCache(engine.tokenizer, engine.bundle.vocab)
    rows, cells, steps = [], [], []
    previous_length, previous_run = 1, engine.states.tokens_run
    collections_seen = [0]
    gc.callbacks.append(lambda phase, info: collections_seen.__setitem__(0, collections_seen[0] + (phase == "start")))
    gc.collect()
    for end in range(1, len(typed) + 1):
        record.clear()
        faults, collected = resource.getrusage(THREAD).ru_minflt, collections_seen[0]
        cpu, wall = time.thread_time_ns(), time.perf_counter_ns()
        engine.suggest(typed[:end])
        wall, cpu = time.perf_counter_ns() - wall, time.thread_time_ns() - cpu
        faults = resource.getrusage(THREAD).ru_minflt - faults
        row = dict(record)  # (before the classifier's own update adds to it)
        row["faults"], row["collections"] = faults, collections_seen[0] - collected
        length = classifier.update(typed[:end]).length
        ran = engine.states.tokens_run - previous_run
        previous_run = engine.states.tokens_run
        if length != previous_length:
            row["keystroke (wall)"], row["keystroke (CPU)"] = wall, cpu
            row["the predictor's own code"] = wall - sum(row.get(name, 0) for name in OUTER)
            row["cell"] = ran >= state_cache.CELL
            rows.append(row)
            (cells if row["cell"] else steps).append(row)
        previous_length = length
    print(f"bundle {args.bundle}; text {args.text}: {args.words:,} words, {len(typed):,} keystrokes; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    table(rows, "every word boundary")
    table(cells, "boundaries that run a whole cell (8 tokens)")
    table(steps, "one-step boundaries")
    slowest(rows)
    if args.onnx_steps:
        onnx_nodes(Path(args.bundle), args.onnx_steps)
    if args.prepacking:
        print()
        prepacking(Path(args.bundle), args.onnx_steps or 3000)
    if args.session_options:
        print()
        option_variants(Path(args.bundle), args.onnx_steps or 3000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
