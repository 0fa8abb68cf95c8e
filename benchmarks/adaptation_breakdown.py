"""Where an adapted model saves keystrokes, and where the rest still go (issue 12).

    .venv/bin/python benchmarks/adaptation_breakdown.py DEFAULT ADAPTED UNSEEN USER_TEXT \\
        [--max-words 2000] [--k 3]

Types the first ``--max-words`` words of ``UNSEEN`` (the user's text neither model
saw) through both bundles, as ``keyboard-eval`` does (``evaluate.word_costs``), and
sums each word's cost by what the models could know of it: whether it is in
DEFAULT's vocabulary, its lexicon, or neither, and how often it occurs in
``USER_TEXT`` (the text ``ADAPTED`` was retrained on; words compared lowercase).
Prints, per class, the words, their keystrokes, each model's cost, and in points
of KSR (of all keystrokes) what adapting saved and what still costs; the two
models' KSR at the foot, so the table adds up to ``keyboard-eval``'s figures.
The model card's "Where the adapted model's remaining cost lies" was made with it
(benchmarks/adaptation.py makes the bundles and the texts under build/adaptation).
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keyboard_app.engine.bundle import ModelLoadError  # noqa: E402
from keyboard_app.engine.evaluate import typed_words, word_costs  # noqa: E402
from keyboard_app.engine.predictor import Predictor  # noqa: E402

USES = ((0, 0, "never"), (1, 1, "once"), (2, 9, "2-9 times"), (10, None, "10+ times"))


def use_class(count: int) -> str:
    return next(name for lo, hi, name in USES if count >= lo and (hi is None or count <= hi))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("default", type=Path)
    p.add_argument("adapted", type=Path)
    p.add_argument("unseen", type=Path, help="the user's text that neither model was trained on")
    p.add_argument("user_text", type=Path, help="the text the adapted model was retrained on")
    p.add_argument("--max-words", type=int, default=2000)
    p.add_argument("--k", type=int, default=3)
    args = p.parse_args(argv)
    if args.k < 1 or args.max_words < 1:
        print("--k and --max-words must be at least 1.", file=sys.stderr)
        return 2
    try:
        default, adapted = Predictor.load(args.default), Predictor.load(args.adapted)
        unseen = args.unseen.read_text(encoding="utf-8")
        user_text = args.user_text.read_text(encoding="utf-8")
    except (ModelLoadError, OSError, UnicodeDecodeError) as e:
        print(f"Cannot read the models or texts: {e}", file=sys.stderr)
        return 2
    uses = collections.Counter(t.surface.lower() for t in typed_words(default.tokenizer.iter_tokens(user_text)))
    vocab = {w.lower() for w in default.bundle.vocab.tokens}
    lexicon = default.bundle.lexicon
    lexicon_words = {w.lower() for w in lexicon.words} if lexicon is not None else set()

    before = word_costs(default, [unseen], args.k, args.max_words)
    after = word_costs(adapted, [unseen], args.k, args.max_words)
    if [w for w, _, _ in before] != [w for w, _, _ in after]:
        print("The two models' tokenizers cut the text differently; compare bundles of one tokenizer.",
              file=sys.stderr)
        return 2
    rows: dict[tuple[str, str], list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
    for (word, keys, cost), (_, _, cost_after) in zip(before, after):
        lower = word.lower()
        known = "vocabulary" if lower in vocab else "lexicon" if lower in lexicon_words else "neither"
        row = rows[(known, use_class(uses[lower]))]
        row[0] += 1
        row[1] += keys
        row[2] += cost
        row[3] += cost_after
    total = sum(r[1] for r in rows.values())
    if not total:
        print(f"{args.unseen}: no words to type.", file=sys.stderr)
        return 2
    order = {name: i for i, (_, _, name) in enumerate(USES)}
    print(f"k = {args.k}; {sum(r[0] for r in rows.values())} words, {total} keystrokes of {args.unseen}")
    print(f"{'in the default model':<22}{'in the user text':<18}{'words':>6}{'keys':>7}{'default':>9}"
          f"{'adapted':>9}{'saved':>8}{'left':>8}")
    for known, use in sorted(rows, key=lambda key: (("vocabulary", "lexicon", "neither").index(key[0]),
                                                    order[key[1]])):
        n, keys, cost, cost_after = rows[(known, use)]
        print(f"{known:<22}{use:<18}{n:>6}{keys:>7}{cost:>9}{cost_after:>9}"
              f"{(cost - cost_after) / total * 100:>8.2f}{cost_after / total * 100:>8.2f}")
    cost = sum(r[2] for r in rows.values())
    cost_after = sum(r[3] for r in rows.values())
    print(f"KSR@{args.k}: default {(1 - cost / total) * 100:.2f}, adapted {(1 - cost_after / total) * 100:.2f} "
          f"({(cost - cost_after) / total * 100:+.2f} points)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
