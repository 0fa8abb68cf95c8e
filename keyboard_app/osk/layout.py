"""The on-screen keyboard's layout: rows of keys, read from a small JSON file.

The built-in QWERTY layout is written in the same format as a user's file,
so a user adds AZERTY, QWERTZ or a frequency layout without code::

    {
      "format": "keyboard-app-osk-layout",
      "name": "AZERTY",
      "rows": [
        ["a", "z", "e", "r", "t", "y", "u", "i", "o", "p", {"action": "backspace"}],
        [{"char": "é", "shift": "É"}, {"char": "1", "shift": "!"}, ...],
        [{"action": "space", "width": 6}]
      ]
    }

A key is a character (its shifted form is its capital, where it has one
capital letter) or an object: ``{"char", "shift"?, "fn"?, "label"?, "width"?}``
for a character (``fn``: the function key, "F1" to "F12", it sends while Fn is
on), ``{"action", "label"?, "width"?}`` for one of ``ACTIONS``.  Ctrl, Alt,
Super and Fn are sticky (``MODIFIERS``, see ``controller``).  A file
that cannot be used gives the built-in layout and one sentence naming the
file and what is wrong (``load_layout``); no Qt here, so it is testable
without a display.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import jsonfile

log = logging.getLogger(__name__)

LAYOUT_FORMAT = "keyboard-app-osk-layout"
MAX_LAYOUT_BYTES = 256 * 1024  # a layout is a few hundred bytes; anything near this is not one
MAX_ROWS, MAX_KEYS_PER_ROW = 12, 40
MIN_WIDTH, MAX_WIDTH = 0.5, 12.0

#: Keys that are not characters: what they do, and how they are labelled by default.
ACTIONS: dict[str, str] = {
    "shift": "⇧ Shift",
    "caps": "⇪ Caps",
    "backspace": "⌫",
    "enter": "⏎ Enter",
    "space": "Space",
    "tab": "⇥ Tab",
    "escape": "Esc",
    "left": "←",
    "right": "→",
    "up": "↑",
    "down": "↓",
    "ctrl": "Ctrl",
    "alt": "Alt",
    "super": "Super",
    "fn": "Fn",
}
#: The sticky modifier keys: a click latches one for the next key, a second click locks it.
MODIFIERS = ("ctrl", "alt", "super", "fn")
#: The function keys a character key may send while Fn is on (its "fn").
FUNCTION_KEYS = tuple(f"F{n}" for n in range(1, 13))


class LayoutError(ValueError):
    """A layout that cannot be used; the message is a clause without the file's name."""


@dataclass(frozen=True)
class Key:
    """One key: a character (``char``, and ``shift`` typed with Shift or Caps) or an action."""

    char: str = ""
    shift: str = ""
    fn: str = ""  # the function key it sends while Fn is on ("F4"), or ""
    action: str = ""
    label: str = ""
    width: float = 1.0

    @property
    def is_char(self) -> bool:
        return not self.action

    def text(self, shifted: bool) -> str:
        """What the key types (a character key), with or without Shift."""
        return self.shift if shifted else self.char

    def caption(self, shifted: bool, fn: bool = False) -> str:
        if fn and self.fn:
            return self.fn
        if self.label:
            return self.label
        return self.text(shifted) if self.is_char else ACTIONS[self.action]


@dataclass(frozen=True)
class Layout:
    name: str
    rows: tuple[tuple[Key, ...], ...]

    def find_char(self, char: str) -> tuple[int, int, bool] | None:
        """(row, column, needs Shift) of the key that types ``char``, or None."""
        shifted_hit = None
        for r, row in enumerate(self.rows):
            for c, key in enumerate(row):
                if key.is_char and key.char == char:
                    return r, c, False
                if key.is_char and key.shift == char and shifted_hit is None:
                    shifted_hit = (r, c, True)
        return shifted_hit

    def find_action(self, action: str) -> tuple[int, int] | None:
        for r, row in enumerate(self.rows):
            for c, key in enumerate(row):
                if key.action == action:
                    return r, c
        return None


def _shifted(char: str) -> str:
    upper = char.upper()
    return upper if len(upper) == 1 else char  # "ß".upper() is "SS": no one-key capital


# The built-in layout, in the file format (parsed by the same code as a user's file).  Every
# printable ASCII character has a key, most where a US keyboard has them (= and +, [ and {,
# \ and |), so paths, URLs and commands can be typed; ` and ~ share a key by the digits, and
# / and < > come after "?", which stays unshifted for writing.  Ctrl, Alt, Super and Fn sit
# right of Space, as on a laptop, where they cost the keys before them no scan step; Fn turns
# the digits into F1-F12 (Alt+F4).  No row has more than 14 keys, so the window is no wider
# than before they came: one Shift is enough on a keyboard clicked with one pointer, so Esc
# has the right Shift's place, and ß moved to the end of the home row.
QWERTY: dict[str, Any] = {
    "format": LAYOUT_FORMAT,
    "name": "QWERTY",
    "rows": [
        [{"char": c, "shift": s, "fn": f} for c, s, f in zip("1234567890-=", "!@#$%^&*()_+", FUNCTION_KEYS)]
        + [{"char": "`", "shift": "~"}, {"action": "backspace", "width": 1.5}],
        [{"action": "tab", "width": 1.5}, *"qwertyuiop", {"char": "[", "shift": "{"},
         {"char": "]", "shift": "}"}, "é"],
        [{"action": "caps", "width": 1.75}, *"asdfghjkl", {"char": "'", "shift": '"'},
         {"char": "\\", "shift": "|"}, {"char": "ß", "shift": "ß"}, {"action": "enter", "width": 1.75}],
        [{"action": "shift", "width": 1.5}, *"zxcvbnm", {"char": ",", "shift": ";"},
         {"char": ".", "shift": ":"}, {"char": "?", "shift": "!"}, "/", {"char": "<", "shift": ">"},
         {"action": "escape", "width": 1.5}],
        ["à", "ç", "ë", "ü", "ö", {"action": "space", "width": 3}, {"action": "ctrl"}, {"action": "alt"},
         {"action": "super"}, {"action": "fn"}, {"action": "left"}, {"action": "up"}, {"action": "down"},
         {"action": "right"}],
    ],
}


