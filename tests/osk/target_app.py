"""A separate application for the on-screen keyboard to type into (tests/osk/test_x11.py).

``target_app.py STATE_FILE [TITLE] [--notes]`` shows one text field (with
``--notes`` a larger, multi-line one: the README's screenshot) and, on every
change of its text or of its window's activation, rewrites STATE_FILE
(atomically) with ``{"window": X11 window id, "text": ..., "active": bool,
"deactivations": n, "function_keys": n}`` (function keys that reached it), and ``"changes"``: [time.monotonic(), text] at each of
the last 200 changes of the text (the benchmark's latency from a click to the text).
"""

from __future__ import annotations

import json
import os
import sys
import time

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget


class Target(QWidget):
    def __init__(self, state_file: str, title: str, notes: bool = False) -> None:
        super().__init__()
        self.state_file = state_file
        self.setWindowTitle(title)
        self.deactivations = 0
        self.was_active = False
        layout = QVBoxLayout(self)
        if notes:
            self.field = QPlainTextEdit()
            self.text = self.field.toPlainText
            self.field.setStyleSheet("font-size: 15pt")
            self.setGeometry(40, 30, 900, 420)
        else:
            layout.addWidget(QLabel("Type here with the on-screen keyboard:"))
            self.field = QLineEdit()
            self.text = self.field.text
            self.setGeometry(20, 20, 700, 120)
        self.field.setObjectName("field")
        layout.addWidget(self.field)
        self.function_keys = 0
        self.changes: list[tuple[float, str]] = []
        self.field.textChanged.connect(lambda *_: self.changes.append((time.monotonic(), self.text())))
        self.field.installEventFilter(self)
        self.field.textChanged.connect(self.write_state)

    def eventFilter(self, watched, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.KeyPress and Qt.Key.Key_F1.value <= event.key() <= Qt.Key.Key_F35.value:
            self.function_keys += 1
            self.write_state()
        return False

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.WindowActivate:
            self.was_active = True
            self.write_state()
        elif event.type() == QEvent.Type.WindowDeactivate:
            if self.was_active:
                self.deactivations += 1
            self.write_state()
        return super().event(event)

    def write_state(self, *args: object) -> None:
        state = {"window": int(self.winId()), "text": self.text(),
                 "active": self.isActiveWindow(), "deactivations": self.deactivations,
                 "function_keys": self.function_keys, "changes": self.changes[-200:]}
        tmp = self.state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state, f, ensure_ascii=False)
        os.replace(tmp, self.state_file)


def main() -> int:
    app = QApplication(sys.argv[:1])
    args = [a for a in sys.argv[1:] if a != "--notes"]
    target = Target(args[0], args[1] if len(args) > 1 else "Target", notes="--notes" in sys.argv)
    target.show()
    target.activateWindow()
    target.field.setFocus()
    target.write_state()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
