"""``--init-from``: start training from an existing bundle or checkpoint.

A checkpoint carries its state dict.  A bundle carries only its ONNX graph,
so the weights are read back from the graph's initializers with the
``onnx`` package: the exporter keeps the embedding and output bias under
their parameter names, and the recurrent weights sit on the LSTM/GRU nodes
in ONNX's gate order (LSTM i,o,f,c; GRU z,r,h), which is undone here.  An
int8 graph's weights are dequantized first (scale * (q - zero_point)).

The new vocabulary extends the old one (``vocabulary.grow_vocabulary``):
known words keep their ids and so their embedding and output rows; new
words start from the mean embedding and a small output bias.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from keyboard_app.engine.bundle import ModelLoadError, load_bundle
from keyboard_app.engine.contract import TOKENS
from keyboard_app.engine.lexicon import Lexicon
from keyboard_app.engine.phrases import Phrases
from keyboard_app.engine.vocab import Vocabulary

from .config import ModelConfig
from .model import RNNLM

log = logging.getLogger(__name__)


class InitError(ValueError):
    """The source model cannot be used to initialise training."""


@dataclass
class Source:
    config: ModelConfig
    state_dict: dict[str, Tensor]
    vocab: Vocabulary
    path: Path
    lexicon: Lexicon | None = None  # a bundle's words beyond its vocabulary
    phrases: Phrases | None = None  # a bundle's word pairs and triples


def load_source(path: Path) -> Source:
    """A bundle (folder or .zip) or a ``keyboard-train`` checkpoint."""
    path = Path(path)
    if not path.exists():
        raise InitError(f"{path}: no such bundle or checkpoint.")
    if path.is_file() and path.suffix in (".pt", ".pth", ".ckpt"):
        from .train import load_checkpoint

        try:
            ckpt = load_checkpoint(path)
        except Exception as e:  # noqa: BLE001 - any unreadable file gets one sentence
            raise InitError(f"{path}: cannot be read as a training checkpoint ({e}).") from e
        weights = ckpt.get("best_model") or ckpt["model"]
        return Source(ModelConfig.from_dict(ckpt["model_config"]), weights,
                      Vocabulary.from_dict(ckpt["vocab"]), path)
    bundle = load_bundle(path)  # ModelLoadError names the faulty file
    try:
        config, weights = weights_from_onnx(bundle.onnx_path, bundle.manifest["model"])
    except (KeyError, ValueError, IndexError) as e:
        raise ModelLoadError(f"{path / bundle.manifest['onnx']['file']}: its weights cannot be "
                             f"read back for fine-tuning ({e}).") from e
    finally:
        vocab, lexicon, phrases = bundle.vocab, bundle.lexicon, bundle.phrases
        bundle.close()
    return Source(config, weights, vocab, path, lexicon, phrases)


def _initializers(graph) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    raw = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:  # Constant nodes hold weights in some exports
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            raw[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    values = dict(raw)
    for name, q in raw.items():
        if name.endswith("_quantized"):
            base = name[: -len("_quantized")]
            scale = raw[base + "_scale"].astype(np.float32)
            zero = raw[base + "_zero_point"].astype(np.float32)
            if q.ndim == 3 and scale.ndim == 1:  # DynamicQuantizeLSTM: per direction
                scale, zero = scale.reshape(-1, 1, 1), zero.reshape(-1, 1, 1)
            values[base] = (q.astype(np.float32) - zero) * scale
    return values


def _lstm_torch_order(w: np.ndarray, hidden: int) -> np.ndarray:
    i, o, f, c = (w[k * hidden : (k + 1) * hidden] for k in range(4))
    return np.concatenate([i, f, c, o])


def _gru_torch_order(w: np.ndarray, hidden: int) -> np.ndarray:
    z, r, h = (w[k * hidden : (k + 1) * hidden] for k in range(3))
    return np.concatenate([r, z, h])


#: Where each model type (``contract.CELLS``) keeps its recurrent weights in an exported
#: graph: the ONNX node types (fp32 and int8), the gates per unit, and how to put
#: ONNX's gate order back into torch's.  A type missing here cannot be fine-tuned
#: from a bundle (its checkpoints still can).
RECURRENT_NODES = {
    "lstm": (("LSTM", "DynamicQuantizeLSTM"), 4, _lstm_torch_order),
    "gru": (("GRU",), 3, _gru_torch_order),
}


def weights_from_onnx(onnx_path: Path, model_info: dict) -> tuple[ModelConfig, dict[str, Tensor]]:
    """Rebuild the ``RNNLM`` state dict from a Contract 2 graph."""
    import onnx

    graph = onnx.load(str(onnx_path)).graph
    values = _initializers(graph)
    base = lambda name: name[: -len("_quantized")] if name.endswith("_quantized") else name  # noqa: E731
    config = ModelConfig(
        vocab_size=int(model_info["vocab_size"]),
        embedding_dim=int(model_info["embedding_dim"]),
        hidden_size=int(model_info["hidden_size"]),
        num_layers=int(model_info["num_layers"]),
        cell=model_info["cell"],
        dropout=float(model_info.get("dropout", 0.0)),
        tied=bool(model_info.get("tied", True)),
        projection=None if model_info.get("tied", True) else model_info.get("projection_dim"),
    )
    H = config.hidden_size
    sd: dict[str, np.ndarray] = {}
    gather = next(n for n in graph.node if n.op_type == "Gather" and n.input[1] == TOKENS)
    embedding = values[base(gather.input[0])]
    axis = next((a.i for a in gather.attribute if a.name == "axis"), 0)
    # a shared int8 embedding is read by columns (export.share_tied_embedding)
    sd["embedding.weight"] = embedding.T if axis == 1 else embedding
    if config.cell not in RECURRENT_NODES:
        raise ValueError(f"a {config.cell} model's weights are not read back from a bundle")
    op_types, gates, reorder = RECURRENT_NODES[config.cell]
    rnn_nodes = [n for n in graph.node if n.op_type in op_types]
    if len(rnn_nodes) != config.num_layers:
        raise ValueError(f"found {len(rnn_nodes)} recurrent nodes, expected {config.num_layers}")
    for layer, node in enumerate(rnn_nodes):
        w, r = values[base(node.input[1])], values[base(node.input[2])]
        if node.op_type == "DynamicQuantizeLSTM":  # stored (dirs, input, gates*hidden)
            w, r = w.transpose(0, 2, 1), r.transpose(0, 2, 1)
        b = values[base(node.input[3])][0]  # (2 * gates * hidden,)
        sd[f"rnn.weight_ih_l{layer}"] = reorder(w[0], H)
        sd[f"rnn.weight_hh_l{layer}"] = reorder(r[0], H)
        sd[f"rnn.bias_ih_l{layer}"] = reorder(b[: gates * H], H)
        sd[f"rnn.bias_hh_l{layer}"] = reorder(b[gates * H :], H)
    # Linear layers after the recurrent ones, in graph order: projection, then decoder.
    linear = []
    for node in graph.node:
        if node.op_type in ("MatMul", "MatMulInteger", "Gemm"):
            weight_name = base(node.input[1])
            w = values.get(weight_name)
            if w is None:
                continue
            if node.op_type == "Gemm" and any(a.name == "transB" and a.i for a in node.attribute):
                w = w.T
            linear.append((node, weight_name, w))  # w: (in, out)
    if config.projection_dim:
        _, _, w = linear[0]
        sd["projection.weight"] = w.T
    decoder_node, decoder_name, w = linear[-1]
    sd["decoder.bias"] = values["model.decoder.bias"]
    if not config.tied:
        sd["decoder.weight"] = w.T
    else:
        sd["decoder.weight"] = sd["embedding.weight"]
    state = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in sd.items()}
    return config, state


def transfer_weights(source: Source, model: RNNLM, vocab: Vocabulary) -> None:
    """Load ``source`` into ``model`` whose vocabulary extends the source's."""
    old_v = len(source.vocab)
    if vocab.tokens[:old_v] != source.vocab.tokens:
        raise InitError("the new vocabulary does not extend the source model's")
    target = model.state_dict()
    with torch.no_grad():
        for name, value in source.state_dict.items():
            if name not in target:
                continue
            if name in ("embedding.weight", "decoder.weight", "decoder.bias"):
                new = target[name]
                new[:old_v] = value
                if len(new) > old_v:
                    if name == "decoder.bias":
                        # New words are rare in the old model's eyes: start them low.
                        new[old_v:] = value.min()
                    else:
                        mean = value[5:].mean(0) if old_v > 5 else value.mean(0)
                        new[old_v:] = mean + 0.01 * torch.randn_like(new[old_v:])
            elif target[name].shape == value.shape:
                target[name].copy_(value)
            else:
                raise InitError(f"weight {name} has shape {tuple(value.shape)}, expected "
                                f"{tuple(target[name].shape)}")
    model.load_state_dict(target)
    log.info("initialised from %s: %d known words, %d new", source.path, old_v, len(vocab) - old_v)


