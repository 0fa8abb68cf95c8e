"""Shared fixtures: a patterned text and tiny bundles trained on it with
``model_training``'s own code, so engine and app tests use a real model.

``tiny_bundle`` trains once per session (a few seconds on 2 cores).
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import pytest

# Before torch is imported: OpenMP threads that spin while waiting make a
# shared 2-core machine several times slower (see model_training.cli).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from text_helpers import PATTERN_SENTENCES, make_patterned_text  # noqa: E402,F401  (fixtures use them)


@pytest.fixture(scope="session")
def patterned_text() -> str:
    return make_patterned_text()


# Tiny sizes: trains in a few seconds, still learns the pattern.
TINY_MODEL = dict(embedding_dim=24, hidden_size=48, num_layers=1, dropout=0.0)
TINY_TRAIN = dict(
    vocab_size=0, min_count=1, heldout_fraction=0.1, batch_size=8, bptt=12, lr=0.01,
    warmup_steps=10, epochs=12, patience=100, output_loss="full", seed=1, threads=0,
    device="cpu", eval_max_words=200,
)


def build_tiny_bundle(tmp_path: Path, text: str, **config) -> Path:
    """Train a tiny model on ``text`` and write its bundle; returns the bundle path.

    ``config`` overrides ``ModelConfig`` / ``TrainConfig`` fields by name, plus
    ``name`` (the bundle's name), ``out`` (the bundle path) and ``init_from``.
    """
    from model_training.config import ModelConfig, TrainConfig
    from model_training.pipeline import train_bundle

    tmp_path = Path(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(text, encoding="utf-8")
    name = config.pop("name", "Tiny test model")
    out = Path(config.pop("out", tmp_path / "bundle"))
    init_from = config.pop("init_from", None)
    model_names = {f.name for f in fields(ModelConfig)}
    train_names = {f.name for f in fields(TrainConfig)}
    unknown = set(config) - model_names - train_names
    if unknown:
        raise TypeError(f"unknown config fields: {sorted(unknown)}")
    model_cfg = ModelConfig(**{**TINY_MODEL, **{k: v for k, v in config.items() if k in model_names}})
    train_cfg = TrainConfig(**{**TINY_TRAIN, **{k: v for k, v in config.items() if k in train_names}})
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: a second thread only adds waiting
    try:
        train_bundle(
            [corpus], out, model_config=model_cfg, train_config=train_cfg,
            work_dir=tmp_path / "work", init_from=init_from, name=name,
        )
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory, patterned_text) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("tiny_bundle"), patterned_text)


@pytest.fixture(scope="session")
def tiny_bundle_factory():
    """``tiny_bundle_factory(tmp_path, text, **config) -> Path`` of a fresh bundle."""
    return build_tiny_bundle


@pytest.fixture(autouse=True)
def user_folders(tmp_path, monkeypatch):
    """Point platformdirs' user folders at a temporary folder for every test."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path


# -- the app's main window (tests/ui, tests/reliability) ------------------------------

@pytest.fixture
def model_store(tiny_bundle):
    """The store, with the tiny bundle standing in for the built-in model."""
    from keyboard_app.model_store import ModelStore

    return ModelStore(default_path=tiny_bundle)


@pytest.fixture
def make_window(qtbot, model_store):
    """``make_window(**kwargs)`` -> a shown MainWindow whose model has loaded."""
    from keyboard_app.ui.main_window import MainWindow

    windows = []

    def make(wait: bool = True, **kwargs):
        kwargs.setdefault("model_store", model_store)
        window = MainWindow(**kwargs)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        if wait:
            qtbot.waitUntil(lambda: window.current_model is not None, timeout=10_000)
        window.activateWindow()
        window.editor.setFocus()
        return window

    yield make
    for window in windows:
        window.editor.document().setModified(False)
        window.close()
        window.shutdown()
