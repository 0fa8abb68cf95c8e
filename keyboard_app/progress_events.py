"""The trainer's progress lines: one definition, written by the trainer and read by the app.

``keyboard-train --progress-json`` writes one JSON object per line on
standard output, and the retrain dialog reads them from the process it
started.  Both sides use the dataclasses here: the trainer builds one and
writes ``to_line()`` (``model_training.progress``), the app calls
``parse_line()`` and gets the same dataclass back.  A field renamed on one
side therefore fails a test instead of quietly becoming ``None`` on the
other, which is what loose dicts and ``event.get("loss")`` allowed.  This
module imports neither torch nor Qt: the app may import it, and so may the
trainer.

Reading is lenient where the format promises it: fields a later trainer
adds are ignored, and a number the trainer could not write as JSON (NaN,
infinity) arrives as ``null``, which is ``None`` here.  It is strict
elsewhere: a line that is not a JSON object, names an event this version
does not know, lacks a field or holds one of the wrong type raises
``ProgressLineError``, one sentence the reader logs before it skips the
line.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

SHOWN_CHARS = 80  # of a bad line, quoted in the message


class ProgressLineError(ValueError):
    """A progress line that cannot be read; the message is one sentence quoting it."""


@dataclass(frozen=True)
class ProgressEvent:
    """One line of progress; ``EVENT`` is its ``"event"`` field."""

    EVENT: ClassVar[str] = ""

    def fields(self) -> dict[str, Any]:
        """The line's fields besides ``"event"``, in the order they are written."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"event": self.EVENT}
        for key, value in self.fields().items():
            record[key] = _json_clean(value)
        return record

    def to_line(self) -> str:
        """The JSON line, without its newline (JSON has no NaN or infinity: they are null)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_fields(cls, fields: dict[str, Any], shown: str) -> "ProgressEvent":
        """The event from a line's fields, each checked against its declared type."""
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):
            if f.name not in fields:
                raise ProgressLineError(f"progress line {shown}: the {cls.EVENT!r} event lacks {f.name!r}.")
            values[f.name] = _checked(fields[f.name], hints[f.name], f.name, shown)
        return cls(**values)


@dataclass(frozen=True)
class Start(ProgressEvent):
    """The corpus was found."""

    EVENT: ClassVar[str] = "start"
    files: int
    bytes: int


@dataclass(frozen=True)
class Skipped(ProgressEvent):
    """A file of the corpus left out, one line each, right after ``start``: ``kind`` a
    word or two ("binary", "unreadable", "link loop"; ``model_training.corpus.SKIP_KINDS``),
    ``reason`` the trainer's warning."""

    EVENT: ClassVar[str] = "skipped"
    path: str
    kind: str
    reason: str


@dataclass(frozen=True)
class Decoded(ProgressEvent):
    """A corpus file that is not UTF-8, read as ``encoding`` ("Windows-1252" or "Latin-1"),
    one line each, right after ``start``: its accented letters may not be what the user
    wrote if it was saved in yet another encoding."""

    EVENT: ClassVar[str] = "encoding"
    path: str
    encoding: str


@dataclass(frozen=True)
class Reading(ProgressEvent):
    """After each corpus file, in the passes over the text ("count", "encode", then "phrases":
    the word pairs and triples counted, unless an earlier run's were kept)."""

    EVENT: ClassVar[str] = "reading"
    bytes: int
    total: int
    phase: str


@dataclass(frozen=True)
class Training(ProgressEvent):
    """About twice a second while training: ``tokens`` seen of the ``total`` planned (which
    may shrink under a time budget), the smoothed loss in nats, the seconds left."""

    EVENT: ClassVar[str] = "progress"
    tokens: int
    total: int
    loss: float | None
    tokens_per_s: float | None
    eta_s: float | None


@dataclass(frozen=True)
class Epoch(ProgressEvent):
    """After each validation (``epoch`` may be fractional)."""

    EVENT: ClassVar[str] = "epoch"
    epoch: float
    val_ppl: float | None
    train_loss: float | None
    step: int


