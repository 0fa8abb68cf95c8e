"""The suggestion strip: one to five buttons above the editor.

Buttons never take the keyboard focus, so clicking one leaves the caret in
the editor.  Each shows its number (the Alt/Ctrl shortcut), the first one
is marked as the Tab target, and a right-click offers to forget the word.
The strip keeps its height when empty, so the text never jumps; it is as
tall as its words' font needs (the larger buttons of the Preferences or
more), so a large size never cuts a word's top or descenders off.

Text that does not fit is drawn a little smaller, then elided with "…" (a
word in its middle: it keeps the start that was typed and the end that
tells it from the other completions), never clipped; the whole text is in
the tooltip and the accessible name.  While every word fits an equal share
of the strip (at its own size, or a little smaller where every slot holds a
word), the slots have equal shares, empty ones too, and keep their place and
width at every keystroke, as on a phone's keyboard (H72: with five slots
they were shared by the words' lengths, and the strip jittered under the
eyes).  Otherwise the width goes to the words: slots share it by what their
words need (equally while the words are short), empty slots beside words (or
beside the placeholder) are hidden, and a word that does not fit beside the
number's balancing space gets that space too.
Where the words do not fit at full size (a narrow window, five long words),
the gaps between and inside the slots narrow first, then the words are
drawn smaller, and only then elided (across the strip too: no word is
elided beside one drawn larger than it must be), never below
``READABLE_LETTERS`` of a long word: the strip shows as many words as it
can say legibly, in rank order, and hides the slots after them (a narrow
window with five slots and a large font showed "i…t", "i…l" and two lone
"…", H53's finding 1).  The
shown words keep their numbers, so Alt+1 … Alt+n stay right, and only they
are named to a screen reader (``shown_count``).  The strip
has a minimum width at which each slot still shows a few letters, and its
look follows the preferences: the word size (the editor's zoom, or its
own), larger buttons, high contrast.  Its colours are written into its style sheet from the
application's palette (the theme), with the slot numbers at WCAG AA
contrast or better.  A correction of mistyped letters (a suggestion of
``kind`` "correction") is drawn in italics, underlined, and says so in its
tooltip and accessible name.  A phrase (``kind`` "phrase": the next few
words in one slot) is drawn on a tinted background with a "»" after it, not
by colour alone, and says "phrase" likewise.  The strip's own accessible
name lists the words ("Suggestions: 1 happy, 2 happening"), and a change is
announced to a screen reader, since the buttons never have the focus.
"""

from __future__ import annotations

from math import ceil
from typing import Any, Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QAction,
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QPalette,
)
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QMenu, QPushButton, QSizePolicy, QWidget

from ..settings import DEFAULT_SUGGESTIONS, MAX_SUGGESTIONS, MIN_SUGGESTIONS
from .appearance import contrast_ratio
from .boxes import plain_tooltip
from .elide import ElidedLabel

MIN_SLOT_WIDTH = 84  # the number, and six or seven letters of a word before the "…"
SLOT_MARGIN, SLOT_SPACING = 6, 3  # inside a slot, around and between the number and the word
STRIP_MARGIN, STRIP_SPACING = 8, 6  # around the strip and between its slots
# Where the words do not fit: the gaps these take instead, before the words are drawn smaller.
COMPACT_SLOT_MARGIN, COMPACT_SLOT_SPACING = 3, 1
COMPACT_STRIP_MARGIN, COMPACT_STRIP_SPACING = 2, 2
BUTTON_HEIGHT, LARGE_BUTTON_HEIGHT = 40, 60  # the least: a slot grows with its word's font
WORD_PADDING = 2  # above and below the word, inside a slot
BORDER_ROOM = 4  # the thickest border a slot is drawn with (the first, in high contrast)
WORD_SCALE = 1.25  # the words are this much larger than the editor's text
READABLE_LETTERS = 10  # the fewest letters of a long word a slot shows (its start and end), or it is hidden
AA_CONTRAST = 4.5  # WCAG 2 AA for normal text


