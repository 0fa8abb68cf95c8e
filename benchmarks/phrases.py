"""Phrase suggestions, measured: KSR with and without, what limits it, and latency.

    nice -n 10 .venv/bin/python benchmarks/phrases.py [BUNDLE] [TEXT...] [--words 2000]
        [--latency-words 300] [--jobs 2] [--skip ksr,curve,latency] [--json]

TEXTs default to the held-out texts (``corpus/heldout/*.txt``); ``--words`` is
per text (its first words).  Three parts (docs/EVALUATION.md, "Phrase
suggestions"):

1. **KSR with and without phrases**, per text and pooled, from one
   simulation each (``evaluate(..., phrases=True)``, what ``keyboard-eval
   --phrases`` prints), with the default phrase settings
   (``beam.BeamSettings``) but the document's copies mixed into a phrase's
   later words (``BeamSettings.mixture`` on); and again with those words
   scored by the network alone (the app's default), the same-process
   baseline of the mixture's.
2. **What limits it.**  At every word start of the same words (a strip of
   three): the phrase candidates the beam finds (``Predictor.phrase_candidates``)
   and the words that follow in the text.  How often a correct phrase (its
   words exactly the next words) is among the candidates at all (probability
   0.3% or more, whatever the strip), and among those that could earn a slot;
   the KSR an oracle would reach that showed the right candidate whenever
   there is one (its first word among the strip's, taking no word's slot: a
   ceiling for any choice among these candidates).  The same oracle over
   other sources of phrases, alone and together: those of the beam's
   candidates that clear the slot rule (the threshold and the strip's third
   word), the document's own copies (the words that followed the same one
   or two tokens earlier in the text, ``copy1`` / ``copy2``) and the corpus
   phrase tables' chains (from one of their three best words after the last
   two tokens, then each time their best word).  Then, for each threshold
   of a grid, the phrases shown, the share of them that are right
   (precision) and the share of the reachable correct phrases shown
   (recall).  The threshold in ``BeamSettings`` was chosen on other words
   (words 2,000 to 3,000 of each held-out text), by the KSR it gives.
3. **Latency** at the word starts of the first ``--latency-words`` words of
   each text: the word suggestions (``suggest``, the same-process baseline)
   and the phrase after them (``phrase``, with its 5 ms budget, as the app
   asks), wall clock and this thread's CPU time, p50 / p99, and how often the
   budget ran out; the phrase of a third engine whose beam scores the later
   words by the network alone, at the same word starts (the cost of the
   mixture's continuations).  And every in-word keystroke of those words,
   typed twice, once with the phrase computed at each word start and once without
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
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keyboard_app.engine.evaluate import _cut, _simulate, evaluate, following_words, typed_words  # noqa: E402
from keyboard_app.engine.predictor import Predictor  # noqa: E402

DEFAULT_BUNDLE = ROOT / "assets" / "models" / "default"
K = 3
FLOOR = math.log(0.003)  # the lowest phrase probability looked at
# The oracles' sources of phrases (``curve``): the beam's candidates (first word among the
# strip's), those of them that clear the slot rule (``BeamSettings.threshold`` and the
# strip's third word), the document's own copies after the same one or two tokens, and
# the corpus phrase tables' chains.
ORACLES = ("beam", "beam, slot rule", "copy1", "copy2", "tables")
ORACLE_ROWS = (("beam",), ("beam, slot rule",), ("copy1",), ("copy2",), ("tables",), ("beam", "copy2"),
               ("beam", "copy1"), ("beam", "copy1", "tables"))
GRID = (0.5, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.04, 0.03, 0.02, 0.01, 0.005)


def heldout() -> list[Path]:
    return sorted((ROOT / "corpus" / "heldout").glob("*.txt"))


def percentiles(values: list[float]) -> dict:
    v = np.array(values) * 1e3
    if not len(v):
        return {"n": 0}
    return {"n": len(v), "p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99)),
            "max": float(v.max())}


def ksr(predictor: Predictor, texts: dict[str, str], words: int, jobs: int, mixture: bool | None = None) -> dict:
    """KSR with and without phrases, per text and pooled (one simulation each); ``mixture``
    (not None): with the beam's later words scored that way (``BeamSettings.mixture``)."""
    settings = predictor.phrase_beam
    if mixture is not None:
        predictor.phrase_beam = replace(settings, mixture=mixture)
    out = {}
    pooled = {"keystrokes": 0, "cost": 0.0, "cost_phrases": 0.0, "taken": 0, "shown": 0, "covered": 0}
    try:
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
    finally:
        predictor.phrase_beam = settings
    strokes = pooled["keystrokes"]
    out["pooled"] = {"words": sum(r["words"] for r in out.values()),
                     "ksr": (1 - pooled["cost"] / strokes) * 100 if strokes else 0.0,
                     "ksr_phrases": (1 - pooled["cost_phrases"] / strokes) * 100 if strokes else 0.0,
                     "shown": pooled["shown"], "taken": pooled["taken"], "covered": pooled["covered"]}
    return out


