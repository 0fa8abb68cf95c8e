"""ONNX export (Contract 2), its parity check, int8 quantization and the bundle.

The graph: ``tokens`` int64 (batch, time), ``h`` [and ``c`` for an LSTM]
float32 (layers, batch, hidden) in; ``log_probs`` float32 (batch, vocab) for
the word after the last position, ``h_out`` [and ``c_out``] out.  Dynamic
batch and time, weights embedded, legacy exporter (fused LSTM/GRU nodes),
opset 17.  The names, shapes, opset and file names are
``keyboard_app.engine.contract``'s, which the engine checks bundles against.

Before anything is written where a bundle was, the exported graph is checked
against PyTorch (``check_parity``): one run over a sequence, and the same
sequence fed one token at a time with the state fed back, must both match
PyTorch's full run to ``PARITY_ATOL``.  The bundle itself is assembled in a
temporary folder and moved into place by ``bundle.write_bundle`` only when
complete and validated.
"""

from __future__ import annotations

import copy
import datetime as _dt
import logging
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from keyboard_app.engine.bundle import write_bundle
from keyboard_app.engine.contract import (
    BUNDLE_FORMAT, FORMAT_VERSION, LEXICON_FILE, ONNX_FILE, OPSET, PHRASES_FILE, USER_PHRASES_FILE,
    VOCAB_FILE, Cell, cell_type, dynamic_axes,
)
from keyboard_app.engine.faults import fault_point
from keyboard_app.engine.staging import check_destination, make_folder, write_errors
from keyboard_app.engine.lexicon import Lexicon
from keyboard_app.engine.phrases import PhraseSettings, Phrases, compress_file
from keyboard_app.engine.tokenizer import TokenizerSettings
from keyboard_app.engine.vocab import Vocabulary

from .model import NextWordGraph, RNNLM, count_parameters

log = logging.getLogger(__name__)

#: The user's phrase tables' weights before (or without) tuning on held-out text.
USER_PHRASE_DEFAULTS = PhraseSettings(0.1, 0.3)
#: Largest absolute difference allowed between onnxruntime and PyTorch (fp32)
#: on log-probabilities and states; measured differences are ~1e-6.
PARITY_ATOL = 1e-4
#: int8 graphs cannot match fp32 exactly; their check is that the step-by-step
#: and full runs agree with each other to this (dynamic activation ranges differ).
QUANT_STEP_ATOL = 0.5


class ExportError(RuntimeError):
    """The exported graph does not behave like the PyTorch model."""


def signature(model: RNNLM) -> tuple[dict[str, list], dict[str, list]]:
    """The graph's inputs and outputs with their shapes (``contract.Cell.signature``)."""
    c = model.config
    return cell_type(c.cell).signature(vocab_size=c.vocab_size, num_layers=c.num_layers,
                                       hidden_size=c.hidden_size)


def zero_state(cell: Cell, num_layers: int, hidden_size: int, batch: int = 1) -> tuple[np.ndarray, ...]:
    """The graph's state inputs at the start of a text, as onnxruntime takes them."""
    return tuple(np.zeros((num_layers, batch, hidden_size), np.float32) for _ in cell.states)


