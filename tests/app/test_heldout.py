"""The held-out text file the trainer writes for the app (keyboard_app.heldout)."""

import json

import pytest

from keyboard_app.heldout import HeldoutError, read_heldout, write_heldout


def test_written_texts_read_back_and_no_temporary_file_is_left(tmp_path):
    path = tmp_path / "heldout.json"
    write_heldout(path, ["The end of one file.\n", "Ünïcode, too.\n"])
    assert read_heldout(path) == ["The end of one file.\n", "Ünïcode, too.\n"]
    write_heldout(path, ["replaced\n"])
    assert read_heldout(path) == ["replaced\n"]
    assert [p.name for p in tmp_path.iterdir()] == ["heldout.json"]


@pytest.mark.parametrize("content, message", [
    (None, "the trainer wrote no held-out text"),
    (b"\x00\x01binary", "not JSON text"),
    (json.dumps({"format": "keyboard-bundle", "format_version": 1, "texts": []}), "not a held-out text file"),
    (json.dumps({"format": "keyboard-heldout", "format_version": 2, "texts": []}), "not a held-out text file"),
    (json.dumps({"format": "keyboard-heldout", "format_version": 1, "texts": [1, 2]}), "not a list of strings"),
    ("[" * 100 + "]" * 100, "heldout.json:"),
])
def test_anything_else_is_refused_with_one_sentence_naming_the_file(tmp_path, content, message):
    path = tmp_path / "heldout.json"
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(HeldoutError, match=message) as caught:
        read_heldout(path)
    assert str(caught.value).startswith(str(path))
