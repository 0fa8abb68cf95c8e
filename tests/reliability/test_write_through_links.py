"""Atomic writes keep the user's links and never replace what is not a file (H39, finding 5):
saving a document opened through a symbolic link replaced the link with a plain file, so the
file it named (in a synced folder, say) was never updated; exporting onto /dev/full as root
replaced the device."""

from __future__ import annotations

import os
import stat

import pytest

from keyboard_app.storage import atomic_write_bytes, atomic_write_text

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links and pipes as POSIX has them")


def test_a_write_through_a_link_replaces_the_file_it_names_and_keeps_the_link(tmp_path):
    cloud = tmp_path / "cloud"
    cloud.mkdir()
    real = cloud / "notes.txt"
    real.write_text("v1", encoding="utf-8")
    real.chmod(0o600)
    link = tmp_path / "notes.txt"
    link.symlink_to(os.path.join("cloud", "notes.txt"))  # relative, as `ln -s` makes them
    assert atomic_write_text(link, "v2") == real
    assert link.is_symlink() and os.readlink(link) == os.path.join("cloud", "notes.txt")
    assert real.read_text(encoding="utf-8") == "v2"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600  # the file's own mode, kept
    assert sorted(p.name for p in cloud.iterdir()) == ["notes.txt"]  # no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cloud", "notes.txt"]


def test_a_chain_of_links_and_a_link_to_a_file_not_made_yet(tmp_path):
    real = tmp_path / "real.txt"
    (tmp_path / "first").symlink_to(tmp_path / "second")
    (tmp_path / "second").symlink_to(real)
    atomic_write_text(tmp_path / "first", "made")  # a dangling link: the file it names is made
    assert real.read_text(encoding="utf-8") == "made"
    assert (tmp_path / "first").is_symlink() and (tmp_path / "second").is_symlink()


@pytest.mark.parametrize("kind", ["fifo", "folder", "link to a fifo"])
def test_what_is_not_a_regular_file_is_refused_and_left_as_it_was(tmp_path, kind):
    target = tmp_path / "thing"
    if kind == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)
    path = target if kind != "link to a fifo" else tmp_path / "link"
    if kind == "link to a fifo":
        path.symlink_to(target)
    with pytest.raises(OSError, match="not a regular file"):
        atomic_write_bytes(path, b"data")
    expected = stat.S_ISDIR if kind == "folder" else stat.S_ISFIFO
    assert expected(os.lstat(target).st_mode)
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
