"""Typing into other applications: key events injected into the desktop.

``Injector`` is what the keyboard needs: ``type_text`` for characters (any
Unicode letter), ``press`` for the action keys, ``chord`` for a key with
Ctrl, Alt, Super or Shift held (Ctrl+S, Alt+F4: the key reaches the
application as a modified key, as a keyboard's does), ``prepare`` to know that a
text can be typed before anything is erased for it, and ``restore`` to undo
what typing changed on the desktop.  ``open_injector()`` gives the one for
this desktop: on X11 ``xtest.XTestTyper`` (XTest events, which every program
takes; pynput's ``type()`` sends synthetic events there, which xterm and
others drop), elsewhere ``PynputInjector`` (pynput's Windows and macOS back
ends).  Both send real events to whichever window has the focus;
``RecordingInjector`` keeps them as text (tests and the benchmark drive the
real widget with it).  A failure is an ``InjectionError`` saying how much of
the text was typed.

``injection_problem()`` says, in one sentence with what to do, when synthetic
keys cannot reach other applications: a Wayland session (an X11 client's
events reach only other X11 clients there, and Wayland offers no portal
pynput can use), or no display at all.  pynput is imported only when the
keyboard opens, since on import it connects to the display.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Protocol

log = logging.getLogger(__name__)

#: Action keys the injector presses (layout actions that type into the target).
KEY_ACTIONS = ("backspace", "enter", "tab", "escape", "left", "right", "up", "down")
#: The keys a chord may press besides a character (``Injector.chord``).
CHORD_KEYS = (*KEY_ACTIONS, "space", *(f"f{n}" for n in range(1, 13)))


class InjectionError(RuntimeError):
    """Keys cannot be sent; the message is one sentence for the user, ``delivered`` the
    start of the text that was typed all the same."""

    def __init__(self, message: str, *, delivered: str = "") -> None:
        super().__init__(message)
        self.delivered = delivered


class Injector(Protocol):
    def prepare(self, text: str) -> None: ...

    def type_text(self, text: str) -> None: ...

    def press(self, action: str) -> None: ...

    def chord(self, modifiers: tuple[str, ...], key: str) -> None:
        """Press ``key`` (one character, or one of ``CHORD_KEYS``) with ``modifiers`` ("ctrl",
        "alt", "super", "shift") held down, and release them all."""

    def restore(self) -> None: ...


def injection_problem(environ: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """One sentence if this session cannot receive synthetic keys from us, else None."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return None  # Windows and macOS: pynput's own back ends (macOS asks for the accessibility permission)
    if env.get("XDG_SESSION_TYPE", "").lower() == "wayland" or env.get("WAYLAND_DISPLAY"):
        return ("This is a Wayland session, where applications do not accept keys typed by another "
                "program: log in with an X11 session (\"on Xorg\" at the login screen) to use the "
                "on-screen keyboard, or write in the app's own editor.")
    if not env.get("DISPLAY"):
        return ("There is no X11 display to type into (DISPLAY is not set): start the on-screen "
                "keyboard from a graphical X11 session, or write in the app's own editor.")
    return None


def open_injector(platform: str = sys.platform) -> Injector:
    """The injector for this desktop (call ``injection_problem`` first); ``InjectionError``."""
    if platform.startswith("linux"):
        from .xtest import XTestTyper

        return XTestTyper.open()
    return PynputInjector()


class PynputInjector:
    """Real key events through pynput's keyboard controller (Windows and macOS: on X11
    its ``type()`` sends synthetic events that many programs drop, see ``xtest``)."""

    def __init__(self) -> None:
        try:
            from pynput import keyboard
        except Exception as e:  # noqa: BLE001 - pynput raises plain exceptions without a display
            raise InjectionError(
                f"Keys cannot be sent to other applications ({str(e).strip() or type(e).__name__}); "
                "install pynput and run an X11, Windows or macOS desktop session."
            ) from e
        self._controller = keyboard.Controller()
        key = keyboard.Key
        self._keys = {
            "backspace": key.backspace, "enter": key.enter, "tab": key.tab, "escape": key.esc,
            "left": key.left, "right": key.right, "up": key.up, "down": key.down, "space": key.space,
            **{f"f{n}": getattr(key, f"f{n}") for n in range(1, 13)},
        }
        # Super is pynput's "cmd": the Windows key, or Command on macOS.
        self._modifiers = {"ctrl": key.ctrl, "alt": key.alt, "super": key.cmd, "shift": key.shift}

    def prepare(self, text: str) -> None:
        """Nothing to find beforehand: pynput's back ends here type any character."""

    def type_text(self, text: str) -> None:
        try:
            for done, char in enumerate(text):
                self._controller.type(char)
        except Exception as e:  # noqa: BLE001 - pynput's errors differ by platform
            raise InjectionError(f"Keys could not be sent ({str(e).strip() or type(e).__name__}).",
                                 delivered=text[:done]) from e

    def press(self, action: str) -> None:
        try:
            self._controller.tap(self._keys[action])
        except Exception as e:  # noqa: BLE001
            raise InjectionError(f"Keys could not be sent ({str(e).strip() or type(e).__name__}).") from e

    def chord(self, modifiers: tuple[str, ...], key: str) -> None:
        """The modifiers pressed, the key tapped, the modifiers released (pynput's ``pressed``)."""
        try:
            with self._controller.pressed(*(self._modifiers[m] for m in modifiers)):
                self._controller.tap(self._keys.get(key, key))
        except Exception as e:  # noqa: BLE001
            raise InjectionError(f"Keys could not be sent ({str(e).strip() or type(e).__name__}).") from e

    def restore(self) -> None:
        """Nothing changed on the desktop."""


class RecordingInjector:
    """Applies the events to a text of its own (a target with the cursor at the end)."""

    def __init__(self) -> None:
        self.text = ""
        self.events: list[tuple[str, ...]] = []
        self.restores = 0

    def prepare(self, text: str) -> None:
        """Any text can be typed here."""

    def type_text(self, text: str) -> None:
        self.events.append(("type", text))
        self.text += text

    def restore(self) -> None:
        self.restores += 1

    def press(self, action: str) -> None:
        self.events.append(("press", action))
        if action == "backspace":
            self.text = self.text[:-1]
        elif action == "enter":
            self.text += "\n"
        elif action == "tab":
            self.text += "\t"

    def chord(self, modifiers: tuple[str, ...], key: str) -> None:
        """Kept as an event ("ctrl+alt", "s"): a chord types no text."""
        self.events.append(("chord", "+".join(modifiers), key))
