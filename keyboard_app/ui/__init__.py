"""The Qt desktop app: widgets over the engine (which never imports Qt).

Importing this package applies one guard (see ``_reserve_none_references``).
"""

from __future__ import annotations

import sys


def _reserve_singleton_references() -> None:
    """Work around PySide6 6.12 taking references from ``None``, ``True`` and ``False``.

    Its abi3 wheels return these singletons without a new reference -- ``None``
    from every void method (``setText``, ``processEvents``, ...), a bool from
    every ``Signal.emit`` -- which is harmless where they are immortal
    (Python 3.12+) but on Python 3.11 removes one reference per call: after
    some ten thousand calls -- a few minutes of typing -- the interpreter
    aborts ("none_dealloc", "bool_dealloc") and unsaved text is lost.  The
    singletons are static objects that are never freed, so giving them a huge
    reserve of references is harmless and makes the count unreachable.  The
    real fix is a PySide6 without the bug (6.11.x is fine).
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    if hasattr(sys, "gettotalrefcount"):  # a debug build lays PyObject out differently
        return
    try:
        import PySide6

        version = tuple(int(part) for part in PySide6.__version__.split(".")[:2])
    except (ImportError, ValueError):
        return
    if version < (6, 12):
        return
    import ctypes

    # ob_refcnt is the first field of every PyObject in a release build.
    for singleton in (None, True, False, NotImplemented, Ellipsis):
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 48


_reserve_singleton_references()
