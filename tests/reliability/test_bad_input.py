"""Hostile and odd input: bundles, corpora and the model store's files (issue 11).

Every refusal is what a user sees: exit status 2 and one sentence naming
their file from ``keyboard-suggest`` / ``keyboard-eval``, a typed error from
the library, never a traceback; and what is read is never changed.  Odd but
honest input (a UTF-16 corpus, a small corpus with the default vocabulary
size) is read, not refused.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import os
import pickle
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from keyboard_app.engine import bundle as bundle_module
from keyboard_app.engine.bundle import MANIFEST, ModelLoadError, load_bundle, sha256_file, zip_bundle
from keyboard_app.engine.phrases import Phrases
from keyboard_app.engine.tokenizer import Tokenizer, TokenizerSettings
from keyboard_app.engine.vocab import VocabError
from keyboard_app.model_store import ModelImportError, ModelStore, ModelStoreError
from model_training.corpus import CorpusError, ReadStats, find_files, heldout_splits, read_lines
from model_training.vocabulary import build_vocabulary, count_corpus_tokens

from .conftest import assert_clean_failure, assert_intact, run_module, snapshot

CLI = "keyboard_app.engine.cli"
DEEP = "[" * 200_000 + "]" * 200_000
HUGE_INT = "1" * 5000


# -- helpers ------------------------------------------------------------------------


def copy_bundle(tiny_bundle: Path, dest: Path) -> Path:
    shutil.copytree(tiny_bundle, dest)
    return dest


def edit_manifest(folder: Path, edit) -> None:
    path = folder / MANIFEST
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


def reseal(folder: Path, *names: str) -> None:
    """Make the manifest's checksums match changed files: the attacker's bundle is consistent."""
    def edit(manifest):
        for name in names:
            manifest["files"][name] = sha256_file(folder / name)
    edit_manifest(folder, edit)


def suggest(bundle: Path):
    return run_module(CLI, "suggest", bundle, "the cat sat on the")


def evaluate(bundle: Path, tmp_path: Path):
    text = tmp_path / "heldout.txt"
    text.write_text("The cat sat on the mat.\n")
    return run_module(CLI, "eval", bundle, text)


def zip_folder(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return dest


def declare_size(archive_path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size the archive declares for ``member`` (a lying header)."""
    data = bytearray(archive_path.read_bytes())
    name = member.encode()
    for signature, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            length = struct.unpack_from("<H", data, start + name_len_at)[0]
            if data[start + name_at : start + name_at + length] == name:
                struct.pack_into("<I", data, start + size_at, size)
            start += 4
    archive_path.write_bytes(bytes(data))


def npy_header(shape: tuple[int, ...], dtype: str) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def replace_member(npz: Path, member: str, content: bytes) -> None:
    with zipfile.ZipFile(npz) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[member] = content
    with zipfile.ZipFile(npz, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.fixture
def no_array_is_read(monkeypatch):
    """Fail the test if numpy is asked to read (and so allocate) any array."""
    def refuse(*args, **kwargs):
        raise AssertionError("an array was read before its header was judged")
    monkeypatch.setattr(np, "load", refuse)
    monkeypatch.setattr(np.lib.format, "read_array", refuse)


# -- 5. JSON files: huge integers, deep nesting, sizes out of range ----------------------


JSON_ATTACKS = {
    "manifest with a 5,000-digit integer": (MANIFEST, None, "integer of 5000 digits"),
    "manifest nested 200,000 deep": (MANIFEST, DEEP, "nested more than"),
    "vocabulary nested 200,000 deep": ("vocab.json", DEEP, "nested more than"),
}


def _attack_json(folder: Path, case: str) -> str:
    name, content, _ = JSON_ATTACKS[case]
    if content is None:  # a valid manifest but for one number
        text = (folder / MANIFEST).read_text()
        text = text.replace('"num_layers": 1', f'"num_layers": {HUGE_INT}', 1)
        assert HUGE_INT in text
        (folder / MANIFEST).write_text(text)
    else:
        (folder / name).write_text(content)
        if name != MANIFEST:
            reseal(folder, name)
    return name


@pytest.mark.parametrize("command", ["suggest", "eval"])
@pytest.mark.parametrize("case", list(JSON_ATTACKS))
def test_hostile_json_in_a_bundle_is_one_sentence_and_exit_2(tiny_bundle, tmp_path, case, command):
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    name = _attack_json(bundle, case)
    before = snapshot(bundle)
    outcome = suggest(bundle) if command == "suggest" else evaluate(bundle, tmp_path)
    assert_clean_failure(outcome, code=2, names=bundle / name, says=JSON_ATTACKS[case][2])
    assert_intact(before, bundle)


def test_a_deeply_nested_lexicon_is_refused_naming_it(tiny_bundle, tmp_path):
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    (bundle / "lexicon.json").write_text(DEEP)
    edit_manifest(bundle, lambda m: m.update(lexicon={"file": "lexicon.json", "words": 1}))
    reseal(bundle, "lexicon.json")
    with pytest.raises(ModelLoadError, match=r"lexicon\.json: it is nested more than \d+ levels deep\.$"):
        load_bundle(bundle)


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("num_layers", 0, "outside the sane range"),
        ("num_layers", -3, "outside the sane range"),
        ("hidden_size", 10**15, "outside the sane range"),
        ("vocab_size", 0, "outside the sane range"),
        ("vocab_size", 10**12, "outside the sane range"),
        ("embedding_dim", 10**9, "outside the sane range"),
        ("hidden_size", 1.5, "has the wrong type"),
        ("hidden_size", True, "has the wrong type"),
        ("projection_dim", "big", "has the wrong type"),
    ],
)
def test_manifest_sizes_out_of_range_are_refused(tiny_bundle, tmp_path, field, value, says):
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    edit_manifest(bundle, lambda m: m["model"].__setitem__(field, value))
    with pytest.raises(ModelLoadError, match=f"manifest.json: .*{field}'.*{says}"):
        load_bundle(bundle)


