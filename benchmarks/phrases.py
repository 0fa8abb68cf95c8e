"""Phrase suggestions, measured: KSR with and without, what limits it, and latency.

    nice -n 10 .venv/bin/python benchmarks/phrases.py [BUNDLE] [TEXT...] [--words 2000]
        [--latency-words 300] [--jobs 2] [--skip ksr,curve,latency] [--json]

TEXTs default to the held-out texts (``corpus/heldout/*.txt``); ``--words`` is
per text (its first words).  Three parts (docs/EVALUATION.md, "Phrase
suggestions"):

1. **KSR with and without phrases**, per text and pooled, from one
   simulation each (``evaluate(..., phrases=True)``, what ``keyboard-eval
   --phrases`` prints), with the bundle's default phrase settings
   (``beam.BeamSettings``).
2. **What limits it.**  At every word start of the same words (a strip of
   three): the phrase candidates the beam finds (``Predictor.phrase_candidates``)
   and the words that follow in the text.  How often a correct phrase (its
   words exactly the next words) is among the candidates at all (probability
   0.3% or more, whatever the strip), and among those that could earn a slot;
   the KSR an oracle would reach that showed the right candidate whenever
   there is one (its first word among the strip's, taking no word's slot: a
   ceiling for any choice among these candidates); then, for each threshold
   of a grid, the phrases shown, the share of them that are right
   (precision) and the share of the reachable correct phrases shown (recall).  The threshold in ``BeamSettings`` was chosen on other words
   (words 2,000 to 3,000 of each held-out text), by the KSR it gives.
3. **Latency** at the word starts of the first ``--latency-words`` words of
   each text: the word suggestions (``suggest``, the same-process baseline)
   and the phrase after them (``phrase``, with its 5 ms budget, as the app
   asks), wall clock and this thread's CPU time, p50 / p99, and how often the
   budget ran out.  And every in-word keystroke of those words, typed twice,
   once with the phrase computed at each word start and once without
   (two engines, interleaved word by word, each first every other word):
   the phrase must not change what a keystroke inside a word costs.

Figures are printed, never asserted (a shared machine's timings are noisy).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keyboard_app.engine.evaluate import _cut, _simulate, evaluate, following_words, typed_words  # noqa: E402
from keyboard_app.engine.predictor import Predictor  # noqa: E402

DEFAULT_BUNDLE = ROOT / "assets" / "models" / "default"
K = 3
FLOOR = math.log(0.003)  # the lowest phrase probability looked at
GRID = (0.5, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.04, 0.03, 0.02, 0.01, 0.005)


def heldout() -> list[Path]:
    return sorted((ROOT / "corpus" / "heldout").glob("*.txt"))


def percentiles(values: list[float]) -> dict:
    v = np.array(values) * 1e3
    if not len(v):
        return {"n": 0}
    return {"n": len(v), "p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99)),
            "max": float(v.max())}


def ksr(predictor: Predictor, texts: dict[str, str], words: int, jobs: int) -> dict:
    """KSR with and without phrases, per text and pooled (one simulation each)."""
    out = {}
    pooled = {"keystrokes": 0, "cost": 0.0, "cost_phrases": 0.0, "taken": 0, "shown": 0, "covered": 0}
    for name, text in texts.items():
        report = evaluate(predictor, [text], ks=(K,), max_words=words, jobs=jobs, phrases=True)
        out[name] = {"words": report.words, "ksr": report.ksr[K], "ksr_phrases": report.ksr_phrases[K],
                     "shown": report.phrases_shown[K], "taken": report.phrases_taken[K],
                     "covered": report.phrase_words[K]}
        pooled["keystrokes"] += report.keystrokes
        pooled["cost"] += (1 - report.ksr[K] / 100) * report.keystrokes
        pooled["cost_phrases"] += (1 - report.ksr_phrases[K] / 100) * report.keystrokes
        for key in ("taken", "shown", "covered"):
            pooled[key] += out[name][key]
    strokes = pooled["keystrokes"]
    out["pooled"] = {"words": sum(r["words"] for r in out.values()),
                     "ksr": (1 - pooled["cost"] / strokes) * 100 if strokes else 0.0,
                     "ksr_phrases": (1 - pooled["cost_phrases"] / strokes) * 100 if strokes else 0.0,
                     "shown": pooled["shown"], "taken": pooled["taken"], "covered": pooled["covered"]}
    return out


def curve(predictor: Predictor, texts: dict[str, str], words: int) -> dict:
    """The beam's candidates at each word start against the words that follow (part 2)."""
    boundaries = reachable = earnable = 0
    shown = {p: 0 for p in GRID}
    right = {p: 0 for p in GRID}
    keystrokes = cost = oracle_cost = 0
    max_words = predictor.phrase_beam.max_words
    for text in texts.values():
        cut, (text_words,) = _cut(predictor, [text], words)
        text = cut[0]
        after = following_words(predictor, text, max_words)
        predictor.reset()
        plain = _simulate(predictor, [text], [text_words], (K,), False, 0, None)  # each word's cost
        oracle = []  # per word start: the words of the longest right candidate (0: none)
        for word in text_words:
            boundaries += 1
            truth = after[word.start]

            def correct(phrase) -> bool:
                said = phrase.text.lower().split(" ")
                return truth[: len(said)] == said

            anywhere = predictor.phrase_candidates(text, None, end=word.start, threshold=FLOOR)
            reachable += any(correct(c) for c in anywhere)
            strip = {s.text.lower() for s in predictor.suggest(text, K, end=word.start)}
            oracle.append(max((len(c.text.split(" ")) for c in anywhere
                               if correct(c) and c.text.split(" ")[0].lower() in strip), default=0))
            found = predictor.phrase_candidates(text, K, end=word.start, threshold=FLOOR)  # best first
            earnable += any(correct(c) for c in found)
            for p in GRID:
                best = next((c for c in found if c.log_prob >= math.log(p)), None)
                if best is not None:
                    shown[p] += 1
                    right[p] += correct(best)
        predictor.reset()
        skip = 0
        for typed, covers in zip(plain, oracle):
            keystrokes += typed.length + 1
            cost += typed.cost(K)
            if skip:
                skip -= 1
            elif covers:
                oracle_cost, skip = oracle_cost + 1, covers - 1
            else:
                oracle_cost += typed.cost(K)
    rows = [{"threshold": p, "shown": shown[p], "right": right[p],
             "precision": 100.0 * right[p] / shown[p] if shown[p] else 0.0,
             "recall": 100.0 * right[p] / reachable if reachable else 0.0} for p in GRID]
    return {"word_starts": boundaries, "correct_among_candidates": reachable,
            "correct_that_could_earn_a_slot": earnable, "grid": rows,
            "ksr": (1 - cost / keystrokes) * 100, "ksr_oracle": (1 - oracle_cost / keystrokes) * 100}


