"""Type texts through two checkouts of the engine and report every difference.

    .venv/bin/python benchmarks/compare_engines.py --before DIR [--bundle assets/models/default ...]
        [--text FILE ...] [--chars 6000] [--k 3]

A restructuring that should not change what the strip shows (issue 15) is
checked here: ``DIR`` is another checkout of the project (for example
``git archive HEAD | tar -x -C DIR`` taken before the change), whose
``keyboard_app`` is imported beside this one under another package name, so
both engines run in one process on the same bundle files.  Every keystroke of
the first ``--chars`` characters of each text is typed into both, as the app
does (the whole text before the cursor each time), and compared:

* the suggestions (written form, token, log-probability, completion or next
  word, kind), exactly: floats compared for equality, not closeness;
* at each word boundary, the distribution over the vocabulary
  (``next_word_log_probs``), array for array.

Each text is typed in four set-ups: the engine alone; with typo tolerance on
(as the app has it); with the personal layer holding words learned from the
same text and a few blocked or forgotten words (typo tolerance on); and with
that layer switched off (blocked words are still never shown).  Prints a
table of keystrokes compared and differences found per set-up, and the first
few differences; exits 1 if there is any.

Beside it, the CPU time of each side's ``suggest`` (``time.thread_time``),
keystrokes inside a word and the others apart: p50 and p99 of each and the
ratio after / before.  The two sides take turns keystroke by keystroke, each
first in turn, so a busy machine slows both alike and neither always runs on
the caches the other warmed; timings are noisy all the same.

``--tolerance X`` compares a change that may move the last bits of the
numbers (issue 17's probability-space mixture): a suggestion list then
differs only if its words differ (written form, token, completion or next
word, kind, in order) or a log-probability moves by more than ``X``; a
distribution only if a log-probability moves by more than ``X``.  Lists whose
words are the same and whose numbers moved within ``X`` are counted apart
("moved"), with the largest move seen, so the exact comparison is still
reported beside the tolerant one.

``--completion-rules-off`` switches the strip's completion rules of issue
14, part 3 (``engine.completions``) off on a side that has them, to compare a
restructuring made beside that deliberate change.

Each checkout is driven through its own API for the personal layer: the
``PersonalizedPredictor`` wrapper of the engine before issue 15, or the
``PersonalLayer`` component plugged into the engine's ``Predictor`` after it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BLOCKED = ("the", "and")  # blocked by the user: never shown
SHOWN_DIFFERENCES = 8


def load_checkout(folder: Path, alias: str) -> ModuleType:
    """The ``keyboard_app`` package of the checkout ``folder``, imported as ``alias``."""
    init = folder / "keyboard_app" / "__init__.py"
    if not init.is_file():
        raise SystemExit(f"{folder} holds no keyboard_app package")
    for name in [n for n in sys.modules if n == alias or n.startswith(alias + ".")]:
        del sys.modules[name]  # another checkout loaded under the alias before
    spec = importlib.util.spec_from_file_location(alias, init, submodule_search_locations=[str(init.parent)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[alias] = package
    spec.loader.exec_module(package)
    return package


class Side:
    """One checkout's engine on one bundle, in one set-up (see the module docstring)."""

    def __init__(self, package: str, bundle: Path, setup: str, learn_from: str, rules_off: bool = False) -> None:
        predictor_module = importlib.import_module(f"{package}.engine.predictor")
        learning = importlib.import_module(f"{package}.learning")
        self.engine = predictor_module.Predictor.load(bundle)
        if rules_off and hasattr(self.engine, "completions"):
            self.engine.completions = importlib.import_module(f"{package}.engine.completions").CompletionSettings.off()
        self.engine.typo_tolerance = setup != "engine"
        self.front = self.engine
        if setup.startswith("personal"):
            personal = learned(learning.PersonalModel(), self.engine.tokenizer, learn_from)
            if hasattr(learning, "PersonalizedPredictor"):  # before issue 15: a wrapper
                self.front = learning.PersonalizedPredictor(self.engine, personal)
                self.front.use_personal = setup == "personal"
            else:  # a component plugged into the engine
                layer = learning.PersonalLayer(personal)
                layer.enabled = setup == "personal"
                self.engine.add_component(layer)

    def suggest(self, text: str, k: int) -> tuple[list[tuple], float]:
        """The suggestions as plain tuples, and the CPU seconds the call took."""
        started = time.thread_time()
        found = self.front.suggest(text, k)
        cpu = time.thread_time() - started
        return [(s.text, s.token, s.log_prob, s.is_completion, getattr(s, "kind", "word")) for s in found], cpu

    def distribution(self, text: str) -> np.ndarray:
        return self.engine.next_word_log_probs(text)[0]

    def close(self) -> None:
        self.engine.close()


