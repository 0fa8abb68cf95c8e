"""What the personal layer's share of the mixture buys on a user's own text (issue 12).

    .venv/bin/python benchmarks/personal_share.py [--work build/adaptation]
        [--corpora handbook,endless-sky,wesnoth,kernel-docs] [--learned 2000,20000]
        [--shares 0,0.05,0.1,0.2,0.3] [--adapted NAME=BUNDLE ...] [--max-words 2000]

The app learns from what its user types (``keyboard_app.learning``: counts of
words and word pairs, mixed into the strip with the share
``MixtureWeights.personal``, reached as the counts grow).  This measures that
share where it matters, on the user corpora of benchmarks/adaptation.py (run
it first: it writes ``WORK/corpora/NAME.unseen.txt`` and
``NAME.train-SIZE.txt``): the last ``--learned`` words of a corpus's largest
training text are learned as if the user had typed them in the app (each
word after the token before it, as the editor does), then the first
``--max-words`` words of its unseen text are scored (KSR@3, ``keyboard-eval``'s
simulation) with each share, through the default bundle and, for each
``--adapted NAME=BUNDLE``, through the model retrained on that corpus
(whose training text the learned words are part of).  Prints KSR@3 per
share and its change from a share of 0, and the mean change over the rows
(the default model's rows, the adapted ones', all) at each share.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # compare_engines

from keyboard_app.engine.bundle import ModelLoadError  # noqa: E402
from keyboard_app.engine.evaluate import evaluate  # noqa: E402
from keyboard_app.engine.mixture import MixtureWeights  # noqa: E402
from keyboard_app.engine.predictor import Predictor  # noqa: E402
from keyboard_app.learning import PersonalLayer, PersonalModel  # noqa: E402
from compare_engines import typed_into  # noqa: E402  (the words learned as the app learns them)

CORPORA = ("handbook", "endless-sky", "wesnoth", "kernel-docs")


def largest_training_text(corpora: Path, name: str) -> Path | None:
    found = sorted(corpora.glob(f"{name}.train-*.txt"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return found[-1] if found else None


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=ROOT / "build/adaptation")
    p.add_argument("--bundle", type=Path, default=ROOT / "assets/models/default")
    p.add_argument("--corpora", default=",".join(CORPORA))
    p.add_argument("--learned", default="2000,20000", help="words learned from the end of the training text")
    p.add_argument("--shares", type=floats, default=floats("0,0.05,0.1,0.2,0.3"))
    p.add_argument("--adapted", action="append", default=[], metavar="NAME=BUNDLE",
                   help="a model retrained on corpus NAME (benchmarks/adaptation.py's bundles)")
    p.add_argument("--max-words", type=int, default=2000)
    args = p.parse_args(argv)
    try:
        learned_sizes = [int(x) for x in args.learned.split(",") if x]
    except ValueError:
        learned_sizes = []
    if not learned_sizes or min(learned_sizes) < 1:
        print(f"--learned takes word counts separated by commas (2000,20000), not {args.learned!r}.",
              file=sys.stderr)
        return 2
    if any("=" not in item for item in args.adapted):
        print("--adapted takes NAME=BUNDLE (wesnoth=build/adaptation/bundles/.../bundle).", file=sys.stderr)
        return 2
    adapted = dict(item.split("=", 1) for item in args.adapted)
    if not args.shares or any(not 0.0 <= s < 1.0 for s in args.shares):
        print("Each share must be in [0, 1).", file=sys.stderr)
        return 2

    print(f"KSR@3 on the first {args.max_words} unseen words, by the personal layer's share; "
          "then the change from a share of 0")
    print(f"{'corpus':<12}{'model':<9}{'learned':>7}" + "".join(f"{s:>8g}" for s in args.shares))
    rows = []  # (corpus, model, learned, [ksr per share])
    for name in [n for n in args.corpora.split(",") if n]:
        unseen_path = args.work / "corpora" / f"{name}.unseen.txt"
        training = largest_training_text(args.work / "corpora", name)
        if not unseen_path.is_file() or training is None:
            print(f"No {name} corpus under {args.work / 'corpora'}: run benchmarks/adaptation.py first.",
                  file=sys.stderr)
            return 2
        unseen, words = unseen_path.read_text(encoding="utf-8"), training.read_text(encoding="utf-8").split()
        for label, bundle in [("default", args.bundle)] + ([("adapted", Path(adapted[name]))] if name in adapted else []):
            try:
                predictor = Predictor.load(bundle)
            except ModelLoadError as e:
                print(f"Cannot load {bundle}: {e}", file=sys.stderr)
                return 2
            for size in learned_sizes:
                personal = typed_into(PersonalModel(), predictor.tokenizer, " ".join(words[-size:]))
                layer = PersonalLayer(personal)
                predictor.add_component(layer)
                scores = []
                for share in args.shares:
                    predictor.set_weights(MixtureWeights(personal=share))
                    layer.enabled = share > 0  # 0: the layer off, as with learning off in the app
                    scores.append(evaluate(predictor, [unseen], ks=(3,), max_words=args.max_words).ksr[3])
                predictor.remove_component(layer)
                rows.append((name, label, size, scores))
                print(f"{name:<12}{label:<9}{size:>7}" + "".join(f"{s:8.2f}" for s in scores)
                      + "   " + " ".join(f"{s - scores[0]:+.2f}" for s in scores[1:]), flush=True)
            predictor.close()
    print(f"{'mean change':<28}" + "".join(f"{s:>8g}" for s in args.shares))
    for title, kept in (("default model", "default"), ("adapted", "adapted"), ("all", None)):
        chosen = [r for r in rows if kept is None or r[1] == kept]
        if chosen:
            means = [sum(r[3][i] - r[3][0] for r in chosen) / len(chosen) for i in range(len(args.shares))]
            print(f"{title:<28}" + "".join(f"{m:+8.2f}" for m in means))
    return 0


if __name__ == "__main__":
    sys.exit(main())
