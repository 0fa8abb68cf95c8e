"""Docking the on-screen keyboard to the screen's edge (H54): a floating keyboard on top hid the
lower part of other windows, such as the editor's "Unsaved Changes" buttons.  Docked, it is an
X11 dock window that reserves its strip (``_NET_WM_STRUT_PARTIAL``), so the window manager keeps
other windows and their dialogs out of it; undocked, the strip is given back.

These tests drive the real widget offscreen with a stand-in for the X11 properties;
``test_dock_x11.py`` checks what openbox does with them under Xvfb."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication

from keyboard_app.osk.dock import Rect, X11Dock, strut_partial
from keyboard_app.osk.settings import OskSettings, OskSettingsStore


class FakeDock:
    """Records what ``X11Dock`` would set on the window."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.edge: str | None = None
        self.rect: Rect | None = None

    def dock(self, window: int, edge: str, rect: Rect, root_height: int) -> None:
        self.calls.append(("dock", edge, rect, root_height))
        self.edge, self.rect = edge, rect

    def undock(self, window: int) -> None:
        self.calls.append(("undock",))
        self.edge = self.rect = None


@pytest.fixture
def make_docked(qtbot, worker, clock, tmp_path):
    """``make_docked(docker=FakeDock() or None, **settings) -> keyboard``: the real widget."""
    from keyboard_app.osk.backend import RecordingInjector
    from keyboard_app.osk.controller import OskController
    from keyboard_app.osk.window import OnScreenKeyboard

    def make(docker=None, **settings):
        options = OskSettings().with_(**settings)
        controller = OskController(worker=worker, injector=RecordingInjector(), slots=options.suggestion_slots)
        keyboard = OnScreenKeyboard(controller=controller, settings=options,
                                    store=OskSettingsStore(tmp_path / "osk.json"), clock=clock, dock=docker)
        qtbot.addWidget(keyboard)
        keyboard.show()
        qtbot.waitExposed(keyboard)
        return keyboard

    return make


def menu_item(menu, text):
    return next(a for a in menu.actions() if a.text() == text)


# --- the struts --------------------------------------------------------------------------------

def test_the_strut_reserves_the_windows_strip_from_its_edge():
    assert strut_partial("bottom", Rect(0, 492, 1280, 308), 800) == [0, 0, 0, 308, 0, 0, 0, 0, 0, 0, 0, 1279]
    assert strut_partial("top", Rect(0, 0, 1280, 308), 800) == [0, 0, 308, 0, 0, 0, 0, 0, 0, 1279, 0, 0]
    # A second monitor on the right, shorter than the root: counted from the root's bottom.
    assert strut_partial("bottom", Rect(1280, 468, 1024, 300), 1080)[3] == 612
    assert strut_partial("bottom", Rect(1280, 468, 1024, 300), 1080)[10:] == [1280, 2303]
    with pytest.raises(ValueError):
        strut_partial("left", Rect(0, 0, 10, 10), 800)


class FakeWindow:
    def __init__(self, properties: dict) -> None:
        self.properties = properties

    def get_full_property(self, atom, kind):
        value = self.properties.get(atom)
        return None if value is None else type("Property", (), {"value": value})()

    def change_property(self, atom, kind, size, value):
        self.properties[atom] = list(value)

    def delete_property(self, atom):
        self.properties.pop(atom, None)


class FakeConnection:
    def __init__(self) -> None:
        self.atoms: dict[str, int] = {}
        self.properties: dict[int, dict] = {}
        self.flushes = 0

    def intern_atom(self, name: str) -> int:
        return self.atoms.setdefault(name, 100 + len(self.atoms))

    def create_resource_object(self, kind: str, window: int) -> FakeWindow:
        return FakeWindow(self.properties.setdefault(window, {}))

    def flush(self) -> None:
        self.flushes += 1


def test_x11_dock_sets_the_dock_type_and_struts_and_undocking_takes_them_back():
    connection = FakeConnection()
    atom = connection.intern_atom
    window = 0x2a00007
    connection.properties[window] = {atom("_NET_WM_WINDOW_TYPE"): [atom("_NET_WM_WINDOW_TYPE_UTILITY")]}
    dock = X11Dock(connection)
    dock.dock(window, "bottom", Rect(0, 492, 1280, 308), 800)
    dock.dock(window, "bottom", Rect(0, 450, 1280, 350), 800)  # larger keys: the strip grows
    properties = connection.properties[window]
    assert properties[atom("_NET_WM_WINDOW_TYPE")] == [atom("_NET_WM_WINDOW_TYPE_DOCK")]
    assert properties[atom("_NET_WM_STRUT_PARTIAL")] == [0, 0, 0, 350, 0, 0, 0, 0, 0, 0, 0, 1279]
    assert properties[atom("_NET_WM_STRUT")] == [0, 0, 0, 350]
    dock.undock(window)
    assert properties == {atom("_NET_WM_WINDOW_TYPE"): [atom("_NET_WM_WINDOW_TYPE_UTILITY")]}
    assert connection.flushes == 3