def typed_into(personal, tokenizer, text: str):
    """``personal`` after learning ``text``'s words as the app does when they are typed: each
    after the token before it, and whether it starts a sentence (benchmarks/personal_share.py
    uses it too)."""
    previous, initial = "<s>", True
    for token in tokenizer.iter_tokens(text):
        if token.surface[:1].isalpha() and token.token not in ("<num>", "<url>", "<email>"):
            personal.observe(previous, token.surface, initial=initial)
        previous = token.token
        initial = tokenizer.is_sentence_end(token.token)
    return personal


def learned(personal, tokenizer, text: str):
    """``personal`` after learning ``text``'s words (``typed_into``), then blocking and
    forgetting a few."""
    typed_into(personal, tokenizer, text)
    for word in BLOCKED:
        personal.block(word)
    words = sorted(personal.unigrams, key=lambda w: (-personal.unigrams[w], w))
    if len(words) > 5:
        personal.forget(words[5])  # hidden for the session, though the document holds it
    return personal


def boundaries(text: str) -> set[int]:
    """Offsets right after a space, a line break or punctuation: where a word starts."""
    return {i for i in range(1, len(text) + 1) if not text[i - 1].isalnum() and text[i - 1] not in "'\u2019"}


def same_words(old: list[tuple], new: list[tuple]) -> bool:
    """The same suggestions in the same order, the log-probabilities left out."""
    return [s[:2] + s[3:] for s in old] == [s[:2] + s[3:] for s in new]


def largest_move(old: list[tuple], new: list[tuple]) -> float:
    """The largest change of a log-probability between two lists of the same words."""
    return max((abs(a[2] - b[2]) for a, b in zip(old, new)), default=0.0)


def compare(before: Side, after: Side, text: str, k: int, differences: list[str],
            times: dict[str, list[float]], tolerance: float = 0.0,
            moved: dict[str, float] | None = None) -> tuple[int, int, int]:
    """(keystrokes compared, suggestion lists that differ, distributions that differ);
    each side's CPU seconds per call added to ``times`` ("before in-word", "after other"...).
    With a ``tolerance``, numbers that moved by at most that much are not differences:
    ``moved`` counts them ("lists", "dists") and keeps the largest move ("largest")."""
    starts = boundaries(text)
    differ = dists = 0
    moved = {} if moved is None else moved
    for end in range(len(text) + 1):
        typed = text[:end]
        kind = "other" if end in starts or end == 0 or not typed[-1].isalpha() else "in-word"
        if end % 2:  # each side first in turn: neither always finds the CPU caches the other warmed
            (new, new_cpu), (old, old_cpu) = after.suggest(typed, k), before.suggest(typed, k)
        else:
            (old, old_cpu), (new, new_cpu) = before.suggest(typed, k), after.suggest(typed, k)
        times[f"before {kind}"].append(old_cpu)
        times[f"after {kind}"].append(new_cpu)
        if old != new:
            move = largest_move(old, new) if tolerance and same_words(old, new) else math.inf
            if move <= tolerance:
                moved["lists"] = moved.get("lists", 0) + 1
                moved["largest"] = max(moved.get("largest", 0.0), move)
            else:
                differ += 1
                if len(differences) < SHOWN_DIFFERENCES:
                    differences.append(f"  ...{typed[-40:]!r}\n    before {old}\n    after  {new}")
        if end in starts or end == 0:
            a, b = before.distribution(typed), after.distribution(typed)
            if a.dtype != b.dtype or not np.array_equal(a, b):
                move = (float(np.max(np.abs(a - b), where=a != b, initial=0.0))
                        if tolerance and a.shape == b.shape else math.inf)
                if move <= tolerance:
                    moved["dists"] = moved.get("dists", 0) + 1
                    moved["largest"] = max(moved.get("largest", 0.0), move)
                    continue
                dists += 1
                if len(differences) < SHOWN_DIFFERENCES:
                    changed = int(np.count_nonzero(a != b))
                    differences.append(f"  ...{typed[-40:]!r}: {changed} log-probabilities differ")
    return len(text) + 1, differ, dists


