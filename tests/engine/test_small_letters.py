"""Capitals the corpus writes small inside a sentence (H56): lexicon.json's optional
``small_letters`` (how often each word written with a capital is written in small letters
inside a sentence), read by the strip's ``small_forms`` rule (``engine/completions.py``).

"we walked to the pars" offered "Parsonage" (Austen's house: "the Parsonage", 26% of its uses
inside a sentence in small letters) and "the secretary of the" "Interior" (40%): their
endings ("parsonages", "interiors") say nothing, their counts do.  Names keep their capital
("Python": 3%, "PostgreSQL": 9%, "London": never small), as do the months ("March": 26%).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from keyboard_app.engine.bundle import ModelLoadError, load_bundle, write_bundle
from keyboard_app.engine.completions import SHARE_EVIDENCE, CompletionSettings
from keyboard_app.engine.lexicon import Lexicon, small_letter_counts
from keyboard_app.engine.predictor import Edit, Predictor
from keyboard_app.engine.vocab import VocabError
from keyboard_app.paths import default_model_path

ON = CompletionSettings()
# corpus/train's counts (small letters inside a sentence, uses inside a sentence), as
# ``model_training.add_lexicon`` writes them for the default model ...
MEASURED = {"parsonage": (22, 86), "interior": (87, 220), "windows": (178, 816), "none": (485, 1403),
            "python": (124, 4291), "postgresql": (121, 1404), "march": (76, 290), "i": (2000, 100000)}
# ... and one made up: a lexicon word (beyond the vocabulary) written small a quarter of the time
MADE_UP = {"gittite": (10, 40)}


def _default_with(folder, small_letters: dict | None) -> Predictor:
    """The default model with these ``small_letters`` in its lexicon.json (None: without the
    field, as every bundle before it), written as a bundle is."""
    bundle = load_bundle(default_model_path())
    try:
        data = {key: value for key, value in bundle.lexicon.to_dict().items() if key != "small_letters"}
        if small_letters is not None:
            data["small_letters"] = small_letters
        (folder / "lexicon.json").write_text(json.dumps(data), encoding="utf-8")
        files = {name: bundle.path / name for name in bundle.manifest["files"]}
        files["lexicon.json"] = folder / "lexicon.json"
        write_bundle(folder / "bundle", bundle.manifest, files)
    finally:
        bundle.close()
    return Predictor.load(folder / "bundle")


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    predictor = _default_with(tmp_path_factory.mktemp("counted"),
                              {word: list(pair) for word, pair in {**MEASURED, **MADE_UP}.items()})
    yield predictor
    predictor.close()


@pytest.fixture
def p(counted) -> Predictor:
    counted.completions = ON
    counted.reset()
    return counted


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The default model as it shipped before the field: what the strip did then."""
    predictor = _default_with(tmp_path_factory.mktemp("plain"), None)
    yield predictor
    predictor.close()


def test_the_default_model_counts_its_small_letters():
    bundle = load_bundle(default_model_path())
    try:
        counts = bundle.lexicon.small_letters
    finally:
        bundle.close()
    assert counts["parsonage"] == MEASURED["parsonage"] and counts["interior"] == MEASURED["interior"]
    assert "london" not in counts  # never written small: not listed


def texts(predictor: Predictor, text: str, k: int = 3) -> list[str]:
    predictor.reset()
    return [s.text for s in predictor.suggest(text, k)]


# -- the field: written, read, checked ----------------------------------------------------


def test_small_letters_round_trip_and_a_lexicon_without_them_is_written_as_before(tmp_path):
    lexicon = Lexicon(["gittite"], ["Gittite"], [5], 100, small_letters={"gittite": (1, 4), "interior": (87, 220)})
    lexicon.save(tmp_path / "lexicon.json")
    assert json.loads((tmp_path / "lexicon.json").read_text())["small_letters"] == {
        "gittite": [1, 4], "interior": [87, 220]}
    assert Lexicon.load(tmp_path / "lexicon.json") == lexicon
    plain = replace(lexicon, small_letters={})
    assert "small_letters" not in plain.to_dict()
    assert Lexicon.from_dict(plain.to_dict()).small_letters == {}


@pytest.mark.parametrize("field", [[1, 2], {"a": [3, 2]}, {"a": [1]}, {"a": [1, 2, 3]}, {"a": [True, 2]},
                                   {"a": [1.0, 2]}, {"a": [-1, 2]}, {"a": "1/2"}, {"": [1, 2]}])
def test_malformed_small_letters_are_one_clear_error(field):
    data = {**Lexicon(["gittite"], ["Gittite"], [5], 100).to_dict(), "small_letters": field}
    with pytest.raises(VocabError, match="small_letters") as caught:
        Lexicon.from_dict(data)
    assert "\n" not in str(caught.value)


def test_a_malformed_field_in_a_bundle_is_a_load_error_naming_the_file(tmp_path):
    bundle = load_bundle(default_model_path())
    try:
        data = {**bundle.lexicon.to_dict(), "small_letters": {"parsonage": [86, 22]}}
        (tmp_path / "lexicon.json").write_text(json.dumps(data), encoding="utf-8")
        files = {name: bundle.path / name for name in bundle.manifest["files"]}
        files["lexicon.json"] = tmp_path / "lexicon.json"
        with pytest.raises(ModelLoadError) as caught:
            write_bundle(tmp_path / "bad", bundle.manifest, files)
    finally:
        bundle.close()
    assert "lexicon.json" in str(caught.value) and "\n" not in str(caught.value)


