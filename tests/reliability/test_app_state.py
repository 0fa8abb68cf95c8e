"""The app's own state: settings and learned words damaged, out of range, on a full or
read-only disk, saved by two copies at once, or cut off by a kill (issue 11).

What the user must see: the app starts with the defaults, one sentence in one box
that names the damaged file and says truthfully where it went (kept as ``.corrupt``,
or left as it is), a sentence naming the file when a save fails, never a traceback;
and what must hold: the damaged file's bytes are kept, a failed save leaves the old
file whole, no learned count is lost or counted twice, a kill leaves no leftovers
after the next start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from keyboard_app import paths  # noqa: E402
from keyboard_app.learning import PersonalModel  # noqa: E402
from keyboard_app.settings import MAX_FONT_SIZE, MIN_FONT_SIZE, Settings, SettingsStore  # noqa: E402
from keyboard_app.storage import atomic_write_json, remove_stale_temps  # noqa: E402

from .conftest import REPO, assert_intact, fill, run_module, snapshot  # noqa: E402

DEEP = "[" * 100_000 + "]" * 100_000
BINARY = bytes(range(256)) * 4


@pytest.fixture(autouse=True)
def no_leftover_instance_files():
    """A killed app leaves its lock and socket in the temporary folder: remove this test's."""
    yield
    import tempfile

    name = paths.single_instance_name()
    for leftover in (Path(tempfile.gettempdir()) / name, Path(tempfile.gettempdir()) / f"{name}.lock"):
        leftover.unlink(missing_ok=True)


def counts_file(unigrams: dict, **extra) -> str:
    return json.dumps({"format": "keyboard-personal-counts", "format_version": 1,
                       "unigrams": unigrams, "bigrams": {"<s>": {}}, **extra})


# -- a window, in this process --------------------------------------------------------


@pytest.fixture
def shown(monkeypatch):
    """What the message boxes were asked to show: [(kind, title, text)] (they answer at once)."""
    from PySide6.QtWidgets import QMessageBox

    seen: list[tuple[str, str, str]] = []
    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(
            lambda parent, title, text, *a, _k=kind, **kw: seen.append((_k, title, text))
            or QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **kw: QMessageBox.StandardButton.Cancel))
    return seen


@pytest.fixture
def start(make_window, qtbot, shown):
    """``start()`` -> a shown MainWindow, its model loaded, start-up problems reported
    (to ``shown``, patched in before the window exists)."""

    def make():
        window = make_window()
        qtbot.wait(20)  # let the queued start-up report run
        return window

    return make


def warnings(shown) -> list[str]:
    return [text for kind, _, text in shown if kind == "warning"]


# -- item 6: damaged files, values out of range ------------------------------------------


@pytest.mark.parametrize("content", [
    BINARY, DEEP.encode(), b"{not json", b'{"format": "other"}', b"[1, 2]",
    b'{"editor_font_size": ' + b"9" * 5000 + b"}", b'{"editor_font_size": 1e400}',
], ids=["binary", "nested", "not-json", "other-format", "a-list", "5000-digits", "1e400"])
def test_damaged_settings_are_kept_aside_and_the_app_starts_with_defaults(start, shown, content):
    path = paths.settings_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    window = start()
    assert window.model_label.text() == "Model: Tiny test model"
    assert window.settings == Settings()
    [text] = warnings(shown)
    backup = path.with_name("settings.json.corrupt")
    assert str(path) in text and f"kept as {backup}" in text
    assert backup.read_bytes() == content  # the user's bytes, untouched
    window.close()
    shown.clear()
    start()
    assert shown == []  # once, not at every start


@pytest.mark.parametrize("content", [
    BINARY, DEEP.encode(), counts_file({"zanzibar": 3}).replace("3", "1e400").encode(),
    counts_file({"zanzibar": 3}).replace("3", "9" * 5000).encode(),
    counts_file({}).replace('"unigrams": {}', '"unigrams": [1, 2]').encode(),
    b'{"format": "keyboard-personal-counts", "format_version": 99, "unigrams": {}, "bigrams": {}}',
], ids=["binary", "nested", "1e400", "5000-digits", "unigrams-a-list", "future-version"])
def test_damaged_learned_words_are_kept_aside_and_learning_starts_afresh(start, shown, qtbot, content):
    path = paths.learned_data_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    window = start()
    [text] = warnings(shown)
    backup = path.with_name("personal.json.corrupt")
    assert str(path) in text and f"set aside as {backup}" in text
    assert backup.read_bytes() == content
    assert len(window.personal) == 0
    window.personal.observe("", "Zanzibar")  # learning works again, into a fresh file
    assert window.save_learned()
    assert PersonalModel.load(path)[0].unigrams == {"zanzibar": 1}