def latency(with_phrases: Predictor, without: Predictor, texts: dict[str, str], words: int) -> dict:
    """Word starts: suggestions, then the phrase; in-word keystrokes with and without phrases
    (two engines typing the same text, interleaved word by word)."""
    times = {name: [] for name in ("suggest", "phrase", "suggest_cpu", "phrase_cpu", "in_word_with",
                                   "in_word_without", "in_word_with_cpu", "in_word_without_cpu")}
    dropped = offered = asked = 0
    for text in texts.values():
        text = _cut(with_phrases, [text], words)[0][0]
        with_phrases.reset()
        without.reset()
        engines = ((with_phrases, "in_word_with"), (without, "in_word_without"))
        for n, word in enumerate(typed_words(with_phrases.tokenizer.iter_tokens(text))):
            for predictor, key in engines if n % 2 else engines[::-1]:  # each goes first every other word
                start, cpu = time.perf_counter(), time.thread_time()
                predictor.suggest(text, K, end=word.start)
                if predictor is with_phrases:
                    times["suggest"].append(time.perf_counter() - start)
                    times["suggest_cpu"].append(time.thread_time() - cpu)
                    start, cpu = time.perf_counter(), time.thread_time()
                    found = predictor.phrase(text, K, end=word.start)
                    times["phrase"].append(time.perf_counter() - start)
                    times["phrase_cpu"].append(time.thread_time() - cpu)
                    asked += 1
                    offered += found is not None
                    dropped += predictor.phrase_stats.dropped
                for j in range(1, len(word.surface)):
                    start, cpu = time.perf_counter(), time.thread_time()
                    predictor.suggest(text, K, end=word.start + j)
                    times[key].append(time.perf_counter() - start)
                    times[key + "_cpu"].append(time.thread_time() - cpu)
    out = {name: percentiles(values) for name, values in times.items()}
    out["word_starts"], out["offered"], out["dropped"] = asked, offered, dropped
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", default=str(DEFAULT_BUNDLE))
    parser.add_argument("texts", nargs="*", help="texts (default: corpus/heldout/*.txt)")
    parser.add_argument("--words", type=int, default=2000, help="words scored per text (default 2000)")
    parser.add_argument("--latency-words", type=int, default=300, help="words per text timed (default 300)")
    parser.add_argument("--jobs", type=int, default=1, help="processes for the KSR part (default 1)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: ksr,curve,latency")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    paths = [Path(p) for p in args.texts] or heldout()
    if not paths:
        print("phrases.py: no texts (corpus/heldout/*.txt is missing; name some)", file=sys.stderr)
        return 2
    texts = {p.stem: p.read_text(encoding="utf-8") for p in paths}
    predictor = Predictor.load(args.bundle)
    predictor.run_ahead = False
    settings = predictor.phrase_beam
    results: dict = {"bundle": args.bundle, "k": K, "words_per_text": args.words,
                     "settings": {"threshold": math.exp(settings.threshold), "odds": settings.odds,
                                  "width": settings.width, "branch": settings.branch,
                                  "max_words": settings.max_words, "budget_ms": settings.budget * 1e3}}
    if "ksr" not in skip:
        results["ksr"] = ksr(predictor, texts, args.words, args.jobs)
    if "curve" not in skip:
        results["curve"] = curve(predictor, texts, args.words)
    if "latency" not in skip:
        without = Predictor.load(args.bundle)
        without.run_ahead = False
        results["latency"] = latency(predictor, without, texts, args.latency_words)
        without.close()
    predictor.close()

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    s = results["settings"]
    print(f"bundle {args.bundle}; k = {K}; phrase threshold {s['threshold']:.3g}, odds {s['odds']}, "
          f"beam {s['width']} x {s['branch']}, at most {s['max_words']} words, budget {s['budget_ms']:.0f} ms")
    if "ksr" in results:
        print(f"KSR@{K}, first {args.words} words of each text: without phrases -> with phrases")
        for name, r in results["ksr"].items():
            print(f"  {name:18} {r['words']:6,} words  {r['ksr']:6.2f}% -> {r['ksr_phrases']:6.2f}%  "
                  f"({r['ksr_phrases'] - r['ksr']:+.2f})  phrases taken {r['taken']:,} of {r['shown']:,} shown, "
                  f"covering {r['covered']:,} words")
    if "curve" in results:
        c = results["curve"]
        print(f"what limits it ({c['word_starts']:,} word starts): a correct phrase among the beam's candidates "
              f"(P >= 0.3%) at {c['correct_among_candidates']:,}; among those that could earn a slot "
              f"at {c['correct_that_could_earn_a_slot']:,}")
        print(f"  an oracle showing the right one of those whenever there is one (its first word among the strip's "
              f"{K}, taking no word's slot): KSR@{K} {c['ksr']:.2f}% -> {c['ksr_oracle']:.2f}% "
              f"({c['ksr_oracle'] - c['ksr']:+.2f})")
        print("  threshold   shown   right   precision   recall")
        for row in c["grid"]:
            print(f"  {row['threshold']:9.3g} {row['shown']:7,} {row['right']:7,} {row['precision']:10.1f}% "
                  f"{row['recall']:8.1f}%")
    if "latency" in results:
        lat = results["latency"]
        for name, label in (("suggest", "word start, suggestions (baseline)"), ("phrase", "word start, phrase")):
            w, c = lat[name], lat[name + "_cpu"]
            print(f"{label:38}: p50 {w['p50']:.3f} ms  p99 {w['p99']:.3f} ms  max {w['max']:.2f} ms  "
                  f"(CPU p50 {c['p50']:.3f}  p99 {c['p99']:.3f} ms; {w['n']:,})")
        ratio = lat["phrase"]["p99"] / lat["suggest"]["p99"]
        print(f"  phrase / suggestions at p99: {ratio:.2f}; phrases offered at {lat['offered']:,} of "
              f"{lat['word_starts']:,} word starts; budget ran out {lat['dropped']:,} times")
        for name, label in (("in_word_without", "in-word keystroke, no phrases"),
                            ("in_word_with", "in-word keystroke, phrases at starts")):
            w, c = lat[name], lat[name + "_cpu"]
            print(f"{label:38}: p50 {w['p50']:.3f} ms  p99 {w['p99']:.3f} ms  max {w['max']:.2f} ms  "
                  f"(CPU p50 {c['p50']:.3f}  p99 {c['p99']:.3f} ms; {w['n']:,})")
        print(f"  with / without at p99: {lat['in_word_with']['p99'] / lat['in_word_without']['p99']:.2f} "
              f"(CPU {lat['in_word_with_cpu']['p99'] / lat['in_word_without_cpu']['p99']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
