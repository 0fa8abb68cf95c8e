"""Command-line entry points of the engine: ``keyboard-suggest`` and ``keyboard-eval``.

    keyboard-suggest BUNDLE "text before the cursor" [-k 3] [--json]
    keyboard-eval BUNDLE TEXT... [--max-words N] [--phrases] [--json]

Bad input (a missing or corrupt bundle, a missing or non-UTF-8 text) gives
one sentence on stderr and exit status 2, never a traceback.  Something else
given for the bundle (a training checkpoint or a run's work folder, a corpus, a
text, the model and the text swapped) is named for what it is, with what to
pass instead (``not_a_bundle``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Sequence

EXIT_USAGE = 2
# The commands' own folder of stored phrase-table copies, inside the app's: the copies are
# evicted per folder (``phrases.KEPT_COPIES``), so scripts scoring other models never push
# out the copy of the model the app starts with.
COMMAND_COPIES = "commands"


class _Failure(Exception):
    """One sentence for the user; exit status 2."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:  # (argparse would say "invalid _positive value")
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _threads(text: str) -> int:
    value = _positive(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_THREADS}, not {value}")
    return value


def phrase_copies() -> Path:
    """Where the commands keep stored copies of compressed phrase tables: a folder of their
    own in the app's (``paths.phrase_cache_dir() / COMMAND_COPIES``)."""
    from .. import paths  # the user's folders only (platformdirs): no Qt, nothing of the app's UI

    return paths.phrase_cache_dir() / COMMAND_COPIES


def _load(path: str, threads: int, network_only: bool = False, *, usage: str):
    """The bundle's predictor.  Compressed phrase tables are read from a stored copy in the
    user's cache folder (``phrase_copies``), written by the first call on that file: without
    it every call would inflate them again (issue 17).  The files' checksums confirmed
    before are remembered there too, as the app does (``checksum_memo``)."""
    from ..checksum_memo import ChecksumMemo
    from .bundle import ModelLoadError, load_bundle
    from .predictor import PhraseSettings, Predictor, RecencySettings

    off = dict(recency=RecencySettings.off(), phrases=PhraseSettings.off(),
               user_phrases=PhraseSettings.off()) if network_only else {}
    try:
        memo = ChecksumMemo()  # the files' checksums confirmed by earlier calls, as the app does
        bundle = load_bundle(path, phrase_cache=phrase_copies(), checksums=memo)
        memo.save()
        try:
            return Predictor(bundle, threads=threads, **off)
        except BaseException:
            bundle.close()
            raise
    except ModelLoadError as e:
        raise _Failure(not_a_bundle(path, e, usage)) from e
    except (ValueError, OSError, MemoryError, RecursionError) as e:
        # Loading checks every file and turns its problems into ModelLoadError;
        # should one slip through, the user still gets a sentence naming the bundle.
        raise _Failure(f"{path}: the model bundle cannot be used ({type(e).__name__}: {e}).") from e


#: What to pass instead of something that is not a model bundle.
PASS_BUNDLE = "pass the folder keyboard-train wrote with --out"
#: How many files of a folder given as the model are looked at to tell a corpus (``not_a_bundle``).
LOOKED_AT_FILES = 50


def not_a_bundle(path: str, error, usage: str) -> str:
    """``error``'s sentence (a ``ModelLoadError`` of ``path``), and where ``path`` is something
    a newcomer passes for a model, a training checkpoint or work folder, a text or a folder of
    them, what it is and what to pass instead (``usage``: the command's own order of its
    arguments, for a text given first)."""
    from .. import paths
    from .bundle import MANIFEST, TrainingFilesError

    if isinstance(error, TrainingFilesError):
        return _training_files_sentence(error)
    given = Path(path)
    if given.is_file() and _is_text(given):
        return f"{path}: not a model bundle but a text file: {usage}."
    if (given.is_dir() and not _says_bundle(given / MANIFEST) and not _bundle_files(given)
            and _holds_text(given)):
        return (f"{path} is a folder of text (a corpus?), not a model bundle: {PASS_BUNDLE}, "
                f"or the built-in model ({_shown(paths.default_model_path())}).")
    return str(error)


