"""The copy of the unsaved text kept for a crash (``Documents.write_recovery``): written a
moment after typing pauses (and at least every so often while it goes on), never per
keystroke; removed when the text is saved, discarded, replaced or the window closed as asked;
a failure said once while typing goes on; a signal's keep takes it over (one file); and the
copy of a copy of the app that is gone offered at the next start, as a kept text is."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from keyboard_app import paths
from keyboard_app.ui import documents as documents_module
from keyboard_app.ui.documents import (ORIGIN_SUFFIX, RECOVERY_LIMIT_MS, RECOVERY_PAUSE_MS, origin_file,
                                       write_origin)
from qt_helpers import kept

SB = QMessageBox.StandardButton


def copies() -> list:
    folder = paths.unsaved_texts_dir()
    return sorted(folder.glob("*.txt")) if folder.is_dir() else []


def records() -> list:
    folder = paths.unsaved_texts_dir()
    return sorted(folder.glob("*.origin.json")) if folder.is_dir() else []


def settle(documents) -> None:
    """The copies handed to the writer written (off the GUI thread), and what it said of them
    (``written``, ``failed``) delivered to the GUI thread."""
    assert documents.finish_recovery_writes(30)
    QApplication.processEvents()


@pytest.fixture
def writes(monkeypatch):
    """Every text the copy writes, in order (the real write still happens)."""
    done = []
    real = documents_module.write_copy

    def counting(path, text, guard):
        if not path.name.endswith(ORIGIN_SUFFIX):
            done.append(text)
        return real(path, text, guard)

    monkeypatch.setattr(documents_module, "write_copy", counting)
    return done


def dead_pid() -> int:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(ended.stdout)


def test_the_copy_is_written_once_typing_pauses_not_per_keystroke(qtbot, window, writes):
    qtbot.keyClicks(window.editor, "Dear Ann, the plans changed")
    assert writes == [] and copies() == []  # 27 keystrokes, nothing written yet
    qtbot.waitUntil(lambda: len(copies()) == 1, timeout=RECOVERY_PAUSE_MS + 5_000)
    qtbot.wait(300)
    assert writes == ["Dear Ann, the plans changed"]  # one write, after the pause
    [copy] = copies()
    assert copy.read_text(encoding="utf-8") == "Dear Ann, the plans changed"
    assert copy.name.startswith("Untitled ")
    record = json.loads(origin_file(copy).read_text(encoding="utf-8"))
    assert record["writer"]["pid"] == os.getpid() and "path" not in record
    qtbot.wait(RECOVERY_PAUSE_MS + 300)
    assert len(writes) == 1  # nothing changed: not written again


def test_typing_without_a_pause_restarts_the_pause_but_not_the_limit(qtbot, window, writes):
    documents = window.documents
    qtbot.keyClick(window.editor, "a")
    assert documents._recovery_pause.isActive() and documents._recovery_limit.isActive()
    limit_left = documents._recovery_limit.remainingTime()
    qtbot.wait(400)
    qtbot.keyClick(window.editor, "b")
    assert documents._recovery_pause.remainingTime() > RECOVERY_PAUSE_MS - 300  # started again
    assert documents._recovery_limit.remainingTime() < limit_left - 300  # not: it fires however fast one types
    assert RECOVERY_LIMIT_MS <= 30_000 and writes == []
    documents._recovery_limit.timeout.emit()  # the limit reached while typing goes on
    settle(documents)
    assert writes == ["ab"] and not documents._recovery_pause.isActive()


def test_a_large_document_is_written_only_when_it_changed(qtbot, window, writes):
    window.editor.insertPlainText("the quick brown fox jumps over the lazy dog\n" * 120_000)  # 5.3 MB, pasted
    window.documents.write_recovery()
    window.documents.write_recovery()
    window.documents.write_recovery()
    settle(window.documents)
    assert len(writes) == 1 and copies()[0].stat().st_size == 5_280_000


@pytest.mark.parametrize("action", ["save", "discard on new", "discard on open", "close and discard",
                                    "undo to the saved text", "close after saving"])
def test_the_copy_is_removed_when_the_text_is_saved_discarded_or_closed(qtbot, window, boxes, tmp_path, action):
    other = tmp_path / "other.txt"
    other.write_text("another file", encoding="utf-8")
    saved = tmp_path / "saved.txt"
    if action in ("undo to the saved text", "close after saving"):
        boxes.files.append(saved)
        qtbot.keyClicks(window.editor, "first ")
        assert window.documents.save()
    qtbot.keyClicks(window.editor, "words not saved")
    window.documents.write_recovery()
    settle(window.documents)
    assert len(copies()) == 1 and len(records()) == 1
    if action == "save":
        boxes.files.append(saved)
        assert window.documents.save()
    elif action == "discard on new":
        boxes.answers.append(SB.Discard)
        window.new_document()
    elif action == "discard on open":
        boxes.answers.append(SB.Discard)
        boxes.files.append(other)
        assert window.open_document()
    elif action == "close and discard":
        boxes.answers.append(SB.Discard)
        assert window.close()
    elif action == "undo to the saved text":
        while window.documents.is_modified():
            window.editor.undo()
        window.documents.write_recovery()  # (the timer's slot)
    else:
        assert window.documents.save()
        assert window.close()
    assert copies() == [] and records() == []


def test_a_copy_that_cannot_be_written_is_said_once_and_typing_goes_on(qtbot, window, monkeypatch):
    said = []
    window.documents.message.connect(lambda text, ms: said.append(text))

    def full(path, text, guard):
        raise OSError(errno.ENOSPC, "No space left on device")

    real = documents_module.write_copy
    monkeypatch.setattr(documents_module, "write_copy", full)
    for word in ("one ", "two ", "three "):
        qtbot.keyClicks(window.editor, word)
        window.documents.write_recovery()
        settle(window.documents)
    assert window.editor.toPlainText() == "one two three "
    [sentence] = [s for s in said if "no copy for a crash" in s]
    assert "No space left on device" in sentence and sentence.startswith("Save the text to keep it")
    assert "No space left on device" in window.statusBar().currentMessage()
    assert window.documents._recovery_limit.isActive()  # tried again later, typing or not
    monkeypatch.setattr(documents_module, "write_copy", real)  # room again
    window.documents._recovery_limit.timeout.emit()
    settle(window.documents)
    [copy] = copies()
    assert copy.read_text(encoding="utf-8") == "one two three "


def test_an_unwritable_data_folder_is_said_once(qtbot, window):
    said = []
    window.documents.message.connect(lambda text, ms: said.append(text))
    folder = paths.unsaved_texts_dir()
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the folder would go", encoding="utf-8")
    for word in ("one ", "two "):
        qtbot.keyClicks(window.editor, word)
        window.documents.write_recovery()
        settle(window.documents)
    assert window.editor.toPlainText() == "one two "
    assert len([s for s in said if "no copy for a crash" in s]) == 1


def test_a_signals_keep_takes_the_copy_over_and_it_is_offered_once_as_kept(qtbot, make_window, boxes):
    from keyboard_app.ui.app import keep_unsaved_text

    window = make_window()
    qtbot.keyClicks(window.editor, "typed before the pause ")
    window.documents.write_recovery()
    settle(window.documents)
    [copy] = copies()
    qtbot.keyClicks(window.editor, "and after it")
    assert keep_unsaved_text(window)
    assert copies() == [copy]  # one file
    assert copy.read_text(encoding="utf-8") == "typed before the pause and after it"
    assert not origin_file(copy).exists()  # a kept text now, not this process's copy
    window.documents.write_recovery()
    assert copy.exists()  # nothing of this window's removes it

    boxes.shown.clear()
    make_window()
    qtbot.waitUntil(lambda: len(boxes.shown) == 1, timeout=10_000)
    [(kind, title, text)] = boxes.shown
    assert title == "Unsaved Text Kept" and copy.name in text


def test_the_copy_of_a_running_copy_is_not_offered(qtbot, make_window, boxes):
    first = make_window()
    qtbot.keyClicks(first.editor, "this window's own text")
    first.documents.write_recovery()
    settle(first.documents)
    assert len(copies()) == 1
    make_window()  # (as a second copy started beside it would)
    qtbot.wait(300)
    assert boxes.shown == []


@pytest.mark.parametrize("who", ["a process that ended", "a process whose number came round again"])
def test_the_copy_of_a_copy_that_is_gone_is_offered_as_recovered_and_restored(qtbot, make_window, boxes, tmp_path,
                                                                             who):
    original = tmp_path / "lettre.txt"
    original.write_bytes("Chère Anne".encode("latin-1"))
    copy = kept("lettre 2026-12-03 10-00-00.txt", "Chère Anne, les plans ont changé")
    stamp = time.time() - 90
    os.utime(copy, (stamp, stamp))
    # ``since`` before this process started: the number is this process's now, not the writer's
    writer = (dead_pid(), time.time()) if who == "a process that ended" else (os.getpid(), 1_000_000.0)
    write_origin(copy, original, "latin-1", writer=writer)
    boxes.answers.append(SB.Open)
    window = make_window()
    qtbot.waitUntil(lambda: window.editor.toPlainText() == "Chère Anne, les plans ont changé", timeout=10_000)
    [(kind, title, text)] = boxes.shown
    assert title == "Unsaved Text Recovered"
    assert "stopped without closing" in text and f"up to {RECOVERY_PAUSE_MS // 1000} seconds before" in text
    assert time.strftime("%H:%M:%S", time.localtime(stamp)) in text and str(original) in text
    documents = window.documents
    assert documents.is_modified() and documents.name == "lettre.txt" and documents.encoding == "latin-1"
    assert window.windowTitle().startswith("lettre.txt")
    # typed on: this process's copy now, the same file
    qtbot.keyClicks(window.editor, "!")
    documents.write_recovery()
    settle(documents)
    assert copies() == [copy] and copy.read_text(encoding="utf-8").endswith("changé!")
    record = json.loads(origin_file(copy).read_text(encoding="utf-8"))
    assert record["writer"]["pid"] == os.getpid() and record["encoding"] == "latin-1"
    boxes.answers.append(SB.Discard)
    window.new_document()
    assert copies() == [] and records() == []


@pytest.mark.parametrize("how", ["the dialog cancelled", "a file that cannot be read"])
def test_discard_then_no_file_opened_keeps_the_copy_of_the_text_left_on_screen(qtbot, window, boxes, tmp_path, how):
    """H68: Discard, then the Open dialog cancelled, removed the copy (and stopped its timers)
    while the text stayed on screen: a crash then lost it.  The copy goes only with the text."""
    qtbot.keyClicks(window.editor, "precious words")
    window.documents.write_recovery()
    settle(window.documents)
    [copy] = copies()
    boxes.answers.append(SB.Discard)
    if how == "a file that cannot be read":
        boxes.files.append(tmp_path / "missing.txt")
    assert not window.open_document()
    assert window.editor.toPlainText() == "precious words" and window.documents.is_modified()
    assert copies() == [copy] and copy.read_text(encoding="utf-8") == "precious words"
    qtbot.keyClicks(window.editor, " and more")
    window.documents.write_recovery()
    settle(window.documents)
    assert copy.read_text(encoding="utf-8") == "precious words and more"  # and it is kept up to date
    boxes.answers.append(SB.Discard)
    window.new_document()  # now the text goes: its copy with it
    assert copies() == [] and records() == []


def test_undoing_back_to_the_saved_text_removes_the_copy_at_once(qtbot, window, boxes, tmp_path):
    boxes.files.append(tmp_path / "saved.txt")
    qtbot.keyClicks(window.editor, "first ")
    assert window.documents.save()
    qtbot.keyClicks(window.editor, "more")
    window.documents.write_recovery()
    settle(window.documents)
    assert len(copies()) == 1
    while window.documents.is_modified():
        window.editor.undo()
    assert copies() == [] and records() == []  # not at the next pause: a crash now offers nothing stale


def test_the_kept_texts_folder_is_its_owners_alone(qtbot, window):
    folder = paths.unsaved_texts_dir()
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)  # as an earlier version made it
    qtbot.keyClicks(window.editor, "resignation letter")
    window.documents.write_recovery()
    settle(window.documents)
    assert folder.stat().st_mode & 0o777 == 0o700 and len(copies()) == 1


def test_a_crafted_writer_number_is_no_live_copy_and_the_other_texts_are_still_offered(qtbot, make_window, boxes):
    """A record whose writer's number no system gives made os.kill raise OverflowError out of
    the start-up questions, and no kept text was offered."""
    folder = paths.unsaved_texts_dir()
    folder.mkdir(parents=True)
    copy = folder / "Untitled 2026-12-01 10-00-00.txt"
    copy.write_text("the text typed before the crash", encoding="utf-8")
    write_origin(copy, None, "utf-8", writer=(2**31, 1.0))
    boxes.answers.append(SB.Open)
    window = make_window()
    qtbot.waitUntil(lambda: window.editor.toPlainText() == "the text typed before the crash", timeout=5000)
    assert any(title == "Unsaved Text Recovered" for _, title, _ in boxes.shown)


def test_a_text_typed_and_deleted_again_leaves_nothing_to_offer(qtbot, window):
    """H69: a signal's close kept a 0-byte "unsaved text" of an empty Untitled*, which the next
    start would offer; nor is an empty text's copy for a crash kept."""
    from keyboard_app.ui.app import keep_unsaved_text

    qtbot.keyClicks(window.editor, "a few words")
    window.documents.write_recovery()
    settle(window.documents)
    assert len(copies()) == 1
    window.editor.selectAll()
    window.editor.textCursor().removeSelectedText()
    assert window.documents.is_modified() and window.editor.toPlainText() == ""
    window.documents.write_recovery()
    assert copies() == [] and records() == []
    assert keep_unsaved_text(window)
    assert copies() == []


