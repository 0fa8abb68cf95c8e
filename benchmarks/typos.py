"""Typo tolerance, measured: real misspellings, keyboard slips, clean text and latency.

    nice -n 10 .venv/bin/python benchmarks/typos.py [BUNDLE] [--pairs 1000]
        [--words 3000] [--latency-words 600] [--seed 14] [--json]

Four figures, each with typo tolerance on and off (docs/EVALUATION.md, "Typo tolerance"):

1. **Real misspellings.**  The misspelling -> correction list that ships in the
   PyPI package ``codespell`` (``codespell_lib/data/dictionary.txt``; install it
   with the ``dev`` extra).  That file is a derivative of English Wikipedia's
   lists of common misspellings and is released under the Creative Commons
   Attribution-Share-Alike 3.0 licence, which allows its use as test data: it is
   read from the installed package at run time, never copied into this
   repository.  Kept: pairs with one correction, a suggestable word the model's
   vocabulary knows, and a misspelling of letters only that differs from it
   (``--pairs`` of them, a seeded sample).  Each misspelling is typed after a
   neutral context (``CONTEXT``), whole and then only its first half (rounded
   up); recall@1 and @3: is the correction the first suggestion, among three?
2. **Keyboard slips.**  The held-out texts (``corpus/heldout/*.txt``; else the
   tests' patterned text) cut to ``--words`` words, taken evenly from each
   text; one edit is put into a seeded 10% of the words of two letters or more
   (``slip``: a neighbouring key for a letter, two letters swapped, a letter
   left out, or a neighbouring key's letter added).  The simulated person of
   KSR (``keyboard_app.engine.evaluate``) types each slipped word's letters as
   slipped and looks for the word meant; KSR@3 with tolerance on and off.  A
   slipped word never found costs its slipped letters and a space (what it
   costs without prediction: the mistake stays, its fixing is not counted);
   the text before each word is the text as meant.  Also: the share of slipped
   words whose word meant was offered at all.
3. **Clean text.**  KSR@3 of the same texts without slips, on and off
   (``evaluate.evaluate`` itself, the figure ``keyboard-eval`` prints): typo
   tolerance must not cost clean typing more than 0.2 points.
4. **Latency.**  Every in-word keystroke of the first ``--latency-words``
   words (the whole text before the cursor each time, as the app does), on and
   off, interleaved so that the machine's load falls on both alike: p50 / p99.

Figures are printed, never asserted (a shared machine's timings are noisy).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keyboard_app.engine.evaluate import evaluate, typed_words  # noqa: E402
from keyboard_app.engine.predictor import Predictor  # noqa: E402
from keyboard_app.engine.ranking import is_suggestable  # noqa: E402
from keyboard_app.engine.typos import keyboard_neighbours  # noqa: E402

DEFAULT_BUNDLE = ROOT / "assets" / "models" / "default"
HELDOUT = ROOT / "corpus" / "heldout"
CONTEXT = "They said that the word was "  # neutral: any word may follow
SLIP_RATE = 0.10
K = 3


def codespell_pairs(vocabulary, count: int, seed: int) -> tuple[list[tuple[str, str]], int]:
    """A seeded sample of ``count`` (misspelling, correction) pairs the model can
    correct (module docstring), and how many pairs qualified."""
    import codespell_lib

    path = Path(codespell_lib.__file__).parent / "data" / "dictionary.txt"
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        wrong, _, right = line.partition("->")
        right = right.strip()
        if not right or "," in right or not wrong.isalpha() or wrong == right:
            continue
        if right in vocabulary and is_suggestable(right) and right.isalpha():
            pairs.append((wrong, right))
    qualified = len(pairs)
    random.Random(seed).shuffle(pairs)
    return sorted(pairs[:count]), qualified


def recall(predictor: Predictor, pairs: list[tuple[str, str]], half: bool) -> dict[int, float]:
    hits = {1: 0, K: 0}
    for wrong, right in pairs:
        typed = wrong[: math.ceil(len(wrong) / 2)] if half else wrong
        shown = [s.text.lower() for s in predictor.suggest(CONTEXT + typed, K)]
        for k in hits:
            hits[k] += right in shown[:k]
    return {k: 100.0 * v / max(len(pairs), 1) for k, v in hits.items()}


# -- slips -----------------------------------------------------------------------------

NEIGHBOURS = {key: sorted(keys) for key, keys in keyboard_neighbours().items()}


def slip(word: str, rng: random.Random) -> str:
    """``word`` with one keyboard slip (lowercase letters only are changed)."""
    for _ in range(20):
        kind = rng.choice(("neighbour", "swap", "omit", "add"))
        i = rng.randrange(len(word))
        letter = word[i].lower()
        if kind == "neighbour" and letter in NEIGHBOURS:
            out = word[:i] + rng.choice(NEIGHBOURS[letter]) + word[i + 1 :]
        elif kind == "swap" and i + 1 < len(word) and word[i] != word[i + 1]:
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif kind == "omit" and len(word) > 2:
            out = word[:i] + word[i + 1 :]
        elif kind == "add" and letter in NEIGHBOURS:
            out = word[: i + 1] + rng.choice(NEIGHBOURS[letter]) + word[i + 1 :]
        else:
            continue
        if out.lower() != word.lower():
            return out
    return word


def heldout_texts(words: int) -> list[str]:
    files = sorted(HELDOUT.glob("*.txt"))
    if not files:
        sys.path.insert(0, str(ROOT / "tests"))
        from conftest import make_patterned_text  # type: ignore[import-not-found]

        return [make_patterned_text()]
    each = max(1, words // len(files))
    texts = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        cut = text.split()
        texts.append(" ".join(cut[: int(each * 1.3)]))  # more than enough: evaluate cuts by words
    return texts


def cut_texts(predictor: Predictor, texts: list[str], words: int) -> list[str]:
    """Each text cut after ``words / len(texts)`` of its typed words."""
    each = max(1, words // len(texts))
    out = []
    for text in texts:
        found = typed_words(predictor.tokenizer.iter_tokens(text))[:each]
        if found:
            out.append(text[: found[-1].end])
    return out


def slip_ksr(predictor: Predictor, texts: list[str], seed: int) -> dict:
    """KSR@3 of the texts with slips typed (module docstring)."""
    rng = random.Random(seed)
    keystrokes = cost = slipped = offered = 0
    for text in texts:
        predictor.reset()
        for word in typed_words(predictor.tokenizer.iter_tokens(text)):
            meant = word.surface
            typed = slip(meant, rng) if len(meant) >= 2 and rng.random() < SLIP_RATE else meant
            keystrokes += len(meant) + 1
            before = text[: word.start]
            found = None
            for j in range(len(typed)):  # all typed saves nothing
                shown = predictor.suggest(before + typed[:j], K)
                if any(s.text.lower() == meant.lower() for s in shown):
                    found = j
                    break
            cost += found + 1 if found is not None else len(typed) + 1
            if typed != meant:
                slipped += 1
                offered += found is not None
    return {"ksr": (1 - cost / keystrokes) * 100, "slipped_words": slipped,
            "slipped_offered": 100.0 * offered / max(slipped, 1)}


def latency(on: Predictor, off: Predictor, text: str, words: int) -> dict:
    """In-word keystrokes, on and off interleaved: wall clock and this thread's CPU time."""
    wall: dict[str, list[float]] = {"on": [], "off": []}
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    for word in typed_words(on.tokenizer.iter_tokens(text))[:words]:
        for j in range(1, len(word.surface)):
            for name, predictor in (("on", on), ("off", off)):
                start, start_cpu = time.perf_counter(), time.thread_time()
                predictor.suggest(text, K, end=word.start + j)
                cpu[name].append(time.thread_time() - start_cpu)
                wall[name].append(time.perf_counter() - start)
    out = {}
    for name in wall:
        w, c = np.array(wall[name]) * 1e3, np.array(cpu[name]) * 1e3
        out[name] = {"n": len(w), "p50": float(np.percentile(w, 50)), "p99": float(np.percentile(w, 99)),
                     "max": float(w.max()), "cpu_p50": float(np.percentile(c, 50)),
                     "cpu_p99": float(np.percentile(c, 99))}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", default=str(DEFAULT_BUNDLE))
    parser.add_argument("--pairs", type=int, default=1000, help="codespell pairs sampled (default 1000)")
    parser.add_argument("--words", type=int, default=3000, help="held-out words for KSR (default 3000)")
    parser.add_argument("--latency-words", type=int, default=600)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: recall,slips,clean,latency")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))

    on = Predictor.load(args.bundle)
    off = Predictor.load(args.bundle)
    on.typo_tolerance, off.typo_tolerance = True, False
    results: dict = {"bundle": args.bundle, "k": K, "context": CONTEXT}
    if "recall" not in skip:
        pairs, qualified = codespell_pairs(on.bundle.vocab, args.pairs, args.seed)
        results["codespell"] = {"pairs": len(pairs), "qualified": qualified}
        for name, predictor in (("on", on), ("off", off)):
            results["codespell"][name] = {"whole": recall(predictor, pairs, False),
                                          "half": recall(predictor, pairs, True)}
    texts = cut_texts(on, heldout_texts(args.words), args.words)
    results["texts"] = len(texts)
    if "slips" not in skip:
        results["slips"] = {name: slip_ksr(p, texts, args.seed) for name, p in (("on", on), ("off", off))}
    if "clean" not in skip:
        results["clean"] = {}
        for name, predictor in (("on", on), ("off", off)):
            report = evaluate(predictor, texts, ks=(K,))
            results["clean"][name] = {"ksr": report.ksr[K], "words": report.words}
    if "latency" not in skip:
        results["latency"] = latency(on, off, "\n\n".join(texts), args.latency_words)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"bundle {args.bundle}; k = {K}; context {CONTEXT!r}")
    if "codespell" in results:
        c = results["codespell"]
        print(f"codespell misspellings: {c['pairs']} sampled of {c['qualified']} qualifying pairs")
        for name in ("on", "off"):
            for part in ("whole", "half"):
                r = c[name][part]
                print(f"  tolerance {name:3}  {part:5} typed   recall@1 {r[1]:5.1f}%   recall@3 {r[K]:5.1f}%")
    if "slips" in results:
        s = results["slips"]
        print(f"slips in 10% of {args.words} words ({results['texts']} texts):")
        for name in ("on", "off"):
            r = s[name]
            print(f"  tolerance {name:3}  KSR@3 {r['ksr']:5.2f}%   slipped words {r['slipped_words']}, "
                  f"word meant offered for {r['slipped_offered']:.1f}%")
    if "clean" in results:
        c = results["clean"]
        print(f"clean text ({c['on']['words']} words): KSR@3 on {c['on']['ksr']:.2f}%  off {c['off']['ksr']:.2f}%  "
              f"difference {c['on']['ksr'] - c['off']['ksr']:+.2f} points")
    if "latency" in results:
        for name, r in results["latency"].items():
            print(f"in-word keystroke, tolerance {name:3}: p50 {r['p50']:.3f} ms  p99 {r['p99']:.3f} ms  "
                  f"max {r['max']:.2f} ms  (CPU time: p50 {r['cpu_p50']:.3f} ms  p99 {r['cpu_p99']:.3f} ms; "
                  f"{r['n']} keystrokes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
