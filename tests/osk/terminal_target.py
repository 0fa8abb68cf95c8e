"""A terminal program for the on-screen keyboard to type into, run inside xterm (tests/osk/test_osk_x11.py).

``xterm -e python terminal_target.py STATE_FILE`` reads the terminal's keys raw
and, at every key, rewrites STATE_FILE (atomically) with ``{"text": ...}``:
the text as a line editor would hold it (Backspace, sent as DEL or ^H,
erases the last character).  xterm ignores synthetic key events
(``allowSendEvents`` is off by default), so only keys typed as a keyboard
types them (XTest) get here.
"""

from __future__ import annotations

import json
import os
import sys
import termios
import tty


def write(state_file: str, text: str) -> None:
    tmp = state_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"text": text}, f, ensure_ascii=False)
    os.replace(tmp, state_file)


def main() -> int:
    state_file = sys.argv[1]
    saved = termios.tcgetattr(0)
    tty.setraw(0)
    text = ""
    try:
        write(state_file, text)
        while chunk := os.read(0, 256):
            for char in chunk.decode("utf-8", errors="replace"):
                text = text[:-1] if char in "\x7f\b" else text + char
            write(state_file, text)
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)
    return 0


if __name__ == "__main__":
    sys.exit(main())
