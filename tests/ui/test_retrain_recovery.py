"""Nothing a retrain finished is lost to a kill: the next opening of the retrain dialog offers
the model a dead copy of the app left unadded ("Add to My Models" / "Discard") instead of
clearing it; unfinished or damaged runs are removed as before; another running copy's runs are
left alone; of two copies only one takes a run.  And the files the trainer skips or reads as
Windows-1252 are said in the dialog, before and while it trains."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keyboard_app import paths, retraining
from keyboard_app.progress_events import Decoded, Skipped
from keyboard_app.ui import retrain_dialog
from keyboard_app.ui.retrain_dialog import RetrainDialog

CHILD = Path(__file__).with_name("retrain_kill_child.py")


def new_dialog(qtbot, window):
    dialog = RetrainDialog(controller=window.models, settings=window.settings, save_settings=window.save_settings,
                           start_directory=window.start_directory, parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def user_models():
    folder = paths.user_models_dir()
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if folder.exists() else []


def runs():
    folder = retrain_dialog.training_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def dead_pid() -> int:
    """The id of a process that has ended (and was reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def left_run(bundle: Path | None, *, pid: int, name: str = "My writing 2026-12-01", tag: str = "abc123",
             stamp: str | None = None) -> Path:
    """A run folder as a retrain of process ``pid`` leaves it: the trainer's bundle (a copy of
    ``bundle``, named ``name``; none when None), its work folder and the held-out text.  Its
    stamp says when it started (now unless given: after process ``pid`` started)."""
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
    run = retrain_dialog.training_dir() / f"run-{stamp}-p{pid}-{tag}"
    (run / "work").mkdir(parents=True)
    (run / "heldout.json").write_text("{}")
    if bundle is not None:
        shutil.copytree(bundle, run / "bundle")
        manifest = json.loads((run / "bundle" / "manifest.json").read_text())
        manifest["name"] = name
        (run / "bundle" / "manifest.json").write_text(json.dumps(manifest))
    return run


@pytest.fixture
def corpus(tmp_path, patterned_text):
    path = tmp_path / "my-writing.txt"
    path.write_text(patterned_text, encoding="utf-8")
    return path


def test_a_kill_right_after_training_loses_nothing_and_the_model_is_offered_then_added(
        qtbot, window, tiny_bundle, corpus):
    env = dict(os.environ, KEYBOARD_FAULT="retrain.trained", QT_QPA_PLATFORM="offscreen")
    child = subprocess.run([sys.executable, str(CHILD), str(tiny_bundle), str(corpus)], env=env,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr  # killed at the point, not before
    [run] = runs()
    assert (retrain_dialog.training_dir() / run / "bundle" / "manifest.json").is_file()
    assert user_models() == []  # the user had not chosen yet

    dialog = new_dialog(qtbot, window)
    [(run_dir, row)] = dialog.unadded.items()
    assert row.isVisible() and dialog.unadded_box.isVisible()
    text = row.findChildren(retrain_dialog.QLabel)[0].text()
    # (the "trainer" copied the built-in model, trained on corpus.txt, and named it as asked)
    assert text.startswith("\u201cKilled after training\u201d, trained on ") and "from corpus.txt" in text
    assert "was not added to your models" in text
    assert not (run_dir / "heldout.json").exists() and not (run_dir / "work").exists()  # only the model kept
    current = window.current_key()

    [add] = [b for b in row.findChildren(retrain_dialog.QPushButton) if "Add" in b.text()]
    add.click()
    qtbot.waitUntil(lambda: len(user_models()) == 1 and not dialog.unadded, timeout=20_000)
    [folder] = user_models()
    info = window.model_store.info(f"user:{folder}")
    assert info.name == "Killed after training" and info.origin == "trained" and info.problem is None
    assert window.current_key() == current  # added to the list, not put in use
    assert runs() == []
    assert not dialog.unadded_box.isVisible()
    dialog.close()


def test_discard_deletes_the_offered_model_and_nothing_else(qtbot, window, tiny_bundle, boxes):
    from PySide6.QtWidgets import QMessageBox

    run = left_run(tiny_bundle, pid=dead_pid())
    dialog = new_dialog(qtbot, window)
    [(run_dir, row)] = dialog.unadded.items()
    assert run_dir.parent == run.parent and run_dir.name.endswith(f"-p{os.getpid()}-abc123")  # claimed
    [discard] = [b for b in row.findChildren(retrain_dialog.QPushButton) if "Discard" in b.text()]
    discard.click()  # the confirmation answered No (the default): nothing deleted
    assert [t for k, t, _ in boxes.shown if k == "question"] == ["Delete Retrained Model?"]
    assert (run_dir / "bundle").is_dir() and list(dialog.unadded) == [run_dir]
    boxes.answers.append(QMessageBox.StandardButton.Yes)
    discard.click()
    assert runs() == [] and user_models() == [] and not dialog.unadded
    dialog.close()
    again = new_dialog(qtbot, window)
    assert not again.unadded
    again.close()


def test_an_offer_left_unanswered_is_offered_again_the_next_time(qtbot, window, tiny_bundle):
    left_run(tiny_bundle, pid=dead_pid())
    first = new_dialog(qtbot, window)
    [run_dir] = first.unadded
    first.close()  # not answered
    second = new_dialog(qtbot, window)
    assert list(second.unadded) == [run_dir]
    assert (run_dir / "bundle").is_dir() and user_models() == []
    second.close()


def test_unfinished_and_damaged_runs_are_removed_and_a_running_copys_run_is_left_alone(
        qtbot, window, tiny_bundle):
    pid = dead_pid()
    unfinished = left_run(None, pid=pid, tag="aaa111")  # stopped in training: no bundle
    damaged = left_run(tiny_bundle, pid=pid, tag="bbb222")
    (damaged / "bundle" / "model.onnx").write_bytes(b"half a graph")  # its checksum fails
    staged = left_run(None, pid=pid, tag="ccc333")
    (staged / ".bundle.partial-1-x").mkdir()  # killed while the trainer wrote the bundle
    older = retrain_dialog.training_dir() / "run-old"  # an earlier version's name, no process id
    (older / "work").mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = left_run(tiny_bundle, pid=sleeper.pid, tag="ddd444")
        before = sorted(p.relative_to(live) for p in live.rglob("*"))
        dialog = new_dialog(qtbot, window)
        assert not dialog.unadded and not dialog.unadded_box.isVisible()
        assert runs() == [live.name]  # the others gone, the live copy's untouched
        assert sorted(p.relative_to(live) for p in live.rglob("*")) == before
        dialog.close()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_two_copies_opening_at_once_take_each_finished_run_once(tiny_bundle):
    # Two copies of the app (other user folders cannot share runs; the same folders can,
    # where the one-window guard did not run) recover the same training folder together.
    folder = retrain_dialog.training_dir()
    pid = dead_pid()
    made = [left_run(tiny_bundle, pid=pid, tag=f"{i:06x}") for i in range(6)]
    script = ("import json, sys\nfrom pathlib import Path\nfrom keyboard_app import retraining\n"
              "sys.stdin.read()\n"  # start together
              "print(json.dumps([m.run_dir.name for m in retraining.recover_runs(Path(sys.argv[1]))]))")
    copies = [subprocess.Popen([sys.executable, "-c", script, str(folder)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for copy in copies:
        copy.stdin.close()
    taken = [json.loads(copy.stdout.read()) for copy in copies]
    for copy in copies:
        assert copy.wait(timeout=60) == 0
    names = taken[0] + taken[1]
    assert len(names) == len(set(names)) == len(made)  # each run once, none lost
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


# --- what the trainer skips or reads as Windows-1252, said in the dialog ---

@pytest.fixture
def mixed_corpus(tmp_path, patterned_text):
    folder = tmp_path / "writing"
    folder.mkdir()
    (folder / "essay.txt").write_text(patterned_text, encoding="utf-8")
    (folder / "photo.bin").write_bytes(bytes(range(256)) * 8)
    (folder / "loop").symlink_to(folder / "loop")
    (folder / "lettre.txt").write_bytes("Le café est très bon, déjà vu à Noël.\n".encode("cp1252") * 20)
    return folder


def test_the_files_the_trainer_skips_or_decodes_are_said_under_the_count(qtbot, window, mixed_corpus):
    dialog = new_dialog(qtbot, window)
    dialog.add_corpus_paths([mixed_corpus])
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=10_000)
    assert dialog.notes_label.isVisible()
    assert dialog.notes_label.text() == ("2 files skipped (link loop: loop; binary: photo.bin). "
                                         "1 file read as Windows-1252, not UTF-8: lettre.txt.")
    tip = dialog.notes_label.toolTip()
    assert f"{mixed_corpus / 'photo.bin'}: it looks like a binary file, not text" in tip
    assert f"{mixed_corpus / 'loop'}: it is a symbolic link that leads back to itself (a loop)" in tip
    assert str(mixed_corpus / "lettre.txt") in tip
    dialog.corpus_list.setCurrentRow(0)
    dialog._remove_selected()  # nothing chosen: nothing to say
    assert not dialog.notes_label.isVisible()
    dialog.close()


def test_many_skipped_files_are_elided_in_the_line_and_all_listed_in_the_tooltip(qtbot, window, tmp_path,
                                                                                  patterned_text):
    folder = tmp_path / "lots"
    folder.mkdir()
    (folder / "text.txt").write_text(patterned_text)
    for i in range(12):
        (folder / f"image{i:02d}.bin").write_bytes(b"\0\1\2\3" * 100)
    dialog = new_dialog(qtbot, window)
    dialog.add_corpus_paths([folder])
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=10_000)
    assert dialog.notes_label.text() == "12 files skipped (binary: image00.bin, image01.bin, image02.bin and 9 more)."
    assert all(f"image{i:02d}.bin" in dialog.notes_label.toolTip() for i in range(12))
    dialog.close()


def test_the_trainers_own_skipped_and_encoding_lines_are_shown_while_it_trains(qtbot, window):
    dialog = new_dialog(qtbot, window)
    assert not dialog.training_notes_label.isVisibleTo(dialog.training_page)
    dialog.handle_event(Skipped(path="/w/a.bin", kind="binary", reason="it looks like a binary file, not text"))
    dialog.handle_event(Skipped(path="/w/b.txt", kind="unreadable", reason="it cannot be read (Permission denied)"))
    dialog.handle_event(Decoded(path="/w/old.txt", encoding="Windows-1252"))
    assert dialog.training_notes_label.isVisibleTo(dialog.training_page)
    assert dialog.training_notes_label.text() == ("2 files skipped (binary: a.bin; unreadable: b.txt). "
                                                  "1 file read as Windows-1252, not UTF-8: old.txt.")
    assert "/w/b.txt: it cannot be read (Permission denied)" in dialog.training_notes_label.toolTip()
    dialog.close()


def test_a_tooltip_lists_the_first_files_and_counts_the_rest():
    from types import SimpleNamespace

    skipped = [SimpleNamespace(path=f"/w/b{i:03d}.bin", kind="binary", reason="it looks like a binary file, not text")
               for i in range(retraining.TIP_FILES + 15)]
    line, tip = retraining.corpus_notes(skipped, [])
    assert line == f"{len(skipped)} files skipped (binary: b000.bin, b001.bin, b002.bin and {len(skipped) - 3} more)."
    lines = tip.splitlines()
    assert lines[0] == "Skipped:" and lines[-1] == "  … and 15 more"
    assert len(lines) == 1 + retraining.TIP_FILES + 1


def test_adding_a_model_named_like_the_next_proposal_proposes_another_name(qtbot, window, tiny_bundle):
    dialog_name = retrain_dialog.proposed_name(window.model_store)
    left_run(tiny_bundle, pid=dead_pid(), name=dialog_name)
    dialog = new_dialog(qtbot, window)
    assert dialog.name_edit.text() == dialog_name  # the same name as the model offered
    [model] = retraining.recover_runs(retrain_dialog.training_dir())  # (offered again: this process's claim)
    dialog.add_unadded(model)
    qtbot.waitUntil(lambda: not dialog.unadded, timeout=20_000)
    assert [info.name for info in window.model_store.list() if not info.is_default] == [dialog_name]
    assert dialog.name_edit.text() == f"{dialog_name} (2)"
    dialog.close()


def test_the_app_says_at_its_start_that_a_retrained_model_is_waiting_and_opens_the_dialog_if_asked(
        qtbot, make_window, tiny_bundle, boxes):
    from PySide6.QtWidgets import QMessageBox

    left_run(tiny_bundle, pid=dead_pid())
    boxes.answers.append(QMessageBox.StandardButton.Yes)
    window = make_window()
    qtbot.waitUntil(lambda: window.retrain_dialog is not None, timeout=10_000)
    [(kind, title, text)] = [shown for shown in boxes.shown if shown[0] == "question"]
    assert title == "Retrained Model Not Added" and text.startswith("A model you retrained was not added")
    assert len(window.retrain_dialog.unadded) == 1  # the dialog offers it
    window.retrain_dialog.close()


def test_nothing_is_asked_at_the_start_when_no_model_waits(qtbot, make_window, tiny_bundle, boxes):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        left_run(tiny_bundle, pid=sleeper.pid)  # another copy's run, still under way
        left_run(None, pid=dead_pid(), tag="def456")  # a dead run that never finished
        window = make_window()
        qtbot.wait(200)
        assert "question" not in boxes.kinds() and window.retrain_dialog is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_signal_during_the_comparison_keeps_the_finished_model_for_the_next_start(qtbot, window, tiny_bundle):
    from keyboard_app.ui.app import close_for_signal

    class Comparison:  # the comparison under way: cancelled and waited for, as a close does
        def cancel(self):
            pass

        def wait(self):
            pass

    dialog = new_dialog(qtbot, window)
    window.retrain_dialog = dialog
    run = left_run(tiny_bundle, pid=os.getpid(), tag="sig001")  # this process's run, trained
    dialog.run_dir, dialog.new_bundle = run, run / "bundle"
    dialog._outcome, dialog._eval_task = "done", Comparison()
    assert dialog.is_training()  # what the window's close would ask about before dropping it
    assert close_for_signal(window)
    assert (run / "bundle" / "manifest.json").is_file()  # nobody was asked: nothing dropped
    assert retraining.unadded_waiting(retrain_dialog.training_dir()) == 0  # this copy still lives


def test_a_run_whose_process_number_another_program_has_now_is_offered(qtbot, window, tiny_bundle):
    """H39: after a reboot process numbers come round again; a finished run whose number an
    unrelated program now has was counted as a running copy's and never offered.  A process
    that started after the run did cannot be the one that made it."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        earlier = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() - 3600))
        left_run(tiny_bundle, pid=sleeper.pid, stamp=earlier, name="Before the reboot")
        assert retraining.unadded_waiting(retrain_dialog.training_dir()) == 1
        [model] = retraining.recover_runs(retrain_dialog.training_dir())
        assert model.run_dir.name.endswith(f"-p{os.getpid()}-abc123")  # claimed by this copy
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_claimed_run_is_this_copys_for_any_other_process(qtbot, window, tiny_bundle):
    """H51: a claimed run kept its first stamp with the claimer's number, and the claimer
    started after that stamp, so another copy judged the run dead and could take it while
    this one was adding it.  A claim stamps the run anew."""
    earlier = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() - 3600))
    left_run(tiny_bundle, pid=dead_pid(), stamp=earlier)
    [model] = retraining.recover_runs(retrain_dialog.training_dir())
    script = ("import sys; from pathlib import Path; from keyboard_app import retraining; "
              "print([whose for _, _, whose in retraining._runs(Path(sys.argv[1]))])")
    other = subprocess.run([sys.executable, "-c", script, str(retrain_dialog.training_dir())],
                           capture_output=True, text=True, timeout=60)
    assert other.stdout.strip() == "['live']", other.stderr
