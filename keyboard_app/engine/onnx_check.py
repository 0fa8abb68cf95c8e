"""What the engine checks in an ONNX file before onnxruntime opens it.

An ONNX tensor may keep its bytes in another file ("external data"), named by
a relative path inside the model file.  A bundle's graph may only name plain
files of its own bundle that the manifest lists (so they are checksummed);
anything else, ``../../etc/passwd`` or an absolute path, is refused before
onnxruntime would read it.

The ``onnx`` package is not part of the app, so this walks the protobuf wire
format itself: only the messages that can hold tensors are descended into,
and tensor payloads are skipped by their length, never copied.
"""

from __future__ import annotations

from typing import Iterator

# Field numbers from onnx.proto3 (message -> field -> what it holds).
_MODEL_GRAPH, _MODEL_FUNCTIONS = 7, 25
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_SPARSE_INITIALIZER = 1, 5, 15
_FUNCTION_NODE = 7
_NODE_ATTRIBUTE = 5
_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS = 5, 6, 10, 11
_ATTR_SPARSE_TENSOR, _ATTR_SPARSE_TENSORS = 22, 23
_SPARSE_VALUES, _SPARSE_INDICES = 1, 2
_TENSOR_NAME, _TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION = 8, 13, 14
_ENTRY_KEY, _ENTRY_VALUE = 1, 2
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL
_MAX_DEPTH = 64  # nested subgraphs (If/Loop bodies); a real graph has a few


class OnnxFormatError(ValueError):
    """The file is not a well-formed protobuf message."""


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise OnnxFormatError("a number runs past the end of the file")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise OnnxFormatError("a number is too long")


def _fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) of one message; length-delimited values as views."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = 0, pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise OnnxFormatError("a field runs past the end of the file")
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = 0, pos + 4
        else:
            raise OnnxFormatError(f"unknown protobuf wire type {wire}")
        if pos > len(buf):
            raise OnnxFormatError("a field runs past the end of the file")
        yield number, wire, value


def _text(view: memoryview) -> str:
    return bytes(view).decode("utf-8", errors="replace")


def _tensor_locations(buf: memoryview) -> Iterator[tuple[str, str]]:
    name, location, external = "", None, False
    for number, wire, value in _fields(buf):
        if wire == 2 and number == _TENSOR_NAME:
            name = _text(value)
        elif wire == 2 and number == _TENSOR_EXTERNAL_DATA:
            entry = {k: v for k, _, v in _fields(value) if isinstance(v, memoryview)}
            if _text(entry.get(_ENTRY_KEY, memoryview(b""))) == "location":
                location = _text(entry.get(_ENTRY_VALUE, memoryview(b"")))
        elif wire == 0 and number == _TENSOR_DATA_LOCATION:
            external = value == _EXTERNAL
    if external or location is not None:
        yield name, location or ""


def _sparse_locations(buf: memoryview) -> Iterator[tuple[str, str]]:
    for number, wire, value in _fields(buf):
        if wire == 2 and number in (_SPARSE_VALUES, _SPARSE_INDICES):
            yield from _tensor_locations(value)


def _node_locations(buf: memoryview, depth: int) -> Iterator[tuple[str, str]]:
    for number, wire, attr in _fields(buf):
        if wire != 2 or number != _NODE_ATTRIBUTE:
            continue
        for field, kind, value in _fields(attr):
            if kind != 2:
                continue
            if field in (_ATTR_T, _ATTR_TENSORS):
                yield from _tensor_locations(value)
            elif field in (_ATTR_SPARSE_TENSOR, _ATTR_SPARSE_TENSORS):
                yield from _sparse_locations(value)
            elif field in (_ATTR_G, _ATTR_GRAPHS):
                yield from _graph_locations(value, depth + 1)


def _graph_locations(buf: memoryview, depth: int) -> Iterator[tuple[str, str]]:
    if depth > _MAX_DEPTH:
        raise OnnxFormatError("subgraphs are nested too deeply")
    for number, wire, value in _fields(buf):
        if wire != 2:
            continue
        if number == _GRAPH_INITIALIZER:
            yield from _tensor_locations(value)
        elif number == _GRAPH_SPARSE_INITIALIZER:
            yield from _sparse_locations(value)
        elif number == _GRAPH_NODE:
            yield from _node_locations(value, depth)


def external_data_locations(model_bytes: bytes) -> list[tuple[str, str]]:
    """(tensor name, location) of every tensor stored outside the model file.

    Raises ``OnnxFormatError`` when the bytes are not a protobuf message.
    """
    buf = memoryview(model_bytes)
    found: list[tuple[str, str]] = []
    for number, wire, value in _fields(buf):
        if wire != 2:
            continue
        if number == _MODEL_GRAPH:
            found.extend(_graph_locations(value, 0))
        elif number == _MODEL_FUNCTIONS:
            for field, kind, node in _fields(value):
                if kind == 2 and field == _FUNCTION_NODE:
                    found.extend(_node_locations(node, 0))
    return found
