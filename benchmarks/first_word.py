"""The user's first word after the model loads: does any keystroke wait for the typo index?

    .venv/bin/python benchmarks/first_word.py [BUNDLE] [--runs 3] [--gap-ms 500]
        [--key-ms 150] [--word Thanks]

The typo channel (``engine/typos.py``) needs an index of the vocabulary's and
the lexicon's words, built once per model.  It used to be built by the first
keystroke that asked for corrections -- the first word's third letter --
which then took a tenth of a second.  The app's predictor worker now builds
it on its own thread once the model is loaded and nothing is asked of it
(``ui/worker.py``, ``PREPARE_WHEN_IDLE_S``).

Per run, in this one process, each way in turn on a model loaded afresh:

* **built at the first use** (the baseline, as before): the engine loaded and
  warmed as the worker does it, typo tolerance on, and the word typed into
  ``Predictor.suggest`` on this thread;
* **the worker** (now): ``PredictorWorker`` loads the model; the word is typed
  through ``try_suggest`` on this thread, as the editor's controller does.

Each way starts with the garbage of the one before collected (an engine
left behind is freed by the collector, a stall that would otherwise land on
whichever keystroke's allocations trigger it).  Both wait ``--gap-ms`` after
the model is ready before the first letter (a
person who starts typing half a second after the window shows its
suggestions; 0 is a person already typing) and ``--key-ms`` between letters
(a typist's pace, during which the worker's thread may run).  ``--word`` is
typed letter by letter after the text "Hello, " (the sentence's first word).
Prints each letter's latency (median of the runs) and the slowest keystroke
of each way, with the ratio baseline / worker.  Figures are printed, never
asserted.  For the engine before the change, run this script with a copy of
the tree before it first on ``sys.path`` (``PYTHONPATH=TREE``).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication  # noqa: E402

from keyboard_app.engine.predictor import Predictor  # noqa: E402
from keyboard_app.ui.worker import PredictorWorker  # noqa: E402

CONTEXT = "Hello, "


def type_word(suggest, word: str, key_s: float) -> list[float]:
    """Each letter's latency (s): ``suggest(text)`` for the text after each letter."""
    latencies = []
    for i in range(1, len(word) + 1):
        time.sleep(key_s)
        started = time.perf_counter()
        result = suggest(CONTEXT + word[:i])
        latencies.append(time.perf_counter() - started)
        if result is None:
            raise SystemExit("the worker was busy: a keystroke found no predictor free")
    return latencies


def engine_alone(bundle: Path, word: str, gap_s: float, key_s: float) -> list[float]:
    predictor = Predictor.load(bundle, threads=1)
    try:
        predictor.typo_tolerance = True
        predictor.suggest("", 3)  # warmed and reset as the worker does it
        predictor.reset()
        time.sleep(gap_s)
        return type_word(lambda text: predictor.suggest(text, 3), word, key_s)
    finally:
        predictor.close()


def through_worker(app: QCoreApplication, bundle: Path, word: str, gap_s: float, key_s: float) -> list[float]:
    worker = PredictorWorker(loader=lambda path: Predictor.load(path, threads=1))
    worker.set_typo_corrections(True)
    try:
        worker.request_load(bundle, "benchmark")
        while worker.predictor is None:
            app.processEvents()
            time.sleep(0.005)
        time.sleep(gap_s)
        return type_word(lambda text: worker.try_suggest(text, 3), word, key_s)
    finally:
        worker.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=ROOT / "assets" / "models" / "default")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gap-ms", type=float, default=500.0)
    parser.add_argument("--key-ms", type=float, default=150.0)
    parser.add_argument("--word", default="Thanks")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.gap_ms < 0 or args.key_ms < 0 or not args.word.isalpha():
        parser.error("--runs must be at least 1, the times at least 0, --word letters only")
    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    ways = {"built at the first use": [], "the worker": []}
    for _ in range(args.runs):
        gc.collect()  # the engine before left cyclic garbage: its freeing would land on a keystroke
        ways["built at the first use"].append(engine_alone(args.bundle, args.word, args.gap_ms / 1000,
                                                             args.key_ms / 1000))
        gc.collect()
        ways["the worker"].append(through_worker(app, args.bundle, args.word, args.gap_ms / 1000,
                                                 args.key_ms / 1000))
    print(f"{args.bundle}: the word {args.word!r} after {CONTEXT!r}, {args.gap_ms:g} ms after the model is "
          f"ready, a letter every {args.key_ms:g} ms; {args.runs} runs; load average {os.getloadavg()[0]:.1f}")
    letters = "".join(f"{args.word[:i]:>9}" for i in range(1, len(args.word) + 1))
    print(f"{'ms a keystroke (median)':<24}{letters}{'slowest':>10}")
    slowest = {}
    for label, runs in ways.items():
        medians = [1000 * statistics.median(column) for column in zip(*runs)]
        slowest[label] = 1000 * max(max(run) for run in runs)
        print(f"{label:<24}" + "".join(f"{m:>9.2f}" for m in medians) + f"{slowest[label]:>10.2f}")
    print(f"slowest keystroke, built at the first use / the worker: "
          f"{slowest['built at the first use'] / slowest['the worker']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
