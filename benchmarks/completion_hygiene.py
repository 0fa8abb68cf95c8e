"""The strip's rules for the letters typed (``engine/completions.py``), measured.

    nice -n 5 .venv/bin/python benchmarks/completion_hygiene.py [BUNDLE]
        [--texts corpus/heldout/*.txt] [--max-words 2000] [--variants before,after,...] [--json]

Issue 14, part 3.  For each held-out text, KSR at k = 1, 3, 5 as
``keyboard-eval TEXT --max-words 2000`` computes it (``evaluate`` itself, the
text a document of its own) with the rules off ("before",
``CompletionSettings.off()``), all on ("after", the engine's default), and
each rule alone, beside each other, and the floors below the best word at
other shares with the other rules on ("no floors", "lexicon 1/1000", "no
vocabulary floor"...); "all" pools the texts by keystrokes, as the model
card does.  Then, typing the same words letter by letter, how often
the strip's first three hold a marked identifier the document has not used
(per 1,000 keystrokes, before and after), and the issue's examples with the
strip before and after.

The identifier rule needs the bundle's marks (``scripts/mark_identifiers.py``):
without them that rule changes nothing, and the script says so.  Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keyboard_app.engine.completions import CompletionSettings  # noqa: E402
from keyboard_app.engine.evaluate import _cut, evaluate  # noqa: E402
from keyboard_app.engine.predictor import Predictor  # noqa: E402

DEFAULT_BUNDLE = ROOT / "assets" / "models" / "default"
HELDOUT = ROOT / "corpus" / "heldout"
ON = CompletionSettings()
OFF = CompletionSettings.off()
VARIANTS = {
    "before": OFF,
    "after": ON,
    "typed word first": replace(OFF, typed_word_first=True),
    "capitals": replace(OFF, capital_evidence=ON.capital_evidence),
    "identifiers": replace(OFF, hide_identifiers=True),
    "floors": replace(OFF, lexicon_floor=ON.lexicon_floor, vocabulary_floor=ON.vocabulary_floor),
    # H33's finding 9: the rules with other floors than the engine's
    "lexicon 1/1000": replace(ON, lexicon_floor=1e-3),
    "lexicon 1/100": replace(ON, lexicon_floor=1e-2),
    "no floors": replace(ON, lexicon_floor=0.0, vocabulary_floor=0.0),
    "no lexicon floor": replace(ON, lexicon_floor=0.0),
    "no vocabulary floor": replace(ON, vocabulary_floor=0.0),
    "vocabulary 1/3000": replace(ON, vocabulary_floor=1 / 3000),
    # H43: small letters typed inside a sentence as evidence against words written with a capital
    # (0.3 in "after"), the one-letter capitals ("C") only typed as one, and the typed word kept
    # in the third slot when a longer word is likelier by no more than a factor (2 in "after")
    "before H43": replace(ON, small_letter_evidence=1.0, letters_as_typed=False, small_forms=False,
                          typed_word_within=0.0),
    "small letters 1": replace(ON, small_letter_evidence=1.0),
    "small letters 0.5": replace(ON, small_letter_evidence=0.5),
    "small letters 0.3": replace(ON, small_letter_evidence=0.3),
    "small letters 0.1": replace(ON, small_letter_evidence=0.1),
    "no letters rule": replace(ON, letters_as_typed=False),
    "no typed word third": replace(ON, typed_word_within=0.0),
    "typed word third x2": replace(ON, typed_word_within=2.0),
    "typed word third x2.5": replace(ON, typed_word_within=2.5),
    "typed word third x3": replace(ON, typed_word_within=3.0),
    # capitals written small in at least this share of a word's uses inside a sentence (the
    # bundle's small_letters) dropped where small letters are typed (0.2 in "after")
    "small share off": replace(ON, small_share=1.0),
    "small share 0.1": replace(ON, small_share=0.1),
    "small share 0.15": replace(ON, small_share=0.15),
    "small share 0.25": replace(ON, small_share=0.25),
}
DEFAULT_VARIANTS = ("before", "after", "typed word first", "capitals", "identifiers", "floors")
# The examples: the text before the cursor, and what the strip did wrong there.
EXAMPLES = [
    ("The quick", "Tab put in 'quickly'"),
    ("Thanks", "Tab put in 'Thanksgiving'"),
    ("He then", "thence / thenceforth / thenvalue"),
    ("The program runs", "RunSQL / runserver / runsource"),
    ("I came from", "fromhex"),
    ("Best reg", "no 'regards'"),
    ("See you by Fri", "'Friendly' before 'Friday'"),
    # H41's report (H43): capitals against the letters typed
    ("Hi, I'", "I'M / I'LL / I'VE"),
    ("I'll miss", "Tab put in 'Miss'"),
    ("the gov", "'Government'"),
    ("toilet paper, washing", "Washington / washings / Washington's"),
    ("bananas, apples, ora", "'Oracle' first"),
    ("written in c", "'C' first"),
]


def ksr_table(predictor: Predictor, texts: dict[str, str], variants: dict, max_words: int,
              apply=None) -> dict:
    """{variant: {text: {"ksr": {k: %}, "keystrokes": n}}} through ``evaluate``; ``apply(predictor,
    setting)`` puts each variant's setting in place (the completion rules unless given)."""
    out: dict = {}
    for name, settings in variants.items():
        if apply is None:
            predictor.completions = settings
        else:
            apply(predictor, settings)
        out[name] = {}
        for text_name, text in texts.items():
            report = evaluate(predictor, [text], ks=(1, 3, 5), max_words=max_words)
            out[name][text_name] = {"ksr": report.ksr, "keystrokes": report.keystrokes}
            print(f"  {name:18} {text_name:18} KSR@3 {report.ksr[3]:6.2f}", file=sys.stderr, flush=True)
    return out


