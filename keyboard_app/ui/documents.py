"""Reading and writing the user's text files: encodings and file modes.

``decode`` reads UTF-8 (with or without a byte-order mark), UTF-16 with a
byte-order mark, and otherwise Latin-1, which any byte sequence is; a file
that is not text at all (NUL bytes, or mostly control characters: an image,
an archive, a program) is refused with ``NotTextError`` instead of being
shown as gibberish.  A file read as anything but UTF-8 is written back the
same way only when the user says so (``ask_encoding``): an editor that
silently converts a file changes it for every other program that reads it.

``new_file_mode`` is what ``open(path, "w")`` would give a new file under
the user's umask (0644 with the common 022), not the 0600 of a temporary
file.
"""

from __future__ import annotations

import os
import sys
import threading

from PySide6.QtWidgets import QMessageBox, QWidget

UTF8 = ("utf-8", "utf-8-sig")
SNIFF_BYTES = 64 * 1024  # the start of the file decides whether it is text
MAX_CONTROL_SHARE = 0.05  # more control characters than this, and it is not prose
_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (with a byte-order mark)", "utf-16": "UTF-16",
           "latin-1": "Latin-1 (ISO 8859-1)"}
_umask_lock = threading.Lock()


class NotTextError(ValueError):
    """The bytes are not a text file; the message completes "NAME ..."."""


def label(encoding: str) -> str:
    return _LABELS.get(encoding, encoding)


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with; ``NotTextError`` for binary data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:SNIFF_BYTES]:
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


def fits(text: str, encoding: str) -> bool:
    """Whether ``text`` can be written in ``encoding`` without losing a character."""
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def new_file_mode() -> int:
    """The mode a new file gets under the process's umask (0o666 less the umask)."""
    if sys.platform == "win32":
        return 0o666
    with _umask_lock:  # reading the umask means setting it: keep the window short
        umask = os.umask(0o077)
        os.umask(umask)
    return 0o666 & ~umask


def ask_encoding(parent: QWidget, name: str, encoding: str, keeps_text: bool) -> str | None:
    """Ask how to save a file read as ``encoding``: that encoding, UTF-8, or not at all (None)."""
    box = QMessageBox(parent)
    box.setObjectName("encodingBox")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Keep the File's Encoding?")
    what = label(encoding)
    short = what.split(" ")[0]  # "Latin-1"
    if keeps_text:
        box.setText(f"“{name}” was read as {what}, not UTF-8. Keep it in {short}, as it was, "
                    "or convert it to UTF-8?")
    else:
        box.setText(f"“{name}” was read as {what}, but the text now has characters {short} cannot "
                    "hold. Save it as UTF-8 instead?")
    keep = box.addButton(f"&Keep {short}", QMessageBox.ButtonRole.AcceptRole)
    keep.setObjectName("keepEncoding")
    keep.setEnabled(keeps_text)
    keep.setVisible(keeps_text)
    convert = box.addButton("Convert to &UTF-8", QMessageBox.ButtonRole.AcceptRole)
    convert.setObjectName("convertToUtf8")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep if keeps_text else convert)
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    if clicked is keep:
        return encoding
    if clicked is convert:
        return "utf-8"
    return None
