#!/usr/bin/env python3
"""Mark the code identifiers of a bundle's words (``lexicon.json``'s ``identifiers``).

    .venv/bin/python scripts/mark_identifiers.py BUNDLE CORPUS_DIR [--out DEST]
        [--documentation python_docs,postgresql_docs,...] [--dictionary /usr/share/wordnet]

Why: the default corpus holds four software manuals, and their prose names
functions, options and classes ("bytes.fromhex()", "the runserver command",
"a RunSQL operation").  Those names became words of the vocabulary or the
lexicon, so a person writing a letter who types "from" was offered
"fromhex", and "runs" "RunSQL".  The engine offers a marked word only in a
document that uses such words (``engine/identifiers.py``); this script makes
the marks, from the corpus the bundle was trained on.

A word is marked when all three hold (the thresholds were measured with
``benchmarks/completion_hygiene.py``; the model card has the figures):

* **from the documentation**: at least ``--share`` (95%) of its occurrences
  in CORPUS_DIR's ``*.txt`` are in the documentation files (``--documentation``,
  by default the corpus builder's ``TECH_SOURCES``);
* **shaped like code**: its written form has a capital right after a small
  letter ("RunSQL", "basicConfig"), or is four or more capitals ("EACCES"),
  or it is words glued together ("from" + "hex", "run" + "server",
  "from" + "file" + "date": up to four words of the vocabulary seen 20
  times or more, the last one may be a lexicon word seen 5 times) that the
  dictionary (WordNet's lemma lists, with plain English endings stripped)
  does not know, so that "database"-like compounds English has adopted stay
  unmarked;
* **not a frequent word of the vocabulary**: a vocabulary word seen
  ``--vocab-below`` (100) times or more in training is left to the network,
  which ranks it in context ("PostgreSQL", "LibreOffice").

The bundle is rewritten atomically (``bundle.write_bundle``): only
``lexicon.json`` changes (and its checksum in the manifest).  Needs the
lexicon (``model_training.add_lexicon`` adds it) and the dictionary
(Debian's ``wordnet-base``, which the corpus builder installs anyway).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Collection, Iterable, Mapping

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from keyboard_app.engine.lexicon import Lexicon  # noqa: E402
from keyboard_app.engine.ranking import is_suggestable  # noqa: E402
from keyboard_app.engine.tokenizer import Tokenizer  # noqa: E402

DEFAULT_DICTIONARY = Path("/usr/share/wordnet")
DOCUMENTATION_SHARE = 0.95
VOCAB_BELOW = 100
GLUE_MIN_COUNT = 20  # each part of a glued word: a vocabulary word seen this often
GLUE_MIN_LAST = 5  # ...or, for the last part, a lexicon word seen this often
GLUE_MAX_PARTS = 4
# Endings stripped before looking a word up in the dictionary (WordNet lists lemmas).
_ENDINGS = (("'s", ""), ("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("ed", "e"), ("d", ""),
            ("ing", ""), ("ing", "e"), ("er", ""), ("ers", ""), ("est", ""), ("ly", ""))


def documentation_sources() -> tuple[str, ...]:
    """The corpus builder's technical manuals (``scripts/build_corpus.py``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from build_corpus import TECH_SOURCES

    return tuple(TECH_SOURCES)


def count_files(paths: Iterable[Path], tokenizer: Tokenizer) -> dict[str, Counter]:
    """Each file's token counts (the model's own tokens), by file name without suffix."""
    counts = {}
    for path in paths:
        found: Counter = Counter()
        with open(path, encoding="utf-8") as f:
            for line in f:
                found.update(tokenizer.tokenize(line))
        counts[Path(path).stem] = found
    return counts


def dictionary_words(folder: Path) -> frozenset[str]:
    """WordNet's single-word lemmas and irregular forms, lowercase."""
    words = set()
    for part in ("noun", "verb", "adj", "adv"):
        with open(folder / f"index.{part}", encoding="latin-1") as f:
            words.update(line.split(" ", 1)[0] for line in f if not line.startswith(" "))
        exceptions = folder / f"{part}.exc"
        if exceptions.is_file():
            with open(exceptions, encoding="latin-1") as f:
                words.update(line.split(" ", 1)[0] for line in f if line.strip())
    return frozenset(w.lower() for w in words if "_" not in w)


