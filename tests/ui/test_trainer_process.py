"""The trainer's process as the app runs it: its progress lines read to the last one."""

from __future__ import annotations

import sys

from keyboard_app.progress_events import Error, Start
from keyboard_app.ui.trainer_process import TrainerRun


def test_a_last_line_without_its_newline_is_still_read(qtbot):
    lines = Start(files=1, bytes=10).to_line() + "\n" + Error("the disk is full").to_line()  # no "\n"
    run = TrainerRun(sys.executable, ["-c", f"import sys; sys.stdout.write({lines!r}); sys.exit(1)"])
    with qtbot.waitSignal(run.finished, timeout=15000) as ended:
        run.start()
    result = ended.args[0]
    assert [type(e) for e in run.events] == [Start, Error]
    assert result.error == Error("the disk is full") and result.exit_code == 1
    assert not run.rejected
