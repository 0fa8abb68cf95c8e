"""Contract 2 as data: what the trainer and the engine must agree on about a bundle.

Both sides import this one module, so they cannot drift apart: the trainer
(``model_training.config``, ``model``, ``export``, ``init_from``) builds its
graphs and manifests from it, and the engine (``bundle``, ``session``) checks
every bundle against it.  It holds

* the bundle format's name, version and file names;
* the model types (``CELLS``): each a name and the parts of its recurrent
  state, every part ``(layers, batch, hidden)``;
* the ONNX graph's signature: ``tokens`` int64 ``(batch, time)`` and the state
  in; ``log_probs`` float32 ``(batch, vocab)`` for the word after the last
  position and the new state (each part's name + ``_out``) out.

It imports nothing beyond the standard library (no numpy, torch, onnxruntime
or Qt), so the app, the trainer, the packaged program and the tests all take it
for free.  The tokenizer (Contract 1) has its own module, ``tokenizer``.

Adding a model type means an entry in ``CELLS``, a model class in
``model_training.model`` and a branch in ``model_training.export``; the engine
then loads its bundles unchanged, as long as the graph has this signature.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- the bundle folder -----------------------------------------------------------------

BUNDLE_FORMAT = "keyboard-model-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ONNX_FILE = "model.onnx"
VOCAB_FILE = "vocab.json"
LEXICON_FILE = "lexicon.json"  # optional
PHRASES_FILE = "phrases.npz"  # optional
USER_PHRASES_FILE = "user_phrases.npz"  # optional: a model adapted to the user's corpus
# The most a phrases file's arrays may take together: the engine refuses a larger one
# before reading it, and the trainer cuts its tables to fit (``--phrases-limit``).
PHRASE_ARRAYS_MAX_BYTES = 1024**3
OPSET = 17  # the ONNX opset the trainer exports with

# -- the graph's signature ---------------------------------------------------------------

TOKENS = "tokens"  # input: int64 (batch, time)
LOG_PROBS = "log_probs"  # output: float32 (batch, vocab), after the last position
STATE_OUT_SUFFIX = "_out"  # a state part's name in the outputs: "h" -> "h_out"
BATCH, TIME = "batch", "time"  # the dynamic dimensions, as the manifest names them


@dataclass(frozen=True)
class Cell:
    """A model type: its manifest name and the parts of its recurrent state."""

    name: str  # the manifest's ``model.cell``
    states: tuple[str, ...]  # the graph's state inputs, in order

    @property
    def state_outputs(self) -> tuple[str, ...]:
        return tuple(name + STATE_OUT_SUFFIX for name in self.states)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The graph's input names, in the order the trainer exports them."""
        return (TOKENS, *self.states)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (LOG_PROBS, *self.state_outputs)

    def signature(self, *, vocab_size: int, num_layers: int, hidden_size: int
                  ) -> tuple[dict[str, list], dict[str, list]]:
        """The graph's inputs and outputs with their shapes, as the manifest's ``onnx``
        records them: a string stands for a dynamic dimension."""
        state = [num_layers, BATCH, hidden_size]
        inputs: dict[str, list] = {TOKENS: [BATCH, TIME]}
        outputs: dict[str, list] = {LOG_PROBS: [BATCH, vocab_size]}
        for name, out in zip(self.states, self.state_outputs):
            inputs[name] = list(state)
            outputs[out] = list(state)
        return inputs, outputs


#: The model types a bundle may hold, by their manifest name.
CELL_TYPES: dict[str, Cell] = {
    cell.name: cell
    for cell in (
        Cell("lstm", ("h", "c")),  # hidden state and memory cell
        Cell("gru", ("h",)),
    )
}
CELLS: tuple[str, ...] = tuple(CELL_TYPES)


def cell_type(name: str) -> Cell:
    """The model type called ``name``; ``ValueError`` naming the known ones if none is."""
    try:
        return CELL_TYPES[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        raise ValueError(f"cell type {name!r} is not one of {tuple(CELL_TYPES)}") from None


def element_type(name: str) -> str:
    """The element type of a graph input or output: the ids are int64, all else float32."""
    return "int64" if name == TOKENS else "float32"


def dynamic_axes(shapes: dict[str, list]) -> dict[str, dict[int, str]]:
    """The dynamic dimensions of a signature's shapes, as ``torch.onnx.export`` takes them."""
    return {name: {axis: dim for axis, dim in enumerate(dims) if isinstance(dim, str)}
            for name, dims in shapes.items()}
