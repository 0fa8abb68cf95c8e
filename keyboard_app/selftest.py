"""``keyboard-app --self-test``: prove that an installed or frozen copy predicts.

Loads the default model bundle (or ``--model PATH``), types a sentence into
the engine one keystroke at a time exactly as the editor would, and checks
what comes back: suggestions after every space, each a real word of the
model's vocabulary; completions that extend the letters typed; accepting a
suggestion puts the word and a space in.  It prints the figures (load time,
time to the first suggestion, per-keystroke latency) and exits 0, or prints
what failed and exits 1.

It imports no Qt itself (the engine has none; a frozen build's runtime hook
loads QtCore, but no application object is made), so it runs without a
display: on a CI machine, in a frozen build, or from a user's terminal for a
bug report.  Nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, TextIO

# Ordinary English that any general model has seen: boundaries after words
# and after punctuation, sentence starts, "I" and a contraction.
SENTENCE = (
    "Thank you for your message. I don't think we can meet at the station "
    "tomorrow morning, so we will talk about the plan next week. "
)
K = 3
# A suggestion shown to a user must look like a word: letters, with
# apostrophes only inside ("don't"), no digits, no markup.
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
# The training stack: the app must predict without it.
_FORBIDDEN_MODULES = ("torch", "onnx")


class SelfTestFailure(Exception):
    """A check failed; the message says which and with what."""


@dataclass
class Figures:
    load_s: float = 0.0
    first_suggestion_s: float = 0.0  # from the start of main() to the first suggestions
    first_suggestion_process_s: float | None = None  # from the process start (Linux only)
    in_word_ms: list[float] = field(default_factory=list)  # keystrokes inside a word
    boundary_ms: list[float] = field(default_factory=list)  # keystrokes that end a word
    words: int = 0
    predicted_before_typing: int = 0  # next word among the suggestions before its first letter
    completed: int = 0  # word among the completions before it was fully typed


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _process_age_s() -> float | None:
    """Seconds since this process started, where the OS tells (Linux /proc); else None."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _latency_line(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no keystrokes"
    return (
        f"{name}: median {statistics.median(values):.3f} ms, p95 {_percentile(values, 0.95):.3f} ms, "
        f"max {max(values):.3f} ms over {len(values)} keystrokes"
    )


def _check_suggestions(text: str, partial: str, suggestions: list, vocab, known, tokenizer) -> None:
    """The checks that hold for any model: real words (of its vocabulary, its lexicon or the
    text typed so far), and completions of the partial word."""
    for s in suggestions:
        if not _WORD.fullmatch(s.text):
            raise SelfTestFailure(f"after {text!r} the suggestion {s.text!r} is not a word.")
        if s.token.startswith("<"):
            raise SelfTestFailure(f"after {text!r} a special token ({s.token}) was suggested.")
        if s.token not in vocab and s.token not in known and s.token not in tokenizer.tokenize(text):
            raise SelfTestFailure(
                f"after {text!r} the suggestion {s.text!r} is neither a word the model "
                "knows nor one typed before."
            )
        if partial and not s.text.lower().startswith(partial.lower()):
            raise SelfTestFailure(
                f"after {text!r} the suggestion {s.text!r} does not complete {partial!r}."
            )
    if not partial and not suggestions:
        raise SelfTestFailure(f"no suggestions after {text!r}.")


