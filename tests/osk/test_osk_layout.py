"""The layout file: the built-in QWERTY, a user's layout, and bad files (one sentence, QWERTY used)."""

from __future__ import annotations

import json

import pytest

from keyboard_app.osk.layout import BUILTIN, LAYOUT_FORMAT, Key, load_layout


def test_builtin_qwerty_types_letters_digits_punctuation_and_accents():
    assert BUILTIN.name == "QWERTY"
    assert BUILTIN.find_char("q") == (1, 1, False)
    assert BUILTIN.find_char("Q") == (1, 1, True)
    assert BUILTIN.find_char("!")[2] is True  # shifted 1, or the ? key's shift
    for char in "éÉàçëüößẞ"[:-1]:
        assert BUILTIN.find_char(char) is not None, char
    for action in ("shift", "caps", "backspace", "enter", "space", "tab", "left", "right", "up", "down"):
        assert BUILTIN.find_action(action) is not None, action
    sharp_s = BUILTIN.rows[BUILTIN.find_char("ß")[0]][BUILTIN.find_char("ß")[1]]
    assert sharp_s.text(shifted=True) == "ß"  # "SS" is not one key's character


def test_no_path_gives_the_builtin_layout_silently():
    assert load_layout(None) == (BUILTIN, None)
    assert load_layout("") == (BUILTIN, None)


def test_a_users_layout_is_read(tmp_path):
    path = tmp_path / "azerty.json"
    path.write_text(json.dumps({
        "format": LAYOUT_FORMAT, "name": "AZERTY",
        "rows": [["a", "z", "e", {"char": "é", "shift": "2", "width": 1.5}],
                 [{"action": "space", "width": 6, "label": "espace"}, {"action": "backspace"}]],
    }), encoding="utf-8")
    layout, problem = load_layout(path)
    assert problem is None
    assert layout.name == "AZERTY"
    assert layout.rows[0][0] == Key(char="a", shift="A")
    assert layout.rows[0][3] == Key(char="é", shift="2", width=1.5)
    assert layout.rows[1][0].caption(False) == "espace"
    assert layout.find_char("2") == (0, 3, True)


BAD_FILES = [
    ("not JSON", "{rows: [", "not valid JSON"),
    ("not UTF-8", b"\xff\xfe\x00rows", "not UTF-8"),
    ("a list", "[1, 2]", "not a layout"),
    ("another format", json.dumps({"format": "keyboard-app-settings", "rows": [["a"]]}), "format"),
    ("no rows", json.dumps({"name": "x"}), "no \"rows\""),
    ("an empty row", json.dumps({"rows": [[]]}), "row 1 is not a list of keys"),
    ("a number as a key", json.dumps({"rows": [["a", 5]]}), "key 2 of row 1"),
    ("two characters", json.dumps({"rows": [["ab"]]}), "one printable character"),
    ("a space character", json.dumps({"rows": [[" "]]}), "one printable character"),
    ("an unknown action", json.dumps({"rows": [[{"action": "launch"}]]}), "action 'launch'"),
    ("action and char", json.dumps({"rows": [[{"action": "space", "char": "a"}]]}), "both"),
    ("a huge width", json.dumps({"rows": [[{"char": "a", "width": 1e9}]]}), "width"),
    ("a boolean width", json.dumps({"rows": [[{"char": "a", "width": True}]]}), "width"),
    ("an unknown field", json.dumps({"rows": [[{"char": "a", "colour": "red"}]]}), "unknown field 'colour'"),
    ("actions only", json.dumps({"rows": [[{"action": "space"}]]}), "no character keys"),
    ("too deep", "[" * 50 + "]" * 50, "nested"),
    ("too many rows", json.dumps({"rows": [["a"]] * 13}), "13 rows"),
]


@pytest.mark.parametrize("content, why", [(c, w) for _, c, w in BAD_FILES],
                         ids=[name for name, _, _ in BAD_FILES])
def test_a_bad_file_gives_one_sentence_and_the_builtin_layout(tmp_path, content, why):
    path = tmp_path / "layout.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    layout, problem = load_layout(path)
    assert layout is BUILTIN
    assert problem.startswith(f"The keyboard layout {path} cannot be used (")
    assert why in problem
    assert problem.endswith("the built-in QWERTY layout is used instead.")
    assert "\n" not in problem and "Traceback" not in problem


def test_a_missing_file_or_a_folder_gives_one_sentence(tmp_path):
    for path in (tmp_path / "missing.json", tmp_path):
        layout, problem = load_layout(path)
        assert layout is BUILTIN
        assert problem.startswith(f"The keyboard layout {path} cannot be used (it cannot be read: ")
        assert problem.count(".") >= 1 and "\n" not in problem


def test_a_huge_file_is_not_read(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"rows": [["a"]], "name": "x" * 400_000}), encoding="utf-8")
    layout, problem = load_layout(path)
    assert layout is BUILTIN and "allowed" in problem


def test_the_window_shows_the_sentence_and_the_builtin_keys(make_keyboard, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    keyboard, _ = make_keyboard(layout_path=str(path))
    assert keyboard.layout_data is BUILTIN
    assert keyboard.problems == [
        f"The keyboard layout {path} cannot be used (it is not valid JSON (Expecting property name "
        "enclosed in double quotes at line 1, column 2)); the built-in QWERTY layout is used instead."
    ]
    assert keyboard.notice.text() == keyboard.problems[0] and keyboard.notice.isVisible()
    assert [len(row) for row in keyboard.key_buttons] == [len(row) for row in BUILTIN.rows]