@dataclass(frozen=True)
class Tuning(ProgressEvent):
    """Fine-tuning only: the weights of the user's own phrase tables being chosen on
    held-out text, after each of ``total`` scorings."""

    EVENT: ClassVar[str] = "tuning"
    step: int
    total: int


@dataclass(frozen=True)
class Evaluating(ProgressEvent):
    """Keystroke savings being measured on held-out text."""

    EVENT: ClassVar[str] = "evaluating"
    words: int
    total: int


@dataclass(frozen=True)
class Metrics(ProgressEvent):
    """The held-out metrics recorded in the manifest (its ``metrics`` object, whose
    fields are the line's own: they are the manifest's, not listed twice)."""

    EVENT: ClassVar[str] = "metrics"
    values: dict[str, Any]

    def fields(self) -> dict[str, Any]:
        return dict(self.values)

    @classmethod
    def from_fields(cls, fields: dict[str, Any], shown: str) -> "Metrics":
        return cls(values=dict(fields))


@dataclass(frozen=True)
class Done(ProgressEvent):
    """The bundle is written and validated; the last line of a successful run."""

    EVENT: ClassVar[str] = "done"
    bundle: str
    metrics: dict[str, Any]


@dataclass(frozen=True)
class Cancelled(ProgressEvent):
    """Stopped by a signal; no bundle was written."""

    EVENT: ClassVar[str] = "cancelled"
    checkpoint: str | None
    signal: str


@dataclass(frozen=True)
class Error(ProgressEvent):
    """The run failed; the same sentence is on standard error."""

    EVENT: ClassVar[str] = "error"
    message: str


EVENTS: dict[str, type[ProgressEvent]] = {
    cls.EVENT: cls
    for cls in (Start, Skipped, Decoded, Reading, Training, Epoch, Tuning, Evaluating, Metrics, Done, Cancelled, Error)
}


def make(event: str, **fields: Any) -> ProgressEvent:
    """The event named ``event`` (the trainer's ``Progress.emit``); a name or field this
    module does not define is a ``TypeError``: a mistake in the trainer, not in its input."""
    cls = EVENTS.get(event)
    if cls is None:
        raise TypeError(f"no progress event is called {event!r}")
    if cls is Metrics:
        return Metrics(values=fields)
    return cls(**fields)


def from_dict(record: Any, shown: str | None = None) -> ProgressEvent:
    """The event a parsed JSON line holds; ``ProgressLineError`` if it holds none."""
    shown = shown if shown is not None else _show(json.dumps(record, default=str))
    if not isinstance(record, dict):
        raise ProgressLineError(f"progress line {shown}: not a JSON object.")
    name = record.get("event")
    cls = EVENTS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ProgressLineError(f"progress line {shown}: unknown event {name!r}.")
    return cls.from_fields({k: v for k, v in record.items() if k != "event"}, shown)


def parse_line(line: str | bytes) -> ProgressEvent:
    """One line of ``--progress-json`` output as its event; ``ProgressLineError`` (one
    sentence quoting the line) when it is not one this version can read."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    line = line.strip()
    shown = _show(line)
    try:
        record = json.loads(line)
    except ValueError:
        raise ProgressLineError(f"progress line {shown}: not JSON.") from None
    return from_dict(record, shown)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(line: str) -> str:
    return repr(_shorten(line, SHOWN_CHARS))


def _json_clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_clean(v) for v in value]
    return value


def _checked(value: Any, hint: Any, name: str, shown: str) -> Any:
    """``value`` as the type ``hint`` declares (an int is a float too), or the sentence."""
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType)  # "float | None"
    base = next(a for a in typing.get_args(hint) if a is not type(None)) if optional else hint
    base = typing.get_origin(base) or base  # dict[str, Any] -> dict
    if value is None and optional:
        return None
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if base is float and is_number:
        return float(value)
    if base is int and is_number and float(value).is_integer():
        return int(value)
    if base in (str, dict) and isinstance(value, base):
        return value
    what = {int: "a whole number", float: "a number", str: "a string", dict: "an object"}[base]
    raise ProgressLineError(
        f"progress line {shown}: {name!r} should be {what}{' or null' if optional else ''}, "
        f"not {_shorten(json.dumps(value, default=str), SHOWN_CHARS // 2)}."
    )
