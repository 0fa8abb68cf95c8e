"""Start the GUI: the QApplication, the main window, and an optional auto-quit."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from .. import __version__, paths

log = logging.getLogger(__name__)


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(paths.APP_DISPLAY_NAME)
    app.setApplicationDisplayName(paths.APP_DISPLAY_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("keyboard-app")  # assets/keyboard-app.desktop
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        path = paths.resource_path("assets", "icons", f"keyboard-app-{size}.png")
        if path.is_file():
            icon.addFile(str(path))
    if not icon.isNull():
        app.setWindowIcon(icon)
    return app  # type: ignore[return-value]


def run_gui(*, model: Path | None = None, quit_after: float | None = None,
            started: float | None = None) -> int:
    """Show the main window and run the event loop; the exit code."""
    started = time.perf_counter() if started is None else started
    app = create_application()
    from .main_window import MainWindow

    window = MainWindow(model_path=model)
    window.model_ready.connect(
        lambda name: log.info("model %r ready %.2f s after start", name, time.perf_counter() - started)
    )

    def first_suggestions(suggestions: list) -> None:
        if suggestions:
            log.info("first suggestions %.2f s after start: %s", time.perf_counter() - started,
                     ", ".join(s.text for s in suggestions))
            window.controller.suggestions_changed.disconnect(first_suggestions)

    window.controller.suggestions_changed.connect(first_suggestions)
    window.show()
    if quit_after is not None:
        # Smoke tests of the frozen build: close as a user would (no unsaved text, so no prompt).
        QTimer.singleShot(int(quit_after * 1000), window.close)
        QTimer.singleShot(int(quit_after * 1000) + 5000, app.quit)
    code = app.exec()
    window.shutdown()
    return code
