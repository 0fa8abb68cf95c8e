"""Following the physical keyboard: what the user types with their own keys, in any application.

The on-screen keyboard predicts from what it typed (``context.TypedContext``).
Keys typed on the physical keyboard went past it: a word typed there, then a
suggestion clicked, came out glued on ("yourThe"), the keyboard still at its
sentence start.  So on X11 ``X11InputListener`` listens to the server's key
and button presses, from every program, through the RECORD extension (as
pynput's ``keyboard.Listener`` does; pynput itself is left out of the Linux
build, see build.spec, and gives no keycodes, which tell the keyboard's own
keys from the user's).  A thread of its own reads them and hands each to the
UI thread as a signal; ``OskController.physical_key`` applies it to the
context (``key_effect``), and a click outside the keyboard (``PointerClick``)
starts the context again.

A key heard did not always go into the text, and keys typed went unheard: the
rule is to offer nothing rather than a wrong word (``context.TypedContext``).
A cursor key, Escape, a shortcut (Ctrl+V pastes text it cannot see) put the
cursor where the keyboard may be inside a word: what is typed up to the next
space is not completed.  A key that may open a menu (``key_effect``'s "menu":
Alt or Super held, or pressed alone, F10, the Menu key) sends the next keys to
the menu, where a letter picks an item ("k": View -> On-Screen Keyboard, not a
word begun) and the cursor goes back where it was, maybe inside a word: keys
are taken again after two spaces or new lines, a click in the text (then after
one), or another window.  Following turned back on (keys typed meanwhile went
unheard) is as a cursor key.

The keyboard's own keys are XTest events, which RECORD reports like any
other.  ``OwnKeys`` keeps the keycodes the injector pressed (``xtest``), and
the first report of such a keycode received after it was pressed is the
keyboard's own, not counted again.  Where the listener cannot start (no
RECORD, Wayland, Windows, macOS, no python-xlib) ``start`` says why in one
sentence, the keyboard logs it and predicts from its own keys only.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

#: How long after the keyboard pressed a key its report from the server may come (seconds).
#: RECORD delivers in milliseconds; a report that never came (the listener stopped) expires.
OWN_KEY_SECONDS = 2.0
START_SECONDS = 2.0  # how long ``start`` waits for the server to begin recording
KEY_PRESS, BUTTON_PRESS = 2, 4  # X.KeyPress, X.ButtonPress (KeyRelease, 3, lies between: dropped)
SHIFT, LOCK, CONTROL = 1, 2, 4  # the core modifier masks; Mod1-Mod5 follow (8 ... 128)
WHEEL_BUTTONS = frozenset({4, 5, 6, 7})  # scrolling moves no cursor
BACKSPACE = 0xFF08
TABS = frozenset({0xFF09, 0xFE20})  # Tab, ISO_Left_Tab (Shift+Tab)
#: Keys that may send the keys after them to a menu or a launcher: Meta, Alt, Super and Hyper
#: (alone, a tap shows the menu bar in Firefox or LibreOffice, the overview's search in GNOME;
#: held, Alt+F opens a menu), the Menu key and F10 (Shift+F10 too: a context menu).
MENU_KEYSYMS = frozenset({*range(0xFFE7, 0xFFEF), 0xFF67, 0xFFC7})
NEWLINES = frozenset({0xFF0D, 0xFF8D, 0xFF0A})  # Return, KP_Enter, Linefeed
#: Keys that change neither the text nor the cursor: modifiers and locks (Shift_L ... Hyper_R,
#: Mode_switch, Num_Lock, the ISO level and group keys), Scroll_Lock, Pause, Sys_Req, Print,
#: Insert; and Delete, which leaves the text before the cursor as it was.
_IGNORED_RANGES = ((0xFFE1, 0xFFEE), (0xFE00, 0xFE0F), (0x10080000, 0x1008FFFF))  # (the last: media keys)
IGNORED_KEYSYMS = frozenset({0, 0xFF7E, 0xFF7F, 0xFF14, 0xFF13, 0xFF15, 0xFF61, 0xFF63, 0xFFFF})
#: The keypad's characters (KP_Space, KP_Equal, KP_Multiply ... KP_9) by keysym.
KEYPAD_CHARS = {0xFF80: " ", 0xFFBD: "=", **{0xFFAA + i: c for i, c in enumerate("*+,-./0123456789")}}


@dataclass(frozen=True)
class PhysicalKey:
    """A key pressed on the desktop, by the user or by a program (the keyboard's own are told
    apart by ``keycode``)."""

    keycode: int
    keysym: int  # as the keymap and the modifiers held give it
    name: str = ""  # the keysym's name ("a", "BackSpace", "F9"): the switch keys are left alone
    char: str = ""  # the character it types; "" for none
    chord: bool = False  # Ctrl, Alt or Super held: a shortcut, not text
    alt: bool = False  # Alt or Super held: the chord may open a menu (Alt+F) or a launcher
    received: float = 0.0  # ``time.monotonic()`` when the server's report came


@dataclass(frozen=True)
class PointerClick:
    """A mouse button pressed somewhere on the desktop, at the root window's pixel (x, y)."""

    x: int
    y: int
    button: int
    received: float = 0.0