def test_layers_times_units_beyond_any_keyboard_model_is_refused(tiny_bundle, tmp_path):
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    edit_manifest(bundle, lambda m: m["model"].update(num_layers=64, hidden_size=65_536))
    with pytest.raises(ModelLoadError, match="far more than a keyboard model has"):
        load_bundle(bundle)


@pytest.mark.parametrize("number", ["1e400", "NaN", "-Infinity"])
def test_manifest_numbers_out_of_float_range_are_refused(tiny_bundle, tmp_path, number):
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    text = (bundle / MANIFEST).read_text()
    (bundle / MANIFEST).write_text(text.replace('"dropout": 0.0', f'"dropout": {number}', 1))
    assert number in (bundle / MANIFEST).read_text()
    with pytest.raises(ModelLoadError, match=r"manifest\.json: it holds"):
        load_bundle(bundle)


@pytest.fixture
def store(tiny_bundle, tmp_path):
    return ModelStore(models_dir=tmp_path / "models", default_path=tiny_bundle)


@pytest.mark.parametrize("case", list(JSON_ATTACKS))
def test_the_model_store_refuses_a_hostile_import_with_its_own_error(store, tiny_bundle, tmp_path, case):
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    name = _attack_json(bundle, case)
    before = snapshot(bundle)
    with pytest.raises(ModelImportError) as caught:
        store.import_bundle(bundle)
    assert isinstance(caught.value, ModelStoreError) and isinstance(caught.value, ModelLoadError)
    assert str(caught.value).startswith(f"{bundle / name}: ")
    assert not store.models_dir.exists() or not any(store.models_dir.iterdir())
    assert_intact(before, bundle)


def test_the_model_store_lists_and_refuses_to_rename_a_model_with_a_hostile_manifest(store, tiny_bundle):
    key = store.import_bundle(tiny_bundle)
    folder = store.path_for(key)
    (folder / MANIFEST).write_text(DEEP)
    [listed] = [m for m in store.list() if m.key == key]
    assert listed.problem is not None and "nested more than" in listed.problem
    with pytest.raises(ModelStoreError, match="nested more than"):
        store.rename(key, "New name")
    assert (folder / MANIFEST).read_text() == DEEP  # left for the user to see, not rewritten


@pytest.mark.parametrize("content", [DEEP, '{"x": ' + HUGE_INT + "}", '{"x": "not a dict"}', "\xff garbage"])
def test_a_damaged_model_index_costs_only_the_origins(store, tiny_bundle, content):
    key = store.import_bundle(tiny_bundle)
    (store.models_dir / "index.json").write_text(content, encoding="latin-1")
    [listed] = [m for m in store.list() if m.key == key]
    assert listed.problem is None and listed.origin == "imported"