def test_settings_out_of_range_are_clamped_field_by_field(start, shown):
    path = paths.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"editor_font_size": -10**18, "learning_enabled": True,
                                "model": 7, "recent_files": ["/a.txt", 3, "x" * 10_000]}))
    window = start()
    assert shown == []  # a field is not a damaged file: the log says it, the app goes on
    assert window.settings.editor_font_size == MIN_FONT_SIZE
    assert window.editor.font().pointSize() == MIN_FONT_SIZE
    assert window.settings.learning_enabled and window.learn_action.isChecked()  # the rest is kept
    assert window.settings.model == "default" and window.settings.recent_files == ["/a.txt"]

    window.close()
    path.write_text(json.dumps({"editor_font_size": 10**6}))
    big = start()
    assert big.editor.font().pointSize() == MAX_FONT_SIZE
    big.close()
    assert json.loads(path.read_text())["editor_font_size"] == MAX_FONT_SIZE  # saved in range


def test_learned_counts_out_of_range_are_dropped_and_the_rest_kept(start, shown):
    path = paths.learned_data_path()
    path.parent.mkdir(parents=True)
    path.write_text(counts_file({"zanzibar": 3, "minus": -5, "huge": 10**15, "flag": True,
                                 "half": 2.5, "not a word": 2}))
    window = start()
    assert shown == []
    assert window.personal.unigrams == {"zanzibar": 3} and window.personal.total == 3


# -- item 9b: a read-only folder: say what really happened -------------------------------


def read_only(mount: Path) -> None:
    proc = subprocess.run(["mount", "-o", "remount,ro", str(mount)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot remount read-only: {proc.stderr.strip()}")


def test_on_a_read_only_folder_the_damaged_files_are_said_to_be_left_as_they_are(
        start, shown, small_disk, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(small_disk / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(small_disk / "data"))
    for path in (paths.settings_path(), paths.learned_data_path()):
        path.parent.mkdir(parents=True)
        path.write_bytes(BINARY)
    read_only(small_disk)
    before = snapshot(small_disk)
    window = start()
    [text] = warnings(shown)
    for path in (paths.settings_path(), paths.learned_data_path()):
        assert f"{path} is damaged" in text
    assert text.count("could not be moved aside") == 2 and text.count("left as it is") == 2
    assert ".corrupt" not in text  # nothing claims a copy that does not exist
    window.personal.observe("", "zanzibar")
    assert not window.save_learned()  # never written over; the user is told
    assert str(paths.learned_data_path()) in window.statusBar().currentMessage()
    assert_intact(before, small_disk)


# -- full disk: a failed save leaves the old file, and one sentence ---------------------


def test_a_settings_save_on_a_full_disk_keeps_the_old_file(start, shown, small_disk, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(small_disk))
    SettingsStore().save(Settings(editor_font_size=20, recent_files=["/mine.txt"]))
    window = start()
    fill(small_disk)
    before = snapshot(small_disk)
    window.set_font_size(30)
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Could not save the settings to {paths.settings_path()}")
    assert "no space left" in message.lower() and "keeps the settings saved before" in message
    assert_intact(before, small_disk)
    assert not list(paths.user_config_dir().glob(".settings.json.*"))  # no temporary file left
    assert SettingsStore().load()[0].editor_font_size == 20


def test_a_learned_words_save_on_a_full_disk_keeps_the_old_file(start, shown, small_disk, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(small_disk))
    seed = PersonalModel()
    seed.observe("", "alpha")
    seed.save(paths.learned_data_path())
    window = start()
    fill(small_disk)
    before = snapshot(small_disk)
    window.personal.observe("alpha", "beta")
    assert not window.save_learned()
    message = window.statusBar().currentMessage()
    assert str(paths.learned_data_path()) in message and "no space left" in message.lower()
    assert_intact(before, small_disk)
    window.close()  # the last try, at close, fails too: a box says so
    [text] = warnings(shown)
    assert str(paths.learned_data_path()) in text and "keeps what was saved before" in text
    assert_intact(before, small_disk)
    assert PersonalModel.load(paths.learned_data_path())[0].unigrams == {"alpha": 1}


# -- item 3, defence in depth: two learners, one file ------------------------------------


def test_two_learners_keep_both_sets_of_counts_and_count_nothing_twice():
    path = paths.learned_data_path()
    first, _ = PersonalModel.load(path)
    second, _ = PersonalModel.load(path)
    first.observe("", "alpha")
    first.observe("alpha", "alpha")
    first.save(path)
    second.observe("", "beta")
    second.observe("beta", "alpha")
    second.save(path)  # must not write over first's words
    first.observe("", "gamma")
    first.save(path)
    first.save(path)  # nothing new: nothing counted again
    second.save(path)
    saved = PersonalModel.load(path)[0]
    assert saved.unigrams == {"alpha": 3, "beta": 1, "gamma": 1}
    assert saved.bigrams == {"<s>": {"alpha": 1, "beta": 1, "gamma": 1},
                             "alpha": {"alpha": 1}, "beta": {"alpha": 1}}
    assert first.unigrams == saved.unigrams  # each copy now suggests the other's words too

    second.forget("alpha")  # a forget wins over counts the other copy saved
    second.save(path)
    first.observe("gamma", "gamma")
    first.save(path)
    assert PersonalModel.load(path)[0].unigrams == {"beta": 1, "gamma": 2}

    first.clear()  # and so does clearing everything
    first.save(path)
    second.observe("", "delta")
    second.save(path)
    assert PersonalModel.load(path)[0].unigrams == {"delta": 1}


LEARNER = textwrap.dedent("""
    import sys
    from keyboard_app.learning import PersonalModel
    path, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    model, problem = PersonalModel.load(path)
    assert problem is None, problem
    for i in range(rounds):
        model.observe("", "common")
        model.observe("common", name)
        model.save(path)
""")


def test_two_processes_saving_at_once_keep_every_count(tmp_path):
    path = tmp_path / "personal.json"
    rounds = 60
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", LEARNER, str(path), name, str(rounds)],
                              env=env, cwd=REPO, stderr=subprocess.PIPE, text=True)
             for name in ("first", "second")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    saved = PersonalModel.load(path)[0]
    assert saved.unigrams == {"common": 2 * rounds, "first": rounds, "second": rounds}
    assert saved.bigrams["common"] == {"first": rounds, "second": rounds}


# -- item 15a: a kill while saving ----------------------------------------------------------


def remember_checksums(bundle: Path) -> None:
    """The bundle's checksums in this test's memo (``checksum_memo``), as an earlier start
    leaves them, so that a start of the app writes no memo.  Written here rather than by a
    load: a load does not remember a file changed in the last ``SETTLED_SECONDS``, and the
    session's ``tiny_bundle`` is that young when this is the first test to ask for it (say,
    after the phrase-table tests): the app started a moment later, the files settled by
    then, wrote the memo before the settings and was killed there (a race with the clock)."""
    from keyboard_app.checksum_memo import ChecksumMemo
    from keyboard_app.engine.bundle import MANIFEST, file_identity, sha256_file

    memo = ChecksumMemo()
    for name in json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))["files"]:
        path = bundle / name
        memo.remember(path, file_identity(path.stat()), sha256_file(path))
    memo.save()


