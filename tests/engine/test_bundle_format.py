"""Contract 2 at the file level: manifest checks, checksums, zips, atomic writes.

These tests use a placeholder ONNX file: ``load_bundle`` checks structure and
checksums; opening the graph is the session's job (tested in test_session).
"""

import json
import os
import zipfile
from pathlib import Path

import pytest

from keyboard_app.engine.bundle import (
    FORMAT_VERSION,
    ModelLoadError,
    load_bundle,
    write_bundle,
    zip_bundle,
)
from keyboard_app.engine.tokenizer import SPECIAL_TOKENS, TokenizerSettings
from keyboard_app.engine.vocab import Vocabulary

WORDS = ["the", "cat", "sat", "."]


def _manifest(name="test model"):
    size = len(SPECIAL_TOKENS) + len(WORDS)
    return {
        "format": "keyboard-model-bundle",
        "format_version": FORMAT_VERSION,
        "name": name,
        "created": "2026-11-27T00:00:00Z",
        "tokenizer": TokenizerSettings().to_dict(),
        "model": {"cell": "lstm", "vocab_size": size, "num_layers": 1, "hidden_size": 8},
        "onnx": {"file": "model.onnx", "inputs": {}, "outputs": {}},
        "vocab": {"file": "vocab.json", "size": size},
        "corpus": {},
        "training": {},
        "metrics": {},
    }


@pytest.fixture
def sources(tmp_path):
    tokens = list(SPECIAL_TOKENS) + WORDS
    vocab = Vocabulary(tokens, tokens, [0] * len(SPECIAL_TOKENS) + [4, 3, 2, 1])
    vocab.save(tmp_path / "vocab.src.json")
    (tmp_path / "model.src.onnx").write_bytes(b"placeholder graph bytes")
    return {"model.onnx": tmp_path / "model.src.onnx", "vocab.json": tmp_path / "vocab.src.json"}


@pytest.fixture
def bundle_dir(tmp_path, sources):
    return write_bundle(tmp_path / "bundle", _manifest(), sources)


def test_written_bundle_loads_with_its_vocabulary(bundle_dir):
    bundle = load_bundle(bundle_dir)
    assert bundle.name == "test model"
    assert bundle.vocab.id("cat") == len(SPECIAL_TOKENS) + 1
    assert bundle.vocab.id("dog") == bundle.vocab.unk_id
    assert set(bundle.manifest["files"]) == {"model.onnx", "vocab.json"}


def test_corrupt_file_is_named(bundle_dir):
    with open(bundle_dir / "model.onnx", "r+b") as f:
        f.write(b"X")
    with pytest.raises(ModelLoadError, match=r"model\.onnx.*corrupt"):
        load_bundle(bundle_dir)


def test_missing_file_is_named(bundle_dir):
    (bundle_dir / "vocab.json").unlink()
    with pytest.raises(ModelLoadError, match=r"vocab\.json.*missing"):
        load_bundle(bundle_dir)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m.update(format_version=99), "format version 99 is not supported"),
        (lambda m: m.update(format="something-else"), "not a keyboard model bundle"),
        (lambda m: m.pop("metrics"), "'metrics' is missing"),
        (lambda m: m["model"].update(cell="transformer"), "cell type"),
        (lambda m: m["tokenizer"].update(version=7), "tokenizer version 7"),
        (lambda m: m["files"].update({"../escape": "0"}), "not a plain name"),
        (lambda m: m["model"].update(vocab_size=3), "has 9 tokens but the manifest says"),
    ],
)
def test_manifest_problems_are_one_clear_sentence(bundle_dir, edit, message):
    path = bundle_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match=message) as info:
        load_bundle(bundle_dir)
    assert str(bundle_dir) in str(info.value)


def test_manifest_that_is_not_json(bundle_dir):
    (bundle_dir / "manifest.json").write_bytes(b"\xff\xfe garbage")
    with pytest.raises(ModelLoadError, match="manifest.json: it is not UTF-8 text"):
        load_bundle(bundle_dir)


def test_missing_and_foreign_paths(tmp_path):
    with pytest.raises(ModelLoadError, match="no such model bundle"):
        load_bundle(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelLoadError, match="expected a folder or a .zip"):
        load_bundle(tmp_path / "notes.txt")
    (tmp_path / "fake_model.zip").write_text("not an archive")  # a file named .zip is told it is no archive
    with pytest.raises(ModelLoadError, match="named .zip, but no zip archive"):
        load_bundle(tmp_path / "fake_model.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="manifest.json is missing"):
        load_bundle(tmp_path / "empty")


def test_symlink_out_of_the_bundle_is_refused(bundle_dir, tmp_path):
    outside = tmp_path / "secret.onnx"
    outside.write_bytes((bundle_dir / "model.onnx").read_bytes())
    (bundle_dir / "model.onnx").unlink()
    os.symlink(outside, bundle_dir / "model.onnx")
    with pytest.raises(ModelLoadError, match="symbolic links"):
        load_bundle(bundle_dir)


def test_zip_round_trip_with_and_without_top_folder(bundle_dir, tmp_path):
    flat = zip_bundle(bundle_dir, tmp_path / "flat.zip")
    assert load_bundle(flat).name == "test model"
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as archive:
        for path in bundle_dir.iterdir():
            archive.write(path, f"my-model/{path.name}")
    bundle = load_bundle(nested)
    assert bundle.vocab.id("sat") == len(SPECIAL_TOKENS) + 2
    extracted = bundle.path
    bundle.close()
    assert not extracted.exists()


def test_zip_with_path_traversal_is_refused(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../outside.txt", "x")
        archive.writestr("manifest.json", "{}")
    with pytest.raises(ModelLoadError, match="not a plain file of a bundle"):
        load_bundle(evil)
    assert not (tmp_path.parent / "outside.txt").exists()


def test_truncated_zip_is_refused(bundle_dir, tmp_path):
    good = zip_bundle(bundle_dir, tmp_path / "good.zip")
    data = good.read_bytes()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="bad.zip"):
        load_bundle(bad)


def test_failed_validation_leaves_the_old_bundle_whole(bundle_dir, sources):
    before = {p.name: p.read_bytes() for p in bundle_dir.iterdir()}

    def reject(folder: Path) -> None:
        raise RuntimeError("parity check failed")

    with pytest.raises(RuntimeError, match="parity"):
        write_bundle(bundle_dir, _manifest("replacement"), sources, validate=reject)
    assert {p.name: p.read_bytes() for p in bundle_dir.iterdir()} == before
    assert [p.name for p in bundle_dir.parent.iterdir() if ".partial-" in p.name] == []


def test_replacing_a_bundle_installs_the_new_one(bundle_dir, sources):
    write_bundle(bundle_dir, _manifest("replacement"), sources)
    assert load_bundle(bundle_dir).name == "replacement"
    assert sorted(p.name for p in bundle_dir.parent.iterdir() if p.name.startswith(".")) == []
