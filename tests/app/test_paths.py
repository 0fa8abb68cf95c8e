"""paths: resources from source and frozen, user folders from XDG, created lazily."""

from __future__ import annotations

import sys
from pathlib import Path

from keyboard_app import paths


def test_resource_path_from_source_is_the_repository_root():
    root = Path(paths.__file__).resolve().parent.parent
    assert paths.resource_path("assets", "models") == root / "assets" / "models"
    assert paths.default_model_path() == root / "assets" / "models" / "default"


def test_resource_path_frozen_uses_meipass(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resource_path("assets", "x") == tmp_path / "assets" / "x"


def test_user_folders_follow_xdg_and_are_not_created(user_folders):
    assert paths.user_data_dir() == user_folders / "xdg-data" / paths.APP_NAME
    assert paths.user_config_dir() == user_folders / "xdg-config" / paths.APP_NAME
    assert paths.user_models_dir().parent == paths.user_data_dir()
    assert paths.settings_path().parent == paths.user_config_dir()
    assert not (user_folders / "xdg-data").exists()
    assert not (user_folders / "xdg-config").exists()
