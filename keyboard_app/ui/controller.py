"""The thin controller between the editor, the strip and the predictor worker.

On every keystroke, cursor move, undo or paste it hands the text before
the cursor to the predictor and the suggestions to the strip; it applies
an accepted suggestion as one undo step; it counts the keystrokes the
suggestions saved; and, when learning is on, it feeds the words the user
types or accepts to the personal layer (counts only).

With auto-correction on (a preference; the engine's ``auto_correct``), the
key that ends a mistyped word replaces it with the word meant ("teh" ->
"the"): a space, Enter, or closing punctuation (``CORRECTING_MARKS``: "alot."
-> "a lot.", "(alot)" -> "(a lot)").  A Backspace right after takes back that
key and the correction together, as phone keyboards do for the space: the
word as typed, the caret right after it ("a lot," -> "alot"), which is what
the Backspace would have left with auto-correction off; the same key or
another one ending the word then leaves it as it is.  A word glued to what
comes before it ("www.teh", "3.teh": a web address, a number, a path) is left
alone (the engine's ``autocorrect`` decides), and so is one glued to what
follows: a letter or digit typed right after the mark that corrected it
("alot.com", "i.e") puts back what was typed.
A word the user has just accepted is never corrected.

With the caret inside a word, an accepted suggestion replaces the whole word
(the engine's ``accept`` reaches past the caret: "alo|t" + "along" ->
"along "); the strip's suggestions are still for the text before the caret.

The predictor is given the end of the text before the cursor, not all of
it (``context_window``: the part its answer depends on), so a keystroke
costs the same in a long document as in a short one.  Small changes are
served at once on the UI thread.  A change of more than
``BIG_CHANGE_CHARS`` since the text the predictor last saw (a big paste,
opening a file, a jump to the end of a long document, a window cut anew)
goes to the worker, and the strip shows an ellipsis until the answer comes
back; an answer for a request that has since been superseded is dropped.
Edits the engine returns are offsets into that text; they are put in at
the Qt positions of the window (``Context.position``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal

from ..capitals import phrase_without_sentence_capital, without_sentence_capitals, written_form
from ..engine.beam import place
from ..engine.predictor import NO_SPACE_BEFORE
from ..engine.token_cache import common_prefix_length
from ..engine.tokenizer import WORD_APOSTROPHES, Tokenizer
from ..learning import PersonalModel, local_context
from ..settings import DEFAULT_SUGGESTIONS
from .context_window import ContextWindow
from .editor import Editor
from .strip import SuggestionStrip
from .worker import PredictorWorker

log = logging.getLogger(__name__)

BIG_CHANGE_CHARS = 2000
#: Typed right after an accepted suggestion, these replace the space it added.
# The characters that take back the space an accepted word added ("mat |" + ")" -> "mat)"):
# those the engine puts no space before (closing punctuation, brackets and quotes).
SPACE_EATERS = NO_SPACE_BEFORE
#: Typed after a word, these end it and let auto-correction replace it: white space, a line
#: break, closing punctuation and closing quotes.  Not the apostrophes (' and ’), which also join
#: a word's parts ("isn't": "isn" is no word to correct).
CORRECTING_MARKS = frozenset(" \n,.!?;:)]}\"\u201d\u00bb\u203a\u2026")
#: Characters after the caret read for an accepted word (its rest, when the caret is inside it).
AFTER_CHARS = 256


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


@dataclass(frozen=True)
class AutoCorrection:
    """What the key ending a word just replaced, so a Backspace right after can put it back."""

    start: int  # where the word starts (Qt's position)
    typed: str  # the letters as typed ("teh")
    corrected: str  # what replaced them ("the")
    caret: int  # the caret (Qt's position) right after the mark
    mark: str = " "  # the key that ended the word: a space, a line break, closing punctuation


_MODIFIER_KEYS = frozenset((Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta,
                            Qt.Key.Key_AltGr, Qt.Key.Key_CapsLock))


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
        k: int = DEFAULT_SUGGESTIONS,
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
        self.offer_phrases = True  # at a word start, the next few words in one slot (engine ``phrase``)
        self.stats = KeystrokeStats()
        self._hidden = False
        self._generation = 0
        self._shown_for: str | None = None  # the text the strip's suggestions are for
        self._shown_words: list = []  # the engine's words shown for it (before any phrase)
        self._engine_text = ""  # the text the predictor last saw
        self._status = "Loading model…"
        self._fallback_tokenizer = Tokenizer()
        self._auto_space_at: int | None = None  # caret right after an accepted word's space
        self._autocorrected: AutoCorrection | None = None  # the last auto-correction, until the next key
        self._corrected_before: AutoCorrection | None = None  # the one the key being typed follows
        self._accepted_at: int | None = None  # caret right after an accepted word (never auto-corrected)
        self._kept: tuple[int, str] | None = None  # a word put back by Backspace: (start, letters), left alone
        self._refreshed_key: tuple[int, int] | None = None
        self._requested_for: str | None = None  # the text a worker request is out for
        self.window = ContextWindow(editor)  # the part of the text the predictor is given

        editor.textChanged.connect(self.refresh)
        editor.cursorPositionChanged.connect(self._cursor_moved)
        editor.keystroke.connect(self._on_keystroke)
        editor.typing.connect(self._on_typing)
        editor.tab_handler = self.tab
        editor.installEventFilter(self)  # a Backspace right after an auto-correction undoes it
        strip.activated.connect(self.accept)
        worker.suggestions_ready.connect(self._on_async_result)
        worker.suggest_failed.connect(self._on_async_failed)
        worker.phrase_ready.connect(self._on_phrase)

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
        text = self.window.current().text
        if not force and (text == self._shown_for or text == self._requested_for):
            return
        self._generation += 1
        self.worker.drop_phrases(self._generation)  # one for the text before is no longer wanted
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
        if self._accepted_at is not None and self.editor.textCursor().position() != self._accepted_at:
            self._accepted_at = None
        corrected = self._autocorrected
        if corrected is not None and self.editor.textCursor().position() not in (corrected.caret - 1, corrected.caret):
            self._autocorrected = None  # (the caret passes caret - 1 before the space goes in)
        self.refresh()

    def _on_async_result(self, generation: int, text: str, suggestions: list) -> None:
        if self._hidden or text != self.window.current().text:
            return  # superseded: the newer request is queued or was served at once
        self._engine_text = text
        self._show(suggestions, text)

    def _on_async_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self._show([], self.window.current().text, placeholder=f"No suggestions: {message}")

    def _show(self, suggestions: list, text: str, placeholder: str = "") -> None:
        if not self.auto_capitalise and suggestions:
            suggestions = self._without_sentence_capitals(suggestions, text)
        self._shown_for = text
        self._shown_words = list(suggestions)
        self._requested_for = None
        self.strip.set_suggestions(suggestions, placeholder=placeholder)
        self.suggestions_changed.emit(list(suggestions))
        if self.offer_phrases and self.k >= 2 and suggestions and not suggestions[0].is_completion:
            # the words are out: the phrase, if any, follows (``_on_phrase``)
            self.worker.request_phrase(self._generation, text, self.k)

    def _on_phrase(self, generation: int, text: str, phrase) -> None:
        """A phrase for the word start shown: in the slot it earns (``engine.beam.place``)."""
        if self._hidden or generation != self._generation or text != self._shown_for:
            return  # the strip has moved on
        words = self._shown_words
        if [id(s) for s in self.strip.suggestions()] != [id(s) for s in words]:
            return  # the strip shows something else now (a note, or another caller's words)
        if not self.auto_capitalise:
            phrase = self._phrase_without_sentence_capital(phrase, text)
        shown = place(words, phrase, self.k)
        if any(s is phrase for s in shown):
            self.strip.set_suggestions(shown)
            self.suggestions_changed.emit(list(shown))

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
        """Auto-capitalisation off (``capitals``, shared with the on-screen keyboard)."""
        return without_sentence_capitals(suggestions, text, self.tokenizer, self._display_form)

    def _phrase_without_sentence_capital(self, phrase, text: str):
        return phrase_without_sentence_capital(phrase, text, self.tokenizer, self._display_form)

    def _display_form(self, suggestion) -> str:
        return written_form(suggestion, self.worker.predictor, self.personal)

    # --- accepting --------------------------------------------------------
    def tab(self) -> bool:
        """Tab: put in the first suggestion; False if there is none to take (the editor
        then inserts a tab character).  While suggestions are being computed Tab waits
        for nothing and does nothing, rather than insert a tab the user did not mean."""
        if self._hidden:
            return False
        if self._requested_for is not None and self._requested_for == self.window.current().text:
            return True
        return self.accept(0)

    def accept(self, index: int) -> bool:
        """Put suggestion ``index`` in place of the partial word, with a space (unless the
        text after the cursor has one, or closing punctuation): one undo step.  With the
        caret inside a word, the word's letters after it go too (the engine's ``accept``)."""
        if self._hidden:
            return False
        window = self.window.current()
        text = window.text
        if self._shown_for != text:
            self.refresh(force=True)
        suggestions = self.strip.suggestions()
        if self._shown_for != text or index >= len(suggestions):
            return False
        suggestion = suggestions[index]
        after = self.editor.text_after_cursor(AFTER_CHARS)  # the rest of the word, and the space after it
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
        beyond = after[: max(0, edit.end - len(text))]  # the word's letters after the caret, if any
        partial = text[edit.start : edit.end] + beyond
        end = window.position(min(edit.end, len(text))) + len(beyond.encode("utf-16-le")) // 2
        context = local_context(self.tokenizer, text[: edit.start])
        self.editor.replace_range(window.position(edit.start), end, edit.replacement, edit.skip)
        self._auto_space_at = self.editor.textCursor().position() if edit.replacement.endswith(" ") else None
        self._accepted_at = self.editor.textCursor().position()
        self.stats.accepts += 1
        self.stats.chars_accepted += max(0, len(edit.replacement) - len(partial))
        self.stats_changed.emit(self.stats)
        word = edit.replacement.strip()
        previous, initial = context.tokens[-1], context.sentence_start
        for each in word.split(" "):
            self._learn(previous, each, initial)  # a phrase, a slip's "a lot": each word after the one before
            previous, initial = each.lower(), False
        self.accepted.emit(word)
        return True

    # --- typing: keystroke savings and the personal layer ----------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.editor and event.type() == QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Backspace and event.modifiers() == Qt.KeyboardModifier.NoModifier:
                if self._undo_autocorrection():
                    return True
            if event.key() not in _MODIFIER_KEYS:
                # (``_on_typing`` still needs it: a letter right after "a lot." puts "alot." back)
                self._corrected_before, self._autocorrected = self._autocorrected, None
        return super().eventFilter(watched, event)

    def _autocorrect(self, mark: str) -> None:
        """``mark`` (``CORRECTING_MARKS``) is about to go in: let the engine replace the word
        just typed, unless the user just accepted it or it goes on after the caret (one glued
        to something before it, a web address or a number, the engine leaves alone)."""
        cursor = self.editor.textCursor()
        if cursor.hasSelection():
            return
        kept, self._kept = self._kept, None
        if cursor.position() == self._accepted_at or _goes_on(self.editor.text_after_cursor(2)):
            return
        context = self.window.current()
        text = context.text
        try:
            edit = self.worker.try_call(lambda p: p.autocorrect(text))
        except Exception:  # noqa: BLE001 - an engine error must not lose the user's text
            log.exception("auto-correction failed")
            return
        if edit is None or not edit.replacement:
            return
        typed = text[edit.start : edit.end]
        start = context.position(edit.start)
        if kept == (start, typed):
            return  # the user just took this correction back: the word stays as typed
        self.editor.replace_range(start, context.position(edit.end), edit.replacement)
        self._autocorrected = AutoCorrection(start, typed, edit.replacement, self.editor.position() + len(mark),
                                             mark)

    def _undo_autocorrection(self) -> bool:
        """Backspace right after an auto-correction: the letters as typed, without the mark
        that ended them (a space, a line break, a comma...)."""
        corrected, self._autocorrected = self._autocorrected, None
        cursor = self.editor.textCursor()
        if corrected is None or cursor.hasSelection() or cursor.position() != corrected.caret:
            return False
        end = cursor.position()
        if self.editor.text_at(corrected.start, end) != corrected.corrected + corrected.mark:
            return False
        self.editor.replace_range(corrected.start, end, corrected.typed)
        self._kept = (corrected.start, corrected.typed)
        return True

    def _put_back_glued(self, corrected: AutoCorrection) -> None:
        """A letter or digit is about to go in right after the mark that corrected a word: the
        word was part of a web address, a number or an abbreviation ("alot.com", "i.e"), so
        it is put back as typed, the mark kept."""
        cursor = self.editor.textCursor()
        if corrected.mark.isspace() or cursor.hasSelection() or cursor.position() != corrected.caret:
            return
        if self.editor.text_at(corrected.start, corrected.caret) == corrected.corrected + corrected.mark:
            self.editor.replace_range(corrected.start, corrected.caret, corrected.typed + corrected.mark)

    def _on_typing(self, typed: str) -> None:
        self.stats.keys_typed += 1
        self.stats_changed.emit(self.stats)
        corrected, self._corrected_before = self._corrected_before, None
        if corrected is not None and typed[:1].isalnum():
            self._put_back_glued(corrected)
        if typed in CORRECTING_MARKS and not (typed in SPACE_EATERS and self._auto_space_at is not None):
            self._autocorrect(typed)  # (not on the space an accepted word just got: see below)
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
        context = local_context(self.tokenizer, self.window.current().text)
        if context.partial:
            self._learn(context.tokens[-1], context.partial, context.sentence_start)

    def _learn(self, previous: str, word: str, initial: bool) -> None:
        if not self.learning or self.personal is None or not word:
            return
        if self.personal.observe(previous, word, initial=initial):
            self.learned.emit()


def _goes_on(after: str) -> bool:
    """Whether the text after the caret continues the word before it ("al|ot", "isn|'t")."""
    return after[:1].isalnum() or (after[:1] in WORD_APOSTROPHES and after[1:2].isalnum())
