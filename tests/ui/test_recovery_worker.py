"""The writer of the copies for a crash (``documents.RecoveryWriter``), on its own: one write at
a time, off the GUI thread; the newest text replaces one waiting, and an older never lands over
a newer; ``cancel`` lets nothing submitted before it land; the outcome is told on the GUI
thread; quitting waits for a write under way, for a bounded time."""

from __future__ import annotations

import errno
import json
import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from keyboard_app.ui import documents as documents_module
from keyboard_app.ui.documents import RecoveryWriter, origin_file


class Told(QObject):
    """Receives the writer's signals, as ``Documents`` does: a QObject of the GUI thread."""

    def __init__(self, writer: RecoveryWriter) -> None:
        super().__init__()
        self.written: list[tuple[int, threading.Thread]] = []
        self.failed: list[tuple[int, str, threading.Thread]] = []
        writer.written.connect(self.on_written)
        writer.failed.connect(self.on_failed)

    def on_written(self, generation: int) -> None:
        self.written.append((generation, threading.current_thread()))

    def on_failed(self, generation: int, why: str) -> None:
        self.failed.append((generation, why, threading.current_thread()))


class Held:
    """A ``write_copy`` whose writes of texts (not records) wait for ``go`` (each, or all
    once ``release_all``), recording what was written, where, and how many at once."""

    def __init__(self, monkeypatch) -> None:
        self.real = documents_module.write_copy
        self.started: list[str] = []
        self.threads: list[threading.Thread] = []
        self.at_once = 0
        self.most_at_once = 0
        self.lock = threading.Lock()
        self.go = threading.Semaphore(0)
        self.entered = threading.Semaphore(0)
        monkeypatch.setattr(documents_module, "write_copy", self)

    def __call__(self, path: Path, text: str, guard) -> None:
        if path.name.endswith(documents_module.ORIGIN_SUFFIX):
            return self.real(path, text, guard)
        with self.lock:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
            self.started.append(text)
            self.threads.append(threading.current_thread())
        try:
            self.entered.release()
            assert self.go.acquire(timeout=30), "never let go"
            return self.real(path, text, guard)
        finally:
            with self.lock:
                self.at_once -= 1

    def wait_entered(self) -> None:
        assert self.entered.acquire(timeout=30), "no write started"

    def release(self, n: int = 1) -> None:
        self.go.release(n)


@pytest.fixture
def writer(qapp):
    made = RecoveryWriter()
    yield made
    made.cancel()
    made.wait(30)


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "unsaved"


def settle(writer: RecoveryWriter) -> None:
    assert writer.wait(30)
    QApplication.processEvents()  # the signals queued to the GUI thread


def test_texts_are_written_one_at_a_time_off_the_gui_thread_and_the_newest_wins(writer, folder, monkeypatch):
    held = Held(monkeypatch)
    told = Told(writer)
    path = folder / "Untitled 2026-12-04 10-00-00.txt"
    first = writer.submit(path, "v1", None, "utf-8")
    held.wait_entered()
    for n in range(2, 8):  # while v1 is written: each replaces the one waiting
        last = writer.submit(path, f"v{n}", None, "utf-8")
    held.release(2)
    settle(writer)
    assert held.started == ["v1", "v7"] and held.most_at_once == 1
    assert all(thread is not threading.main_thread() for thread in held.threads)
    assert path.read_text(encoding="utf-8") == "v7"
    assert [g for g, _ in told.written] == [first, last]
    assert all(thread is threading.main_thread() for _, thread in told.written)
    record = json.loads(origin_file(path).read_text(encoding="utf-8"))
    assert record["writer"]["pid"] == os.getpid() and record["encoding"] == "utf-8"
    assert sorted(p.name for p in folder.iterdir()) == sorted([path.name, origin_file(path).name])  # no temporary