def parse_layout(data: Any) -> Layout:
    """A ``Layout`` from parsed JSON; ``LayoutError`` saying what is wrong."""
    if not isinstance(data, dict):
        raise LayoutError("it is not a layout (a JSON object with \"rows\" is expected)")
    if data.get("format", LAYOUT_FORMAT) != LAYOUT_FORMAT:
        raise LayoutError(f"its format is {str(data.get('format'))[:40]!r}, not {LAYOUT_FORMAT!r}")
    name = data.get("name", "Custom")
    if not isinstance(name, str) or not name.strip() or len(name) > 60:
        raise LayoutError("its \"name\" is not a short text")
    rows = data.get("rows")
    if not isinstance(rows, list) or not rows:
        raise LayoutError("it has no \"rows\" (a list of rows of keys)")
    if len(rows) > MAX_ROWS:
        raise LayoutError(f"it has {len(rows)} rows, more than the {MAX_ROWS} allowed")
    parsed = []
    for r, row in enumerate(rows, 1):
        if not isinstance(row, list) or not row:
            raise LayoutError(f"row {r} is not a list of keys")
        if len(row) > MAX_KEYS_PER_ROW:
            raise LayoutError(f"row {r} has {len(row)} keys, more than the {MAX_KEYS_PER_ROW} allowed")
        parsed.append(tuple(_parse_key(item, r, c) for c, item in enumerate(row, 1)))
    layout = Layout(name.strip(), tuple(parsed))
    if not any(key.is_char for row in layout.rows for key in row):
        raise LayoutError("it has no character keys")
    return layout


def _parse_key(item: Any, row: int, column: int) -> Key:
    where = f"key {column} of row {row}"
    if isinstance(item, str):
        item = {"char": item}
    if not isinstance(item, dict):
        raise LayoutError(f"{where} is neither a character nor an object")
    unknown = set(item) - {"char", "shift", "fn", "action", "label", "width"}
    if unknown:
        raise LayoutError(f"{where} has unknown field {sorted(unknown)[0]!r}")
    width = item.get("width", 1.0)
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not MIN_WIDTH <= width <= MAX_WIDTH:
        raise LayoutError(f"{where} has width {str(width)[:20]}, not a number from {MIN_WIDTH} to {MAX_WIDTH}")
    label = item.get("label", "")
    if not isinstance(label, str) or len(label) > 20:
        raise LayoutError(f"{where} has a label that is not a short text")
    if "action" in item:
        action = item["action"]
        if action not in ACTIONS:
            raise LayoutError(f"{where} has action {str(action)[:20]!r}; known: {', '.join(ACTIONS)}")
        if "char" in item or "shift" in item or "fn" in item:
            raise LayoutError(f"{where} has both an action and a character")
        return Key(action=action, label=label, width=float(width))
    char = item.get("char")
    if not _is_one_char(char):
        raise LayoutError(f"{where} has {str(char)[:20]!r} where one printable character is expected")
    shift = item.get("shift", _shifted(char))
    if not _is_one_char(shift):
        raise LayoutError(f"{where} has shift {str(shift)[:20]!r}, not one printable character")
    fn = item.get("fn", "")
    if fn and fn not in FUNCTION_KEYS:
        raise LayoutError(f"{where} has fn {str(fn)[:20]!r}, not one of F1 to F12")
    return Key(char=char, shift=shift, fn=fn, label=label, width=float(width))


def _is_one_char(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 1 and value.isprintable() and not value.isspace()


BUILTIN = parse_layout(QWERTY)


def load_layout(path: str | os.PathLike | None) -> tuple[Layout, str | None]:
    """The layout in ``path`` (None or "": the built-in QWERTY), and a sentence for the
    user if the file cannot be used, in which case the built-in layout is returned."""
    if path is None or str(path) == "":
        return BUILTIN, None
    path = Path(path)
    try:
        return parse_layout(jsonfile.load(path, max_bytes=MAX_LAYOUT_BYTES, max_depth=4)), None
    except (jsonfile.JSONFileError, LayoutError) as e:
        reason = str(e)
    except OSError as e:
        reason = f"it cannot be read: {e.strerror or e}"
    log.warning("keyboard layout %s: %s", path, reason)
    return BUILTIN, (f"The keyboard layout {path} cannot be used ({reason}); "
                     f"the built-in {BUILTIN.name} layout is used instead.")
