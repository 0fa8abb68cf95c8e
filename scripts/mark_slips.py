#!/usr/bin/env python3
"""Mark the misspellings among a bundle's words (``lexicon.json``'s ``slips``).

    .venv/bin/python scripts/mark_slips.py BUNDLE CORPUS_DIR [--out DEST]
        [--casual chitchat] [--dictionary /usr/share/wordnet] [--words /usr/share/dict/words]

Why: the default corpus holds a chat between people (``chitchat``), and a chat
has its slips.  The casual-aware lexicon keeps the words only the chat writes
out of the lexicon (``model_training.add_lexicon --casual``), but the network's
vocabulary took the chat's most frequent slips as words: "becuase", "poeple",
"roomate", "alot".  The strip offered them ("My room" -> roommate, roommates,
roomates), and typed, they were known words that typo tolerance and
auto-correction left alone.  The engine never offers a marked word; typed in
full, the word meant is offered first and auto-correction puts it in
(``engine/predictor.py``).

A word is marked when all of these hold (measured on the default corpus: the
model card lists the 23 words they mark and the near misses they leave):

* **casual**: at least ``--casual-share`` (75%) of its occurrences in
  CORPUS_DIR's ``*.txt`` are in the casual files (``--casual``, by default those
  the bundle's manifest records in ``lexicon.casual``): edited text (books,
  manuals) seldom misspells, and a word it writes is a word;
* **no dictionary's**: three letters or more, and neither WordNet (with plain
  English endings stripped) nor the word list (Debian's ``wamerican``, names
  included) knows it, so "yeah", "nope", "fro" and "Greta" stay;
* **one slip from a word written far more often** that a dictionary knows and
  the bundle has: two neighbouring letters swapped ("becuase", "jsut"; the word
  meant ``--ratio`` (10) times as frequent, 1,000 times for a word of three
  letters: "teh"), a letter inside a word of five letters or more left out
  ("suprised"; 10 times, or 5 when it is one of a double letter: "roomate"), or
  a vowel inside a word of six letters or more for another ("definately");
  an extra letter is no mark ("sooo", "ohh" are the chat's way of stressing);
* **or two words written as one** ("alot", "atleast", "eachother"): both
  dictionary words the bundle has, and the corpus writes them apart ``--ratio``
  times as often as together ("everyone" and "anytime" are written together
  more often, and stay);
* and the casual files themselves write the word or words meant at least 3
  times as often as the slip (``CASUAL_RATIO``): the books' "game play" and
  "never mind" say nothing of the chat's "gameplay" and "nevermind", which the
  chat writes as often as it writes them apart.

A slang word one vowel from a word ("hangry") would still be marked, and then
auto-corrected: the printed list is for reading before a model ships.

The bundle is rewritten atomically (``mark_identifiers.write_lexicon``): only
``lexicon.json`` changes.  Needs the lexicon (``model_training.add_lexicon``
adds it), WordNet (Debian's ``wordnet-base``) and the word list (``wamerican``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Collection, Iterable, Mapping

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mark_identifiers import (bundle_arguments, corpus_files, count_files, counted,  # noqa: E402
                              dictionary_words, in_dictionary, load_with_lexicon, write_or_say)

from keyboard_app.engine.ranking import is_suggestable  # noqa: E402
from keyboard_app.engine.tokenizer import Tokenizer  # noqa: E402
from model_training.vocabulary import read_word_list  # noqa: E402

DEFAULT_WORDS = Path("/usr/share/dict/words")
CASUAL_SHARE = 0.75
RATIO = 10  # how much more often the word meant is written than the slip
DOUBLE_RATIO = 5  # ... where the slip leaves out one letter of a double ("roomate")
SHORT_RATIO = 1000  # ... for a slip of three letters ("teh": "fro" is a word, "lil" slang)
CASUAL_RATIO = 3  # and how much more often inside the casual files, where the slip was written
_VOWELS = "aeiou"
_LETTERS = "abcdefghijklmnopqrstuvwxyz'"
_SHAPE = re.compile(r"[a-z][a-z']{2,}")


def word_list(path: Path) -> frozenset[str]:
    """The words of a word list (one a line), lowercase."""
    return frozenset(read_word_list(path))


def one_slip_from(slip: str) -> Iterable[tuple[str, str]]:
    """The words ``slip`` may be one slip away from, and the slip's kind (module docstring)."""
    n = len(slip)
    for i in range(n - 1):
        if slip[i] != slip[i + 1]:
            yield slip[:i] + slip[i + 1] + slip[i] + slip[i + 2:], "swap"
    if n >= 5:
        for i in range(1, n):
            for letter in _LETTERS:
                kind = "double" if letter in (slip[i - 1], slip[i]) else "drop"
                yield slip[:i] + letter + slip[i:], kind
    if n >= 6:
        for i in range(1, n):
            if slip[i] in _VOWELS:
                for vowel in _VOWELS:
                    if vowel != slip[i]:
                        yield slip[:i] + vowel + slip[i + 1:], "vowel"


