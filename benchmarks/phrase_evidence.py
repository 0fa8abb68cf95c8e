"""The phrase tables' weight by the evidence of their context (``PhraseSettings.evidence``), measured.

    nice -n 5 .venv/bin/python benchmarks/phrase_evidence.py [BUNDLE]
        [--texts corpus/heldout/*.txt] [--max-words 2000] [--evidence 0,1,2,5,10]
        [--skip-lifted] [--json]

H41's class 2: a context seen once or twice in the corpus gives its one
follower the phrase tables' whole weight ("tonight? " -> "Chinatown",
"orange juice, " -> "kilogoogle").  With ``evidence`` b, a part's weight is
``w * T / (T + b)``, T the context's occurrences in training (b = 0: the
fixed weights).  For each b, and each held-out text, KSR at k = 1, 3, 5 as
``keyboard-eval TEXT --max-words 2000`` computes it (``evaluate``, the text a
document of its own, the engine's other settings as they are); "all" pools
the texts by keystrokes, as the model card does.  Then, typing the same
words one by one, how many next-word strips (k = 3) hold a word the phrase
tables lifted: more than e^4 above its probability with the tables off
("lifted"), and among those, a follower of a context seen under 5 times
("rare").  Last, H41's examples with their strip at each b, and the b the
rule chooses: the largest whose pooled KSR@3 is within 0.05 of b = 0's and
that no text loses more than 0.15 on (0 if none).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))
import completion_hygiene  # noqa: E402  (its KSR table and pooling)
from completion_hygiene import pooled  # noqa: E402
from keyboard_app.engine.components import PhraseTables  # noqa: E402
from keyboard_app.engine.evaluate import _cut, evaluate  # noqa: E402
from keyboard_app.engine.predictor import MixtureWeights, PhraseSettings, Predictor  # noqa: E402

DEFAULT_BUNDLE = ROOT / "assets" / "models" / "default"
HELDOUT = ROOT / "corpus" / "heldout"
VALUES = (0.0, 1.0, 2.0, 5.0, 10.0)
LIFT = 4.0  # a word counts as lifted above this log-ratio (e^4 = 55 times)
RARE = 5  # ... from a rare context: one seen fewer times than this
POOLED_MARGIN = 0.05  # the rule: pooled KSR@3 within this of b = 0's
TEXT_MARGIN = 0.15  # ... and no text losing more than this
# H41's next-word strips (the text before the cursor), absurd and good
EXAMPLES = [
    "Hey Sam, are you still up for tonight? ",
    "Bananas, apples, orange juice, ",
    "Let me know if that works for you.\n\nBest regards,\n",
    "Hey Sam, ",
    "I'm stuck in training all ",
    "Dear Sir or ",
    "Yours ",
    "It was my birthday ",
]


def evidence_values(text: str) -> list[float]:
    values = [float(x) for x in text.split(",") if x]
    if not values or any(not (v >= 0.0 and math.isfinite(v)) for v in values):
        raise argparse.ArgumentTypeError(f"evidence values are numbers >= 0, not {text!r}")
    return values


def settings(b: float) -> PhraseSettings:
    """The engine's default phrase weights with evidence ``b``."""
    return replace(MixtureWeights().phrases, evidence=b)


def ksr_table(predictor: Predictor, texts: dict[str, str], values: list[float], max_words: int) -> dict:
    """{b: {text: {"ksr": {k: %}, "keystrokes": n}}} through ``evaluate``."""
    return completion_hygiene.ksr_table(predictor, texts, {b: b for b in values}, max_words,
                                        apply=lambda p, b: p.set_phrase_settings(settings(b)))


def choose(table: dict, pooled_margin: float = POOLED_MARGIN, text_margin: float = TEXT_MARGIN) -> float:
    """The largest b whose pooled KSR@3 is within ``pooled_margin`` of b = 0's and that no
    text loses more than ``text_margin`` on; 0 where none does (or b = 0 was not measured)."""
    base = table.get(0.0)
    if base is None:
        return 0.0
    fine = [b for b, rows in table.items()
            if pooled(rows, 3) >= pooled(base, 3) - pooled_margin
            and all(rows[n]["ksr"][3] >= base[n]["ksr"][3] - text_margin for n in rows)]
    return max(fine, default=0.0)


class Lifts:
    """Which words of a next-word strip the corpus's phrase tables lifted, and from what."""

    def __init__(self, predictor: Predictor) -> None:
        self.on = predictor
        self.off = Predictor(predictor.bundle, predictor.session,
                             weights=replace(predictor.weights, phrases=PhraseSettings.off()))
        [self.tables] = [c for c in predictor.components if isinstance(c, PhraseTables) and c.field == "phrases"]

    def strip(self, text: str, end: int | None = None) -> list[tuple[str, float, bool]]:
        """The strip of 3 at ``end``: (word, log-ratio to the tables off, from a rare context)."""
        shown = [s for s in self.on.suggest(text, 3, end=end) if s.kind == "word"]
        at = self.on._memo[2]  # the cursor the strip was computed at (the stage's view of the text)
        context = self.tables._context(at)
        rare = set()
        table = self.tables.table
        for order in (2, 3):
            total = table.total(context, order)
            if 0 < total < RARE:
                rare.update(table.followers(context, order)[0].tolist())
        self.off.next_word_log_probs(text, end=end)
        scores = self.off._memo[1]
        vocab = self.on.bundle.vocab
        out = []
        for s in shown:
            if s.token in vocab:
                before = float(scores.log_probs[vocab.id(s.token)])
            else:  # beyond the vocabulary: a document word, or the lexicon's share of <unk>
                before = scores.others.get(s.token, scores.lexicon_base + self.off.lexicon.share(s.token))
            out.append((s.text, s.log_prob - before, self.tables._phrase_ids.get(s.token) in rare))
        return out

    def count(self, texts: dict[str, str], values: list[float], max_words: int) -> dict:
        """{b: {text: {"strips", "lifted", "rare", "examples"}}}: next-word strips at each word
        start, those holding a lifted word, those holding one from a rare context."""
        out: dict = {}
        weights = self.on.weights
        for b in values:
            self.on.set_phrase_settings(settings(b))
            out[b] = {}
            for name, text in texts.items():
                cut, words = _cut(self.on, [text], max_words)
                self.on.reset()
                self.off.reset()
                lifted = rare = 0
                examples = []
                for word in words[0]:
                    found = [(w, r) for w, lift, r in self.strip(cut[0], word.start) if lift > LIFT]
                    lifted += bool(found)
                    if any(r for _, r in found):
                        rare += 1
                        if len(examples) < 5:
                            tail = cut[0][max(0, word.start - 30) : word.start]
                            examples.append(f"{tail!r} -> {', '.join(w for w, r in found if r)}")
                out[b][name] = {"strips": len(words[0]), "lifted": lifted, "rare": rare, "examples": examples}
                print(f"  b {b:<5g} {name:18} lifted {lifted:5} rare {rare:5}", file=sys.stderr, flush=True)
        self.on.set_weights(weights)
        return out


