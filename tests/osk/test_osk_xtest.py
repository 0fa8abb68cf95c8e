"""Typing on X11 through XTest (keyboard_app/osk/xtest.py), against a fake X server.

The fake server has a small US-like keymap with spare keycodes and turns the
XTest key events it is sent into text, reading the keymap (and the Shift key's
state) as a real server does when a key is pressed.  Events sent any other
way (``send_event``, the path pynput's ``type()`` takes, which xterm drops)
are recorded apart and must never happen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from keyboard_app.osk import backend
from keyboard_app.osk.backend import InjectionError
from keyboard_app.osk.keycodes import KeycodeLedger, ledger_folder
from keyboard_app.osk.xtest import KEY_PRESS, KEY_RELEASE, MAPPING_NOTIFY, SHIFT_L, XTestTyper, keysym_for

FIRST = 8
BACKSPACE, RETURN = 0xFF08, 0xFF0D


def us_keymap(spare: int) -> list[list[int]]:
    rows = [[SHIFT_L, 0], [BACKSPACE, 0], [RETURN, 0], [0x20, 0]]
    rows += [[ord(c), ord(c.upper())] for c in "abcdefghijklmnopqrstuvwxyz"]
    rows += [[ord(d), ord(s)] for d, s in zip("1234567890,.'", "!@#$%^&*()<>\"")]
    rows += [[0, 0] for _ in range(spare)]
    return rows


class FakeDisplay:
    """Just enough of python-xlib's ``Display``: a keymap, XTest input and the MappingNotify events."""

    def __init__(self, spare: int = 4, fail_after: int | None = None, name: str = ":7") -> None:
        self.name = name
        self.keymap = us_keymap(spare)
        self.display = SimpleNamespace(info=SimpleNamespace(min_keycode=FIRST,
                                                            max_keycode=FIRST + len(self.keymap) - 1))
        self.text = ""
        self.fake_events: list[tuple[int, int]] = []
        self.sent_events: list[object] = []  # XSendEvent: must stay empty
        self.remaps: list[int] = []
        self.queue: list[SimpleNamespace] = []
        self.shift_down = False
        self.fail_after = fail_after  # key events accepted before the connection "breaks"
        self.closed = False

    # what the typer calls
    def get_display_name(self) -> str:
        return self.name

    def pending_events(self) -> int:
        return len(self.queue)

    def next_event(self) -> SimpleNamespace:
        return self.queue.pop(0)

    def get_keyboard_mapping(self, first: int, count: int) -> list[list[int]]:
        return [list(row) for row in self.keymap[first - FIRST:first - FIRST + count]]

    def change_keyboard_mapping(self, keycode: int, rows: list[list[int]]) -> None:
        self.keymap[keycode - FIRST] = list(rows[0])
        self.remaps.append(keycode)
        self.queue.append(SimpleNamespace(type=MAPPING_NOTIFY))

    def xtest_fake_input(self, event_type: int, keycode: int) -> None:
        if self.fail_after is not None and len(self.fake_events) >= self.fail_after:
            from Xlib.error import ConnectionClosedError

            raise ConnectionClosedError("Server")
        self.fake_events.append((event_type, keycode))
        row = self.keymap[keycode - FIRST]
        if row[0] == SHIFT_L:
            self.shift_down = event_type == KEY_PRESS
        elif event_type == KEY_PRESS:
            keysym = row[1] if self.shift_down and row[1] else row[0]
            if keysym == BACKSPACE:
                self.text = self.text[:-1]
            elif keysym == RETURN:
                self.text += "\n"
            else:
                self.text += chr(keysym - 0x01000000 if keysym >= 0x01000000 else keysym)

    def send_event(self, *args, **kwargs) -> None:
        self.sent_events.append((args, kwargs))

    def sync(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("text", ["hello", "Hello, World!", "Zoë café 42 ß", "naïve “quotes” – ok\n",
                                  "日本"])
def test_every_character_arrives_through_xtest_key_presses(text):
    server = FakeDisplay(spare=8)
    typer = XTestTyper(server)
    typer.type_text(text)
    assert server.text == text
    assert server.sent_events == []
    presses = [e for e in server.fake_events if e[0] == KEY_PRESS]
    assert len(presses) == len(text) + sum(c.isupper() or c in "!\"" for c in text)  # Shift with capitals
    assert len(server.fake_events) == 2 * len(presses)  # each press released


def test_capitals_and_shifted_punctuation_hold_shift_only_for_their_key():
    server = FakeDisplay()
    XTestTyper(server).type_text("aA!")
    shift = FIRST  # the fake keymap's first key
    a, one = FIRST + 4, FIRST + 30
    assert server.fake_events == [
        (KEY_PRESS, a), (KEY_RELEASE, a),
        (KEY_PRESS, shift), (KEY_PRESS, a), (KEY_RELEASE, a), (KEY_RELEASE, shift),
        (KEY_PRESS, shift), (KEY_PRESS, one), (KEY_RELEASE, one), (KEY_RELEASE, shift),
    ]


def test_a_character_off_the_keymap_borrows_a_spare_keycode_once_and_gives_it_back():
    server = FakeDisplay(spare=4)
    typer = XTestTyper(server)
    typer.type_text("éé")
    typer.type_text("é")
    assert server.text == "ééé"
    assert len(server.remaps) == 1  # mapped once, then reused
    borrowed = server.remaps[0]
    assert server.keymap[borrowed - FIRST][:2] == [keysym_for("é")] * 2
    typer.restore()
    assert not any(server.keymap[borrowed - FIRST])
    typer.type_text("é")  # after a restore it borrows again
    assert server.text == "éééé"


def test_with_every_spare_keycode_taken_the_one_used_longest_ago_is_mapped_anew():
    server = FakeDisplay(spare=2)
    typer = XTestTyper(server)
    typer.type_text("éè")  # both spares
    typer.type_text("é")  # é used last: è is the oldest
    typer.type_text("ñ")
    assert server.text == "éèéñ"
    assert server.remaps[-1] == server.remaps[1]  # è's keycode
    assert [keysym_for("é"), keysym_for("ñ")] == sorted(server.keymap[c - FIRST][0] for c in set(server.remaps))


def test_a_keymap_changed_by_another_program_is_read_again():
    server = FakeDisplay()
    typer = XTestTyper(server)
    typer.type_text("a")
    a = FIRST + 4
    server.keymap[a - FIRST] = [ord("q"), ord("Q")]  # setxkbmap swapped a key
    server.queue.append(SimpleNamespace(type=MAPPING_NOTIFY))
    typer.type_text("q")
    assert server.text == "aq"
    assert server.fake_events[-2:] == [(KEY_PRESS, a), (KEY_RELEASE, a)]


def test_a_failure_says_how_much_was_typed():
    server = FakeDisplay(fail_after=6)  # three keys pressed and released
    typer = XTestTyper(server)
    with pytest.raises(InjectionError) as caught:
        typer.type_text("hello")
    assert caught.value.delivered == "hel" == server.text
    assert "Keys could not be sent" in str(caught.value)


def test_a_character_that_cannot_be_typed_is_refused_before_any_key_is_pressed():
    server = FakeDisplay()
    typer = XTestTyper(server)
    with pytest.raises(InjectionError, match="U\\+0007"):
        typer.prepare("ab\x07")
    with pytest.raises(InjectionError):
        typer.type_text("ab\x07")
    assert server.fake_events == [] and server.text == ""


def test_no_spare_keycode_is_one_sentence_and_nothing_typed():
    server = FakeDisplay(spare=0)
    with pytest.raises(InjectionError, match="spare key"):
        XTestTyper(server).type_text("é")
    assert server.fake_events == []


def test_action_keys_are_pressed_through_xtest_too():
    server = FakeDisplay()
    typer = XTestTyper(server)
    typer.type_text("ab")
    typer.press("backspace")
    typer.press("enter")
    assert server.text == "a\n"
    assert server.sent_events == []


def test_the_x11_injector_the_app_opens_is_the_xtest_one(monkeypatch):
    from Xlib import display as xdisplay

    server = FakeDisplay()
    server.has_extension = lambda name: name == "XTEST"
    monkeypatch.setattr(xdisplay, "Display", lambda *args: server)
    injector = backend.open_injector("linux")
    assert isinstance(injector, XTestTyper)
    injector.type_text("Hi")
    assert server.text == "Hi" and server.sent_events == []


def test_a_server_without_xtest_is_one_sentence(monkeypatch):
    from Xlib import display as xdisplay

    server = FakeDisplay()
    server.has_extension = lambda name: False
    monkeypatch.setattr(xdisplay, "Display", lambda *args: server)
    with pytest.raises(InjectionError, match="XTEST"):
        backend.open_injector("linux")
    assert server.closed


def test_prepare_checks_without_pressing_or_mapping_anything():
    server = FakeDisplay(spare=1)
    typer = XTestTyper(server)
    typer.prepare("Zoë")  # one character off the keymap, one spare keycode
    with pytest.raises(InjectionError, match="too few spare keys"):
        typer.prepare("éè")
    assert server.fake_events == [] and server.remaps == []


# --- keycodes a killed keyboard borrowed -----------------------------------------------

@pytest.fixture
def dead_pid() -> int:
    """The id of a process that has ended (a copy that was killed)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def live_pid():
    """The id of a process that runs while the test does (another copy, running)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def killed_copy(server: FakeDisplay, pid: int, text: str = "é") -> list[int]:
    """A keyboard that typed ``text`` on ``server`` and was killed: its keycodes stay mapped."""
    typer = XTestTyper(server, KeycodeLedger(server.name, pid=pid))
    typer.type_text(text)
    return list(typer._borrowed)  # (no restore: it was killed)


def test_what_is_borrowed_is_written_down_atomically_and_struck_out_when_given_back(tmp_path):
    server = FakeDisplay()
    ledger = KeycodeLedger(":7.0", folder=tmp_path)
    typer = XTestTyper(server, ledger)
    typer.type_text("aé")
    [keycode] = server.remaps
    record = json.loads(ledger.path.read_text(encoding="utf-8"))
    assert record["display"] == ":7" and record["keycodes"] == {str(keycode): keysym_for("é")}
    typer.type_text("ñ")
    assert len(json.loads(ledger.path.read_text(encoding="utf-8"))["keycodes"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == [ledger.path.name]  # no temporary file left
    typer.restore()
    assert list(tmp_path.iterdir()) == []


def test_the_next_keyboard_gives_back_what_a_killed_one_borrowed(dead_pid, user_folders):
    server = FakeDisplay(spare=3)
    borrowed = killed_copy(server, dead_pid, "éñ")
    assert all(any(server.keymap[k - FIRST]) for k in borrowed)
    typer = XTestTyper(server, KeycodeLedger(server.name))
    assert typer.give_back_leftovers() == 2
    assert not any(any(server.keymap[k - FIRST]) for k in borrowed)
    assert list(ledger_folder().iterdir()) == []  # the dead copy's record is gone too
    typer.type_text("é")  # the keycodes are spare again
    assert server.text == "éñé"


def test_a_keycode_as_an_xkb_server_reports_it_is_given_back_too(dead_pid, user_folders):
    """An XKB server (Xvfb, Xorg) reads a keycode mapped with two keysyms back as four, the
    second group repeating the first, in rows of seven."""
    server = FakeDisplay()
    [keycode] = killed_copy(server, dead_pid)
    server.keymap[keycode - FIRST] = [keysym_for("é")] * 4 + [0] * 3
    assert XTestTyper(server, KeycodeLedger(server.name)).give_back_leftovers() == 1
    assert server.keymap[keycode - FIRST] == [0] * 7


def test_a_keycode_another_program_mapped_since_is_left_alone(dead_pid, user_folders):
    server = FakeDisplay()
    [keycode] = killed_copy(server, dead_pid)
    server.keymap[keycode - FIRST] = [0x1000263, 0x1000263]  # xmodmap put ţ there since
    assert XTestTyper(server, KeycodeLedger(server.name)).give_back_leftovers() == 0
    assert server.keymap[keycode - FIRST] == [0x1000263, 0x1000263]


def test_a_running_copys_keycodes_are_never_taken(live_pid, dead_pid, user_folders):
    """After an X server restart a running copy may have borrowed the very keycode a dead
    copy had written down, for the same character: it stays mapped."""
    server = FakeDisplay()
    [keycode] = killed_copy(server, dead_pid)
    KeycodeLedger(server.name, pid=live_pid).record({keycode: keysym_for("é")})
    assert XTestTyper(server, KeycodeLedger(server.name)).give_back_leftovers() == 0
    assert server.keymap[keycode - FIRST][:2] == [keysym_for("é")] * 2
    assert KeycodeLedger(server.name, pid=live_pid).path.exists()


def test_another_displays_records_are_left_until_they_are_a_week_old(dead_pid, user_folders):
    other = FakeDisplay(name=":8")
    [keycode] = killed_copy(other, dead_pid)
    server = FakeDisplay(name=":7")
    assert XTestTyper(server, KeycodeLedger(":7")).give_back_leftovers() == 0
    record = KeycodeLedger(":8", pid=dead_pid).path
    assert record.exists() and any(other.keymap[keycode - FIRST])
    old = time.time() - 8 * 24 * 3600
    os.utime(record, (old, old))
    XTestTyper(server, KeycodeLedger(":7")).give_back_leftovers()
    assert not record.exists()


def test_a_damaged_record_of_a_dead_copy_is_removed_and_costs_nothing(dead_pid, user_folders):
    folder = ledger_folder()
    folder.mkdir(parents=True)
    (folder / f"{dead_pid}.json").write_text('{"keycodes": ', encoding="utf-8")
    (folder / "notes.json").write_text("{}", encoding="utf-8")  # not ours: never touched
    server = FakeDisplay()
    assert XTestTyper(server, KeycodeLedger(server.name)).give_back_leftovers() == 0
    assert [p.name for p in folder.iterdir()] == ["notes.json"]


def test_the_injector_the_app_opens_gives_back_a_killed_copys_keycodes(monkeypatch, dead_pid, user_folders):
    from Xlib import display as xdisplay

    server = FakeDisplay()
    server.has_extension = lambda name: name == "XTEST"
    [keycode] = killed_copy(server, dead_pid)
    monkeypatch.setattr(xdisplay, "Display", lambda *args: server)
    injector = backend.open_injector("linux")
    assert not any(server.keymap[keycode - FIRST])
    injector.type_text("é")  # and writes down its own
    assert KeycodeLedger(server.name).path.exists()



# --- the record is written before the keymap changes, and names its host ----------------------

class RecordCheckingDisplay(FakeDisplay):
    """A server that, when a keycode is mapped, looks at what the ledger holds at that moment
    (a kill right after the change must find the keycode written down)."""

    def __init__(self, ledger_path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ledger_path = ledger_path
        self.recorded_at_change: list[dict[str, int]] = []

    def change_keyboard_mapping(self, keycode: int, rows: list[list[int]]) -> None:
        record = json.loads(self.ledger_path.read_text(encoding="utf-8"))
        self.recorded_at_change.append(record["keycodes"])
        assert record["keycodes"].get(str(keycode)) == rows[0][0]  # this keycode, this keysym
        super().change_keyboard_mapping(keycode, rows)


def test_a_borrowed_keycode_is_written_down_before_the_keymap_changes(tmp_path):
    ledger = KeycodeLedger(":7", folder=tmp_path)
    server = RecordCheckingDisplay(ledger.path, spare=1)
    typer = XTestTyper(server, ledger)
    typer.type_text("é")
    [keycode] = server.remaps
    typer.type_text("ñ")  # no spare left: the same keycode is mapped anew, and recorded anew first
    assert server.remaps == [keycode, keycode]
    assert server.recorded_at_change == [{str(keycode): keysym_for("é")}, {str(keycode): keysym_for("ñ")}]
    assert server.text == "éñ"
    record = json.loads(ledger.path.read_text(encoding="utf-8"))
    assert record["keycodes"] == {str(keycode): keysym_for("ñ")} and record["host"] == ledger.host


def test_another_hosts_record_is_left_alone_in_a_shared_home_folder(dead_pid, user_folders):
    """A home folder shared between machines: a pid that is dead here may be a live keyboard
    on the other machine, whose display ":7" is another X server."""
    server = FakeDisplay()
    typer = XTestTyper(server, KeycodeLedger(server.name, pid=dead_pid, host="elsewhere.example"))
    typer.type_text("é")
    [keycode] = server.remaps
    record = KeycodeLedger(server.name, pid=dead_pid, host="elsewhere.example").path
    assert json.loads(record.read_text(encoding="utf-8"))["host"] == "elsewhere.example"
    assert XTestTyper(server, KeycodeLedger(server.name, host="here.example")).give_back_leftovers() == 0
    assert server.keymap[keycode - FIRST][:2] == [keysym_for("é")] * 2 and record.exists()
    old = time.time() - 8 * 24 * 3600  # however old: only a keyboard on that host can tell
    os.utime(record, (old, old))
    XTestTyper(server, KeycodeLedger(server.name, host="here.example")).give_back_leftovers()
    assert record.exists()
    # on its own host, the same record is a killed copy's, given back
    assert XTestTyper(server, KeycodeLedger(server.name, host="elsewhere.example")).give_back_leftovers() == 1
    assert not record.exists() and not any(server.keymap[keycode - FIRST])


def test_two_hosts_whose_keyboards_have_the_same_pid_keep_both_records(dead_pid, user_folders):
    """A home folder shared between machines, where a keyboard on each has the same process
    number: neither record writes over the other, and each host gives back only its own."""
    server = FakeDisplay(spare=2)
    here = XTestTyper(server, KeycodeLedger(server.name, pid=dead_pid, host="here.example"))
    there = XTestTyper(server, KeycodeLedger(server.name, pid=dead_pid, host="there.example"))
    here.type_text("é")
    there.type_text("ñ")
    records = sorted(p.name for p in ledger_folder().iterdir())
    assert records == [f"{dead_pid}-here.example.json", f"{dead_pid}-there.example.json"]
    assert XTestTyper(server, KeycodeLedger(server.name, host="here.example")).give_back_leftovers() == 1
    assert [p.name for p in ledger_folder().iterdir()] == [f"{dead_pid}-there.example.json"]


def test_an_earlier_versions_record_of_a_killed_copy_is_still_given_back(dead_pid, user_folders):
    """Before the host was in its name a record was "PID.json"; one left by a keyboard killed
    before the upgrade is given back all the same."""
    server = FakeDisplay()
    [keycode] = killed_copy(server, dead_pid)
    current = KeycodeLedger(server.name, pid=dead_pid).path
    legacy = current.with_name(f"{dead_pid}.json")
    record = json.loads(current.read_text(encoding="utf-8"))
    del record["host"]
    legacy.write_text(json.dumps(record), encoding="utf-8")
    current.unlink()
    assert XTestTyper(server, KeycodeLedger(server.name)).give_back_leftovers() == 1
    assert not legacy.exists() and not any(server.keymap[keycode - FIRST])


def test_a_record_whose_process_number_a_later_program_has_is_given_back(live_pid, user_folders):
    """In time (or after a reboot) a killed keyboard's number goes to another program: a
    process that started after the record was written is not its writer."""
    server = FakeDisplay()
    [keycode] = killed_copy(server, live_pid)
    record = KeycodeLedger(server.name, pid=live_pid).path
    old = time.time() - 3600
    os.utime(record, (old, old))  # written an hour before that process started
    assert XTestTyper(server, KeycodeLedger(server.name)).give_back_leftovers() == 1
    assert not record.exists() and not any(server.keymap[keycode - FIRST])
