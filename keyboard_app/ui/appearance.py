"""The app's look: light, dark or the system's palette, and high contrast.

The palette is set on the application, so the dialogs follow the window.
"system" gives back the palette the application started with.  High
contrast is pure black on white (white on black when dark), with the
highlight kept far from both.

Fusion (the style on a desktop without a theme of its own) frames a check
box or a radio button in a colour darker than the window's: on a dark
window that is all but the window's own colour, and on high contrast's black
it is black, so an unchecked box was not drawn at all.  ``FramedIndicators``
draws the frame again, in a colour that stands out from a dark background,
wherever the palette is dark, and in the text's colour in high contrast (a
plain light palette's frame is left as the style draws it).  It does the same
for the edges of text fields, spin boxes and combo boxes, which Fusion draws in
a shade of the window's colour (black on high contrast's black).

The focus is drawn so it can be seen (H48's findings 4 and 5): Fusion's focus
rectangle was a pale tint of the highlight (under 2:1 against the window), and
drawn only after Tab, not after a mnemonic; a focused list, tree or text pane
showed nothing until it had a current row.  The focus rectangle is now two
pixels in the first of the highlight, the text and the highlighted text's
colours that has 3:1 contrast with what is behind it, however the focus came;
a focused list, tree or read-only text pane is ringed the same way.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleOption,
    QStyleOptionButton,
    QStyleOptionFocusRect,
    QTextBrowser,
    QWidget,
)

_system_palette: QPalette | None = None
_applied: tuple[str, bool] = ("system", False)

R = QPalette.ColorRole
G = QPalette.ColorGroup


def _palette(colors: dict[QPalette.ColorRole, str], disabled: str) -> QPalette:
    palette = QPalette()
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (R.WindowText, R.Text, R.ButtonText):
        palette.setColor(G.Disabled, role, QColor(disabled))
    return palette


def light_palette(high_contrast: bool = False) -> QPalette:
    text = "#000000" if high_contrast else "#1e1e1e"
    return _palette({
        R.Window: "#ffffff" if high_contrast else "#efefef", R.WindowText: text, R.Base: "#ffffff",
        R.AlternateBase: "#f3f3f3", R.Text: text, R.Button: "#ffffff" if high_contrast else "#efefef",
        R.ButtonText: text, R.Highlight: "#0000c0" if high_contrast else "#2f65ca",
        R.HighlightedText: "#ffffff", R.ToolTipBase: "#ffffdc", R.ToolTipText: "#000000",
        R.PlaceholderText: "#3a3a3a" if high_contrast else "#6b6b6b", R.Link: "#0b50c0",
        R.Mid: "#000000" if high_contrast else "#b8b8b8", R.Midlight: "#e3e3e3",
        R.Dark: "#9f9f9f", R.Light: "#ffffff", R.Shadow: "#767676", R.BrightText: "#ffffff",
    }, disabled="#5c5c5c" if high_contrast else "#8a8a8a")


def dark_palette(high_contrast: bool = False) -> QPalette:
    text = "#ffffff" if high_contrast else "#e8e8e8"
    return _palette({
        R.Window: "#000000" if high_contrast else "#2b2b2b", R.WindowText: text,
        R.Base: "#000000" if high_contrast else "#1f1f1f", R.AlternateBase: "#333333", R.Text: text,
        R.Button: "#000000" if high_contrast else "#353535", R.ButtonText: text,
        R.Highlight: "#ffd400" if high_contrast else "#3d7bd9",
        R.HighlightedText: "#000000" if high_contrast else "#ffffff", R.ToolTipBase: "#3a3a3a",
        R.ToolTipText: "#ffffff", R.PlaceholderText: "#cfcfcf" if high_contrast else "#a0a0a0",
        R.Link: "#8ab4ff", R.Mid: "#ffffff" if high_contrast else "#5a5a5a", R.Midlight: "#444444",
        R.Dark: "#151515", R.Light: "#505050", R.Shadow: "#000000", R.BrightText: "#ffffff",
    }, disabled="#b0b0b0" if high_contrast else "#7d7d7d")


def is_dark(palette: QPalette) -> bool:
    return palette.color(R.Window).lightness() < 128


#: The frame of a check box or radio button on a dark palette: the text colour at this
#: opacity (a contrast of at least 3:1 with the background, as WCAG asks of a control's
#: boundary); high contrast draws it in the text colour itself.
DARK_FRAME_OPACITY = 0.6
INDICATORS = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorRadioButton)
PE, CE, CC = QStyle.PrimitiveElement, QStyle.ControlElement, QStyle.ComplexControl
FIELDS = (CC.CC_SpinBox, CC.CC_ComboBox)  # their edges; a line edit's is PE_FrameLineEdit
FOCUS_WIDTH = 2.0  # WCAG 2.4.13's least: a 2 px ring around the focused control
NON_TEXT_CONTRAST = 3.0  # WCAG 1.4.11: a control's boundary and its focus against what is beside them


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2's contrast ratio of two colours (1 to 21)."""

    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def focus_color(palette: QPalette, behind: QColor | None = None) -> QColor:
    """The focus ring's colour: the highlight's where it stands out (3:1) from ``behind``
    (by default the window and the fields both), else the text's or the highlighted text's."""
    grounds = [behind] if behind is not None and behind.isValid() else [palette.color(R.Window),
                                                                        palette.color(R.Base)]
    for role in (R.Highlight, R.WindowText, R.HighlightedText):
        color = palette.color(role)
        if all(contrast_ratio(color, ground) >= NON_TEXT_CONTRAST for ground in grounds):
            return color
    return palette.color(R.WindowText)


