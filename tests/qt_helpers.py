"""What the Qt test folders share: fail a test on any Qt warning but the offscreen platform's noise;
type on the on-screen keyboard; write a text the app kept; show a suggestion strip."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from keyboard_app import paths

QT_NOISE = [
    r"This plugin does not support propagateSizeHints\(\)",  # offscreen platform
    r"This plugin does not support raise\(\)",
    r"This plugin does not support grabbing the keyboard",
]


def fail_on_qt_warnings(folder: Path, items) -> None:
    """Mark the tests collected under ``folder`` (a conftest's own folder)."""
    for item in items:
        if folder in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(*QT_NOISE))


def type_on_keyboard(keyboard, text: str) -> None:
    """Press the on-screen keyboard's keys that type ``text`` (Shift before a shifted
    character), as a person clicking them would (tests/osk)."""
    layout = keyboard.layout_data
    for char in text:
        if char == " ":
            keyboard.press_key(*layout.find_action("space"))
            continue
        row, column, shifted = layout.find_char(char)
        if shifted:
            keyboard.press_key(*layout.find_action("shift"))
        keyboard.press_key(row, column)


def kept(name: str, text: str, age_s: float = 0.0) -> Path:
    """A text the app kept when it was stopped (``<data>/unsaved/NAME``), ``age_s`` old."""
    folder = paths.unsaved_texts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    if age_s:
        stamp = path.stat().st_mtime - age_s
        os.utime(path, (stamp, stamp))
    return path


@dataclass(frozen=True)
class Word:  # what the strip needs of a suggestion
    text: str
    token: str = ""
    kind: str = "word"


def shown_strip(qtbot, slots: int, words: list[str], width: int | None = None, size: float | None = None,
                height: int = 52, settle: bool = False):
    """A suggestion strip of ``slots`` showing ``words`` at ``size`` points (the editor's default
    13 pt's, else), ``width`` pixels wide (else its minimum), shown; ``settle``: laid out too,
    once the slots shown are chosen (tests/ui/test_strip_narrow.py)."""
    from keyboard_app.ui.strip import WORD_SCALE, SuggestionStrip

    strip = SuggestionStrip(slots=slots)
    qtbot.addWidget(strip)
    strip.set_word_point_size(13 * WORD_SCALE if size is None else size)
    strip.set_suggestions([Word(w) for w in words])
    strip.resize(width or strip.minimumWidth(), height)
    strip.show()
    qtbot.waitExposed(strip)
    if settle:
        qtbot.wait(1)
    return strip
