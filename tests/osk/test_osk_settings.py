"""The keyboard's settings file: defaults, round trip, values checked one by one, a damaged file."""

from __future__ import annotations

import json

from keyboard_app.osk.settings import OskSettings, OskSettingsStore, osk_settings_path


def test_missing_file_gives_the_defaults(tmp_path):
    settings, problem = OskSettingsStore(tmp_path / "osk.json").load()
    assert settings == OskSettings() and problem is None
    assert settings.access == "pointer" and settings.learn_from_typing is False


def test_it_lives_in_the_config_folder_beside_the_apps_settings(user_folders):
    assert osk_settings_path() == user_folders / "xdg-config" / "predictive-keyboard" / "osk.json"


def test_round_trip_is_atomic_and_tagged(tmp_path):
    store = OskSettingsStore(tmp_path / "osk.json")
    chosen = OskSettings(access="scan", scan_switches=2, scan_interval_ms=1500, dwell_ms=600,
                         suggestion_slots=5, zoom_percent=150, high_contrast=True,
                         layout_path="/home/me/azerty.json", learn_from_typing=True)
    store.save(chosen)
    assert store.load() == (chosen, None)
    data = json.loads((tmp_path / "osk.json").read_text(encoding="utf-8"))
    assert data["format"] == "keyboard-app-osk-settings" and data["format_version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["osk.json"]  # no temporary file left


def test_each_value_is_checked_on_its_own(tmp_path):
    path = tmp_path / "osk.json"
    path.write_text(json.dumps({
        "access": "telepathy",  # unknown: the default
        "dwell_ms": 50,  # below 0.3 s: clamped
        "scan_interval_ms": 99999,  # clamped
        "scan_switches": 3,  # not 1 or 2: the default
        "suggestion_slots": True,  # not a number: the default
        "zoom_percent": 175.4,  # rounded
        "high_contrast": "yes",  # not a boolean: the default
        "learn_from_typing": True,  # kept
        "switch_keys": "space",  # the keyboard types it: the default
        "something_else": 1,  # ignored
    }), encoding="utf-8")
    settings, problem = OskSettingsStore(path).load()
    assert problem is None
    assert settings == OskSettings(dwell_ms=300, scan_interval_ms=5000, zoom_percent=175,
                                   learn_from_typing=True)


def test_changes_are_checked_too():
    assert OskSettings().with_(zoom_percent=1000).zoom_percent == 300
    assert OskSettings().with_(suggestion_slots=1).suggestion_slots == 3


def test_a_damaged_file_gives_the_defaults_one_sentence_and_is_kept(tmp_path):
    path = tmp_path / "osk.json"
    path.write_text('{"access": ', encoding="utf-8")
    settings, problem = OskSettingsStore(path).load()
    assert settings == OskSettings()
    assert problem == (f"The keyboard settings file {path} was damaged (it is not valid JSON "
                       "(Expecting value at line 1, column 12)); the defaults are used and the "
                       f"damaged copy is kept as {path}.corrupt.")
    assert (tmp_path / "osk.json.corrupt").read_text(encoding="utf-8") == '{"access": '
    assert OskSettingsStore(path).load() == (OskSettings(), None)  # said once


def test_another_apps_file_is_not_taken_for_ours(tmp_path):
    path = tmp_path / "osk.json"
    path.write_text(json.dumps({"format": "keyboard-app-settings", "model": "default"}), encoding="utf-8")
    settings, problem = OskSettingsStore(path).load()
    assert settings == OskSettings() and "it is not a keyboard settings file" in problem
