"""A copy of the app that is killed right after a retrain finished (``KEYBOARD_FAULT``).

``python retrain_kill_child.py DEFAULT_BUNDLE CORPUS``: opens the main window (offscreen)
with DEFAULT_BUNDLE as the built-in model, starts a retrain on CORPUS whose "trainer" writes
a copy of that model as the new one (named as the dialog asked) and the held-out text, then
says "done"; with ``KEYBOARD_FAULT=retrain.trained`` the process kills itself with SIGKILL
as the dialog learns that training is over, before the user could choose.  Exit 3 if the
run does not get there within a minute.  Used by test_retrain_recovery.py.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from keyboard_app import retraining  # noqa: E402
from keyboard_app.model_store import ModelStore  # noqa: E402
from keyboard_app.ui.main_window import MainWindow  # noqa: E402


def command(request):
    """The "trainer": the bundle it writes is a copy of the built-in model under the new name."""
    script = (
        "import json, shutil, sys\n"
        f"shutil.copytree({str(DEFAULT)!r}, {str(request.out)!r})\n"
        f"manifest = json.load(open({str(request.out / 'manifest.json')!r}))\n"
        f"manifest['name'] = {request.name!r}\n"
        f"json.dump(manifest, open({str(request.out / 'manifest.json')!r}, 'w'))\n"
        f"open({str(request.heldout_file)!r}, 'w').write(json.dumps("
        "{'format': 'keyboard-heldout', 'format_version': 1, 'texts': ['the cat sat on the mat']}))\n"
        f"print(json.dumps({{'event': 'done', 'bundle': {str(request.out)!r}, 'metrics': {{}}}}))\n"
    )
    return sys.executable, ["-c", script]


def main() -> None:
    app = QApplication([])
    retraining.TrainRequest.command = command
    window = MainWindow(model_store=ModelStore(default_path=DEFAULT))
    window.show()

    def when(ready, then):
        QTimer.singleShot(50, lambda: then() if ready() else when(ready, then))

    def open_and_start():
        window.open_retrain_dialog()
        dialog = window.retrain_dialog
        dialog.name_edit.setText("Killed after training")
        dialog.add_corpus_paths([CORPUS])
        when(dialog.start_button.isEnabled, dialog.start_button.click)

    when(lambda: window.current_model is not None, open_and_start)
    QTimer.singleShot(60_000, lambda: app.exit(3))
    sys.exit(app.exec())


if __name__ == "__main__":
    DEFAULT, CORPUS = Path(sys.argv[1]), Path(sys.argv[2])
    main()