def is_high_contrast(palette: QPalette) -> bool:
    return palette.color(R.Mid) == palette.color(R.WindowText)  # (both high-contrast palettes say so)


def edge_color(palette: QPalette) -> QColor | None:
    """The colour a control's edge is drawn again in, or None where the style's will do:
    the text's in high contrast, the text's at ``DARK_FRAME_OPACITY`` on a dark palette."""
    color = QColor(palette.color(R.WindowText))
    if is_high_contrast(palette):
        return color
    if not is_dark(palette):
        return None
    color.setAlphaF(DARK_FRAME_OPACITY)
    return color


def _ringed(widget: QWidget | None) -> bool:
    """A pane whose focus the style would not show: a list, a tree, a read-only text pane
    (the editor, a text field, shows its caret)."""
    return isinstance(widget, (QAbstractItemView, QTextBrowser))


def _outline(painter: QPainter, option: QStyleOption) -> bool:
    """Save ``painter`` and set it to draw an edge in the palette's edge colour, unfilled;
    False (nothing saved) where the palette needs none.  The caller draws, then restores."""
    color = edge_color(option.palette)
    if color is None:
        return False
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(color, 1.0))
    painter.setBrush(QColor(0, 0, 0, 0))
    return True


class FramedIndicators(QProxyStyle):
    """The style as it is, with check boxes', radio buttons' and fields' edges drawn visibly on
    a dark palette and in high contrast, and the focus drawn so it can be seen (module
    docstring): menus' check items too, which the style draws as check boxes."""

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption,  # noqa: N802 - Qt API
                      painter: QPainter, widget: QWidget | None = None) -> None:
        if element == PE.PE_FrameFocusRect:
            behind = option.backgroundColor if isinstance(option, QStyleOptionFocusRect) else None
            self._ring(painter, QRectF(option.rect), focus_color(option.palette, behind))
            return
        super().drawPrimitive(element, option, painter, widget)
        if element in (PE.PE_FrameLineEdit, PE.PE_PanelButtonCommand):
            self._edge(painter, option)
        if element not in INDICATORS:
            return
        if not _outline(painter, option):
            return
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -1.5, -1.5)
        if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect)
        else:
            painter.drawRect(rect)
        painter.restore()

    def drawComplexControl(self, control: QStyle.ComplexControl, option: QStyleOption,  # noqa: N802 - Qt API
                           painter: QPainter, widget: QWidget | None = None) -> None:
        super().drawComplexControl(control, option, painter, widget)
        if control in FIELDS:
            self._edge(painter, option)
            if option.state & QStyle.StateFlag.State_HasFocus:  # (the style's own is 1 px, faint)
                self._ring(painter, QRectF(option.rect), focus_color(option.palette))

    def drawControl(self, element: QStyle.ControlElement, option: QStyleOption,  # noqa: N802 - Qt API
                    painter: QPainter, widget: QWidget | None = None) -> None:
        if (element == CE.CE_PushButtonLabel and isinstance(option, QStyleOptionButton)
                and not option.icon.isNull() and is_high_contrast(option.palette)):
            # The standard buttons' icons (Close's ✗) are drawn for a light window: black on
            # high contrast's black.  The words say it all.
            option = QStyleOptionButton(option)
            option.icon = QIcon()
        super().drawControl(element, option, painter, widget)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        if focused and (element == CE.CE_PushButton or (element == CE.CE_ShapedFrame and _ringed(widget))):
            self._ring(painter, QRectF(option.rect), focus_color(option.palette))

    @staticmethod
    def _edge(painter: QPainter, option: QStyleOption) -> None:
        """A field's edge again, where the style's is lost in a dark or high-contrast window."""
        if not _outline(painter, option):
            return
        painter.drawRoundedRect(QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5), 2.0, 2.0)
        painter.restore()

    @staticmethod
    def _ring(painter: QPainter, rect: QRectF, color: QColor) -> None:
        """The focus: ``FOCUS_WIDTH`` pixels just inside ``rect``."""
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        half = FOCUS_WIDTH / 2
        painter.setPen(QPen(color, FOCUS_WIDTH))
        painter.setBrush(QColor(0, 0, 0, 0))
        painter.drawRect(rect.adjusted(half, half, -half, -half))
        painter.restore()


def apply_theme(theme: str, *, high_contrast: bool = False) -> None:
    """Set the application's palette for ``theme`` ("system", "light" or "dark")."""
    global _system_palette, _applied
    app = QApplication.instance()
    if app is None or _applied == (theme, high_contrast):
        return
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
    if not isinstance(app.style(), FramedIndicators):  # before the palette: a new style resets it
        app.setStyle(FramedIndicators(app.style().name()))
    if theme == "light":
        palette = light_palette(high_contrast)
    elif theme == "dark":
        palette = dark_palette(high_contrast)
    elif high_contrast:
        palette = dark_palette(True) if is_dark(_system_palette) else light_palette(True)
    else:
        palette = _system_palette
    app.setPalette(palette)
    _applied = (theme, high_contrast)
