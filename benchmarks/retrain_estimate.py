"""The retrain dialog's time estimate against real runs on this machine (issue 12, H18's finding 9).

Runs ``keyboard-train`` exactly as the app does (``retraining.TrainRequest.command``:
adapting the default model, or training a model from scratch) on texts of a few sizes,
and prints for each the estimate the dialog shows before Start
(``ui.eta.estimate_before_start``, from the current model's manifest speed as the dialog
passes it, stretched by ``ui.eta.busy_factor`` as the dialog stretches it: 1 + the load
average per core before the run, ``retraining.load_stretch``) and the longest time it says
a run may take on a busy computer (``retraining.slow_end``), the real wall-clock time, and
their ratios.  It also prints where the time
went (the trainer's progress events: start-up until the first training step, training,
and what follows the last step), which is what the estimate's constants are fitted to,
and the machine's load average before and after each run, since the machine is shared.

    .venv/bin/python benchmarks/retrain_estimate.py --words 2000 6600 20000 50000 136000
    .venv/bin/python benchmarks/retrain_estimate.py --scratch small --words 2000 20000

A text of N words is the first N words of build/adaptation/corpora/handbook.train-136071.txt
(or ``--text``), cut at a line end, written to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from keyboard_app import retraining  # noqa: E402
from keyboard_app.retraining import MachineLoad, TrainRequest, count_corpus_words, slow_end  # noqa: E402
from keyboard_app.ui.eta import ADAPT_SPEED_OVER_MANIFEST, busy_factor, estimate_before_start  # noqa: E402

DEFAULT_TEXT = ROOT / "build/adaptation/corpora/handbook.train-136071.txt"
DEFAULT_MODEL = ROOT / "assets/models/default"


def first_words(text: Path, words: int, out: Path) -> Path:
    """The first ``words`` words of ``text`` (whole lines), written to ``out``."""
    lines, count = [], 0
    with text.open(encoding="utf-8") as f:
        for line in f:
            lines.append(line)
            count += len(line.split())
            if count >= words:
                break
    out.write_text("".join(lines), encoding="utf-8")
    return out


def manifest_speed(bundle: Path) -> float | None:
    """The current model's training speed, as the dialog reads it for the estimate."""
    training = json.loads((bundle / "manifest.json").read_text(encoding="utf-8")).get("training", {}) or {}
    speed = training.get("tokens_per_s")
    return float(speed) if isinstance(speed, (int, float)) and speed > 0 else None


def run(corpus: Path, folder: Path, *, scratch: str | None) -> dict:
    words = count_corpus_words([corpus]).words
    request = TrainRequest(corpus=[corpus], out=folder / "bundle", work_dir=folder / "work", name="estimate",
                           init_from=None if scratch else DEFAULT_MODEL, size=scratch or retraining.DEFAULT_SIZE,
                           max_minutes=60)
    load = MachineLoad.read()
    busy = busy_factor()
    quiet = estimate_before_start(words, size=scratch, max_minutes=60, busy=1.0,
                                  manifest_tokens_per_s=None if scratch else manifest_speed(DEFAULT_MODEL))
    folder.mkdir(parents=True)  # the run's folder, as the dialog makes it (the held-out text goes there)
    program, args = request.command()
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    first_step = last_step = None
    tokens = 0
    with subprocess.Popen([program, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                          cwd=ROOT) as process:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("event") == "progress":
                now = time.perf_counter() - began
                first_step = now if first_step is None else first_step
                last_step, tokens = now, int(event.get("tokens", 0))
    total = time.perf_counter() - began
    if process.returncode != 0:
        raise SystemExit(f"the trainer failed on {corpus} (exit {process.returncode})")
    return {"words": words, "quiet": quiet, "busy": busy, "estimate": quiet * busy, "actual": total,
            "slow": slow_end(quiet * busy, load), "load5": load.last_five if load else 0.0,
            "startup": first_step or 0.0,
            "training": (last_step or 0.0) - (first_step or 0.0), "after": total - (last_step or total),
            "tokens": tokens, "load": (load_before, os.getloadavg()[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, nargs="+", default=[2000, 6600, 20000, 50000, 136000])
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--scratch", choices=sorted(retraining.SIZES), help="train from scratch at this size "
                        "(default: adapt the default model, as the dialog does)")
    parser.add_argument("--pause", type=float, default=0.0, metavar="S",
                        help="wait this long before each run, so that the load average read before it is "
                        "not the previous run's (a minute's average keeps a third of it after 60 s)")
    options = parser.parse_args()
    mode = f"scratch {options.scratch}" if options.scratch else "adapt default"
    print(f"{mode}; text {options.text.name}; FIXED_SECONDS {retraining.FIXED_SECONDS}, "
          f"ADAPT_START_SECONDS {retraining.ADAPT_START_SECONDS}, "
          f"ADAPT_SECONDS_PER_HELDOUT_WORD {retraining.ADAPT_SECONDS_PER_HELDOUT_WORD}, "
          f"ADAPT_SPEED_OVER_MANIFEST {ADAPT_SPEED_OVER_MANIFEST}")
    print(f"{'words':>8} {'quiet':>6} {'busy':>5} {'estimate':>9} {'up to':>6} {'actual':>8} {'est/act':>8} "
          f"{'upto/act':>8} {'start-up':>9} {'training':>9} {'after':>7} {'tokens':>8} {'load 1,5 min':>12} "
          f"{'after':>5}")
    for words in options.words:
        time.sleep(options.pause)
        with tempfile.TemporaryDirectory(prefix="retrain-estimate-") as tmp:
            corpus = first_words(options.text, words, Path(tmp) / "text.txt")
            r = run(corpus, Path(tmp) / "run", scratch=options.scratch)
        print(f"{r['words']:>8,} {r['quiet']:>5.0f}s {r['busy']:>4.2f}x {r['estimate']:>8.0f}s {r['slow']:>5.0f}s "
              f"{r['actual']:>7.1f}s {r['estimate'] / r['actual']:>7.2f}x {r['slow'] / r['actual']:>7.2f}x "
              f"{r['startup']:>8.1f}s {r['training']:>8.1f}s {r['after']:>6.1f}s {r['tokens']:>8,} "
              f"{r['load'][0]:>6.1f},{r['load5']:.1f} {r['load'][1]:>5.1f}", flush=True)


if __name__ == "__main__":
    main()
