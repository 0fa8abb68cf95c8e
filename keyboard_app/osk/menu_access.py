"""The ⚙ menu by dwell and by switch scanning, as the keys are reached.

An open Qt menu is a popup that takes the pointer (and, on X11, the
keyboard), so the keys' own hover and click handling never sees it: a person
who can only dwell or press a switch could open nothing there, not even the
setting that changes the dwell time.  ``MenuAccess`` reaches the menus from
the keyboard's timer instead:

* Dwell: it follows the pointer over the open menus.  Resting on an item
  activates it (a submenu opens, an action runs and the menus close);
  resting away from the menus (anywhere but on ⚙) closes the innermost one.
* Scanning: the highlight steps through the innermost menu's items (by
  itself with one switch, with the step switch with two); a select
  activates the item, and a submenu is scanned in turn.  A round without a
  select closes that menu, so a wrong choice costs one round, as with the
  keys.  Clicks on the menus are the switch, as anywhere on the keyboard, and
  so are the switch keys, which the open menu's keyboard grab sends to it.
"""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QAction, QCursor
from PySide6.QtWidgets import QMenu

from .access import EPSILON, Clock, Dwell

OUTSIDE = "outside"  # the dwell target away from the menus


class MenuAccess(QObject):
    def __init__(self, menu: QMenu, *, clock: Clock = time.monotonic,
                 pointer: Callable[[], QPoint] = QCursor.pos,
                 anchor: Callable[[], QRect] = QRect, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.root = menu
        self.clock = clock
        self.pointer = pointer  # the pointer's global position
        self.anchor = anchor  # ⚙'s global rectangle: resting there closes nothing
        self.access = "pointer"
        self.dwell: Dwell = Dwell(0.8, clock=clock)
        self.interval = 1.0
        self.switches = 1
        self.switch_keysyms: dict[int, int] = {}  # X11 keysym -> switch number
        self._scan: list[list] = []  # [menu, items, index] per scanned menu, innermost last
        self._last_step = 0.0
        self._depth = {menu: 0}
        for submenu in self._submenus(menu):
            self._depth.setdefault(submenu, 1)
        for each in self._depth:
            each.installEventFilter(self)

    @staticmethod
    def _submenus(menu: QMenu) -> list[QMenu]:
        return [action.menu() for action in menu.actions() if action.menu() is not None]

    def configure(self, *, access: str, dwell_seconds: float, interval: float, switches: int) -> None:
        self.access, self.interval, self.switches = access, interval, switches
        self.dwell = Dwell(dwell_seconds, clock=self.clock)

    # --- opening and closing --------------------------------------------------
    def open(self, at: QPoint) -> None:
        self.root.popup(at)
        if self.access == "scan":
            self._scan = []
            self._scan_menu(self.root)

    def open_menus(self) -> list[QMenu]:
        """The menus shown, outermost first."""
        return sorted((m for m in self._depth if m.isVisible()), key=self._depth.__getitem__)

    @property
    def is_open(self) -> bool:
        return self.root.isVisible()

    def close_all(self) -> None:
        for menu in reversed(self.open_menus()):
            menu.hide()
        self._scan = []
        self.dwell.leave()

    def _close_innermost(self) -> None:
        menus = self.open_menus()
        if menus:
            menus[-1].hide()
        self.dwell.leave()

    def activate(self, menu: QMenu, action: QAction) -> None:
        """What a click on ``action`` does: open its submenu, or run it with the menus closed."""
        submenu = action.menu()
        if submenu is not None:
            menu.setActiveAction(action)
            if not submenu.isVisible():
                rect = menu.actionGeometry(action)
                submenu.popup(menu.mapToGlobal(rect.topRight()))
            if self.access == "scan":
                self._scan_menu(submenu)
            return
        self.close_all()
        QTimer.singleShot(0, action.trigger)  # after the menus are gone (it may open a dialog)

    # --- dwell ----------------------------------------------------------------
    def _under_pointer(self) -> tuple[QMenu, QAction] | str | None:
        position = self.pointer()
        for menu in reversed(self.open_menus()):
            if menu.geometry().contains(position):
                action = menu.actionAt(menu.mapFromGlobal(position))
                if action is None or action.isSeparator() or not action.isEnabled():
                    return None  # a margin or a separator: nothing to press
                return menu, action
        return None if self.anchor().contains(position) else OUTSIDE

    def tick(self) -> None:
        """The keyboard's timer beat while a menu is open."""
        if not self.is_open:
            self._scan = []
            return
        if self.access == "dwell":
            target = self._under_pointer()
            if target is None:
                self.dwell.leave()
                return
            self.dwell.enter(target)
            fired = self.dwell.poll()
            if fired == OUTSIDE:
                self._close_innermost()
            elif fired is not None:
                self.activate(*fired)
        elif self.access == "scan" and self._scan and self.switches == 1:
            while self._scan and self.clock() - self._last_step >= self.interval - EPSILON:
                self._step()

    # --- scanning -------------------------------------------------------------
    def _scan_menu(self, menu: QMenu) -> None:
        items = [a for a in menu.actions() if a.isVisible() and a.isEnabled() and not a.isSeparator()]
        if not items:
            return
        self._scan.append([menu, items, 0])
        self._highlight()

    def _highlight(self) -> None:
        self._last_step = self.clock()
        if self._scan:
            menu, items, index = self._scan[-1]
            menu.setActiveAction(items[index])

    def _step(self) -> None:
        level = self._scan[-1]
        level[2] += 1
        if level[2] < len(level[1]):
            self._highlight()
            return
        self._scan.pop()  # a round without a select: this menu closes
        level[0].hide()
        if not self._scan:
            self.close_all()
            return
        self._highlight()

    def switch(self, number: int) -> None:
        """A scanning switch, as ``Scanner.switch``: with two switches 0 steps, otherwise it selects."""
        if not self._scan:
            return
        if self.switches == 2 and number == 0:
            self._step()
            return
        menu, items, index = self._scan[-1]
        self.activate(menu, items[index])

    @property
    def scanning(self) -> bool:
        return self.access == "scan" and self.is_open

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """While scanning, a click on a menu (or away from it) and the switch keys are the switch."""
        if self.access != "scan" or not self._scan:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            two = self.switches == 2
            self.switch(0 if two and event.button() == Qt.MouseButton.RightButton else 1)
            return True
        if kind in (QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove):
            return True  # (a release over an item would run it)
        if kind == QEvent.Type.KeyPress and event.nativeVirtualKey() in self.switch_keysyms:
            self.switch(self.switch_keysyms[event.nativeVirtualKey()])
            return True
        return False
