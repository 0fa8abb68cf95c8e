"""The model store: list, import (folder and .zip), refuse bad bundles, rename, export, delete,
adopt (a retrain's bundle moved in)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys

import pytest

from keyboard_app import paths
from keyboard_app.engine.bundle import ModelLoadError, load_bundle
from keyboard_app.model_store import DEFAULT_KEY, ModelImportError, ModelStore, ModelStoreError


@pytest.fixture
def store(tiny_bundle):
    return ModelStore(default_path=tiny_bundle)


def test_lists_the_default_with_its_manifest(store, tiny_bundle):
    [info] = store.list()
    assert info.key == DEFAULT_KEY and info.origin == "built-in"
    assert info.name == load_bundle(tiny_bundle).name
    assert info.size_bytes > 0 and info.problem is None
    assert isinstance(info.metrics.get("perplexity"), float)  # what Manage Models shows (measured_text)
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


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_an_exported_zip_gets_the_mode_a_new_file_of_the_users_gets(store, tiny_bundle, tmp_path):
    """It was 0600 (the temporary file's) where the user's texts are 0644 (H77)."""
    key = store.import_bundle(tiny_bundle)
    old = os.umask(0o022)
    try:
        zipped = store.export(key, tmp_path / "exported.zip")
        assert zipped.stat().st_mode & 0o777 == 0o644
        os.chmod(zipped, 0o640)  # an existing file's mode is kept when it is replaced
        store.export(key, zipped, replace=True)
        assert zipped.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


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


# -- adopt: a finished bundle (a retrain's) moved into the store --------------------------

def folder_state(folder):
    """Every file under ``folder`` with its bytes: what a user could lose."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def finished_run(tiny_bundle, tmp_path, name="run"):
    """A bundle where a retrain leaves it: in a folder of its own outside the store."""
    bundle = tmp_path / name / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    return bundle


def test_adopt_moves_the_bundle_in_under_a_distinct_name(store, tiny_bundle, tmp_path):
    first = store.adopt(finished_run(tiny_bundle, tmp_path, "one"), name="My writing")
    source = finished_run(tiny_bundle, tmp_path, "two")
    second = store.adopt(source, name="My writing")
    assert not source.exists()  # moved, not copied
    assert [store.info(key).name for key in (first, second)] == ["My writing", "My writing (2)"]
    assert {store.info(key).origin for key in (first, second)} == {"trained"}
    load_bundle(store.path_for(second)).close()  # the new name kept the checksums valid
    # without a name, the manifest's, made distinct from the built-in model's like an import's
    third = store.adopt(finished_run(tiny_bundle, tmp_path, "three"))
    assert store.info(third).name == f"{store.info(DEFAULT_KEY).name} (2)"


def test_adopt_refuses_a_bundle_that_fails_validation_and_moves_nothing(store, tiny_bundle, tmp_path):
    source = finished_run(tiny_bundle, tmp_path)
    before = folder_state(source)

    def refuse(folder):
        raise RuntimeError("the graph does not open")

    with pytest.raises(ModelImportError) as refused:
        store.adopt(source, name="Mine", validate=refuse)
    assert str(refused.value) == f"{source}: the model cannot be used (the graph does not open)."
    with open(source / "model.onnx", "r+b") as f:  # and a damaged file, found by its checksum
        f.seek(100)
        f.write(b"garbage")
    with pytest.raises(ModelImportError, match="model.onnx.*corrupt"):
        store.adopt(source, name="Mine")
    assert folder_state(source).keys() == before.keys()  # still there, for the caller to remove
    assert [m.key for m in store.list()] == [DEFAULT_KEY]
    assert folder_state(paths.user_models_dir()) == {}


def test_adopt_copies_across_disks_and_leaves_no_staging(store, tiny_bundle, tmp_path, monkeypatch):
    def other_disk(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    source = finished_run(tiny_bundle, tmp_path)
    monkeypatch.setattr(os, "rename", other_disk)
    key = store.adopt(source, name="Mine")
    assert not source.exists()
    assert folder_state(store.path_for(key)).keys() == folder_state(tiny_bundle).keys()
    load_bundle(store.path_for(key)).close()
    assert sorted(p.name for p in paths.user_models_dir().iterdir()) == sorted([key[5:], "index.json"])


def kill_adopting(source, tiny_bundle):
    """Adopt ``source`` (as "Earlier") in a process killed just before the bundle is renamed in."""
    script = (f"from keyboard_app.model_store import ModelStore; from pathlib import Path\n"
              f"ModelStore(default_path=Path({str(tiny_bundle)!r})).adopt(Path({str(source)!r}), name='Earlier')\n")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KEYBOARD_FAULT": "store.adopt-staged"})


def test_a_kill_in_the_middle_of_adopt_leaves_the_store_as_it_was(store, tiny_bundle, tmp_path):
    kept = store.adopt(finished_run(tiny_bundle, tmp_path, "earlier"), name="Earlier")
    models = paths.user_models_dir()
    before = folder_state(models)
    listed = [(m.key, m.name) for m in store.list()]
    source = finished_run(tiny_bundle, tmp_path, "new")
    killed = kill_adopting(source, tiny_bundle)
    assert killed.returncode == -9, killed.stderr

    again = ModelStore(default_path=tiny_bundle)  # what the app does when it next starts
    assert folder_state(models) == before
    assert [(m.key, m.name) for m in again.list()] == listed
    assert again.info(kept).origin == "trained"


def test_a_kill_just_before_the_rename_loses_nothing_and_the_bundle_can_be_adopted_again(
        store, tiny_bundle, tmp_path):
    store.adopt(finished_run(tiny_bundle, tmp_path, "earlier"), name="Earlier")  # so it is renamed
    source = finished_run(tiny_bundle, tmp_path, "new")
    files = folder_state(source).keys()
    assert kill_adopting(source, tiny_bundle).returncode == -9
    again = ModelStore(default_path=tiny_bundle)  # its recovery must not take the only copy
    assert folder_state(source).keys() == files
    load_bundle(source).close()  # whole: every checksum still holds
    key = again.adopt(source, name="Earlier")
    assert again.info(key).name == "Earlier (2)" and not source.exists()
    load_bundle(again.path_for(key)).close()


def test_a_model_cannot_be_renamed_to_the_name_another_has(store, tiny_bundle):
    """Found by a hostile tester (stop 26): renamed "English (default)", a retrained model
    could not be told from the built-in one in the list or the status bar."""
    builtin = store.info(DEFAULT_KEY).name
    key = store.import_bundle(tiny_bundle)
    for taken in (builtin, builtin.upper(), f"  {builtin} "):
        with pytest.raises(ModelStoreError, match="Another model is already called"):
            store.rename(key, taken)
    assert store.info(key).name == f"{builtin} (2)"  # unchanged
    store.rename(key, f"{builtin} (2)".upper())  # its own name, in other capitals: fine
    store.rename(key, "My letters")
    assert store.info(key).name == "My letters"


def test_adopting_a_retrains_compressed_tables_reads_the_copy_the_comparison_made(store, tiny_bundle, tmp_path,
                                                                                  monkeypatch):
    """H33's finding 4: the retrain writes its phrase tables compressed; the comparison's load
    (``predictors.load_predictor``) stores a copy of them in the user's cache, and Use New Model's
    adopt reads that copy rather than inflating the tables again while the user waits."""
    from keyboard_app.engine import phrases as phrases_module
    from keyboard_app.engine.phrases import copy_bundle
    from keyboard_app.predictors import close_predictor, load_predictor

    run = tmp_path / "run"
    copy_bundle(tiny_bundle, run, compressed=True)
    predictor = load_predictor(run)  # the comparison
    if predictor.bundle.phrases.copying is not None:
        predictor.bundle.phrases.copying.join()
    close_predictor(predictor)
    assert len(list(paths.phrase_cache_dir().glob("*.npz"))) == 1

    def never(*_):
        raise AssertionError("the tables were inflated again")

    monkeypatch.setattr(phrases_module, "_inflate", never)
    key = store.adopt(run, name="My writing")
    assert not run.exists() and store.info(key).name == "My writing"


def test_sizes_are_counted_as_the_docs_and_the_build_count_them():
    """1 MB is 10^6 bytes everywhere the user reads a size (Manage Models said 17.7 MB for
    the 18.6 MB default bundle the docs name, dividing by 2^20)."""
    from keyboard_app.model_store import format_size

    assert format_size(18_600_000) == "18.6 MB"
    assert format_size(999) == "999 bytes" and format_size(1_500) == "1.5 KB"
    assert format_size(2_000_000_000) == "2.0 GB"
