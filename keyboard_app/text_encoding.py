"""What the first bytes of a file say about its text: one rule for the editor, which
opens such a file (``ui.documents``), and the trainer, which asks for it as UTF-8
(``model_training.corpus``), so the two never read the same file two ways.

``mostly_controls`` is the trainer's test for binary data in a file that is not UTF-8
(which it reads as Windows-1252); ``decode``, the editor's and keyboard-eval's reading of a
whole file, still counts bytes 0x80-0x9F as control characters, as Latin-1 has them."""

from __future__ import annotations

#: More control characters than this share of a file's start, read byte for byte, and it is
#: not prose (an image, an archive, a program) but binary data, even without a NUL byte.
MAX_CONTROL_SHARE = 0.05
SNIFF_BYTES = 64 * 1024  # the start of the file decides whether it is text (``decode``)


class NotTextError(ValueError):
    """The bytes are not a text file; the message completes "NAME ..."."""


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


def mostly_controls(head: bytes) -> bool:
    """Whether ``head``, the start of a file that is not UTF-8, holds more than
    ``MAX_CONTROL_SHARE`` control bytes (C0 but tab, line and form feeds; DEL; and the
    five bytes Windows-1252 leaves undefined, not the curly quotes and dashes it puts
    in 0x80-0x9F, which a text saved on Windows is full of): then it is binary data,
    which no single-byte encoding makes prose."""
    controls = sum(head.count(bytes([b])) for b in CONTROL_BYTES)
    return bool(head) and controls / len(head) > MAX_CONTROL_SHARE


CONTROL_BYTES = bytes([*range(0x20), 0x7F, 0x81, 0x8D, 0x8F, 0x90, 0x9D]).translate(None, b"\t\n\r\f")


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with; ``NotTextError`` for binary data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:SNIFF_BYTES]:
        wide = utf16_without_mark(data[:SNIFF_BYTES])
        if wide is not None:
            try:
                return data.decode(wide), wide
            except UnicodeDecodeError:
                pass
        raise NotTextError("is not a text file (it holds binary data)")
    try:
        return data.decode("utf-8-sig"), ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError:
        pass
    head = data[:SNIFF_BYTES].decode("latin-1")
    controls = sum(1 for c in head if (c < " " and c not in "\t\n\r\f") or "\x7f" <= c < "\xa0")
    if head and controls / len(head) > MAX_CONTROL_SHARE:
        raise NotTextError("is not a text file (it holds binary data)")
    return data.decode("latin-1"), "latin-1"
