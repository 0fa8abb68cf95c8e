"""Which part of the document the predictor is given: the end of the text before the caret.

The engine's answer depends on a bounded stretch of the text before the
caret (``engine.predictor``): the network's context starts at the last
paragraph break, with the ``WARM`` tokens before it, and every other part of
the mixture looks at most a couple of thousand tokens back (the document
cache's window, the identifiers' window).  Yet it tokenizes whatever it is
given from its start, and the controller used to give it the whole text
before the caret, copied out of the document at every keystroke: in a
document of tens of megabytes the first suggestions waited for millions of
tokens, and every key for copies and comparisons of the whole text.

So the predictor is given ``Context.text``, the document from ``base`` to
the caret.  While the caret is within ``FULL_CHARS`` of the document's
start ``base`` is 0: the whole text before it, as before.  Further on, the
window is *cut* where the engine cannot tell the difference: at a point
where a blank is followed by a non-blank (the tokenizer's safe restart
point, ``engine.token_cache``: the tokens from there are those a scan of
the whole text finds), far enough back that the window holds

* at least ``CONTEXT_TOKENS`` committed tokens, more than any window of the
  engine's looks back, and
* a paragraph break with at least ``WARM_TOKENS`` tokens before it in the
  window, so that the last paragraph break before the caret, where the
  network's context starts, and the tokens its warm start runs over are all
  inside it, as are the long paragraph's restarts that follow from it.

Tokens are counted from below at C speed: every run of non-blank characters
holding a letter or digit holds at least one token, and no token spans a
blank (a paragraph break is blanks only).  The cut stays while the caret is
at or after the point where both held (``verified``) and no edit touched
the text before it; it is made again when the window has grown past
``MAX_WINDOW_CHARS`` and doubled since the cut.  So for any document the
suggestions are the same as for the whole text, except where
``SEARCH_CHARS`` before the caret hold no such point (a paragraph longer than
that, or text written with few spaces, as some scripts are, whose runs are
long): the window then starts ``CUT_CHARS`` back, and the network's context
with it; ``exact`` says so.

A new cut changes the predictor's text from its first character, which the
controller sees as a big change and hands to the worker, as it does a big
paste.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left
from dataclasses import dataclass

from .editor import Editor

log = logging.getLogger(__name__)

#: Committed tokens a cut window holds at least: more than the engine looks back
#: (the document cache's and the identifiers' windows; a test checks the engine's defaults).
CONTEXT_TOKENS = 4096
#: Tokens before the window's paragraph break at least (the engine's warm start runs over 64).
WARM_TOKENS = 128
#: A caret this close to the start: the whole text before it (UTF-16 units, as Qt counts).
FULL_CHARS = 1 << 17
#: A cut looks this far back first, then twice as far, and so on up to ``SEARCH_CHARS``.
CUT_CHARS = 1 << 16
SEARCH_CHARS = 1 << 20
#: A window longer than this (and twice as long as when it was cut) is cut again.
MAX_WINDOW_CHARS = 1 << 18

_RESTART = re.compile(r"\s(?=\S)")  # a blank followed by a non-blank (engine.token_cache's restart point)
_RUN = re.compile(r"[^\W_]\S*")  # from the first letter or digit of a non-blank run to its end
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n")  # a blank line: a paragraph break (the tokenizer's <s>)
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


@dataclass(frozen=True)
class Context:
    """The text the predictor is given: the document from ``base`` to the caret."""

    base: int  # Qt position of the text's first character
    text: str

    def position(self, offset: int) -> int:
        """The Qt position of Python offset ``offset`` into ``text``."""
        return self.base + _utf16_length(self.text[:offset]) if _ASTRAL.search(self.text) else self.base + offset


class ContextWindow:
    """The window of the editor's text before the caret (module docstring)."""

    def __init__(self, editor: Editor) -> None:
        self._editor = editor
        self.base = 0  # Qt position where the window starts
        self.verified = 0  # a caret at or after this position keeps the window exact
        self._cut_caret = 0  # the caret when the window was cut
        self._stale = False  # the text before ``verified`` changed since the cut
        self.exact = True  # the window gives what the whole text would (False: a very long paragraph)
        self.cuts = 0  # cuts made (for tests and benchmarks)
        editor.document().contentsChange.connect(self._changed)

    def _changed(self, position: int, removed: int, added: int) -> None:
        if position < self.verified:  # (an edit at that point leaves the text before it as it was)
            self._stale = True

    def current(self) -> Context:
        """The window for the caret where it is now: cut again where it must be."""
        caret = self._editor.position()
        if caret <= FULL_CHARS:
            if self.base:
                self._set(0, 0, caret, True)
        elif (self._stale or caret < self.verified
              or caret - self.base > max(MAX_WINDOW_CHARS, 2 * (self._cut_caret - self.base))):
            self._cut(caret)
        return Context(self.base, self._editor.text_between(self.base, caret))

    def _set(self, base: int, verified: int, caret: int, exact: bool) -> None:
        self.base, self.verified, self._cut_caret, self.exact = base, verified, caret, exact
        self._stale = False
        self.cuts += 1

    def _cut(self, caret: int) -> None:
        """Cut the window for ``caret`` (module docstring), looking back further until it holds
        enough, up to ``SEARCH_CHARS``."""
        span, first = CUT_CHARS, None
        while True:
            lo = caret - span
            if lo <= 0:
                self._set(0, 0, caret, True)
                return
            text = self._editor.text_between(lo, caret)
            found = _cut_point(text)
            if found is not None:
                start, verified = found
                self._set(lo + _utf16_length(text[:start]), lo + _utf16_length(text[:verified]), caret, True)
                return
            if first is None:
                first = (lo, text)
            if span >= SEARCH_CHARS:
                break
            span *= 2
        lo, text = first  # a paragraph longer than the search: cut at the first window's start
        restart = _RESTART.search(text)
        start = restart.end() if restart else 0
        log.debug("no paragraph break within %d characters before %d: the context starts at a cut", span, caret)
        base = lo + _utf16_length(text[:start])
        self._set(base, base, caret, False)


def _cut_point(text: str) -> tuple[int, int] | None:
    """Where to start the window in ``text`` (the text before the caret from some point on),
    and the offset from which the window holds enough (module docstring); None: it does not."""
    restart = _RESTART.search(text)
    if restart is None:
        return None
    start = restart.end()
    runs = [m.start() for m in _RUN.finditer(text, start)]
    if len(runs) <= CONTEXT_TOKENS:
        return None
    for paragraph in _PARAGRAPH.finditer(text, start, runs[CONTEXT_TOKENS]):
        if bisect_left(runs, paragraph.start()) >= WARM_TOKENS:
            return start, max(runs[CONTEXT_TOKENS], paragraph.end())
    # the first break with enough before it may lie after the enough tokens
    for paragraph in _PARAGRAPH.finditer(text, runs[CONTEXT_TOKENS]):
        return start, paragraph.end()
    return None


def _utf16_length(text: str) -> int:
    if text.isascii() or _ASTRAL.search(text) is None:
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