def copies(tokens: list[str], starts: list[int], following: list[list[str]], order: int,
           window: int = 2000) -> list[int]:
    """At each word start (its token index in ``starts``): the longest phrase of 2 or more of
    the words that follow (``following``) that the document already holds right after the
    same ``order - 1`` tokens, within ``window`` tokens before it (0: none)."""
    c = order - 1
    out = []
    for at, truth in zip(starts, following):
        best = 0
        if len(truth) >= 2 and at >= c:
            context = tokens[at - c : at]
            for q in range(max(c, at - window), at):
                if tokens[q] == truth[0] and tokens[q - c : q] == context:
                    n = 1
                    while n < len(truth) and q + n < at and tokens[q + n] == truth[n]:
                        n += 1
                    best = max(best, n if n >= 2 else 0)
        out.append(best)
    return out


def table_chains(predictor: Predictor, tokens: list[str], starts: list[int], following: list[list[str]],
                 firsts: int = K) -> list[int]:
    """At each word start: the longest phrase of 2 or more of the words that follow that the
    corpus's phrase tables chain from the text before it: one of the tables' ``firsts`` best
    words after the last two tokens, then each time the best word after the last two (0: none)."""
    from keyboard_app.engine.phrases import phrase_index

    tables, vocab = predictor.bundle.phrases, predictor.bundle.vocab
    if tables is None:
        return [0] * len(starts)
    index = phrase_index(vocab.tokens, predictor.bundle.lexicon)

    def after(context: list[int]):
        return tables.followers(context, 3) or tables.followers(context, 2)

    out = []
    for at, truth in zip(starts, following):
        best = 0
        found = after([index.get(t, vocab.unk_id) for t in (["<s>"] + tokens)[max(0, at - 1) : at + 1]][-2:]) \
            if len(truth) >= 2 else None
        if found is not None:
            context = [index.get(t, vocab.unk_id) for t in (["<s>"] + tokens)[max(0, at - 1) : at + 1]][-2:]
            wanted = [index.get(t, -1) for t in truth]
            for i in np.argsort(-found[1], kind="stable")[:firsts]:
                chain = [int(found[0][i])]
                while len(chain) < len(truth):
                    nxt = after(context + chain)
                    if nxt is None:
                        break
                    chain.append(int(nxt[0][int(np.argmax(nxt[1]))]))
                n = next((j for j, (a, b) in enumerate(zip(chain, wanted)) if a != b), min(len(chain), len(wanted)))
                best = max(best, n if n >= 2 else 0)
        out.append(best)
    return out


