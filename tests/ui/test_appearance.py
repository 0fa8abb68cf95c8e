"""The themes' check boxes and radio buttons can be seen (H25's finding 3): on high contrast's
black, the style framed them in black, and an unchecked box was not drawn at all."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QRadioButton, QStyle, QStyleOptionButton

from keyboard_app.ui import appearance


@pytest.fixture
def themed():
    yield appearance.apply_theme
    appearance.apply_theme("system")  # the palette is the application's: give it back


def indicator_contrast(qtbot, widget_class, element) -> float:
    """The largest lightness difference between the unchecked indicator's pixels and the
    window's colour (0: nothing is drawn but the background)."""
    button = widget_class("An option")
    qtbot.addWidget(button)
    button.resize(200, 40)
    button.show()
    qtbot.waitExposed(button)
    option = QStyleOptionButton()
    button.initStyleOption(option)
    rect = button.style().subElementRect(element, option, button)
    image = button.grab().toImage()
    scale = image.devicePixelRatio()
    window = button.palette().color(button.backgroundRole()).lightnessF()
    return max(abs(QColor(image.pixel(int(x * scale), int(y * scale))).lightnessF() - window)
               for x in range(rect.left(), rect.right() + 1) for y in range(rect.top(), rect.bottom() + 1))


@pytest.mark.parametrize("theme, high_contrast", [("dark", True), ("dark", False), ("light", True)])
@pytest.mark.parametrize("widget_class, element", [
    (QCheckBox, QStyle.SubElement.SE_CheckBoxIndicator),
    (QRadioButton, QStyle.SubElement.SE_RadioButtonIndicator),
])
def test_an_unchecked_box_stands_out_from_the_window(qtbot, themed, theme, high_contrast, widget_class, element):
    themed(theme, high_contrast=high_contrast)
    # 3:1 against the background is WCAG's minimum for a control's boundary: about a third of
    # the lightness range between black and white
    assert indicator_contrast(qtbot, widget_class, element) >= 0.35
