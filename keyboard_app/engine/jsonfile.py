"""The one place every JSON file we read is parsed: bounded in size, depth and numbers.

Manifests, vocabularies, lexicons, settings, learned counts and the model
index all come from disk, where a crash, a full disk, a hostile download or a
curious user may have left anything.  Python's ``json`` module accepts much
that our readers then trip over with a traceback: a 5,000-digit integer
(``ValueError`` past Python's digit limit, or an ``OverflowError`` when it
reaches Qt), ``1e400`` (infinity), ``NaN``, or ``[[[[...]]]]`` nested deeper
than the interpreter's recursion limit (``RecursionError``).  ``loads`` and
``load`` refuse all of these with a ``JSONFileError`` whose message is one
clause the caller puts after the file's name: ``f"{path}: {e}."``.

The limits are far beyond anything we write: our files nest at most four
levels and hold counts below 2**63.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

MAX_DEPTH = 32  # our files nest at most four levels
MAX_INT_DIGITS = 19  # int64
MAX_BYTES = 256 * 1024**2  # a vocabulary of a million words is ~40 MB
_LONG_DIGITS = re.compile(r"\d{%d}" % (MAX_INT_DIGITS + 1))
_ALL_DIGITS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_ZEROS = b"0" * (MAX_INT_DIGITS + 1)


def _long_digit_run(data: bytes) -> bool:
    """Whether ``data`` holds more than ``MAX_INT_DIGITS`` ASCII digits in a row (what
    ``_LONG_DIGITS`` finds in JSON's numbers, which are ASCII), in a millisecond where the
    regex takes 40 on a lexicon."""
    return _LONG_ZEROS in data.translate(_ALL_DIGITS_ZERO)


class JSONFileError(ValueError):
    """A JSON file cannot be used; the message says why, without the path."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONFileError(f"it holds an integer of {len(text)} digits")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONFileError(f"it holds a number out of range ({text[:20]})")
    return value


def _parse_constant(name: str) -> float:
    raise JSONFileError(f"it holds {name}, which is not a number")


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text within our limits; ``JSONFileError`` otherwise."""
    long_digits = None
    if isinstance(text, bytes):
        long_digits = _long_digit_run(text)
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise JSONFileError(f"it is not UTF-8 text (a byte at offset {e.start} is invalid)") from None
    if "\x00" in text:
        raise JSONFileError("it is not JSON text (it holds NUL bytes)")
    try:
        # Checking every integer costs 3x the parse of a vocabulary: only where
        # the text holds a run of digits long enough to matter (inside a string
        # too, which is then a harmless false alarm).
        if long_digits is None:
            long_digits = _LONG_DIGITS.search(text) is not None
        parse_int = _parse_int if long_digits else None
        data = json.loads(
            text, parse_int=parse_int, parse_float=_parse_float, parse_constant=_parse_constant
        )
    except JSONFileError:
        raise
    except RecursionError:
        raise JSONFileError(f"it is nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as e:
        # ("Unterminated string starting at": the position follows in Python's own message)
        where = f"line {e.lineno}, column {e.colno}"
        raise JSONFileError(f"it is not valid JSON ({e.msg.removesuffix(' at')} at {where})") from None
    except ValueError as e:  # Python's own integer-digit limit, and the like
        raise JSONFileError(f"it is not valid JSON ({e})") from None
    # The walk costs as much as the parse of a vocabulary; a text with few
    # brackets cannot nest deeply (brackets inside strings only overcount).
    if text.count("[") + text.count("{") > max_depth and _depth(data) > max_depth:
        raise JSONFileError(f"it is nested more than {max_depth} levels deep")
    return data


def load(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Read and parse a JSON file within our limits.

    Raises ``JSONFileError`` for content we refuse and ``OSError`` when the
    file cannot be read at all (missing, unreadable, a folder).
    """
    path = Path(path)
    info = path.stat()
    if stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode) or stat.S_ISSOCK(info.st_mode):
        raise JSONFileError("it is not a regular file (a pipe, a device or a socket)")  # would block or never end
    size = info.st_size
    if size > max_bytes:
        raise JSONFileError(f"it is {size / 1e6:.0f} MB, more than the {max_bytes / 1e6:.0f} MB allowed")
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while we looked
        raise JSONFileError(f"it is larger than the {max_bytes / 1e6:.0f} MB allowed")
    return loads(data, max_depth=max_depth)
