"""Saving the learned words: what the UI thread pays for a save, before and after it moved off it.

    .venv/bin/python benchmarks/learned_words_save.py [--words 50000] [--pairs 150000]
        [--runs 3] [--tick-ms 1]

Builds a file of learned counts of ``--words`` words and ``--pairs`` word
pairs (random letters, seeded; 50,000 words is ``learning.MAX_WORDS``, the
size the app allows, about 3.3 MB) in a temporary folder, loads it, and in
this one process, ``--runs`` times each:

* **UI thread** (before): ``PersonalModel.save`` called on the calling
  thread, as the main window's debounce timer did: the UI thread pays the
  whole save.
* **saver, file ours**: ``LearnedWordsSaver.request`` (what the timer calls
  now), while the calling thread goes on as the UI thread does while the user
  types: every ``--tick-ms`` it learns a word (``observe``, which takes the
  model's lock) and notes how late the tick came.  Its cost is the call and
  the longest wait beyond a tick: the model's lock while the counts are copied,
  and the interpreter's lock, which the saving thread holds inside C calls.
* **saver, file changed**: the same after another copy of the app has
  written the file, so the save reads and merges it (the JSON parse is one C
  call that keeps the interpreter's lock).

An idle row (ticks with no save) shows what the machine's load alone adds.
The next line gives the UI thread's longest stall before as a ratio of each
row's after, measured in the same process.  The last line times what the
UI thread waits for at the start of every save, the model's lock while the
snapshot is taken: a deep copy of the counts (as the snapshot was until
the rows were shared) and the snapshot as it is now (``learning``: the
tables copied, the rows shared until changed), median of ``--runs``.
Figures are printed, never asserted.

The rows' figures for the code before a change come from running this
script in a copy of the tree before it (``git archive``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keyboard_app.learning import LearnedWordsSaver, PersonalModel, _Counts  # noqa: E402
from keyboard_app.storage import atomic_write_json  # noqa: E402


def counts_file(words: int, pairs: int, seed: int = 4) -> dict:
    """A file of learned counts with random words, as ``PersonalModel`` writes it."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = list({"".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(words)})
    unigrams = {w: rng.randint(2, 50) for w in vocabulary}
    bigrams: dict[str, dict[str, int]] = {}
    for _ in range(pairs):
        bigrams.setdefault(rng.choice(vocabulary), {})[rng.choice(vocabulary)] = rng.randint(1, 5)
    return {"format": "keyboard-personal-counts", "format_version": 1, "unigrams": unigrams,
            "bigrams": bigrams, "forms": {}, "blocked": []}


def ticking(model: PersonalModel, running, tick_s: float) -> list[float]:
    """Learn a word every ``tick_s`` while ``running()``: how late each tick came (s)."""
    late: list[float] = []
    last = time.perf_counter()
    while running():
        time.sleep(tick_s)
        model.observe("tick", "tock")
        now = time.perf_counter()
        late.append(max(0.0, now - last - tick_s))
        last = now
    return late


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=50_000)
    parser.add_argument("--pairs", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tick-ms", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.words < 1 or args.pairs < 0 or args.runs < 1 or args.tick_ms <= 0:
        parser.error("--words and --runs must be at least 1, --pairs at least 0, --tick-ms above 0")
    tick = args.tick_ms / 1000

    folder = Path(tempfile.mkdtemp(prefix="learned-words-save-"))
    try:
        path = folder / "personal.json"
        atomic_write_json(path, counts_file(args.words, args.pairs))
        size = path.stat().st_size
        started = time.perf_counter()
        model, problem = PersonalModel.load(path)
        loaded = time.perf_counter() - started
        if problem:
            raise SystemExit(problem)
        other, _ = PersonalModel.load(path)  # another copy of the app, learning from the same file
        saver = LearnedWordsSaver(model, path)

        rows: dict[str, list[tuple[float, float, float, float]]] = {}  # (save, call, longest, p99) s
        idle_until = time.perf_counter() + 0.5
        idle = ticking(model, lambda: time.perf_counter() < idle_until, tick)
        rows["idle (no save)"] = [(0.0, 0.0, max(idle), percentile(idle, 0.99))]
        for _ in range(args.runs):
            model.observe("one", "two")
            t = time.perf_counter()
            model.save(path)
            took = time.perf_counter() - t
            rows.setdefault("UI thread (before)", []).append((took, took, took, took))
            for label, changed in (("saver, file ours", False), ("saver, file changed", True)):
                if changed:
                    other.observe("three", "four")
                    other.save(path)
                model.observe("one", "two")
                t = time.perf_counter()
                saver.request()
                call = time.perf_counter() - t
                late = ticking(model, saver.busy, tick)
                took = time.perf_counter() - t
                saver.wait()
                rows.setdefault(label, []).append((took, call, max([call, *late]), percentile(late, 0.99)))
        saver.close()
        deep, shared = [], []
        for _ in range(args.runs):
            with model._lock:
                t = time.perf_counter()
                _Counts.of(model).copy()
                deep.append(time.perf_counter() - t)
                t = time.perf_counter()
                model._shared_copy()
                shared.append(time.perf_counter() - t)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"{len(model.unigrams):,} words, {sum(map(len, model.bigrams.values())):,} pairs, "
          f"{size / 1e6:.1f} MB; load {loaded:.2f} s; {args.runs} runs; tick {args.tick_ms:g} ms; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'case':<22} {'save (s)':>9} {'UI thread: call (ms)':>21} {'longest stall (ms)':>19} "
          f"{'p99 tick late (ms)':>19}   (median of the runs; longest: their max)")
    longest = {}
    for label, runs in rows.items():
        save, call, _, p99 = (statistics.median(column) for column in zip(*runs))
        longest[label] = max(r[2] for r in runs)
        print(f"{label:<22} {save:>9.2f} {1000 * call:>21.2f} {1000 * longest[label]:>19.1f} {1000 * p99:>19.2f}")
    before = longest["UI thread (before)"]
    print("UI thread's longest stall, before / after: "
          + ", ".join(f"{label} {before / longest[label]:.0f}x" for label in ("saver, file ours", "saver, file changed")))
    deep_ms, shared_ms = 1000 * statistics.median(deep), 1000 * statistics.median(shared)
    print(f"the model's lock for the snapshot: deep copy (before) {deep_ms:.1f} ms, shared rows (now) "
          f"{shared_ms:.2f} ms, {deep_ms / shared_ms:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