def key_effect(key: PhysicalKey) -> tuple[str, str]:
    """What ``key`` did to the text before the cursor: ("type", chars), ("backspace", ""),
    ("menu", "") where the keys after it may go to a menu (``MENU_KEYSYMS``, an Alt or Super
    chord), ("field", "") for Tab (the next field, or a completion in a terminal), ("start", "")
    for Ctrl+A (what is typed next replaces all, or begins a shell's line), ("reset", "")
    where that text is now unknown, maybe inside a word (a cursor key, a shortcut such as
    Ctrl+V, Escape, a function key, a dead key), or ("ignore", "") for a key that changes
    neither the text nor the cursor (Shift, Ctrl, Caps Lock, Delete...)."""
    keysym = key.keysym
    if keysym in MENU_KEYSYMS or key.alt:
        return "menu", ""
    if keysym in IGNORED_KEYSYMS or any(low <= keysym <= high for low, high in _IGNORED_RANGES):
        return "ignore", ""
    if key.chord and key.char.lower() == "a":
        return "start", ""  # Ctrl+A: all selected (a shell: the line's start), what comes next begins it
    if key.chord:
        return "reset", ""  # Ctrl+V, Ctrl+Z, Ctrl+Backspace: the text is unknown
    if keysym in TABS:
        return "field", ""
    if keysym == BACKSPACE:
        return "backspace", ""
    if keysym in NEWLINES:
        return "type", "\n"
    if key.char:
        return "type", key.char
    return "reset", ""


def keysym_char(keysym: int) -> str:
    """The character a keysym types ("" for none): Latin-1 keysyms are their own code,
    Unicode ones ``0x01000000 + code point``, and the keypad's digits and signs."""
    if 0x20 <= keysym <= 0x7E or 0xA0 <= keysym <= 0xFF:
        return chr(keysym)
    if 0x010000A0 <= keysym <= 0x0110FFFF:
        return chr(keysym - 0x01000000)
    return KEYPAD_CHARS.get(keysym, "")


def _is_keypad(keysym: int) -> bool:
    return 0xFF80 <= keysym <= 0xFFBD