def test_a_manifest_with_odd_corpus_entries_is_still_summarised(store, tiny_bundle):
    key = store.import_bundle(tiny_bundle)
    edit_manifest(store.path_for(key), lambda m: m["corpus"].update(files=[3, "x", None], train_tokens="many"))
    assert store.info(key).corpus_summary() == "?, ?, ?"


# -- 14. a phrases file declaring a huge array; zip bombs ------------------------------------


FOUR_GB = 500_000_000  # int64 entries: 4 GB


def _huge_phrases(bundle: Path) -> Path:
    npz = bundle / "phrases.npz"
    replace_member(npz, "next_3.npy", npy_header((FOUR_GB,), "<i8") + b"\0" * 4096)
    reseal(bundle, "phrases.npz")
    return npz


def test_a_phrases_file_declaring_4_gb_is_refused_from_its_header(tiny_bundle, tmp_path, no_array_is_read):
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    npz = _huge_phrases(bundle)
    assert npz.stat().st_size < 1_000_000
    entries = json.loads((bundle / MANIFEST).read_text())["phrases"]["entries"]
    with pytest.raises(ModelLoadError, match=rf"phrases\.npz: its array 'next_3' declares 500,000,000 entries, "
                                             rf"but the manifest says {entries['3']:,}\.$"):
        load_bundle(bundle)
    # and without the manifest's figure, by the absolute limit
    with pytest.raises(VocabError, match="'next_3' declares 500,000,000 entries, more than"):
        Phrases.load(npz, 10, 0, 0)


def test_a_phrases_file_declaring_4_gb_is_one_sentence_from_the_cli(tiny_bundle, tmp_path):
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    _huge_phrases(bundle)
    assert_clean_failure(suggest(bundle), code=2, names=bundle / "phrases.npz", says="declares 500,000,000 entries")


