"""``keyboard-app`` and ``python -m keyboard_app``: start the desktop app.

``--model PATH`` uses a bundle (folder or .zip) for this run; ``--self-test``
checks that this copy predicts, without a display; ``--quit-after SECONDS``
closes the window by itself (a smoke test of a frozen build); ``--osk`` opens
the on-screen keyboard instead of the editor (``keyboard_app.osk``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

_STARTED = time.perf_counter()  # start-up figures are measured from here

from . import __version__, blas_threads


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keyboard-app",
        description="A predictive keyboard: type with live next-word suggestions.",
    )
    parser.add_argument("document", type=Path, nargs="?", metavar="FILE",
                        help="a text file to open (in the copy already running, if there is one)")
    parser.add_argument("--model", type=Path, metavar="PATH",
                        help="model bundle (folder or .zip) to use for this run")
    parser.add_argument("--self-test", action="store_true",
                        help="check that this copy predicts (no window), then exit")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS",
                        help="close the window after this many seconds (smoke tests)")
    parser.add_argument("--osk", action="store_true",
                        help="open the on-screen keyboard, which types into other applications")
    parser.add_argument("--verbose", "-v", action="store_true", help="log more (to stderr)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    blas_threads.limit()  # before numpy is imported; not at import (``blas_threads``)
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if args.self_test:
        from . import selftest  # lazily: it is the packaging engineer's, and needs no Qt

        forwarded = [a for a in argv if a != "--self-test"]
        return selftest.main(forwarded)
    # A person reads the warnings: plain sentences, as the commands print theirs.  With
    # --verbose the lines also name the module that wrote them, for whoever reads a log.
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="keyboard-app: %(name)s: %(message)s" if args.verbose else "keyboard-app: %(message)s",
    )
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.quit_after is not None and args.quit_after < 0:
        parser.error("--quit-after must not be negative")
    if args.osk and args.document is not None:
        parser.error("a file is opened in the editor: leave out --osk to open it")
    try:
        if args.osk:
            from .osk.app import run_osk

            return run_osk(model=args.model, quit_after=args.quit_after)
        from .ui.app import run_gui

        return run_gui(model=args.model, quit_after=args.quit_after, started=_STARTED, document=args.document)
    except KeyboardInterrupt:
        # Ctrl-C before the event loop's handler is set (``ui.app.quit_on_signals``), when nothing
        # is open yet, or after it is put back, when all is saved: quit as the loop would.
        print("keyboard-app: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
