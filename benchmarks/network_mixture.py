"""A second network mixed with the bundle's own at inference (issues 12 and 19).

    .venv/bin/python benchmarks/network_mixture.py MAIN OTHER [--heldout corpus/heldout]
        [--skip 2000] [--words 700] [--weights 0,0.3,0.5]
    .venv/bin/python benchmarks/network_mixture.py ADAPTED assets/models/default
        --text build/adaptation/corpora/handbook.unseen.txt --skip 0 --words 2000 --weights 0,0.05,0.1

Two directions the issues name and that weight-space averaging (the retrain
recipe's ``--interpolate``) does not cover: an *ensemble* of two networks
trained on the same corpus (issue 19: the default network and a wider one),
and the *original* network mixed into an adapted one (issue 12: "mixing the
original and adapted networks at inference").  OTHER's network runs beside
MAIN's on the same tokens and its next-word distribution is mixed in right
after MAIN's network, before the document cache and the phrase tables:
``P = (1 - w) P_main + w P_other``, then the engine's mixture as usual.  A
token beyond OTHER's vocabulary (an adapted model's new words) is OTHER's
``<unk>``, whose probability is left out: the word is MAIN's to offer.

The texts are the held-out sources' development part (``tune_recency``'s:
words ``--skip`` onwards, ``--words`` of each), or the ``--text`` files
from their start after ``--skip`` words.  Prints KSR at k = 1 and 3 per text
and weight, the change from weight 0, and the mean over the texts.  OTHER's
vocabulary must be the first words of MAIN's (true of models trained on the
same corpus, and of an adapted model and its source).
"""

from __future__ import annotations

import argparse
import sys
from array import array
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from keyboard_app.engine.bundle import ModelLoadError, load_bundle  # noqa: E402
from keyboard_app.engine.components import Component, Part, Stage  # noqa: E402
from keyboard_app.engine.evaluate import evaluate  # noqa: E402
from keyboard_app.engine.predictor import Predictor  # noqa: E402
from keyboard_app.engine.session import RecurrentSession  # noqa: E402
from keyboard_app.engine.state_cache import StateCache  # noqa: E402
from tune_recency import dev_texts, floats  # noqa: E402


class SecondNetwork(Component):
    """Another bundle's network as a stage: its next-word distribution over its vocabulary,
    on the cursor's tokens (ids beyond its vocabulary read as its ``<unk>``)."""

    def __init__(self, bundle, weight: float = 0.0) -> None:
        self.session = RecurrentSession.open(bundle, 1)
        self.states = StateCache(self.session)
        self.size = len(bundle.vocab)
        self.unk = bundle.vocab.unk_id
        self.word_ids = np.array([i for i in range(self.size) if i != self.unk], np.int64)
        self.weight = weight
        self._fed = np.zeros(0, np.int64)  # the tokens its state cache was given last

    def stage(self, at) -> Stage | None:
        if self.weight <= 0.0:
            return None
        ids = np.where(at.ids >= self.size, self.unk, at.ids)
        common = min(len(ids), len(self._fed))
        changed = np.flatnonzero(ids[:common] != self._fed[:common])
        first = int(changed[0]) if len(changed) else common
        if first < len(self._fed):
            self.states.invalidate(first)
        self._fed = ids
        log_probs = self.states.log_probs(array("q", ids.tobytes()), len(ids))
        return Stage([Part(self.weight, self.word_ids, np.asarray(log_probs, float)[self.word_ids])])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("main", type=Path, help="the bundle whose engine types the text")
    p.add_argument("other", type=Path, help="the bundle whose network is mixed in")
    p.add_argument("--heldout", type=Path, default=ROOT / "corpus/heldout")
    p.add_argument("--text", type=Path, action="append", default=[], help="score this file instead")
    p.add_argument("--skip", type=int, default=2000)
    p.add_argument("--words", type=int, default=700)
    p.add_argument("--weights", type=floats, default=floats("0,0.3,0.5"))
    args = p.parse_args(argv)
    if not args.weights or any(not 0.0 <= w < 1.0 for w in args.weights):
        print("Each weight must be in [0, 1).", file=sys.stderr)
        return 2
    try:
        predictor = Predictor.load(args.main)
        other = load_bundle(args.other)
    except ModelLoadError as e:
        print(f"Cannot load a bundle: {e}", file=sys.stderr)
        return 2
    if list(predictor.bundle.vocab.tokens[: len(other.vocab)]) != list(other.vocab.tokens):
        print(f"{args.other}'s vocabulary is not the first words of {args.main}'s.", file=sys.stderr)
        return 2
    if args.text:
        texts = {}
        for path in args.text:
            full = path.read_text(encoding="utf-8")
            texts[path.stem] = " ".join(full.split(" ")[args.skip:]) if args.skip else full
    else:
        texts = dev_texts(args.heldout, predictor.tokenizer, args.skip, args.words)
    if not texts:
        print("No text to score.", file=sys.stderr)
        return 2
    second = SecondNetwork(other)
    predictor.add_component(second, first=True)

    print(f"KSR@1 / KSR@3 by the second network's weight ({args.other} into {args.main}); change from 0")
    print(f"{'text':<18}" + "".join(f"{w:>16g}" for w in args.weights))
    table = {}
    for name, text in texts.items():
        row = []
        for weight in args.weights:
            second.weight = weight
            predictor.reset()
            report = evaluate(predictor, [text], ks=(1, 3), max_words=args.words)
            row.append((report.ksr[1], report.ksr[3]))
        table[name] = row
        print(f"{name:<18}" + "".join(f"{k1:7.2f} /{k3:7.2f}" for k1, k3 in row)
              + "   " + " ".join(f"{k3 - row[0][1]:+.2f}" for _, k3 in row[1:]), flush=True)
    means = [(sum(r[i][0] for r in table.values()) / len(table), sum(r[i][1] for r in table.values()) / len(table))
             for i in range(len(args.weights))]
    print(f"{'mean':<18}" + "".join(f"{k1:7.2f} /{k3:7.2f}" for k1, k3 in means)
          + "   " + " ".join(f"{k3 - means[0][1]:+.2f}" for _, k3 in means[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
