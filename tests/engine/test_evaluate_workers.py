"""``evaluate(jobs > 1)``: the worker processes' fresh engines take the strip's settings of
the engine evaluated (typo tolerance and its error model, the completion rules), so the
figures are those of one process."""

from __future__ import annotations

import random

from keyboard_app.engine.completions import CompletionSettings
from keyboard_app.engine.evaluate import evaluate
from keyboard_app.engine.predictor import Predictor
from keyboard_app.engine.typos import ErrorModel

# Edits almost free and no margin: corrections crowd the completions out of the strip,
# so this channel's figures differ plainly from the engine's defaults.
EAGER = ErrorModel(substitute_near=-0.5, substitute_vowel=-0.5, substitute=-0.5, transpose=-0.5, omit=-0.5,
                   omit_double=-0.5, insert=-0.5, insert_near=-0.5, first_letter=0.0,
                   completion_margin=float("inf"), min_typed=1)


def test_worker_processes_score_with_the_engines_strip_settings(tiny_bundle, patterned_text):
    words = patterned_text.split()[:600]
    random.Random(3).shuffle(words)  # the model's words in no order it knows: letters get typed
    text = " ".join(words)
    predictor = Predictor.load(tiny_bundle)
    try:
        assert predictor.session.thread_safe  # (else evaluate would not start workers at all)
        predictor.typo_tolerance, predictor.typo_model = True, EAGER
        predictor.completions = CompletionSettings.off()
        one = evaluate(predictor, [text], ks=(1, 3))
        two = evaluate(predictor, [text], ks=(1, 3), jobs=2)
        assert two.words == one.words and two.ksr == one.ksr and two.topk == one.topk
        predictor.typo_tolerance, predictor.typo_model = False, ErrorModel()
        predictor.completions = CompletionSettings()
        assert evaluate(predictor, [text], ks=(1, 3)).ksr != one.ksr  # the settings matter here
    finally:
        predictor.close()


def test_worker_processes_read_the_callers_stored_copy_of_compressed_phrase_tables(
        random_int8_bundle, tmp_path, monkeypatch):
    """A bundle loaded with a phrase cache (keyboard-eval's) hands it to its workers: the copy is
    written before they start, and a worker's load reads it instead of inflating the tables."""
    from engine_helpers import SAMPLE_TEXT
    from keyboard_app.engine import phrases as phrases_module
    from keyboard_app.engine.bundle import load_bundle, sha256_file
    from keyboard_app.engine.evaluate import STRIP_SETTINGS, _cut, _parts, _simulate, _simulate_part
    from keyboard_app.engine.phrases import copy_bundle

    compressed = copy_bundle(random_int8_bundle, tmp_path / "compressed", compressed=True)
    cache = tmp_path / "cache"
    bundle = load_bundle(compressed, phrase_cache=cache)
    predictor = Predictor(bundle)
    try:
        assert bundle.phrase_cache == cache
        one = evaluate(predictor, [SAMPLE_TEXT], ks=(1, 3))
        two = evaluate(predictor, [SAMPLE_TEXT], ks=(1, 3), jobs=2)
        assert two.words == one.words and two.ksr == one.ksr
        assert [p.name for p in cache.iterdir()] == [f"{sha256_file(compressed / 'phrases.npz')}.npz"]

        def never(*_):
            raise AssertionError("a worker inflated the tables again")

        monkeypatch.setattr(phrases_module, "_inflate", never)
        texts, words = _cut(predictor, [SAMPLE_TEXT], 60)
        [part] = _parts(words, 1)
        settings = {"weights": predictor.weights, "phrase_beam": predictor.phrase_beam,
                    **{name: getattr(predictor, name) for name in STRIP_SETTINGS}}
        predictor.run_ahead = False
        assert _simulate_part(str(compressed), 1, settings, texts, part, (1, 3), False, str(cache)) == \
            _simulate(predictor, texts, part, (1, 3), False, 0, None)
    finally:
        predictor.close()
