"""Typing in a large document: the GUI thread's cost per keystroke and the first suggestions.

    .venv/bin/python benchmarks/large_document.py [--model assets/models/default]
        [--small-kb 100] [--large-mb 31] [--keys 60] [--gap-ms 40] [--text FILE ...]

Builds two documents from the held-out texts (``corpus/heldout/*.txt``, or
``--text``), repeated in their own paragraphs to ``--small-kb`` kilobytes
and to ``--large-mb`` megabytes, and for each, in the real main window
(offscreen Qt, empty temporary user folders, the model ``--model``):

* opens the document as File > Open does (``MainWindow.open_document``: it
  is read, laid out by Qt, and the caret goes to its end) and prints the time
  from the call to its return (mostly Qt's own ``setPlainText``) and to the
  first suggestions shown for it;
* types ``--keys`` characters of a sentence at the end, one key event at a
  time (``QTest.keyClick``, then the events it posted), and prints the wall
  time and the GUI thread's CPU time each key took there: p50, p90 and max.
  Between keys the event loop runs ``--gap-ms`` untimed, as between a
  person's keystrokes (the worker's phrase search runs then).

A small document opened and typed into first, untimed, pays what a first
use costs (the typo channel's index, say).  The last line gives the large document's figures as ratios of the small
one's, measured in the same process: a keystroke whose cost does not depend
on the document's size gives a ratio near 1.  Figures are printed, never
asserted (docs/benchmarks have the measured ones).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENTENCE = "the quick brown fox jumps over the lazy dog and then it went home again. "


def build_document(texts: list[str], size: int) -> str:
    """The texts, joined by blank lines and repeated, cut at a paragraph to about ``size`` characters."""
    block = "\n\n".join(t.strip() for t in texts)
    copies = [block] * (size // (len(block) + 2) + 1)
    text = "\n\n".join(copies)[:size]
    cut = text.rfind("\n\n")
    return (text[:cut] if cut > 0 else text) + "\n\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(window, path: Path, keys: int, gap_ms: int) -> dict:
    """Open ``path`` in ``window`` and type at its end: the figures (seconds)."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    first: list[float] = []
    loop = QEventLoop()

    def shown(suggestions: list) -> None:  # (those for the start, shown while Qt lays the text out, are not)
        at_end = window.editor.textCursor().position() == window.editor.document().characterCount() - 1
        if suggestions and not first and at_end:
            first.append(time.perf_counter())
            loop.quit()

    window.controller.suggestions_changed.connect(shown)
    started = time.perf_counter()
    if not window.open_document(path):
        raise SystemExit(f"{path}: could not be opened")
    opened = time.perf_counter()
    if not first:
        QTimer.singleShot(120_000, loop.quit)
        loop.exec()
    window.controller.suggestions_changed.disconnect(shown)
    if not first:
        raise SystemExit(f"{path}: no suggestions within two minutes")
    QTest.qWait(300)  # the phrase for the first suggestions, and anything else the open left
    wall: list[float] = []
    cpu: list[float] = []
    editor = window.editor
    for ch in (SENTENCE * (keys // len(SENTENCE) + 1))[:keys]:
        t, c = time.perf_counter(), time.thread_time()
        QTest.keyClick(editor, ch)
        app.processEvents()
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - t)
        QTest.qWait(gap_ms)
    editor.document().setModified(False)
    return {"open": opened - started, "first": first[0] - started, "wall": wall, "cpu": cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "assets" / "models" / "default")
    parser.add_argument("--small-kb", type=int, default=100, help="size of the small document (kB)")
    parser.add_argument("--large-mb", type=float, default=31.0, help="size of the large document (MB)")
    parser.add_argument("--keys", type=int, default=60, help="characters typed into each")
    parser.add_argument("--gap-ms", type=int, default=40, help="untimed event loop between keys")
    parser.add_argument("--text", type=Path, nargs="*", help="texts to build the documents from")
    args = parser.parse_args(argv)
    texts = [p.read_text(encoding="utf-8") for p in (args.text or sorted((ROOT / "corpus" / "heldout").glob("*.txt")))]
    if not texts:
        parser.error("no texts to build the documents from (--text)")

    folder = Path(tempfile.mkdtemp(prefix="large-document-"))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[name] = str(folder / name.lower())
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from keyboard_app.ui.main_window import MainWindow

    window = MainWindow(model_path=args.model)
    window.resize(900, 600)
    window.show()
    if window.current_model is None:
        loop = QEventLoop()
        window.model_ready.connect(lambda _: loop.quit())
        window.model_failed.connect(lambda _: loop.quit())
        QTimer.singleShot(60_000, loop.quit)
        loop.exec()
    if window.current_model is None:
        raise SystemExit(f"{args.model}: the model did not load")

    rows = {}
    sizes = (("warm-up", 5000), ("small", args.small_kb * 1000), ("large", int(args.large_mb * 1_000_000)))
    for label, size in sizes:  # (the warm-up pays what the first use costs: the typo channel's index...)
        path = folder / f"{label}.txt"
        text = build_document(texts, size)
        path.write_text(text, encoding="utf-8")
        rows[label] = measure(window, path, args.keys, args.gap_ms)
        rows[label]["chars"] = len(text)
    window.editor.document().setModified(False)
    window.close()
    window.shutdown()
    app.processEvents()

    print(f"model {args.model}; {args.keys} keys typed at the end of each document; load "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'document':<10} {'characters':>12} {'open (s)':>9} {'first sugg. (s)':>16} "
          f"{'key p50':>8} {'p90':>7} {'max':>7} {'CPU p50':>8} {'p90':>7}  (ms)")
    figures = {}
    for label, row in rows.items():
        if label == "warm-up":
            continue
        wall, cpu = [1000 * v for v in row["wall"]], [1000 * v for v in row["cpu"]]
        figures[label] = (row["open"], row["first"], statistics.median(wall), percentile(wall, 0.9), max(wall),
                          statistics.median(cpu), percentile(cpu, 0.9))
        f = figures[label]
        print(f"{label:<10} {row['chars']:>12,} {f[0]:>9.2f} {f[1]:>16.2f} {f[2]:>8.2f} {f[3]:>7.2f} {f[4]:>7.2f} "
              f"{f[5]:>8.2f} {f[6]:>7.2f}")
    small, large = figures["small"], figures["large"]
    widths = (8, 15, 7, 6, 6, 7, 6)
    print(f"{'ratio':<10} {rows['large']['chars'] / rows['small']['chars']:>11.0f}x "
          + " ".join(f"{a / b if b else float('nan'):>{w}.2f}x" for a, b, w in zip(large, small, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
