"""Choose the mixture's weights (``MixtureWeights``: the document cache's and the phrase
tables' settings) on development text, and show what they buy.

    .venv/bin/python benchmarks/tune_recency.py [--bundle assets/models/default]
        [--heldout corpus/heldout] [--skip 2000] [--words 700] [--k 3]
        [--weights 0.05,0.1] [--windows 2000] [--decays 100]
        [--pair-weights 0.1,0.15] [--pair-decays 2000] [--triple-weights 0,0.15] [--skips 0,1]
        [--ramps 0,20] [--phrase-weights 0.05/0.15,0/0.2]

The development text is each held-out source's words ``--skip`` onwards
(``--words`` of them): never trained on, and apart from the first 2,000
words that the model card's and compare_presage.py's figures score, so the
settings are not chosen on the text they are reported on.  Prints KSR at
``k`` for every setting, per source and in all (keystrokes pooled), with
the network alone (weight 0) as the baseline, and the lexicon's and the
phrase tables' shares: the same figures with the bundle's lexicon or phrases
left out (the first five rows).  ``--phrase-weights`` takes pair/triple
weights of the phrase tables (``PhraseSettings``).  Each row is one
``MixtureWeights``, given to the engine as it is (``Predictor(weights=...)``);
the chosen one's values go into its defaults (engine/mixture.py and the
settings classes it holds).  The personal layer's share is not tuned here:
it needs a user's own text and typing (benchmarks/adaptation.py's kind).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keyboard_app.engine.bundle import load_bundle  # noqa: E402
from keyboard_app.engine.evaluate import evaluate, typed_words  # noqa: E402
from keyboard_app.engine.predictor import MixtureWeights, PhraseSettings, Predictor, RecencySettings  # noqa: E402
from keyboard_app.engine.phrases import EVIDENCE  # noqa: E402


def dev_texts(folder: Path, tokenizer, skip: int, words: int) -> dict[str, str]:
    texts = {}
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        found = typed_words(tokenizer.iter_tokens(text))
        if len(found) <= skip + 50:
            continue
        start = found[skip].start
        # start at a line start so that the first words have the context a writer would
        start = text.rfind("\n", 0, start) + 1
        texts[path.stem] = text[start:]
    return texts


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def weight_pairs(text: str) -> list[PhraseSettings]:
    """"0.05/0.15,0/0.2" -> PhraseSettings(0.05, 0.15), PhraseSettings(0, 0.2), with the
    engine's evidence for the corpus's tables (``phrases.EVIDENCE``)"""
    return [PhraseSettings(*(float(w) for w in pair.split("/")), evidence=EVIDENCE)
            for pair in text.split(",") if pair]


def label(weights: MixtureWeights) -> str:
    """A table row's name: the values the grid varies."""
    s, ph = weights.recency, weights.phrases
    return (f"w {s.weight:g} win {s.window} dec {s.decay:g} pair {s.pair_weight:g}/{s.pair_decay:g} "
            f"tri {s.triple_weight:g} skip {s.skip} ramp {s.ramp:g} b {s.evidence:g} "
            f"phrases {ph.pair_weight:g}/{ph.triple_weight:g}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", type=Path, default=ROOT / "assets/models/default")
    p.add_argument("--heldout", type=Path, default=ROOT / "corpus/heldout")
    p.add_argument("--skip", type=int, default=2000)
    p.add_argument("--words", type=int, default=700)
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--weights", type=floats, default=floats("0.1"))
    p.add_argument("--windows", type=floats, default=floats("2000"))
    p.add_argument("--decays", type=floats, default=floats("100"))
    p.add_argument("--pair-weights", type=floats, default=floats("0.15"))
    p.add_argument("--pair-decays", type=floats, default=floats("2000"))
    p.add_argument("--triple-weights", type=floats, default=floats("0.15"))
    p.add_argument("--skips", type=floats, default=floats(str(RecencySettings().skip)))
    p.add_argument("--ramps", type=floats, default=floats(str(RecencySettings().ramp)))
    p.add_argument("--evidences", type=floats, default=floats(str(RecencySettings().evidence)),
                   help="b of the pair and triple parts' T / (T + b), T their context's earlier copies")
    p.add_argument("--phrase-weights", type=weight_pairs, default=[MixtureWeights().phrases],
                   help="pair/triple weights of the phrase tables, comma-separated")
    p.add_argument("--no-lexicon-row", action="store_true",
                   help="skip the reference rows (network alone and defaults, with and without the lexicon "
                   "and the phrases)")
    args = p.parse_args(argv)

    bundle = load_bundle(args.bundle)
    base = Predictor(bundle)
    texts = dev_texts(args.heldout, base.tokenizer, args.skip, args.words)
    if not texts:
        print(f"no held-out text of more than {args.skip} words under {args.heldout}", file=sys.stderr)
        return 2
    print(f"bundle {args.bundle} ({'with' if bundle.lexicon else 'without'} a lexicon); "
          f"{len(texts)} sources, words {args.skip}..{args.skip + args.words} of each; KSR at k={args.k}")

    grid = [
        MixtureWeights(recency=RecencySettings(w, int(n), d, pw, pd, tw, int(sk), ramp, b), phrases=phrases)
        for w, n, d, pw, pd, tw, sk, ramp, b, phrases in itertools.product(
            args.weights, args.windows, args.decays, args.pair_weights, args.pair_decays, args.triple_weights,
            args.skips, args.ramps, args.evidences, args.phrase_weights)
    ]
    rows = [(label(weights), weights, True) for weights in grid]
    off = MixtureWeights.off()
    no_phrases = MixtureWeights(phrases=PhraseSettings.off())
    if not args.no_lexicon_row:
        rows[:0] = [("network alone, no lexicon", off, False),
                    ("network alone, lexicon", off, True),
                    ("network, lexicon and phrases", MixtureWeights(recency=RecencySettings.off()), True),
                    ("default settings, no phrases", no_phrases, True),
                    ("default settings", MixtureWeights(), True)]
    names = list(texts)
    print(f"{'setting':<72}" + "".join(f"{n[:10]:>11}" for n in names) + f"{'all':>8}{'s':>6}")
    for title, weights, with_lexicon in rows:
        lexicon = bundle.lexicon
        if not with_lexicon:
            bundle.lexicon = None
        predictor = Predictor(bundle, base.session, weights=weights)
        bundle.lexicon = lexicon
        started = time.perf_counter()
        cost = kn = 0.0
        cells = []
        for name in names:
            report = evaluate(predictor, [texts[name]], ks=(args.k,), max_words=args.words)
            cells.append(report.ksr[args.k])
            kn += report.keystrokes
            cost += report.keystrokes * (1 - report.ksr[args.k] / 100)
        print(f"{title:<72}" + "".join(f"{c:11.2f}" for c in cells)
              + f"{(1 - cost / kn) * 100:8.2f}{time.perf_counter() - started:6.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
