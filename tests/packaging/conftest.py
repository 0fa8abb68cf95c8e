"""Packaging test fixtures: the model the build ships, and private user folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyboard_app.engine.bundle import ModelLoadError, load_bundle

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = ROOT / "assets" / "models" / "default"


@pytest.fixture(autouse=True)
def user_folders(tmp_path, monkeypatch):
    """platformdirs' user folders in a temporary place, for this process and its children."""
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    return tmp_path


@pytest.fixture(scope="session")
def shipped_model(request) -> Path:
    """The default model bundle if the repository has one, else the tiny trained test bundle."""
    try:
        load_bundle(DEFAULT_MODEL)
    except ModelLoadError:
        return request.getfixturevalue("tiny_bundle")
    return DEFAULT_MODEL
