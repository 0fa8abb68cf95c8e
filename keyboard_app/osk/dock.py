"""Docking the keyboard to the bottom (or top) edge of the screen, on X11.

A keyboard that floats on top covers the lower part of other windows: a
dialog's buttons there ("Unsaved Changes": Save, Discard) could not be
clicked by the very people who need the keyboard.  Docked, as Onboard and
the GNOME keyboard are, it is a dock window (``_NET_WM_WINDOW_TYPE_DOCK``)
along the screen's edge that reserves its strip (``_NET_WM_STRUT_PARTIAL``,
and the older ``_NET_WM_STRUT``): the window manager then keeps other
windows out of it, maximises them above it and places dialogs above it.
Undocked, the properties go and the window manager gives the strip back.

The window manager reads a window's type when it maps the window, so the
keyboard is hidden and shown again around a change of type (``window``); a
strut it follows as it changes.  Struts count from the edges of the whole X
screen (the root window), in its pixels.  No Qt here: ``X11Dock`` is given
window ids and rectangles; ``x11_dock()`` gives one where there is an X11
display, None elsewhere (Wayland, Windows, macOS: the option says it is not
available there).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from .context import x11_connection

log = logging.getLogger(__name__)

EDGES = ("bottom", "top")  # where the keyboard docks ("none": it floats)


class Rect(NamedTuple):
    """A rectangle in the X screen's pixels."""

    x: int
    y: int
    width: int
    height: int


def strut_partial(edge: str, rect: Rect, root_height: int) -> list[int]:
    """``_NET_WM_STRUT_PARTIAL`` for a window at ``rect`` docked to ``edge``: left, right, top,
    bottom, then the start and end of each (left_start_y, left_end_y, ... bottom_end_x).  The
    strip reserved is the window's own span across the screen, from it to the root's edge."""
    strut = [0] * 12
    if edge == "bottom":
        strut[3] = max(0, root_height - rect.y)
        strut[10], strut[11] = rect.x, rect.x + rect.width - 1
    elif edge == "top":
        strut[2] = max(0, rect.y + rect.height)
        strut[8], strut[9] = rect.x, rect.x + rect.width - 1
    else:
        raise ValueError(f"the keyboard docks to the bottom or the top, not {edge!r}")
    return strut


class X11Dock:
    """Makes a window a dock that reserves its strip of the screen, and a plain window again."""

    def __init__(self, connection) -> None:
        self.connection = connection
        atom = connection.intern_atom
        self._type = atom("_NET_WM_WINDOW_TYPE")
        self._dock_type = atom("_NET_WM_WINDOW_TYPE_DOCK")
        self._strut = atom("_NET_WM_STRUT")
        self._strut_partial = atom("_NET_WM_STRUT_PARTIAL")
        self._cardinal = atom("CARDINAL")
        self._atom = atom("ATOM")
        self._types: dict[int, list[int]] = {}  # window -> its types before it was docked

    def dock(self, window: int, edge: str, rect: Rect, root_height: int) -> None:
        """Make ``window`` a dock at ``rect`` reserving its strip (again: a new size or edge)."""
        strut = strut_partial(edge, rect, root_height)
        resource = self.connection.create_resource_object("window", window)
        if window not in self._types:
            old = resource.get_full_property(self._type, self._atom)
            self._types[window] = [int(v) for v in old.value] if old is not None else []
        resource.change_property(self._type, self._atom, 32, [self._dock_type])
        resource.change_property(self._strut_partial, self._cardinal, 32, strut)
        resource.change_property(self._strut, self._cardinal, 32, strut[:4])
        self.connection.flush()

    def undock(self, window: int) -> None:
        """``window`` reserves nothing and has its earlier types again."""
        resource = self.connection.create_resource_object("window", window)
        resource.delete_property(self._strut_partial)
        resource.delete_property(self._strut)
        types = self._types.pop(window, [])
        if types:
            resource.change_property(self._type, self._atom, 32, types)
        else:
            resource.delete_property(self._type)
        self.connection.flush()


def x11_dock() -> X11Dock | None:
    """An ``X11Dock`` on a connection of its own, or None where there is no X11 display."""
    connection = x11_connection("docking")
    return X11Dock(connection) if connection is not None else None