@pytest.mark.parametrize(
    "member, content, says",
    [
        ("format.npy", npy_header((), "<U500000000"), "more than the"),  # a 2 GB string
        ("next_2.npy", npy_header((1000, 1000), "<i8"), "not a flat one"),
        ("extra.bin", b"\0" * 100, "which is not an array"),
    ],
)
def test_phrase_arrays_are_judged_by_their_headers(tiny_bundle, tmp_path, no_array_is_read, member, content, says):
    npz = shutil.copy(tiny_bundle / "phrases.npz", tmp_path / "phrases.npz")
    replace_member(Path(npz), member, content)
    with pytest.raises(VocabError, match=says):
        Phrases.load(Path(npz), 10, 0, 0)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The folder where zips are extracted, to see that nothing was."""
    folder = tmp_path / "private-tmp"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    return folder


def test_a_zip_member_declaring_1_9_gb_is_refused_before_anything_is_extracted(tiny_bundle, tmp_path, monkeypatch,
                                                                                private_tmp):
    archive = zip_folder(tiny_bundle, tmp_path / "bomb.zip")
    declare_size(archive, "model.onnx", 1_900_000_000)
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: opened.append(a) or 1 / 0)
    with pytest.raises(ModelLoadError, match=r"bomb\.zip: the archive's model\.onnx would unpack to 1,900 MB"):
        load_bundle(archive)
    assert opened == [] and list(private_tmp.iterdir()) == []


def test_a_zip_bomb_is_refused_by_its_compression_ratio(tiny_bundle, tmp_path):
    folder = copy_bundle(tiny_bundle, tmp_path / "bundle")
    (folder / "model.onnx").write_bytes(b"\0" * 40_000_000)  # 40 MB of zeros: 40 KB deflated
    archive = zip_folder(folder, tmp_path / "bomb.zip")
    assert archive.stat().st_size < 1_000_000
    outcome = suggest(archive)
    assert_clean_failure(outcome, code=2, names=archive, says="zip bomb")


def test_a_zip_member_larger_than_it_declares_stops_at_the_declared_size(tiny_bundle, tmp_path, monkeypatch,
                                                                          private_tmp):
    archive = zip_folder(tiny_bundle, tmp_path / "lying.zip")
    declared = (tiny_bundle / "vocab.json").stat().st_size // 2
    declare_size(archive, "vocab.json", declared)
    written = {}
    real_copy = bundle_module._copy_capped

    def spy(src, dst, limit, source, name):
        try:
            real_copy(src, dst, limit, source, name)
        finally:
            written[name] = dst.tell()
    monkeypatch.setattr(bundle_module, "_copy_capped", spy)
    with pytest.raises(ModelLoadError, match=r"lying\.zip: "):
        load_bundle(archive)
    assert written["vocab.json"] <= declared
    assert list(private_tmp.iterdir()) == []  # the partial extraction is removed


# -- attacks that are already refused, kept refused ---------------------------------------


@pytest.mark.parametrize("evil", ["../evil.txt", "/tmp/evil-absolute.txt", "sub/../../evil.txt", "..\\evil.txt"])
def test_zip_path_traversal_is_refused_and_writes_nothing_outside(tiny_bundle, tmp_path, private_tmp, evil):
    archive = zip_folder(tiny_bundle, tmp_path / "traversal.zip")
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr(evil, "pwned")
    with pytest.raises(ModelLoadError, match=r"traversal\.zip: the archive holds .*not a plain file of a bundle"):
        load_bundle(archive)
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil-absolute.txt").exists()
    assert list(private_tmp.iterdir()) == []


def test_onnx_external_data_outside_the_bundle_is_refused(tiny_bundle, tmp_path):
    onnx = pytest.importorskip("onnx")
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    work = tmp_path / "work"
    work.mkdir()
    model = onnx.load(str(bundle / "model.onnx"))
    onnx.save_model(model, work / "model.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    model = onnx.load(str(work / "model.onnx"), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../secret.bin"
    shutil.copy(work / "weights.bin", tmp_path / "secret.bin")
    onnx.save_model(model, bundle / "model.onnx")
    reseal(bundle, "model.onnx")
    assert_clean_failure(suggest(bundle), code=2, names=bundle / "model.onnx", says="'../secret.bin'")


def test_a_symbolic_link_inside_a_bundle_is_refused(tiny_bundle, tmp_path):
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    outside = tmp_path / "vocab-elsewhere.json"
    shutil.move(bundle / "vocab.json", outside)
    os.symlink(outside, bundle / "vocab.json")
    assert_clean_failure(suggest(bundle), code=2, names=bundle / "vocab.json", says="symbolic links are not allowed")


class _Touch:
    """Unpickling this creates a file: the proof that a pickle was run."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_in_the_phrases_file_is_never_run(tiny_bundle, tmp_path):
    marker = tmp_path / "pickle-ran"
    pickle.loads(pickle.dumps(_Touch(tmp_path / "probe")))  # the payload does work when unpickled
    assert (tmp_path / "probe").exists()
    payload = np.empty(1, dtype=object)
    payload[0] = _Touch(marker)
    buffer = io.BytesIO()
    np.save(buffer, payload, allow_pickle=True)
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    replace_member(bundle / "phrases.npz", "count_2.npy", buffer.getvalue())
    reseal(bundle, "phrases.npz")
    with pytest.raises(ModelLoadError, match=r"phrases\.npz: its array 'count_2' holds Python objects"):
        load_bundle(bundle)
    outcome = suggest(bundle)
    assert_clean_failure(outcome, code=2, names=bundle / "phrases.npz", says="Python objects")
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_a_damaged_onnx_with_a_correct_looking_manifest_is_refused(tiny_bundle, tmp_path, damage):
    bundle = copy_bundle(tiny_bundle, tmp_path / "bundle")
    data = (bundle / "model.onnx").read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
    (bundle / "model.onnx").write_bytes(data)
    assert_clean_failure(evaluate(bundle, tmp_path), code=2, names=bundle / "model.onnx", says="corrupt")


# -- 11. a corpus in UTF-16 or UTF-32 with a byte-order mark ------------------------------


CORPUS_TEXT = "".join(
    f"Line {i}: Zoë met Bob in Zürich 😀, and the cat sat on the mat.\n" for i in range(400)
) + "A last line without its newline"
ENCODINGS = {
    "utf-8-sig": codecs.BOM_UTF8 + CORPUS_TEXT.encode("utf-8"),
    "utf-16-le": codecs.BOM_UTF16_LE + CORPUS_TEXT.encode("utf-16-le"),
    "utf-16-be": codecs.BOM_UTF16_BE + CORPUS_TEXT.encode("utf-16-be"),
    "utf-32-le": codecs.BOM_UTF32_LE + CORPUS_TEXT.encode("utf-32-le"),
    "utf-32-be": codecs.BOM_UTF32_BE + CORPUS_TEXT.encode("utf-32-be"),
}