def export_onnx(model: RNNLM, path: Path, opset: int = OPSET) -> Path:
    """Write ``model`` as a Contract 2 graph to ``path`` (CPU, eval mode)."""
    cell = cell_type(model.config.cell)
    graph = NextWordGraph(model).eval()
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    model.cpu()
    tokens = torch.zeros((2, 3), dtype=torch.long)  # (batch, time); >= 2 keeps axes dynamic
    state = model.init_state(2, "cpu")
    inputs, outputs = signature(model)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the exporter's LSTM-with-batch_first notices
            torch.onnx.export(
                graph,
                (tokens, *state),
                str(path),
                input_names=list(cell.inputs),
                output_names=list(cell.outputs),
                dynamic_axes=dynamic_axes({**inputs, **outputs}),
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    finally:
        model.to(device)
        model.train(was_training)
    return path


def ort_session(path: Path, threads: int = 1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_ort(session, tokens: np.ndarray, state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """(log_probs, *new state) of a Contract 2 graph; ``state`` in the graph's input order."""
    names = [i.name for i in session.get_inputs()]  # tokens, then the state's parts
    feeds = dict(zip(names, (tokens.astype(np.int64), *state)))
    return tuple(session.run(None, feeds))


@dataclass
class ParityReport:
    full_max_diff: float  # ORT one run vs PyTorch, largest |difference|
    step_max_diff: float  # ORT one token at a time vs PyTorch one run
    tolerance: float
    # int8 only: the graph's step-by-step run vs its own full run, the figure checked
    # against ``tolerance`` (the two above are then int8 rounding, not checked)
    quantized_own: float | None = None


def check_parity(
    model: RNNLM, onnx_path: Path, *, quantized: bool = False, seed: int = 0
) -> ParityReport:
    """Compare the graph with PyTorch; raise ``ExportError`` when they differ.

    Uses a non-zero initial state (so the state inputs are exercised), batch 2
    and 9 time steps.  For an int8 graph, compares the graph's step-by-step
    run with its own full run (``QUANT_STEP_ATOL``) and reports the distance
    to PyTorch without failing on it.
    """
    cfg = model.config
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, cfg.vocab_size, (2, 9), generator=gen)  # (batch, time)
    state = tuple(
        0.5 * torch.randn((cfg.num_layers, 2, cfg.hidden_size), generator=gen)
        for _ in cell_type(cfg.cell).states
    )  # each (layers, batch, hidden)
    graph = NextWordGraph(model).eval()
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        expected = [t.cpu().numpy() for t in graph(tokens.to(device), *(s.to(device) for s in state))]
    model.train(was_training)

    session = ort_session(onnx_path)
    np_state = tuple(s.numpy() for s in state)
    full = run_ort(session, tokens.numpy(), np_state)
    step_state = np_state
    for t in range(tokens.shape[1]):
        out = run_ort(session, tokens[:, t : t + 1].numpy(), step_state)
        step_state = out[1:]
    stepped = out

    full_diff = max(float(np.abs(a - b).max()) for a, b in zip(full, expected))
    step_diff = max(float(np.abs(a - b).max()) for a, b in zip(stepped, expected))
    if quantized:
        own = max(float(np.abs(a - b).max()) for a, b in zip(stepped, full))
        if not own <= QUANT_STEP_ATOL:
            raise ExportError(
                f"the int8 graph's step-by-step run differs from its full run by {own:.3g} "
                f"(allowed {QUANT_STEP_ATOL})"
            )
        return ParityReport(full_diff, step_diff, QUANT_STEP_ATOL, own)
    if not (full_diff <= PARITY_ATOL and step_diff <= PARITY_ATOL):
        raise ExportError(
            f"the ONNX graph differs from PyTorch by {max(full_diff, step_diff):.3g} "
            f"(one run {full_diff:.3g}, step by step {step_diff:.3g}; allowed {PARITY_ATOL})"
        )
    return ParityReport(full_diff, step_diff, PARITY_ATOL)


def quantize_onnx(src: Path, dst: Path) -> Path:
    """int8 dynamic quantization (weights int8, activations quantized per call);
    a tied embedding is then stored once (``share_tied_embedding``)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)  # its advice on static quantization does not apply
        try:
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
        finally:
            logging.disable(logging.NOTSET)
    share_tied_embedding(dst)
    return dst


def share_tied_embedding(path: Path) -> bool:
    """Store a quantized tied embedding once; True if the graph was changed.

    Dynamic quantization quantizes the embedding twice: as ``W_quantized``
    (uint8, rows read by the input Gather) and as ``W_Transposed_quantized``
    (int8, the output layer's MatMulInteger weight), 5 MB each for the
    default model.  Here the Gather reads columns of the transposed copy
    instead (Gather axis 1, then Transpose back), dequantized with that
    copy's scale, and the uint8 copy is dropped.
    """
    import onnx
    from onnx import helper

    model = onnx.load(str(path))
    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    changed = False
    for node in list(graph.node):
        if node.op_type != "Gather" or not node.input[0].endswith("_quantized"):
            continue
        base = node.input[0][: -len("_quantized")]
        shared = base + "_Transposed_quantized"
        scale, zero = base + "_scale", base + "_zero_point"
        shared_scale, shared_zero = base + "_Transposed_scale", base + "_Transposed_zero_point"
        if not all(name in inits for name in (shared, scale, zero, shared_scale, shared_zero)):
            continue
        if any(node.input[0] in n.input for n in graph.node if n is not node):
            continue  # the uint8 copy has other readers: it stays
        users = [n for n in graph.node if node.output[0] in n.input]
        dequantizers = [n for n in graph.node if n.op_type == "DequantizeLinear" and scale in n.input]
        if len(users) != 1 or users[0].op_type not in ("Transpose", "DequantizeLinear") or not dequantizers:
            continue  # not the pattern this rewrites
        columns = node.output[0] + "_columns"
        at = list(graph.node).index(node)
        graph.node.remove(node)
        graph.node.insert(at, helper.make_node(
            "Gather", [shared, node.input[1]], [columns], name=node.name + "_columns", axis=1))
        graph.node.insert(at + 1, helper.make_node(  # (dim, batch, time) -> (batch, time, dim)
            "Transpose", [columns], [node.output[0]], name=node.name + "_rows", perm=[1, 2, 0]))
        for n in dequantizers:
            n.input[1], n.input[2] = shared_scale, shared_zero
        for name in (node.input[0], scale, zero):
            if not any(name in n.input for n in graph.node):
                graph.initializer.remove(inits[name])
        changed = True
    if changed:
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
    return changed


def ort_score(onnx_path: Path, ids: np.ndarray, *, streams: int = 16, max_tokens: int = 20_000,
              num_layers: int, hidden_size: int, cell: str) -> dict[str, float]:
    """Perplexity and top-1 of a graph on ``ids``, fed one token at a time with
    the state fed back (the graph gives log-probs after the last position only)."""
    ids = np.asarray(ids[: max_tokens + 1], dtype=np.int64)
    streams = max(1, min(streams, (len(ids) - 1) // 2))
    length = (len(ids) - 1) // streams
    if length < 1:
        return {"perplexity": float("nan"), "top1": float("nan"), "tokens": 0}
    x = ids[: streams * length].reshape(streams, length)  # (streams, length)
    y = ids[1 : streams * length + 1].reshape(streams, length)  # (streams, length)
    session = ort_session(onnx_path)
    state = zero_state(cell_type(cell), num_layers, hidden_size, streams)
    nll, hits = 0.0, 0
    for t in range(length):
        log_probs, *state = run_ort(session, x[:, t : t + 1], tuple(state))  # (streams, vocab)
        nll -= float(log_probs[np.arange(streams), y[:, t]].sum())
        hits += int((log_probs.argmax(-1) == y[:, t]).sum())
    n = streams * length
    return {"perplexity": float(np.exp(min(nll / n, 50.0))), "top1": hits / n, "tokens": n}


def model_manifest(model: RNNLM, *, quantized: bool) -> dict[str, Any]:
    c = model.config
    return {
        "cell": c.cell,
        "vocab_size": c.vocab_size,
        "embedding_dim": c.embedding_dim,
        "hidden_size": c.hidden_size,
        "num_layers": c.num_layers,
        "projection_dim": c.projection_dim,
        "tied": c.tied,
        "dropout": c.dropout,
        "parameters": count_parameters(model),
        "quantized": quantized,
    }


def onnx_manifest(model: RNNLM) -> dict[str, Any]:
    inputs, outputs = signature(model)
    return {"file": ONNX_FILE, "opset": OPSET, "inputs": inputs, "outputs": outputs}


def json_clean(value: Any) -> Any:
    """NaN and infinities become None: the manifest must be strict JSON."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_clean(v) for v in value]
    return value


def build_manifest(
    model: RNNLM,
    vocab: Vocabulary,
    *,
    name: str,
    min_count: int,
    quantized: bool,
    tokenizer: TokenizerSettings | None = None,
    corpus: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "format": BUNDLE_FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tokenizer": (tokenizer or TokenizerSettings()).to_dict(),
        "model": model_manifest(model, quantized=quantized),
        "onnx": onnx_manifest(model),
        "vocab": {"file": VOCAB_FILE, "size": len(vocab), "min_count": min_count},
        "files": {},
        "corpus": json_clean(corpus or {}),
        "training": json_clean(training or {}),
        "metrics": json_clean(metrics or {}),
    }


def format_quantization(report: dict[str, Any]) -> str:
    text = (f"int8 quantization: model {report['fp32_bytes'] / 1e6:.1f} MB -> "
            f"{report['int8_bytes'] / 1e6:.1f} MB")
    if "tokens" in report:
        text += (f"; held-out perplexity {report['fp32_perplexity']:.2f} -> "
                 f"{report['int8_perplexity']:.2f}, top-1 {report['fp32_top1']:.1%} -> "
                 f"{report['int8_top1']:.1%} ({report['tokens']:,} tokens, onnxruntime)")
    return text


def quantization_report(model: RNNLM, fp32: Path, int8: Path, ids: np.ndarray | None) -> dict[str, Any]:
    cfg = model.config
    report: dict[str, Any] = {"fp32_bytes": fp32.stat().st_size, "int8_bytes": int8.stat().st_size}
    if ids is not None and len(ids) > 4:
        shape = dict(num_layers=cfg.num_layers, hidden_size=cfg.hidden_size, cell=cfg.cell)
        before, after = ort_score(fp32, ids, **shape), ort_score(int8, ids, **shape)
        report.update({
            "tokens": before["tokens"],
            "fp32_perplexity": round(before["perplexity"], 3), "int8_perplexity": round(after["perplexity"], 3),
            "fp32_top1": round(before["top1"], 4), "int8_top1": round(after["top1"], 4),
        })
    return report


def _validate_bundle_graph(model: RNNLM, reference: np.ndarray, tokens: np.ndarray, atol: float):
    """``write_bundle``'s check: the written graph opens and predicts as exported."""

    def validate(folder: Path) -> None:
        session = ort_session(folder / ONNX_FILE)
        inputs = [i.name for i in session.get_inputs()]
        outputs = [o.name for o in session.get_outputs()]
        cell = cell_type(model.config.cell)
        if inputs != list(cell.inputs) or outputs != list(cell.outputs):
            raise ExportError(f"the graph's inputs/outputs are {inputs} -> {outputs}")
        state = zero_state(cell, model.config.num_layers, model.config.hidden_size)
        log_probs = run_ort(session, tokens, state)[0]  # (1, vocab)
        if log_probs.shape != reference.shape or not np.allclose(log_probs, reference, atol=atol):
            raise ExportError("the written graph does not reproduce the exported one")

    return validate


@dataclass
class ExportResult:
    bundle: Path
    parity: ParityReport
    onnx_bytes: int
    fp32_bytes: int
    manifest: dict[str, Any]  # as written (checksums aside)


def phrases_entry(phrases: Phrases, file: str = PHRASES_FILE) -> dict[str, Any]:
    """The manifest's ``phrases`` (or ``user_phrases``) field: the file and its entries per order."""
    return {"file": file, "entries": {str(o): len(t) for o, t in sorted(phrases.tables.items())}}


def _save_tables(tables, path: Path, compressed: bool) -> None:
    """Write ``tables`` (``Phrases`` or streaming's ``SpilledPhrases``, which write the stored
    form a chunk at a time) to ``path``, then compressed if asked."""
    tables.save(path)
    if compressed:
        compress_file(path)


def export_bundle(
    model: RNNLM,
    vocab: Vocabulary,
    out: Path,
    *,
    manifest: dict[str, Any],
    quantize: bool = False,
    metrics_hook: Callable[[Path], dict[str, Any]] | None = None,
    heldout_ids: np.ndarray | None = None,
    lexicon: Lexicon | None = None,
    phrases: Phrases | None = None,
    user_phrases: Phrases | None = None,
    tune_hook: Callable[[Path], PhraseSettings | None] | None = None,
    inputs: tuple | list = (),
    compress_phrases: bool = False,
) -> ExportResult:
    """Export, check, optionally quantize, and write the bundle atomically to ``out``.

    ``lexicon``, when given, goes in as ``lexicon.json`` (the corpus's words
    beyond the vocabulary), and ``phrases`` as ``phrases.npz`` (its word pairs
    and triples).  ``user_phrases``, for a fine-tuned model, goes in as
    ``user_phrases.npz`` (the new corpus's own pairs and triples), with the
    weights ``tune_hook(folder)`` returns for them (called first with a complete,
    validated copy; None keeps ``USER_PHRASE_DEFAULTS``).  ``inputs`` are the
    corpus paths ``out`` may not overlap (``staging.check_destination``).
    ``compress_phrases``: both tables compressed (``phrases.compress_file``), not
    stored for memory-mapping.

    ``manifest`` comes from ``build_manifest`` (its ``model.quantized`` is set
    here).  ``metrics_hook(folder)``, when given, is called with a complete,
    validated copy of the bundle (for metrics measured through the engine);
    what it returns is merged into the manifest's ``metrics`` before the
    bundle is written to ``out``.  With ``quantize``, the int8 graph's size and
    accuracy change (perplexity and top-1 through onnxruntime on up to 20k
    ``heldout_ids``, against the fp32 graph) are logged and recorded in the
    manifest's ``metrics.quantization``.
    """
    out = Path(out)
    # Staged beside ``out`` (not in the system's temporary folder): on the
    # disk the bundle will live on, under a name ``staging.recover`` removes
    # if this process is killed, and with errors told in terms of ``out``.
    check_destination(out, inputs=inputs)
    with write_errors(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = make_folder(out, "export")
    try:
        return _export_staged(model, vocab, out, tmp_dir, manifest=manifest, quantize=quantize,
                              metrics_hook=metrics_hook, heldout_ids=heldout_ids, lexicon=lexicon,
                              phrases=phrases, user_phrases=user_phrases, tune_hook=tune_hook, inputs=inputs,
                              compress_phrases=compress_phrases)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _export_staged(model, vocab, out: Path, tmp_dir: Path, *, manifest, quantize, metrics_hook, heldout_ids,
                   lexicon, phrases, user_phrases, tune_hook, inputs, compress_phrases=False) -> ExportResult:
    """``export_bundle`` once its staging folder is made (errors told in terms of ``out``)."""
    with write_errors(out, tmp_dir):
        fp32 = export_onnx(model, tmp_dir / "model.fp32.onnx")
        fault_point("export.graph-written")
        parity = check_parity(model, fp32)
        log.info(
            "ONNX parity: one run %.2g, step by step %.2g (tolerance %g)",
            parity.full_max_diff, parity.step_max_diff, parity.tolerance,
        )
        onnx_file = fp32
        if quantize:
            onnx_file = quantize_onnx(fp32, tmp_dir / "model.int8.onnx")
            parity = check_parity(model, onnx_file, quantized=True)
            report = quantization_report(model, fp32, onnx_file, heldout_ids)
            manifest = copy.deepcopy(manifest)
            manifest["metrics"]["quantization"] = report
        vocab_file = tmp_dir / VOCAB_FILE
        vocab.save(vocab_file)
        manifest = copy.deepcopy(manifest)
        manifest["model"]["quantized"] = quantize

        cfg = model.config
        tokens = np.array([[1] + [i % cfg.vocab_size for i in range(5, 9)]], np.int64)  # (1, 5)
        zeros = zero_state(cell_type(cfg.cell), cfg.num_layers, cfg.hidden_size)
        reference = run_ort(ort_session(onnx_file), tokens, zeros)[0]  # (1, vocab)
        validate = _validate_bundle_graph(model, reference, tokens, 1e-5)
        files = {ONNX_FILE: onnx_file, VOCAB_FILE: vocab_file}
        if lexicon is not None:
            lexicon.save(tmp_dir / LEXICON_FILE)
            files[LEXICON_FILE] = tmp_dir / LEXICON_FILE
            manifest["lexicon"] = {"file": LEXICON_FILE, "words": len(lexicon)}
        if phrases is not None:
            _save_tables(phrases, tmp_dir / PHRASES_FILE, compress_phrases)
            files[PHRASES_FILE] = tmp_dir / PHRASES_FILE
            manifest["phrases"] = phrases_entry(phrases)
        if user_phrases is not None:
            _save_tables(user_phrases, tmp_dir / USER_PHRASES_FILE, compress_phrases)
            files[USER_PHRASES_FILE] = tmp_dir / USER_PHRASES_FILE
            manifest["user_phrases"] = {**phrases_entry(user_phrases, USER_PHRASES_FILE),
                                        "weights": USER_PHRASE_DEFAULTS.to_dict()}
        staged = None
        if tune_hook is not None and user_phrases is not None:
            staged = write_bundle(tmp_dir / "staged", manifest, files, validate)
            tuned = tune_hook(staged)
            if tuned is not None:
                manifest["user_phrases"]["weights"] = tuned.to_dict()
                staged = None  # the manifest changed: stage it again
        if metrics_hook is not None:
            staged = staged or write_bundle(tmp_dir / "staged", manifest, files, validate)
            manifest["metrics"].update(metrics_hook(staged))
        write_bundle(out, manifest, files, validate, inputs=inputs)
        return ExportResult(Path(out), parity, onnx_file.stat().st_size, fp32.stat().st_size, manifest)
