"""The keyboard follows the physical keyboard under a real X server (Xvfb, openbox, H71).

A newcomer typed a word on the physical keyboard, then clicked a suggestion on the on-screen
one: the two came out glued ("yourThe"), since the keyboard knew only its own keys.  Here
xdotool types as a physical keyboard does (XTest, as the keyboard's own keys too), and the
keyboard's context must hold what was typed, each of its own keys once.  Skipped where Xvfb,
openbox or xdotool is missing (``test_osk_x11``).
"""

from __future__ import annotations

import sys

from keyboard_app.engine.predictor import Predictor
from test_osk_x11 import HERE, pytestmark, read_json, start_target, wait_for, x11  # noqa: F401 - the fixture

TYPED = "the cat sat on the "


def test_a_suggestion_after_physical_typing_lands_after_the_space_and_own_keys_count_once(x11, tiny_bundle):
    target_state, target = start_target(x11, "target")
    osk_state = x11.tmp_path / "osk.json"
    x11.start("osk", [sys.executable, str(HERE / "osk_driver.py"), str(osk_state), "--model", str(tiny_bundle)])
    wait_for("the keyboard with its first suggestions",
             lambda: (s := read_json(osk_state)) and s["keys"] and s["suggestions"])

    def target_text() -> str:
        return read_json(target_state)["text"]

    def context_is(text: str) -> dict:
        try:
            return wait_for(f"the keyboard's context {text!r}",
                            lambda: (s := read_json(osk_state)) and s["context"] == text and s)
        except AssertionError:
            raise AssertionError(f"context {read_json(osk_state)['context']!r}, target {target_text()!r}, "
                                 f"not {text!r}\n{x11.log('osk')}")

    x11.run("xdotool", "type", "--delay", "40", TYPED)  # the physical keyboard
    wait_for("the typed text in the target", lambda: target_text() == TYPED)
    context_is(TYPED)
    # The strip predicts from what was typed (once the burst is through; the driver also
    # writes its state on a timer, so the context may be ahead of the strip for a moment).
    word = Predictor.load(tiny_bundle).suggest(TYPED, 4)[0].text
    first = wait_for(f"{word!r} first on the strip", lambda: (s := read_json(osk_state))
                     and s["suggestions"] and s["suggestions"][0]["text"] == word and s["suggestions"][0])
    x11.click(first["at"])
    expected = f"{TYPED}{word} "
    wait_for(f"{expected!r} in the target", lambda: target_text() == expected)
    context_is(expected)  # the keyboard's own keys, reported by the server too, counted once

    x11.run("xdotool", "type", "--delay", "40", "mx")
    x11.run("xdotool", "key", "BackSpace")
    context_is(expected + "m")
    x11.click(read_json(osk_state)["keys"]["a"])
    wait_for("the keyboard's a in the target", lambda: target_text() == expected + "ma")
    context_is(expected + "ma")

    x11.run("xdotool", "key", "ctrl+a")  # a shortcut: the text at the cursor is unknown
    context_is("")
    assert x11.active_window() == target["window"]