class SuggestionButton(QPushButton):
    """A flat button showing ``n  word``; the labels let clicks through."""

    def __init__(self, *, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.setObjectName(f"suggestion{index + 1}")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.base_height = BUTTON_HEIGHT  # or LARGE_BUTTON_HEIGHT (``set_base_height``)
        self.setMinimumHeight(BUTTON_HEIGHT)
        self.setMinimumWidth(MIN_SLOT_WIDTH)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(SLOT_MARGIN, WORD_PADDING, SLOT_MARGIN, WORD_PADDING)
        layout.setSpacing(SLOT_SPACING)
        self.compact = False  # narrower gaps (``set_compact``)
        self.hint = QLabel(str(index + 1))
        self.hint.setObjectName("hint")
        self.word = ElidedLabel("", mode=Qt.TextElideMode.ElideMiddle, shrink=0.75)
        self.word.setObjectName("word")
        self.word.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for label in (self.hint, self.word):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout.addWidget(self.hint)
        layout.addWidget(self.word, 1)
        self.correction = False  # the word is a correction of the typed letters
        self.placeholder = False
        self.spoken = ""  # the word as a screen reader says it
        # Balances the hint so a word that fits is centred; "»" after a phrase.  A word
        # that does not fit gets its room (``_balance``): centring costs it two letters.
        self.spacer = QLabel("")
        self.spacer.setFixedWidth(self.hint.sizeHint().width())
        layout.addWidget(self.spacer)

    def needed_width(self, *, compact: bool | None = None) -> int:
        """The width at which the word fits whole in the word's own size, centred (with the
        narrower gaps if ``compact``; by default the gaps it has)."""
        if not self.word.text():
            return 0
        compact = self.compact if compact is None else compact
        return self._room(self.word.fontMetrics().horizontalAdvance(self.word.text()), compact=compact)

    def legible_width(self) -> int:
        """The narrowest the slot can be and still say which word it holds, with the narrower
        gaps: the word whole at its smallest size, or a long word elided to its first and last
        letters, ``READABLE_LETTERS`` in all (and a pixel for the layout's rounding)."""
        text = self.word.text()
        if len(text) > READABLE_LETTERS:
            head = (READABLE_LETTERS + 1) // 2
            text = text[:head] + "…" + text[head - READABLE_LETTERS:]
        return self._room(QFontMetricsF(self.word.smallest_font()).horizontalAdvance(text), compact=True) + 1

    def shrunk_width(self) -> int:
        """The narrowest the slot shows its whole word at its smallest size with the usual
        gaps (the balancing space hidden, as ``_balance`` hides it where the word does not fit
        beside it; a phrase keeps its "»"), and a pixel for the layout's rounding."""
        text_width = QFontMetricsF(self.word.smallest_font()).horizontalAdvance(self.word.text())
        phrase = SLOT_SPACING + self.spacer.width() if self.spacer.text() else 0
        return (ceil(text_width) + 2 * SLOT_MARGIN + SLOT_SPACING + self.hint.sizeHint().width() + phrase
                + BORDER_ROOM + 1)

    def whole_width(self, font: QFont) -> int:
        """The narrowest the slot shows its whole word in ``font``, with the narrower gaps and
        without the balancing space (``_balance`` hides it where the word does not fit beside
        it; the border's room is kept, and a pixel for the layout's rounding)."""
        text_width = QFontMetricsF(font).horizontalAdvance(self.word.text())
        return (ceil(text_width) + 2 * COMPACT_SLOT_MARGIN + COMPACT_SLOT_SPACING + self.hint.sizeHint().width()
                + BORDER_ROOM + 1)

    def _room(self, text_width: float, *, compact: bool) -> int:
        """The slot's width around a text ``text_width`` wide: the gaps, the number, the
        space balancing it, and the border (thicker on the first slot and in high contrast)."""
        margin, spacing = (COMPACT_SLOT_MARGIN, COMPACT_SLOT_SPACING) if compact else (SLOT_MARGIN, SLOT_SPACING)
        return (ceil(text_width) + 2 * margin + 2 * spacing + self.hint.sizeHint().width() + self.spacer.width()
                + BORDER_ROOM)

    def set_compact(self, compact: bool) -> None:
        """Narrower gaps around and beside the word, where the words do not fit otherwise."""
        if compact == self.compact:
            return
        self.compact = compact
        margin, spacing = (COMPACT_SLOT_MARGIN, COMPACT_SLOT_SPACING) if compact else (SLOT_MARGIN, SLOT_SPACING)
        self.layout().setContentsMargins(margin, WORD_PADDING, margin, WORD_PADDING)
        self.layout().setSpacing(spacing)
        self._balance()

    def _balance(self) -> None:
        """Show the balancing spacer only where the word fits beside it (or a phrase's "»")."""
        phrase = bool(self.spacer.text())
        fits = self.needed_width() <= self.width()
        visible = not self.placeholder and (phrase or fits or not self.word.text())
        if visible != self.spacer.isVisibleTo(self):
            self.spacer.setVisible(visible)
            self.layout().activate()  # the word's width now, not at the next event

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._balance()

    def set_word(self, word: str, *, placeholder: bool = False, correction: bool = False,
                 phrase: bool = False) -> None:
        self.word.setText(word)
        if phrase != bool(self.property("phrase")):
            self.setProperty("phrase", phrase)  # the style sheet's tint
            self.style().unpolish(self)
            self.style().polish(self)
        self.spacer.setText("»" if phrase else "")
        if correction != self.correction:
            self.correction = correction
            self._mark(self.word.font())
        self.word.set_elide_mode(Qt.TextElideMode.ElideRight if placeholder else Qt.TextElideMode.ElideMiddle)
        # A long placeholder sentence reads from its start; it is left-aligned so it can
        # use the width, a word is centred.
        self.word.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                               if placeholder else Qt.AlignmentFlag.AlignCenter)
        self.placeholder = placeholder
        self._balance()
        name = self.spoken = f"{word} (correction)" if correction else f"{word} (phrase)" if phrase else word
        self.setAccessibleName(f"Suggestion {self.index + 1}: {name}" if word else f"Suggestion {self.index + 1}")

    def set_base_height(self, height: int) -> None:
        """The least height (larger buttons); a large word font makes the slot taller still."""
        self.base_height = height
        self._fit_height()

    def _fit_height(self) -> None:
        """Tall enough for the word's font: its ascent and descent, the padding and the border.
        At a fixed height the largest sizes of the Preferences cut the words' tops and
        descenders off ("happy" read "happv", H48's finding 1); the width shrinks or elides
        a word, the height never has to."""
        line = QFontMetrics(self.word.font()).height()
        self.setMinimumHeight(max(self.base_height, line + 2 * (WORD_PADDING + BORDER_ROOM)))

    def set_word_font(self, size: float, *, bold: bool = False) -> None:
        font = QFont(self.font())  # the button's: nothing left over from an earlier look
        font.setPointSizeF(size)
        font.setBold(bold)
        self._mark(font)

    def _mark(self, font: QFont) -> None:
        """The word's font, in italics and underlined for a correction."""
        font = QFont(font)
        font.setItalic(self.correction)
        font.setUnderline(self.correction)
        self.word.setFont(font)
        self._fit_height()
        self._balance()