def _says_bundle(manifest: Path) -> bool:
    """Whether ``manifest`` is (or may be, damaged) a bundle's: not when there is none, nor when
    it is some other program's JSON (a corpus's own manifest.json)."""
    from . import jsonfile
    from .contract import BUNDLE_FORMAT

    if not manifest.exists():
        return False
    try:
        data = jsonfile.load(manifest, max_bytes=1 << 20)
    except (OSError, jsonfile.JSONFileError):
        return True  # unreadable or damaged: the load's own sentence says so
    return isinstance(data, dict) and data.get("format") == BUNDLE_FORMAT


def _bundle_files(folder: Path) -> bool:
    """Whether ``folder`` holds a bundle's own files (its manifest lost, say): the load's
    sentence ("manifest.json is missing") says more than "a folder of text" would."""
    from .contract import ONNX_FILE, VOCAB_FILE

    return (folder / ONNX_FILE).exists() or (folder / VOCAB_FILE).exists()


def _training_files_sentence(error) -> str:
    """A checkpoint or a work folder: the bundle of the same run, where its name tells it."""
    from .bundle import MANIFEST

    start = f"{error.source} is {error.what}, not a model bundle"
    if error.bundle is None:
        return f"{start}: {PASS_BUNDLE}."
    if (error.bundle / MANIFEST).is_file():
        return f"{start}: {PASS_BUNDLE} ({error.bundle})."
    return (f"{start}: keyboard-train writes the bundle to its --out folder ({error.bundle}) once the run "
            "is done (a stopped run continues with --resume).")


def _is_text(path: Path) -> bool:
    """The start of the file reads as text, as the editor reads it (not a zip, not binary)."""
    from ..text_encoding import SNIFF_BYTES, NotTextError, decode

    try:
        with open(path, "rb") as f:
            decode(f.read(SNIFF_BYTES))
    except (OSError, NotTextError):
        return False
    return True


def _holds_text(folder: Path) -> bool:
    """One of the first ``LOOKED_AT_FILES`` files in ``folder`` (and its subfolders) is text."""
    looked = 0
    for root, _dirs, files in os.walk(folder):
        for name in sorted(files):
            file = Path(root) / name
            if file.is_file() and _is_text(file):  # (never a pipe: opened, it would wait for a writer)
                return True
            looked += 1
            if looked >= LOOKED_AT_FILES:
                return False
    return False


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it lies inside it, else whole."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


JOB_WORDS = 2000  # keyboard-eval's default: one process per this many words (starting one takes ~1 s)
MAX_TEXT_BYTES = 256 * 1024**2  # a held-out text of 40M words: far more than is ever scored
MAX_THREADS = 64


def _read_texts(path: str) -> list[str]:
    """The texts of one file: a held-out file the trainer wrote (``--write-heldout``) gives
    its texts; any other file is one text, read as the editor reads it (UTF-8, UTF-16 with a
    byte-order mark, else Latin-1: said on stderr)."""
    from ..heldout import HeldoutError, read_heldout
    from ..text_encoding import NotTextError, decode
    from .contract import MANIFEST

    try:
        info = Path(path).stat()
        if stat.S_ISDIR(info.st_mode) and _says_bundle(Path(path) / MANIFEST):  # (not a corpus's own)
            raise _Failure(f"{path} is a model bundle, not a text: {EVAL_USAGE}.")
        if not stat.S_ISREG(info.st_mode):
            raise _Failure(f"{path}: not a regular file (a folder, a pipe or a device).")
        if info.st_size > MAX_TEXT_BYTES:
            raise _Failure(f"{path}: {info.st_size / 1e6:,.0f} MB is more text than keyboard-eval reads "
                           f"(at most {MAX_TEXT_BYTES / 1e6:,.0f} MB); cut it, --max-words scores a part anyway.")
        data = Path(path).read_bytes()
        if data.lstrip()[:1] == b"{":
            try:
                return read_heldout(path)  # (its JSON scored as prose counted braces and keys)
            except HeldoutError:
                pass  # some other JSON: scored as the text it is
        text, encoding = decode(data)
        if encoding not in ("utf-8", "utf-8-sig"):
            print(f"keyboard-eval: {path} is not UTF-8: read as {encoding}.", file=sys.stderr)
        return [text]
    except FileNotFoundError as e:
        raise _Failure(f"{path}: no such file.") from e
    except NotTextError as e:
        raise _Failure(f"{path} {e}.") from e
    except MemoryError as e:
        raise _Failure(f"{path}: too large to read into memory.") from e
    except OSError as e:
        raise _Failure(f"{path}: cannot be read ({e.strerror or e}).") from e


