"""The one-copy socket's requests, in one process: a second start's "activate" and
"open FILE" lines, and what the first copy does with a line it does not know."""

from __future__ import annotations

import os
import uuid

import pytest

QtNetwork = pytest.importorskip("PySide6.QtNetwork")

from keyboard_app.ui.app import ANSWER, OPEN, SingleInstance  # noqa: E402


@pytest.fixture
def instance(qapp):
    claimed = SingleInstance(f"keyboard-app-test-{uuid.uuid4().hex[:12]}")
    assert claimed.claim()
    yield claimed
    claimed.release()


def send(qtbot, name: str, line: bytes) -> bytes:
    """Write ``line`` as a second start does and return what the first copy answered."""
    socket = QtNetwork.QLocalSocket()
    socket.connectToServer(name)
    assert socket.waitForConnected(2000)
    socket.write(line)
    socket.flush()
    qtbot.waitUntil(lambda: socket.canReadLine() or socket.state() != socket.LocalSocketState.ConnectedState,
                    timeout=5000)
    answer = bytes(socket.readLine().data()) if socket.canReadLine() else b""
    socket.abort()
    return answer


def test_an_open_request_brings_the_window_and_names_the_file(qtbot, instance):
    path = os.path.join(os.sep, "home", "me", "notes d’été.txt")
    seen = []
    instance.activated.connect(lambda: seen.append("activated"))
    instance.open_requested.connect(seen.append)
    assert send(qtbot, instance.name, OPEN + os.fsencode(path) + b"\n") == ANSWER
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)  # (acted on after the answer)
    assert seen == ["activated", path]


def test_an_unknown_or_unfinished_line_is_not_answered(qtbot, instance):
    seen = []
    instance.activated.connect(lambda: seen.append("activated"))
    instance.open_requested.connect(seen.append)
    assert send(qtbot, instance.name, b"delete everything\n") == b""
    assert seen == []


def test_the_answer_comes_before_the_file_is_opened_and_a_box_there_outlives_the_socket(qtbot, instance):
    """H25 finding 2: opening the file may ask about unsaved changes, a modal box (a nested
    event loop) that waits for the user.  The asking copy must have its answer while the box
    is up (it used to wait 10 s and open a second window), and it then hangs up: the first
    copy must not touch the socket Qt deleted meanwhile (it used to crash, losing the text)."""
    from PySide6.QtCore import QEventLoop, QTimer

    client = QtNetwork.QLocalSocket()
    seen = {}

    def open_with_a_box(path: str) -> None:  # what the window does with unsaved text
        box = QEventLoop()

        def while_the_box_is_up() -> None:
            if not client.canReadLine():
                client.waitForReadyRead(2000)
            seen["answer"] = bytes(client.readLine().data()) if client.canReadLine() else b""
            client.abort()  # the second start has its answer and exits
            QTimer.singleShot(200, box.quit)  # the user answers the box a moment later

        QTimer.singleShot(0, while_the_box_is_up)
        box.exec()
        seen["opened"] = path

    instance.open_requested.connect(open_with_a_box)
    client.connectToServer(instance.name)
    assert client.waitForConnected(2000)
    client.write(OPEN + b"/tmp/letter.txt\n")
    client.flush()
    qtbot.waitUntil(lambda: "opened" in seen, timeout=10_000)
    assert seen == {"answer": ANSWER, "opened": "/tmp/letter.txt"}
    assert send(qtbot, instance.name, OPEN + b"/tmp/again.txt\n") == ANSWER  # and it answers the next one
