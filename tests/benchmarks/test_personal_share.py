"""benchmarks/personal_share.py: the learned words, one row per corpus, model and size, and the
means; a missing corpus is one sentence."""

from __future__ import annotations

import benchmark_scripts
from keyboard_app.engine.predictor import Predictor
from keyboard_app.learning import PersonalModel

ps = benchmark_scripts.load("personal_share")


def test_the_learned_words_follow_the_token_before_them(tiny_bundle):
    tokenizer = Predictor.load(tiny_bundle).tokenizer
    personal = ps.typed_into(PersonalModel(), tokenizer, "See Zanzibar. Then see Zanzibar, 12 times")
    assert personal.unigrams["zanzibar"] == 2 and personal.bigrams["see"]["zanzibar"] == 2
    assert "12" not in personal.unigrams  # numbers are not learned words
    assert personal.display("zanzibar") == "Zanzibar"


def test_a_row_per_corpus_model_and_size_and_the_means(tmp_path, tiny_bundle, patterned_text, capsys):
    corpora = tmp_path / "corpora"
    corpora.mkdir()
    (corpora / "wesnoth.unseen.txt").write_text(patterned_text)
    (corpora / "wesnoth.train-20.txt").write_text("too small to be the one\n")
    (corpora / "wesnoth.train-300.txt").write_text(patterned_text)
    code = ps.main(["--work", str(tmp_path), "--bundle", str(tiny_bundle), "--corpora", "wesnoth",
                    "--learned", "50,200", "--shares", "0,0.3", "--max-words", "60",
                    "--adapted", f"wesnoth={tiny_bundle}"])
    assert code == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("wesnoth")]
    assert [(r[1], r[2]) for r in rows] == [("default", "50"), ("default", "200"), ("adapted", "50"),
                                             ("adapted", "200")]
    for r in rows:  # KSR at each share, then the change
        assert abs(float(r[5]) - (float(r[4]) - float(r[3]))) <= 0.011  # (each rounded on its own)
    assert [line.split()[0] for line in out.splitlines()[-3:]] == ["default", "adapted", "all"]
    assert ps.largest_training_text(corpora, "wesnoth").name == "wesnoth.train-300.txt"


def test_a_missing_corpus_or_a_bad_share_is_one_sentence(tmp_path, tiny_bundle, capsys):
    assert ps.main(["--work", str(tmp_path), "--bundle", str(tiny_bundle), "--corpora", "handbook"]) == 2
    assert "run benchmarks/adaptation.py first" in capsys.readouterr().err
    assert ps.main(["--work", str(tmp_path), "--shares", "0,1.5"]) == 2
    assert "must be in [0, 1)" in capsys.readouterr().err
    assert ps.main(["--work", str(tmp_path), "--learned", "x,y"]) == 2
    assert "--learned takes word counts" in capsys.readouterr().err
    assert ps.main(["--work", str(tmp_path), "--adapted", "wesnoth"]) == 2
    assert "--adapted takes NAME=BUNDLE" in capsys.readouterr().err
