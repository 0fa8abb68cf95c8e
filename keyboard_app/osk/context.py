"""What the keyboard typed since the focus last changed: the context it predicts from.

The keyboard cannot read the other application's text, so it predicts from
what it typed itself, and what it heard typed on the physical keyboard.
``TypedContext`` keeps that text; a change of the active window
(``FocusWatcher``) resets it to a sentence start, unless the keyboard was in
that window before (``WindowContexts`` then gives back what it had there, in
memory only), and a cursor key, a
shortcut or a menu makes the word under way unknown until the next space
(``TypedContext``'s rule), because the text around the cursor is then
unknown.  No Qt here.

A terminal (``is_terminal``, by the window's ``WM_CLASS``) takes commands,
file names and options, where a capital the keyboard added would break the
line ("Echo"): the controller adds none there.

``FocusWatcher`` polls an ``active_window`` function (any id; None when
unknown) and calls ``on_change`` when it changes.  ``x11_active_window``
gives the root window's ``_NET_ACTIVE_WINDOW`` through python-xlib (which
pynput brings); where that is not available the watcher does nothing and
the context resets only on cursor keys.  ``x11_focus_window`` gives the
focus back to the window typed into, once a dialog of the keyboard's closes.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Hashable

log = logging.getLogger(__name__)

MAX_CONTEXT_CHARS = 4000  # the predictor needs the last paragraph or so; older text is dropped
MAX_WINDOWS = 32  # the windows whose context is remembered (``WindowContexts``); the least recent goes


#: How much of what comes next the keyboard did not hear (``TypedContext.unheard``).
HEARD = 0  # the text before the cursor is what it heard since a sentence start it assumes
WORD_UNHEARD = 1  # the cursor may be inside a word whose start it did not hear
MENU_OPEN = 2  # the keys may be going to a menu, not to the text


class TypedContext:
    """The text before the target's cursor as far as the keyboard heard it, and whether the
    word under way began where it could not hear (``unheard``).

    The rule, so that a suggestion never types a word's tail onto a start the keyboard did not
    see ("wor" pasted, "ld" typed, "ldap" offered: "worldap "), nor a word glued onto one
    ("yourThe"):

    * ``reset`` (another window, a click in the text; Tab to a field and Ctrl+A unless a menu
      may be open): a sentence start, the next word begun where the keyboard sees it (``HEARD``).
    * ``lose(WORD_UNHEARD)`` (a cursor key, Escape, a shortcut such as Ctrl+V, following turned
      back on, a Backspace past what it heard): the cursor may be inside a word; what is typed
      up to the next space or new line is not taken, and the suggestions wait for it (the
      controller offers nothing while ``unheard``).  After that space the next word is heard
      whole, from a sentence start.
    * ``lose(MENU_OPEN)`` (an Alt or Super chord, Alt alone, F10, the Menu key): the keys may be
      going to a menu, where a letter picks an item and Space or Enter activates one, after which
      the cursor is back where it was, maybe inside a word.  So two spaces or new lines (a word
      ended where the keyboard saw its end, then one heard whole) bring it back; a click in the
      text only as far as ``WORD_UNHEARD`` (it may have been on a menu's item), another window
      at once.
    * ``lose`` never lowers what is unheard (an arrow key in a menu keeps it ``MENU_OPEN``)."""

    def __init__(self) -> None:
        self.text = ""
        self.resets = 0
        self.unheard = HEARD

    def reset(self, unheard: int = HEARD) -> None:
        """Forget the text: the next word starts a sentence, heard from its start (or, given
        ``unheard``, after that many word ends: a click while a menu may be open)."""
        self.text = ""
        self.unheard = unheard
        self.resets += 1

    def lose(self, unheard: int) -> None:
        """Forget the text, and take nothing typed for a word until ``unheard`` word ends
        (spaces or new lines) have been typed: see the class's rule."""
        self.text = ""
        self.unheard = max(self.unheard, unheard)
        self.resets += 1

    def type(self, chars: str) -> None:
        while self.unheard and chars:
            char, chars = chars[0], chars[1:]
            if char.isspace():
                self.unheard -= 1  # (the space itself: a sentence start needs none)
        self.text += chars
        if len(self.text) > MAX_CONTEXT_CHARS:
            self.text = self.text[-MAX_CONTEXT_CHARS // 2:]

    def restore(self, text: str, unheard: int) -> None:
        """Take up a context kept before (``WindowContexts``): the window left and come back to."""
        self.text = text
        self.unheard = unheard
        self.resets += 1

    def backspace(self, count: int = 1) -> None:
        if self.unheard:
            return  # (still inside what it did not hear)
        if count > len(self.text):
            # Back past what it heard: into text it never saw, maybe inside a word.
            self.lose(WORD_UNHEARD)
            return
        self.text = self.text[: max(0, len(self.text) - count)]


@dataclass(frozen=True)
class SavedContext:
    """A window's context as the keyboard left it: its text, how much of what comes next went
    unheard (``TypedContext.unheard``), whether it is a terminal, and its ``WM_CLASS`` (a window
    id X gives again to another window after one closed is not the same window)."""

    text: str
    unheard: int
    terminal: bool = False
    wm_class: tuple[str, ...] | None = None


class WindowContexts:
    """The contexts of the windows the keyboard left, by window id, kept in memory only (never
    on disk: it is what the user typed) and bounded: ``limit`` windows, the least recently left
    forgotten first, so a window that closed simply ages out."""

    def __init__(self, limit: int = MAX_WINDOWS) -> None:
        self.limit = limit
        self._saved: OrderedDict[Hashable, SavedContext] = OrderedDict()

    def __len__(self) -> int:
        return len(self._saved)

    def __contains__(self, window: Hashable) -> bool:
        return window in self._saved

    def save(self, window: Hashable, saved: SavedContext) -> None:
        self._saved.pop(window, None)
        self._saved[window] = saved
        while len(self._saved) > self.limit:
            self._saved.popitem(last=False)

    def take(self, window: Hashable, wm_class: tuple[str, ...] | None = None) -> SavedContext | None:
        """What was kept for ``window`` (and forget it: it is the keyboard's context again), or
        None: never left, aged out, or now another application's window (``wm_class`` differs)."""
        saved = self._saved.pop(window, None)
        if saved is None or saved.wm_class != wm_class:
            return None
        return saved

    def lose(self, unheard: int) -> None:
        """Keys went unheard in any window (the physical keyboard followed again): each kept
        context loses its text as ``TypedContext.lose`` does."""
        for window, saved in self._saved.items():
            self._saved[window] = SavedContext("", max(saved.unheard, unheard), saved.terminal, saved.wm_class)

    def clear(self) -> None:
        self._saved.clear()


class FocusWatcher:
    """Calls ``on_change(new_window)`` whenever ``active_window()`` gives another window."""

    def __init__(self, active_window: Callable[[], Hashable | None],
                 on_change: Callable[[Hashable | None], None], *,
                 ignore: Callable[[Hashable], bool] = lambda window: False) -> None:
        self._active_window = active_window
        self._on_change = on_change
        self._ignore = ignore  # the keyboard's own window, should a window manager activate it
        self.current: Hashable | None = None
        self._started = False

    def poll(self) -> bool:
        """Look once; True if the active window changed (and ``on_change`` was called)."""
        try:
            window = self._active_window()
        except Exception as e:  # noqa: BLE001 - a lost display connection must not stop typing
            log.debug("active window unknown: %s", e)
            return False
        if window is not None and self._ignore(window):
            return False
        if not self._started:
            self._started, self.current = True, window
            return False
        if window == self.current:
            return False
        self.current = window
        self._on_change(window)
        return True


#: ``WM_CLASS`` names (instance or class, lowercased) of terminal emulators; any name with
#: "terminal" in it is one too (gnome-terminal, xfce4-terminal, mate-terminal, lxterminal...).
TERMINALS = frozenset({
    "xterm", "uxterm", "konsole", "urxvt", "rxvt", "alacritty", "kitty", "st", "st-256color",
    "terminator", "tilix", "sakura", "guake", "yakuake", "tilda", "eterm", "foot", "footclient",
    "wezterm", "org.wezfurlong.wezterm", "cool-retro-term", "terminology", "kgx", "org.gnome.console",
})


def is_terminal(wm_class: tuple[str, ...] | None) -> bool:
    """Whether a window's ``WM_CLASS`` (instance, class) names a terminal emulator."""
    names = [name.lower() for name in wm_class or () if isinstance(name, str)]
    return any(name in TERMINALS or "terminal" in name for name in names)


def x11_connection(purpose: str):
    """A connection of its own to the X11 display (python-xlib), or None where there is none."""
    if not os.environ.get("DISPLAY"):
        return None
    try:
        from Xlib import display
    except ImportError:
        return None
    try:
        return display.Display()
    except Exception as e:  # noqa: BLE001 - Xlib raises several kinds of errors
        log.info("no X11 connection for %s: %s", purpose, e)
        return None


def x11_window_class() -> Callable[[int], tuple[str, str] | None] | None:
    """A function giving an X11 window's ``WM_CLASS`` (instance, class) by id, or None where
    there is no X11 display: how ``--osk`` tells the app's own windows from others'."""
    connection = x11_connection("window classes")
    if connection is None:
        return None

    def window_class(window: int) -> tuple[str, str] | None:
        try:
            return connection.create_resource_object("window", window).get_wm_class()
        except Exception as e:  # noqa: BLE001 - the window may be gone already
            log.debug("no WM_CLASS for %s: %s", window, e)
            return None

    return window_class


def x11_active_window() -> Callable[[], int | None] | None:
    """A function giving the X11 active window's id, or None where there is no X11 display."""
    connection = x11_connection("watching the focus")
    if connection is None:
        return None
    from Xlib import X

    root = connection.screen().root
    active_atom = connection.intern_atom("_NET_ACTIVE_WINDOW")

    def active() -> int | None:
        prop = root.get_full_property(active_atom, X.AnyPropertyType)
        if prop is None or not len(prop.value):
            return None
        return int(prop.value[0]) or None

    return active


def x11_focus_window() -> Callable[[int], None] | None:
    """A function giving an X11 window (by id) the focus again, or None where there is no X11
    display.  The window manager is asked, as a taskbar asks it (``_NET_ACTIVE_WINDOW``), so it
    raises the window and keeps its own idea of the active window right."""
    connection = x11_connection("giving the focus back")
    if connection is None:
        return None
    from Xlib import X
    from Xlib.protocol import event

    root = connection.screen().root
    active_atom = connection.intern_atom("_NET_ACTIVE_WINDOW")
    from_a_pager = 2  # the message's source: a pager or taskbar, a user's request the WM honours

    def focus(window: int) -> None:
        message = event.ClientMessage(window=connection.create_resource_object("window", window),
                                      client_type=active_atom,
                                      data=(32, [from_a_pager, X.CurrentTime, 0, 0, 0]))
        root.send_event(message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
        connection.flush()

    return focus