def _counts(path: Path, fraction: float = 0.3, at: str = "end"):
    files = find_files([path])
    splits = heldout_splits(files, fraction, 10**9, at)
    return files, splits, count_corpus_tokens(files, splits, Tokenizer(TokenizerSettings()))


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_corpus_with_a_byte_order_mark_is_read_as_its_text(tmp_path, caplog, encoding):
    plain = tmp_path / "plain.txt"
    plain.write_text(CORPUS_TEXT, encoding="utf-8")
    marked = tmp_path / f"{encoding}.txt"
    marked.write_bytes(ENCODINGS[encoding])
    with caplog.at_level(logging.WARNING):
        files, _, counts = _counts(marked, fraction=0.0)
    assert [f.path for f in files] == [marked] and caplog.text == ""
    assert "".join(read_lines(marked, ReadStats())) == CORPUS_TEXT
    _, _, expected = _counts(plain, fraction=0.0)
    assert counts.counts == expected.counts and counts.train_tokens == expected.train_tokens
    # the held-out part starts at a line of the text, at its end or (adapting) its start:
    # the two parts are the text
    for at in ("end", "start"):
        _, splits, split = _counts(marked, fraction=0.3, at=at)
        boundary = splits[marked].start if at == "end" else splits[marked].stop
        first = "".join(read_lines(marked, ReadStats(), 0, boundary))
        assert first.endswith("\n") and first + "".join(read_lines(marked, ReadStats(), boundary)) == CORPUS_TEXT
        assert 0.2 < split.heldout_tokens / (split.train_tokens + split.heldout_tokens) < 0.4


def test_utf16_without_a_byte_order_mark_says_save_it_as_utf8(tmp_path):
    corpus = tmp_path / "notes.txt"
    corpus.write_bytes(CORPUS_TEXT.encode("utf-16-le"))
    outcome = run_module("model_training.cli", corpus, "--out", tmp_path / "bundle")
    assert_clean_failure(outcome, code=2, says="the corpus is empty")
    assert f"{corpus}: skipped, it looks like UTF-16 text without a byte-order mark; save it as UTF-8" \
        in outcome.stderr
    assert not (tmp_path / "bundle").exists()


# -- 12. a small corpus and the default vocabulary size -------------------------------------


def test_a_small_corpus_caps_the_vocabulary_instead_of_failing(tmp_path, caplog):
    corpus = tmp_path / "ten.txt"
    corpus.write_text("one two three four five six seven eight nine ten\n")
    _, _, counts = _counts(corpus, fraction=0.0)
    with caplog.at_level(logging.WARNING):
        vocab = build_vocabulary(counts, 20_000, 1)
    assert len(vocab) == 5 + 10
    assert "the vocabulary has 15 tokens, not the 20000 asked for" in caplog.text


def test_no_advice_contradicts_another(tmp_path):
    corpus = tmp_path / "ten.txt"
    corpus.write_text("one two three four five six seven eight nine ten\n")
    _, _, counts = _counts(corpus, fraction=0.0)
    # the old advice was "use --vocab-size 5 or less", which --vocab-size 5 then refused
    with pytest.raises(CorpusError) as too_rare:
        build_vocabulary(counts, 20_000, 3)
    assert "--min-count 1" in str(too_rare.value) and "--vocab-size" not in str(too_rare.value)
    with pytest.raises(CorpusError) as too_few:
        build_vocabulary(counts, 5, 1)
    assert "--vocab-size 0" in str(too_few.value)
    assert len(build_vocabulary(counts, 0, 1)) == 15  # which works


def test_the_manifest_records_the_vocabulary_asked_for_and_the_one_built(tmp_path, tiny_bundle_factory,
                                                                         patterned_text):
    bundle = tiny_bundle_factory(tmp_path, patterned_text, vocab_size=20_000, min_count=1, epochs=1,
                                 eval_max_words=0)
    manifest = json.loads((bundle / MANIFEST).read_text())
    built = manifest["model"]["vocab_size"]
    assert built < 100
    assert manifest["training"]["vocab_size_requested"] == 20_000
    assert manifest["training"]["vocab_size"] == built == len(load_bundle(bundle).vocab)


# -- 13. symbolic links in a corpus folder --------------------------------------------------


