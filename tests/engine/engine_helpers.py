"""Engine test helpers: hand-made bundles with a stand-in graph, and
random-weight bundles exported with ``model_training``'s own code.

* ``word_bundle`` / ``make_predictor``: a small vocabulary chosen for the
  capitalisation and completion cases, and ``FakeGraph``, an onnxruntime
  stand-in whose log-probabilities are a fixed table (optionally favouring a
  word after a given word), so expected suggestions can be written down.
* ``random_bundle`` (fp32 LSTM), ``random_int8_bundle`` and
  ``random_gru_bundle``: real ONNX graphs with random weights over a
  vocabulary of a few hundred words; the cache tests compare them bit for bit
  with fresh engines.  (``tiny_bundle`` from tests/conftest.py is the trained
  one.)
"""

from __future__ import annotations

import collections
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from keyboard_app.engine.bundle import FORMAT_VERSION, write_bundle
from keyboard_app.engine.tokenizer import SPECIAL_TOKENS, Tokenizer, TokenizerSettings
from keyboard_app.engine.vocab import Vocabulary

# (token, display form); the ranking of FakeGraph's table is this order after
# the specials and punctuation, which it puts first so that filtering shows.
WORDS = [
    ("the", "the"), ("i", "I"), ("tomorrow", "tomorrow"), ("tom", "Tom"), ("london", "London"),
    ("lonely", "lonely"), ("see", "see"), ("you", "you"), ("we", "we"), ("met", "met"),
    ("in", "in"), ("don't", "don't"), ("hello", "hello"), ("cat", "cat"), ("cats", "cats"),
    ("nasa", "NASA"), ("a", "a"), ("to", "to"), ("tea", "tea"), ("é", "é"), ("émile", "Émile"),
]
PUNCTUATION = [".", ",", "!", "?", ";", ":"]


@dataclass
class _Arg:
    name: str
    type: str
    shape: list


class FakeGraph:
    """An onnxruntime stand-in with the Contract 2 signature.

    ``log_probs`` is ``base`` (log-softmaxed), plus ``boost`` for a word
    right after a given word.  The state holds how many tokens were fed and
    the last one, so a test can see what the cache fed it.
    """

    def __init__(self, vocab: Vocabulary, *, cell: str = "lstm", layers: int = 1, hidden: int = 4,
                 base: np.ndarray | None = None, after: dict[str, dict[str, float]] | None = None):
        self.vocab = vocab
        self.cell = cell
        self.layers, self.hidden = layers, hidden
        size = len(vocab)
        self.base = base if base is not None else -np.arange(size, dtype=np.float32) * 0.5
        self.after = {vocab.id(w): {vocab.id(n): b for n, b in nxt.items()} for w, nxt in (after or {}).items()}
        self.fed: list[list[int]] = []  # token runs, as fed
        names = ["h", "c"] if cell == "lstm" else ["h"]
        state = [layers, "batch", hidden]
        self._inputs = [_Arg("tokens", "tensor(int64)", ["batch", "time"])] + [
            _Arg(n, "tensor(float)", state) for n in names
        ]
        self._outputs = [_Arg("log_probs", "tensor(float)", ["batch", size])] + [
            _Arg(n + "_out", "tensor(float)", state) for n in names
        ]

    def get_inputs(self):
        return self._inputs

    def get_outputs(self):
        return self._outputs

    def run(self, output_names, feeds):
        tokens = feeds["tokens"]
        self.fed.append(tokens[0].tolist())
        batch = tokens.shape[0]
        scores = np.tile(self.base, (batch, 1)).astype(np.float64)
        for row in range(batch):
            for nxt, bump in self.after.get(int(tokens[row, -1]), {}).items():
                scores[row, nxt] += bump
        scores -= scores.max(axis=1, keepdims=True)
        log_probs = (scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))).astype(np.float32)
        out = {"log_probs": log_probs}
        for name in [a.name for a in self._inputs[1:]]:
            state = feeds[name].copy()
            state[0, :, 0] += tokens.shape[1]
            state[0, :, 1] = tokens[:, -1]
            out[name + "_out"] = state
        return [out[n] for n in output_names]


def make_vocab(words=WORDS) -> Vocabulary:
    tokens = list(SPECIAL_TOKENS) + PUNCTUATION + [t for t, _ in words]
    display = list(SPECIAL_TOKENS) + PUNCTUATION + [d for _, d in words]
    return Vocabulary(tokens, display, [0] * len(SPECIAL_TOKENS) + [1] * (len(tokens) - len(SPECIAL_TOKENS)))


def write_placeholder_bundle(dest: Path, vocab: Vocabulary, *, cell: str = "lstm", layers: int = 1,
                             hidden: int = 4, onnx_bytes: bytes = b"placeholder", lexicon=None,
                             phrases=None) -> Path:
    """A bundle whose model.onnx is not a graph: for stand-in sessions only
    (``lexicon``: a ``Lexicon`` to put in as lexicon.json; ``phrases``: a
    ``Phrases`` to put in as phrases.npz)."""
    dest = Path(dest)
    src = dest.parent / f".{dest.name}-src"
    src.mkdir(parents=True, exist_ok=True)
    vocab.save(src / "vocab.json")
    files = {"model.onnx": src / "model.onnx", "vocab.json": src / "vocab.json"}
    (src / "model.onnx").write_bytes(onnx_bytes)
    state = [layers, "batch", hidden]
    inputs = {"tokens": ["batch", "time"], "h": state}
    outputs = {"log_probs": ["batch", len(vocab)], "h_out": state}
    if cell == "lstm":
        inputs["c"], outputs["c_out"] = state, state
    manifest = {
        "format": "keyboard-model-bundle", "format_version": FORMAT_VERSION, "name": "hand-made",
        "created": "2026-11-27T00:00:00Z", "tokenizer": TokenizerSettings().to_dict(),
        "model": {"cell": cell, "vocab_size": len(vocab), "num_layers": layers, "hidden_size": hidden},
        "onnx": {"file": "model.onnx", "opset": 17, "inputs": inputs, "outputs": outputs},
        "vocab": {"file": "vocab.json", "size": len(vocab), "min_count": 1},
        "corpus": {}, "training": {}, "metrics": {},
    }
    if lexicon is not None:
        lexicon.save(src / "lexicon.json")
        files["lexicon.json"] = src / "lexicon.json"
        manifest["lexicon"] = {"file": "lexicon.json", "words": len(lexicon)}
    if phrases is not None:
        phrases.save(src / "phrases.npz")
        files["phrases.npz"] = src / "phrases.npz"
        manifest["phrases"] = {"file": "phrases.npz"}
    return write_bundle(dest, manifest, files)


