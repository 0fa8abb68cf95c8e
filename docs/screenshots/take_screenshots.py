"""Take the README's screenshots from the real app (run under Xvfb).

    xvfb-run -a -s "-screen 0 1280x900x24" .venv/bin/python docs/screenshots/take_screenshots.py \
        --model assets/models/default --corpus SOME_TEXT.txt

It starts the real main window with the given model, types a sentence key by
key (so the strip is the live one), and grabs the screen; then it opens the
retrain dialog, starts a real training run on ``--corpus``, waits until the
curves have a few points, grabs it, and cancels the run.  The user folders
are temporary: nothing of the user's is touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--text", default="Thank you for your message. I think we could meet at the station "
                        "tomorrow morning, and then we can talk about the pl")
    parser.add_argument("--train-seconds", type=float, default=60.0, help="longest wait for the curves")
    parser.add_argument("--train-args", default="--evals-per-epoch 4",
                        help="extra keyboard-train options (more validation points for the curve)")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="keyboard-screenshots-")
    os.environ["XDG_DATA_HOME"] = f"{home}/data"
    os.environ["XDG_CONFIG_HOME"] = f"{home}/config"

    from PySide6.QtCore import QTimer

    from keyboard_app import retraining
    from keyboard_app.ui.app import create_application

    app = create_application()
    from keyboard_app.ui.main_window import MainWindow
    from keyboard_app.ui.retrain_dialog import RetrainDialog

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def wait_for(condition, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            app.processEvents()
            if condition():
                return True
            time.sleep(0.02)
        return False

    def grab(widget, name: str) -> None:
        pump(0.3)  # let the last frame reach the screen (a grab right after a change can be stale)
        geometry = widget.frameGeometry()
        pixmap = widget.screen().grabWindow(0, geometry.x(), geometry.y(), geometry.width(), geometry.height())
        path = args.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not pixmap.save(str(path)):
            raise SystemExit(f"could not write {path}")
        print(f"wrote {path} ({pixmap.width()}x{pixmap.height()})")

    window = MainWindow(model_path=args.model)
    window.resize(920, 560)
    window.move(20, 20)
    window.show()
    if not wait_for(lambda: window.current_model is not None, 30):
        print("the model did not load", file=sys.stderr)
        return 1
    window.activateWindow()
    window.editor.setFocus()
    type_like_a_user(window, args.text, pump)
    grab(window, "main-window.png")

    retraining.ADAPT_ARGS = (*retraining.ADAPT_ARGS, *args.train_args.split())
    dialog = RetrainDialog(controller=window.models, settings=window.settings, save_settings=window.save_settings,
                           start_directory=window.start_directory, parent=window)
    dialog.move(60, 60)
    dialog.show()
    dialog.add_corpus_paths([args.corpus])
    wait_for(lambda: dialog.start_button.isEnabled(), 60)
    grab(dialog, "retrain-setup.png")
    dialog.start_training()
    wait_for(lambda: len(dialog._val_y) >= 3 and len(dialog._loss_y) >= 10, args.train_seconds)
    grab(dialog, "retrain-training.png")
    dialog.cancel_training()
    wait_for(lambda: not dialog.is_training(), 30)
    QTimer.singleShot(0, dialog.close)
    pump(0.2)
    window.editor.document().setModified(False)
    window.close()
    return 0


def type_like_a_user(window, text: str, pump) -> None:
    """Type ``text`` key by key, taking a suggestion (Alt+n) as soon as it is the word wanted."""
    import re

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    for piece in re.findall(r"\w+|\W", text):
        if not piece[0].isalnum():
            if piece == " " and window.editor.toPlainText().endswith(" "):
                continue  # the accepted word brought its space
            QTest.keyClicks(window.editor, piece)
            pump(0.02)
            continue
        typed = 0
        while typed < len(piece):
            shown = [w.lower() for w in window.strip.words()]
            if piece.lower() in shown and not text.endswith(piece):  # the last word stays partial
                key = Qt.Key(Qt.Key.Key_1 + shown.index(piece.lower()))
                QTest.keyClick(window.editor, key, Qt.KeyboardModifier.AltModifier)
                pump(0.05)
                break
            QTest.keyClicks(window.editor, piece[typed])
            typed += 1
            pump(0.02)


if __name__ == "__main__":
    sys.exit(main())
