"""The keyboard follows the screens as they change, under a real X server (Xvfb, openbox, H63).

Docked, it spanned the screen's width at its bottom edge and kept that place and strut when
the screen changed under it (xrandr, a monitor added or removed, a laptop docked): too wide
or floating mid-screen, or leaving a gap, its strip reserving the wrong area.  Here, while
``keyboard-app --osk`` runs (through ``osk_driver.py``), the screen is made smaller, then
larger again: the docked keyboard must span the new width at the new bottom edge, its
``_NET_WM_STRUT_PARTIAL`` reserve exactly its strip, openbox's work area end above it, and
the strut be set once per change, not again on the available area that it changes itself;
the screen is split into two monitors and made one again: docked across its monitor, then
across the whole width; and a floating keyboard near the right edge must stay fully on a
smaller screen.

Xvfb's RandR (Debian 12's 21.1): its one output, "screen", takes any mode no larger than
the screen Xvfb started with, but ``xrandr --newmode`` then ``--addmode`` fails ("cannot
find mode"): a mode is freed when the client that made it disconnects.  ``xrandr --fb``
alone cannot shrink the screen below the output's mode either.  So ``set_resolution``
makes the mode, adds it to the output, sets the CRTC to it and sizes the screen in one
connection (python-xlib), whose mode outlives it (``RetainPermanent``); ``xrandr --output
screen --mode WxH`` works after that.  RandR 1.5 monitors (``xrandr --setmonitor``,
``set_monitors``) are screens of their own to Qt: added and removed.  Screenshots before
and after each change are left in the test's folder.  Skipped, with the reason, where
Xvfb, openbox, xdotool or python-xlib is missing (``test_osk_x11``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time

import pytest
from test_dock_x11 import work_area
from test_osk_x11 import HERE, X11, read_json, wait_for
from test_osk_x11 import pytestmark  # noqa: F401 - the same skip where the tools are missing

START = (1280, 800)  # Xvfb's screen (``X11``): also the largest size RandR can set there
SMALLER = (1024, 640)


@pytest.fixture
def x11(user_folders, tmp_path):
    if importlib.util.find_spec("Xlib") is None:
        pytest.skip("python-xlib (which pynput brings) is not installed")
    server = X11(tmp_path)  # (after user_folders: the keyboard's settings are the test's own)
    yield server
    server.close()


def set_resolution(x11: X11, width: int, height: int) -> None:
    """The screen at ``width`` x ``height``, as xrandr would set it (see the module's docstring)."""
    from Xlib import X, display
    from Xlib.ext import randr

    d = display.Display(x11.display)
    try:
        d.set_close_down_mode(X.RetainPermanent)  # (the mode outlives this connection)
        root = d.screen().root
        resources = root.xrandr_get_screen_resources()
        output, crtc = resources.outputs[0], resources.crtcs[0]
        mode = next((m.id for m in resources.modes if (m.width, m.height) == (width, height)), None)
        if mode is None:
            name = f"{width}x{height}"
            info = dict(id=0, width=width, height=height, dot_clock=0, h_sync_start=0, h_sync_end=0,
                        h_total=0, h_skew=0, v_sync_start=0, v_sync_end=0, v_total=0,
                        name_length=len(name), flags=0)
            mode = root.xrandr_create_mode(info, name).mode
            d.xrandr_add_output_mode(output, mode)
        # The screen holds the output's mode at all times: larger first, smaller after.
        now = d.xrandr_get_crtc_info(crtc, resources.config_timestamp)
        for size in ((max(width, now.width), max(height, now.height)), None, (width, height)):
            if size is None:
                reply = d.xrandr_set_crtc_config(crtc, resources.config_timestamp, 0, 0, mode,
                                                 randr.Rotate_0, [output])
                assert reply.status == 0, f"RandR refused {width}x{height} (status {reply.status})"
            else:
                root.xrandr_set_screen_size(*size, round(size[0] / 3.78), round(size[1] / 3.78))
        d.sync()
    finally:
        d.close()


def set_monitors(x11: X11, monitors: list[tuple[str, int, int, int, int]]) -> None:
    """The screen shown as ``monitors`` (name, x, y, width, height), the first on Xvfb's output
    and the others virtual, as ``xrandr --setmonitor`` does (RandR 1.5: Qt makes a screen of
    each); an empty list takes them away, and the whole screen is one monitor again."""
    from Xlib import display
    from Xlib.ext import randr
    from Xlib.protocol import rq

    class SetMonitor(rq.Request):  # (python-xlib's own cannot pack its monitor's outputs)
        _request = rq.Struct(
            rq.Card8("opcode"), rq.Opcode(43), rq.RequestLength(), rq.Window("window"),
            rq.Card32("name"), rq.Bool("primary"), rq.Bool("automatic"), rq.LengthOf("outputs", 2),
            rq.Int16("x"), rq.Int16("y"), rq.Card16("width"), rq.Card16("height"),
            rq.Card32("width_mm"), rq.Card32("height_mm"), rq.List("outputs", rq.Card32Obj))

    d = display.Display(x11.display)
    try:
        root = d.screen().root
        output = root.xrandr_get_screen_resources().outputs[0]
        for monitor in root.xrandr_get_monitors(is_active=False).monitors:
            if not monitor.automatic:
                root.xrandr_delete_monitor(monitor.name)
        for index, (name, x, y, width, height) in enumerate(monitors):
            SetMonitor(display=d.display, opcode=d.display.get_extension_major(randr.extname), window=root,
                       name=d.intern_atom(name), primary=index == 0, automatic=False, x=x, y=y,
                       width=width, height=height, width_mm=round(width / 3.78),
                       height_mm=round(height / 3.78), outputs=[output] if index == 0 else [])
        d.sync()
    finally:
        d.close()


def screenshot(x11: X11, name: str) -> None:
    """The whole screen as ``name``.png in the test's folder (to look at when a test fails)."""
    from PySide6.QtGui import QImage
    from Xlib import X, display

    d = display.Display(x11.display)
    try:
        root = d.screen().root
        geometry = root.xrandr_get_screen_resources()
        info = d.xrandr_get_crtc_info(geometry.crtcs[0], geometry.config_timestamp)
        image = root.get_image(0, 0, info.width, info.height, X.ZPixmap, 0xFFFFFFFF)
    finally:
        d.close()
    data = bytes(image.data)
    QImage(data, info.width, info.height, info.width * 4, QImage.Format.Format_RGB32).save(
        str(x11.tmp_path / f"{name}.png"))


def window_rect(x11: X11, window: int, *, frame: bool = False) -> tuple[int, int, int, int] | None:
    """Where X has ``window`` (with ``frame``: with the title bar and border the window manager
    gives it, its ``_NET_FRAME_EXTENTS``): x, y, width, height."""
    info = x11.run("xwininfo", "-id", str(window))
    values = dict(line.strip().split(":", 1) for line in info.splitlines() if ":" in line)
    try:
        x, y, width, height = (int(values[k]) for k in ("Absolute upper-left X", "Absolute upper-left Y",
                                                         "Width", "Height"))
    except (KeyError, ValueError):
        return None
    if frame:
        text = x11.run("xprop", "-id", str(window), "_NET_FRAME_EXTENTS")
        if "=" not in text:
            return None
        left, right, top, bottom = (int(v) for v in text.split("=", 1)[1].split(","))
        x, y, width, height = x - left, y - top, width + left + right, height + top + bottom
    return x, y, width, height


def strut(x11: X11, window: int) -> list[int]:
    text = x11.run("xprop", "-id", str(window), "_NET_WM_STRUT_PARTIAL")
    return [int(v) for v in text.split("=", 1)[1].split(",")] if "=" in text else []


def start_keyboard(x11: X11, tiny_bundle, **settings) -> int:
    """``keyboard-app --osk`` with ``settings`` in its file; its window id once it shows suggestions."""
    if importlib.util.find_spec("pynput") is None:
        pytest.skip("pynput, which the keyboard types with, is not installed")
    from keyboard_app.osk.settings import OskSettingsStore

    store = OskSettingsStore()
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_text(json.dumps(settings), encoding="utf-8")
    state = x11.tmp_path / "osk.json"
    x11.start("osk", [sys.executable, str(HERE / "osk_driver.py"), str(state), "--model", str(tiny_bundle)])
    try:
        return wait_for("the keyboard with its first suggestions",
                        lambda: (s := read_json(state)) and s["keys"] and s["suggestions"] and s)["window"]
    except AssertionError:
        raise AssertionError(f"the keyboard did not start:\n{x11.log('osk')}")


def docked_at(x11: X11, window: int, size: tuple[int, int], left: int = 0) -> tuple[int, int, int, int] | None:
    """The keyboard's place if it spans ``size``'s width from ``left`` at its bottom edge, its
    strut reserving that strip."""
    width, height = size
    rect = window_rect(x11, window)
    if rect is None or rect[0] != left or rect[2] != width or rect[1] + rect[3] != height:
        return None
    expected = [0, 0, 0, rect[3], 0, 0, 0, 0, 0, 0, left, left + width - 1]
    return rect if strut(x11, window) == expected else None


class StrutChanges:
    """Counts the changes of a window's ``_NET_WM_STRUT_PARTIAL`` (X's PropertyNotify events)."""

    def __init__(self, x11: X11, window: int) -> None:
        from Xlib import X, display

        self.display = display.Display(x11.display)
        self.atom = self.display.intern_atom("_NET_WM_STRUT_PARTIAL")
        self.display.create_resource_object("window", window).change_attributes(event_mask=X.PropertyChangeMask)
        self.display.sync()
        self.count = 0

    def __call__(self) -> int:
        while self.display.pending_events():
            event = self.display.next_event()
            self.count += getattr(event, "atom", None) == self.atom
        return self.count

    def close(self) -> None:
        self.display.close()


def test_the_docked_keyboard_follows_the_screen_to_a_new_resolution(x11, tiny_bundle):
    window = start_keyboard(x11, tiny_bundle)
    wait_for("the keyboard docked at the bottom", lambda: docked_at(x11, window, START))
    screenshot(x11, "docked-before")
    changes = StrutChanges(x11, window)
    try:
        for size, name in ((SMALLER, "docked-smaller"), (START, "docked-larger-again")):
            set_resolution(x11, *size)
            try:
                place = wait_for(f"the keyboard docked across {size[0]}x{size[1]}",
                                 lambda: docked_at(x11, window, size))
            except AssertionError:
                screenshot(x11, name)
                raise AssertionError(f"at {size}, the keyboard is at {window_rect(x11, window)} with the "
                                     f"strut {strut(x11, window)}\n{x11.log('osk')}")
            screenshot(x11, name)
            # The window manager keeps other windows out of its strip, and out of that only.
            wait_for(f"the work area above the strip at {size}",
                     lambda: work_area(x11) == [0, 0, size[0], size[1] - place[3]])
            # Its own strut changes the screen's available area, which Qt reports: that must
            # not set the strut again, and again (the strut changes once per resolution).
            time.sleep(1.5)
            assert changes() <= (1 if size == SMALLER else 2), f"the strut changed {changes()} times"
    finally:
        changes.close()


def test_a_floating_keyboard_near_the_right_edge_stays_on_a_smaller_screen(x11, tiny_bundle):
    window = start_keyboard(x11, tiny_bundle, dock="none")
    assert strut(x11, window) == []
    x11.run("xdotool", "windowmove", "--sync", str(window), "300", "420")
    frame = wait_for("the keyboard moved near the right edge",
                     lambda: (r := window_rect(x11, window, frame=True)) and r[0] + r[2] > SMALLER[0] and r)
    assert frame[0] + frame[2] <= START[0] and frame[1] + frame[3] <= START[1]
    screenshot(x11, "floating-before")

    def inside() -> tuple[int, int, int, int] | None:
        r = window_rect(x11, window, frame=True)
        return r if r and r[0] >= 0 and r[1] >= 0 and r[0] + r[2] <= SMALLER[0] \
            and r[1] + r[3] <= SMALLER[1] else None

    set_resolution(x11, *SMALLER)
    try:
        wait_for(f"the floating keyboard inside {SMALLER}", inside)
    except AssertionError:
        raise AssertionError(f"the keyboard's frame is at {window_rect(x11, window, frame=True)} on a "
                             f"{SMALLER} screen\n{x11.log('osk')}")
    finally:
        screenshot(x11, "floating-smaller")


def test_the_docked_keyboard_follows_a_monitor_added_beside_it_and_taken_away(x11, tiny_bundle):
    """Two monitors side by side where there was one (RandR 1.5 monitors: Qt's screens): the
    keyboard docks across the one it is on, its strut reserving that one's strip only; one
    monitor again, it spans the whole width."""
    window = start_keyboard(x11, tiny_bundle)
    wait_for("the keyboard docked at the bottom", lambda: docked_at(x11, window, START))
    half = START[0] // 2
    set_monitors(x11, [("left", 0, 0, half, START[1]), ("right", half, 0, half, START[1])])
    try:
        wait_for("the keyboard docked across one monitor",
                 lambda: docked_at(x11, window, (half, START[1])) or docked_at(x11, window, (half, START[1]), half))
    except AssertionError:
        raise AssertionError(f"on two monitors, the keyboard is at {window_rect(x11, window)} with the "
                             f"strut {strut(x11, window)}\n{x11.log('osk')}")
    finally:
        screenshot(x11, "two-monitors")
    set_monitors(x11, [])
    try:
        wait_for("the keyboard docked across the whole screen again", lambda: docked_at(x11, window, START))
    except AssertionError:
        raise AssertionError(f"on one monitor again, the keyboard is at {window_rect(x11, window)} with "
                             f"the strut {strut(x11, window)}\n{x11.log('osk')}")
