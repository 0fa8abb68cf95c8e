"""Settings: defaults, round trip, a corrupt file reported once and replaced."""

from __future__ import annotations

import json

import pytest

from keyboard_app import paths
from keyboard_app.settings import MAX_RECENT_FILES, Settings, SettingsStore


def test_missing_file_gives_defaults_and_writes_nothing():
    store = SettingsStore()
    settings, problem = store.load()
    assert settings == Settings()
    assert problem is None
    assert not paths.user_config_dir().exists()  # created lazily, on the first write


def test_round_trip(tmp_path):
    store = SettingsStore(tmp_path / "s.json")
    settings = Settings(model="user:mine", learning_enabled=True)
    settings.add_recent_file(str(tmp_path / "a.txt"))
    store.save(settings)
    loaded, problem = store.load()
    assert problem is None
    assert loaded == settings


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '"text"', "\x00\x01", '{"format": "other"}'])
def test_corrupt_file_is_reported_once_and_replaced(content):
    store = SettingsStore()
    store.path.parent.mkdir(parents=True)
    store.path.write_text(content, encoding="utf-8")
    settings, problem = store.load()
    assert settings == Settings()
    assert problem and "reset to the defaults" in problem
    assert store.path.with_name("settings.json.corrupt").read_text(encoding="utf-8") == content
    again, problem_again = store.load()  # the defaults were written back: no second report
    assert again == Settings() and problem_again is None


def test_a_field_of_the_wrong_type_falls_back_quietly():  # to its default; the usable entries stay
    store = SettingsStore()
    store.path.parent.mkdir(parents=True)
    store.path.write_text(json.dumps({"model": 3, "learning_enabled": "yes", "recent_files": ["a", 2],
                                      "editor_font_size": 15}))
    settings, problem = store.load()
    assert problem is None
    assert settings.model == "default" and settings.learning_enabled is False
    assert settings.recent_files == ["a"] and settings.editor_font_size == 15


def test_recent_files_are_unique_newest_first_and_bounded(tmp_path):
    settings = Settings()
    for i in range(MAX_RECENT_FILES + 3):
        settings.add_recent_file(str(tmp_path / f"{i}.txt"))
    settings.add_recent_file(str(tmp_path / "5.txt"))
    assert len(settings.recent_files) == MAX_RECENT_FILES
    assert settings.recent_files[0].endswith("5.txt")
    assert len(set(settings.recent_files)) == MAX_RECENT_FILES


def test_save_is_atomic_when_the_write_fails(monkeypatch):
    store = SettingsStore()
    store.save(Settings(model="user:old"))
    import keyboard_app.storage as storage

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    real_replace = storage.os.replace
    monkeypatch.setattr(storage.os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.save(Settings(model="user:new"))
    monkeypatch.setattr(storage.os, "replace", real_replace)
    loaded, _ = store.load()
    assert loaded.model == "user:old"  # the old file is whole
    assert [p.name for p in store.path.parent.iterdir()] == ["settings.json"]  # no temp left


PREFERENCES = {
    "suggestion_count": 5, "strip_font_size": 18, "theme": "dark", "accept_key": "none",
    "space_after_accept": False, "auto_capitalise": False, "large_strip_buttons": True,
    "high_contrast": True, "retrain_sources": ["/home/me/notes"],
}


def test_the_preferences_round_trip(tmp_path):
    store = SettingsStore(tmp_path / "s.json")
    store.save(Settings(**PREFERENCES))
    loaded, problem = store.load()
    assert problem is None
    assert {name: getattr(loaded, name) for name in PREFERENCES} == PREFERENCES


@pytest.mark.parametrize("name, value, expected", [
    ("suggestion_count", 0, 1), ("suggestion_count", 9, 5), ("suggestion_count", "3", 3),
    ("suggestion_count", True, 3),
    ("strip_font_size", -4, 0), ("strip_font_size", 3, 8), ("strip_font_size", 99, 40),
    ("strip_font_size", 2.5, 0),
    ("theme", "purple", "system"), ("theme", None, "system"), ("theme", "light", "light"),
    ("accept_key", "enter", "tab"), ("accept_key", "none", "none"),
    ("space_after_accept", "no", True), ("auto_capitalise", 0, True),
    ("large_strip_buttons", 1, False), ("high_contrast", "true", False),
    ("retrain_sources", "a.txt", []), ("retrain_sources", ["a", 3, "a", "b"], ["a", "b"]),
])
def test_a_bad_preference_is_clamped_or_falls_back_alone(name, value, expected):
    store = SettingsStore()
    store.path.parent.mkdir(parents=True)
    store.path.write_text(json.dumps({name: value, "editor_font_size": 15}))
    settings, problem = store.load()
    assert problem is None
    assert getattr(settings, name) == expected
    assert settings.editor_font_size == 15  # the rest is kept