# -- random-weight graphs ---------------------------------------------------------

SAMPLE_TEXT = """\
The quick brown fox jumps over the lazy dog. I don't know, said Alice; we met in London on Monday!
Is it true? Yes: the cat sat on the mat, and the dog ran to the park.

A new paragraph starts here. Bob told Alice that I was late for tea at 5 o'clock.
Mail me at jane@example.com or see https://example.org/page. Numbers like 1,000 and 3rd count too.
She drinks hot tea every morning, and the bird sang in the tree while we went to Paris.
"""


def assert_lexicon_refused(bundle_path: Path, content: dict, dest: Path) -> None:
    """Writing the bundle at ``bundle_path`` with ``content`` as its lexicon.json to ``dest``
    is refused in one sentence naming lexicon.json, and nothing is left at ``dest``."""
    import json

    from keyboard_app.engine.bundle import ModelLoadError, load_bundle

    src = dest.parent / f"{dest.name}-lexicon.json"
    src.write_text(json.dumps(content))
    bundle = load_bundle(bundle_path)
    files = {n: bundle.path / n for n in bundle.manifest["files"]}
    files["lexicon.json"] = src
    with pytest.raises(ModelLoadError) as caught:
        write_bundle(dest, bundle.manifest, files)
    message = str(caught.value)
    assert "lexicon.json" in message and "\n" not in message
    assert not dest.exists()


def random_bundle_at(dest: Path, *, cell: str = "lstm", quantize: bool = False, layers: int = 2,
                     hidden: int = 32, embedding: int = 16, seed: int = 0, phrases: bool = False) -> Path:
    """Export a random-weight model over ``SAMPLE_TEXT``'s words with model_training's code
    (``phrases``: with SAMPLE_TEXT's word pairs and triples)."""
    torch = pytest.importorskip("torch")
    from model_training.config import ModelConfig
    from model_training.export import build_manifest, export_bundle
    from model_training.model import RNNLM

    counts = collections.Counter(
        t.token for t in Tokenizer().iter_tokens(SAMPLE_TEXT) if t.token not in SPECIAL_TOKENS
    )
    words = sorted(counts, key=lambda w: (-counts[w], w))
    tokens = list(SPECIAL_TOKENS) + words
    display = [t.capitalize() if t in ("alice", "bob", "london", "monday", "paris") else t for t in tokens]
    display = [("I" if t == "i" else d) for t, d in zip(tokens, display)]
    vocab = Vocabulary(tokens, display, [0] * len(SPECIAL_TOKENS) + [counts[w] for w in words])
    torch.manual_seed(seed)
    config = ModelConfig(vocab_size=len(vocab), embedding_dim=embedding, hidden_size=hidden,
                         num_layers=layers, cell=cell, dropout=0.0, tied=False)
    model = RNNLM(config)
    with torch.no_grad():  # spread the output so that rankings are not near-ties
        model.decoder.weight.normal_(0, 1.0)
        model.decoder.bias.normal_(0, 1.0)
    manifest = build_manifest(model, vocab, name=f"random {cell}", min_count=1, quantized=quantize)
    table = None
    if phrases:
        from keyboard_app.engine.phrases import build_phrases

        ids = [vocab.id(t) if t in vocab else vocab.unk_id for t in Tokenizer().tokenize(SAMPLE_TEXT)]
        table = build_phrases(np.array(ids * 3), len(vocab), 0, vocab.unk_id)
    export_bundle(model, vocab, Path(dest), manifest=manifest, quantize=quantize, phrases=table)
    return Path(dest)


# Characters that exercise every branch of the tokenizer's pattern.
ALPHABET = "ab'\u2019 .,!?:;\n\n 12/@-_+\"()\u00e9\u03a3\U0001F600\x00\t" + "htp:/w.x"


def random_edit(rng: random.Random, text: str) -> str:
    """One edit of the kinds a person makes (or an undo, or select-all-and-delete)."""
    kind = rng.randrange(7)
    pos = rng.randint(0, len(text))
    if kind == 0:  # type a few characters at the end
        return text + "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
    if kind == 1:  # backspace
        return text[: max(0, len(text) - rng.randint(1, 6))]
    if kind == 2:  # cursor moved into the middle
        return text[:pos]
    if kind == 3:  # paste
        start = rng.randrange(len(SAMPLE_TEXT))
        return text + SAMPLE_TEXT[start : start + rng.randint(1, 300)]
    if kind == 4:  # edit in the middle
        return text[:pos] + rng.choice(ALPHABET) + text[pos + rng.randint(0, 3):]
    if kind == 5:  # select all and delete
        return ""
    return SAMPLE_TEXT[: rng.randint(0, len(SAMPLE_TEXT))]  # undo to an earlier text
