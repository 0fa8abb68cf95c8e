"""The commands' stored phrase-table copies (engine/cli.py, ``phrase_copies``) are kept apart
from the app's: scripts that score other models never evict the copy the app starts with."""

from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

from engine_helpers import SAMPLE_TEXT
from keyboard_app import paths
from keyboard_app.engine import cli
from keyboard_app.engine import phrases as phrases_module
from keyboard_app.engine.bundle import MANIFEST, load_bundle, sha256_file, write_bundle
from keyboard_app.engine.phrases import KEPT_COPIES, build_phrases


def _join_copies() -> None:
    for thread in threading.enumerate():
        if thread.name == "phrase-tables-copy":
            thread.join()


def _with_other_phrases(source: Path, dest: Path, seed: int) -> Path:
    """``source`` with compressed phrase tables of its own (another checksum: another model)."""
    bundle = load_bundle(source)
    try:
        vocab = bundle.vocab
        ids = np.random.default_rng(seed).integers(4, len(vocab), 400)
        table = build_phrases(ids, len(vocab), 0, vocab.unk_id)
        manifest = json.loads((bundle.path / MANIFEST).read_text(encoding="utf-8"))
        manifest["phrases"] = {"file": "phrases.npz",
                               "entries": {str(o): len(t) for o, t in sorted(table.tables.items())}}
        files = {name: bundle.path / name for name in manifest["files"]}
        with tempfile.TemporaryDirectory() as tmp:
            files["phrases.npz"] = Path(tmp) / "phrases.npz"
            table.save(files["phrases.npz"], compressed=True)
            return write_bundle(dest, manifest, files, inputs=[source])
    finally:
        bundle.close()


@pytest.fixture(scope="module")
def models(random_int8_bundle, tmp_path_factory):
    """The model the app uses and KEPT_COPIES + 1 others, all with compressed tables."""
    root = tmp_path_factory.mktemp("models")
    made = [_with_other_phrases(random_int8_bundle, root / f"model{i}", seed=i) for i in range(KEPT_COPIES + 2)]
    assert len({sha256_file(m / "phrases.npz") for m in made}) == len(made)
    return made


def test_the_commands_on_other_models_leave_the_apps_copy_in_place(models, tmp_path, monkeypatch, capsys):
    from keyboard_app.predictors import close_predictor, load_predictor

    apps_model, *others = models
    close_predictor(load_predictor(apps_model))  # the app's first start writes its copy
    _join_copies()
    apps_copy = paths.phrase_cache_dir() / f"{sha256_file(apps_model / 'phrases.npz')}.npz"
    assert apps_copy.is_file()

    text = tmp_path / "text.txt"
    text.write_text(SAMPLE_TEXT * 20, encoding="utf-8")
    for i, model in enumerate(others):  # more other models than a folder keeps copies of
        if i == 0:  # keyboard-eval with worker processes, which load with the caller's folder
            assert cli.eval_main([str(model), str(text), "--jobs", "2", "--max-words", "200", "--json"]) == 0
        else:
            assert cli.suggest_main([str(model), "the", "--json"]) == 0
        _join_copies()
    capsys.readouterr()

    assert apps_copy.is_file()
    assert sorted(p.name for p in paths.phrase_cache_dir().glob("*.npz")) == [apps_copy.name]
    kept = sorted(p.name for p in cli.phrase_copies().glob("*.npz"))
    assert len(kept) == KEPT_COPIES  # the commands' own copies, bounded as the app's are
    assert cli.phrase_copies().parent == paths.phrase_cache_dir()

    def never(*_):
        raise AssertionError("the app's tables were inflated again")

    monkeypatch.setattr(phrases_module, "_inflate", never)
    close_predictor(load_predictor(apps_model))  # the app's next start maps its copy


def test_the_apps_copies_do_not_evict_the_commands_folder(models, capsys):
    """The other way round: the app pruning its own copies leaves the commands' folder alone."""
    from keyboard_app.predictors import close_predictor, load_predictor

    assert cli.suggest_main([str(models[0]), "the"]) == 0
    _join_copies()
    commands_copy = cli.phrase_copies() / f"{sha256_file(models[0] / 'phrases.npz')}.npz"
    assert commands_copy.is_file()
    for model in models[1:]:
        close_predictor(load_predictor(model))
        _join_copies()
    assert commands_copy.is_file()
    assert len(list(paths.phrase_cache_dir().glob("*.npz"))) == KEPT_COPIES