# --- the window ----------------------------------------------------------------------------------

def test_a_new_user_gets_a_keyboard_docked_at_the_bottom(make_docked):
    """The default: other windows are kept above it (Onboard and the GNOME keyboard dock too)."""
    assert OskSettings().dock == "bottom"
    dock = FakeDock()
    keyboard = make_docked(dock)
    screen = keyboard.screen().geometry()
    assert dock.edge == "bottom" and keyboard.dock_edge() == "bottom"
    geometry = keyboard.geometry()
    assert (geometry.left(), geometry.width(), geometry.bottom()) == (screen.left(), screen.width(), screen.bottom())
    assert geometry.height() == keyboard.layout().totalMinimumSize().height() < screen.height() // 2
    assert dock.rect == Rect(geometry.x(), geometry.y(), geometry.width(), geometry.height())
    assert dock.calls[-1][3] == screen.height()  # the root's height (one screen)


def test_undocking_gives_the_strip_back_and_the_floating_place_back(make_docked, qtbot):
    dock = FakeDock()
    keyboard = make_docked(dock, dock="none")
    keyboard.setGeometry(100, 120, 700, 300)
    floating = keyboard.geometry()
    assert dock.calls == []
    keyboard.update_settings(dock="top")
    assert dock.edge == "top" and dock.rect.y == keyboard.screen().geometry().top()
    assert keyboard.frameGeometry().top() == keyboard.screen().geometry().top()
    keyboard.update_settings(dock="none")
    assert dock.calls[-1] == ("undock",) and dock.edge is None
    assert keyboard.dock_edge() is None
    qtbot.waitUntil(lambda: keyboard.geometry() == floating)
    assert json.loads(keyboard.store.path.read_text())["dock"] == "none"


def test_larger_keys_make_the_docked_strip_taller_on_its_edge(make_docked):
    dock = FakeDock()
    keyboard = make_docked(dock)
    before = dock.rect
    keyboard.zoom(+25)
    assert keyboard.settings.zoom_percent == 125
    assert dock.rect.height > before.height
    assert dock.rect.y + dock.rect.height == before.y + before.height  # still on the bottom edge
    assert keyboard.geometry().bottom() == keyboard.screen().geometry().bottom()


def test_closing_a_docked_keyboard_keeps_its_floating_place_not_the_docked_one(make_docked, qtbot):
    dock = FakeDock()
    keyboard = make_docked(dock, dock="none")
    keyboard.setGeometry(100, 120, 700, 300)
    qtbot.waitUntil(lambda: keyboard.geometry().width() == 700)
    floating = bytes(keyboard.saveGeometry().toBase64()).decode()
    keyboard.update_settings(dock="bottom")
    keyboard.close()
    assert keyboard.settings.window_geometry == floating


def test_the_menu_offers_the_positions_and_a_close_item(make_docked, qtbot):
    dock = FakeDock()
    keyboard = make_docked(dock)
    position = menu_item(keyboard.menu, "Position")
    assert position.isEnabled()
    items = {a.text(): a for a in position.menu().actions()}
    assert items["Docked at the bottom (windows keep clear of it)"].isChecked()
    items["Floating (over other windows, move it anywhere)"].trigger()
    assert keyboard.settings.dock == "none" and dock.calls[-1] == ("undock",)
    with qtbot.waitSignal(keyboard.closed):
        menu_item(keyboard.menu, "Close keyboard").trigger()  # docked, it has no title bar


def test_where_docking_is_not_available_the_menu_says_so_and_the_keyboard_floats(make_docked):
    keyboard = make_docked(None)  # (Wayland, Windows, macOS: no X11 dock)
    assert keyboard.settings.dock == "bottom" and keyboard.dock_edge() is None
    position = menu_item(keyboard.menu, "Position (docking needs an X11 session)")
    assert not position.isEnabled()
    assert (keyboard.width(), keyboard.height()) == (960, 330)  # its floating size


def test_a_bad_dock_value_in_the_file_gives_the_default(tmp_path):
    path = tmp_path / "osk.json"
    path.write_text(json.dumps({"dock": "left"}))
    settings, problem = OskSettingsStore(path).load()
    assert settings.dock == "bottom" and problem is None


