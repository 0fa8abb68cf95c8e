"""Switches that send a key (a USB switch interface, or a key of a keyboard) for scanning.

The keyboard never has the focus, so a switch's key would go to the
application typed into.  On X11 ``X11KeyGrab`` grabs the switch keys on the
root window instead (``XGrabKey``, through python-xlib, which pynput
brings): while scanning is on, they reach the keyboard and nothing else.
A thread of its own reads them and hands them to the UI thread as a signal,
when the key is released (the grab holds the keyboard until then).

The keys must be keys the keyboard never types itself: its own injected
events would be grabbed too.  So Space, Enter, letters and digits are
refused (``parse_switch_keys``); function keys, Scroll Lock, Pause, Insert
and the keypad's keys are what switch interfaces can be set to send.  The
keyboard's Fn makes F1-F12 of its digits: while a function key is grabbed
as a switch, the keyboard does not send it (``OskController.reserved_keys``).
"""

from __future__ import annotations

import logging
import os
import re
import select
import threading

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

_ALLOWED = re.compile(r"^(F([1-9]|1[0-9]|2[0-4])|Scroll_Lock|Pause|Insert|Menu|KP_[A-Za-z0-9_]+)$")
_ALIASES = {"scrolllock": "Scroll_Lock", "scroll": "Scroll_Lock", "pause": "Pause", "insert": "Insert",
            "menu": "Menu"}


class SwitchKeyError(ValueError):
    """Switch keys that cannot be used; the message is one sentence."""


def parse_switch_keys(text: str) -> tuple[str, ...]:
    """X keysym names from "F9 F10" (one or two keys); ``SwitchKeyError`` with a sentence."""
    names = text.split()
    if not 1 <= len(names) <= 2:
        raise SwitchKeyError("Give one or two switch keys, such as \"F9\" or \"F9 F10\".")
    keys = []
    for name in names:
        key = _ALIASES.get(name.lower(), name[:1].upper() + name[1:] if re.fullmatch(r"[fF]\d+", name) else name)
        if not _ALLOWED.match(key):
            raise SwitchKeyError(
                f"\"{name}\" cannot be a switch key, because the keyboard types it itself or does not know "
                "it: use F1-F24, ScrollLock, Pause, Insert, Menu or a keypad key (KP_Enter, ...).")
        keys.append(key)
    if len(set(keys)) != len(keys):
        raise SwitchKeyError("The two switch keys must differ.")
    return tuple(keys)


class X11KeyGrab(QObject):
    """Grabs ``keys`` (keysym names) on the X11 root window; ``pressed(index)`` for each press."""

    pressed = Signal(int)  # the index of the key in ``keys``
    failed = Signal(str)  # one sentence

    def __init__(self, keys: tuple[str, ...], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.keys = keys
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> str | None:
        """Grab the keys and listen; a sentence saying why not, or None."""
        if not os.environ.get("DISPLAY"):
            return "Switch keys need an X11 session; a click on the keyboard works as the switch."
        try:
            from Xlib import X, XK, display, error
        except ImportError:
            return "Switch keys need python-xlib (it comes with pynput); a click on the keyboard works as the switch."
        try:
            connection = display.Display()
        except Exception as e:  # noqa: BLE001 - Xlib raises several kinds
            return f"Switch keys cannot be grabbed ({e}); a click on the keyboard works as the switch."
        root = connection.screen().root
        codes = {}
        for index, name in enumerate(self.keys):
            code = connection.keysym_to_keycode(XK.string_to_keysym(name))
            if not code:
                connection.close()
                return f"This keyboard map has no key {name}; choose other switch keys."
            catcher = error.CatchError(error.BadAccess)
            root.grab_key(code, X.AnyModifier, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
            connection.sync()
            if catcher.get_error():
                connection.close()
                return f"Another program already uses {name}; choose other switch keys."
            codes[code] = index
        self._stop.clear()
        # A press counts when the key is let go: until then its grab holds the whole keyboard, and
        # the keys typed in answer (XTest, as a keyboard types) would go to the grab, not to the target.
        self._thread = threading.Thread(target=self._listen, args=(connection, codes, X.KeyRelease),
                                        name="osk-switch-keys", daemon=True)
        self._thread.start()
        return None

    def _listen(self, connection, codes: dict[int, int], key_release: int) -> None:
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select([connection], [], [], 0.2)
                if not readable:
                    continue
                for _ in range(connection.pending_events()):
                    event = connection.next_event()
                    if event.type == key_release and event.detail in codes:
                        self.pressed.emit(codes[event.detail])  # queued to the UI thread
        except Exception as e:  # noqa: BLE001 - the display went away
            log.warning("switch keys stopped: %s", e)
            self.failed.emit("The switch keys stopped working (the display connection was lost).")
        finally:
            try:
                connection.close()  # releases the grabs
            except Exception:  # noqa: BLE001
                pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
