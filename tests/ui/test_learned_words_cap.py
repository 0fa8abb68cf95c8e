"""An import over the cap on learned words says in the dialog's status line how many went
(``learning.MAX_WORDS``, docs/CONTRACTS.md "Learned words")."""

from __future__ import annotations

import json

from keyboard_app import learning


def test_the_status_line_says_how_many_words_an_import_dropped(qtbot, window, boxes, tmp_path, monkeypatch):
    monkeypatch.setattr(learning, "MAX_WORDS", 50)  # a prune keeps 49
    counts = {f"w{chr(97 + i // 26)}{chr(97 + i % 26)}": 2 for i in range(60)}
    path = tmp_path / "elsewhere.json"
    path.write_text(json.dumps({"format": learning.EXPORT_FORMAT, "format_version": 1, "unigrams": counts,
                                "bigrams": {}, "forms": {}, "blocked": []}), encoding="utf-8")
    dialog = window.learned_words_dialog()
    qtbot.waitExposed(dialog)
    boxes.files.append(path)
    dialog.import_button.click()
    assert len(window.personal) == 49
    assert "; 11 little-used words were dropped to keep at most 50 learned words." in dialog.status.text()
    dialog.close()
