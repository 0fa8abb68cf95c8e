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
plain light palette's frame is left as the style draws it).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

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


class FramedIndicators(QProxyStyle):
    """The style as it is, with check boxes' and radio buttons' frames drawn visibly on a dark
    palette and in high contrast (module docstring): menus' check items too, which the style
    draws as check boxes."""

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption,  # noqa: N802 - Qt API
                      painter: QPainter, widget: QWidget | None = None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in INDICATORS:
            return
        palette = option.palette
        color = QColor(palette.color(R.WindowText))
        high_contrast = palette.color(R.Mid) == color  # (both high-contrast palettes say so)
        if not high_contrast:
            if not is_dark(palette):
                return
            color.setAlphaF(DARK_FRAME_OPACITY)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(color, 1.0))
        painter.setBrush(QColor(0, 0, 0, 0))
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -1.5, -1.5)
        if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect)
        else:
            painter.drawRect(rect)
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