def examples(lifts: Lifts, values: list[float]) -> list[dict]:
    weights = lifts.on.weights
    rows = []
    for text in EXAMPLES:
        strips = {}
        for b in values:
            lifts.on.set_phrase_settings(settings(b))
            lifts.on.reset()
            lifts.off.reset()
            strips[b] = [f"{w}{'*' if lift > LIFT else ''}" for w, lift, _ in lifts.strip(text)]
        rows.append({"text": text, "strips": strips})
    lifts.on.set_weights(weights)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", default=str(DEFAULT_BUNDLE))
    parser.add_argument("--texts", nargs="*", type=Path, default=None,
                        help="held-out texts (default corpus/heldout/*.txt)")
    parser.add_argument("--max-words", type=int, default=2000, help="words scored per text (default 2000)")
    parser.add_argument("--evidence", type=evidence_values, default=list(VALUES),
                        help="the values of b, comma-separated (default 0,1,2,5,10)")
    parser.add_argument("--skip-lifted", action="store_true", help="KSR only, not the lifted words")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    paths = args.texts or sorted(HELDOUT.glob("*.txt"))
    if not paths:
        parser.error("no held-out texts: build the corpus (scripts/build_corpus.py) or name them with --texts")
    texts = {p.stem: p.read_text(encoding="utf-8") for p in paths}
    values = sorted(set(args.evidence))
    predictor = Predictor.load(args.bundle)
    if predictor.bundle.phrases is None:
        print(f"note: {args.bundle} has no phrase tables: every b gives the same figures", file=sys.stderr)
    table = ksr_table(predictor, texts, values, args.max_words)
    results = {"bundle": args.bundle, "max_words": args.max_words, "ksr": table, "chosen": choose(table)}
    if predictor.bundle.phrases is not None:
        lifts = Lifts(predictor)
        if not args.skip_lifted:
            results["lifted"] = lifts.count(texts, values, args.max_words)
        results["examples"] = examples(lifts, values)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0

    names = list(texts)
    print(f"KSR per held-out text at k = 3, first {args.max_words:,} words each ({args.bundle}); "
          f"all: pooled by keystrokes; phrase weight w * T / (T + b)")
    print(f"{'b':>6}" + "".join(f"{n[:10]:>11}" for n in names) + f"{'all @3':>9}{'all @1':>9}{'all @5':>9}")
    base = table.get(0.0)
    for b, rows in table.items():
        print(f"{b:6g}" + "".join(f"{rows[n]['ksr'][3]:11.2f}" for n in names)
              + "".join(f"{pooled(rows, k):9.2f}" for k in (3, 1, 5)))
    if base is not None:
        for b, rows in table.items():
            if b:
                print(f"{f'{b:g} - 0':>6}" + "".join(f"{rows[n]['ksr'][3] - base[n]['ksr'][3]:+11.2f}" for n in names)
                      + "".join(f"{pooled(rows, k) - pooled(base, k):+9.2f}" for k in (3, 1, 5)))
    print(f"chosen by the rule (pooled @3 within {POOLED_MARGIN}, no text below -{TEXT_MARGIN}): "
          f"b = {results['chosen']:g}")
    if "lifted" in results:
        print()
        print(f"next-word strips (k = 3) holding a word lifted above e^{LIFT:g} by the phrase tables; "
              f"rare: a follower of a context seen under {RARE} times")
        print(f"{'b':>6}" + "".join(f"{n[:10]:>11}" for n in names) + f"{'all':>9}{'per 1000':>10}")
        for kind in ("lifted", "rare"):
            for b, rows in results["lifted"].items():
                strips = sum(r["strips"] for r in rows.values())
                count = sum(r[kind] for r in rows.values())
                print(f"{b:6g}" + "".join(f"{rows[n][kind]:11d}" for n in names)
                      + f"{count:9d}{1000 * count / strips if strips else 0.0:10.1f}  {kind}")
        for b, rows in results["lifted"].items():
            shown = [e for r in rows.values() for e in r["examples"][:1]]
            if shown:
                print(f"  b {b:g}, e.g.: " + " | ".join(shown[:4]))
    if "examples" in results:
        print()
        print("H41's strips at each b (* lifted above e^4 by the phrase tables):")
        for row in results["examples"]:
            print(f"  {row['text']!r}")
            for b, strip in row["strips"].items():
                print(f"    b {b:<5g} {' / '.join(strip)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