# --- written off the GUI thread (``documents.RecoveryWriter``) ----------------------------------
# These spy on the system calls every atomic write makes (``os.fsync``, ``os.replace``), so they
# run the same against any way of writing the copy: the old one wrote on the GUI thread.

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names open files through /proc")


def unsaved_file(fd: int) -> str | None:
    """The name of the temporary file of a copy's text (not its record) open as ``fd``."""
    try:
        name = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    folder = os.fspath(paths.unsaved_texts_dir())
    base = os.path.basename(name)
    if os.path.dirname(name) != folder or not base.endswith(".tmp") or ORIGIN_SUFFIX in base:
        return None
    return name


@pytest.fixture
def slow_disk(monkeypatch):
    """The fsync of the first copy's text held until ``gate`` is set: the write is under way
    meanwhile.  A write on the GUI thread would hang it, so it is let go after a while, and
    ``stalled`` says so.  ``texts`` is each copy's text as it was fsynced, ``threads`` where."""
    real = os.fsync
    disk = SimpleNamespace(gate=threading.Event(), entered=threading.Event(), hold=1, stalled=[], texts=[],
                           threads=[])

    def fsync(fd):
        name = unsaved_file(fd)
        if name is not None:
            disk.threads.append(threading.current_thread())
            disk.texts.append(Path(name).read_text(encoding="utf-8"))
            if disk.hold > 0:
                disk.hold -= 1
                disk.entered.set()
                if not disk.gate.wait(10):
                    disk.stalled.append(name)
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return disk


