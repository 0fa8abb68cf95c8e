"""KSR of several bundles on the default corpus's held-out texts, side by side.

What an adapted model costs elsewhere (issue 12): the default model and the
models retrained on a user's text, each scored through the engine (the
strip's own suggestions, ``evaluate``) on the first ``--words`` words of
every held-out text of the default corpus (``corpus/heldout/*.txt``, built by
``scripts/build_corpus.py``), one column per bundle, with the mean::

    .venv/bin/python benchmarks/heldout_table.py assets/models/default ADAPTED_BUNDLE... --words 500
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def score_table(bundles: list[Path], texts: list[Path], words: int, k: int = 3) -> list[tuple[str, list[float]]]:
    """(text name, KSR at ``k`` of each bundle) per text, then ("mean", ...)."""
    from keyboard_app.engine.evaluate import evaluate
    from keyboard_app.engine.predictor import Predictor

    predictors = [Predictor.load(b) for b in bundles]
    rows = []
    try:
        for path in texts:
            text = path.read_text(encoding="utf-8")
            scores = []
            for predictor in predictors:
                predictor.reset()
                scores.append(float(evaluate(predictor, [text], ks=(k,), max_words=words).ksr[k]))
            rows.append((path.stem, scores))
    finally:
        for predictor in predictors:
            predictor.close()
    if rows:
        rows.append(("mean", [sum(r[1][i] for r in rows) / len(rows) for i in range(len(bundles))]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundles", nargs="+", type=Path, help="model bundles (the first is the baseline)")
    parser.add_argument("--heldout", type=Path, default=REPO / "corpus" / "heldout",
                        help="folder of held-out .txt files (default corpus/heldout)")
    parser.add_argument("--words", type=int, default=500, help="words scored per text (default 500)")
    parser.add_argument("--k", type=int, default=3, help="suggestions shown (default 3)")
    args = parser.parse_args(argv)
    texts = sorted(args.heldout.glob("*.txt"))
    if not texts:
        print(f"{args.heldout}: no held-out .txt files (build them with scripts/build_corpus.py).", file=sys.stderr)
        return 2
    from keyboard_app.engine.bundle import ModelLoadError

    try:
        rows = score_table(args.bundles, texts, args.words, args.k)
    except ModelLoadError as e:
        print(e, file=sys.stderr)
        return 2
    names = [b.name if b.name != "bundle" else b.parent.name for b in args.bundles]
    width = max(len(r[0]) for r in rows)
    print(f"KSR@{args.k}, first {args.words} words of each text; the difference to the first bundle in brackets")
    print(" " * width + "  " + "  ".join(f"{n[:22]:>22}" for n in names))
    for name, scores in rows:
        cells = [f"{scores[0]:22.2f}"] + [f"{s:14.2f} ({s - scores[0]:+5.2f})" for s in scores[1:]]
        print(f"{name:{width}}  " + "  ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
