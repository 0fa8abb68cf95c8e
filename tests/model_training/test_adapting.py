"""Fine-tuning on a user's corpus (issue 12): the corpus's own phrase tables as
a component with weights tuned on its held-out text, and the pull that keeps
the network close to the model it started from."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from keyboard_app.engine.bundle import ModelLoadError, load_bundle
from keyboard_app.engine.phrases import PhraseSettings
from keyboard_app.engine.predictor import Predictor
from model_training.init_from import load_source
from model_training.pipeline import USER_PHRASE_GRID

# A user's distinctive writing: names the source never saw, in a fixed phrase,
# beside sentences of the source's own pattern in a new order.
USER_TEXT = "".join(
    f"Zorblat visited Quimby on {day}.\nThe cat ran to the park.\n\n"
    for day in ["Monday", "Tuesday", "Friday"] * 25
)


def user_follows(bundle, context: str, word: str) -> float:
    ids = [bundle.vocab.id(t) for t in context.split()]
    found = bundle.user_phrases.followers(ids, len(ids) + 1)
    if found is None:
        return 0.0
    return dict(zip(found[0].tolist(), np.exp(found[1]).tolist())).get(bundle.vocab.id(word), 0.0)


@pytest.fixture(scope="module")
def source(tmp_path_factory, patterned_text, tiny_bundle_factory):
    return tiny_bundle_factory(tmp_path_factory.mktemp("source"), patterned_text, epochs=6, eval_max_words=0)


@pytest.fixture(scope="module")
def adapted(tmp_path_factory, source, tiny_bundle_factory):
    return tiny_bundle_factory(tmp_path_factory.mktemp("adapted"), USER_TEXT, init_from=source, epochs=2,
                             min_count=2, eval_max_words=300, anchor=0.5)


def test_a_fine_tune_writes_the_users_own_phrases_with_tuned_weights(adapted):
    bundle = load_bundle(adapted)
    entry = bundle.manifest["user_phrases"]
    assert entry["file"] == "user_phrases.npz"
    assert sum(entry["entries"].values()) == len(bundle.user_phrases) > 0
    weights = PhraseSettings.from_dict(entry["weights"])
    assert (weights.pair_weight, weights.triple_weight) in USER_PHRASE_GRID
    # the user's counts alone: after "the cat" the user only ever wrote "ran"
    assert user_follows(bundle, "the cat", "ran") == 1.0
    assert user_follows(bundle, "the cat", "sat") == 0.0
    assert user_follows(bundle, "zorblat visited", "quimby") == 1.0
    # while the corpus's tables still hold the source's phrases too
    assert bundle.phrases.followers([bundle.vocab.id("sat"), bundle.vocab.id("on")], 3) is not None


def test_a_model_trained_from_scratch_has_no_user_phrases(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    assert bundle.user_phrases is None and "user_phrases" not in bundle.manifest
    assert bundle.user_phrase_settings == PhraseSettings.off()


def test_the_users_distinctive_words_are_predicted_after_their_context(adapted):
    predictor = Predictor.load(adapted)
    try:
        assert predictor.suggest("Zorblat visited ", 3)[0].text == "Quimby"
        assert predictor.suggest("Yesterday Zorblat visited Q", 3)[0].text == "Quimby"
        # the source's words are still predicted where the user did not write otherwise
        # (the user always wrote "the park": it may come first, but "mat" stays in the strip)
        assert "mat" in [s.text for s in predictor.suggest("The cat sat on the ", 3)]
        assert "London" in [s.text for s in predictor.suggest("Alice met Bob in ", 3)]
    finally:
        predictor.close()


def test_the_users_phrases_lift_what_the_network_alone_misses(adapted):
    """With the user's tables off, a phrase the user wrote ranks lower than with them on."""
    on = Predictor.load(adapted, user_phrases=PhraseSettings(0.2, 0.45))
    off = Predictor.load(adapted, user_phrases=PhraseSettings.off())
    try:
        quimby = adapted_id = on.bundle.vocab.id("quimby")
        log_on = on.next_word_log_probs("Zorblat visited ")[0][adapted_id]
        log_off = off.next_word_log_probs("Zorblat visited ")[0][quimby]
        assert log_on > log_off
    finally:
        on.close()
        off.close()


def test_a_manifest_with_bad_user_weights_is_refused(tmp_path, adapted):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(adapted, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["user_phrases"]["weights"] = {"pair": 0.7, "triple": 0.6}
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match="user_phrases.weights"):
        load_bundle(broken)


def _rnn_weights(path):
    source = load_source(path)
    return {k: v for k, v in source.state_dict.items() if k.startswith("rnn.")}, source