class Keymap:
    """Keycodes and modifier states to keysyms, by X11's rules for the core keymap: columns 0-1
    the first group's levels 1-2, 2-3 the second group's, 4-5 the first group's levels 3-4
    (AltGr); Shift picks level 2, Caps Lock flips the case of letters, Num Lock the keypad's."""

    def __init__(self, rows: list[list[int]], first: int, masks: dict[str, int]) -> None:
        self.rows, self.first = rows, first
        self.alt_mask = masks.get("alt", 0) | masks.get("super", 0)
        self.chord_mask = CONTROL | self.alt_mask
        self.level3_mask = masks.get("level3", 0)
        self.numlock_mask = masks.get("numlock", 0)

    @classmethod
    def read(cls, connection: Any) -> "Keymap":
        """The keymap and the modifiers' masks of a python-xlib connection."""
        info = connection.display.info
        first, count = info.min_keycode, info.max_keycode - info.min_keycode + 1
        rows = [list(row) for row in connection.get_keyboard_mapping(first, count)]
        kinds = {0xFFE9: "alt", 0xFFEA: "alt", 0xFFE7: "alt", 0xFFE8: "alt", 0xFFEB: "super",
                 0xFFEC: "super", 0xFFED: "super", 0xFFEE: "super", 0xFE03: "level3", 0xFF7E: "level3",
                 0xFF7F: "numlock"}
        masks: dict[str, int] = {}
        for index, keycodes in enumerate(connection.get_modifier_mapping()):
            if index < 3:  # Shift, Lock, Control have masks of their own
                continue
            for keycode in keycodes:
                row = rows[keycode - first] if keycode and 0 <= keycode - first < len(rows) else []
                for keysym in row[:2]:
                    if keysym in kinds:
                        masks[kinds[keysym]] = masks.get(kinds[keysym], 0) | 1 << index
        return cls(rows, first, masks)

    def key(self, keycode: int, state: int, received: float = 0.0) -> PhysicalKey:
        """The key ``keycode`` pressed with the modifier ``state`` (an event's)."""
        index = keycode - self.first
        row = self.rows[index] if 0 <= index < len(self.rows) else []
        column = 0
        group = (state >> 13) & 3  # XKB's group, in the state's bits 13-14
        if group and any(row[2:4]):
            column = 2
        if state & self.level3_mask and any(row[4:6]):
            column = 4
        lower = row[column] if column < len(row) else 0
        upper = row[column + 1] if column + 1 < len(row) else 0
        shifted = bool(state & SHIFT)
        if state & self.numlock_mask and _is_keypad(upper):
            keysym = lower if shifted else upper
        else:
            if state & LOCK and keysym_char(lower).isalpha():
                shifted = not shifted
            keysym = upper if shifted and upper else lower
        char = keysym_char(keysym)
        if shifted and not upper and char.isalpha():
            char = char.upper()
        return PhysicalKey(keycode=keycode, keysym=keysym, name=keysym_name(keysym), char=char,
                           chord=bool(state & self.chord_mask), alt=bool(state & self.alt_mask),
                           received=received)


_NAMES: dict[int, str] | None = None


def keysym_name(keysym: int) -> str:
    """The keysym's name as python-xlib knows it ("BackSpace", "F9", "a"), or its number."""
    global _NAMES
    if _NAMES is None:
        try:
            from Xlib import XK
        except ImportError:
            XK = None
        names: dict[int, str] = {}
        for name, value in vars(XK).items() if XK is not None else ():
            if name.startswith("XK_") and isinstance(value, int):
                names.setdefault(value, name[3:])
        _NAMES = names
    return _NAMES.get(keysym, f"0x{keysym:x}")