def in_dictionary(word: str, dictionary: frozenset[str]) -> bool:
    word = word.lower()
    if word in dictionary:
        return True
    return any(word.endswith(ending) and word[: -len(ending)] + stem in dictionary for ending, stem in _ENDINGS)


def glued(word: str, counts: Mapping[str, int], last: Mapping[str, int] | None = None, *,
          parts: int = GLUE_MAX_PARTS) -> bool:
    """Whether ``word`` is up to ``parts`` words written together, each of two letters or
    more: words of ``counts`` seen ``GLUE_MIN_COUNT`` times, the last one possibly a word
    of ``last`` seen ``GLUE_MIN_LAST`` times ("fromhex", "runserver", "fromfiledate")."""
    if not word.isalpha() or parts < 2:
        return False
    for i in range(2, len(word) - 1):
        if counts.get(word[:i], 0) >= GLUE_MIN_COUNT:
            rest = word[i:]
            if (counts.get(rest, 0) >= GLUE_MIN_COUNT or (last is not None and last.get(rest, 0) >= GLUE_MIN_LAST)
                    or glued(rest, counts, last, parts=parts - 1)):
                return True
    return False


def code_shaped(written: str, token: str, counts: Mapping[str, int], dictionary: frozenset[str],
                last: Mapping[str, int] | None = None) -> bool:
    """camelCase, a constant in capitals, or glued words no dictionary knows (module docstring)."""
    if any(a.islower() and b.isupper() for a, b in zip(written, written[1:])):
        return True
    if len(written) >= 4 and written.isalpha() and written.isupper():
        return True
    return glued(token, counts, last) and not in_dictionary(token, dictionary)


def counted(by_file: Mapping[str, Mapping[str, int]], some: Collection[str]) -> tuple[Counter, Counter]:
    """Each token's count in all the files (``count_files``), and in ``some`` of them (file stems)."""
    total: Counter = Counter()
    in_some: Counter = Counter()
    for name, counts in by_file.items():
        total.update(counts)
        if name in some:
            in_some.update(counts)
    return total, in_some


def mark(vocab, lexicon: Lexicon, by_file: Mapping[str, Counter], documentation: Iterable[str],
         dictionary: frozenset[str], *, share: float = DOCUMENTATION_SHARE,
         vocab_below: int = VOCAB_BELOW) -> frozenset[str]:
    """The tokens of ``vocab`` and ``lexicon`` to mark (module docstring)."""
    total, in_docs = counted(by_file, set(documentation))
    vocab_counts = {t: c for t, c in zip(vocab.tokens, vocab.counts) if is_suggestable(t)}
    lexicon_counts = dict(zip(lexicon.words, lexicon.counts))

    def marked(token: str, written: str) -> bool:
        seen = total.get(token, 0)
        return (seen > 0 and in_docs.get(token, 0) >= share * seen
                and code_shaped(written, token, vocab_counts, dictionary, lexicon_counts))

    found = {t for t, written, c in zip(vocab.tokens, vocab.display, vocab.counts)
             if is_suggestable(t) and c < vocab_below and marked(t, written)}
    found.update(w for w, written in zip(lexicon.words, lexicon.display) if marked(w, written))
    return frozenset(found)


def write_lexicon(bundle, lexicon: Lexicon, dest: Path) -> None:
    """Write ``bundle`` (loaded) to ``dest`` (its own folder or another) with ``lexicon`` in
    place of its lexicon, atomically (``bundle.write_bundle``): only ``lexicon.json`` and its
    checksum in the manifest change."""
    from keyboard_app.engine.bundle import MANIFEST, write_bundle

    manifest = json.loads((bundle.path / MANIFEST).read_text(encoding="utf-8"))
    name = manifest["lexicon"]["file"]
    with tempfile.TemporaryDirectory(prefix="lexicon-") as tmp:
        lexicon.save(Path(tmp) / name)
        bundle_files = {n: bundle.path / n for n in manifest["files"]}
        bundle_files[name] = Path(tmp) / name
        same = dest.resolve() == bundle.path.resolve()
        write_bundle(dest, manifest, bundle_files, inputs=[] if same else [bundle.path])


