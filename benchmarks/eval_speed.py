"""How long ``keyboard-eval`` takes on 8,000 words, and where the time goes.

    .venv/bin/python benchmarks/eval_speed.py [BUNDLE] [--words 8000] [--texts FILE...]

Runs the real command (``python -m keyboard_app.engine.cli eval ... --json``)
on ``--words`` words of the held-out texts (``corpus/heldout``: austen,
python_docs, sotu, wordnet; or ``--texts``), start to exit, as a model
comparison waits for it (with a temporary user cache folder, filled by one
untimed call first, as for every call after a user's first): with one process (``--jobs 1``) and with its
default (one process per 2,000 words, at most one per core), and checks the
two give the same figures.  Beside them, in this process, the engine's own
work for the same words: loading the bundle, the perplexity's batched runs,
and the typing simulation through ``Predictor.suggest`` (``evaluate`` with
one process), so the command's overhead shows.  Issue 17's target: well under
10 s.  Figures are printed, never asserted.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_BUNDLE = ROOT / "assets" / "models" / "default"
DEFAULT_TEXTS = [ROOT / "corpus" / "heldout" / f"{name}.txt" for name in ("austen", "python_docs", "sotu", "wordnet")]


def run_command(bundle: Path, texts: list[Path], words: int, jobs: int | None, env: dict) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds (the command and its workers) and its JSON output."""
    cmd = [sys.executable, "-m", "keyboard_app.engine.cli", "eval", str(bundle), *map(str, texts),
           "--max-words", str(words), "--json"] + ([] if jobs is None else ["--jobs", str(jobs)])
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=DEFAULT_BUNDLE)
    parser.add_argument("--words", type=int, default=8000)
    parser.add_argument("--texts", type=Path, nargs="+", default=None)
    args = parser.parse_args(argv)
    texts = args.texts or [p for p in DEFAULT_TEXTS if p.is_file()]
    if not texts:
        parser.error("no held-out texts (corpus/heldout is built by scripts/build_corpus.py): pass --texts")

    from keyboard_app.engine.evaluate import evaluate, perplexity_nll, _cut
    from keyboard_app.engine.predictor import Predictor

    started = time.perf_counter()
    predictor = Predictor.load(args.bundle)
    load_s = time.perf_counter() - started
    contents = [p.read_text(encoding="utf-8") for p in texts]
    cut, _ = _cut(predictor, contents, args.words)
    started = time.perf_counter()
    perplexity_nll(predictor, cut)
    perplexity_s = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    report = evaluate(predictor, contents, max_words=args.words)
    evaluate_s, evaluate_cpu = time.perf_counter() - started, time.process_time() - cpu
    predictor.close()

    # The commands keep what they can make again in the user's cache folder (the stored copy
    # of compressed phrase tables, the files' checksums): a temporary one here, filled by one
    # untimed call first, so both timed calls are what every call after a user's first is.
    with tempfile.TemporaryDirectory(prefix="eval-speed-") as cache:
        env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=cache)
        subprocess.run([sys.executable, "-m", "keyboard_app.engine.cli", "suggest", str(args.bundle), "a"],
                       capture_output=True, check=True, env=env)
        one = run_command(args.bundle, texts, args.words, 1, env)
        default = run_command(args.bundle, texts, args.words, None, env)
    same = one[2]["ksr"] == default[2]["ksr"] == {str(k): round(v, 2) for k, v in report.ksr.items()} and \
        one[2]["perplexity"] == default[2]["perplexity"]

    print(f"bundle   {args.bundle}; {report.words:,} words of {', '.join(p.stem for p in texts)}; "
          f"{os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"engine   load {load_s:.2f} s; evaluate() in this process {evaluate_s:.2f} s "
          f"({evaluate_cpu:.2f} s CPU; perplexity's runs alone {perplexity_s:.2f} s, beside the typing on a "
          f"second core); {evaluate_s / report.words * 1e3:.2f} ms a word")
    print(f"command  keyboard-eval --jobs 1: {one[0]:.2f} s start to exit ({one[1]:.2f} s CPU)")
    print(f"command  keyboard-eval (default, {min(os.cpu_count() or 1, 4, report.words // 2000) or 1} "
          f"processes): {default[0]:.2f} s start to exit ({default[1]:.2f} s CPU)")
    print(f"ratio    --jobs 1 / default {one[0] / default[0]:.2f}x; command (--jobs 1) / engine's own "
          f"(load + evaluate) {one[0] / (load_s + evaluate_s):.2f}x; same figures: {'yes' if same else 'NO'}")
    print(f"target   keyboard-eval on {report.words:,} words well under 10 s: {default[0]:.2f} s "
          f"(one process {one[0]:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
