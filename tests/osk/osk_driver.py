"""Runs ``keyboard-app --osk`` and reports where its keys are (tests/osk/test_x11.py).

``osk_driver.py STATE_FILE --model BUNDLE [...]`` runs the app's real entry
point (``keyboard_app.__main__.main(["--osk", ...])``: the Wayland check, the
pynput injector, the model loaded by the worker, the window), and, whenever
the keyboard's suggestions change, rewrites STATE_FILE (atomically) with its
window id, the screen position of the centre of every key and suggestion,
the typed context and when each suggestion click was handled
(``time.monotonic()``, the clock the target uses too), so that a test can
click them with real pointer events.  ``--screenshot PATH`` saves the whole screen once suggestions are
shown after a first keystroke (the README's picture).
"""

from __future__ import annotations

import json
import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from keyboard_app import __main__ as entry
from keyboard_app.osk import app as osk_app


def centre(button) -> list[int]:
    point = button.mapToGlobal(button.rect().center())
    return [point.x(), point.y()]


def attach_reporter(keyboard, state_file: str) -> None:
    accepts: list[float] = []  # time.monotonic() as each suggestion click is handled
    press_suggestion = keyboard.press_suggestion

    def timed_press(index: int) -> None:
        accepts.append(time.monotonic())
        press_suggestion(index)

    keyboard.press_suggestion = timed_press
    def write(*_: object) -> None:
        if not keyboard.isVisible():
            return
        keys = {}
        for row in keyboard.key_buttons:
            for button in row:
                keys[button.objectName().removeprefix("key-")] = centre(button)
        suggestions = [
            {"text": button.text(), "at": centre(button)}
            for button in keyboard.suggestion_buttons if button.isVisible() and button.text()
        ]
        state = {"window": int(keyboard.winId()), "context": keyboard.controller.context.text,
                 "accepts": accepts[-200:],
                 "resets": keyboard.controller.context.resets,
                 "keys": keys, "suggestions": suggestions}
        tmp = state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state, f, ensure_ascii=False)
        os.replace(tmp, state_file)

    # After the row is repainted (and once shown, when positions are final).
    keyboard.controller.suggestions_changed.connect(lambda _: QTimer.singleShot(50, write))
    timer = QTimer(keyboard, interval=500)
    timer.timeout.connect(write)
    timer.start()


def main() -> int:
    state_file = sys.argv[1]
    args = sys.argv[2:]
    screenshot = None
    if "--screenshot" in args:
        at = args.index("--screenshot")
        screenshot = args[at + 1]
        del args[at:at + 2]
    make = osk_app.make_keyboard

    def make_and_report(**kwargs):
        keyboard = make(**kwargs)
        attach_reporter(keyboard, state_file)
        if screenshot:
            def shoot(_suggestions) -> None:
                if keyboard.controller.context.text:
                    QTimer.singleShot(400, lambda: QGuiApplication.primaryScreen().grabWindow(0).save(screenshot))
            keyboard.controller.suggestions_changed.connect(shoot)
        return keyboard

    osk_app.make_keyboard = make_and_report
    return entry.main(["--osk", *args])


if __name__ == "__main__":
    sys.exit(main())