def under_way(disk) -> None:
    """The first copy is being written, and ``write_recovery`` has returned meanwhile."""
    assert disk.entered.wait(30)
    assert disk.stalled == [], "the GUI thread waited for the write"


def leftovers() -> list[str]:
    folder = paths.unsaved_texts_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@needs_proc
def test_the_copy_is_written_off_the_gui_thread(qtbot, window, slow_disk, monkeypatch):
    slow_disk.hold = 0
    renames = []
    real_replace = os.replace

    def replace(source, target, **kwargs):
        if Path(target).parent == paths.unsaved_texts_dir():
            renames.append(threading.current_thread())
        return real_replace(source, target, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    qtbot.keyClicks(window.editor, "written elsewhere")
    window.documents.write_recovery()
    qtbot.waitUntil(lambda: [p.read_text(encoding="utf-8") for p in copies()] == ["written elsewhere"],
                    timeout=10_000)
    assert slow_disk.texts == ["written elsewhere"]
    main = threading.main_thread()
    assert slow_disk.threads and all(thread is not main for thread in slow_disk.threads)  # the fsync
    assert len(renames) == 2 and all(thread is not main for thread in renames)  # the record, then the text


@needs_proc
@pytest.mark.parametrize("action", ["discard on new", "save", "close and discard", "undo to the saved text"])
def test_removing_the_copy_while_it_is_being_written_leaves_none_behind(qtbot, window, boxes, tmp_path, slow_disk,
                                                                       action):
    saved = tmp_path / "saved.txt"
    if action == "undo to the saved text":
        boxes.files.append(saved)
        qtbot.keyClicks(window.editor, "first ")
        assert window.documents.save()
    qtbot.keyClicks(window.editor, "draft not saved")
    window.documents.write_recovery()
    under_way(slow_disk)
    if action == "discard on new":
        boxes.answers.append(SB.Discard)
        window.new_document()
    elif action == "save":
        boxes.files.append(saved)
        assert window.documents.save()
    elif action == "close and discard":
        boxes.answers.append(SB.Discard)
        assert window.close()
    else:
        while window.documents.is_modified():
            window.editor.undo()
    slow_disk.gate.set()  # the write goes on: it must land nowhere
    settle(window.documents)
    assert leftovers() == []  # no copy, no record, no temporary file
    if action == "save":
        assert saved.read_text(encoding="utf-8") == "draft not saved"


@needs_proc
def test_a_newer_text_replaces_one_waiting_and_an_older_never_lands_over_it(qtbot, window, slow_disk):
    qtbot.keyClicks(window.editor, "one")
    window.documents.write_recovery()
    under_way(slow_disk)
    qtbot.keyClicks(window.editor, " two")
    window.documents.write_recovery()  # waits: "one" is being written
    qtbot.keyClicks(window.editor, " three")
    window.documents.write_recovery()  # replaces " two", which is never written
    assert copies() == []
    slow_disk.gate.set()
    settle(window.documents)
    assert slow_disk.texts == ["one", "one two three"]
    [copy] = copies()
    assert copy.read_text(encoding="utf-8") == "one two three"
    qtbot.wait(RECOVERY_PAUSE_MS + 300)  # (its timers, had any run: nothing new to write)
    assert copy.read_text(encoding="utf-8") == "one two three" and len(slow_disk.texts) == 2


@needs_proc
def test_a_signals_keep_while_a_copy_is_being_written_is_not_written_over_by_it(qtbot, window, slow_disk):
    from keyboard_app.ui.app import keep_unsaved_text

    qtbot.keyClicks(window.editor, "typed before the pause")
    window.documents.write_recovery()
    under_way(slow_disk)
    qtbot.keyClicks(window.editor, " and after it")
    assert keep_unsaved_text(window)  # (its own fsync is not held)
    slow_disk.gate.set()
    settle(window.documents)
    [copy] = copies()
    assert copy.read_text(encoding="utf-8") == "typed before the pause and after it"
    assert leftovers() == [copy.name]  # kept: no writer's record, no temporary file


@needs_proc
def test_a_full_disk_under_the_writer_is_said_once_on_the_gui_thread(qtbot, window, monkeypatch):
    real = os.fsync
    said = []
    window.documents.message.connect(lambda text, ms: said.append((text, threading.current_thread())))

    def full(fd):
        if unsaved_file(fd) is not None:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", full)
    for word in ("one ", "two "):
        qtbot.keyClicks(window.editor, word)
        window.documents.write_recovery()
        qtbot.waitUntil(lambda: not window.documents._recovery_pause.isActive()
                        and window.documents._recovery_limit.isActive(), timeout=10_000)  # tried again later
    [(sentence, thread)] = [(s, t) for s, t in said if "no copy for a crash" in s]
    assert "No space left on device" in sentence and thread is threading.main_thread()
    assert copies() == [] and leftovers() == [r.name for r in records()]  # no temporary file left
    monkeypatch.setattr(os, "fsync", real)  # room again
    window.documents._recovery_limit.timeout.emit()
    qtbot.waitUntil(lambda: [p.read_text(encoding="utf-8") for p in copies()] == ["one two "], timeout=10_000)