def percentiles(seconds: list[float]) -> tuple[float, float] | None:
    """(p50, p99) in milliseconds; None for too few samples."""
    if len(seconds) < 2:
        return None
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return cuts[49] * 1e3, cuts[98] * 1e3


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", type=Path, required=True, help="the other checkout (holds keyboard_app/)")
    p.add_argument("--bundle", type=Path, action="append", help="bundles (default: assets/models/default)")
    p.add_argument("--text", type=Path, action="append", help="texts (default: corpus/heldout/*.txt)")
    p.add_argument("--chars", type=int, default=6000, help="characters typed of each text")
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--setups", default="engine,typos,personal,personal-off")
    p.add_argument("--tolerance", type=float, default=0.0,
                   help="log-probabilities that moved by at most this much are not differences (default 0: exact)")
    p.add_argument("--completion-rules-off", action="store_true",
                   help="switch issue 14's completion rules off where a side has them")
    args = p.parse_args(argv)

    bundles = args.bundle or [ROOT / "assets/models/default"]
    texts = args.text or sorted((ROOT / "corpus/heldout").glob("*.txt"))
    if not texts:
        print("no texts: pass --text FILE", file=sys.stderr)
        return 2
    load_checkout(args.before.resolve(), "before_keyboard_app")
    setups = [s for s in args.setups.split(",") if s]
    print(f"before: {args.before}; after: {ROOT}; k={args.k}; the first {args.chars:,} characters of each text")
    print(f"{'bundle':<28}{'text':<22}{'set-up':<14}{'keystrokes':>11}{'differ':>8}{'dists':>7}{'s':>6}")
    total_differ = 0
    differences: list[str] = []
    moved: dict[str, float] = {}
    times = {setup: {f"{side} {kind}": [] for side in ("before", "after") for kind in ("in-word", "other")}
             for setup in setups}
    for bundle in bundles:
        for path in texts:
            text = path.read_text(encoding="utf-8")[: args.chars]
            for setup in setups:
                started = time.perf_counter()
                before = Side("before_keyboard_app", bundle, setup, text, args.completion_rules_off)
                after = Side("keyboard_app", bundle, setup, text, args.completion_rules_off)
                try:
                    n, differ, dists = compare(before, after, text, args.k, differences, times[setup],
                                               args.tolerance, moved)
                finally:
                    before.close()
                    after.close()
                total_differ += differ + dists
                print(f"{bundle.name[:27]:<28}{path.stem[:21]:<22}{setup:<14}{n:>11,}{differ:>8}{dists:>7}"
                      f"{time.perf_counter() - started:6.0f}", flush=True)
    print()
    print("CPU time of suggest, ms (in-word: a letter inside a word; other: every other keystroke)")
    print(f"{'set-up':<14}{'keystrokes':<12}{'before p50':>11}{'p99':>8}{'after p50':>11}{'p99':>8}"
          f"{'after/before p50':>18}{'p99':>7}")
    for setup in setups:
        for kind in ("in-word", "other"):
            old = percentiles(times[setup][f"before {kind}"])
            new = percentiles(times[setup][f"after {kind}"])
            if old is None or new is None:
                continue
            print(f"{setup:<14}{kind:<12}{old[0]:11.3f}{old[1]:8.3f}{new[0]:11.3f}{new[1]:8.3f}"
                  f"{new[0] / old[0]:18.2f}{new[1] / old[1]:7.2f}")
    if args.tolerance:
        print(f"within the tolerance {args.tolerance:g}: {int(moved.get('lists', 0)):,} suggestion lists with the same "
              f"words and {int(moved.get('dists', 0)):,} distributions whose numbers moved, by at most "
              f"{moved.get('largest', 0.0):.3g}")
    if differences:
        print("first differences:")
        print("\n".join(differences))
    print("identical" if total_differ == 0 else f"{total_differ} differences")
    return 0 if total_differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
