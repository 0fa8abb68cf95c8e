"""The docked keyboard and its sticky modifiers under a real X server (Xvfb and openbox, H54).

``keyboard-app --osk`` (through ``osk_driver.py``) docks at the bottom by default: openbox
must take its strip out of the work area, maximise a window above it and move a dialog that
would open over it up above it; and Ctrl then A, clicked on the keyboard, must reach another
application as Ctrl+A (a text field selects all), Fn, 5 as F5, and Alt, Fn, 4 as Alt+F4
(openbox closes the window, as it does for a keyboard's).
Skipped, with the reason, where Xvfb, openbox or xdotool is missing (``test_osk_x11``).
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest
from test_osk_x11 import HERE, X11, read_json, start_target, wait_for
from test_osk_x11 import pytestmark  # noqa: F401 - the same skip where the tools are missing

#: A window low on the screen that opens a dialog centred on itself, which falls in the strip.
DIALOG_APP = textwrap.dedent("""
    import json, os, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

    app = QApplication(sys.argv[:1])
    window = QWidget()
    window.setWindowTitle("Low window")
    window.setGeometry(200, 420, 800, 360)
    window.show()

    def report(box):
        frame = box.frameGeometry()
        with open(sys.argv[1] + ".tmp", "w") as f:
            json.dump({"top": frame.top(), "bottom": frame.bottom()}, f)
        os.replace(sys.argv[1] + ".tmp", sys.argv[1])

    def ask():
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved Changes", "Save the changes?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard, window)
        box.show()
        QTimer.singleShot(1500, lambda: report(box))

    QTimer.singleShot(1000, ask)
    app.exec()
""")


@pytest.fixture
def x11(tmp_path):
    server = X11(tmp_path)
    yield server
    server.close()


def work_area(x11: X11) -> list[int]:
    """The root's ``_NET_WORKAREA`` of the first desktop: x, y, width, height."""
    text = x11.run("xprop", "-root", "_NET_WORKAREA")
    return [int(v) for v in text.split("=", 1)[1].split(",")[:4]] if "=" in text else []


def test_the_docked_keyboard_keeps_windows_and_dialogs_above_it_and_sends_chords(x11, tiny_bundle, user_folders):
    if importlib.util.find_spec("pynput") is None:
        pytest.skip("pynput, which brings python-xlib, is not installed")
    target_state, target = start_target(x11, "target")
    target_process = x11.processes[-1]
    osk_state = x11.tmp_path / "osk.json"
    x11.start("osk", [sys.executable, str(HERE / "osk_driver.py"), str(osk_state), "--model", str(tiny_bundle)])
    osk = wait_for("the keyboard with its first suggestions",
                   lambda: (s := read_json(osk_state)) and s["keys"] and s["suggestions"] and s)
    assert "_NET_WM_WINDOW_TYPE_DOCK" in x11.run("xprop", "-id", str(osk["window"]), "_NET_WM_WINDOW_TYPE")
    area = wait_for("the strip taken out of the work area", lambda: (a := work_area(x11)) and a[3] < 800 and a)
    strip_top = area[1] + area[3]
    assert all(at[1] > strip_top for at in osk["keys"].values())  # every key in the strip

    # A maximised window ends above the keyboard.
    x11.run("xdotool", "windowactivate", "--sync", str(target["window"]))
    maximise = [sys.executable, "-c", textwrap.dedent(f"""
        from Xlib import X, display
        from Xlib.protocol import event
        d = display.Display()
        root = d.screen().root
        atom = d.intern_atom
        message = event.ClientMessage(window=d.create_resource_object("window", {target["window"]}),
            client_type=atom("_NET_WM_STATE"), data=(32, [1, atom("_NET_WM_STATE_MAXIMIZED_VERT"),
            atom("_NET_WM_STATE_MAXIMIZED_HORZ"), 1, 0]))
        root.send_event(message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
        d.flush()
    """)]
    x11.start("maximise", maximise).wait(30)

    def target_bottom() -> int | None:
        info = x11.run("xwininfo", "-id", str(target["window"]))
        values = dict(line.strip().split(":", 1) for line in info.splitlines() if ":" in line)
        try:
            top, height = int(values["Absolute upper-left Y"]), int(values["Height"])
        except (KeyError, ValueError):
            return None
        return top + height if height > 300 else None  # (maximised: taller than it opened)

    assert wait_for("the target maximised", target_bottom) <= strip_top

    # Ctrl, then A: the target's field selects all, and "x" replaces it.
    def press(key: str) -> None:
        x11.click(read_json(osk_state)["keys"][key])

    for key in ["o", "k", "ctrl", "a", "x"]:
        press(key)
    try:
        wait_for("Ctrl+A then x in the target", lambda: read_json(target_state)["text"] == "x")
    except AssertionError:
        raise AssertionError(f"the target has {read_json(target_state)['text']!r}\n{x11.log('osk')}")
    assert read_json(osk_state)["context"] == "x"  # the "a" of Ctrl+A was never typed
    for key in ["fn", "5"]:  # F5 reaches the target as a function key
        press(key)
    wait_for("F5 in the target", lambda: read_json(target_state)["function_keys"] == 1)
    for key in ["alt", "fn", "4"]:  # Alt+F4: the window manager closes the target, as with a keyboard
        press(key)
    wait_for("Alt+F4 to close the target", lambda: target_process.poll() is not None)

    # A dialog centred on a window low on the screen opens above the keyboard.
    report = x11.tmp_path / "dialog.json"
    x11.start("dialog", [sys.executable, "-c", DIALOG_APP, str(report)])
    dialog = wait_for("the dialog's place", lambda: read_json(report))
    assert dialog["bottom"] < strip_top, f"the dialog ({dialog}) opened over the keyboard (from y {strip_top})"
