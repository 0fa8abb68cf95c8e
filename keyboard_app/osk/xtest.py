"""Typing on X11 through the XTest extension, as a hardware keyboard types.

pynput's ``Controller.type()`` sends each character with ``XSendEvent`` to
the focus window, and programs that ignore synthetic events drop them all
(xterm does by default, ``allowSendEvents: false``), while the keys pynput
presses by keycode (Backspace, Enter) go through XTest and arrive: a
suggestion taken there erased the user's own text and typed nothing.  XTest
events come from the server's own keyboard, so every program takes them.

``XTestTyper`` presses, for each character, the key of its keysym (with
Shift when the keysym is the key's second level).  A character the keymap
has no key for (é on a US map) is put on a spare keycode, one the keymap
leaves empty, as xdotool does.  A borrowed keycode stays mapped while the
keyboard runs and is reused for the same character: a program reads the
keymap when it handles a key, which may be after our next request, so
mapping the keycode back at once could change the character it sees.
``restore()`` empties them again (when the keyboard closes).  With every
spare keycode in use, the one used longest ago is mapped anew.  What is
borrowed is written down (``keycodes.KeycodeLedger``), so that the next
keyboard to open gives back the keycodes of a copy that was killed
(``give_back_leftovers``).

``chord`` presses a key with modifiers held (Ctrl+S, Alt+F4): the modifier
keys are pressed through XTest as well, so the application gets the key with
the modifier state a keyboard gives it; they are released at once, since a
modifier left down would change the pointer's clicks too (Alt+click moves a
window).

Each key pressed is told to ``own_keys`` first (``physical.OwnKeys``), so that the
listener that follows the physical keyboard does not count it as the user's.

``prepare`` says, pressing nothing, whether a text can be typed, so that a
caller about to erase something for it can leave it; a failure while
typing says how much was typed (``InjectionError.delivered``).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from .backend import InjectionError
from .keycodes import KeycodeLedger

log = logging.getLogger(__name__)

#: The action keys' keysyms (X11's keysymdef.h).
ACTION_KEYSYMS = {"backspace": 0xFF08, "tab": 0xFF09, "enter": 0xFF0D, "escape": 0xFF1B,
                  "left": 0xFF51, "up": 0xFF52, "right": 0xFF53, "down": 0xFF54, "space": 0x20,
                  **{f"f{n}": 0xFFBE + n - 1 for n in range(1, 13)}}  # (F1 is 0xFFBE)
SHIFT_L = 0xFFE1
#: The modifiers' keysyms (the left-hand keys): Shift_L, Control_L, Alt_L, Super_L.
MODIFIER_KEYSYMS = {"shift": SHIFT_L, "ctrl": 0xFFE3, "alt": 0xFFE9, "super": 0xFFEB}
CONTROL_KEYSYMS = {"\n": 0xFF0D, "\t": 0xFF09}
KEY_PRESS, KEY_RELEASE, MAPPING_NOTIFY = 2, 3, 34  # X.KeyPress, X.KeyRelease, X.MappingNotify


def keysym_for(char: str) -> int:
    """The keysym of one character: Latin-1 characters are their own code, other
    characters ``0x01000000 + code point`` (the X11 protocol's rule for Unicode)."""
    if char in CONTROL_KEYSYMS:
        return CONTROL_KEYSYMS[char]
    code = ord(char)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code <= 0xDFFF:
        raise InjectionError(f"The character U+{code:04X} cannot be typed.")
    return 0x01000000 + code


class XTestTyper:
    """Key presses and characters through XTest on one python-xlib ``display``."""

    def __init__(self, display: Any, ledger: KeycodeLedger | None = None) -> None:
        self.display = display
        self.ledger = ledger  # where the borrowed keycodes are written down (None: nowhere)
        self._first = display.display.info.min_keycode
        self._count = display.display.info.max_keycode - self._first + 1
        self._mapping: list[list[int]] | None = None
        self._borrowed: OrderedDict[int, int] = OrderedDict()  # keycode -> keysym, oldest use first
        self.own_keys: Any = None  # a ``physical.OwnKeys`` told of each key pressed (None: nobody listens)

    @classmethod
    def open(cls) -> "XTestTyper":
        """A typer on its own connection to $DISPLAY; ``InjectionError`` with a sentence."""
        try:
            from Xlib import display as xdisplay
        except ImportError as e:
            raise InjectionError("Keys cannot be sent to other applications without python-xlib "
                                 "(it comes with pynput): install pynput.") from e
        try:
            connection = xdisplay.Display()
        except Exception as e:  # noqa: BLE001 - Xlib raises several kinds of errors
            raise InjectionError(f"Keys cannot be sent to other applications: the X11 display cannot be "
                                 f"opened ({str(e).strip() or type(e).__name__}).") from e
        if not connection.has_extension("XTEST"):
            connection.close()
            raise InjectionError("Keys cannot be sent to other applications: this X server lacks the XTEST "
                                 "extension (start it with XTEST enabled).")
        typer = cls(connection, KeycodeLedger(connection.get_display_name()))
        try:
            typer.give_back_leftovers()
        except Exception as e:  # noqa: BLE001 - a tidy-up of other copies' keys must not stop this one
            log.info("the keycodes a killed keyboard borrowed were not given back: %r", e)
        return typer

    # --- the keymap ---------------------------------------------------------
    def _keymap(self) -> list[list[int]]:
        """The keysyms of each keycode, read again after any keymap change (MappingNotify)."""
        changed = self._mapping is None
        while self.display.pending_events():  # the only events an unselected connection gets
            changed |= self.display.next_event().type == MAPPING_NOTIFY
        if changed:
            self._mapping = [list(row) for row in self.display.get_keyboard_mapping(self._first, self._count)]
        return self._mapping

    def _find(self, keysym: int, mapping: list[list[int]]) -> tuple[int, bool] | None:
        """(keycode, with Shift) of a key that types ``keysym``, or None."""
        for level in (0, 1):
            for index, row in enumerate(mapping):
                if len(row) > level and row[level] == keysym:
                    return self._first + index, level == 1
        return None

    def _borrow(self, keysym: int, mapping: list[list[int]]) -> int:
        """Map ``keysym`` on a spare keycode (or on the borrowed one used longest ago)."""
        spare = next((self._first + i for i, row in enumerate(mapping) if not any(row)), None)
        if spare is None and self._borrowed:
            spare = next(iter(self._borrowed))  # the one used longest ago
        if spare is None:
            raise InjectionError("This keyboard map has no spare key to type the character with.")
        width = max(2, len(mapping[spare - self._first]))
        row = [keysym, keysym] + [0] * (width - 2)  # the same with or without Shift
        if self.ledger is not None:
            # Written down first: a kill after the change must not leave it unrecorded, and a
            # record of a change that never happened costs nothing (a give-back empties only a
            # keycode mapped exactly as recorded).
            borrowed = {k: v for k, v in self._borrowed.items() if k != spare}
            self.ledger.record({**borrowed, spare: keysym})
        self.display.change_keyboard_mapping(spare, [row])
        self.display.sync()
        mapping[spare - self._first] = row
        self._borrowed.pop(spare, None)
        self._borrowed[spare] = keysym
        return spare

    def _key_for(self, char: str) -> tuple[int, int | None]:
        """(keycode, Shift's keycode or None) that type ``char``, borrowing a keycode if need be."""
        mapping = self._keymap()
        keysym = keysym_for(char)
        found = self._find(keysym, mapping)
        shift = self._find(SHIFT_L, mapping)
        if found is not None and found[1] and shift is None:
            found = None  # a second level without a Shift key to reach it
        if found is None:
            return self._borrow(keysym, mapping), None
        if found[0] in self._borrowed:
            self._borrowed.move_to_end(found[0])
        return found[0], shift[0] if found[1] else None

    # --- typing -------------------------------------------------------------
    def prepare(self, text: str) -> None:
        """``InjectionError`` if ``text`` cannot be typed, pressing and mapping nothing: a caller
        about to erase something for it can leave it."""
        def check() -> None:
            keysyms = {keysym_for(char) for char in text}
            mapping = self._keymap()
            missing = [k for k in keysyms if self._find(k, mapping) is None]
            room = sum(1 for row in mapping if not any(row)) + len(self._borrowed)
            if len(missing) > room:
                raise InjectionError(f"This keyboard map has too few spare keys to type \"{text}\".")
        self._guarded(check)

    def type_text(self, text: str) -> None:
        """Type ``text``, a key at a time; on a failure ``InjectionError.delivered`` is the part typed.
        A character that has no keysym at all is refused before any key is pressed."""
        self._guarded(lambda: [keysym_for(char) for char in text])
        for done, char in enumerate(text):
            self._guarded(lambda: self._type_char(char), text[:done])

    def _type_char(self, char: str) -> None:
        keycode, shift = self._key_for(char)
        self._tap(keycode, [] if shift is None else [shift])

    def press(self, action: str) -> None:
        """Press and release an action key (``ACTION_KEYSYMS``)."""
        self._guarded(lambda: self._tap(self._action_keycode(action), []))

    def _action_keycode(self, action: str) -> int:
        found = self._find(ACTION_KEYSYMS[action], self._keymap())
        if found is None:
            raise InjectionError(f"This keyboard map has no {action} key.")
        return found[0]

    def chord(self, modifiers: tuple[str, ...], key: str) -> None:
        """Press ``key`` (a character, or an action of ``ACTION_KEYSYMS``) with ``modifiers``
        held down: Ctrl+Shift+Z is Control, Shift, z pressed and released in reverse order."""
        def tap() -> None:
            mapping = self._keymap()
            held = []
            for modifier in modifiers:
                found = self._find(MODIFIER_KEYSYMS[modifier], mapping)
                if found is None:
                    raise InjectionError(f"This keyboard map has no {modifier.capitalize()} key.")
                held.append(found[0])
            keycode, shift = self._key_for(key) if len(key) == 1 else (self._action_keycode(key), None)
            if shift is not None and shift not in held:
                held.append(shift)  # the character is on the key's second level (Ctrl+"?")
            self._tap(keycode, held)
        self._guarded(tap)

    def _tap(self, keycode: int, held: list[int]) -> None:
        """Press and release ``keycode`` with the keycodes ``held`` (modifiers) down."""
        fake = self.display.xtest_fake_input
        if self.own_keys is not None:  # (before they go: the listener may see them at once)
            self.own_keys.sent([*held, keycode])
        for modifier in held:
            fake(KEY_PRESS, modifier)
        fake(KEY_PRESS, keycode)
        fake(KEY_RELEASE, keycode)
        for modifier in reversed(held):
            fake(KEY_RELEASE, modifier)
        self.display.sync()  # one key at a time, in order, and an error surfaces here

    def _guarded(self, call, delivered: str = ""):
        try:
            return call()
        except InjectionError as e:
            e.delivered = delivered
            raise
        except Exception as e:  # noqa: BLE001 - python-xlib's errors: a lost display, a refused request
            log.info("typing through XTest failed: %r", e)  # (the caller says it in a sentence)
            raise InjectionError(f"Keys could not be sent ({str(e).strip() or type(e).__name__}).",
                                 delivered=delivered) from e

    def restore(self) -> None:
        """Empty the borrowed keycodes again (the keyboard can still type afterwards)."""
        if not self._borrowed:
            return
        try:
            mapping = self._keymap()
            for keycode in list(self._borrowed):
                row = mapping[keycode - self._first]
                self.display.change_keyboard_mapping(keycode, [[0] * max(2, len(row))])
                mapping[keycode - self._first] = [0] * len(row)
            self.display.sync()
        except Exception as e:  # noqa: BLE001 - the display may be gone already
            log.info("the borrowed keycodes were not given back: %s", e)
        else:
            if self.ledger is not None:
                self.ledger.clear()
        self._borrowed.clear()
        self._mapping = None

    def give_back_leftovers(self) -> int:
        """Empty the keycodes that copies killed on this display had borrowed, where the
        keymap still maps them as those copies left them (``keycodes``); how many."""
        if self.ledger is None:
            return 0
        leftovers = self.ledger.leftovers()
        if not leftovers.dead:
            return 0
        mapping = self._keymap()
        given = 0
        for path, keycodes in leftovers.dead:
            for keycode, keysym in keycodes.items():
                index = keycode - self._first
                if keycode in leftovers.live or keycode in self._borrowed or not 0 <= index < len(mapping):
                    continue
                row = list(mapping[index])
                # As ``_borrow`` left it: the keysym at both levels (an XKB server repeats it for
                # the second group), nothing else.
                if row[:2] == [keysym, keysym] and set(row) <= {keysym, 0}:
                    self.display.change_keyboard_mapping(keycode, [[0] * len(row)])
                    mapping[index] = [0] * len(row)
                    given += 1
            self.display.sync()
            path.unlink(missing_ok=True)
        if given:
            log.info("gave back %d keycode(s) a keyboard that was killed had borrowed", given)
        return given