#: Occurrences of each new word whose contexts set its starting vector, and the
#: tokens before each that the source network reads (a cost of a few seconds).
NEW_WORD_CONTEXTS = 8
BOS_ID = 1  # SPECIAL_TOKENS' order (Contract 1)
CONTEXT_WINDOW = 24


def init_new_words(model: RNNLM, known: int, train_ids: np.ndarray, *, contexts: int = NEW_WORD_CONTEXTS,
                   window: int = CONTEXT_WINDOW, batch: int = 256) -> int:
    """Start the words a fine-tune adds (ids ``known`` and up) where the user's text puts them.

    ``transfer_weights`` gives them the mean vector and the lowest bias, and at
    a fine-tune's learning rate they hardly move from there: a name the user
    wrote a hundred times stayed unpredictable (rank beyond the strip at every
    occurrence).  Here each new word's vector becomes what the source network
    expects at the places the word occurs: the mean, over up to ``contexts`` of
    its occurrences in ``train_ids``, of the source's predicted mixture of its
    known words' vectors (so a name lands among names, a command among
    commands); and its output bias the log of its frequency in the user's text
    plus the median gap between known words' biases and their frequency there.
    Returns how many words were placed (those never seen in ``train_ids`` keep
    their start).
    """
    vocab_size = model.decoder.bias.shape[0]
    if vocab_size <= known or len(train_ids) < 2:
        return 0
    ids = np.asarray(train_ids, dtype=np.int64)
    user = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    positions: list[int] = []
    owners: list[int] = []
    seen = np.zeros(vocab_size, np.int64)
    new_at = np.flatnonzero(ids[1:] >= known) + 1  # a new word after at least one token
    for t in new_at.tolist():
        word = int(ids[t])
        if seen[word] < contexts:
            seen[word] += 1
            positions.append(t)
            owners.append(word)
    if not positions:
        return 0
    was_training = model.training
    model.eval()
    weight = model.embedding.weight
    try:
        with torch.no_grad():
            known_vectors = weight[:known]
            sums = torch.zeros(vocab_size, weight.shape[1])
            for start in range(0, len(positions), batch):
                chunk = positions[start : start + batch]
                windows = np.full((len(chunk), window), BOS_ID, np.int64)
                for row, t in enumerate(chunk):
                    before = ids[max(0, t - window) : t]
                    windows[row, window - len(before) :] = before  # a text's start reads as a paragraph's
                tokens = torch.from_numpy(windows)
                feats, _ = model.features(tokens, model.init_state(len(chunk)))
                logits = feats[:, -1] @ known_vectors.T + model.decoder.bias[:known]
                expected = torch.softmax(logits, dim=-1) @ known_vectors  # (chunk, dim)
                sums.index_add_(0, torch.tensor(owners[start : start + batch]), expected)
            placed = torch.from_numpy(np.flatnonzero(seen))
            weight[placed] = sums[placed] / torch.from_numpy(seen[placed.numpy()]).float().unsqueeze(1)
            # bias: known words' gap between their bias and their log frequency in this text
            total = user.sum()
            bias = model.decoder.bias
            shared = np.flatnonzero(user[:known] >= 2)
            shared = shared[shared >= 5]  # not the special tokens
            if len(shared):
                gap = float(np.median(bias[shared].numpy() - np.log(user[shared] / total)))
                new = np.arange(known, vocab_size)
                counted = new[user[new] > 0]
                bias[counted] = torch.from_numpy(np.log(user[counted] / total) + gap).float()
    finally:
        model.train(was_training)
    log.info("placed %d new words where the corpus uses them", len(placed))
    return len(placed)
