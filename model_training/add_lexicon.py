"""Give an existing bundle the lexicon and phrase tables of its corpus
(``lexicon.json``, ``phrases.npz``).

``keyboard-train`` writes both itself; this is for bundles trained before it
did, or to rebuild them::

    python -m model_training.add_lexicon BUNDLE CORPUS... [--out OUT] [--whole-corpus]

The corpus is counted exactly as training counts it (the same held-out part
left out, from the bundle's ``training.heldout_fraction`` and ``heldout_at``; with
``--whole-corpus``, every line, as the default model's were), and the new
bundle is written atomically and checked by the engine before it replaces
anything (``--out`` defaults to the bundle itself).  The identifier marks of
scripts/mark_identifiers.py and the slips of scripts/mark_slips.py are kept for the
words still there, and the
lexicon counts how often the words written with a capital are written in
small letters inside a sentence (``small_letters``); ``--casual chitchat`` names
files of casual writing (chat typed in small letters, with its slips): how they write a
word counts only for the words no other file writes, and the words only they have stay
out of the lexicon, but those a word list knows (``--known-words /usr/share/dict/words``,
Debian's ``wamerican``: "marshmallow", "homesick", "Pinocchio").  Nothing else changes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from keyboard_app.engine.bundle import ModelLoadError, load_bundle, write_bundle
from keyboard_app.engine.contract import LEXICON_FILE, PHRASES_FILE
from keyboard_app.engine.phrases import compress_file, is_compressed
from keyboard_app.engine.tokenizer import Tokenizer

from .config import HELDOUT_AT, TrainConfig
from .corpus import CorpusError, find_files, heldout_splits
from .export import phrases_entry
from .pipeline import MAX_HELDOUT_BYTES, corpus_phrases, phrase_bytes
from .streaming import SpilledPhrases
from .vocabulary import corpus_lexicon, count_corpus_tokens, is_casual, read_word_list

log = logging.getLogger(__name__)


def add_lexicon(bundle_path: Path, corpus: list[Path], out: Path, *, whole: bool = False,
                phrases_limit_mb: float | None = None, casual: tuple[str, ...] = (),
                known_words: Path | None = None) -> tuple[int, int]:
    """Write ``out``: the bundle with its corpus's lexicon and phrases;
    returns the number of lexicon words and of phrase entries.  ``whole``:
    count the validation lines that training held out too.  ``phrases_limit_mb``:
    the phrase tables cut to fit that many MB stored (keyboard-train's
    ``--phrases-limit``: the rarest entries go first), as the built-in model's
    are to keep the standalone program within its size.  ``casual``: the corpus files of casual
    writing (``vocabulary.count_corpus_tokens``); ``known_words``: a word list whose words the
    casual files alone have are kept all the same (``vocabulary.corpus_lexicon``)."""
    bundle = load_bundle(bundle_path)
    phrases = None
    try:
        manifest = dict(bundle.manifest)
        fraction = 0.0 if whole else manifest["training"].get("heldout_fraction", 0.02)
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 0.5:
            raise ModelLoadError(f"{bundle_path / 'manifest.json'}: 'training.heldout_fraction' is "
                                 f"{fraction!r}, not a fraction below 0.5.")
        at = manifest["training"].get("heldout_at", "end")  # (a bundle trained before it: the end)
        if at not in HELDOUT_AT:
            raise ModelLoadError(f"{bundle_path / 'manifest.json'}: 'training.heldout_at' is {at!r}, "
                                 "not \"end\" or \"start\".")
        files = find_files(corpus)
        unmatched = [name for name in casual if not any(is_casual(f.name, (name,)) for f in files)]
        if unmatched:
            raise CorpusError(f"no corpus file is named {', '.join(map(repr, unmatched))} (--casual names files "
                              f"of the corpus by name or stem: {', '.join(f.name for f in files[:8])}"
                              f"{', ...' if len(files) > 8 else ''}).")
        splits = heldout_splits(files, fraction, MAX_HELDOUT_BYTES, at)
        tokenizer = Tokenizer(bundle.tokenizer_settings)
        counts = count_corpus_tokens(files, splits, tokenizer, casual=casual)
        expected = manifest.get("corpus", {}).get("sha256")
        if expected and expected != counts.sha256:
            log.warning("this corpus is not the one the model was trained on (its hash differs)")
        known = read_word_list(known_words) if known_words is not None else None
        lexicon = corpus_lexicon(counts, bundle.vocab, known=known)
        kept_marks(bundle, lexicon)
        limit = {} if phrases_limit_mb is None else {
            "max_bytes": phrase_bytes(TrainConfig(phrases_limit_mb=phrases_limit_mb))}
        phrases, _ = corpus_phrases(files, splits, bundle.vocab, lexicon, tokenizer, **limit)
        if lexicon is None and phrases is None:
            raise CorpusError("the corpus has no word beyond the model's vocabulary and no phrase.")
        old_phrases = (manifest.get("phrases") or {}).get("file")
        was_compressed = bool(old_phrases) and is_compressed(bundle.path / old_phrases)
        with tempfile.TemporaryDirectory(prefix="keyboard-lexicon-") as tmp:
            # The user's phrase tables are numbered over the old lexicon: they go too.
            replaced = {LEXICON_FILE, PHRASES_FILE, (manifest.get("user_phrases") or {}).get("file")}
            names = [n for n in manifest["files"] if n not in replaced]
            files_in = {name: bundle.path / name for name in names}
            for part in ("lexicon", "phrases", "user_phrases"):
                manifest.pop(part, None)
            if lexicon is not None:
                lexicon.save(Path(tmp) / LEXICON_FILE)
                files_in[LEXICON_FILE] = Path(tmp) / LEXICON_FILE
                manifest["lexicon"] = {"file": LEXICON_FILE, "words": len(lexicon)}
                if casual:  # how it was counted (for the record; the engine does not read it)
                    manifest["lexicon"]["casual"] = sorted(casual)
                    if known_words is not None:
                        manifest["lexicon"]["casual_known_words"] = known_words.name
            if phrases is not None:
                phrases.save(Path(tmp) / PHRASES_FILE)
                if was_compressed:
                    compress_file(Path(tmp) / PHRASES_FILE)
                files_in[PHRASES_FILE] = Path(tmp) / PHRASES_FILE
                manifest["phrases"] = phrases_entry(phrases)

            def validate(folder: Path) -> None:
                from keyboard_app.engine.predictor import Predictor

                predictor = Predictor.load(folder)
                try:
                    predictor.suggest("the ", 3)
                finally:
                    predictor.close()

            write_bundle(out, manifest, files_in, validate)
        return len(lexicon or ()), len(phrases or ())
    finally:
        if isinstance(phrases, SpilledPhrases):
            phrases.close()
        bundle.close()


def kept_marks(bundle, lexicon) -> None:
    """Give ``lexicon`` (the corpus's, new) the bundle's identifier marks and slips of the words
    it still has: of the vocabulary, or of the new lexicon.  The marks were made from the corpus's
    manuals (scripts/mark_identifiers.py), which a new count of the same corpus does not
    change; a word the new count no longer has loses its mark with it."""
    old = bundle.lexicon.identifiers if bundle.lexicon is not None else frozenset()
    slips = bundle.lexicon.slips if bundle.lexicon is not None else {}
    if not old and not slips:
        return
    if lexicon is None:
        log.warning("%d identifier and %d slip marks dropped: the corpus has no word beyond the vocabulary, so "
                    "the bundle keeps no lexicon file to hold them", len(old), len(slips))
        return
    present = set(lexicon.words)
    lexicon.identifiers = frozenset(word for word in old if word in bundle.vocab or word in present)
    # (and its slips, scripts/mark_slips.py: made from the same corpus's casual files)
    lexicon.slips = {word: meant for word, meant in slips.items() if word in bundle.vocab or word in present}
    if len(lexicon.identifiers) < len(old) or len(lexicon.slips) < len(slips):
        log.info("%d of %d identifier marks and %d of %d slips kept (the other words are no longer in the corpus)",
                 len(lexicon.identifiers), len(old), len(lexicon.slips), len(slips))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_training.add_lexicon", description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("corpus", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, help="bundle folder to write (default: the bundle itself)")
    parser.add_argument("--whole-corpus", action="store_true",
                        help="count the lines training held out for validation too (as Presage's database "
                        "does); the manifest's engine metrics, measured on those lines, then flatter the model")
    parser.add_argument("--phrases-limit", type=float, metavar="MB",
                        help="cut the phrase tables to this many MB stored, the rarest entries first")
    parser.add_argument("--casual", metavar="NAMES", default="",
                        help="comma-separated corpus files (name or stem, e.g. chitchat) of casual writing, "
                        "such as chat typed in small letters and with its slips: how they write a word counts "
                        "only for words no other file writes, and the words only they have are left out of "
                        "the lexicon")
    parser.add_argument("--known-words", type=Path, metavar="FILE",
                        help="a word list, one word a line (Debian's wamerican: /usr/share/dict/words): the "
                        "words only the --casual files have that it lists are kept in the lexicon")
    args = parser.parse_args(argv)
    if args.known_words is not None and not args.casual:
        parser.error("--known-words keeps words only the --casual files have: name them with --casual")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        words, entries = add_lexicon(args.bundle, args.corpus, args.out or args.bundle, whole=args.whole_corpus,
                                     phrases_limit_mb=args.phrases_limit,
                                     casual=tuple(n.strip() for n in args.casual.split(",") if n.strip()),
                                     known_words=args.known_words)
    except ValueError as e:  # a limit TrainConfig refuses
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (ModelLoadError, CorpusError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{args.out or args.bundle}: lexicon of {words:,} words beyond the vocabulary, "
          f"{entries:,} word pairs and triples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
