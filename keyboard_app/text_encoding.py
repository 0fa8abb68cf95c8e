"""What the first bytes of a file say about its text: one rule for the editor, which
opens such a file (``ui.documents``), and the trainer, which asks for it as UTF-8
(``model_training.corpus``), so the two never read the same file two ways."""

from __future__ import annotations


def utf16_without_mark(head: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` where ``head`` looks like text in the Latin script
    saved as UTF-16 without a byte-order mark (as some Windows programs write it): nearly
    every other byte zero, the bytes between nearly never; None otherwise."""
    if len(head) < 8:
        return None
    half = len(head) // 2
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if even <= 0.02 * half and odd >= 0.8 * half:
        return "utf-16-le"
    if odd <= 0.02 * half and even >= 0.8 * half:
        return "utf-16-be"
    return None