def candidates(words: Iterable[str], total: Mapping[str, int], in_casual: Mapping[str, int],
               dictionary: frozenset[str], casual_share: float = CASUAL_SHARE) -> Iterable[str]:
    """The words that may be slips: shaped like a word, the casual files' (``casual_share`` of
    their uses), and no dictionary's (module docstring)."""
    for word in words:
        seen = total.get(word, 0)
        if (seen and _SHAPE.fullmatch(word) and is_suggestable(word)
                and in_casual.get(word, 0) >= casual_share * seen and not in_dictionary(word, dictionary)):
            yield word


def mark(words: Collection[str], by_file: Mapping[str, Mapping[str, int]], casual: Collection[str],
         dictionary: frozenset[str], pairs: tuple[Mapping[tuple[str, str], int], Mapping[tuple[str, str], int]]
         | None = None, *, casual_share: float = CASUAL_SHARE, ratio: float = RATIO) -> dict[str, str]:
    """The slips among ``words`` (the bundle's vocabulary and lexicon tokens) and the word or
    words each means, from the corpus's per-file counts ``by_file`` (file stem -> token counts),
    the ``casual`` file stems and ``pairs``, the counts of two tokens in a row in all the files
    and in the casual ones (``count_pairs`` of those ``glue_candidates`` names; None: no glued
    words are marked).  The word meant must be the likelier in the casual files too, where the
    slip was written (``CASUAL_RATIO``): the books write "game play" and "never mind" far more
    often than the chat writes "gameplay" and "nevermind", but the chat itself does not."""
    total, in_casual = counted(by_file, casual)
    pairs, casual_pairs = pairs if pairs is not None else (None, {})
    known = set(words)

    def meant_by(word: str) -> str | None:
        n, in_chat = total[word], in_casual[word]
        best = None
        for meant, kind in one_slip_from(word):
            needed = SHORT_RATIO if len(word) == 3 else DOUBLE_RATIO if kind == "double" else ratio
            seen = total.get(meant, 0)
            if (meant != word and meant in known and seen >= needed * n
                    and in_casual.get(meant, 0) >= CASUAL_RATIO * in_chat and in_dictionary(meant, dictionary)
                    and (best is None or seen > total[best])):
                best = meant
        if best is None and pairs is not None:
            for first, second in _splits(word, known, dictionary):
                if pairs.get((first, second), 0) >= ratio * n and casual_pairs.get((first, second), 0) >= (
                        CASUAL_RATIO * in_chat):
                    return f"{first} {second}"
        return best

    found = {}
    for word in candidates(words, total, in_casual, dictionary, casual_share):
        meant = meant_by(word)
        if meant is not None:
            found[word] = meant
    return found


