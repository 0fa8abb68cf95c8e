"""The keyboard's logic between its keys, the engine and the application typed into.

A key press is sent to the target through the injector and added to the
typed context; the suggestion row is then asked for again, from the same
predictor worker (and so the same state cache) as the editor's: a key inside
a word runs no network.  A suggestion is put in by typing the rest of the
word and a space, or Backspaces and the whole word when the case differs,
so it works in any text field.  Shift is one-shot (a key or a suggestion
uses it up), Caps stays on (letters only); neither is sent to the target:
the keyboard types the character.

Ctrl, Alt, Super and Fn are sticky, as on Onboard: a click latches one for
the next key, a second click locks it until a third; they combine with each
other and with Shift (Ctrl, Shift, Z: Ctrl+Shift+Z).  A key pressed with Ctrl,
Alt or Super goes to the target as that key with those modifiers held (the
injector's ``chord``), Caps left out (Ctrl+S with Caps on is not Ctrl+Shift+S);
Fn makes a key with a function key (the digits' F1-F12) send that one.  Shift
on Tab or an arrow is a chord too (Shift+Tab, Shift+arrows; Backspace and Enter
are pressed as before, Shift kept for the next letter).  A chord types no
text, so nothing is added to the context, and since most chords change the
text or the cursor (Ctrl+Z, Ctrl+V, Ctrl+Left) the context starts again, as
after a cursor key.  A suggestion types plain text: it uses up the latched
modifiers, the locked ones stay.

Capitals follow the letters typed where the keyboard cannot know better.
The text before what it typed is unknown (another application, or the focus
just moved), so the engine's sentence start there is a guess: a word begun
in small letters is completed in small letters ("ech" -> "echo", not
"Echo").  In a terminal (``set_target``) no capital is added at all; the
editor's "Capital letter on suggestions at a sentence start" turned off does the
same everywhere (``capitals``).

The context holds only what reached the target: a text the injector could
not type is left out of it, and nothing is erased for a text that cannot be
typed (the injector's ``prepare`` comes before the Backspaces), so a failure
never costs the user text of their own; it is said in one sentence
(``send_failed``).

Keys typed on the physical keyboard, in any application, reach the context
too (``physical_key``, from ``physical.X11InputListener``): a character is
added, Backspace takes one away, Enter is a new line; a click in another
place (``cursor_moved``) or another window starts a sentence there.

Each window has its own context: the one left is kept (``WindowContexts``, in
memory only, the last few dozen windows) and given back when that window is
active again (``focus_changed``), so a sentence half written before looking
something up elsewhere goes on where it was.  It is not given back where the
cursor there may have moved: a click activated the window (the click is taken
for the new window's, ``focus_settled``), or keys went unheard meanwhile
(``keys_went_unheard``: the physical keyboard followed again).  Keys that may
have been the switch (Alt+Tab: an Alt or Super chord) are left out of the
context kept.

Where the text before the cursor is unknown, nothing is offered rather than a
wrong word (``context.TypedContext``'s rule; ``refresh`` shows an empty row
and ``accept`` types nothing): a suggestion types the rest of a word, or a
word after the one typed, so one offered for a word whose start the keyboard
did not hear glues onto it ("wor" pasted, "ld" typed, "ldap" taken:
"worldap ").  So, the keyboard's own keys and the physical ones alike:

* a cursor key, Escape, a shortcut (Ctrl+V, Ctrl+Z), Backspace past what was
  heard, a Tab in a terminal (it completes a name, maybe halfway), and
  following the physical keyboard turned back on (``keys_went_unheard``): the
  cursor may be inside a word; what is typed up to the next space or new line
  is not completed, the word after it is;
* a key that may open a menu (Alt or Super held or pressed alone, F10, the
  Menu key; ``physical.key_effect``): the keys after it may pick a menu's items
  ("k" after Alt+V is no word begun); they are taken again after two spaces
  or new lines, a click (then after one more: it may have been a menu item's),
  or another window;
* a click in the text, another window (one not typed into before, or gone
  back to with a click), a Tab outside a terminal (the next
  field; in the editor, a suggestion taken with its space), Ctrl+A (what is
  typed next replaces all): a word's start, completed at once.  (A click
  inside a word, or a window gone back to with its cursor inside one, is
  taken for a word's start too: clicking into a field to type there is the
  common case, and the keyboard cannot see which it was.)

The keyboard's own keys come back from the listener as well: ``own_keys``
(told by the injector) leaves them out.  These keys are the user's, not the keyboard's: they count in no
statistic and teach the personal layer nothing (a password typed in a
browser must never be learned).  The suggestions follow once a burst of
keys is through (``PHYSICAL_REFRESH_MS``).

No widgets here: ``window`` shows the state and forwards the presses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..capitals import without_sentence_capitals, written_form
from ..engine.predictor import NO_SPACE_BEFORE
from ..engine.tokenizer import Tokenizer
from ..learning import PersonalModel, local_context
from .backend import CHORD_KEYS, KEY_ACTIONS, InjectionError, Injector
from .context import HEARD, MENU_OPEN, WORD_UNHEARD, SavedContext, TypedContext, WindowContexts
from .layout import MODIFIERS, Key
from .physical import OwnKeys, PhysicalKey, key_effect

log = logging.getLogger(__name__)

#: Typed right after an accepted suggestion, these replace the space it added ("mat ." -> "mat.").
# The characters that take back the space an accepted word added ("mat |" + ")" -> "mat)"):
# those the engine puts no space before (closing punctuation, brackets and quotes).
SPACE_EATERS = NO_SPACE_BEFORE
RETRY_MS = 40  # the predictor was busy (a model loading, the editor's big paste): ask again soon
PHYSICAL_REFRESH_MS = 30  # keys typed on the physical keyboard: the suggestions once a burst is through
#: Keys after which the keyboard no longer knows the text at the target's cursor (Tab: the next
#: field, a word's start, except in a terminal; the others: maybe inside a word).
CONTEXT_LOST = frozenset({"tab", "escape", "left", "right", "up", "down"})
#: The keyboard's own keys that may open a menu, as ``physical.MENU_KEYSYMS`` (Alt and Super chords too).
MENU_KEYS = frozenset({"f10", "menu"})
#: The action keys Shift goes out with (Shift+Tab, Shift+arrows); Backspace, Enter and Esc are
#: pressed as before, Shift kept for the next letter and the context followed.
SHIFT_CHORDS = frozenset({"tab", "left", "right", "up", "down"})
LATCHED, LOCKED = "latched", "locked"  # a sticky modifier's states (off: not in ``sticky``)


@dataclass
class KeyStats:
    """Key activations on the keyboard and what the suggestions saved."""

    activations: int = 0  # every key and suggestion pressed (Shift and Caps included)
    keys_typed: int = 0  # keys that typed a character, a space, Enter or a Backspace
    accepts: int = 0  # suggestions taken
    chars_accepted: int = 0  # characters the suggestions typed for the user

    @property
    def keystrokes_saved(self) -> int:
        return self.chars_accepted - self.accepts

    @property
    def saved_percent(self) -> float | None:
        total = self.keys_typed + self.chars_accepted
        return 100.0 * self.keystrokes_saved / total if total else None


class OskController(QObject):
    suggestions_changed = Signal(list)  # the Suggestions now shown (may be empty)
    modifiers_changed = Signal(bool, bool)  # shift, caps
    sticky_changed = Signal(dict)  # the sticky modifiers on: {"ctrl": "latched", "fn": "locked"...}
    stats_changed = Signal(object)  # KeyStats
    status_changed = Signal(str)  # what the row says when it has no suggestions
    learned = Signal()  # the personal layer counted a word
    send_failed = Signal(str)  # one sentence when keys could not be sent; "" once they are again

    def __init__(self, *, worker: Any, injector: Injector, slots: int = 4,
                 personal: PersonalModel | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker  # a PredictorWorker: try_suggest / try_call / predictor
        self.injector = injector
        self.slots = slots
        self.personal = personal
        self.learning = False  # opt-in (settings.learn_from_typing)
        # The editor's preference (``Settings.auto_capitalise``): one setting for both, so a
        # sentence's first word is "the" here too when the user turned capitals off there.
        self.auto_capitalise = True
        self.terminal = False  # the target is a terminal: no capital is added (``set_target``)
        # True while the window typed into counts the words itself (the app's own editor, learning):
        # the keyboard then leaves them to it, or each word would count twice.
        self.target_learns: Callable[[], bool] = lambda: False
        self.context = TypedContext()
        # The contexts of the windows left, given back on coming back (``focus_changed``).
        self.windows = WindowContexts()
        self.window: Any = None  # the window the context is for (None: unknown)
        self._wm_class: tuple[str, ...] | None = None  # its WM_CLASS
        # The context before the keys or the click that may have been the switch to another
        # window (Alt+Tab, a click in it; ``_maybe_switching``), kept for the window left.
        self._before_switch: tuple[str, int] | None = None
        self._clicked = 0  # polls for which a click may still be the one that activated a window
        self.stats = KeyStats()
        self.shift = False
        self.caps = False
        self.sticky: dict[str, str] = {}  # the sticky modifiers on (``MODIFIERS``): LATCHED or LOCKED
        # Keys grabbed as scanning switches ("f9", "f10"; set by the window while it grabs them):
        # sent, they would reach the grab, not the target, and count as a switch press.
        self.reserved_keys: frozenset[str] = frozenset()
        self.suggestions: list = []
        self._shown_for: str | None = None
        self._auto_space = False  # the last thing typed is the space after an accepted suggestion
        self._failing = False  # the last send failed (its sentence is shown)
        self._no_model = False  # the model could not be loaded: nothing to wait for
        self._fallback_tokenizer = Tokenizer()
        self._retry = QTimer(self, singleShot=True, interval=RETRY_MS)
        self._retry.timeout.connect(self.refresh)
        self.own_keys = OwnKeys()  # the keys the injector pressed (it is told, ``xtest``)
        if hasattr(injector, "own_keys"):
            injector.own_keys = self.own_keys
        self._physical_refresh = QTimer(self, singleShot=True, interval=PHYSICAL_REFRESH_MS)
        self._physical_refresh.timeout.connect(self.refresh)

    # --- suggestions ------------------------------------------------------
    def refresh(self) -> None:
        """Ask the predictor for the context's suggestions and show them."""
        text = self.context.text
        if self.context.unheard:  # the word under way began unheard, or keys may go to a menu
            self._retry.stop()
            self._show([], text)
            return
        if self.worker.predictor is None:
            self._show([], text)
            if not self._no_model:  # (after a failure the window shows why, and nothing is loading)
                self.status_changed.emit("Loading model…")
                self._retry.start(250)
            return
        try:
            result = self.worker.try_suggest(text, self.slots)
        except Exception as e:  # noqa: BLE001 - a failed suggestion must never stop typing
            log.exception("suggest failed")
            self._show([], text)
            self.status_changed.emit(f"No suggestions: {e}")
            return
        if result is None:  # busy: keep the row, ask again shortly
            self._retry.start()
            return
        self._show(result, text)

    def model_failed(self) -> None:
        """The model could not be loaded (the window shows the sentence): stop saying
        "Loading model…" and asking again."""
        self._no_model = True
        self._retry.stop()
        self.status_changed.emit("")

    def _show(self, suggestions: list, text: str) -> None:
        if suggestions and self._no_sentence_capital(text):
            suggestions = without_sentence_capitals(
                suggestions, text, self._tokenizer(),
                lambda s: written_form(s, self.worker.predictor, self.personal))
        self.suggestions = list(suggestions)
        self._shown_for = text
        self.suggestions_changed.emit(self.suggestions)

    def _no_sentence_capital(self, text: str) -> bool:
        """Whether a sentence start at the end of ``text`` gets no capital of the engine's: the
        editor's setting is off, the target is a terminal, or the start is only where the
        keyboard's own text begins and the user began the word in small letters."""
        if not self.auto_capitalise or self.terminal:
            return True
        context = local_context(self._tokenizer(), text)
        return context.partial[:1].islower() and not text[: context.partial_start].strip()

    def set_target(self, *, terminal: bool, window: Any = None,
                   wm_class: tuple[str, ...] | None = None) -> None:
        """The window typed into is (or is not) a terminal (``context.is_terminal``); given
        ``window`` (the first one seen), the context is that window's (kept when it is left)."""
        if window is not None:
            self.window, self._wm_class = window, wm_class
        if terminal != self.terminal:
            self.terminal = terminal
            self.refresh()

    def set_auto_capitalise(self, on: bool) -> None:
        """Follow the editor's "Capital letter on suggestions at a sentence start" (shown at once)."""
        if on != self.auto_capitalise:
            self.auto_capitalise = on
            self.refresh()

    def set_slots(self, slots: int) -> None:
        self.slots = slots
        self.refresh()

    def focus_changed(self, window: Any = None, *, wm_class: tuple[str, ...] | None = None,
                      terminal: bool | None = None) -> None:
        """Another window has the focus.  The context of the one left is kept (as it was before
        the keys or the click that switched, ``_maybe_switching``); the new one's is given back
        if the keyboard was there before and nothing says its cursor moved since (a click that
        activated it may have put the cursor anywhere), else its text is unknown: a sentence start."""
        if self.window is not None:
            text, unheard = self._before_switch or (self.context.text, self.context.unheard)
            self.windows.save(self.window, SavedContext(text, unheard, self.terminal, self._wm_class))
        saved = self.windows.take(window, wm_class) if window is not None else None
        if self._clicked:
            saved = None  # (the click went to the new window: its cursor moved)
        self.window, self._wm_class = window, wm_class
        self._before_switch, self._clicked = None, 0
        if saved is not None:
            self.context.restore(saved.text, saved.unheard)
        else:
            self.context.reset()
        self._auto_space = False
        if terminal is not None and terminal != self.terminal:
            self.terminal = terminal  # (refreshed below)
        self.refresh()

    def focus_settled(self) -> None:
        """The active window was looked at and had not changed: a click before it stayed in this
        window (after one more look: the window manager may not have told of the change yet)."""
        if self._clicked:
            self._clicked -= 1
            if not self._clicked:
                self._before_switch = None

    def _maybe_switching(self) -> None:
        """A key that may switch windows (an Alt or Super chord: Alt+Tab) or a click is coming:
        should the window change next, the one left keeps the context from before it."""
        if self._before_switch is None:
            self._before_switch = (self.context.text, self.context.unheard)

    def _typing(self) -> None:
        """A key that edits the text: the window did not change before it (a click just before
        may still be the one that activated a window the keyboard has not seen yet)."""
        self._before_switch = None

    # --- the physical keyboard and the pointer ------------------------------
    def physical_key(self, key: PhysicalKey) -> None:
        """A key pressed on the desktop: the keyboard's own is left alone, a switch key too;
        the user's changes the context as the same key on the keyboard would (``key_effect``)."""
        if self.own_keys.is_own(key.keycode, key.received) or key.name.lower() in self.reserved_keys:
            return
        effect, chars = key_effect(key)
        if effect == "ignore":
            return
        self._auto_space = False  # (a full stop typed there comes after the space, as typed)
        if effect == "menu":
            self._maybe_switching()
        else:
            self._typing()
        if effect == "type":
            self.context.type(chars)
        elif effect == "backspace":
            self.context.backspace()
        elif effect == "menu":
            self.context.lose(MENU_OPEN)
        elif effect == "field":
            self._tabbed()
        elif effect == "start":
            self._at_start()
        else:
            self.context.lose(WORD_UNHEARD)
        self._physical_refresh.start()

    def _tabbed(self) -> None:
        """Tab: the next field (its text selected, or none) or, in the editor, a suggestion taken
        with its space, a word's start; in a terminal a name completed, maybe halfway."""
        if self.terminal:
            self.context.lose(WORD_UNHEARD)
        else:
            self._at_start()

    def _at_start(self) -> None:
        """What is typed next begins the text (Tab to a field, Ctrl+A), unless a menu may have
        the keys: there they move in the menu."""
        if self.context.unheard == MENU_OPEN:
            self.context.lose(MENU_OPEN)
        else:
            self.context.reset()

    def cursor_moved(self, *, click: bool = True) -> None:
        """A click in another place: a sentence starts there, and the word typed next is heard
        whole; but while a menu may be open the click may have been on its item, the cursor
        then back where it was, maybe inside a word.  The click may also be the one that
        activated another window (``focus_changed``), whose cursor it then moved."""
        if click:
            self._maybe_switching()
            self._clicked = 2  # (``focus_settled``)
        self.context.reset(WORD_UNHEARD if self.context.unheard == MENU_OPEN else HEARD)
        self._auto_space = False
        self._physical_refresh.start()

    def keys_went_unheard(self) -> None:
        """Following the physical keyboard starts again (turned back on, the keyboard shown
        again): keys typed meanwhile went unheard, the cursor may be inside a word."""
        self.context.lose(WORD_UNHEARD)
        self.windows.lose(WORD_UNHEARD)  # (the keys may have gone to any window)
        self._auto_space = False
        self.refresh()

    # --- keys -------------------------------------------------------------
    def press(self, key: Key) -> None:
        """One activation of ``key`` (a click, a dwell or a scan select)."""
        self.stats.activations += 1
        if key.action not in MODIFIERS + ("shift", "caps"):
            if any(m in self.sticky for m in ("alt", "super")):
                self._maybe_switching()  # (Alt, Tab on the keyboard: maybe another window)
            else:
                self._typing()
        if key.action in MODIFIERS:
            self._cycle(key.action)
        elif self._chorded(key):
            self._chord(key)
        elif key.action == "shift":
            self.shift = not self.shift
            self.modifiers_changed.emit(self.shift, self.caps)
        elif key.action == "caps":
            self.caps, self.shift = not self.caps, False
            self.modifiers_changed.emit(self.shift, self.caps)
        elif key.action == "space":
            self._type(" ")
        elif key.action in KEY_ACTIONS:
            self._press_action(key.action)
        else:
            shifted = self.shift != (self.caps and key.char.isalpha())
            self._type(key.text(shifted))
            self._use_up_shift()
        if key.action not in MODIFIERS + ("shift", "caps"):
            self._use_up_sticky()
        self.stats_changed.emit(self.stats)
        self.refresh()

    # --- sticky modifiers ---------------------------------------------------
    def _cycle(self, modifier: str) -> None:
        """Off -> latched -> locked -> off."""
        state = self.sticky.get(modifier)
        if state is None:
            self.sticky[modifier] = LATCHED
        elif state == LATCHED:
            self.sticky[modifier] = LOCKED
        else:
            del self.sticky[modifier]
        self.sticky_changed.emit(dict(self.sticky))

    def _use_up_sticky(self) -> None:
        """A key (or a suggestion) was pressed: the latched modifiers are off again."""
        kept = {m: state for m, state in self.sticky.items() if state == LOCKED}
        if kept != self.sticky:
            self.sticky = kept
            self.sticky_changed.emit(dict(self.sticky))

    def _use_up_shift(self) -> None:
        if self.shift:
            self.shift = False
            self.modifiers_changed.emit(self.shift, self.caps)

    def _chorded(self, key: Key) -> bool:
        """Whether ``key`` goes out as a chord: Ctrl, Alt or Super is on; Fn is, and the key has a
        function key (Fn on a key without one leaves it as it is); or Shift is, on Tab or an arrow
        (Shift+Tab goes back through a dialog, Shift+arrows select: Shift is sent, not typed)."""
        if key.action and key.action not in CHORD_KEYS:
            return False
        return (any(m in self.sticky for m in ("ctrl", "alt", "super")) or ("fn" in self.sticky and bool(key.fn))
                or (self.shift and key.action in SHIFT_CHORDS))

    def _chord(self, key: Key) -> None:
        modifiers = tuple(m for m in ("ctrl", "alt", "super") if m in self.sticky)
        if self.shift:
            modifiers += ("shift",)
        if "fn" in self.sticky and key.fn:
            target = key.fn.lower()
        else:
            target = key.action or key.text(self.shift)  # (Caps is the keyboard's, not the target's)
        self._auto_space = False
        if target in self.reserved_keys:  # the switch-key grab would take it (``switches``)
            self._report(InjectionError(f"{target.upper()} is a switch key while scanning, so the keyboard "
                                        "cannot send it (⚙ → Switch keys… can choose others)."))
        elif self._sent(lambda k: self.injector.chord(modifiers, k), target):
            # Alt+F, F10: a menu may take the next keys; Ctrl+A: all selected (a shell: the line's
            # start), what is typed next begins the text; Ctrl+Z, Ctrl+V, Ctrl+Left...: the text at
            # the cursor is unknown, maybe inside a word.
            if target in MENU_KEYS or any(m in modifiers for m in ("alt", "super")):
                self.context.lose(MENU_OPEN)
            elif modifiers == ("ctrl",) and target.lower() == "a":
                self._at_start()
            else:
                self.context.lose(WORD_UNHEARD)
        self._use_up_shift()

    def _type(self, char: str) -> None:
        eat_space = char in SPACE_EATERS and self._auto_space and self.context.text.endswith(" ")
        self._auto_space = False
        if eat_space:
            if not (self._sent(self.injector.prepare, char) and self._sent(self.injector.press, "backspace")):
                return
            self.context.backspace()
        before = self.context.text
        if not self._send_text(char):
            return
        self.stats.keys_typed += 1
        if not (char.isalnum() or char in "'’"):
            self._learn_partial(before)

    def _sent(self, send: Callable[[str], None], argument: str) -> bool:
        """``send(argument)`` (an injector's method); False, with the sentence shown, if it failed."""
        try:
            send(argument)
        except InjectionError as e:
            self._report(e)
            return False
        self._report(None)
        return True

    def _send_text(self, text: str) -> bool:
        """Type ``text``; the context gets what reached the target: all of it, or the part before a failure."""
        try:
            self.injector.type_text(text)
        except InjectionError as e:
            self.context.type(e.delivered)
            self._report(e)
            return False
        self.context.type(text)
        self._report(None)
        return True

    def _report(self, error: InjectionError | None) -> None:
        if error is not None:
            log.warning("%s", error)  # (a sentence: "Keys could not be sent (…).")
            self._failing = True
            self.send_failed.emit(str(error))
        elif self._failing:
            self._failing = False
            self.send_failed.emit("")

    def _press_action(self, action: str) -> None:
        self._auto_space = False
        if not self._sent(self.injector.press, action):
            return
        self.stats.keys_typed += 1
        if action == "backspace":
            self.context.backspace()
        elif action == "enter":
            self._learn_partial(self.context.text)
            self.context.type("\n")
        elif action == "tab":
            self._tabbed()
        elif action in CONTEXT_LOST:
            self.context.lose(WORD_UNHEARD)

    # --- suggestions put in -------------------------------------------------
    def accept(self, index: int) -> bool:
        """Put suggestion ``index`` in: the rest of the word and a space (or Backspaces and the
        word, when what was typed differs from it in case)."""
        text = self.context.text
        if self.context.unheard or self._shown_for != text or not 0 <= index < len(self.suggestions):
            return False
        suggestion = self.suggestions[index]
        try:
            edit = self.worker.try_call(lambda p: p.accept(text, suggestion, ""))
        except Exception:  # noqa: BLE001 - an engine error must not type anything wrong
            log.exception("accept failed")
            return False
        if edit is None:
            return False
        self._typing()
        partial = text[edit.start:edit.end]
        replacement = edit.replacement
        self._auto_space = False
        if replacement.startswith(partial):
            typed = self._send_text(replacement[len(partial):])
        else:
            # Nothing is erased unless the word can be typed in its place.
            if not self._sent(self.injector.prepare, replacement):
                return False
            for _ in partial:
                if not self._sent(self.injector.press, "backspace"):
                    self.refresh()
                    return False
                self.context.backspace()
            typed = self._send_text(replacement)
        if not typed:
            self.refresh()
            return False
        self._auto_space = replacement.endswith(" ")
        # One-shot: used up by the word, or it capitalised the next word's first letter.
        self._use_up_shift()
        self._use_up_sticky()
        self.stats.activations += 1
        self.stats.accepts += 1
        self.stats.chars_accepted += max(0, len(replacement) - len(partial))
        self.stats_changed.emit(self.stats)
        context = local_context(self._tokenizer(), text[:edit.start])
        previous, initial = context.tokens[-1], context.sentence_start
        for each in replacement.strip().split(" "):  # a phrase, a slip's "a lot": each word after the one before
            self._learn(previous, each, initial)
            previous, initial = each.lower(), False
        self.refresh()
        return True

    # --- learning (opt-in) ----------------------------------------------------
    def _tokenizer(self) -> Tokenizer:
        predictor = self.worker.predictor
        return getattr(predictor, "tokenizer", None) or self._fallback_tokenizer

    def _learn_partial(self, text: str) -> None:
        if not self.learning or self.personal is None:
            return
        context = local_context(self._tokenizer(), text)
        if context.partial:
            self._learn(context.tokens[-1], context.partial, context.sentence_start)

    def _learn(self, previous: str, word: str, initial: bool) -> None:
        if self.learning and self.personal is not None and word and not self.target_learns():
            if self.personal.observe(previous, word, initial=initial):
                self.learned.emit()
