"""An earlier version's keycode record ("PID.json") that bears this very process's number (H54).

After a reboot process numbers come round again: the keyboard that wrote the record is gone,
and this process merely has its number.  It was taken for a live copy (this process), so the
keycodes it borrowed stayed mapped for good; a record written before this process started is
now given back, as a new-style record of another process that started later is.
"""

from __future__ import annotations

import json
import os
import time

from test_osk_xtest import FIRST, FakeDisplay, killed_copy

from keyboard_app.osk.keycodes import KeycodeLedger, ledger_folder
from keyboard_app.osk.xtest import XTestTyper


def legacy_record_with_this_process_number(server: FakeDisplay, writer_pid: int, written: float) -> tuple[int, object]:
    """A record of a killed keyboard of an earlier version, renamed to this process's number."""
    [keycode] = killed_copy(server, writer_pid)
    current = KeycodeLedger(server.name, pid=writer_pid).path
    record = json.loads(current.read_text(encoding="utf-8"))
    del record["host"]
    record["pid"] = os.getpid()
    legacy = ledger_folder() / f"{os.getpid()}.json"
    legacy.write_text(json.dumps(record), encoding="utf-8")
    current.unlink()
    os.utime(legacy, (written, written))
    return keycode, legacy


def test_a_legacy_record_with_this_process_number_from_before_it_started_is_given_back(user_folders):
    server = FakeDisplay()
    keycode, legacy = legacy_record_with_this_process_number(server, 999_999_999, time.time() - 86_400)
    assert XTestTyper(server, KeycodeLedger(server.name)).give_back_leftovers() == 1
    assert not legacy.exists() and not any(server.keymap[keycode - FIRST])


def test_a_legacy_record_with_this_process_number_written_since_it_started_is_left(user_folders):
    """Not written by this process (it writes "PID-HOST.json"): another host's, in a shared home
    folder, whose process cannot be seen from here; left, as before."""
    server = FakeDisplay()
    keycode, legacy = legacy_record_with_this_process_number(server, 999_999_999, time.time())
    assert XTestTyper(server, KeycodeLedger(server.name)).give_back_leftovers() == 0
    assert legacy.exists() and any(server.keymap[keycode - FIRST])
