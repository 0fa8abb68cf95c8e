"""Every dialog fits a small screen at 200 %, its buttons on it (H53's finding 3).

At QT_SCALE_FACTOR=2 on a 1280x800 or 1024x768 screen (640x400 or 512x384 logical
pixels) the Preferences, the model manager and the retrain dialog were taller or
wider than the screen, their buttons below its edge.  Run here in a process of its
own: the offscreen platform given a screen of that size (its ``configfile``) and
the scale factor, which the tests' own application cannot change.  The probe is
this file run as a script: it opens each dialog of a window and prints where they
and their buttons are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCREENS = {"1280x800 at 200 %": (1280, 800), "1024x768 at 200 %": (1024, 768)}


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_each_dialog_and_its_buttons_are_on_the_screen(tmp_path, tiny_bundle, screen):
    width, height = screen
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "small", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", QT_SCALE_FACTOR="2")
    done = subprocess.run([sys.executable, __file__, str(tiny_bundle)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(found) == {"Preferences", "Models", "Retrain", "Retrain: training", "Retrain: results",
                          "Learned words", "About", "Keyboard shortcuts", "Main window"}
    off_screen = []  # every window and button that is not on the screen, to be said at once
    for name, seen in found.items():
        screen_rect = seen["available"]
        assert screen_rect[2:] == [width // 2, height // 2]  # the screen the probe meant
        assert seen["buttons"], name
        if not inside(seen["frame"], screen_rect):
            off_screen.append(f"{name} {seen['frame']}")
        off_screen += [f"{name}: {text} {rect}" for text, rect in seen["buttons"]
                       if not (inside(rect, screen_rect) and inside(rect, seen["frame"]))]
    assert off_screen == [], f"the screen is {screen_rect}"


def test_on_a_screen_with_room_nothing_scrolls(qtbot, window):
    from keyboard_app.ui.elide import Scrolling
    from keyboard_app.ui.model_manager import ModelManagerDialog

    prefs = window.open_preferences()
    window.open_retrain_dialog()
    manager = ModelManagerDialog(controller=window.models, start_directory=window.start_directory, parent=window)
    manager.show()
    for dialog in (prefs, window.retrain_dialog, manager):
        qtbot.waitExposed(dialog)
    qtbot.wait(1)
    areas = prefs.findChildren(Scrolling) + window.retrain_dialog.findChildren(Scrolling)
    assert len(areas) == 4  # the Preferences' groups, the retrain dialog's three pages
    shown = [a for a in areas if a.isVisible()]
    assert len(shown) == 2 and not any(a.verticalScrollBar().isVisible() or a.horizontalScrollBar().isVisible()
                                       for a in shown)
    # the manager's list and details side by side: an 800 px screen has room for both (H59)
    assert manager.width() <= manager.screen().availableGeometry().width()
    assert manager.side_by_side()
    assert prefs.height() >= prefs.sizeHint().height()  # every group whole
    for dialog in (prefs, window.retrain_dialog, manager):
        dialog.close()


def inside(rect: list[int], outer: list[int]) -> bool:
    x, y, w, h = rect
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


# --- the probe (this file run as a script) -------------------------------------------

def probe(bundle: Path) -> dict:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QApplication, QDialog

    from keyboard_app.model_store import ModelStore
    from keyboard_app.ui.main_window import MainWindow

    app = QApplication([])
    window = MainWindow(model_store=ModelStore(default_path=bundle))
    window.show()
    found: dict = {}

    def rect(r) -> list[int]:
        return [r.x(), r.y(), r.width(), r.height()]

    def scrolled(widget) -> bool:  # in a scroll area: it may be scrolled out of sight
        parent = widget.parentWidget()
        while parent is not None and not parent.isWindow():
            if isinstance(parent, QAbstractScrollArea):
                return True
            parent = parent.parentWidget()
        return False

    def measure(name: str, shown) -> None:
        for _ in range(5):
            app.processEvents()
        buttons = [b for b in shown.findChildren(QAbstractButton) if b.isVisible() and not scrolled(b)]
        found[name] = {
            "available": rect(shown.screen().availableGeometry()),
            "frame": rect(shown.frameGeometry()),
            "buttons": [(b.text(), rect(b.rect().translated(b.mapToGlobal(b.rect().topLeft())))) for b in buttons],
        }

    def modal(name: str, opener) -> None:
        """Measure the modal dialog ``opener`` runs, then close it."""
        def look() -> None:
            shown = QApplication.activeModalWidget()
            if shown is None:
                QTimer.singleShot(20, look)
                return
            measure(name, shown)
            shown.reject()

        QTimer.singleShot(20, look)
        opener()

    measure("Main window", window)
    prefs = window.open_preferences()
    measure("Preferences", prefs)
    prefs.close()
    modal("Models", window.open_model_manager)
    window.open_retrain_dialog()
    retrain = window.retrain_dialog
    measure("Retrain", retrain)
    for name, page in (("Retrain: training", retrain.training_page), ("Retrain: results", retrain.results_page)):
        retrain.pages.setCurrentWidget(page)
        measure(name, retrain)
    retrain.pages.setCurrentWidget(retrain.setup_page)
    retrain.close()
    learned = window.learned_words_dialog()
    measure("Learned words", learned)
    learned.close()
    modal("About", window.show_about)
    window.show_shortcuts()
    shortcuts = next(d for d in window.findChildren(QDialog) if d.isVisible())
    measure("Keyboard shortcuts", shortcuts)
    shortcuts.close()
    window.editor.document().setModified(False)
    window.close()
    return found


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]))))