class OwnKeys:
    """The key presses the keyboard sent itself: their reports from the server are its own.

    ``sent`` is called (by the injector) before the keys go out; ``is_own`` takes one report:
    True, and the press is used up, for the first keycode sent that matches and was sent
    before the report came, within ``OWN_KEY_SECONDS``.  A report that came before the
    keyboard pressed that key is the user's."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._sent: deque[tuple[int, float]] = deque()
        self._lock = threading.Lock()

    def sent(self, keycodes: list[int]) -> None:
        now = self.clock()
        with self._lock:
            while self._sent and now - self._sent[0][1] > OWN_KEY_SECONDS:
                self._sent.popleft()  # (nobody listening: they are not kept)
            self._sent.extend((keycode, now) for keycode in keycodes)

    def is_own(self, keycode: int, received: float) -> bool:
        with self._lock:
            while self._sent and received - self._sent[0][1] > OWN_KEY_SECONDS:
                self._sent.popleft()  # never reported (the listener missed it)
            for index, (sent_keycode, at) in enumerate(self._sent):
                if at > received:
                    return False  # pressed after this report came: not this one
                if sent_keycode == keycode:
                    del self._sent[index]
                    return True
            return False

    def __len__(self) -> int:
        return len(self._sent)


class X11InputListener(QObject):
    """The X11 server's key and button presses (RECORD), from a thread of its own, as signals
    on the UI thread."""

    key = Signal(object)  # PhysicalKey
    click = Signal(object)  # PointerClick

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._control: Any = None  # disables the recording from the UI thread
        self._context: Any = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> str | None:
        """Start listening; a sentence saying why not, or None."""
        if self._thread is not None:
            return None
        if sys.platform in ("win32", "darwin"):  # (an X server there, XQuartz, is not the desktop typed into)
            return "keys typed on the physical keyboard are followed on an X11 desktop only"
        if os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland":
            return "keys typed on the physical keyboard cannot be followed in a Wayland session"
        if not os.environ.get("DISPLAY"):
            return "keys typed on the physical keyboard cannot be followed without an X11 display"
        try:
            from Xlib import display as xdisplay
            from Xlib.ext import record
        except ImportError:
            return "keys typed on the physical keyboard cannot be followed without python-xlib"
        connections = []
        try:
            for _ in range(3):  # recording (blocks its thread), the keymap, and control from here
                connections.append(xdisplay.Display())
            recorder, keymap_connection, control = connections
            if not recorder.has_extension("RECORD"):
                raise _NoRecord()
            keymap = Keymap.read(keymap_connection)
            context = recorder.record_create_context(0, [record.AllClients], [{
                "core_requests": (0, 0), "core_replies": (0, 0),
                "ext_requests": (0, 0, 0, 0), "ext_replies": (0, 0, 0, 0),
                "delivered_events": (0, 0), "device_events": (KEY_PRESS, BUTTON_PRESS),
                "errors": (0, 0), "client_started": False, "client_died": False}])
        except _NoRecord:
            self._close(connections)
            return ("keys typed on the physical keyboard cannot be followed: this X server lacks "
                    "the RECORD extension")
        except Exception as e:  # noqa: BLE001 - Xlib raises several kinds of errors
            self._close(connections)
            return f"keys typed on the physical keyboard cannot be followed ({str(e).strip() or type(e).__name__})"
        self._control, self._context = control, context
        recording = threading.Event()
        self._thread = threading.Thread(target=self._listen, args=(recorder, keymap_connection, keymap, context,
                                                                   recording),
                                        name="osk-physical-keys", daemon=True)
        self._thread.start()
        # Keys typed before the server records are not seen: wait for its first reply (briefly:
        # a slow server only loses the first keys, the keyboard starts all the same).
        if not recording.wait(START_SECONDS):
            log.info("the physical keyboard is followed from a little later than the keyboard's start")
        return None

    def _listen(self, recorder: Any, keymap_connection: Any, keymap: Keymap, context: Any,
                recording: threading.Event) -> None:
        from Xlib.ext import record
        from Xlib.protocol import rq

        parser = rq.EventField(None)
        state = {"keymap": keymap}

        def handle(reply: Any) -> None:
            if reply.category == record.StartOfData:
                recording.set()
            if reply.category != record.FromServer or reply.client_swapped or not reply.data:
                return
            received = time.monotonic()
            data = reply.data
            while data and len(data) >= 32:
                event, data = parser.parse_binary_value(data, recorder.display, None, None)
                if event.type == KEY_PRESS:
                    self.key.emit(self._current(keymap_connection, state).key(event.detail, event.state,
                                                                              received))
                elif event.type == BUTTON_PRESS:
                    self.click.emit(PointerClick(event.root_x, event.root_y, event.detail, received))

        try:
            recorder.record_enable_context(context, handle)  # (returns when disabled)
        except Exception as e:  # noqa: BLE001 - the display went away
            log.info("keys typed on the physical keyboard are no longer followed: %s", e)
        finally:
            try:
                recorder.record_free_context(context)
            except Exception:  # noqa: BLE001
                pass
            self._close([recorder, keymap_connection])

    @staticmethod
    def _current(connection: Any, state: dict) -> Keymap:
        """The keymap, read again after a change (MappingNotify: sent to every client; the
        keyboard's own borrowed keycodes change it too)."""
        changed = False
        while connection.pending_events():
            changed |= connection.next_event().type == 34  # X.MappingNotify
        if changed:
            state["keymap"] = Keymap.read(connection)
        return state["keymap"]

    def stop(self) -> None:
        if self._thread is None:
            return
        try:
            self._control.record_disable_context(self._context)
            self._control.flush()
        except Exception as e:  # noqa: BLE001 - the display may be gone already
            log.info("listening to the physical keyboard did not stop cleanly: %s", e)
        self._thread.join(2)
        self._thread = None
        self._close([self._control])
        self._control = self._context = None

    @staticmethod
    def _close(connections: list) -> None:
        for connection in connections:
            try:
                connection.close()
            except Exception:  # noqa: BLE001
                pass


class _NoRecord(Exception):
    pass