def _mixed(a: QColor, b: QColor, share: float) -> QColor:
    """``a`` with ``share`` of ``b`` mixed in."""
    return QColor.fromRgbF(*(x * (1 - share) + y * share for x, y in
                             zip((a.redF(), a.greenF(), a.blueF()), (b.redF(), b.greenF(), b.blueF()))))


def muted_color(palette: QPalette, *, minimum: float = AA_CONTRAST) -> QColor:
    """A colour between the text's and the background's, as light as it can be while
    keeping ``minimum`` contrast with the background (the slot numbers, the placeholder)."""
    text = palette.color(QPalette.ColorRole.WindowText)
    base = palette.color(QPalette.ColorRole.Base)
    for step in range(60, -1, -5):  # the share of the background mixed in, in percent
        t = step / 100
        mixed = QColor.fromRgbF(
            text.redF() * (1 - t) + base.redF() * t,
            text.greenF() * (1 - t) + base.greenF() * t,
            text.blueF() * (1 - t) + base.blueF() * t,
        )
        if contrast_ratio(mixed, base) >= minimum:
            return mixed
    return text


class SuggestionStrip(QWidget):
    activated = Signal(int)  # the index of the suggestion to put in
    forget_requested = Signal(int)  # right-click: forget what was learned of it
    block_requested = Signal(int)  # right-click: never suggest it

    def __init__(self, *, slots: int = DEFAULT_SUGGESTIONS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("strip")
        self._suggestions: list[Any] = []
        self._placeholder = ""
        self._high_contrast = False
        self._large = False
        self._word_size: float | None = None
        self._restyling = False
        self.can_forget = lambda suggestion: False  # set by the window (personal layer)
        self.accept_key = "Tab"  # named in the first button's tooltip; "" when none
        layout = QHBoxLayout(self)
        layout.setContentsMargins(STRIP_MARGIN, 6, STRIP_MARGIN, 6)
        layout.setSpacing(STRIP_SPACING)
        self.compact = False  # the narrower gaps of a strip whose words do not fit (``_share_width``)
        self._shown = 0  # how many of the suggestions have a slot (``shown_count``)
        self.buttons: list[SuggestionButton] = []
        for i in range(MAX_SUGGESTIONS):
            button = SuggestionButton(index=i)
            button.clicked.connect(lambda _=False, i=i: self.activated.emit(i))
            button.customContextMenuRequested.connect(lambda pos, i=i: self._context_menu(i, pos))
            layout.addWidget(button)
            self.buttons.append(button)
        self.buttons[0].setProperty("first", True)
        self._slots = MAX_SUGGESTIONS
        self.set_slot_count(slots)
        self._restyle()

    # --- look ----------------------------------------------------------------------
    def slot_count(self) -> int:
        return self._slots

    def set_slot_count(self, slots: int) -> None:
        """Show ``slots`` buttons (MIN_SUGGESTIONS to MAX_SUGGESTIONS)."""
        self._slots = max(MIN_SUGGESTIONS, min(MAX_SUGGESTIONS, slots))
        self.setMinimumWidth(self._slots * MIN_SLOT_WIDTH + (self._slots - 1) * STRIP_SPACING + 2 * STRIP_MARGIN)
        self.set_suggestions(self._suggestions, placeholder=self._placeholder)

    def set_word_point_size(self, size: float) -> None:
        """The words' size in points (the numbers stay at the normal size)."""
        self._word_size = size
        for button in self.buttons:
            button.set_word_font(size, bold=self._high_contrast)
        self._share_width()  # by the new size
        self._tell_screen_reader(announce=False)

    def set_large_buttons(self, large: bool) -> None:
        self._large = large
        for button in self.buttons:
            button.set_base_height(LARGE_BUTTON_HEIGHT if large else BUTTON_HEIGHT)
        self._restyle()

    def set_high_contrast(self, on: bool) -> None:
        self._high_contrast = on
        self._restyle()

    def colors(self) -> QPalette:
        """The palette the strip is drawn with: the application's (the theme's).

        A widget with a style sheet keeps the palette it had when the sheet was set,
        so the colours are taken from the application and written into the sheet.
        """
        app = QApplication.instance()
        return QApplication.palette() if app is not None else self.palette()

    def hint_color(self) -> QColor:
        """The colour of the slot numbers and the placeholder (AA contrast, at least)."""
        if self._high_contrast:
            return self.colors().color(QPalette.ColorRole.WindowText)
        return muted_color(self.colors())

    def changeEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if self._restyling:
            return
        if event.type() in (event.Type.PaletteChange, event.Type.ApplicationPaletteChange):
            self._restyle()  # a theme change: the sheet's colours are the palette's

    def _restyle(self, force: bool = False) -> None:
        p = self.colors()
        R = QPalette.ColorRole

        def c(role: QPalette.ColorRole) -> str:
            return p.color(role).name()

        muted = self.hint_color().name()
        # a phrase's background (its border is any slot's: a frame in the highlight's colour is the
        # first slot's, the one Tab takes; two yellow frames in high contrast left it unclear, H77)
        tint = _mixed(p.color(R.Base), p.color(R.Highlight), 0.15).name()
        hc = self._high_contrast
        border = f"3px solid {c(R.WindowText)}" if hc else f"1px solid {c(R.Mid)}"
        first = "4px" if hc else "2px"
        bold = "font-weight: bold;" if hc else ""
        sheet = f"""
            QPushButton {{ border: {border}; border-radius: 6px; background: {c(R.Base)};
                          color: {c(R.Text)}; }}
            QPushButton:hover:enabled {{ background: {c(R.AlternateBase)}; border-color: {c(R.Highlight)}; }}
            QPushButton:pressed {{ background: {c(R.Midlight)}; }}
            QPushButton[first="true"]:enabled {{ border: {first} solid {c(R.Highlight)}; }}
            QPushButton[phrase="true"]:enabled {{ background: {tint}; }}
            QPushButton:disabled {{ border-style: dashed; }}
            QLabel#hint {{ color: {muted}; {bold} }}
            QLabel#word {{ color: {c(R.Text)}; }}
            QLabel#word:disabled {{ color: {muted}; }}
            """
        if force or self.styleSheet() != sheet:
            self._restyling = True  # setting a style sheet sends palette changes of its own
            try:
                if force and self.styleSheet() == sheet:
                    self.setStyleSheet("")
                self.setStyleSheet(sheet)
            finally:
                self._restyling = False
        if self._word_size is not None:  # bold in high contrast
            self.set_word_point_size(self._word_size)

    # --- content ---------------------------------------------------------------------
    def suggestions(self) -> list[Any]:
        return list(self._suggestions)

    def words(self) -> list[str]:
        return [s.text for s in self._suggestions]

    def shown_count(self) -> int:
        """How many of the suggestions are shown: the first ones, as many as the width shows
        legibly (the others are kept, and come back when the window is wider)."""
        return self._shown

    def placeholder(self) -> str:
        return self._placeholder

    def set_suggestions(self, suggestions: Sequence[Any], *, placeholder: str = "") -> None:
        self._suggestions = list(suggestions)[: self._slots]
        self._placeholder = placeholder
        for i, button in enumerate(self.buttons):
            if i < len(self._suggestions):
                word = self._suggestions[i].text
                kind = getattr(self._suggestions[i], "kind", "word")
                correction = kind == "correction"
                button.set_word(word, correction=correction, phrase=kind == "phrase")
                button.setEnabled(True)
                keys = f"{self.accept_key}, " if i == 0 and self.accept_key else ""
                action = "Correct to" if correction else "Insert the phrase" if kind == "phrase" else "Insert"
                button.setToolTip(plain_tooltip(
                    f"{action} “{word}” ({keys}Alt+{i + 1} or Ctrl+{i + 1})\nRight-click for more"
                ))
            elif i == 0 and not self._suggestions and placeholder:
                button.set_word(placeholder, placeholder=True)
                button.setEnabled(False)
                button.setToolTip(plain_tooltip(placeholder))  # may quote an error's file name
            else:
                button.set_word("")
                button.setEnabled(False)
                button.setToolTip(f"Suggestion {i + 1} (Alt+{i + 1} or Ctrl+{i + 1})")
        self._share_width()
        self._tell_screen_reader()

    def _tell_screen_reader(self, *, announce: bool = True) -> None:
        """The strip's name says the words shown; a change is announced (politely: after what
        is being read), unless it is only the window's width showing more or fewer of them.
        Its buttons never take the focus, so a screen reader heard nothing of the
        suggestions while the user typed (H48's finding 6)."""
        words = [f"{i + 1} {b.spoken}" for i, b in enumerate(self.buttons[: self._shown])]
        name = "Suggestions: " + ", ".join(words) if words else "Suggestions: none"
        if name == self.accessibleName():
            return
        self.setAccessibleName(name)  # (Qt sends the name's change itself)
        if words and announce:
            QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(self, name))

    def _share_width(self) -> None:
        """Give the width to what is shown.  While every word fits an equal share of the
        strip, every slot has that share, empty ones too (``_steady_share``): the slots keep
        their place and width as the words change at each keystroke.  Otherwise (a narrow
        window, a word too long for its share) the width is fitted to the words: a
        placeholder sentence may use the whole strip, and empty slots beside words give
        way to them.  Words share by what they need, but no less than a short word's
        share each, while a long word takes room from short ones before it is elided.
        Where the words do not fit, the gaps narrow, and each shown word gets at least its
        legible width."""
        placeholder = not self._suggestions and bool(self._placeholder)
        if not placeholder and self._steady_share():
            self._shown = len(self._suggestions)
            self._lay_out(self._slots, [1] * self._slots, compact=False)
            return
        self._shown = filled = self._legible_count()
        # Every slot while none holds anything (numbered, dashed: where words will come);
        # beside a word or the placeholder an empty slot would only take their width.
        shown = max(filled, 1) if filled or placeholder else self._slots
        needs = [b.needed_width(compact=False) for b in self.buttons[:filled]]
        gaps = (filled - 1) * STRIP_SPACING + 2 * STRIP_MARGIN
        compact = bool(filled) and sum(needs) + gaps > self.width()
        if not filled:
            stretches = [1] * self._slots
        elif compact:
            stretches = self._legible_shares(needs)
        else:  # short words' equal shares, unless they would cost a long word letters
            short = self.buttons[0].word.fontMetrics().horizontalAdvance("m" * 8)
            steady = [max(short, need) for need in needs]
            stretches = steady if sum(steady) + gaps <= self.width() else needs
        self._lay_out(shown, stretches, compact=compact)

    def _lay_out(self, shown: int, stretches: list[int], *, compact: bool) -> None:
        """Show the first ``shown`` slots, give them the width in the proportions of
        ``stretches``, and set the gaps, laid out at once: a change made while the strip is
        resized (from the steady shares to fitted ones) would otherwise wait for an event."""
        layout = self.layout()
        changed = [b.isVisibleTo(self) for b in self.buttons] != [i < shown for i in range(len(self.buttons))]
        for i, button in enumerate(self.buttons):
            button.setVisible(i < shown)
            stretch = stretches[i] if i < len(stretches) else 0
            changed = changed or layout.stretch(i) != stretch
            layout.setStretch(i, stretch)
        self._set_compact(compact)
        if changed:
            layout.activate()

    def _steady_share(self) -> bool:
        """Whether every word fits whole in an equal share of the strip (its slot count's,
        with the usual gaps): at its own size, or, where every slot holds a word, drawn a
        little smaller.  The slots then stay where they are while the user types, as on a
        phone's keyboard; with five slots they were shared by the words' lengths and moved
        at every keystroke (H72).  A word that does not fit so is never elided in its share
        beside others drawn larger than they must be: the width is fitted to the words
        instead (``_legible_shares``).  An empty slot is kept beside a word only where the
        word need not be drawn smaller for it (H18: empty slots took a word's room)."""
        words = self.buttons[: len(self._suggestions)]
        if not words:
            return False
        share = (self.width() - 2 * STRIP_MARGIN - (self._slots - 1) * STRIP_SPACING) // self._slots
        if share < MIN_SLOT_WIDTH:
            return False
        if all(b.needed_width(compact=False) <= share for b in words):
            return True
        return len(words) == self._slots and all(b.shrunk_width() <= share for b in words)

    def _legible_count(self) -> int:
        """How many of the words, in rank order, fit the width legibly with the narrower gaps
        (``SuggestionButton.legible_width``); the first is shown even where it does not."""
        room = self.width() - 2 * COMPACT_STRIP_MARGIN + COMPACT_STRIP_SPACING
        count = 0
        for button in self.buttons[: len(self._suggestions)]:
            room -= max(MIN_SLOT_WIDTH, button.legible_width()) + COMPACT_STRIP_SPACING
            if room < 0:
                break
            count += 1
        return max(count, min(1, len(self._suggestions)))

    def _legible_shares(self, needs: list[int]) -> list[int]:
        """The shown slots' widths where the words do not fit at full size (the layout's
        stretch factors: it gives them the width in these proportions): each its legible
        width; then, as far as the width goes, each its word whole at the smallest size, then
        whole at its own size, each short of it by a like share of what it lacks; what is
        left over shared by what the words need.  So across the strip, as in a slot, the
        words are drawn smaller before any is elided: the width shared by need alone elided
        the first word, the longest, beside words drawn larger than they had to be
        ("internati…alization" beside a whole "internationalize" at 13.8 pt, 650 px)."""
        buttons = self.buttons[: len(needs)]
        widths = [max(MIN_SLOT_WIDTH, b.legible_width()) for b in buttons]
        room = self.width() - 2 * COMPACT_STRIP_MARGIN - (len(needs) - 1) * COMPACT_STRIP_SPACING
        for wanted in ([b.whole_width(b.word.smallest_font()) for b in buttons],
                       [b.whole_width(b.word.font()) for b in buttons]):
            lacking = [max(0, want - width) for want, width in zip(wanted, widths)]
            spare = room - sum(widths)
            if spare <= 0 or not sum(lacking):
                continue
            given = min(spare, sum(lacking))
            widths = [width + given * lack // sum(lacking) for width, lack in zip(widths, lacking)]
        spare = max(0, room - sum(widths))
        return [width + spare * need // sum(needs) for width, need in zip(widths, needs)]

    def _set_compact(self, compact: bool) -> None:
        """Narrow the gaps between and inside the slots where the words need more than the
        width (before they are drawn smaller or elided); widen them again where they fit."""
        if compact != self.compact:
            self.compact = compact
            margin, spacing = ((COMPACT_STRIP_MARGIN, COMPACT_STRIP_SPACING) if compact
                               else (STRIP_MARGIN, STRIP_SPACING))
            self.layout().setContentsMargins(margin, 6, margin, 6)
            self.layout().setSpacing(spacing)
        for button in self.buttons:
            button.set_compact(compact)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._share_width()  # the width decides how many words are shown
        self._tell_screen_reader(announce=False)

    def _context_menu(self, index: int, pos: QPoint) -> None:
        if index >= len(self._suggestions):
            return
        menu = self.context_menu(index)
        menu.exec(self.buttons[index].mapToGlobal(pos))

    def context_menu(self, index: int) -> QMenu:
        suggestion = self._suggestions[index]
        menu = QMenu(self)
        insert = QAction(f"&Insert “{suggestion.text}”", menu)
        insert.triggered.connect(lambda: self.activated.emit(index))
        forget = QAction(f"&Forget “{suggestion.text}” (learned from my typing)", menu)
        # learning and blocking keep single words only: not a phrase, nor a slip's "a lot"
        phrase = suggestion.kind == "phrase" or " " in suggestion.text.strip()
        forget.setEnabled(not phrase and bool(self.can_forget(suggestion)))
        forget.triggered.connect(lambda: self.forget_requested.emit(index))
        block = QAction(f"&Never Suggest “{suggestion.text}”", menu)
        block.setEnabled(not phrase)
        block.triggered.connect(lambda: self.block_requested.emit(index))
        menu.addActions([insert])
        menu.addSeparator()
        menu.addActions([forget, block])
        return menu