def run(model: Path, *, threads: int = 1, sentence: str = SENTENCE,
        started: float | None = None) -> Figures:
    """Load ``model``, type ``sentence`` through the engine and check it; raise on failure."""
    started = time.perf_counter() if started is None else started
    from .engine.bundle import ModelLoadError
    from .engine.predictor import Predictor
    from .engine.tokenizer import Tokenizer

    figures = Figures()
    t0 = time.perf_counter()
    try:
        predictor = Predictor.load(model, threads=threads)
    except ModelLoadError as e:
        raise SelfTestFailure(f"the model does not load: {e}") from e
    figures.load_s = time.perf_counter() - t0
    vocab = predictor.bundle.vocab
    lexicon = set(predictor.bundle.lexicon.words) if predictor.bundle.lexicon is not None else set()
    tokenizer = Tokenizer(predictor.bundle.tokenizer_settings)

    offered: list[list[str]] = []  # at each offset, the suggestions shown (lowercased)
    for end in range(len(sentence) + 1):
        text = sentence[:end]
        t0 = time.perf_counter_ns()
        suggestions = predictor.suggest(text, k=K)
        elapsed_ms = (time.perf_counter_ns() - t0) / 1e6
        if end == 0:
            figures.first_suggestion_s = time.perf_counter() - started
            figures.first_suggestion_process_s = _process_age_s()
        partial = tokenizer.split_context(text).partial
        (figures.in_word_ms if partial else figures.boundary_ms).append(elapsed_ms)
        if len(suggestions) > K:
            raise SelfTestFailure(f"asked for {K} suggestions after {text!r}, got {len(suggestions)}.")
        _check_suggestions(text, partial, suggestions, vocab, lexicon, tokenizer)
        offered.append([s.text.lower() for s in suggestions])

    # A small keystroke-savings figure: was each word offered before its
    # first letter, or at least before its last one?
    for match in _WORD.finditer(sentence):
        word = match.group().lower()
        figures.words += 1
        figures.predicted_before_typing += word in offered[match.start()]
        figures.completed += any(word in offered[i] for i in range(match.start(), match.end()))

    # Accepting the first suggestion in the middle of a word must put the
    # whole word and one space in place of the letters typed.
    text = sentence.rstrip() + " " + sentence.split()[0][:2]
    suggestions = predictor.suggest(text, k=K)
    if suggestions:
        edit = predictor.accept(text, suggestions[0])
        result = text[: edit.start] + edit.replacement + text[edit.end:]
        if not result.endswith(suggestions[0].text + " "):
            raise SelfTestFailure(
                f"accepting {suggestions[0].text!r} after {text!r} gave {result[-40:]!r}."
            )
        if not predictor.suggest(result, k=K):
            raise SelfTestFailure(f"no suggestions after accepting {suggestions[0].text!r}.")

    loaded = sorted({m.split(".")[0] for m in sys.modules} & set(_FORBIDDEN_MODULES))
    if loaded:
        raise SelfTestFailure(f"the engine loaded {', '.join(loaded)}; it must run on onnxruntime alone.")
    return figures


def _report(out: TextIO, model: Path, figures: Figures) -> None:
    import onnxruntime

    frozen = "frozen (PyInstaller)" if getattr(sys, "frozen", False) else "from source"
    total = len(figures.in_word_ms) + len(figures.boundary_ms)
    print(f"model: {model}", file=out)
    print(f"running: {frozen}, Python {platform.python_version()}, "
          f"onnxruntime {onnxruntime.__version__}, {platform.system()} {platform.machine()}", file=out)
    print(f"load time: {figures.load_s * 1000:.1f} ms", file=out)
    since_process = figures.first_suggestion_process_s
    print(f"first suggestion: {figures.first_suggestion_s * 1000:.1f} ms after the self-test started"
          + (f", {since_process * 1000:.0f} ms after the process started" if since_process else ""),
          file=out)
    print(_latency_line("keystroke inside a word", figures.in_word_ms), file=out)
    print(_latency_line("keystroke after a word (space, punctuation)", figures.boundary_ms), file=out)
    print(f"words offered before their first letter: {figures.predicted_before_typing}/{figures.words}; "
          f"before their last: {figures.completed}/{figures.words}", file=out)
    print(f"Qt: {_qt_state()}; torch, onnx: not loaded", file=out)
    print(f"self-test passed ({total} keystrokes)", file=out)


def _qt_state() -> str:
    """What of Qt this process holds (a frozen build's runtime hook imports QtCore itself)."""
    core = sys.modules.get("PySide6.QtCore")
    if core is None:
        return "not loaded"
    if core.QCoreApplication.instance() is not None:
        return "an application object exists"
    return "QtCore loaded, no application object"


def _output() -> TextIO:
    """Where to print: stdout, or on a windowed Windows build the console that started it."""
    if sys.stdout is not None:
        return sys.stdout
    if sys.platform == "win32":  # console=False: no stdout unless we attach to the parent's console
        import ctypes

        if ctypes.windll.kernel32.AttachConsole(-1):  # ATTACH_PARENT_PROCESS
            return open("CONOUT$", "w", encoding="utf-8", errors="replace")
    return open(os.devnull, "w", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the self-test; 0 if every check passed, 1 otherwise."""
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="keyboard-app --self-test", description=__doc__.splitlines()[0])
    parser.add_argument("--self-test", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, default=None,
                        help="the model bundle (folder or .zip) to test (default: the built-in one)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    # The app's own options may be on the command line too; they do not concern us.
    args, _unknown = parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))

    out = _output()
    if args.model is None:
        from .paths import default_model_path

        args.model = default_model_path()
    try:
        figures = run(args.model, threads=args.threads, started=started)
    except SelfTestFailure as e:
        print(f"self-test FAILED: {e}", file=out)
        return 1
    except Exception as e:  # an engine bug must still end in a report, not a hang or a dialog
        traceback.print_exc(file=out)
        print(f"self-test FAILED: {type(e).__name__}: {e}", file=out)
        return 1
    _report(out, args.model, figures)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
