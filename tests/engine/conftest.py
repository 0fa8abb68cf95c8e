"""Engine test fixtures (the helpers behind them: engine_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine_helpers import FakeGraph, make_vocab, random_bundle_at, write_placeholder_bundle
from keyboard_app.engine.bundle import load_bundle


@pytest.fixture(scope="session")
def word_bundle(tmp_path_factory) -> Path:
    return write_placeholder_bundle(tmp_path_factory.mktemp("words") / "bundle", make_vocab())


@pytest.fixture
def make_predictor(word_bundle):
    """``make_predictor(state_cache=..., recency=..., **FakeGraph options) -> Predictor`` over
    ``word_bundle``; the document cache is off unless ``recency`` turns it on, so that
    FakeGraph's hand-made rankings are what the strip shows."""
    from keyboard_app.engine.state_cache import StateCache
    from keyboard_app.engine.predictor import Predictor, RecencySettings

    def make(state_cache=StateCache, recency=RecencySettings.off(), **options):
        bundle = load_bundle(word_bundle)
        return Predictor(bundle, FakeGraph(bundle.vocab, **options), state_cache=state_cache, recency=recency)

    return make


@pytest.fixture(scope="session")
def random_bundle(tmp_path_factory) -> Path:
    return random_bundle_at(tmp_path_factory.mktemp("random") / "bundle")


@pytest.fixture(scope="session")
def random_int8_bundle(tmp_path_factory) -> Path:
    # with phrase tables, so that the exactness tests cover them too
    return random_bundle_at(tmp_path_factory.mktemp("random_int8") / "bundle", quantize=True, seed=1, phrases=True)


@pytest.fixture(scope="session")
def random_gru_bundle(tmp_path_factory) -> Path:
    return random_bundle_at(tmp_path_factory.mktemp("random_gru") / "bundle", cell="gru", seed=2)



@pytest.fixture(scope="module")
def typo_predictor():
    """The default model with typo tolerance on, one a test module (the typo tests')."""
    from keyboard_app.engine.predictor import Predictor
    from keyboard_app.paths import default_model_path

    p = Predictor.load(default_model_path())
    p.typo_tolerance = True
    yield p
    p.close()