def test_a_corpus_folder_does_not_follow_links_out_of_the_corpus(tmp_path, caplog):
    secret = tmp_path / "private" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:secret\n")
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text("some text\n")
    (corpus / "sub" / "b.txt").write_text("more text\n")
    os.symlink(secret, corpus / "passwd.txt")
    os.symlink(secret.parent, corpus / "private-folder")
    os.symlink(corpus / "sub" / "b.txt", corpus / "inside-link.txt")
    other = tmp_path / "other"
    other.mkdir()
    (other / "c.txt").write_text("other text\n")
    os.symlink(other / "c.txt", corpus / "to-other.txt")
    with caplog.at_level(logging.WARNING):
        found = find_files([corpus, other])
    paths = {f.path.resolve() for f in found}
    assert secret.resolve() not in paths
    assert paths == {(corpus / "a.txt").resolve(), (corpus / "sub" / "b.txt").resolve(), (other / "c.txt").resolve()}
    assert f"{corpus / 'passwd.txt'}: skipped, it is a symbolic link to {secret.resolve()}" in caplog.text
    assert f"{corpus / 'private-folder'}: skipped, it is a symbolic link" in caplog.text
    assert "inside-link" not in caplog.text and "to-other" not in caplog.text


def test_a_link_named_on_the_command_line_is_read(tmp_path):
    target = tmp_path / "elsewhere" / "notes.txt"
    target.parent.mkdir()
    target.write_text("my notes\n")
    link = tmp_path / "notes-link.txt"
    os.symlink(target, link)
    [found] = find_files([link])
    assert found.path == link


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_an_import_that_fails_in_the_copy_names_the_bundle_the_user_chose(store, tiny_bundle, tmp_path, form):
    """A lie only the engine can see (the graph's state is not the size the manifest says)
    is found in the copy being made in the models folder; the sentence names the user's
    bundle, not that copy, which is gone by the time they read it."""
    from keyboard_app.predictors import check_loads

    bundle = copy_bundle(tiny_bundle, tmp_path / "liar")
    def lie(manifest):  # every declared size doubled, consistently: only the graph disagrees
        size = manifest["model"]["hidden_size"]
        manifest["model"]["hidden_size"] = 2 * size
        for shapes in (manifest["onnx"]["inputs"], manifest["onnx"]["outputs"]):
            for name, shape in shapes.items():
                shapes[name] = [2 * size if d == size else d for d in shape]

    edit_manifest(bundle, lie)
    source = bundle if form == "folder" else zip_bundle(bundle, tmp_path / "liar.zip")
    with pytest.raises(ModelImportError) as caught:
        store.import_bundle(source, validate=check_loads)
    message = str(caught.value)
    assert message.startswith(f"{source / 'model.onnx'}: ") and "manifest declares" in message
    assert str(store.models_dir) not in message
    assert not store.models_dir.exists() or not any(store.models_dir.iterdir())


def test_an_import_error_naming_the_copy_twice_or_from_a_relative_models_folder_names_the_bundle(
        tiny_bundle, tmp_path, monkeypatch):
    """(the second reader's cases) onnxruntime's own sentence names the copy's graph again,
    and a models folder given relative to the working folder is written absolute in it."""
    from keyboard_app.predictors import check_loads

    bundle = copy_bundle(tiny_bundle, tmp_path / "renamed op")
    graph = bundle / "model.onnx"
    data = graph.read_bytes()
    op = next(name for name in (b"LSTM", b"Gather", b"MatMul") if name in data)
    graph.write_bytes(data.replace(op, op[:-1] + b"Q", 1))  # an operator onnxruntime has not
    edit_manifest(bundle, lambda m: m["files"].update({"model.onnx": sha256_file(graph)}))
    monkeypatch.chdir(tmp_path)
    store = ModelStore(models_dir=Path("we[ird] (1)+$") / "models", default_path=tiny_bundle)
    with pytest.raises(ModelImportError) as caught:
        store.import_bundle(bundle, validate=check_loads)
    message = str(caught.value)
    assert message.startswith(f"{graph}: ") and "models" + os.sep not in message, message
    assert not (tmp_path / "we[ird] (1)+$" / "models").exists() or not any(
        (tmp_path / "we[ird] (1)+$" / "models").iterdir())


def test_a_broken_json_file_is_described_once_where_it_breaks():
    from keyboard_app.engine import jsonfile

    with pytest.raises(jsonfile.JSONFileError) as error:
        jsonfile.loads('{"theme": "dark')
    # Python's "Unterminated string starting at" had the position appended after another "at"
    assert str(error.value) == "it is not valid JSON (Unterminated string starting at line 1, column 11)"