def test_a_docked_keyboard_qt_places_elsewhere_goes_back_to_its_edge(make_docked, qtbot):
    """Under openbox Qt now and then read the docked window's place as (0, 0), before the window
    manager had moved it to the edge: the menu and the dialogs were then put by that place."""
    dock = FakeDock()
    keyboard = make_docked(dock)
    docked = keyboard.geometry()
    keyboard.move(0, 0)
    qtbot.waitUntil(lambda: keyboard.geometry() == docked)
    for _ in range(5):  # a window manager that keeps it elsewhere: no endless moving
        keyboard.move(0, 0)
        qtbot.wait(10)
    assert keyboard.pos() == QPoint(0, 0)


def test_no_strut_where_another_monitor_lies_beyond_the_edge(monkeypatch):
    """Monitors stacked one above the other: a bottom strut on the upper one, counted from the
    X screen's bottom, would reserve the whole lower monitor too."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication

    from keyboard_app.osk import window

    class Screen:
        def __init__(self, *rect):
            self.rect = QRect(*rect)

        def geometry(self):
            return self.rect

    upper, lower, beside = QRect(0, 0, 1920, 1080), QRect(0, 1080, 1920, 1080), QRect(1920, 0, 2560, 1440)
    monkeypatch.setattr(QApplication, "screens", staticmethod(lambda: [Screen(0, 0, 1920, 1080),
                                                                       Screen(0, 1080, 1920, 1080)]))
    assert window._screen_beyond(upper, "bottom") and not window._screen_beyond(upper, "top")
    assert window._screen_beyond(lower, "top") and not window._screen_beyond(lower, "bottom")
    monkeypatch.setattr(QApplication, "screens", staticmethod(lambda: [Screen(0, 0, 1920, 1080),
                                                                       Screen(1920, 0, 2560, 1440)]))
    assert not window._screen_beyond(upper, "bottom")  # side by side: the strut is the space below
    assert not window._screen_beyond(beside, "bottom")


# --- following the screen (H63) -------------------------------------------------------------------

class ResizedScreen:
    """The keyboard's screen after a change of resolution (``test_dock_resize_x11`` does it for real)."""

    def __init__(self, screen, width: int, height: int) -> None:
        from PySide6.QtCore import QRect

        self.screen, self.rect = screen, QRect(0, 0, width, height)

    def geometry(self):
        return self.rect

    def availableGeometry(self):  # noqa: N802 - QScreen's
        return self.rect

    def virtualGeometry(self):  # noqa: N802 - QScreen's
        return self.rect

    def devicePixelRatio(self) -> float:  # noqa: N802 - QScreen's
        return 1.0


@pytest.mark.parametrize("edge", ["bottom", "top"])
def test_a_docked_keyboard_follows_its_screen_to_a_new_size(make_docked, qtbot, monkeypatch, edge):
    dock = FakeDock()
    keyboard = make_docked(dock, dock=edge)
    real = keyboard.screen()
    height = keyboard.height()
    monkeypatch.setattr(keyboard, "screen", lambda: ResizedScreen(real, 640, 480))
    real.geometryChanged.emit(QRect(0, 0, 640, 480))  # (what Qt sends when xrandr resizes it)
    on_edge = (lambda r: r.y + r.height == 480) if edge == "bottom" else (lambda r: r.y == 0)
    qtbot.waitUntil(lambda: dock.rect is not None and dock.rect.width == 640 and on_edge(dock.rect))
    place = dock.rect
    assert place.x == 0 and place.height <= height  # (a shorter screen: keys no taller, H71)
    qtbot.waitUntil(lambda: keyboard.geometry() == QRect(*place))  # (put back on its edge, ``moveEvent``)
    assert dock.calls[-1] == ("dock", edge, place, 480)


def test_its_own_strip_changing_the_available_area_does_not_dock_it_again(make_docked, qtbot):
    """The strut takes the strip out of the screen's available area, which Qt then reports:
    docking again on that would set the strut again, and so on."""
    dock = FakeDock()
    keyboard = make_docked(dock)
    calls, place = list(dock.calls), keyboard.geometry()
    screen = keyboard.screen()
    screen.availableGeometryChanged.emit(screen.geometry().adjusted(0, 0, 0, -place.height()))
    QApplication.instance().primaryScreenChanged.emit(screen)
    qtbot.wait(50)
    assert dock.calls == calls and keyboard.geometry() == place


def test_a_floating_keyboard_is_kept_on_a_smaller_screen(make_docked, qtbot, monkeypatch):
    keyboard = make_docked(FakeDock(), dock="none")
    real = keyboard.screen()
    keyboard.setGeometry(300, 250, 700, keyboard.layout().totalMinimumSize().height())
    qtbot.waitUntil(lambda: keyboard.geometry().left() == 300)
    monkeypatch.setattr(keyboard, "screen", lambda: ResizedScreen(real, 800, 480))
    real.geometryChanged.emit(QRect(0, 0, 800, 480))
    qtbot.waitUntil(lambda: QRect(0, 0, 800, 480).contains(keyboard.frameGeometry()))
