"""The controller's small pure parts: the keystroke count and the change measure."""

from __future__ import annotations

import pytest

from keyboard_app.ui.controller import KeystrokeStats, common_prefix_length


@pytest.mark.parametrize("a, b, expected", [
    ("", "", 0), ("abc", "abc", 3), ("abc", "abcdef", 3), ("abcdef", "abc", 3),
    ("abXdef", "abYdef", 2), ("x" * 10_000 + "a", "x" * 10_000 + "b", 10_000), ("a", "b", 0),
])
def test_common_prefix_length(a, b, expected):
    assert common_prefix_length(a, b) == expected


def test_keystroke_savings():
    stats = KeystrokeStats()
    assert stats.ksr is None
    stats.keys_typed, stats.accepts, stats.chars_accepted = 18, 1, 6  # "Alice met Bob in L" + "ondon "
    assert stats.keystrokes_saved == 5 and stats.keystrokes_without == 24
    assert stats.ksr == pytest.approx(100 * 5 / 24)