def test_the_anchor_holds_the_source_weights_and_frees_new_words(tmp_path, source, tiny_bundle_factory):
    """A pull of the whole learning rate's worth each step (clipped at 1) puts every
    weight of the source back where it was after each step; new words still learn."""
    held = tiny_bundle_factory(tmp_path / "held", USER_TEXT, init_from=source, epochs=1, min_count=2,
                             eval_max_words=0, anchor=1e6)
    free = tiny_bundle_factory(tmp_path / "free", USER_TEXT, init_from=source, epochs=1, min_count=2,
                             eval_max_words=0, anchor=0.0)
    original, src = _rnn_weights(source)
    kept, held_src = _rnn_weights(held)
    moved, _ = _rnn_weights(free)
    for name, value in original.items():
        assert torch.equal(kept[name], value), name
    assert any(not torch.equal(moved[name], value) for name, value in original.items())
    old = len(src.vocab)
    embedding = held_src.state_dict["embedding.weight"]
    assert torch.equal(embedding[:old], src.state_dict["embedding.weight"])
    assert "zorblat" in held_src.vocab.tokens[old:]  # a new word, whose row trained freely
    assert load_bundle(held).manifest["training"]["anchor"] == 1e6


def _grown_model(source_path, new_words):
    from dataclasses import replace

    from keyboard_app.engine.vocab import Vocabulary
    from model_training.init_from import transfer_weights
    from model_training.model import RNNLM

    src = load_source(source_path)
    vocab = Vocabulary(src.vocab.tokens + new_words, src.vocab.display + new_words,
                       list(src.vocab.counts) + [5] * len(new_words))
    model = RNNLM(replace(src.config, vocab_size=len(vocab)))
    transfer_weights(src, model, vocab)
    return model, vocab, len(src.vocab)


def _rank_after(model, vocab, context: str, word: str) -> int:
    from keyboard_app.engine.tokenizer import BOS

    ids = torch.tensor([[vocab.id(t) for t in [BOS, *context.split()]]])
    with torch.no_grad():
        logits, _ = model.eval()(ids, model.init_state(1))
    scores = logits[0, -1]
    return int((scores > scores[vocab.id(word)]).sum())


def test_new_words_start_where_the_users_text_puts_them(source):
    """A word the source never saw, always written where the source expects a place
    name, is among the network's first suggestions there before any training step;
    started as the mean vector with the lowest bias it ranked near the bottom."""
    from model_training.init_from import init_new_words

    text = "we went to zorvia on monday . alice met bob in zorvia . " * 20
    model, vocab, known = _grown_model(source, ["zorvia"])
    ids = np.array([vocab.id(t) for t in text.split()], np.int64)
    before = _rank_after(model, vocab, "we went to", "zorvia")
    assert init_new_words(model, known, ids) == 1
    after = _rank_after(model, vocab, "we went to", "zorvia")
    assert after < 3 <= before and before > len(vocab) // 2
    assert _rank_after(model, vocab, "the cat sat on", "the") < 3  # the source's words are untouched
    # a new word the text never uses keeps its start
    model, vocab, known = _grown_model(source, ["zorvia", "unused"])
    start = model.embedding.weight[vocab.id("unused")].clone()
    assert init_new_words(model, known, ids) == 1
    assert torch.equal(model.embedding.weight[vocab.id("unused")], start)


def test_known_words_are_shown_the_way_the_users_text_writes_them():
    """Issue 18: a retrained model offered "license" in "GNU General Public " although
    the user's corpus always wrote "License"; it now follows the user's capitals on a
    known word once they wrote it a few times inside sentences."""
    from collections import Counter

    from keyboard_app.engine.vocab import Vocabulary
    from model_training.vocabulary import MIN_FORM_EVIDENCE, CorpusCounts, grow_vocabulary

    base = Vocabulary(["<unk>", "<s>", "<num>", "<url>", "<email>", "license", "english", "gnu"],
                      ["<unk>", "<s>", "<num>", "<url>", "<email>", "license", "English", "gnu"], [0] * 8)
    n = MIN_FORM_EVIDENCE
    written = CorpusCounts(
        counts=Counter({"license": n, "english": n, "gnu": n - 1}),
        non_initial=Counter({"license": n, "english": n, "gnu": n - 1}),
        forms={"license": Counter({"License": n}), "gnu": Counter({"GNU": n - 1})},
    )
    fresh = Vocabulary(list(base.tokens[:5]), list(base.display[:5]), [0] * 5)
    grown = grow_vocabulary(base, fresh, 10, written)
    assert grown.tokens == base.tokens  # ids unchanged
    shown = dict(zip(grown.tokens, grown.display))
    assert shown["license"] == "License"  # always capitalised by the user
    assert shown["english"] == "English"  # a capital is never taken away
    assert shown["gnu"] == "gnu"  # too little evidence: the source's form stays
    assert grow_vocabulary(base, fresh, 10).display == base.display


