"""Text that does not fit is elided with "…" (or drawn smaller), never clipped.

``ElidedLabel`` draws its text elided to its width, smaller first if allowed
(a suggestion word is elided in the middle: its start is what the user typed,
its end is what tells "internationally" from "internationalization"); ``ElidingStatusBar`` does the same
for the temporary messages of a status bar, between its left edge and its
permanent widgets, and puts the whole message in its tooltip.

A dialog that does not fit its screen scrolls instead of running off it
(H53's finding 3: at 200 % on a 1280x800 or 1024x768 screen the Preferences,
the model manager and the retrain dialog were taller or wider than the
screen, their buttons below its edge): ``Scrolling`` holds a dialog's content
above its buttons, and ``fit_to_screen`` sizes the dialog to what it asks
for, within its screen's available geometry.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QScrollArea, QSizePolicy, QStatusBar, QWidget

from .boxes import plain_tooltip

QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's "no maximum" for a widget's size

# What a window manager's title bar and frame take beyond a window's own size (logical
# pixels, generous: the size of a title bar is not known before the window is shown).
FRAME_ROOM = QSize(16, 48)


def fitting_font(font: QFont, text: str, width: float, shrink: float) -> QFont:
    """``font``, or the first of five smaller sizes, down to ``shrink`` of its size, at which
    ``text`` fits ``width`` (the smallest where none does).

    Widths are measured in fractions of a pixel, as ``elidedText`` measures them: a
    whole-pixel advance can round a text that is a fraction too wide down to "fits",
    and the text is then elided at full size instead of drawn a little smaller."""
    font = QFont(font)
    size = font.pointSizeF()
    if shrink >= 1.0 or size <= 0 or QFontMetricsF(font).horizontalAdvance(text) <= width:
        return font
    for step in range(1, 6):
        font.setPointSizeF(size * (1 - (1 - shrink) * step / 5))
        if QFontMetricsF(font).horizontalAdvance(text) <= width:
            break
    return font


class ElidedLabel(QLabel):
    """A one-line label that elides its text with "…" instead of clipping it.

    With ``shrink`` below 1 a text that does not fit is first drawn smaller, down to
    that share of the font's size, and elided only if it still does not fit.
    """

    def __init__(self, text: str = "", *, mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
                 shrink: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._mode = mode
        self._shrink = shrink
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_elide_mode(self, mode: Qt.TextElideMode) -> None:
        self._mode = mode
        self.update()

    def drawn_font(self) -> QFont:
        """The font the text is drawn in: the label's, or smaller (see ``shrink``, ``fitting_font``)."""
        return fitting_font(self.font(), self.text(), self.contentsRect().width(), self._shrink)

    def smallest_font(self) -> QFont:
        """The smallest font the text may be drawn in, where it is short of room."""
        return fitting_font(self.font(), self.text(), 0, self._shrink)

    def elided_text(self) -> str:
        """The text as drawn at the current width."""
        width = self.contentsRect().width()
        return QFontMetricsF(self.drawn_font()).elidedText(self.text(), self._mode, max(0, width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        hint = super().minimumSizeHint()
        return QSize(self.fontMetrics().horizontalAdvance("W…"), hint.height())

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setFont(self.drawn_font())
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment()), self.palette(),
                                  self.isEnabled(), self.elided_text(), self.foregroundRole())


class ElidingStatusBar(QStatusBar):
    """A status bar whose messages are elided to the room left by its permanent widgets.

    The permanent widgets (the model's name, the keystroke count) stay in view while a
    message is shown: they stepped aside for a long one, and a newcomer lost the count
    and the model's name to every long message (H72).  Those added with ``yields=True``
    (elided labels) are narrowed instead, elided, where a message would otherwise have
    less than ``MESSAGE_SHARE`` of the bar; the message is elided to what is left, the
    whole of it in the bar's tooltip.
    """

    MESSAGE_SHARE = 1 / 3  # of the bar's width, the least a long message keeps beside narrowed widgets

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._yielding: list[QWidget] = []
        self.messageChanged.connect(self._message_changed)

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0, *, yields: bool = False) -> None:  # noqa: N802
        super().addPermanentWidget(widget, stretch)
        if yields:
            self._yielding.append(widget)

    def _message_changed(self, message: str) -> None:
        self._make_room(message)
        self.setToolTip(plain_tooltip(message) if message and message != self.elided_message() else "")
        self.update()

    def _make_room(self, message: str) -> None:
        """Narrow the yielding widgets while ``message`` needs their room (never below their
        own minimum, never hidden); give it back once the message is gone or fits."""
        for widget in self._yielding:
            widget.setMaximumWidth(QWIDGETSIZE_MAX)
        layout = self.layout()
        if layout is not None:
            layout.activate()  # the room they leave at their own width, before it is measured
        if not message:
            return
        lacking = min(self.fontMetrics().horizontalAdvance(message) + 12,
                      int(self.width() * self.MESSAGE_SHARE)) - self.message_rect().width()
        for widget in self._yielding:
            if lacking <= 0 or not widget.isVisible():
                continue
            width = widget.width()
            narrowed = max(widget.minimumSizeHint().width(), width - lacking)
            widget.setMaximumWidth(narrowed)
            lacking -= width - narrowed
        if layout is not None:
            layout.activate()

    def message_rect(self) -> QRect:
        """Where the message is drawn: from the left edge to the first permanent widget."""
        right = self.width()
        for child in self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if child.isVisible() and child.geometry().left() > 0:
                right = min(right, child.geometry().left())
        rect = self.rect().adjusted(6, 0, 0, 0)
        rect.setRight(right - 6)
        return rect

    def elided_message(self) -> str:
        return self.fontMetrics().elidedText(self.currentMessage(), Qt.TextElideMode.ElideRight,
                                             max(0, self.message_rect().width()))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._message_changed(self.currentMessage())

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        if not self.currentMessage():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(self.message_rect(), int(Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter
                                                  | Qt.TextFlag.TextSingleLine), self.elided_message())


class Scrolling(QScrollArea):
    """A dialog's content, scrolled where the screen is too small for it.

    It asks for its content's whole size (a plain scroll area asks for at most 24
    lines), so on a screen with room the dialog shows everything and no scroll bar;
    it has no frame and is no Tab stop (the controls in it are, and Tab scrolls to
    them).
    """

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        # Room for the vertical scroll bar too, which a capped height brings.
        hint = self.widget().sizeHint()
        return QSize(hint.width() + self.verticalScrollBar().sizeHint().width(), hint.height())


def screen_room(window: QWidget) -> QSize:
    """The most a window may take on its screen (its parent's, before it is shown): the
    screen's available geometry, less the window manager's frame."""
    screen = window.screen() or QApplication.primaryScreen()
    return screen.availableGeometry().size() - FRAME_ROOM


def fit_to_screen(window: QWidget, size: QSize | None = None) -> None:
    """Resize ``window`` to ``size`` (its size hint by default), but no larger than its
    screen has room for; its layout must let it be that small (``Scrolling``)."""
    window.resize((size or window.sizeHint()).boundedTo(screen_room(window)))