def test_the_counts_are_of_the_words_written_with_a_capital_and_ever_small():
    inside = {"parsonage": 86, "london": 323, "house": 3458, "ms": 64, "London": 10, "iphone": 7}
    forms = {"parsonage": {"Parsonage": 64}, "london": {"London": 323}, "house": {"House": 419},
             "ms": {"Ms": 3, "MS": 45}, "iphone": {"iPhone": 7}}
    written = [("parsonage", "Parsonage"), ("london", "London"), ("house", "house"), ("ms", "MS"),
               ("London", "London"), ("iphone", "iPhone"), ("unseen", "Unseen")]
    assert small_letter_counts(written, inside, forms) == {"parsonage": (22, 86), "ms": (16, 64)}
    # a tokenizer that keeps case: "London" is its own token, written so every time
    assert small_letter_counts([("London", "London"), ("bath", "Bath")], {"London": 10, "bath": 9},
                               {"bath": {"Bath": 6, "BATH": 1}}) == {"bath": (2, 9)}


# -- the strip -----------------------------------------------------------------------------


def test_a_capital_the_corpus_writes_small_is_dropped_inside_a_sentence_typed_small(p, shipped):
    assert texts(shipped, "we walked to the pars")[0] == "Parsonage"  # what the issue saw
    assert texts(p, "we walked to the pars")[0] == "parsonage"
    assert "Parsonage" not in texts(p, "we walked to the pars", 5)
    assert texts(p, "close the wind")[1] == "windows"
    assert texts(p, "the value is none")[0] == "none"
    p.completions = replace(ON, small_forms=False)
    assert texts(p, "we walked to the pars")[0] == "Parsonage"  # the rule off: as shipped


def test_the_typed_word_and_the_next_word_are_written_small_too(p, shipped):
    assert texts(shipped, "the interior")[0] == "Interior"
    shown = p.suggest("the interior", 3)
    assert shown[0].text == "interior"
    assert p.accept("the interior", shown[0]) == Edit(4, 12, "interior ")
    assert texts(shipped, "the secretary of the ")[0] == "Interior"
    assert texts(p, "the secretary of the ")[0] == "interior"


def test_a_word_beyond_the_vocabulary_is_written_small_too(p, shipped):
    # (the strip shows "GitHub", a vocabulary word since the chat joined the corpus, beside them)
    assert [w for w in texts(shipped, "install git", 5) if w.lower().startswith("gitt")] == ["Gittite", "Gittite's"]
    assert [w for w in texts(p, "install git", 5) if w.lower().startswith("gitt")] == [
        "gittite", "Gittite's"]  # (its possessive is not counted)
    assert texts(shipped, "install gittite")[0] == "Gittite"
    assert texts(p, "install gittite")[0] == "gittite"


@pytest.mark.parametrize("text, word", [("we walked to the Pars", "Parsonage"), ("we walked to the PARS", "PARSONAGE"),
                                        ("We walked.\npars", "Parsonage"), ("we walked\npars", "Parsonage"),
                                        ('she said "pars', "Parsonage"), ("we walked to the (pars", "Parsonage")])
def test_capitals_stay_where_typed_or_where_a_sentence_line_quote_or_bracket_starts(p, text, word):
    assert word in texts(p, text, 5)


@pytest.mark.parametrize("text, word", [("I love pyth", "Python"), ("I use postgr", "PostgreSQL"),
                                        ("we went to lon", "London"), ("we met on the first of mar", "March"),
                                        ("he said i", "I")])
def test_names_months_and_the_pronoun_keep_their_capital(p, text, word):
    assert word in texts(p, text)


def test_a_word_seen_too_rarely_keeps_its_capital(p):
    vocab = p.bundle.vocab
    by_share = p._completions.habits(0.2)[0]
    assert by_share[vocab.id("parsonage")] and not by_share[vocab.id("python")]
    rare = {"parsonage": (SHARE_EVIDENCE // 2, SHARE_EVIDENCE - 1)}
    lexicon = replace(p.bundle.lexicon, small_letters=rare)
    fresh = Predictor(replace(p.bundle, lexicon=lexicon), p.session)
    assert texts(fresh, "we walked to the pars")[0] == "Parsonage"


@pytest.mark.parametrize("share, lowered", [(0.1, {"parsonage", "interior", "windows", "none"}),
                                            (0.3, {"interior", "none"}), (1.0, set())])
def test_the_share_is_a_setting(p, share, lowered):
    p.completions = replace(ON, small_share=share)
    written = {w: texts(p, text)[0] for w, text in
               [("parsonage", "we walked to the pars"), ("interior", "the interior"),
                ("windows", "close the windows"), ("none", "the value is none")]}
    assert {w for w, shown in written.items() if shown == w} == lowered


@pytest.mark.parametrize("share", [0.0, -0.2, 1.5])
def test_a_share_out_of_range_is_refused(share):
    with pytest.raises(ValueError, match="small_share"):
        CompletionSettings(small_share=share)


def test_a_strip_of_k_is_the_first_k_of_more_and_a_fresh_engine_agrees(p):
    for text in ("we walked to the pars", "the interior", "install git", "the secretary of the ", "close the wind"):
        five = p.suggest(text, 5)
        for k in (1, 2, 3, 4):
            assert p.suggest(text, k) == five[:k], (text, k)
        p.reset()
        fresh = Predictor(p.bundle, p.session)
        assert fresh.suggest(text, 5) == five


@pytest.mark.parametrize("text, word", [("It runs on Microsoft ", "Windows"), ("The Secretary of the ", "Interior")])
def test_a_next_word_keeps_its_capital_where_the_sentence_is_written_with_capitals(p, text, word):
    """Nothing typed yet: the share of small letters alone (22% for "Windows", 40% for "Interior")
    is no reason to offer the minority form to a person who writes capitals."""
    assert word in texts(p, text, 5)
    assert word.lower() in texts(p, text.lower(), 5)  # the sentence typed small: as before