def test_interpolating_blends_the_trained_weights_with_the_source(tmp_path, source, tiny_bundle_factory):
    """WiSE-FT: with --interpolate 0.5 each source weight ends half-way between the
    source and what the same run trained; new words keep their trained rows."""
    free = tiny_bundle_factory(tmp_path / "free", USER_TEXT, init_from=source, epochs=1, min_count=2,
                               eval_max_words=0, anchor=0.0)
    half = tiny_bundle_factory(tmp_path / "half", USER_TEXT, init_from=source, epochs=1, min_count=2,
                               eval_max_words=0, anchor=0.0, interpolate=0.5)
    original, src = _rnn_weights(source)
    trained, _ = _rnn_weights(free)
    blended, half_src = _rnn_weights(half)
    for name, value in original.items():
        assert not torch.equal(trained[name], value), name  # the run did move it
        torch.testing.assert_close(blended[name], value + 0.5 * (trained[name] - value), rtol=0, atol=1e-6)
    old = len(src.vocab)
    free_rows = load_source(free).state_dict["embedding.weight"]
    torch.testing.assert_close(half_src.state_dict["embedding.weight"][old:], free_rows[old:], rtol=0, atol=0)
    assert load_bundle(half).manifest["training"]["interpolate"] == 0.5


def test_a_fine_tune_can_leave_the_users_phrase_tables_out(tmp_path, source, tiny_bundle_factory):
    bundle = load_bundle(tiny_bundle_factory(tmp_path / "plain", USER_TEXT, init_from=source, epochs=1,
                                             min_count=2, eval_max_words=0, user_phrases=False))
    assert bundle.user_phrases is None and "user_phrases" not in bundle.manifest
    assert bundle.phrases is not None  # the corpus's tables, the user's text added in, stay


@pytest.mark.parametrize("alpha", [0.0, -0.5, 1.5, float("nan")])
def test_an_interpolation_outside_zero_to_one_is_refused(alpha):
    from model_training.config import TrainConfig

    with pytest.raises(ValueError, match="--interpolate"):
        TrainConfig(interpolate=alpha)


# The user's newest writing brings a name their older text never has.
NEWEST_NAME_TEXT = USER_TEXT + "".join(f"Xanthe sang to Quimby on {day}.\n\n" for day in ["Monday", "Friday"] * 6)


@pytest.mark.parametrize("at", ["start", "end"])
def test_adapting_learns_the_newest_text_and_holds_out_the_oldest(tmp_path, source, tiny_bundle_factory, at):
    """Held out at the start of the user's text (as ``keyboard-train --init-from`` does),
    the name only their newest text has joins the vocabulary; held out at its end, the
    name would be held out with it and never learned."""
    bundle = load_bundle(tiny_bundle_factory(
        tmp_path, NEWEST_NAME_TEXT, init_from=source, epochs=1, min_count=2, eval_max_words=0,
        heldout_fraction=0.1, heldout_at=at, user_phrases=False))
    assert bundle.manifest["training"]["heldout_at"] == at
    assert ("xanthe" in bundle.vocab) == (at == "start")
    assert "zorblat" in bundle.vocab  # (in both parts of the text)


def test_keyboard_train_holds_out_the_start_when_adapting_and_the_end_otherwise():
    from model_training.cli import build_parser, configs_from_args

    def held_at(*argv: str) -> str:
        return configs_from_args(build_parser().parse_args(["corpus.txt", *argv]))[1].heldout_at

    assert held_at() == "end" and held_at("--init-from", "mine") == "start"
    assert held_at("--init-from", "mine", "--heldout-at", "end") == "end"
    assert held_at("--heldout-at", "start") == "start"


def test_with_no_whole_line_to_hold_out_the_start_is_still_what_is_held_out(tmp_path, tiny_bundle_factory, caplog):
    """One line too short to cut a part from (``corpus.MIN_CUT_SHARE``; a longer one is cut
    at a sentence end): tokens are held out instead of lines, and from the start when the
    newest text is to be learned (the second reader)."""
    line = " ".join(["the cat sat on the mat and the dog ran to the park ."] * 30) + "\n"
    with caplog.at_level("WARNING"):
        tiny_bundle_factory(tmp_path, line, epochs=1, eval_max_words=0, heldout_at="start")
    assert "no whole lines could be held out; validating on the first" in caplog.text