def curve(predictor: Predictor, texts: dict[str, str], words: int) -> dict:
    """The beam's candidates at each word start against the words that follow (part 2), and
    the oracles: how much a perfect choice among each source of phrases would save."""
    boundaries = reachable = earnable = 0
    shown = {p: 0 for p in GRID}
    right = {p: 0 for p in GRID}
    max_words = predictor.phrase_beam.max_words
    plain_all, covers = [], {name: [] for name in ORACLES}
    for text in texts.values():
        cut, (text_words,) = _cut(predictor, [text], words)
        text = cut[0]
        after = following_words(predictor, text, max_words)
        predictor.reset()
        plain_all += _simulate(predictor, [text], [text_words], (K,), False, 0, None)  # each word's cost
        tokens = list(predictor.tokenizer.iter_tokens(text))
        index = {t.start: i for i, t in enumerate(tokens)}
        starts = [index[w.start] for w in text_words]
        truths = [after[w.start] for w in text_words]
        names = [t.token for t in tokens]
        covers["copy1"] += copies(names, starts, truths, 2)
        covers["copy2"] += copies(names, starts, truths, 3)
        covers["tables"] += table_chains(predictor, names, starts, truths)
        for word, truth in zip(text_words, truths):
            boundaries += 1

            def correct(phrase) -> bool:
                said = phrase.text.lower().split(" ")
                return truth[: len(said)] == said

            anywhere = predictor.phrase_candidates(text, None, end=word.start, threshold=FLOOR)
            reachable += any(correct(c) for c in anywhere)
            strip = {s.text.lower() for s in predictor.suggest(text, K, end=word.start)}
            covers["beam"].append(max((len(c.text.split(" ")) for c in anywhere
                                       if correct(c) and c.text.split(" ")[0].lower() in strip), default=0))
            found = predictor.phrase_candidates(text, K, end=word.start, threshold=FLOOR)  # best first
            earnable += any(correct(c) for c in found)
            covers["beam, slot rule"].append(max((len(c.text.split(" ")) for c in found
                                                  if correct(c) and c.log_prob >= predictor.phrase_beam.threshold),
                                                 default=0))
            for p in GRID:
                best = next((c for c in found if c.log_prob >= math.log(p)), None)
                if best is not None:
                    shown[p] += 1
                    right[p] += correct(best)
        predictor.reset()
    keystrokes = sum(t.length + 1 for t in plain_all)
    cost = sum(t.cost(K) for t in plain_all)

    def oracle(sources: tuple[str, ...]) -> float:
        """KSR@K when the longest right phrase of ``sources`` is taken wherever there is one."""
        spent, skip = 0, 0
        for n, typed in enumerate(plain_all):
            if skip:
                skip -= 1
                continue
            take = max(covers[source][n] for source in sources)
            spent += 1 if take else typed.cost(K)
            skip = take - 1 if take else 0
        return (1 - spent / keystrokes) * 100

    rows = [{"threshold": p, "shown": shown[p], "right": right[p],
             "precision": 100.0 * right[p] / shown[p] if shown[p] else 0.0,
             "recall": 100.0 * right[p] / reachable if reachable else 0.0} for p in GRID]
    return {"word_starts": boundaries, "correct_among_candidates": reachable,
            "correct_that_could_earn_a_slot": earnable, "grid": rows,
            "ksr": (1 - cost / keystrokes) * 100, "ksr_oracle": oracle(("beam",)),
            "oracles": {" + ".join(sources): oracle(sources) for sources in ORACLE_ROWS}}


