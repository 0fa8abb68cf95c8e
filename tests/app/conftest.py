"""App tests: user folders in a temporary place, never the real ones."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def user_folders(tmp_path, monkeypatch):
    """Point platformdirs' user folders at a temporary folder for every test."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path