def write_or_say(parser: argparse.ArgumentParser, bundle, lexicon: Lexicon, dest: Path) -> None:
    """``write_lexicon``, or one sentence and exit 2 where it cannot (``dest`` a folder of the
    user's own files, a full disk), never a traceback."""
    from keyboard_app.engine.bundle import ModelLoadError
    from keyboard_app.engine.staging import DestinationError

    try:
        write_lexicon(bundle, lexicon, dest)
    except (DestinationError, ModelLoadError) as e:
        parser.error(str(e))
    except OSError as e:
        parser.error(f"{dest}: {e.strerror or e}; nothing was replaced.")


def bundle_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every marking script takes: the bundle, its corpus, --out, --dictionary."""
    parser.add_argument("bundle", type=Path)
    parser.add_argument("corpus", type=Path, help="the folder of the training texts (*.txt), e.g. corpus/train")
    parser.add_argument("--out", type=Path, default=None, help="where to write the bundle (default: over BUNDLE)")
    parser.add_argument("--dictionary", type=Path, default=DEFAULT_DICTIONARY,
                        help=f"WordNet's dict folder (default {DEFAULT_DICTIONARY}, Debian's wordnet-base)")


def corpus_files(parser: argparse.ArgumentParser, args: argparse.Namespace, names: Iterable[str] = ()) -> list[Path]:
    """The corpus's ``*.txt``, once WordNet and the files ``names`` (stems) are found there; an
    error of one sentence (``parser.error``) otherwise."""
    files = sorted(args.corpus.glob("*.txt")) if args.corpus.is_dir() else []
    if not files:
        parser.error(f"{args.corpus} is not a folder of .txt files")
    if not (args.dictionary / "index.noun").is_file():
        parser.error(f"{args.dictionary} holds no WordNet index (install Debian's wordnet-base, "
                     "or name its folder with --dictionary)")
    missing = [name for name in names if not (args.corpus / f"{name}.txt").is_file()]
    if missing:
        parser.error(f"{args.corpus} has no {', '.join(n + '.txt' for n in missing)}")
    return files


def load_with_lexicon(parser: argparse.ArgumentParser, path: Path):
    """The bundle at ``path``, which must have a lexicon; an error of one sentence otherwise."""
    from keyboard_app.engine.bundle import ModelLoadError, load_bundle

    try:
        bundle = load_bundle(path)
    except ModelLoadError as e:
        parser.error(str(e))
    if bundle.lexicon is None:
        bundle.close()
        parser.error(f"{path} has no lexicon (python -m model_training.add_lexicon adds one)")
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bundle_arguments(parser)
    parser.add_argument("--documentation", default=None,
                        help="comma-separated file names (without .txt) that are documentation "
                             "(default: scripts/build_corpus.py's TECH_SOURCES)")
    parser.add_argument("--share", type=float, default=DOCUMENTATION_SHARE)
    parser.add_argument("--vocab-below", type=int, default=VOCAB_BELOW)
    args = parser.parse_args(argv)

    documentation = (documentation_sources() if args.documentation is None
                     else tuple(filter(None, args.documentation.split(","))))
    files = corpus_files(parser, args, documentation)
    bundle = load_with_lexicon(parser, args.bundle)
    try:
        tokenizer = Tokenizer(bundle.tokenizer_settings)
        by_file = count_files(files, tokenizer)
        marks = mark(bundle.vocab, bundle.lexicon, by_file, documentation, dictionary_words(args.dictionary),
                     share=args.share, vocab_below=args.vocab_below)
        lexicon = bundle.lexicon
        lexicon.identifiers = marks
        dest = args.out or args.bundle
        write_or_say(parser, bundle, lexicon, dest)
    finally:
        bundle.close()
    in_vocab = sorted(w for w in marks if w in bundle.vocab)
    print(f"{len(marks):,} words marked as identifiers ({len(in_vocab):,} of the vocabulary, "
          f"{len(marks) - len(in_vocab):,} of the lexicon's {len(lexicon):,}); written to {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
