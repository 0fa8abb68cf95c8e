"""The onnxruntime session of a bundle's graph, checked against Contract 2.

``RecurrentSession`` owns one ``onnxruntime.InferenceSession`` and knows the
graph's signature: ``tokens`` (batch, time) and the recurrent state in,
``log_probs`` (batch, vocab) for the word after the last position and the new
state out.  It holds no state of its own between calls: the caller passes the
state in and gets the new one back (the predictor's cache keeps them).

Opening a graph checks everything the engine relies on before the first
keystroke needs it, and fails with ``ModelLoadError`` naming the file: the
input and output names, element types and fixed dimensions (against the
signature ``contract`` gives for the bundle's model type, and against the
manifest), that external data stays inside the bundle, and one real step.

Threads: a desktop app must not let inference starve its UI, so the session
uses an explicit, small intra-op thread count, one inter-op thread, and no
spinning (with spinning, a busy neighbour made 2-thread latency 3-7x worse on
the target machine; see STACK_NOTES.md).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnxruntime as ort

from .bundle import Bundle, ModelLoadError
from .contract import TOKENS, element_type
from .onnx_check import OnnxFormatError, external_data_locations
from .tokenizer import BOS

log = logging.getLogger(__name__)

#: The recurrent state: (h, c) for an LSTM, (h,) for a GRU; each (layers, batch, hidden).
State = tuple[np.ndarray, ...]

_ORT_TYPES = {"int64": "tensor(int64)", "float32": "tensor(float)"}  # as onnxruntime names them


def session_options(threads: int = 1) -> ort.SessionOptions:
    """Options for a desktop app: ``threads`` intra-op threads, no spinning."""
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: warnings go to stderr otherwise
    return options


class RecurrentSession:
    """A checked onnxruntime session of a Contract 2 graph.

    ``session`` may be any object with onnxruntime's ``get_inputs()``,
    ``get_outputs()`` and ``run()`` (tests pass their own); it is checked
    against ``bundle`` either way.
    """

    def __init__(self, session: Any, bundle: Bundle) -> None:
        self.bundle = bundle
        self.cell = bundle.cell
        self.cell_type = bundle.cell_type
        self.num_layers = bundle.num_layers
        self.hidden_size = bundle.hidden_size
        self.vocab_size = len(bundle.vocab)
        self._session = session
        #: may be run from two threads at once (onnxruntime's sessions may; a stand-in may not)
        self.thread_safe = isinstance(session, ort.InferenceSession)
        self.threads = 1  # intra-op threads (``open`` sets what it opened with)
        self._state_inputs = self.cell_type.states
        self._input_names = self.cell_type.inputs
        self._output_names = list(self.cell_type.outputs)
        self._check_signature()
        self._check_one_step()

    @classmethod
    def open(cls, bundle: Bundle, threads: int = 1) -> "RecurrentSession":
        """Open the bundle's graph with onnxruntime; raise ``ModelLoadError`` if unusable."""
        path = bundle.onnx_path
        _check_external_data(path, bundle)
        try:
            session = ort.InferenceSession(
                str(path), session_options(threads), providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # onnxruntime raises its own exception types
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelLoadError(f"{_shown(path, bundle)}: onnxruntime cannot open the graph ({reason}).") from e
        opened = cls(session, bundle)
        opened.threads = threads
        return opened

    # -- running -----------------------------------------------------------

    def zero_state(self, batch: int = 1) -> State:
        shape = (self.num_layers, batch, self.hidden_size)
        return tuple(np.zeros(shape, np.float32) for _ in self._state_inputs)

    def run(self, tokens: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Feed ``tokens`` (batch, time) from ``state``: (log_probs (batch, vocab), new state)."""
        if tokens.ndim != 2 or tokens.shape[1] < 1:
            raise ValueError(f"tokens must be (batch, time) with time >= 1, not {tokens.shape}")
        feeds = {TOKENS: tokens.astype(np.int64, copy=False)}
        feeds.update(zip(self._state_inputs, state))
        log_probs, *new_state = self._session.run(self._output_names, feeds)
        return log_probs, tuple(new_state)

    # -- checks ------------------------------------------------------------

    def _fail(self, what: str) -> ModelLoadError:
        return ModelLoadError(f"{_shown(self.bundle.onnx_path, self.bundle)}: {what}.")

    def _check_signature(self) -> None:
        manifest_in = self.bundle.input_names
        manifest_out = self.bundle.output_names
        want_in, want_out = list(self._input_names), self._output_names
        if sorted(manifest_in) != sorted(want_in) or sorted(manifest_out) != sorted(want_out):
            raise ModelLoadError(
                f"{_shown(self.bundle.path / 'manifest.json', self.bundle)}: the manifest declares "
                f"inputs {sorted(manifest_in)} and outputs {sorted(manifest_out)}, but a {self.cell} "
                f"graph has inputs {want_in} and outputs {want_out}."
            )
        try:
            graph_in = {i.name: i for i in self._session.get_inputs()}
            graph_out = {o.name: o for o in self._session.get_outputs()}
        except Exception as e:
            raise self._fail(f"its inputs and outputs cannot be read ({type(e).__name__})") from e
        if sorted(graph_in) != sorted(want_in) or sorted(graph_out) != sorted(want_out):
            raise self._fail(
                f"the graph has inputs {sorted(graph_in)} and outputs {sorted(graph_out)}, "
                f"but the manifest declares {sorted(manifest_in)} and {sorted(manifest_out)}"
            )
        # Contract 2's shapes; a name stands for a dynamic dimension.
        expected_in, expected_out = self.cell_type.signature(
            vocab_size=self.vocab_size, num_layers=self.num_layers, hidden_size=self.hidden_size)
        expected = {**expected_in, **expected_out}
        declared = {**manifest_in, **manifest_out}
        for name, arg in {**graph_in, **graph_out}.items():
            want_type = _ORT_TYPES[element_type(name)]
            if arg.type != want_type:
                raise self._fail(f"'{name}' has element type {arg.type}, but the contract says {want_type}")
            if not isinstance(declared[name], list) or not _dims_fit(declared[name], expected[name]):
                raise ModelLoadError(
                    f"{_shown(self.bundle.path / 'manifest.json', self.bundle)}: '{name}' is declared "
                    f"{declared[name]}, which does not fit the model's sizes {expected[name]}."
                )
            if arg.shape is None or not _dims_fit(arg.shape, expected[name]) or not _dims_fit(arg.shape, declared[name]):
                raise self._fail(
                    f"'{name}' has shape {arg.shape}, but the manifest declares {declared[name]}"
                )

    def _check_one_step(self) -> None:
        tokens = np.array([[self.bundle.vocab.id(BOS)]], np.int64)
        try:
            log_probs, state = self.run(tokens, self.zero_state())
        except Exception as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise self._fail(f"the graph fails on one step ({reason})") from e
        if log_probs.shape != (1, self.vocab_size) or any(
            s.shape != (self.num_layers, 1, self.hidden_size) for s in state
        ):
            raise self._fail(
                f"one step gives log_probs {log_probs.shape} and state "
                f"{[s.shape for s in state]}, not (1, {self.vocab_size}) and "
                f"({self.num_layers}, 1, {self.hidden_size})"
            )
        if not np.isfinite(log_probs).all() or not np.isclose(np.exp(log_probs).sum(), 1.0, atol=1e-3):
            raise self._fail("one step does not give log-probabilities (log_softmax missing?)")


def _dims_fit(shape: Sequence, expected: Sequence) -> bool:
    """Same rank, and equal wherever both dimensions are fixed numbers."""
    return len(shape) == len(expected) and all(
        not (isinstance(a, int) and isinstance(b, int)) or a == b for a, b in zip(shape, expected)
    )


def _shown(path: Path, bundle: Bundle) -> Path:
    """The path as the user named it (inside the .zip, not the private copy)."""
    try:
        return bundle.source / path.relative_to(bundle.path)
    except ValueError:
        return path


def _check_external_data(path: Path, bundle: Bundle) -> None:
    shown = _shown(path, bundle)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelLoadError(f"{shown}: the graph cannot be read ({e.strerror or e}).") from e
    try:
        locations = external_data_locations(data)
    except OnnxFormatError as e:
        raise ModelLoadError(f"{shown}: not an ONNX graph ({e}).") from e
    listed = bundle.manifest["files"]
    for tensor, location in locations:
        plain = (
            bool(location)
            and not any(sep in location for sep in "/\\:")
            and location not in (".", "..")
        )
        inside = plain and (bundle.path / location).is_file() and not (bundle.path / location).is_symlink()
        if not (plain and inside and location in listed):
            raise ModelLoadError(
                f"{shown}: tensor '{tensor}' keeps its data in {location!r}, which is not a "
                "file of this bundle listed in its manifest."
            )
