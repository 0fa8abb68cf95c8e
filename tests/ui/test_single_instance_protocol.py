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
    assert seen == ["activated", path]


def test_an_unknown_or_unfinished_line_is_not_answered(qtbot, instance):
    seen = []
    instance.activated.connect(lambda: seen.append("activated"))
    instance.open_requested.connect(seen.append)
    assert send(qtbot, instance.name, b"delete everything\n") == b""
    assert seen == []
