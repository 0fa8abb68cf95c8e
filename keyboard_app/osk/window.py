"""The on-screen keyboard's window: a suggestion row over the layout's keys.

It never takes the focus, so a press types into the application the user
was in: a tool window that stays on top with ``WindowDoesNotAcceptFocus``
(on X11 its input hint is off, which window managers honour), shown without
activating, and buttons that never take the focus either.

On X11 it is docked to the screen's bottom edge by default (``dock``;
⚙ → Position: the top edge, or floating): the window manager keeps other
windows and their dialogs out of its strip, where a keyboard floating on
top hid their buttons.  Docked, it spans the screen's width, is as high as
its keys need, at 100 % no more than about a third of a short screen (its
keys lower there, ``docked_key_px``), and has no title bar (⚙ → Close
keyboard closes it); the floating place is kept for when it is undocked.  When the screens change (a
new resolution, a monitor added or removed) it docks again across its
screen, or, floating, is kept inside the available area (``_follow_screens``).

Three ways to press a key, each usable alone (``OskSettings.access``):
a pointer click; dwell (rest the pointer on a key; it fills up, then
presses); switch scanning (``access.Scanner``: the suggestion row first,
then the rows, then a row's keys).  With scanning, a click anywhere on the
keyboard is the switch (the left button selects; with two switches the
right button steps), and so are the switch keys (``switches``: keys a switch
interface sends, grabbed while scanning); ``switch(n)`` is the same from code.
The ⚙ key (scanned last, after the rows) opens the settings menu, which is
reached the same three ways (``menu_access``).  Its dialogs (a layout file,
the switch keys) are ordinary windows beside the keyboard, not modal to it,
so its keys type into them; when one closes, the window typed into before
gets the focus back (``focus_window``).

The window only shows and forwards: ``OskController`` does the typing and
the predicting, ``FocusWatcher`` tells it when the target changes (and
whether the new one is a terminal, by its ``WM_CLASS``), and the input
listener (``physical``, while the keyboard is shown) the keys typed on the
physical keyboard and the clicks outside the keyboard and its menu.

Its look follows the editor's: the application's palette (the theme, set by
``ui.appearance``) chooses the light or the dark colours, and the editor's
high contrast and larger buttons (``follow_editor``) add to the keyboard's
own high contrast and key size, so one setting means the same in both.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Hashable

from PySide6.QtCore import QByteArray, QEvent, QPoint, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QActionGroup, QColor, QFont, QMouseEvent, QPainter, QScreen
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QVBoxLayout,
    QWidget,
)

from ..ui.appearance import is_dark
from ..ui.elide import fitting_font
from .access import Clock, Dwell, Scanner
from .context import FocusWatcher, is_terminal
from .controller import LATCHED, LOCKED, KeyStats, OskController
from .dock import Rect
from .layout import MODIFIERS, Key, Layout, load_layout
from .menu_access import MenuAccess
from .settings import SLOTS, OskSettings, OskSettingsStore

log = logging.getLogger(__name__)

TICK_MS = 30  # dwell fill and scan timing resolution
FOCUS_POLL_MS = 200
BASE_KEY_PX = 46  # a key's height at 100 %
BASE_FONT_PT = 13
WIDTH_UNIT = 4  # layout widths (1, 1.5, 1.75...) as integer stretch factors
LABEL_SHRINK = 0.4  # a label that does not fit its key is drawn smaller, down to this share of its size
LABEL_MARGIN_PX = 2  # kept clear on each side of a label
DIALOG_WIDTH = 720  # the ⚙ menu's dialogs at least this wide: the file dialog's title says what to do
TITLE_ROOM = 32  # kept for a dialog's title bar when it is placed beside the keyboard
ZOOM_STEP = 25  # "Larger keys" and "Smaller keys" change the size by this many percent
TOO_LARGE = "The keys are as large as this screen allows."
STICKY_TIP = "{}: click once for the next key, twice to keep it on until clicked again"
MAX_DOCK_MOVES = 3  # a docked keyboard moved elsewhere is put back on its edge this often at most
LARGER_KEYS = 1.5  # the editor's "Larger suggestion buttons": keys this much taller (the strip's 60 / 40 px)
#: Docked, the keyboard takes at most this share of its screen's height at 100 % (as Onboard
#: docks: about a third), with keys no lower than ``MIN_KEY_PX`` (about 8 mm on a laptop's screen).
DOCK_SHARE = 1 / 3
MIN_KEY_PX = 34
OUTER_MARGIN, OUTER_SPACING = 6, 4  # around the rows, and between them
#: The widest statistics line, kept room for, so that it stays on one line.
WIDEST_STATS = "Keystrokes saved: 100% (9999 of 9999)"

STYLE = """
QWidget#osk { background: #e8eaed; }
QPushButton { background: #ffffff; color: #1b1b1b; border: 1px solid #9aa0a6; border-radius: 6px; }
QPushButton:hover { background: #d2e3fc; }
QPushButton:pressed, QPushButton[latched="true"] { background: #8ab4f8; }
QPushButton[latched="locked"] { background: #8ab4f8; border: 3px solid #1b1b1b; font-weight: bold; }
QPushButton[role="suggestion"] { background: #fef7e0; font-weight: bold; }
QPushButton[scan="group"] { border: 3px solid #e37400; }
QPushButton[scan="key"] { border: 4px solid #d93025; background: #fce8e6; }
QLabel#status { color: #3c4043; }
QLabel#notice { color: #a50e0e; }
"""
HIGH_CONTRAST = """
QWidget#osk { background: #000000; }
QPushButton { background: #000000; color: #ffff00; border: 2px solid #ffffff; border-radius: 4px; }
QPushButton:hover { background: #003a8c; }
QPushButton:pressed, QPushButton[latched="true"] { background: #ffff00; color: #000000; }
QPushButton[latched="locked"] { background: #ffff00; color: #000000; border: 4px solid #00ffff; font-weight: bold; }
QPushButton[role="suggestion"] { color: #00ffff; font-weight: bold; }
QPushButton[scan="group"] { border: 4px solid #ff8c00; }
QPushButton[scan="key"] { border: 5px solid #ff0000; background: #400000; }
QLabel#status, QLabel#notice { color: #ffffff; }
"""
DARK_STYLE = """
QWidget#osk { background: #2b2b2b; }
QPushButton { background: #3c3c3c; color: #e8e8e8; border: 1px solid #6a6a6a; border-radius: 6px; }
QPushButton:hover { background: #284a7e; }
QPushButton:pressed, QPushButton[latched="true"] { background: #3d7bd9; color: #ffffff; }
QPushButton[latched="locked"] { background: #3d7bd9; color: #ffffff; border: 3px solid #ffffff; font-weight: bold; }
QPushButton[role="suggestion"] { background: #463f26; font-weight: bold; }
QPushButton[scan="group"] { border: 3px solid #f9a825; }
QPushButton[scan="key"] { border: 4px solid #ff6e60; background: #5c2622; }
QLabel#status { color: #c8c8c8; }
QLabel#notice { color: #ff8a80; }
"""
#: High contrast on a light theme: black on white, as the editor's is (white on black when dark).
LIGHT_HIGH_CONTRAST = """
QWidget#osk { background: #ffffff; }
QPushButton { background: #ffffff; color: #000000; border: 2px solid #000000; border-radius: 4px; }
QPushButton:hover { background: #c6dafc; }
QPushButton:pressed, QPushButton[latched="true"] { background: #000000; color: #ffffff; }
QPushButton[latched="locked"] { background: #000000; color: #ffffff; border: 4px solid #0000c0; font-weight: bold; }
QPushButton[role="suggestion"] { color: #0000c0; font-weight: bold; }
QPushButton[scan="group"] { border: 4px solid #b35900; }
QPushButton[scan="key"] { border: 5px solid #c00000; background: #ffe0e0; }
QLabel#status, QLabel#notice { color: #000000; }
"""


def docked_key_px(base: float, screen_height: int, rows: int) -> float:
    """The keys' height that lets ``rows`` rows (the suggestions' and the keys'), their margins
    and spacing take ``DOCK_SHARE`` of ``screen_height``: at most ``base``, at least ``MIN_KEY_PX``.
    (A notice, while one is shown, comes on top.)"""
    room = screen_height * DOCK_SHARE - 2 * OUTER_MARGIN - OUTER_SPACING * (rows - 1)
    return max(MIN_KEY_PX, min(base, room / rows))


def style_sheet(*, dark: bool, high_contrast: bool) -> str:
    """The keyboard's colours on a dark or light palette, in high contrast or not."""
    if high_contrast:
        return HIGH_CONTRAST if dark else LIGHT_HIGH_CONTRAST
    return DARK_STYLE if dark else STYLE


class KeyButton(QPushButton):
    """A key (or a suggestion slot) that never takes the focus and can show a dwell fill.

    Its label is drawn smaller where it would not fit (a narrow window, larger keys):
    ``set_base_font`` gives the size it has when it fits."""

    hovered = Signal(object)  # self
    unhovered = Signal(object)

    def __init__(self, text: str = "", *, role: str = "key", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAutoDefault(False)
        self.setProperty("role", role)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.fill = 0.0  # dwell progress, 0..1
        self._base_font: QFont | None = None
        #: a suggestion that corrects the typed letters ("alot" -> "a lot"): italics, underlined
        self.correction = False
        self.setText(text)

    def set_base_font(self, font: QFont) -> None:
        self._base_font = QFont(font)
        self._fit_label()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        # A button reads "&" as the mark of a shortcut letter (Shift+7's "&" showed nothing,
        # "R&D" read "RD"): doubled, it is drawn as itself.
        super().setText(text.replace("&", "&&"))
        self._fit_label()

    def text(self) -> str:
        """The label as given to ``setText`` (the "&" it doubled single again)."""
        return super().text().replace("&&", "&")

    def label_width(self) -> int:
        """The room for the label: the button less its border and padding."""
        option = QStyleOptionButton()
        self.initStyleOption(option)
        rect = self.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, self)
        return rect.width() - 2 * LABEL_MARGIN_PX

    def set_correction(self, correction: bool) -> None:
        """Mark the suggestion as a correction of the typed letters, as the editor's strip
        does: in italics, underlined, and named so to a screen reader."""
        if correction != self.correction:
            self.correction = correction
            self._fit_label()
        self.setAccessibleName(f"{self.text()} (correction)" if correction and self.text() else "")

    def _fit_label(self) -> None:
        base = QFont(self.font() if self._base_font is None else self._base_font)
        base.setItalic(self.correction)
        base.setUnderline(self.correction)
        if self._base_font is None:  # (no size to fit to yet: only the marks)
            if base != self.font():
                self.setFont(base)
            return
        font = fitting_font(base, self.text(), self.label_width(), LABEL_SHRINK)
        if font != self.font():
            self.setFont(font)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_label()

    def set_fill(self, fill: float) -> None:
        if abs(fill - self.fill) > 1e-3:
            self.fill = fill
            self.update()

    def set_state(self, name: str, value: str) -> None:
        if self.property(name) != value:
            self.setProperty(name, value)
            self.style().unpolish(self)
            self.style().polish(self)

    def enterEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().enterEvent(event)
        self.hovered.emit(self)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        super().leaveEvent(event)
        self.unhovered.emit(self)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().paintEvent(event)
        if self.fill > 0:
            painter = QPainter(self)
            rect = QRectF(self.rect()).adjusted(2, 2, -2, -2)
            rect.setTop(rect.bottom() - rect.height() * self.fill)
            painter.fillRect(rect, QColor(26, 115, 232, 110))
            painter.end()


def _screen_beyond(area: QRect, edge: str) -> bool:
    """Whether another screen lies below (``edge`` "bottom") or above ("top") ``area``, across
    some of its width (monitors stacked one above the other)."""
    for other in QApplication.screens():
        g = other.geometry()
        if g == area or g.right() < area.left() or g.left() > area.right():
            continue
        if (edge == "bottom" and g.top() > area.bottom()) or (edge == "top" and g.bottom() < area.top()):
            return True
    return False


class OnScreenKeyboard(QWidget):
    settings_changed = Signal(object)  # OskSettings
    closed = Signal()  # a tool window is not the app's "last window": its runner quits on this

    def __init__(
        self,
        *,
        controller: OskController,
        settings: OskSettings = OskSettings(),
        store: OskSettingsStore | None = None,
        clock: Clock = time.monotonic,
        active_window: Callable[[], Hashable | None] | None = None,
        window_class: Callable[[Hashable], tuple[str, str] | None] | None = None,
        switch_keys: Callable[[tuple[str, ...]], Any] | None = None,
        focus_window: Callable[[Hashable], Any] | None = None,
        dock: Any = None,
        input_listener: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("osk")
        self.setWindowTitle("On-Screen Keyboard")
        self.setWindowFlags(Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint
                            | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_X11DoNotAcceptFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.controller = controller
        self.settings = settings
        self.store = store
        self.clock = clock
        self.problems: list[str] = []
        self._switch_factory = switch_keys  # keys -> an X11KeyGrab-like object (None: clicks only)
        self._switch_grab: Any = None
        self._menu_was_open = False
        self.editor_high_contrast = False  # the editor's Preferences (``follow_editor``)
        self.editor_larger_buttons = False
        self._window_class = window_class  # a window id -> its WM_CLASS (None: terminals unknown)
        self._target: Hashable | None = None  # the window typed into, as last classified
        self._focus_window = focus_window  # gives a window the focus again (None: cannot)
        self._dialog: QDialog | None = None  # a dialog of the ⚙ menu's, while it is open
        self._key_height = 0  # the keys' height as last applied (a change fits the window again)
        self._docker = dock  # an ``X11Dock`` (None: docking is not available here)
        self._docked_edge: str | None = None  # the edge it is docked to now
        self._floating_geometry: QByteArray | None = None  # its place before it was docked
        self._docked_at = QPoint()  # where it was put on its edge
        self._dock_moves = 0  # moves back there since (``moveEvent``)
        self._strut: tuple | None = None  # the strip as last reserved (``_place_docked``)
        # A change of the screens (a new resolution, a monitor added or removed) comes as a burst
        # of signals: the keyboard follows once they are through (``_follow_screens``).
        self._screens_settle = QTimer(self, singleShot=True, interval=0)
        self._screens_settle.timeout.connect(self._follow_screens)
        self._watched_window: Any = None  # the QWindow whose screenChanged is connected (``showEvent``)
        application = QApplication.instance()
        application.screenAdded.connect(self._screen_added)
        for signal in (application.screenRemoved, application.primaryScreenChanged):
            signal.connect(self._screens_changed)
        for screen in QApplication.screens():
            self._watch_screen(screen)
        self.layout_data, problem = load_layout(settings.layout_path)
        if problem:
            self.problems.append(problem)

        self.suggestion_buttons: list[KeyButton] = []
        self._scan_marks: dict[KeyButton, str] = {}  # the buttons marked by the scan highlight
        self.key_buttons: list[list[KeyButton]] = []
        self._keys: dict[KeyButton, Key] = {}
        self.dwell: Dwell[KeyButton] = Dwell(settings.dwell_ms / 1000, clock=clock)
        self.scanner = Scanner([0], switches=settings.scan_switches,
                               interval=settings.scan_interval_ms / 1000, clock=clock)
        self._build()
        self._tick = QTimer(self, interval=TICK_MS)
        self._tick.timeout.connect(self.tick)
        self.focus_watcher: FocusWatcher | None = None
        self._focus_timer = QTimer(self, interval=FOCUS_POLL_MS)
        if active_window is not None:
            own = lambda window: window == int(self.winId())  # noqa: E731 - the keyboard itself
            self.focus_watcher = FocusWatcher(active_window, self._focus_changed, ignore=own)
            self._focus_timer.timeout.connect(self.poll_focus)
            self._focus_timer.start()

        # The physical keyboard's keys and the pointer's clicks (``physical.X11InputListener``;
        # None: the keyboard knows only its own keys).  It listens while the keyboard is shown.
        self._input_listener = input_listener
        self._listening = False
        self._listened = False  # it listened before: keys typed since it stopped went unheard
        if input_listener is not None:
            input_listener.key.connect(self._physical_key)
            input_listener.click.connect(self._pointer_clicked)
        controller.suggestions_changed.connect(self._show_suggestions)
        controller.modifiers_changed.connect(self._show_modifiers)
        controller.sticky_changed.connect(self._show_modifiers)
        controller.stats_changed.connect(self._show_stats)
        controller.status_changed.connect(self.status.setText)
        controller.send_failed.connect(self.show_status)
        controller.learning = settings.learn_from_typing
        self._styling = False
        self.apply_settings(settings, save=False)
        if settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(settings.window_geometry.encode()))
        else:
            self.resize(960, 330)
        self._apply_dock()
        if self.problems:
            self.show_status(self.problems[0])
        controller.refresh()

    # --- the window typed into --------------------------------------------------
    def poll_focus(self) -> None:
        """Look at the active window once (the timer's beat, and before each physical key): a
        new one takes its context (its own, kept from before, or a sentence start) and is
        classified (a terminal or not), and so is the first one seen."""
        if self.focus_watcher is None:
            return
        if not self.focus_watcher.poll():  # a change calls ``_focus_changed``
            self.controller.focus_settled()
        current = self.focus_watcher.current
        if current is not None and current != self._target:
            wm_class, terminal = self._classify(current)
            self.controller.set_target(terminal=terminal, window=current, wm_class=wm_class)

    def _focus_changed(self, window: Hashable | None) -> None:
        wm_class, terminal = self._classify(window)
        self.controller.focus_changed(window, wm_class=wm_class, terminal=terminal)

    def _physical_key(self, key: Any) -> None:
        """A key pressed on the desktop (``physical.PhysicalKey``): while the keyboard's menu is
        open it goes to the menu (Escape closes it), not to the window typed into."""
        self.poll_focus()  # (a key right after a switch goes to the new window, not the old one's context)
        if QApplication.activePopupWidget() is None:
            self.controller.physical_key(key)

    def _pointer_clicked(self, click: Any) -> None:
        """A mouse button pressed on the desktop (``physical.PointerClick``): outside the keyboard
        and its menu it may have moved the text cursor anywhere (the wheel moves none)."""
        from .physical import WHEEL_BUTTONS

        if click.button in WHEEL_BUTTONS or self._owns_point(click.x, click.y):
            return
        self.controller.cursor_moved()

    def _owns_point(self, x: int, y: int) -> bool:
        """Whether the screen's pixel (x, y) lies on the keyboard or on its ⚙ menu."""
        ratio = (self.screen() or QApplication.primaryScreen()).devicePixelRatio()
        widget = QApplication.topLevelAt(QPoint(round(x / ratio), round(y / ratio)))
        if widget is self:
            return True
        while isinstance(widget, QMenu):  # (a submenu's parent is its menu)
            widget = widget.parentWidget()
            if widget is self:
                return True
        return False

    def _listen(self, on: bool) -> None:
        """Start or stop following the physical keyboard (never where the settings say not to,
        ``follow_physical_keys``); why it cannot, logged once.  Started again (turned back on,
        the keyboard shown again after it closed), it missed the keys typed meanwhile: the word
        under way is not completed (``OskController.keys_went_unheard``)."""
        listener = self._input_listener
        on = on and self.settings.follow_physical_keys
        if listener is None or on == self._listening:
            return
        if not on:
            listener.stop()
            self._listening = False
            return
        problem = listener.start()
        if problem:
            log.info("%s; the suggestions follow the on-screen keyboard's own keys only", problem)
            self._input_listener = None  # (said once; it would fail the same way again)
            self._follow_action.setEnabled(False)
            return
        self._listening = True
        if self._listened:
            self.controller.keys_went_unheard()
        self._listened = True

    def _classify(self, window: Hashable | None) -> tuple[tuple[str, ...] | None, bool]:
        """The window typed into from now on: its ``WM_CLASS`` (None: unknown) and whether it
        is a terminal."""
        self._target = window
        wm_class = None
        if window is not None and self._window_class is not None:
            try:
                found = self._window_class(window)
                wm_class = tuple(found) if found else None
            except Exception as e:  # noqa: BLE001 - a window gone, a lost display: not a terminal
                log.debug("the class of window %s is unknown: %s", window, e)
        return wm_class, is_terminal(wm_class)

    # --- building -----------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(OUTER_MARGIN, OUTER_MARGIN, OUTER_MARGIN, OUTER_MARGIN)
        outer.setSpacing(OUTER_SPACING)
        top = QHBoxLayout()
        top.setSpacing(4)
        for index in range(SLOTS[1]):
            button = KeyButton(role="suggestion")
            button.setObjectName(f"suggestion{index + 1}")
            button.clicked.connect(lambda _=False, i=index: self.press_suggestion(i))
            self._watch(button)
            top.addWidget(button, 3)
            self.suggestion_buttons.append(button)
        self.status = QLabel("")
        self.status.setObjectName("status")
        # One line, with room kept for the widest statistics (``_apply_look``): wrapped, the
        # narrow label took two lines on a laptop's screen.
        self.status.setWordWrap(False)
        self.status.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        top.addWidget(self.status, 2)
        # ⚙ is a key like the others (a click, a dwell or a scan select opens the menu), and the
        # menu is reached the same three ways (``menu_access``).
        self.menu_button = KeyButton("⚙", role="menu")
        self.menu_button.setObjectName("menu")
        self.menu_button.setToolTip("Keyboard settings")
        self.menu_button.clicked.connect(self.open_menu)
        self._watch(self.menu_button)
        top.addWidget(self.menu_button, 1)
        self.menu = self._build_menu()
        button = self.menu_button
        self.menu_access = MenuAccess(self.menu, clock=self.clock, parent=self,
                                      anchor=lambda: QRect(button.mapToGlobal(QPoint(0, 0)), button.size()))
        outer.addLayout(top, 1)
        self.notice = QLabel("")  # a problem with a file of the user's, until it is dealt with
        self.notice.setTextFormat(Qt.TextFormat.PlainText)  # its path as it is, never markup
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        outer.addWidget(self.notice)
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setSpacing(4)
        outer.addLayout(self.rows_layout, len(self.layout_data.rows))
        self._build_keys(self.layout_data)

    def _build_keys(self, layout: Layout) -> None:
        for row in self.key_buttons:
            for button in row:
                button.deleteLater()
        while (item := self.rows_layout.takeAt(0)) is not None:
            if item.layout() is not None:
                item.layout().deleteLater()
        self.key_buttons, self._keys, self._scan_marks = [], {}, {}
        self.layout_data = layout
        for row in layout.rows:
            line = QHBoxLayout()
            line.setSpacing(4)
            buttons = []
            for key in row:
                button = KeyButton(key.caption(False))
                button.setObjectName(f"key-{key.action or key.char}")
                if key.action in MODIFIERS:
                    button.setToolTip(STICKY_TIP.format(key.caption(False)))
                button.clicked.connect(lambda _=False, b=button: self.press_button(b))
                self._watch(button)
                line.addWidget(button, max(1, round(key.width * WIDTH_UNIT)))
                buttons.append(button)
                self._keys[button] = key
            self.rows_layout.addLayout(line, 1)
            self.key_buttons.append(buttons)
        self._show_modifiers()
        self._update_scan_groups()

    def _watch(self, button: KeyButton) -> None:
        button.hovered.connect(self._hovered)
        button.unhovered.connect(self._unhovered)

    def _choices(self, menu: QMenu, setting: str, choices: list[tuple[Any, str]]) -> None:
        """One checkable item per value of ``setting``, the current one checked (``_show_choices``)."""
        group = QActionGroup(self)
        for value, text in choices:
            action = menu.addAction(text)
            action.setCheckable(True)
            group.addAction(action)
            action.triggered.connect(lambda _=False, v=value: self.update_settings(**{setting: v}))
            self._choice_actions[setting, value] = action

    def _build_menu(self) -> QMenu:
        menu = QMenu(self)
        # The menu closes under the pointer, so ⚙ never gets its leave event: it kept its hover colour.
        menu.aboutToHide.connect(self._menu_closed)
        self._choice_actions: dict[tuple[str, Any], Any] = {}
        self._choices(menu.addMenu("Access method"), "access", [
            ("pointer", "Click"), ("dwell", "Dwell (hover to press)"), ("scan", "Switch scanning")])
        self._choices(menu.addMenu("Dwell time"), "dwell_ms",
                      [(ms, f"{ms / 1000:g} s") for ms in (300, 500, 800, 1000, 1500, 2000)])
        scan = menu.addMenu("Scanning")
        self._choices(scan, "scan_switches", [(1, "One switch (the highlight moves by itself)"),
                                              (2, "Two switches (right click steps, left click selects)")])
        scan.addAction("Switch keys…", self._choose_switch_keys)
        scan.addSeparator()
        self._choices(scan, "scan_interval_ms",
                      [(ms, f"Step every {ms / 1000:g} s") for ms in (500, 750, 1000, 1500, 2000, 3000)])
        self._choices(menu.addMenu("Suggestions"), "suggestion_slots",
                      [(n, f"{n} suggestions") for n in range(SLOTS[0], SLOTS[1] + 1)])
        menu.addSeparator()
        menu.addAction("Larger keys", lambda: self.zoom(+ZOOM_STEP))
        menu.addAction("Smaller keys", lambda: self.zoom(-ZOOM_STEP))
        self._contrast_action = menu.addAction("High contrast")
        self._contrast_action.setCheckable(True)
        self._contrast_action.triggered.connect(lambda on: self.update_settings(high_contrast=on))
        self._learn_action = menu.addAction("Learn from what I type here")
        self._learn_action.setCheckable(True)
        self._learn_action.setToolTip("Counts the words you type on this keyboard to improve the "
                                      "suggestions; only counts are kept, never your text.")
        menu.setToolTipsVisible(True)
        self._learn_action.triggered.connect(lambda on: self.update_settings(learn_from_typing=on))
        self._follow_action = menu.addAction("Follow the physical keyboard")
        self._follow_action.setCheckable(True)
        self._follow_action.setToolTip(
            "Suggests from what you type on the physical keyboard too, so that the two never run "
            "words together. It hears every key while it is shown, a password too: kept in memory "
            "for the suggestions only, never stored or learned. Turn it off to keep it out.")
        self._follow_action.triggered.connect(lambda on: self.update_settings(follow_physical_keys=on))
        menu.addSeparator()
        menu.addAction("Layout file…", self._choose_layout)
        menu.addAction("Built-in QWERTY layout", lambda: self.update_settings(layout_path=""))
        menu.addSeparator()
        position = menu.addMenu("Position")
        self._choices(position, "dock", [("bottom", "Docked at the bottom (windows keep clear of it)"),
                                         ("top", "Docked at the top (windows keep clear of it)"),
                                         ("none", "Floating (over other windows, move it anywhere)")])
        if self._docker is None:  # (Wayland, Windows, macOS, or no X11 display)
            position.setTitle("Position (docking needs an X11 session)")
            position.menuAction().setEnabled(False)
        menu.addAction("Close keyboard", self.close)  # (docked, it has no title bar)
        return menu

    # --- settings ---------------------------------------------------------------
    def update_settings(self, **changes) -> None:
        self.apply_settings(self.settings.with_(**changes))

    def apply_settings(self, settings: OskSettings, *, save: bool = True) -> None:
        old, self.settings = self.settings, settings
        if settings.layout_path != old.layout_path:
            layout, problem = load_layout(settings.layout_path)
            self._build_keys(layout)
            self.show_status(problem or "")
        self._show_choices()
        self._learn_action.setChecked(settings.learn_from_typing)
        self.controller.learning = settings.learn_from_typing
        self._follow_action.setChecked(settings.follow_physical_keys)
        self._follow_action.setEnabled(self._input_listener is not None)
        if settings.follow_physical_keys != old.follow_physical_keys:
            self._listen(settings.follow_physical_keys and self.isVisible())
            if not settings.follow_physical_keys:
                self.controller.cursor_moved(click=False)  # (what it heard is forgotten: a sentence start)
        self.dwell = Dwell(settings.dwell_ms / 1000, clock=self.clock)
        self.scanner = Scanner(self._scan_sizes(), switches=settings.scan_switches,
                               interval=settings.scan_interval_ms / 1000, clock=self.clock)
        self.menu_access.configure(access=settings.access, dwell_seconds=settings.dwell_ms / 1000,
                                   interval=settings.scan_interval_ms / 1000, switches=settings.scan_switches)
        self.menu_access.switch_keysyms = self._switch_keysyms(settings)
        # (docked or undocked next: a fit to the keys' new size first would place it, and save
        # its floating place, as it is leaving)
        self._apply_look(fit=settings.dock == old.dock)
        if settings.dock != old.dock:
            self._apply_dock()
        for button in self._all_buttons():
            button.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, settings.access == "scan")
            button.set_fill(0)
        self._tick.stop()
        if settings.access in ("dwell", "scan"):
            self._tick.start()
        self._update_switch_keys(old)
        if settings.suggestion_slots != self.controller.slots:
            self.controller.set_slots(settings.suggestion_slots)
        self._show_suggestions(self.controller.suggestions)
        if save and settings != old:
            self.settings_changed.emit(settings)
            self._save()

    def _show_choices(self) -> None:
        """Check the menu items of the current settings (a value set in the file that no item
        offers, such as a dwell time of 0.7 s, leaves its group unchecked)."""
        for (setting, value), action in self._choice_actions.items():
            action.setChecked(getattr(self.settings, setting) == value)

    def zoom(self, step: int) -> None:
        """Keys ``step`` percent larger (or smaller), unless larger ones would not fit on the
        screen: the window would go past its edge, which is said instead."""
        old = self.settings.zoom_percent
        if self.notice.text() == TOO_LARGE:
            self.show_status("")
        self.update_settings(zoom_percent=old + step)
        screen = self._screen_area()
        need = self.layout().totalMinimumSize()
        if step > 0 and (need.width() > screen.width() or need.height() > screen.height()):
            self.update_settings(zoom_percent=old)
            self.show_status(TOO_LARGE)

    def follow_editor(self, *, high_contrast: bool, larger_buttons: bool) -> None:
        """The editor's high contrast and larger buttons (its Preferences), shown at once.  The
        theme itself is the application's palette, followed by ``changeEvent``."""
        self.editor_high_contrast, self.editor_larger_buttons = high_contrast, larger_buttons
        self._apply_look()

    def high_contrast(self) -> bool:
        """Drawn in high contrast: the keyboard's own choice or the editor's."""
        return self.settings.high_contrast or self.editor_high_contrast

    def _apply_look(self, *, fit: bool = True) -> None:
        """The colours (the palette's light or dark, high contrast) and the keys' sizes (the
        window fitted to them, unless ``fit`` is False: it is docked or undocked next)."""
        high_contrast = self.high_contrast()
        self._contrast_action.setChecked(high_contrast)
        # Turned on in the editor, it is turned off there: the keyboard cannot override it.
        self._contrast_action.setEnabled(not self.editor_high_contrast)
        self._contrast_action.setToolTip("On in the editor's Preferences (Appearance)"
                                         if self.editor_high_contrast else "")
        sheet = style_sheet(dark=is_dark(QApplication.palette()), high_contrast=high_contrast)
        if self.styleSheet() != sheet:
            self._styling = True  # a style sheet sends palette changes of its own
            try:
                self.setStyleSheet(sheet)
            finally:
                self._styling = False
        self.status.setMinimumWidth(self.status.fontMetrics().horizontalAdvance(WIDEST_STATS) + 8)
        self._size_keys(fit=fit)

    def key_height(self) -> int:
        """The keys' height: the base size, taller with the editor's larger buttons, times the
        keyboard's own zoom.  Docked, the base is what lets the keyboard take ``DOCK_SHARE`` of
        its screen's height (down to ``MIN_KEY_PX``), where the usual size takes more: on a
        1366x768 laptop it took 40 % (58 % with larger buttons), hiding much of the window
        typed into.  The keyboard's own "Larger keys" still makes it larger from there."""
        base = BASE_KEY_PX * (LARGER_KEYS if self.editor_larger_buttons else 1.0)
        if self.dock_edge() is not None:
            screen = (self.screen() or QApplication.primaryScreen()).geometry()
            base = docked_key_px(base, screen.height(), len(self.layout_data.rows) + 1)
        return round(base * self.settings.zoom_percent / 100)

    def _size_keys(self, *, fit: bool = True) -> None:
        """The keys' fonts and sizes (``key_height``); a change fits the window again (``fit``)."""
        zoom = self.settings.zoom_percent / 100
        font = QFont(self.font())
        font.setPointSizeF(BASE_FONT_PT * zoom)
        height = self.key_height()
        for button in self._all_buttons():
            button.set_base_font(font)
            button.setMinimumHeight(height)
            button.setMinimumWidth(round(BASE_KEY_PX * zoom * 0.8))
        if height != self._key_height:
            self._key_height = height
            if fit and self.isVisible():
                self.fit_to_content()

    def fit_to_content(self) -> None:
        """The window as high as its content and inside the screen's available area: keys that
        grow move it up (or left) rather than past the screen's edge, where larger keys had put
        the bottom row, and keys that shrink shrink it again.  The width is the user's, within
        what the keys need and the screen gives.  Docked, it stays on its edge, its strip
        growing or shrinking with it."""
        if self._docked_edge is not None:
            self._place_docked(self._docked_edge)
            return
        frame, inner = self.frameGeometry(), self.geometry()  # (before the layout resizes the window)
        extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()  # the title bar
        layout = self.layout()
        layout.invalidate()
        layout.activate()
        need = layout.totalMinimumSize()
        screen = (self.screen() or QApplication.primaryScreen()).availableGeometry()
        width = max(need.width(), min(inner.width(), screen.width() - extra_w))
        self.resize(width, need.height())
        x = max(screen.left(), min(frame.x(), screen.right() + 1 - width - extra_w))
        y = max(screen.top(), min(frame.y(), screen.bottom() + 1 - need.height() - extra_h))
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    # --- docking ----------------------------------------------------------------
    def dock_edge(self) -> str | None:
        """The edge the keyboard is to be docked to: None when it floats, or where docking is
        not available (the setting is kept for an X11 session)."""
        return self.settings.dock if self._docker is not None and self.settings.dock != "none" else None

    def _apply_dock(self) -> None:
        """Dock, move to the other edge or undock, as the setting says.  The window manager reads
        a window's type when it maps it: a window docked or undocked while shown is hidden and
        shown again, and undocked it is given its floating place back."""
        edge, was = self.dock_edge(), self._docked_edge
        if edge is None and was is None:
            return
        if edge is not None:
            if was is None:
                self._floating_geometry = self.saveGeometry()
            self._place_docked(edge)  # (or undocked: another monitor now lies beyond that edge)
        else:
            self._undock()
        if (self._docked_edge is None) != (was is None) and self.isVisible():
            self.hide()
            self.show()

    def _undock(self) -> None:
        """Its strip given back, its floating place given back to it."""
        try:
            self._docker.undock(int(self.winId()))
        except Exception as e:  # noqa: BLE001 - a lost display: nothing is reserved any more
            log.info("the keyboard's strip could not be given back: %s", e)
        self._docked_edge = self._strut = None
        if self._floating_geometry is not None:
            self.restoreGeometry(self._floating_geometry)

    def _place_docked(self, edge: str) -> None:
        """Across the whole screen at ``edge``, as high as the keys need, its strip reserved.  The
        strip is reserved anew only where it differs from the one reserved last: our own strip
        changes the screen's available area, which calls ``_follow_screens`` again, and that call
        ends here."""
        screen = self.screen() or QApplication.primaryScreen()
        area = screen.geometry()  # (the available area is less our own strip once docked)
        if _screen_beyond(area, edge):
            # A strut counts from the edge of the whole X screen: one here would reserve the
            # other monitor's height as well, so the keyboard stays where it is, floating (and
            # one docked before that monitor came is undocked: its strut would now be wrong).
            log.info("the keyboard is not docked: another monitor lies beyond this one's %s edge", edge)
            if self._docked_edge is not None:
                self._undock()
            return
        self._size_keys(fit=False)  # (a share of this screen's height)
        layout = self.layout()
        layout.invalidate()
        layout.activate()
        height = min(layout.totalMinimumSize().height(), area.height())
        y = area.bottom() + 1 - height if edge == "bottom" else area.top()
        place = QRect(area.left(), y, area.width(), height)  # (a dock has no frame)
        if self.geometry() != place or self._docked_edge != edge:
            self.setGeometry(place)
            self._docked_at, self._dock_moves = place.topLeft(), 0
        ratio = screen.devicePixelRatio()  # struts are in the X screen's own pixels
        root = screen.virtualGeometry()
        native = Rect(round(area.left() * ratio), round(y * ratio), round(area.width() * ratio),
                      round(height * ratio))
        strut = (edge, native, round((root.y() + root.height()) * ratio))
        if self._docked_edge == edge and strut == self._strut:
            return
        try:
            self._docker.dock(int(self.winId()), *strut)
        except Exception as e:  # noqa: BLE001 - a lost display: it stays where it is, undocked
            log.info("the keyboard could not be docked: %s", e)
            return
        self._docked_edge, self._strut = edge, strut

    # --- following the screens ----------------------------------------------------
    def _watch_screen(self, screen: QScreen) -> None:
        """Follow ``screen``'s size and available area (every screen's: another one's size moves
        the X screen's edge, from which the strip is counted, and may put it beyond ours)."""
        screen.geometryChanged.connect(self._screens_changed)
        screen.availableGeometryChanged.connect(self._screens_changed)

    def _screen_added(self, screen: QScreen) -> None:
        self._watch_screen(screen)
        self._screens_changed()

    def _screens_changed(self, *_: Any) -> None:
        self._screens_settle.start()

    def _moved_to_screen(self, _screen: QScreen) -> None:
        """Docked, it docks across its new screen.  Floating, it is where the user dragged it:
        kept inside one screen, a window dragged across to the next one would jump."""
        if self._docked_edge is not None or self.dock_edge() is not None:
            self._screens_settle.start()

    def _follow_screens(self) -> None:
        """The screens changed (a new resolution, a monitor added or removed, the keyboard on
        another screen): docked, it is put on its edge again, across the new width, its strip
        reserved anew; floating, it is kept inside the available area.  A docked one left its
        old place and strut: too wide, or mid-screen, or short of the edge, its strip reserving
        the wrong area."""
        if self.dock_edge() is not None:
            self._apply_dock()
            if self._docked_edge is not None:
                return
        if self.isVisible():
            self.fit_to_content()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._listen(True)
        # Closed from the editor's menu and shown again: the timers ``closeEvent`` stopped.
        if self.focus_watcher is not None and not self._focus_timer.isActive():
            self._focus_timer.start()
        if self.settings.access in ("dwell", "scan") and not self._tick.isActive():
            self._tick.start()
        handle = self.windowHandle()  # (there is one once it is shown; a new one if Qt made it anew)
        if handle is not None and handle is not self._watched_window:
            handle.screenChanged.connect(self._moved_to_screen)
            self._watched_window = handle

    def moveEvent(self, event) -> None:  # noqa: N802 - Qt API
        """Docked, it stays where it was put.  Qt reads the window's place again when the window
        manager takes it in, and under openbox now and then got (0, 0), from before the window
        was on its edge: the menu and the dialogs were then placed by that.  Put back, the
        window manager reports the right place; a few times at most, should one keep it elsewhere."""
        super().moveEvent(event)
        if self._docked_edge is not None and self.geometry().topLeft() != self._docked_at \
                and self._dock_moves < MAX_DOCK_MOVES:
            self._dock_moves += 1
            QTimer.singleShot(0, self._back_to_dock)

    def _back_to_dock(self) -> None:
        if self._docked_edge is not None:
            self.setGeometry(QRect(self._docked_at, self.size()))

    def _screen_area(self) -> QRect:
        """Where the keyboard may be: the screen's available area, or, docked, the whole screen
        (the available area leaves out the keyboard's own strip)."""
        screen = self.screen() or QApplication.primaryScreen()
        return screen.geometry() if self._docked_edge is not None else screen.availableGeometry()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if getattr(self, "_styling", True):  # (True until the window is built)
            return
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_look()  # the editor's theme changed (``ui.appearance.apply_theme``)

    def _save(self) -> None:
        if self.store is None:
            return
        try:
            self.store.save(self.settings)
        except OSError as e:
            self.show_status(f"The keyboard settings could not be saved to {self.store.path} "
                              f"({e.strerror or e}).")

    def _update_switch_keys(self, old: OskSettings) -> None:
        """Grab the switch keys while scanning (and only then), ungrab otherwise."""
        wanted = self.settings.access == "scan" and self._switch_factory is not None
        if self._switch_grab is not None and (not wanted or old.switch_keys != self.settings.switch_keys):
            self._switch_grab.stop()
            self._switch_grab = None
            self.controller.reserved_keys = frozenset()
        if wanted and self._switch_grab is None:
            from .switches import parse_switch_keys

            grab = self._switch_factory(parse_switch_keys(self.settings.switch_keys))
            grab.pressed.connect(self._switch_key)
            grab.failed.connect(self.show_status)
            problem = grab.start()
            if problem:
                self.show_status(problem)
            else:
                self._switch_grab = grab
                # the keyboard's own F9 (Fn, 9) would be grabbed too: a switch press, not a key
                self.controller.reserved_keys = frozenset(key.lower() for key in grab.keys)

    def _switch_key(self, index: int) -> None:
        # The first key selects, the second steps (with one switch, both select).
        self.switch(1 if index == 0 else 0)

    # --- the ⚙ menu's dialogs -------------------------------------------------------
    def _ask(self, dialog: QDialog, chosen: Callable[[], None]) -> None:
        """Show a dialog of the menu's as an ordinary window, not modal to the keyboard: it has
        the focus, so the keys type into it (a file's name, the switch keys), while a modal one
        left them dead.  Once it closes, ``chosen`` runs if it was accepted, and the focus goes
        back to the window typed into before: closing it left no window with the focus, and the
        keys typed into nothing."""
        target = self.focus_watcher.current if self.focus_watcher is not None else None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        self._dialog = dialog

        def finished(result: int) -> None:
            self._dialog = None
            if result == QDialog.DialogCode.Accepted:
                chosen()
            self._give_focus_back(target)

        dialog.finished.connect(finished)
        self._place_beside(dialog)
        dialog.show()
        dialog.activateWindow()  # (a window manager gives a new window the focus only when asked)

    def _place_beside(self, dialog: QDialog) -> None:
        """Put ``dialog`` above the keyboard, or below it where there is more room there: over
        it, it would hide the keys that type into it."""
        screen = (self.screen() or QApplication.primaryScreen()).availableGeometry()
        frame = self.frameGeometry()
        size = dialog.sizeHint().expandedTo(dialog.size())
        above, below = frame.top() - screen.top(), screen.bottom() - frame.bottom()
        height = min(size.height(), max(above, below) - TITLE_ROOM)
        width = min(max(size.width(), DIALOG_WIDTH), screen.width())
        dialog.resize(width, max(height, dialog.minimumSizeHint().height()))
        x = screen.left() + (screen.width() - width) // 2
        y = frame.top() - TITLE_ROOM - dialog.height() if above >= below else frame.bottom() + TITLE_ROOM
        dialog.move(x, max(screen.top(), y))

    def _dialog_open(self) -> bool:
        """A dialog of the menu's is open already: it comes forward (only one at a time)."""
        if self._dialog is None:
            return False
        self._dialog.raise_()
        self._dialog.activateWindow()
        return True

    def _give_focus_back(self, window: Hashable | None) -> None:
        if window is None or self._focus_window is None:
            return
        try:
            self._focus_window(window)
        except Exception as e:  # noqa: BLE001 - the window may be gone, the display lost
            log.info("the focus was not given back to window %s: %s", window, e)

    def _choose_switch_keys(self) -> None:
        if self._dialog_open():
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Switch Keys")
        dialog.setLabelText("The keys your switches send (the first selects, the second steps), "
                            "such as F9 F10:")
        dialog.setTextValue(self.settings.switch_keys)
        self._ask(dialog, lambda: self._set_switch_keys(dialog.textValue()))

    def _set_switch_keys(self, text: str) -> None:
        from .switches import SwitchKeyError, parse_switch_keys

        try:
            keys = parse_switch_keys(text)
        except SwitchKeyError as e:
            self.show_status(str(e))
            return
        self.show_status("")
        self.update_settings(switch_keys=" ".join(keys))

    def _choose_layout(self) -> None:
        if self._dialog_open():
            return
        # The title says what a person with only a pointer can do: the keys type the name too.
        dialog = QFileDialog(self, "Keyboard layout: double-click a file, or type its name with the keys",
                             "", "Layouts (*.json);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        # Qt's own dialog, without the file name's completion list: that list is a popup, and a
        # popup eats the click that closes it, so every other key clicked went nowhere.
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        for edit in dialog.findChildren(QLineEdit):
            edit.setCompleter(None)
        self._ask(dialog, lambda: self.update_settings(layout_path=dialog.selectedFiles()[0]))

    def _all_buttons(self) -> list[KeyButton]:
        return self.suggestion_buttons + [self.menu_button] + [b for row in self.key_buttons for b in row]

    @staticmethod
    def _switch_keysyms(settings: OskSettings) -> dict[int, int]:
        """The switch keys' X11 keysyms and switch numbers (the first selects, the second steps)."""
        try:
            from Xlib import XK
        except ImportError:
            return {}
        keys = settings.switch_keys.split()
        return {XK.string_to_keysym(name): 1 if index == 0 else 0 for index, name in enumerate(keys)}

    def open_menu(self) -> None:
        self.menu_access.open(self.menu_button.mapToGlobal(self.menu_button.rect().bottomLeft()))

    def _menu_closed(self) -> None:
        button = self.menu_button
        if not button.rect().contains(button.mapFromGlobal(self.menu_access.pointer())):
            button.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, False)
            button.update()

    def bring_back(self) -> None:
        """Shown again (a second start, the editor's menu entry): un-minimised, since show() and
        raise_() leave a minimised window where it is, and raised, without taking the focus."""
        if self.isMinimized():
            self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()

    # --- presses ------------------------------------------------------------------
    def press_button(self, button: KeyButton) -> None:
        key = self._keys.get(button)
        if key is not None:
            self.poll_focus()  # (a window just activated: the key is typed into its context)
            self.controller.press(key)

    def press_key(self, row: int, column: int) -> None:
        self.press_button(self.key_buttons[row][column])

    def press_suggestion(self, index: int) -> None:
        window = self.controller.window
        self.poll_focus()
        if self.controller.window == window:  # (else the row was the window left's: nothing is typed)
            self.controller.accept(index)

    def switch(self, number: int = 0) -> None:
        """A scanning switch was pressed (0: the select switch with one switch, the step one with two)."""
        if self.settings.access != "scan":
            return
        if self.menu_access.scanning:
            self.menu_access.switch(number)
            return
        chosen = self.scanner.switch(number)
        if chosen is not None:
            group, item = chosen
            if group == len(self.key_buttons) + 1:  # ⚙
                self._show_scan()
                self.open_menu()
                return
            if group == 0:
                self.press_suggestion(item)
            else:
                self.press_key(group - 1, item)
        self._show_scan()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self.settings.access == "scan":
            two = self.settings.scan_switches == 2
            self.switch(0 if two and event.button() == Qt.MouseButton.RightButton else 1)
            event.accept()
            return
        super().mousePressEvent(event)

    def _hovered(self, button: KeyButton) -> None:
        if self.settings.access == "dwell":
            self.dwell.enter(button)

    def _unhovered(self, button: KeyButton) -> None:
        if self.dwell.target is button:
            button.set_fill(0)
            self.dwell.leave()

    def tick(self) -> None:
        """The timer's beat: the dwell fill and press, the scan highlight's move."""
        if self.menu_access.is_open:  # (the keys wait: the menu holds the pointer)
            self._menu_was_open = True
            self.menu_access.tick()
            return
        if self._menu_was_open:  # a choice made by resting on it must not press the key below too
            self._menu_was_open = False
            under = QApplication.widgetAt(self.menu_access.pointer())
            self.dwell.leave()
            if isinstance(under, KeyButton):
                self.dwell.hold(under)
        if self.settings.access == "dwell":
            target = self.dwell.target
            fired = self.dwell.poll()
            if target is not None:
                target.set_fill(self.dwell.progress())
            if fired is not None and fired.isVisible():
                fired.click()
        elif self.settings.access == "scan" and self.scanner.poll():
            self._show_scan()

    # --- showing ----------------------------------------------------------------
    def _shown_suggestions(self) -> int:
        return min(len(self.controller.suggestions), self.settings.suggestion_slots)

    def _scan_groups(self) -> list[list[KeyButton]]:
        """The suggestions shown, the rows of keys, and ⚙ last (it is seldom wanted while typing,
        so a round to it costs one step, and an empty suggestion row is still skipped)."""
        return ([self.suggestion_buttons[:self._shown_suggestions()]] + self.key_buttons
                + [[self.menu_button]])

    def _scan_sizes(self) -> list[int]:
        return [len(group) for group in self._scan_groups()]

    def _update_scan_groups(self) -> None:
        if hasattr(self, "scanner"):
            self.scanner.set_sizes(self._scan_sizes())
            self._show_scan()

    def _show_scan(self) -> None:
        """Mark the highlighted group or key (only the buttons whose mark changes are restyled)."""
        highlight = self.scanner.highlight if self.settings.access == "scan" else None
        marks: dict[KeyButton, str] = {}
        if highlight is not None:
            buttons = self._scan_groups()[highlight.group]
            if highlight.item is None:
                marks = {button: "group" for button in buttons}
            elif highlight.item < len(buttons):
                marks = {buttons[highlight.item]: "key"}
        for button in self._scan_marks.keys() | marks.keys():
            button.set_state("scan", marks.get(button, ""))
        self._scan_marks = marks

    def _show_suggestions(self, suggestions: list) -> None:
        slots = self.settings.suggestion_slots
        for index, button in enumerate(self.suggestion_buttons):
            word = suggestions[index].text if index < len(suggestions) and index < slots else ""
            button.setText(word)
            button.set_correction(bool(word) and getattr(suggestions[index], "kind", "word") == "correction")
            # An empty slot is not shown (as on the editor's strip), but keeps its place, so the
            # words stay where the pointer expects them; the slots beyond the setting's give theirs.
            policy = button.sizePolicy()
            policy.setRetainSizeWhenHidden(index < slots)
            button.setSizePolicy(policy)
            button.setVisible(bool(word))
        if suggestions:
            self.status.setText(self._stats_text(self.controller.stats))
        self._update_scan_groups()

    def _show_modifiers(self, *_: Any) -> None:
        """The keys' captions (shifted, or the digits' F1-F12 while Fn is on) and the modifiers'
        states: latched ("true"), locked (a sticky one clicked twice) or not ("false")."""
        controller = self.controller
        fn = "fn" in controller.sticky
        for button, key in self._keys.items():
            if key.is_char:
                shifted = controller.shift != (controller.caps and key.char.isalpha())
                button.setText(key.caption(shifted, fn))
            elif key.action in ("shift", "caps"):
                on = controller.shift if key.action == "shift" else controller.caps
                button.set_state("latched", "true" if on else "false")
            elif key.action in MODIFIERS:
                state = controller.sticky.get(key.action)
                button.set_state("latched", {LATCHED: "true", LOCKED: "locked"}.get(state, "false"))

    def _show_stats(self, stats: KeyStats) -> None:
        self.status.setText(self._stats_text(stats))

    def show_status(self, text: str) -> None:
        """A sentence about a problem (a bad layout file, settings that cannot be saved); "" hides it."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    @staticmethod
    def _stats_text(stats: KeyStats) -> str:
        """In the editor's words (its status bar's "Keystrokes saved")."""
        if stats.saved_percent is None or stats.accepts == 0:
            return "Keystrokes saved: —"
        return (f"Keystrokes saved: {stats.saved_percent:.0f}% "
                f"({stats.keystrokes_saved} of {stats.keys_typed + stats.chars_accepted})")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._dialog is not None:  # (not modal, it would outlive a keyboard the editor hides)
            self._dialog.reject()
        self._tick.stop()
        self._focus_timer.stop()
        self._listen(False)
        if self._switch_grab is not None:
            self._switch_grab.stop()
            self._switch_grab = None
        self.controller.injector.restore()  # the keycodes borrowed for characters go back
        floating = self._floating_geometry if self._docked_edge is not None else self.saveGeometry()
        geometry = bytes(floating.toBase64()).decode()
        if geometry != self.settings.window_geometry:
            self.settings = self.settings.with_(window_geometry=geometry)
            self._save()
        super().closeEvent(event)
        self.closed.emit()
