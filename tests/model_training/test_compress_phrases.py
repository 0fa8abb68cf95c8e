"""``keyboard-train --compress-phrases`` (H33's finding 4): the bundle's phrase tables are
written compressed, as the built-in model's are, with the same arrays as the stored form, and
the app reads them through a stored copy in its cache folder."""

from __future__ import annotations

import zipfile

import numpy as np

from keyboard_app.engine.bundle import load_bundle
from model_training.cli import build_parser, configs_from_args


def test_a_bundle_trained_with_compressed_phrases_holds_the_same_tables(tmp_path, tiny_bundle, tiny_bundle_factory,
                                                                         patterned_text):
    compressed = tiny_bundle_factory(tmp_path / "compressed", patterned_text, compress_phrases=True)
    with zipfile.ZipFile(compressed / "phrases.npz") as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    with zipfile.ZipFile(tiny_bundle / "phrases.npz") as archive:  # the default: stored, to be mapped
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
    with np.load(compressed / "phrases.npz") as new, np.load(tiny_bundle / "phrases.npz") as stored:
        assert new.files == stored.files
        for name in stored.files:
            assert new[name].dtype == stored[name].dtype and np.array_equal(new[name], stored[name])
    cache = tmp_path / "cache"
    for _ in range(2):  # the first load inflates and writes the copy; the second reads the copy
        bundle = load_bundle(compressed, phrase_cache=cache)  # the manifest's checksum is the compressed file's
        if bundle.phrases.copying is not None:
            bundle.phrases.copying.join()
        assert len(bundle.phrases) == sum(bundle.manifest["phrases"]["entries"].values())
        bundle.close()
    assert len(list(cache.glob("*.npz"))) == 1


def test_the_option_is_a_setting_of_the_run():
    args = build_parser().parse_args(["corpus", "--out", "model", "--compress-phrases"])
    _, train = configs_from_args(args)
    assert train.compress_phrases
    _, train = configs_from_args(build_parser().parse_args(["corpus", "--out", "model"]))
    assert not train.compress_phrases