def test_an_older_text_never_lands_over_a_newer_even_submitted_from_many_threads(writer, folder, monkeypatch):
    """However the submits interleave, what is on disk at the end is the last text submitted."""
    written: list[int] = []
    real = documents_module.write_copy

    def slow(path, text, guard):
        if not path.name.endswith(documents_module.ORIGIN_SUFFIX):
            written.append(int(text))
            threading.Event().wait(0.002)  # a slow disk
        return real(path, text, guard)

    monkeypatch.setattr(documents_module, "write_copy", slow)
    path = folder / "copy.txt"
    order_lock = threading.Lock()
    submitted: list[int] = []

    def submit_many(start: int) -> None:
        for n in range(start, start + 200, 4):
            with order_lock:  # (the order they were taken in, as the GUI thread's would be)
                submitted.append(n)
                writer.submit(path, str(n), None, "utf-8")

    threads = [threading.Thread(target=submit_many, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    settle(writer)
    positions = [submitted.index(n) for n in written]
    assert positions == sorted(positions) and written[-1] == submitted[-1]
    assert path.read_text(encoding="utf-8") == str(submitted[-1])


def test_cancel_lets_nothing_submitted_before_it_land_and_leaves_no_temporary_file(writer, folder, monkeypatch):
    held = Held(monkeypatch)
    told = Told(writer)
    path = folder / "copy.txt"
    writer.submit(path, "being written", None, "utf-8")
    held.wait_entered()
    writer.submit(path, "waiting", None, "utf-8")
    assert writer.cancel()  # the text saved or discarded: its copy goes
    for leftover in (path, origin_file(path)):
        leftover.unlink(missing_ok=True)
    held.release(2)
    settle(writer)
    assert held.started == ["being written"]  # the one waiting was dropped
    assert list(folder.iterdir()) == [] and told.written == [] and told.failed == []
    # typed on: a new copy, and its record written again (the removal took it too)
    writer.submit(path, "typed on", None, "utf-8")
    held.wait_entered()
    held.release()
    settle(writer)
    assert path.read_text(encoding="utf-8") == "typed on" and origin_file(path).exists()
    assert not writer.cancel()  # nothing under way


def test_a_failure_is_told_on_the_gui_thread_with_its_reason(writer, folder, monkeypatch):
    def full(path, text, guard):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(documents_module, "write_copy", full)
    told = Told(writer)
    generation = writer.submit(folder / "copy.txt", "text", None, "utf-8")
    settle(writer)
    assert told.failed == [(generation, "No space left on device", threading.main_thread())]
    assert told.written == []


def test_a_folder_that_cannot_be_made_is_a_failure_not_a_crash(writer, tmp_path):
    (tmp_path / "unsaved").write_text("a file where the folder would go", encoding="utf-8")
    told = Told(writer)
    writer.submit(tmp_path / "unsaved" / "copy.txt", "text", None, "utf-8")
    settle(writer)
    [(_, why, thread)] = told.failed
    assert why and thread is threading.main_thread()


def test_quitting_waits_for_a_write_under_way_for_a_bounded_time(writer, folder, monkeypatch):
    held = Held(monkeypatch)
    path = folder / "copy.txt"
    writer.submit(path, "the last words", None, "utf-8")
    held.wait_entered()
    assert not documents_module.finish_recovery_writes(0.05)  # bounded: not waited for ever
    threading.Timer(0.2, held.release).start()
    assert documents_module.finish_recovery_writes(30)  # (quitting: ``atexit``)
    assert path.read_text(encoding="utf-8") == "the last words"
    assert sorted(p.name for p in folder.iterdir()) == sorted([path.name, origin_file(path).name])


def test_the_copy_is_encoded_a_piece_at_a_time_and_whole(writer, folder, monkeypatch):
    monkeypatch.setattr(documents_module, "RECOVERY_PIECE_CHARS", 7)
    text = "Chère Anne, les plans ont changé ’ " * 50 + "😀 fin"
    path = folder / "copy.txt"
    writer.submit(path, text, Path("/home/u/lettre.txt"), "latin-1")
    settle(writer)
    assert path.read_bytes() == text.encode("utf-8")
    record = json.loads(origin_file(path).read_text(encoding="utf-8"))
    assert record["path"] == "/home/u/lettre.txt" and record["encoding"] == "latin-1"
