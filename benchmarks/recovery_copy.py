"""Where the time of the copy for a crash goes (``Documents.write_recovery``), and what the GUI
thread still pays now that a thread of its own writes it (``documents.RecoveryWriter``)::

    .venv/bin/python benchmarks/recovery_copy.py [--sizes 5,20] [--repeat 5] [--dir /tmp]

For each size (MB of text in the editor; ASCII, then the same with a typographic apostrophe
in every line, which makes Python hold the text with two bytes a character and encode it
slower) it prints, in milliseconds (median and worst of ``--repeat``):

* the steps: taking the text from the editor (``toPlainText``), encoding it (UTF-8),
  writing it to a temporary file, its fsync, the rename and the folder's fsync;
* before: those steps as the app did them, on the GUI thread (``storage.atomic_write_text``
  of ``toPlainText``), which the GUI thread spent at each pause in typing;
* after: what ``write_recovery`` itself takes on the GUI thread (the text, handed to the
  writer), how long the writer then takes, and the longest the GUI thread's event loop went
  without running a 1 ms timer while the writer wrote (with the same idle for comparison):
  the hitch a user could feel.

Offscreen (no display needed); it writes only under a temporary folder in ``--dir`` (the
copies go where ``XDG_DATA_HOME`` says, set to that folder), removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LINE = "the quick brown fox jumps over the lazy dog\n"
LINE_WIDE = "the quick brown fox’s jumps over the lazy dog\n"


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:7.1f} (worst {max(seconds) * 1000:6.1f})"


def steps(editor, folder: Path, repeat: int) -> dict[str, list[float]]:
    """Each step of an atomic, fsynced write, timed on its own."""
    times: dict[str, list[float]] = {k: [] for k in ("toPlainText", "encode", "write", "fsync", "rename+dir")}
    target = folder / "steps.txt"
    for _ in range(repeat):
        t0 = time.perf_counter()
        text = editor.toPlainText()
        t1 = time.perf_counter()
        data = text.encode("utf-8")
        t2 = time.perf_counter()
        fd, temp = tempfile.mkstemp(prefix=".steps.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            t3 = time.perf_counter()
            os.fsync(f.fileno())
            t4 = time.perf_counter()
        os.replace(temp, target)
        dir_fd = os.open(folder, os.O_RDONLY)
        os.fsync(dir_fd)
        os.close(dir_fd)
        t5 = time.perf_counter()
        for key, spent in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            times[key].append(spent)
    return times


def before(editor, folder: Path, repeat: int) -> list[float]:
    """What the GUI thread spent per copy before: ``atomic_write_text(path, toPlainText())``."""
    from keyboard_app.storage import atomic_write_text

    spent = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        atomic_write_text(folder / "before.txt", editor.toPlainText())
        spent.append(time.perf_counter() - t0)
    return spent


def longest_gap(app, until) -> float:
    """The longest the event loop went between two runs of a 1 ms timer, until ``until()``."""
    from PySide6.QtCore import QEventLoop, QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]
    loop = QEventLoop()

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now
        if until():
            loop.quit()

    timer = QTimer(interval=1)
    timer.timeout.connect(tick)
    timer.start()
    loop.exec()
    timer.stop()
    return max(gaps) if gaps else 0.0


def after(app, documents, repeat: int) -> tuple[list[float], list[float], list[float], list[float]]:
    """``write_recovery`` on the GUI thread, the writer's time, the longest event-loop gap while
    it wrote, and the longest gap over as long with nothing written."""
    editor = documents.editor
    on_gui, writer, gaps, idle = [], [], [], []
    for i in range(repeat):
        editor.textCursor().insertText("x")  # a keystroke: the text changed (``_text_changed``)
        documents._recovery_pause.stop()
        t0 = time.perf_counter()
        documents.write_recovery()
        t1 = time.perf_counter()
        gaps.append(longest_gap(app, lambda: not documents._recovery_writer.busy()))
        t2 = time.perf_counter()
        assert documents.finish_recovery_writes(60), "the writer did not finish"
        on_gui.append(t1 - t0)
        writer.append(t2 - t1)
        end = time.perf_counter() + (t2 - t1)
        idle.append(longest_gap(app, lambda: time.perf_counter() >= end))
    return on_gui, writer, gaps, idle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5,20", help="MB of text, comma-separated (default 5,20)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the temporary folder goes")
    args = parser.parse_args(argv)
    try:
        sizes = [float(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes takes numbers of MB separated by commas, not {args.sizes!r}")
    work = Path(tempfile.mkdtemp(prefix="recovery-copy-", dir=args.dir))
    os.environ["XDG_DATA_HOME"] = str(work / "data")  # where the copies go (``paths``)
    try:
        run(sizes, args.repeat, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run(sizes: list[float], repeat: int, work: Path) -> None:
    from PySide6.QtWidgets import QApplication, QPlainTextEdit, QWidget

    from keyboard_app.settings import Settings
    from keyboard_app.ui.documents import Documents

    app = QApplication.instance() or QApplication([])
    print(f"copy for a crash, ms: median (worst) of {repeat}; folder {work} "
          f"({os.statvfs(work).f_bsize}-byte blocks)")
    for size in sizes:
        for line, kind in ((LINE, "ASCII"), (LINE_WIDE, "with ’")):
            text = line * int(size * 1_000_000 / len(line.encode("utf-8")))
            parent = QWidget()
            editor = QPlainTextEdit(parent)
            editor.setPlainText(text)
            editor.document().setModified(True)
            documents = Documents(editor=editor, settings=Settings(), save_settings=lambda: None,
                                  error=lambda title, said: print(title, said), parent=parent)
            mb = len(text.encode("utf-8")) / 1e6
            print(f"\n{mb:.1f} MB, {kind}")
            for step, spent in steps(editor, work, repeat).items():
                print(f"  step {step:<12} {ms(spent)}")
            print(f"  before: on the GUI thread       {ms(before(editor, work, repeat))}")
            on_gui, writer, gaps, idle = after(app, documents, repeat)
            print(f"  after:  on the GUI thread       {ms(on_gui)}")
            print(f"          the writer (off it)     {ms(writer)}")
            print(f"          longest event-loop gap  {ms(gaps)}  (idle: {ms(idle)})")
            documents.discard_recovery()
            editor.document().setModified(False)
            parent.deleteLater()
            app.processEvents()


if __name__ == "__main__":
    sys.exit(main())