def _splits(word: str, known: Collection[str], dictionary: frozenset[str]) -> Iterable[tuple[str, str]]:
    """``word`` cut in two words the bundle has and a dictionary knows ("alot": "a", "lot")."""
    for i in range(1, len(word)):
        first, second = word[:i], word[i:]
        if (first in known and second in known and in_dictionary(second, dictionary)
                and (first == "a" or (len(first) > 1 and in_dictionary(first, dictionary)))):
            yield first, second


def glue_candidates(words: Collection[str], by_file: Mapping[str, Mapping[str, int]], casual: Collection[str],
                    dictionary: frozenset[str], casual_share: float = CASUAL_SHARE) -> set[tuple[str, str]]:
    """The pairs of tokens whose counts ``mark`` needs for the glued words (a second pass)."""
    total, in_casual = counted(by_file, casual)
    known = set(words)
    return {pair for word in candidates(words, total, in_casual, dictionary, casual_share)
            for pair in _splits(word, known, dictionary)}


def count_pairs(paths: Iterable[Path], tokenizer: Tokenizer, wanted: set[tuple[str, str]],
                casual: Collection[str] = ()) -> tuple[Counter, Counter]:
    """How often each pair of ``wanted`` is written, token after token, in the files, and in
    those of them that are ``casual`` (file stems)."""
    found: Counter = Counter()
    in_casual: Counter = Counter()
    if not wanted:
        return found, in_casual
    firsts = {first for first, _ in wanted}
    for path in paths:
        here = in_casual if Path(path).stem in casual else None
        with open(path, encoding="utf-8") as f:
            for line in f:
                tokens = tokenizer.tokenize(line)
                for a, b in zip(tokens, tokens[1:]):
                    if a in firsts and (a, b) in wanted:
                        found[(a, b)] += 1
                        if here is not None:
                            here[(a, b)] += 1
    return found, in_casual


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bundle_arguments(parser)
    parser.add_argument("--casual", default=None,
                        help="comma-separated file names (without .txt) of casual writing (default: those the "
                             "bundle's manifest records in lexicon.casual)")
    parser.add_argument("--words", type=Path, default=DEFAULT_WORDS,
                        help=f"a word list, one a line (default {DEFAULT_WORDS}, Debian's wamerican)")
    parser.add_argument("--casual-share", type=float, default=CASUAL_SHARE)
    parser.add_argument("--ratio", type=float, default=RATIO)
    args = parser.parse_args(argv)

    from keyboard_app.engine.bundle import MANIFEST

    files = corpus_files(parser, args)
    if not args.words.is_file():
        parser.error(f"{args.words} is no word list (install Debian's wamerican, or name one with --words)")
    bundle = load_with_lexicon(parser, args.bundle)
    try:
        manifest = json.loads((bundle.path / MANIFEST).read_text(encoding="utf-8"))
        casual = (tuple(manifest.get("lexicon", {}).get("casual", ())) if args.casual is None
                  else tuple(filter(None, args.casual.split(","))))
        if not casual:
            parser.error("name the casual files with --casual (the bundle's manifest records none)")
        corpus_files(parser, args, casual)
        tokenizer = Tokenizer(bundle.tokenizer_settings)
        by_file = count_files(files, tokenizer)
        dictionary = dictionary_words(args.dictionary) | word_list(args.words)
        words = [t for t in bundle.vocab.tokens] + list(bundle.lexicon.words)
        pairs = count_pairs(files, tokenizer, glue_candidates(words, by_file, casual, dictionary, args.casual_share),
                            casual)
        slips = mark(words, by_file, casual, dictionary, pairs, casual_share=args.casual_share, ratio=args.ratio)
        lexicon = bundle.lexicon
        lexicon.slips = slips
        dest = args.out or args.bundle
        write_or_say(parser, bundle, lexicon, dest)
    finally:
        bundle.close()
    for word in sorted(slips):
        print(f"  {word} -> {slips[word]}")
    print(f"{len(slips):,} words marked as slips; written to {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
