"""Key activations and scan steps to type a text on the on-screen keyboard, and its latency.

    .venv/bin/python benchmarks/osk_keystrokes.py [BUNDLE] [--text FILE] [--words 500]
        [--slots 4] [--json]

Drives the real keyboard widget offscreen (``OnScreenKeyboard`` over the
app's ``PredictorWorker``, typing into a ``RecordingInjector``) to type the
first ``--words`` words of a held-out text, four times:

* pointer, without suggestions: a key per character, plus Shift before a
  capital or a shifted character;
* pointer, with suggestions: the same, but whenever the suggestion row holds
  the word being typed (or the next word, before its first letter) exactly
  as the text writes it, it is clicked instead.  Taken only where the space
  it adds is right (the text goes on with a space or with punctuation that
  replaces it), so the target's text must come out exactly the text;
* two-switch row-column scanning, without and with suggestions (the same
  choices), pressing the switches on the widget: the scan steps (highlight
  moves; with one switch each is a wait of one interval) and selects.

It also times, for every activation of the run with suggestions, the
activation until the suggestion row holds the new suggestions (the press
returns after that) and until the event loop has run (the row painted):
p50 / p99, for all activations, those that ran no network (keys inside a
word) and those that did (word boundaries, suggestions taken).

``--x11 N`` also measures, under Xvfb and openbox, a suggestion click until
its text is in another process's text field (tests/osk/target_app.py), with
the real injection (XTest): N clicks of the first suggestion, from the moment
the keyboard handles the click to the target's last text change
(both processes read ``time.monotonic()``, one clock on Linux).

The text's whitespace is typed as single spaces; typographic quotes and
dashes become their ASCII forms; characters the layout lacks are left out
(their number is printed).  BUNDLE defaults to ``assets/models/default``;
``--text`` to ``corpus/heldout/austen.txt`` (text the default model never
trained on), else ``SAMPLE`` below.  Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SAMPLE = (
    "It was a bright cold day in April, and the clocks were striking thirteen. The hallway smelt "
    "of boiled cabbage and old rag mats. At one end of it a coloured poster, too large for indoor "
    "display, had been tacked to the wall. It depicted simply an enormous face, more than a metre "
    "wide: the face of a man of about forty-five, with a heavy black moustache and ruggedly "
    "handsome features. Winston made for the stairs. It was no use trying the lift. Even at the "
    "best of times it was seldom working, and at present the electric current was cut off during "
    "daylight hours. It was part of the economy drive in preparation for Hate Week. "
) * 20
NORMALIZE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "—": "-", "–": "-", "…": "."})
WORD_CHARS = re.compile(r"[\w'’]")
SPACE_EATERS = ".,!?;:"


def held_out_text(path: Path | None, words: int, layout) -> tuple[str, int]:
    """The first ``words`` words, normalised for the layout; and how many characters were left out."""
    if path is None:
        default = ROOT / "corpus" / "heldout" / "austen.txt"
        raw = default.read_text(encoding="utf-8") if default.is_file() else SAMPLE
    else:
        raw = path.read_text(encoding="utf-8")
    text = " ".join(raw.translate(NORMALIZE).split()[:words])
    kept = [c for c in text if c == " " or layout.find_char(c) is not None]
    return "".join(kept), len(text) - len(kept)


@dataclass
class Run:
    name: str
    activations: int = 0
    accepts: int = 0
    scan_steps: int = 0
    scan_selects: int = 0
    row_ms: list[float] = field(default_factory=list)  # activation -> row updated
    painted_ms: list[float] = field(default_factory=list)  # activation -> event loop ran
    no_network: list[bool] = field(default_factory=list)  # the activation ran no network


def word_at(text: str, i: int) -> tuple[int, int]:
    """(start, end) of the word the cursor at ``i`` is in or before (end == start: none)."""
    start = i
    while start > 0 and WORD_CHARS.match(text[start - 1]):
        start -= 1
    end = i
    while end < len(text) and WORD_CHARS.match(text[end]):
        end += 1
    return start, end


def type_text(keyboard, app, text: str, *, suggestions: bool, scanning: bool, timed: bool) -> Run:
    from PySide6.QtWidgets import QApplication  # noqa: F401 - the app exists already

    layout = keyboard.layout_data
    controller = keyboard.controller
    controller.focus_changed()  # a sentence start, an empty target
    keyboard.controller.injector.text = ""
    controller.stats.__init__()
    keyboard.update_settings(access="scan" if scanning else "pointer", scan_switches=2)
    scanner = keyboard.scanner
    run = Run(("scan" if scanning else "pointer") + (" + suggestions" if suggestions else ""))
    space = layout.find_action("space")
    shift = layout.find_action("shift")

    def activate(group: int, item: int) -> None:
        """Press (group 0: a suggestion, else a key of row group - 1), by the pointer or the switches."""
        states = controller.worker.predictor.states
        runs_before = states.runs
        started = time.perf_counter()
        if scanning:
            while scanner.highlight.group != group or scanner.highlight.item is not None:
                keyboard.switch(0)
            keyboard.switch(1)
            while scanner.highlight.item != item:
                keyboard.switch(0)
            keyboard.switch(1)
        elif group == 0:
            keyboard.press_suggestion(item)
        else:
            keyboard.press_key(group - 1, item)
        if timed:
            updated = time.perf_counter()
            app.processEvents()
            run.row_ms.append((updated - started) * 1000)
            run.painted_ms.append((time.perf_counter() - started) * 1000)
            run.no_network.append(states.runs == runs_before)

    i = 0
    while i < len(text):
        if suggestions:
            start, end = word_at(text, i)
            after = text[end:end + 1]
            if end > i and (after in ("", " ") or after in SPACE_EATERS):
                word = text[start:end]
                shown = [s.text for s in controller.suggestions[:keyboard.settings.suggestion_slots]]
                if word in shown and controller.context.text.endswith(text[start:i]):
                    activate(0, shown.index(word))
                    run.accepts += 1
                    i = end + (1 if after == " " else 0)
                    continue
        char = text[i]
        if char == " ":
            activate(space[0] + 1, space[1])
        else:
            row, column, shifted = layout.find_char(char)
            if shifted:
                activate(shift[0] + 1, shift[1])
            activate(row + 1, column)
        i += 1
    typed = controller.injector.text
    if typed not in (text, text + " "):  # a suggestion taken for the last word adds its space
        at = next((k for k, (a, b) in enumerate(zip(typed, text)) if a != b), min(len(typed), len(text)))
        raise SystemExit(f"{run.name}: the target got {typed[at - 30:at + 30]!r}, not {text[at - 30:at + 30]!r}")
    run.activations = controller.stats.activations
    run.scan_steps, run.scan_selects = scanner.steps, scanner.selects
    return run


def measure(app, worker, slots: int, text_path: Path | None, words: int):
    """The four runs over the text (see the module docstring), the text, the characters left out."""
    from keyboard_app.osk.backend import RecordingInjector
    from keyboard_app.osk.controller import OskController
    from keyboard_app.osk.settings import OskSettings, OskSettingsStore
    from keyboard_app.osk.window import OnScreenKeyboard

    with tempfile.TemporaryDirectory() as folder:
        controller = OskController(worker=worker, injector=RecordingInjector(), slots=slots)
        keyboard = OnScreenKeyboard(controller=controller, settings=OskSettings(suggestion_slots=slots),
                                    store=OskSettingsStore(Path(folder) / "osk.json"))
        keyboard.show()
        app.processEvents()
        text, left_out = held_out_text(text_path, words, keyboard.layout_data)
        runs = [
            type_text(keyboard, app, text, suggestions=False, scanning=False, timed=False),
            type_text(keyboard, app, text, suggestions=True, scanning=False, timed=True),
            type_text(keyboard, app, text, suggestions=False, scanning=True, timed=False),
            type_text(keyboard, app, text, suggestions=True, scanning=True, timed=False),
        ]
        keyboard.close()
    return runs, text, left_out


def x11_accept_latency(bundle: Path, clicks: int) -> list[float] | None:
    """Milliseconds from a suggestion click handled to the text in the target, ``clicks`` times."""
    missing = [tool for tool in ("Xvfb", "openbox", "xdotool") if shutil.which(tool) is None]
    if missing:
        print(f"--x11 skipped: {', '.join(missing)} not installed", file=sys.stderr)
        return None
    osk_tests = ROOT / "tests" / "osk"
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        read_fd, write_fd = os.pipe()
        server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24",
                                   "-nolisten", "tcp"], pass_fds=(write_fd,), stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            display = ":" + pipe.readline().strip()
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "XDG_SESSION_TYPE": "x11",
               "XDG_CONFIG_HOME": str(folder / "config"), "XDG_DATA_HOME": str(folder / "data"),
               "PYTHONPATH": str(ROOT)}
        env.pop("WAYLAND_DISPLAY", None)

        def state(name: str) -> dict:
            while True:
                try:
                    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    time.sleep(0.02)

        def until(condition, what: str, timeout: float = 60.0):
            deadline = time.monotonic() + timeout
            while not (value := condition()):
                if time.monotonic() > deadline:
                    raise SystemExit(f"--x11: timed out waiting for {what}")
                time.sleep(0.02)
            return value

        try:
            processes.append(subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
            time.sleep(1.0)
            processes.append(subprocess.Popen([sys.executable, str(osk_tests / "target_app.py"),
                                               str(folder / "target.json"), "Target"], env=env))
            until(lambda: state("target")["active"], "the target")
            processes.append(subprocess.Popen([sys.executable, str(osk_tests / "osk_driver.py"),
                                               str(folder / "osk.json"), "--model", str(bundle)], env=env))
            until(lambda: state("osk")["suggestions"], "the keyboard's suggestions")
            latencies = []
            for _ in range(clicks):
                osk = until(lambda: (s := state("osk"))["suggestions"] and s["context"] == state("target")["text"]
                            and s, "suggestions for the text")
                x, y = osk["suggestions"][0]["at"]
                subprocess.run(["xdotool", "mousemove", "--sync", str(x), str(y), "click", "1"], env=env, check=True)
                after = until(lambda: (s := state("osk"))["context"] != osk["context"] and s, "the click")
                target = until(lambda: (t := state("target"))["text"] == after["context"] and t, "the text")
                arrived = next(at for at, text in target["changes"] if text == after["context"])
                latencies.append((arrived - after["accepts"][-1]) * 1000)
            return latencies
        finally:
            for process in reversed(processes):
                process.terminate()
                process.wait(10)
            server.terminate()
            server.wait(10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=ROOT / "assets" / "models" / "default")
    parser.add_argument("--text", type=Path, help="held-out text (default: corpus/heldout/austen.txt)")
    parser.add_argument("--words", type=int, default=500)
    parser.add_argument("--slots", type=int, default=4, choices=range(3, 6), metavar="3..5")
    parser.add_argument("--x11", type=int, default=0, metavar="N",
                        help="also time N suggestion clicks into another application under Xvfb")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not args.bundle.exists():
        parser.error(f"no model bundle at {args.bundle}")
    if args.text is not None and not args.text.is_file():
        parser.error(f"no text file at {args.text}")

    from PySide6.QtWidgets import QApplication

    from keyboard_app.ui.worker import PredictorWorker

    app = QApplication.instance() or QApplication([])
    worker = PredictorWorker()
    loaded = []
    worker.model_loaded.connect(loaded.append)
    worker.load_failed.connect(lambda message, key: loaded.append(message))
    worker.request_load(args.bundle, "bench")
    while not loaded:
        app.processEvents()
        time.sleep(0.01)
    if isinstance(loaded[0], str):
        parser.exit(1, f"osk_keystrokes: {loaded[0]}\n")
    try:
        runs, text, left_out = measure(app, worker, args.slots, args.text, args.words)
    finally:
        worker.stop()
    words = len(text.split())

    timed = runs[1]
    inside = [ms for ms, w in zip(timed.row_ms, timed.no_network) if w]
    rest = [ms for ms, w in zip(timed.row_ms, timed.no_network) if not w]
    figures = {
        "bundle": str(args.bundle), "text": str(args.text or "corpus/heldout/austen.txt"),
        "words": words, "characters": len(text), "left_out_characters": left_out, "slots": args.slots,
        "runs": [{k: v for k, v in asdict(r).items() if k not in ("row_ms", "painted_ms", "no_network")}
                 for r in runs],
        "latency_ms": {
            "row_updated": {"p50": percentile(timed.row_ms, 50), "p99": percentile(timed.row_ms, 99)},
            "row_updated_no_network": {"p50": percentile(inside, 50), "p99": percentile(inside, 99)},
            "row_updated_network_step": {"p50": percentile(rest, 50), "p99": percentile(rest, 99)},
            "row_painted": {"p50": percentile(timed.painted_ms, 50), "p99": percentile(timed.painted_ms, 99)},
        },
    }
    if args.x11:
        clicks = x11_accept_latency(args.bundle, args.x11)
        if clicks:
            figures["latency_ms"]["suggestion_click_to_target_x11"] = {
                "p50": percentile(clicks, 50), "p99": percentile(clicks, 99), "clicks": len(clicks)}
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{words} words, {len(text)} characters ({left_out} left out), {args.slots} suggestion slots, "
          f"model {args.bundle.name}")
    print(f"{'':28} {'activations':>11} {'per word':>9} {'accepted':>9} {'steps/word':>11} {'selects/word':>13}")
    base = runs[0].activations
    for r in runs:
        scan = r.name.startswith("scan")
        print(f"{r.name:28} {r.activations:>11} {r.activations / words:>9.2f} {r.accepts:>9} "
              f"{(r.scan_steps / words if scan else float('nan')):>11.2f} "
              f"{(r.scan_selects / words if scan else float('nan')):>13.2f}")
    print(f"suggestions save {100 * (base - runs[1].activations) / base:.1f}% of the pointer activations; "
          f"scanning: {100 * (runs[2].scan_steps - runs[3].scan_steps) / runs[2].scan_steps:.1f}% of the steps")
    for name, values in figures["latency_ms"].items():
        label = name.replace("_", " ").replace(" x11", " (X11, XTest)")
        print(f"{'' if name.startswith('suggestion') else 'activation -> '}{label}: "
              f"p50 {values['p50']:.2f} ms, p99 {values['p99']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