def pooled(rows: dict, k: int) -> float:
    """KSR of all the texts together: each text weighed by its keystrokes."""
    keystrokes = sum(r["keystrokes"] for r in rows.values())
    saved = sum(r["ksr"][k] / 100 * r["keystrokes"] for r in rows.values())
    return 100 * saved / keystrokes if keystrokes else 0.0


def identifiers_shown(predictor: Predictor, texts: dict[str, str], max_words: int) -> dict:
    """Per text, before and after: the keystrokes typed where the last
    ``identifier_window`` tokens held no marked word, and how many times the first three
    suggestions held a marked identifier there."""
    marks = predictor.bundle.lexicon.identifiers if predictor.bundle.lexicon is not None else frozenset()
    window = ON.identifier_window
    out = {}
    for text_name, text in texts.items():
        cut, words = _cut(predictor, [text], max_words)
        tokens = list(predictor.tokenizer.iter_tokens(cut[0]))
        counts = {}
        for name, settings in (("before", OFF), ("after", ON)):
            predictor.completions = settings
            predictor.reset()
            keystrokes = shown = 0
            before = 0  # tokens wholly before the word
            for word in words[0]:
                while before < len(tokens) and tokens[before].end <= word.start:
                    before += 1
                if any(t.token in marks for t in tokens[max(0, before - window) : before]):
                    continue  # the document uses identifiers here: they may be offered
                for j in range(len(word.surface)):
                    top = predictor.suggest(cut[0], 3, end=word.start + j)
                    keystrokes += 1
                    shown += sum(1 for s in top if s.token in marks)
            counts[name] = {"keystrokes": keystrokes, "identifiers": shown}
        out[text_name] = counts
    return out


def examples(predictor: Predictor) -> list[dict]:
    rows = []
    for text, problem in EXAMPLES:
        strips = {}
        for name, settings in (("before", OFF), ("after", ON)):
            predictor.completions = settings
            predictor.reset()
            strips[name] = [s.text for s in predictor.suggest(text, 3)]
        rows.append({"text": text, "problem": problem, **strips})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", default=str(DEFAULT_BUNDLE))
    parser.add_argument("--texts", nargs="*", type=Path, default=None,
                        help="held-out texts (default corpus/heldout/*.txt)")
    parser.add_argument("--max-words", type=int, default=2000, help="words scored per text (default 2000)")
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                        help=f"comma-separated, of: {', '.join(VARIANTS)} (default: {', '.join(DEFAULT_VARIANTS)})")
    parser.add_argument("--skip-identifier-count", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    paths = args.texts or sorted(HELDOUT.glob("*.txt"))
    if not paths:
        parser.error(f"no held-out texts: build the corpus (scripts/build_corpus.py) or name them with --texts")
    unknown = [v for v in args.variants.split(",") if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    variants = {v: VARIANTS[v] for v in args.variants.split(",")}
    texts = {p.stem: p.read_text(encoding="utf-8") for p in paths}
    predictor = Predictor.load(args.bundle)
    marks = len(predictor.bundle.lexicon.identifiers) if predictor.bundle.lexicon is not None else 0
    if not marks:
        print(f"note: {args.bundle} marks no identifiers (scripts/mark_identifiers.py): "
              "the identifier rule changes nothing here", file=sys.stderr)

    results = {"bundle": args.bundle, "max_words": args.max_words, "identifiers_marked": marks,
               "ksr": ksr_table(predictor, texts, variants, args.max_words), "examples": examples(predictor)}
    if not args.skip_identifier_count:
        results["identifiers_shown"] = identifiers_shown(predictor, texts, args.max_words)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0

    names = list(texts)
    print(f"KSR@3 per held-out text, first {args.max_words:,} words each "
          f"({args.bundle}, {marks:,} words marked as identifiers); all: pooled by keystrokes")
    print(f"{'':18}" + "".join(f"{n[:10]:>11}" for n in names) + f"{'all @3':>9}{'all @1':>9}{'all @5':>9}")
    for variant, rows in results["ksr"].items():
        print(f"{variant:18}" + "".join(f"{rows[n]['ksr'][3]:11.2f}" for n in names)
              + "".join(f"{pooled(rows, k):9.2f}" for k in (3, 1, 5)))
    if "before" in results["ksr"] and "after" in results["ksr"]:
        before, after = results["ksr"]["before"], results["ksr"]["after"]
        print(f"{'after - before':18}" + "".join(f"{after[n]['ksr'][3] - before[n]['ksr'][3]:+11.2f}" for n in names)
              + "".join(f"{pooled(after, k) - pooled(before, k):+9.2f}" for k in (3, 1, 5)))
    if "identifiers_shown" in results:
        print()
        print("marked identifiers among the first three suggestions, where the document had used none "
              "(per 1,000 such keystrokes):")
        for name, counts in results["identifiers_shown"].items():
            b, a = counts["before"], counts["after"]
            rate = lambda c: 1000 * c["identifiers"] / c["keystrokes"] if c["keystrokes"] else 0.0  # noqa: E731
            print(f"  {name:18} before {rate(b):6.2f}   after {rate(a):6.2f}   ({b['keystrokes']:,} keystrokes)")
    print()
    print("the issue's examples (the first three suggestions; Tab takes the first):")
    for row in results["examples"]:
        print(f"  {row['text']!r:20} {row['problem']:34} before: {' / '.join(row['before'])}")
        print(f"  {'':20} {'':34} after:  {' / '.join(row['after'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