def _run(prog: str, main, argv: Sequence[str] | None) -> int:
    from .. import blas_threads

    blas_threads.limit()  # before numpy is imported; not at import (``blas_threads``)
    logging.basicConfig(level=logging.WARNING, format=f"{prog}: %(message)s")
    try:
        return main(argv)
    except _Failure as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (``| head``): nothing to say to it
        _silence_stdout()
        return 1
    except OSError as e:  # writing the output failed (a full disk behind ``> file``)
        _silence_stdout()
        print(f"{prog}: error: the output could not be written ({e.strerror or e}).", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


# -- keyboard-suggest ---------------------------------------------------------

SUGGEST_USAGE = f'{PASS_BUNDLE}, then the text before the cursor (keyboard-suggest MODEL "see you tom")'


def _suggest(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="keyboard-suggest",
        description="Print the suggestions for a text (the text before the cursor).",
    )
    parser.add_argument("bundle", help="model bundle: a folder or a .zip")
    parser.add_argument("text", help='the text before the cursor, e.g. "see you tom"')
    parser.add_argument("-k", type=_positive, default=3, help="number of suggestions (default 3)")
    parser.add_argument("--threads", type=_threads, default=1, help=f"inference threads (default 1, at most {MAX_THREADS})")
    parser.add_argument("--no-corrections", action="store_true",
                        help="completions only: no corrections of typing slips (the app offers them by default)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    predictor = _load(args.bundle, args.threads, usage=SUGGEST_USAGE)
    predictor.typo_tolerance = not args.no_corrections  # as the app's strip ("alot" -> "a lot")
    try:
        suggestions = predictor.suggest(args.text, args.k)
    finally:
        predictor.close()
    if args.json:
        print(json.dumps([s.__dict__ for s in suggestions], ensure_ascii=False))
    elif not suggestions:
        print("(no suggestions)")
    else:
        width = max(len(s.text) for s in suggestions)
        for s in suggestions:
            kind = s.kind if s.kind != "word" else "completion" if s.is_completion else "next word"
            print(f"{s.text:<{width}}  {s.log_prob:8.3f}  {kind}")
    return 0


def suggest_main(argv: Sequence[str] | None = None) -> int:
    return _run("keyboard-suggest", _suggest, argv)


# -- keyboard-eval --------------------------------------------------------------

EVAL_USAGE = "give the model first, then the texts to score (keyboard-eval MODEL TEXT...)"


def _eval(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="keyboard-eval",
        description="Perplexity, next-word top-1/3/5 and keystroke savings (KSR at k=1,3,5) "
        "of a model on texts it did not see, typed through the engine "
        "(definitions: docs/EVALUATION.md).",
    )
    parser.add_argument("bundle", help="model bundle: a folder or a .zip")
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="text file(s), each a document (UTF-8; UTF-16 with a byte-order mark "
                        "and Latin-1 are read as the editor reads them), or a held-out file keyboard-train "
                        "wrote (--write-heldout): its texts")
    parser.add_argument("--max-words", type=_positive, default=None, help="score at most this many words")
    parser.add_argument("--threads", type=_threads, default=1, help=f"inference threads (default 1, at most {MAX_THREADS})")
    parser.add_argument("--jobs", type=_threads, default=None,
                        help="processes typing the words at once (default: one per 2,000 words scored, "
                             "at most one per core and 4); the figures are the same whatever the number")
    parser.add_argument("--network-only", action="store_true",
                        help="without the document cache and the phrase tables (the network and the lexicon alone)")
    parser.add_argument("--phrases", action="store_true",
                        help="also KSR with phrase suggestions in the strip (the next few words in one slot), "
                             "beside the KSR without them, from the same simulation")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    texts = [text for path in args.texts for text in _read_texts(path)]
    predictor = _load(args.bundle, args.threads, args.network_only, usage=EVAL_USAGE)
    from .evaluate import evaluate

    progress = None
    if not args.json and sys.stderr.isatty():
        def progress(done: int, total: int) -> None:
            print(f"\r{done:,}/{total:,} words", end="", file=sys.stderr, flush=True)

    jobs = args.jobs
    if jobs is None:
        words = sum(len(text.split()) for text in texts)  # about the words scored
        if args.max_words is not None:
            words = min(words, args.max_words)
        jobs = max(1, min(os.cpu_count() or 1, 4, words // JOB_WORDS))
    try:
        report = evaluate(predictor, texts, max_words=args.max_words, progress=progress, jobs=jobs,
                          phrases=args.phrases)
    finally:
        predictor.close()
    if progress is not None:
        print(file=sys.stderr)
    if args.json:
        out = {"bundle": args.bundle, "name": predictor.bundle.name, "texts": args.texts,
               "document_cache": not args.network_only, "phrases": not args.network_only,
               **report.to_dict()}
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"model        {predictor.bundle.name} ({args.bundle})")
        print(f"text         {', '.join(args.texts)}")
        if args.network_only:
            print("             (network and lexicon alone: no document cache, no phrase tables)")
        if args.phrases:
            print("             (with phrases: the same words typed with phrase suggestions in the strip too; "
                  "docs/EVALUATION.md)")
        print(report.format_table())
        note = vocabulary_note(len(predictor.bundle.vocab))
        if note:
            print(note)
    if report.words == 0:
        print("keyboard-eval: warning: the texts hold no words to score", file=sys.stderr)
    return 0


def vocabulary_note(vocab_size: int, reference: Path | None = None) -> str:
    """One line when the model's vocabulary differs in size from the built-in model's
    (``reference``; the one people compare a model of their own with), as the app's
    retrain result says it: a word outside the vocabulary is scored as ``<unk>``, so a
    smaller vocabulary lowers perplexity without predicting better, and two such
    perplexities set side by side mislead.  Empty when the sizes agree, or when the
    built-in model's manifest cannot be read (nothing to compare with)."""
    from . import jsonfile

    if reference is None:
        from .. import paths

        reference = paths.default_model_path()
    try:
        size = jsonfile.load(Path(reference) / "manifest.json")["vocab"]["size"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if not isinstance(size, int) or isinstance(size, bool) or size == vocab_size:
        return ""
    return (f"note          this model's vocabulary has {vocab_size:,} tokens, the built-in model's {size:,}: "
            "their perplexities are not comparable (a smaller vocabulary scores lower); "
            "compare the keystroke savings (KSR).")


def eval_main(argv: Sequence[str] | None = None) -> int:
    return _run("keyboard-eval", _eval, argv)


if __name__ == "__main__":  # python -m keyboard_app.engine.cli eval|suggest ...
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    mains = {"suggest": suggest_main, "eval": eval_main}
    if command not in mains:
        print("usage: python -m keyboard_app.engine.cli {suggest,eval} ...", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    sys.exit(mains[command](rest))
