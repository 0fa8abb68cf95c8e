"""The model store: list, import (folder and .zip), refuse bad bundles, rename, export, delete."""

from __future__ import annotations

import json
import shutil

import pytest

from keyboard_app import paths
from keyboard_app.engine.bundle import ModelLoadError, load_bundle
from keyboard_app.model_store import DEFAULT_KEY, ModelStore, ModelStoreError


@pytest.fixture
def store(tiny_bundle):
    return ModelStore(default_path=tiny_bundle)


def test_lists_the_default_with_its_manifest(store, tiny_bundle):
    [info] = store.list()
    assert info.key == DEFAULT_KEY and info.origin == "built-in"
    assert info.name == load_bundle(tiny_bundle).name
    assert info.size_bytes > 0 and info.problem is None
    assert "perplexity" in info.metrics_summary()
    assert "corpus.txt" in info.corpus_summary()


def test_import_folder_and_zip(store, tiny_bundle, tmp_path):
    key = store.import_bundle(tiny_bundle)
    assert key.startswith("user:")
    assert store.path_for(key).parent == paths.user_models_dir()
    load_bundle(store.path_for(key))
    zipped = store.export(key, tmp_path / "exported.zip")
    key2 = store.import_bundle(zipped)
    assert key2 != key
    keys = [m.key for m in store.list()]
    assert keys[0] == DEFAULT_KEY and set(keys[1:]) == {key, key2}
    assert all(m.origin == "imported" for m in store.list()[1:])


def test_a_corrupt_bundle_is_refused_with_the_engines_message(store, tiny_bundle, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_bundle, bad)
    with open(bad / "model.onnx", "r+b") as f:
        f.seek(100)
        f.write(b"garbage")
    with pytest.raises(ModelLoadError, match="corrupt"):
        store.import_bundle(bad)
    assert not paths.user_models_dir().exists() or not any(paths.user_models_dir().iterdir())


def test_validation_failure_leaves_nothing(store, tiny_bundle):
    def refuse(folder):
        raise ModelLoadError(f"{folder}: the graph does not open.")

    with pytest.raises(ModelLoadError):
        store.import_bundle(tiny_bundle, validate=refuse)
    leftovers = list(paths.user_models_dir().iterdir()) if paths.user_models_dir().exists() else []
    assert leftovers == []


def test_rename_keeps_the_bundle_valid(store, tiny_bundle):
    key = store.import_bundle(tiny_bundle)
    store.rename(key, "  My letters  ")
    assert store.info(key).name == "My letters"
    load_bundle(store.path_for(key))  # checksums still hold
    with pytest.raises(ModelStoreError):
        store.rename(key, "   ")
    with pytest.raises(ModelStoreError):
        store.rename(DEFAULT_KEY, "x")


def test_delete(store, tiny_bundle):
    key = store.import_bundle(tiny_bundle)
    store.delete(key)
    assert not store.exists(key)
    assert [m.key for m in store.list()] == [DEFAULT_KEY]
    assert list(paths.user_models_dir().iterdir()) == [paths.user_models_dir() / "index.json"]
    with pytest.raises(ModelStoreError):
        store.delete(DEFAULT_KEY)


def test_keys_cannot_escape_the_models_folder(store):
    for key in ("user:../x", "user:", "user:.hidden", "user:a/b"):
        with pytest.raises(ModelStoreError):
            store.path_for(key)


def test_a_broken_manifest_is_listed_with_its_problem(store, tiny_bundle):
    key = store.import_bundle(tiny_bundle)
    (store.path_for(key) / "manifest.json").write_text("{", encoding="utf-8")
    info = store.info(key)
    assert info.problem and "manifest.json" in info.problem


def test_key_for_paths(store, tiny_bundle, tmp_path):
    assert store.key_for(tiny_bundle) == DEFAULT_KEY
    key = store.import_bundle(tiny_bundle)
    assert store.key_for(store.path_for(key)) == key
    assert store.key_for(tmp_path / "elsewhere") == str((tmp_path / "elsewhere").resolve())
    assert json.loads((paths.user_models_dir() / "index.json").read_text())[key[5:]]["origin"] == "imported"


def test_an_imported_bundle_with_a_name_in_the_list_gets_a_distinct_one(store, tiny_bundle):
    # Issue 18: importing the default model's bundle listed two "Tiny test model" entries.
    name = store.info(DEFAULT_KEY).name
    first = store.import_bundle(tiny_bundle)
    second = store.import_bundle(tiny_bundle)
    names = [m.name for m in store.list()]
    assert store.info(first).name == f"{name} (2)"
    assert store.info(second).name == f"{name} (3)"
    assert len(set(names)) == len(names) == 3
    load_bundle(store.path_for(second)).close()  # still a valid bundle
