"""Checks of the values read from the app's settings files, one field at a time.

Each check takes a value parsed from JSON and returns the value to use
(perhaps clamped into range) or raises ``ValueError`` with a clause that
completes "NAME=VALUE ..." in the log.  ``checked_fields`` applies a table
of them to a dataclass's fields: a field that fails keeps its default, the
others are kept.  Used by the editor's settings (``settings.py``) and the
on-screen keyboard's (``osk/settings.py``).
"""

from __future__ import annotations

import logging
from dataclasses import fields
from typing import Any, Callable

log = logging.getLogger(__name__)

Check = Callable[[Any], Any]


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("is not true or false")
    return value


def text(limit: int) -> Callable[[Any], str]:
    """A string of at most ``limit`` characters, without NUL."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("is not text")
        if len(value) > limit or "\x00" in value:
            raise ValueError("is not a usable value")
        return value

    return check


def choice(*allowed: Any) -> Check:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or value not in allowed:
            raise ValueError(f"is not one of {', '.join(map(str, allowed))}")
        return value

    return check


def clamped(low: int, high: int, *, fractions: bool = False) -> Callable[[Any], int]:
    """A whole number (or, with ``fractions``, any number, rounded) clamped into [low, high]."""

    def check(value: Any) -> int:
        kinds = (int, float) if fractions else (int,)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ValueError("is not a number" if fractions else "is not a whole number")
        return max(low, min(high, int(round(value))))

    return check


def checked_fields(cls: type, data: dict[str, Any], checks: dict[str, Check], what: str) -> dict[str, Any]:
    """The fields of dataclass ``cls`` found in ``data`` that pass ``checks``, as
    keyword arguments; each that fails or is clamped is logged (``what``: "settings")."""
    defaults, values = cls(), {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value, default = data[f.name], getattr(defaults, f.name)
        try:
            values[f.name] = checks[f.name](value)
        except ValueError as e:
            log.warning("%s: %s=%.60r %s; using %r", what, f.name, value, e, default)
            continue
        if values[f.name] != value:
            log.warning("%s: %s=%.60r cannot be used as it is; using %.60r", what, f.name, value, values[f.name])
    return values
