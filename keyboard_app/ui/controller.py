"""The thin controller between the editor, the strip and the predictor worker.

On every keystroke, cursor move, undo or paste it hands the text before
the cursor to the predictor and the suggestions to the strip; it applies
an accepted suggestion as one undo step; it counts the keystrokes the
suggestions saved; and, when learning is on, it feeds the words the user
types or accepts to the personal layer (counts only).

Small changes are served at once on the UI thread.  A change of more than
``BIG_CHANGE_CHARS`` since the text the predictor last saw (a big paste,
opening a file, a jump to the end of a long document) goes to the worker,
and the strip shows an ellipsis until the answer comes back; an answer
for a request that has since been superseded is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, QTimer, Signal

from ..engine.tokenizer import Tokenizer
from ..learning import PersonalModel, local_context
from .editor import Editor
from .strip import SuggestionStrip
from .worker import PredictorWorker

log = logging.getLogger(__name__)

BIG_CHANGE_CHARS = 2000
#: Typed right after an accepted suggestion, these replace the space it added.
SPACE_EATERS = frozenset(".,!?;:")


@dataclass
class KeystrokeStats:
    """What the suggestions saved in this document (a running KSR)."""

    keys_typed: int = 0  # key presses that put text in
    accepts: int = 0  # suggestions taken (one keystroke or click each)
    chars_accepted: int = 0  # characters the suggestions typed for the user

    @property
    def keystrokes_saved(self) -> int:
        return self.chars_accepted - self.accepts

    @property
    def keystrokes_without(self) -> int:
        return self.keys_typed + self.chars_accepted

    @property
    def ksr(self) -> float | None:
        """Percent of keystrokes saved, or None before any typing."""
        total = self.keystrokes_without
        return 100.0 * self.keystrokes_saved / total if total else None


def common_prefix_length(a: str, b: str) -> int:
    """Length of the common prefix, by bisection on C-speed slice comparisons."""
    if b.startswith(a):
        return len(a)
    if a.startswith(b):
        return len(b)
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class SuggestionController(QObject):
    suggestions_changed = Signal(list)
    stats_changed = Signal(object)  # KeystrokeStats
    learned = Signal()  # the personal layer changed (the window saves it, debounced)
    accepted = Signal(str)  # the word put in

    def __init__(
        self,
        *,
        editor: Editor,
        strip: SuggestionStrip,
        worker: PredictorWorker,
        personal: PersonalModel | None = None,
        k: int = 3,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.editor = editor
        self.strip = strip
        self.worker = worker
        self.personal = personal
        self.learning = False  # observe what is typed (opt-in; off while paused)
        self.k = k
        self.space_after = True  # an accepted word gets a space after it (a preference)
        self.auto_capitalise = True  # capitals at sentence starts (a preference)
        self.stats = KeystrokeStats()
        self._hidden = False
        self._generation = 0
        self._shown_for: str | None = None  # the text the strip's suggestions are for
        self._engine_text = ""  # the text the predictor last saw
        self._status = "Loading model…"
        self._fallback_tokenizer = Tokenizer()
        self._auto_space_at: int | None = None  # caret right after an accepted word's space
        self._refreshed_key: tuple[int, int] | None = None
        self._requested_for: str | None = None  # the text a worker request is out for

        editor.textChanged.connect(self.refresh)
        editor.cursorPositionChanged.connect(self._cursor_moved)
        editor.keystroke.connect(self._on_keystroke)
        editor.typing.connect(self._on_typing)
        editor.tab_handler = self.tab
        strip.activated.connect(self.accept)
        worker.suggestions_ready.connect(self._on_async_result)
        worker.suggest_failed.connect(self._on_async_failed)

    # --- state ------------------------------------------------------------
    @property
    def tokenizer(self) -> Tokenizer:
        predictor = self.worker.predictor
        return predictor.tokenizer if predictor is not None else self._fallback_tokenizer

    def set_status(self, text: str) -> None:
        """What the strip says when it has nothing to show (no model yet, say)."""
        self._status = text
        self.refresh(force=True)

    def model_changed(self) -> None:
        self._engine_text = ""
        self._status = ""
        self.refresh(force=True)

    def reset_stats(self) -> None:
        self.stats = KeystrokeStats()
        self.stats_changed.emit(self.stats)

    def is_hidden(self) -> bool:
        return self._hidden

    def set_count(self, k: int) -> None:
        """How many suggestions to show (the strip's slots)."""
        self.k = k
        self.strip.set_slot_count(k)
        self.refresh(force=True)

    # --- suggestions ------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        if self._hidden:
            return
        # One keystroke signals both textChanged and cursorPositionChanged: answer once.
        key = (self.editor.document().revision(), self.editor.textCursor().position())
        if not force and key == self._refreshed_key and self._shown_for is not None:
            return
        self._refreshed_key = key
        text = self.editor.text_before_cursor()
        if not force and (text == self._shown_for or text == self._requested_for):
            return
        self._generation += 1
        if self.worker.predictor is None:
            self._show([], text, placeholder=self._status)
            return
        changed = len(text) - common_prefix_length(text, self._engine_text)
        result = None
        if changed <= BIG_CHANGE_CHARS:
            try:
                result = self.worker.try_suggest(text, self.k)
            except Exception as e:  # noqa: BLE001 - a failed suggestion must never crash typing
                log.exception("suggest failed")
                self._show([], text, placeholder=f"No suggestions: {e}")
                return
        if result is None:
            self._shown_for = None
            self._requested_for = text
            self.strip.set_suggestions([], placeholder="…")
            self.worker.request_suggest(self._generation, text, self.k)
            return
        self._engine_text = text
        self._show(result, text)

    def _cursor_moved(self) -> None:
        if self._auto_space_at is not None and self.editor.textCursor().position() != self._auto_space_at:
            self._auto_space_at = None
        self.refresh()

    def _on_async_result(self, generation: int, text: str, suggestions: list) -> None:
        if self._hidden or text != self.editor.text_before_cursor():
            return  # superseded: the newer request is queued or was served at once
        self._engine_text = text
        self._show(suggestions, text)

    def _on_async_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self._show([], self.editor.text_before_cursor(), placeholder=f"No suggestions: {message}")

    def _show(self, suggestions: list, text: str, placeholder: str = "") -> None:
        if not self.auto_capitalise and suggestions:
            suggestions = self._without_sentence_capitals(suggestions, text)
        self._shown_for = text
        self._requested_for = None
        self.strip.set_suggestions(suggestions, placeholder=placeholder)
        self.suggestions_changed.emit(list(suggestions))

    def hide(self) -> None:
        """Esc: hide the strip until the next keystroke."""
        self._hidden = True
        self._shown_for = self._requested_for = None
        self.strip.set_suggestions([], placeholder="Hidden — keep typing to bring them back")
        self.suggestions_changed.emit([])

    def _on_keystroke(self) -> None:
        if self._hidden:
            self._hidden = False
            self._shown_for = self._requested_for = None
            # Once the key has been handled, even one that changed nothing (Home at the start).
            QTimer.singleShot(0, self.refresh)

    def _without_sentence_capitals(self, suggestions: list, text: str) -> list:
        """Auto-capitalisation off: a sentence's first word as the word is written
        ("the", but still "I" and "London"), unless the user typed a capital."""
        context = local_context(self.tokenizer, text)
        if not context.sentence_start or context.partial[:1].isupper():
            return suggestions
        return [replace(s, text=self._display_form(s)) for s in suggestions]

    def _display_form(self, suggestion) -> str:
        token, shown = suggestion.token, suggestion.text
        if self.personal is not None and self.personal.knows(token):
            written = self.personal.display(token)
        else:
            predictor = self.worker.predictor
            bundle = getattr(predictor, "bundle", None)
            vocab = getattr(bundle, "vocab", None)
            lexicon = getattr(getattr(predictor, "predictor", predictor), "lexicon", None)
            if vocab is not None and token in vocab:
                written = vocab.display[vocab.id(token)]
            elif lexicon is not None:
                written = lexicon.display_of(token)
            else:
                return shown
        # Only the first letter's capital is the sentence's: "LONDON" typed stays as it is.
        if written.lower() == shown.lower() and shown[:1].isupper() and shown[1:] == written[1:]:
            return written
        return shown

    # --- accepting --------------------------------------------------------
    def tab(self) -> bool:
        """Tab: put in the first suggestion; False if there is none to take (the editor
        then inserts a tab character).  While suggestions are being computed Tab waits
        for nothing and does nothing, rather than insert a tab the user did not mean."""
        if self._hidden:
            return False
        if self._requested_for is not None and self._requested_for == self.editor.text_before_cursor():
            return True
        return self.accept(0)

    def accept(self, index: int) -> bool:
        """Put suggestion ``index`` in place of the partial word, with a space (unless the
        text after the cursor has one, or closing punctuation): one undo step."""
        if self._hidden:
            return False
        text = self.editor.text_before_cursor()
        if self._shown_for != text:
            self.refresh(force=True)
        suggestions = self.strip.suggestions()
        if self._shown_for != text or index >= len(suggestions):
            return False
        suggestion = suggestions[index]
        after = self.editor.text_after_cursor(1)  # the space after the word depends on it
        try:
            # The engine's own accept: the personal layer's forwards the text before the cursor only.
            edit = self.worker.try_call(lambda p: p.accept(text, suggestion, after))
        except Exception:  # noqa: BLE001 - an engine error must not lose the user's text
            log.exception("accept failed")
            return False
        if edit is None:
            return False
        if not self.space_after:
            edit = replace(edit, replacement=edit.replacement.rstrip(" "), skip=0)
        partial = text[edit.start : edit.end]
        context = local_context(self.tokenizer, text[: edit.start])
        self.editor.replace_text(edit.start, edit.end, edit.replacement, edit.skip)
        self._auto_space_at = self.editor.textCursor().position() if edit.replacement.endswith(" ") else None
        self.stats.accepts += 1
        self.stats.chars_accepted += max(0, len(edit.replacement) - len(partial))
        self.stats_changed.emit(self.stats)
        word = edit.replacement.strip()
        self._learn(context.tokens[-1], word, context.sentence_start)
        self.accepted.emit(word)
        return True

    # --- typing: keystroke savings and the personal layer ----------------
    def _on_typing(self, typed: str) -> None:
        self.stats.keys_typed += 1
        self.stats_changed.emit(self.stats)
        if typed in SPACE_EATERS and self._auto_space_at is not None:
            # "mat |" + "." gives "mat." : the space the suggestion added goes away.
            cursor = self.editor.textCursor()
            if cursor.position() == self._auto_space_at and not cursor.hasSelection():
                self._auto_space_at = None
                cursor.deletePreviousChar()
                self.editor.setTextCursor(cursor)
                return  # the word before was learned when it was accepted
        self._auto_space_at = None
        if not self.learning or self.personal is None:
            return
        if typed[-1:].isalnum() or typed[-1:] in "'’":
            return
        cursor = self.editor.textCursor()
        if cursor.hasSelection():
            return
        context = local_context(self.tokenizer, self.editor.text_before_cursor())
        if context.partial:
            self._learn(context.tokens[-1], context.partial, context.sentence_start)

    def _learn(self, previous: str, word: str, initial: bool) -> None:
        if not self.learning or self.personal is None or not word:
            return
        if self.personal.observe(previous, word, initial=initial):
            self.learned.emit()