def test_a_kill_while_saving_keeps_the_old_file_and_the_next_start_cleans_up(tiny_bundle):
    # The bundle's checksums remembered first: else the start below could write that file
    # before the settings, and be killed there instead.
    remember_checksums(tiny_bundle)
    SettingsStore().save(Settings(editor_font_size=21))
    config = paths.user_config_dir()
    before = snapshot(config)
    killed = run_module("keyboard_app", "--model", tiny_bundle, "--quit-after", "0.5",
                        env={"KEYBOARD_FAULT": "storage.before-rename", "QT_QPA_PLATFORM": "offscreen"},
                        timeout=120)
    assert killed.returncode == -9, killed.output  # died between the temporary file and the rename
    assert_intact(before, config)
    assert list(config.glob(".settings.json.*.tmp"))  # what a kill leaves behind

    again = run_module("keyboard_app", "--model", tiny_bundle, "--quit-after", "0.5",
                       env={"QT_QPA_PLATFORM": "offscreen"}, timeout=120)
    assert again.returncode == 0 and "Traceback" not in again.output, again.output
    assert sorted(p.name for p in config.iterdir()) == ["settings.json"]
    assert SettingsStore().load()[0].editor_font_size == 21


def test_a_write_in_progress_in_another_copy_is_not_taken_for_a_leftover(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True)
    dead = tmp_path / f".personal.json.{finished.stdout.strip()}.abcd1234.tmp"
    live = tmp_path / f".personal.json.{os.getppid()}.abcd1234.tmp"
    other = tmp_path / ".notes.txt.abcd1234"
    for path in (dead, live, other):
        path.write_text("partial")
    assert remove_stale_temps(tmp_path) == [dead]
    assert live.exists() and other.exists()
    atomic_write_json(tmp_path / "personal.json", {})  # a write cleans its own name's leftovers
    assert live.exists()  # ... but only dead ones
    files = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert files == sorted([live.name, other.name, "personal.json"])


# -- item 6, end to end: the real program with damaged files ---------------------------------


def test_the_program_starts_with_damaged_files_and_says_so_once(tiny_bundle):
    settings, learned = paths.settings_path(), paths.learned_data_path()
    for path, content in ((settings, BINARY), (learned, counts_file({"zanzibar": 3}).replace("3", "1e400").encode())):
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
    env = {"QT_QPA_PLATFORM": "offscreen"}
    first = run_module("keyboard_app", "--model", tiny_bundle, "--quit-after", "0.5", env=env, timeout=120)
    assert first.returncode == 0 and "Traceback" not in first.output, first.output
    assert f"{settings} was damaged" in first.stderr and f"{learned} was damaged" in first.stderr
    assert settings.with_name("settings.json.corrupt").read_bytes() == BINARY
    assert learned.with_name("personal.json.corrupt").exists()
    second = run_module("keyboard_app", "--model", tiny_bundle, "--quit-after", "0.5", env=env, timeout=120)
    assert second.returncode == 0 and "damaged" not in second.output, second.output