def latency(with_phrases: Predictor, without: Predictor, texts: dict[str, str], words: int,
            network: Predictor | None = None) -> dict:
    """Word starts: suggestions, then the phrase; in-word keystrokes with and without phrases
    (engines typing the same text, interleaved word by word, each first in turn).
    ``network``: one more engine whose beam scores the later words by the network alone
    (``BeamSettings.mixture`` off): its phrase and its in-word keystrokes too."""
    engines = [(with_phrases, "with"), (without, "without")] + ([(network, "network")] if network else [])
    times: dict[str, list[float]] = {}
    counts = {name: {"offered": 0, "dropped": 0} for _, name in engines}
    asked = 0

    def timed(key: str, call):
        start, cpu = time.perf_counter(), time.thread_time()
        result = call()
        times.setdefault(key, []).append(time.perf_counter() - start)
        times.setdefault(key + "_cpu", []).append(time.thread_time() - cpu)
        return result

    for text in texts.values():
        text = _cut(with_phrases, [text], words)[0][0]
        for predictor, _ in engines:
            predictor.reset()
        for n, word in enumerate(typed_words(with_phrases.tokenizer.iter_tokens(text))):
            asked += 1
            for predictor, name in engines[n % len(engines):] + engines[: n % len(engines)]:
                if predictor is with_phrases:
                    timed("suggest", lambda: predictor.suggest(text, K, end=word.start))
                else:
                    predictor.suggest(text, K, end=word.start)
                if name != "without":
                    found = timed("phrase" if name == "with" else "phrase_network",
                                  lambda: predictor.phrase(text, K, end=word.start))
                    counts[name]["offered"] += found is not None
                    counts[name]["dropped"] += predictor.phrase_stats.dropped
                for j in range(1, len(word.surface)):
                    timed("in_word_" + name, lambda: predictor.suggest(text, K, end=word.start + j))
    out = {name: percentiles(values) for name, values in times.items()}
    out["word_starts"] = asked
    out["offered"], out["dropped"] = counts["with"]["offered"], counts["with"]["dropped"]
    if network is not None:
        out["offered_network"], out["dropped_network"] = counts["network"]["offered"], counts["network"]["dropped"]
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
    default = predictor.phrase_beam
    predictor.phrase_beam = settings = replace(default, mixture=True)  # beside the network alone
    results: dict = {"bundle": args.bundle, "k": K, "words_per_text": args.words,
                     "settings": {"threshold": math.exp(settings.threshold), "odds": settings.odds,
                                  "width": settings.width, "branch": settings.branch,
                                  "max_words": settings.max_words, "budget_ms": settings.budget * 1e3}}
    if "ksr" not in skip:
        results["ksr"] = ksr(predictor, texts, args.words, args.jobs)
        # the same, the words after the first scored by the network alone (the app's default)
        results["ksr_network"] = ksr(predictor, texts, args.words, args.jobs, mixture=False)
    if "curve" not in skip:
        results["curve"] = curve(predictor, texts, args.words)
    if "latency" not in skip:
        without = Predictor.load(args.bundle)
        without.run_ahead = False
        network = Predictor.load(args.bundle)
        network.run_ahead = False
        network.phrase_beam = replace(settings, mixture=False)
        results["latency"] = latency(predictor, without, texts, args.latency_words, network)
        without.close()
        network.close()
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
    if "ksr_network" in results:
        print(f"KSR@{K} with phrases whose later words the network alone scores (no document copies) "
              f"-> with the copies (above)")
        for name, r in results["ksr_network"].items():
            mixed = results["ksr"][name]["ksr_phrases"]
            print(f"  {name:18} {r['ksr_phrases']:6.2f}% -> {mixed:6.2f}% ({mixed - r['ksr_phrases']:+.2f})  "
                  f"phrases taken {r['taken']:,} of {r['shown']:,} shown")
    if "curve" in results:
        c = results["curve"]
        print(f"what limits it ({c['word_starts']:,} word starts): a correct phrase among the beam's candidates "
              f"(P >= 0.3%) at {c['correct_among_candidates']:,}; among those that could earn a slot "
              f"at {c['correct_that_could_earn_a_slot']:,}")
        print(f"  an oracle showing the right one of those whenever there is one (its first word among the strip's "
              f"{K}, taking no word's slot): KSR@{K} {c['ksr']:.2f}% -> {c['ksr_oracle']:.2f}% "
              f"({c['ksr_oracle'] - c['ksr']:+.2f})")
        print(f"  oracles: KSR@{K} gain when the right phrase of these sources is taken wherever there is one "
              f"(copy1 / copy2: the document's copies after the same one / two tokens; tables: the corpus "
              f"tables' chains; slot rule: only phrases that clear the threshold and the strip's third word)")
        for sources, value in c["oracles"].items():
            print(f"    {sources:32} {value:6.2f}% ({value - c['ksr']:+.2f})")
        print("  threshold   shown   right   precision   recall")
        for row in c["grid"]:
            print(f"  {row['threshold']:9.3g} {row['shown']:7,} {row['right']:7,} {row['precision']:10.1f}% "
                  f"{row['recall']:8.1f}%")
    if "latency" in results:
        lat = results["latency"]
        for name, label in (("suggest", "word start, suggestions (baseline)"), ("phrase", "word start, phrase"),
                            ("phrase_network", "word start, phrase (network alone)")):
            w, c = lat[name], lat[name + "_cpu"]
            print(f"{label:38}: p50 {w['p50']:.3f} ms  p99 {w['p99']:.3f} ms  max {w['max']:.2f} ms  "
                  f"(CPU p50 {c['p50']:.3f}  p99 {c['p99']:.3f} ms; {w['n']:,})")
        ratio = lat["phrase"]["p99"] / lat["suggest"]["p99"]
        mixed = lat["phrase_cpu"]["p99"] / lat["phrase_network_cpu"]["p99"]
        print(f"  phrase / suggestions at p99: {ratio:.2f}; mixture / network alone at CPU p99: {mixed:.2f}")
        print(f"  phrases offered at {lat['offered']:,} of {lat['word_starts']:,} word starts, budget ran out "
              f"{lat['dropped']:,} times (network alone: {lat['offered_network']:,} and {lat['dropped_network']:,})")
        for name, label in (("in_word_without", "in-word keystroke, no phrases"),
                            ("in_word_with", "in-word keystroke, phrases at starts"),
                            ("in_word_network", "in-word, phrases by the network alone")):
            w, c = lat[name], lat[name + "_cpu"]
            print(f"{label:38}: p50 {w['p50']:.3f} ms  p99 {w['p99']:.3f} ms  max {w['max']:.2f} ms  "
                  f"(CPU p50 {c['p50']:.3f}  p99 {c['p99']:.3f} ms; {w['n']:,})")
        print(f"  with / without at p99: {lat['in_word_with']['p99'] / lat['in_word_without']['p99']:.2f} "
              f"(CPU {lat['in_word_with_cpu']['p99'] / lat['in_word_without_cpu']['p99']:.2f}); network alone / "
              f"without: {lat['in_word_network']['p99'] / lat['in_word_without']['p99']:.2f} "
              f"(CPU {lat['in_word_network_cpu']['p99'] / lat['in_word_without_cpu']['p99']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
