"""Training end to end on the patterned text: it learns, resumes exactly, fine-tunes, quantizes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from keyboard_app.engine.bundle import load_bundle
from keyboard_app.engine.tokenizer import Tokenizer
from keyboard_app.engine.vocab import Vocabulary
from model_training.config import ModelConfig, TrainConfig
from model_training.corpus import find_files, heldout_splits
from model_training.data import encode_corpus
from model_training.init_from import load_source
from model_training.model import RNNLM
from model_training.train import Stop, Trainer, load_checkpoint
from model_training.vocabulary import build_vocabulary, count_corpus_tokens
from training_helpers import PATTERN_CASES, next_word


@pytest.mark.parametrize("context, expected", PATTERN_CASES)
def test_tiny_bundle_predicts_the_pattern(tiny_bundle, context, expected):
    assert next_word(tiny_bundle, context) == expected


def test_tiny_bundle_manifest_records_training_and_heldout_metrics(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    m = bundle.manifest
    assert m["model"]["vocab_size"] == len(bundle.vocab) == m["vocab"]["size"]
    assert m["model"]["parameters"] > 0 and m["model"]["quantized"] is False
    assert m["corpus"]["heldout_tokens"] > 0 and m["corpus"]["train_tokens"] > 5 * m["corpus"]["heldout_tokens"]
    metrics = m["metrics"]
    # the pattern is nearly deterministic: a trained model is far better than uniform
    assert 1.0 < metrics["perplexity"] < 3.0 < len(bundle.vocab)
    assert 0.6 < metrics["top1"] <= metrics["top3"] <= metrics["top5"] <= 1.0
    assert metrics["heldout_tokens"] == m["corpus"]["heldout_tokens"] - 2  # first token of each stream has no context
    assert m["training"]["epochs_run"] == m["training"]["epochs"]
    assert m["training"]["tokens_per_s"] > 0
    assert bundle.vocab.display[bundle.vocab.id("london")] == "London"
    assert bundle.vocab.display[bundle.vocab.id("i")] == "I"
    bundle.close()


def test_sampled_softmax_training_learns_the_pattern(tmp_path, patterned_text, tiny_bundle_factory):
    path = tiny_bundle_factory(tmp_path, patterned_text, output_loss="sampled", num_exact=8, num_samples=12,
                               lr=0.02, eval_max_words=0)
    hits = sum(next_word(path, context) == word for context, word in PATTERN_CASES)
    assert hits == len(PATTERN_CASES)


def test_quantized_bundle_still_predicts_the_pattern(tmp_path, patterned_text, tiny_bundle_factory):
    path = tiny_bundle_factory(tmp_path, patterned_text, quantize=True, eval_max_words=0, keep_work=True)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["model"]["quantized"] is True
    q = manifest["metrics"]["quantization"]
    assert q["int8_bytes"] < q["fp32_bytes"] and q["tokens"] > 100
    assert abs(q["int8_top1"] - q["fp32_top1"]) < 0.1  # measured on held-out text, both via onnxruntime
    # the tied embedding is stored once (the output layer's int8 copy, read by columns)
    import onnx

    graph = onnx.load(str(path / "model.onnx")).graph
    embeddings = [i.name for i in graph.initializer if i.name.startswith("model.embedding.weight")
                  and i.name.endswith("_quantized")]
    assert embeddings == ["model.embedding.weight_Transposed_quantized"]
    # an int8 bundle can still be fine-tuned: its weights are read back dequantized
    from_int8 = load_source(path).state_dict
    from_checkpoint = load_source(tmp_path / "work" / "checkpoint.pt").state_dict
    for name, value in from_checkpoint.items():
        step = float(value.abs().max()) / 100  # int8: ~1/127 of the range per step
        np.testing.assert_allclose(from_int8[name], value, atol=step, err_msg=name)
    for context, word in PATTERN_CASES:
        assert next_word(path, context) == word


# -- resume -------------------------------------------------------------------------


def _trainer(text_dir, seed=3, **train):
    files = find_files([text_dir])
    starts = heldout_splits(files, 0.1, 0)
    tok = Tokenizer()
    counts = count_corpus_tokens(files, starts, tok)
    vocab = build_vocabulary(counts, 0, 1)
    enc = encode_corpus(files, starts, vocab, tok, train_tokens=counts.train_tokens,
                        heldout_tokens=counts.heldout_tokens)
    config = TrainConfig(**{**dict(batch_size=4, bptt=8, epochs=2, warmup_steps=5, lr=0.01,
                                   output_loss="sampled", num_exact=4, num_samples=8, patience=5,
                                   evals_per_epoch=2, seed=seed), **train})
    torch.manual_seed(seed)
    model = RNNLM(ModelConfig(vocab_size=len(vocab), embedding_dim=8, hidden_size=16, dropout=0.2))
    return Trainer(model, vocab, config, enc.train, enc.heldout, device=torch.device("cpu"))


class StopAtStep:
    """A progress sink that asks the trainer to stop after a given step."""

    def __init__(self, step):
        self.step, self.trainer = step, None

    def update(self, **_):
        if self.trainer.counters.step == self.step:
            self.trainer.stop_requested = True

    def start(self, *a, **k): ...
    def emit(self, *a, **k): ...
    def write(self, *a, **k): ...
    def close(self): ...


def test_resume_after_interruption_continues_exactly(tmp_path, patterned_text):
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "t.txt").write_text(patterned_text[:4000])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # identical kernels in both runs
    try:
        straight = _trainer(tmp_path / "text")
        straight_counters = straight.run(tmp_path / "a.pt")

        interrupted = _trainer(tmp_path / "text")
        interrupted.progress = StopAtStep(13)  # mid-epoch, between two validations
        interrupted.progress.trainer = interrupted
        ckpt_path = tmp_path / "b.pt"
        with pytest.raises(Stop):
            interrupted.run(ckpt_path)
        ckpt = load_checkpoint(ckpt_path)  # weights_only=True inside
        assert ckpt["counters"]["step"] == 13
        assert ckpt["counters"]["batch"] == 13 % len(interrupted.batches)
        assert ckpt["counters"]["finished"] is False

        resumed = _trainer(tmp_path / "text", seed=99)  # a different seed: the checkpoint's RNG wins
        resumed.restore(ckpt)
        resumed_counters = resumed.run(ckpt_path)
    finally:
        torch.set_num_threads(threads)
    assert resumed_counters.step == straight_counters.step
    assert resumed_counters.tokens == straight_counters.tokens
    assert [h["val_ppl"] for h in resumed_counters.history] == pytest.approx(
        [h["val_ppl"] for h in straight_counters.history], rel=1e-5)
    for key, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value, atol=1e-5, rtol=1e-5)


def test_checkpoint_is_a_plain_dict_that_loads_with_weights_only(tmp_path, patterned_text):
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "t.txt").write_text(patterned_text[:3000])
    trainer = _trainer(tmp_path / "text", epochs=1)
    trainer.run(tmp_path / "c.pt")
    ckpt = torch.load(tmp_path / "c.pt", weights_only=True)
    assert set(ckpt) >= {"model", "optimizer", "model_config", "train_config", "vocab",
                         "counters", "recurrent_state", "rng"}
    assert ckpt["counters"]["finished"] is True and ckpt["counters"]["epoch"] == 1
    assert Vocabulary.from_dict(ckpt["vocab"]).tokens == trainer.vocab.tokens


# -- fine-tuning ----------------------------------------------------------------------


@pytest.mark.parametrize("source_kind", ["bundle", "checkpoint"])
def test_init_from_with_a_grown_vocabulary_keeps_known_words_weights(
    tmp_path, tiny_bundle, patterned_text, tiny_bundle_factory, source_kind
):
    if source_kind == "bundle":
        source_path = tiny_bundle
    else:  # a finished run's checkpoint is only kept when asked for
        tiny_bundle_factory(tmp_path / "source", patterned_text, keep_work=True, eval_max_words=0)
        source_path = tmp_path / "source" / "work" / "checkpoint.pt"
    source = load_source(source_path)
    new_text = "Zorro rode a horse. Zorro rode a horse far away.\n\n" * 3 + patterned_text  # not in the held-out tail
    # epochs=1 with lr ~ 0: what we check is the starting point, not the training
    path = tiny_bundle_factory(tmp_path, new_text, init_from=source_path, epochs=1, lr=1e-12,
                               warmup_steps=1, eval_max_words=0)
    grown = load_source(path)
    old_v = len(source.vocab)
    assert grown.vocab.tokens[:old_v] == source.vocab.tokens
    assert {"zorro", "rode", "horse"} <= set(grown.vocab.tokens[old_v:])
    assert grown.config.hidden_size == source.config.hidden_size
    for name in ("embedding.weight", "decoder.bias"):
        np.testing.assert_allclose(grown.state_dict[name][:old_v], source.state_dict[name], atol=1e-6)
    np.testing.assert_allclose(grown.state_dict["rnn.weight_hh_l0"], source.state_dict["rnn.weight_hh_l0"], atol=1e-6)
    # and the old pattern is still predicted
    assert next_word(path, "The cat sat on the") == "mat"
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["training"]["init_from"] == str(source_path)
