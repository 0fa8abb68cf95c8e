"""The retrain dialog's results and charts (H74's findings 8 and 9).

8: where the trainer held no text out, the dialog said "The models could not be compared:
your files are too short to hold any text out for the comparison" (no full stop) above a
table of "…" in every cell, as if the figures were still coming.
9: the better (lower) perplexity of an adapted model, which knows more words, was not in
bold beside its better keystroke figures; a new run's empty charts kept the last run's axes.
"""

from __future__ import annotations

import json
import sys

import pytest

from keyboard_app import retraining
from keyboard_app.ui import retrain_dialog
from test_retrain_dialog import (  # noqa: F401 - the fixtures, used by name
    READ, TRAINED_A_QUARTER, corpus, fake_trainer, kinds, open_dialog, results_page, start_and_wait_for,
)


@pytest.fixture
def trained_holding_nothing_out(monkeypatch, window):
    """A run whose 'trainer' writes a copy of the current model as the new bundle and a
    held-out file with no text in it, as keyboard-train does for files too short to cut."""
    source = window.current_model.path

    def command(request):
        script = (
            "import json, shutil\n"
            f"shutil.copytree({str(source)!r}, {str(request.out)!r})\n"
            f"open({str(request.heldout_file)!r}, 'w').write(json.dumps("
            "{'format': 'keyboard-heldout', 'format_version': 1, 'texts': []}))\n"
            f"print(json.dumps({{'event': 'done', 'bundle': {str(request.out)!r}, 'metrics': {{}}}}))\n"
        )
        return sys.executable, ["-c", script]

    monkeypatch.setattr(retraining.TrainRequest, "command", command)


def test_with_nothing_held_out_the_dialog_says_why_and_shows_no_placeholders(
        qtbot, window, corpus, trained_holding_nothing_out):
    dialog = open_dialog(qtbot, window, corpus)
    with qtbot.waitSignal(dialog.run_finished, timeout=30_000) as finished:
        dialog.start_button.click()
    assert finished.args == ["done"], dialog.error_label.text()
    qtbot.waitUntil(lambda: "could not be compared" in dialog.eval_label.text(), timeout=30_000)
    said = dialog.eval_label.text()
    assert said == f"The models could not be compared: {retrain_dialog.NOTHING_HELD_OUT}"
    assert said.endswith(".") and "too short" in said and "one file" in said
    assert not dialog.figures_table.isVisible()  # no table of "…" under it
    assert dialog.use_new_button.isEnabled() and dialog.keep_current_button.isDefault()
    dialog.close()


def test_another_failure_is_one_sentence_with_its_full_stop(qtbot, window):
    dialog = results_page(qtbot, window)
    dialog._comparison_failed("your files are too short to hold any text out for the comparison")
    assert dialog.eval_label.text() == ("The models could not be compared: your files are too short to hold "
                                        "any text out for the comparison.")
    assert not dialog.figures_table.isVisible()
    dialog.close()


def bold(dialog) -> dict:
    return {key: cell.text() for key, cell in dialog.table.items() if cell.text().startswith("<b>")}


def scored(name, *, perplexity, ksr, top_k, vocab_size):
    return retraining.ModelScore(name=name, perplexity=perplexity, top_k=top_k, ksr=ksr, words=1500,
                                 vocab_size=vocab_size)


def test_an_adapted_models_lower_perplexity_is_bold_beside_its_other_better_figures(qtbot, window):
    # t78.png: 59.5% and 37.2% in bold, 66.1 (against 71.9) plain; the adapted model knows
    # more words than the default one and is still less unsure: the better figure
    dialog = results_page(qtbot, window)
    dialog._show_scores({
        "current": scored("English (default)", perplexity=71.9, ksr=59.3, top_k=0.368, vocab_size=20_000),
        "new": scored("My writing", perplexity=66.1, ksr=59.5, top_k=0.372, vocab_size=20_412)})
    assert bold(dialog) == {("new", "ksr"): "<b>59.5%</b>", ("new", "top_k"): "<b>37.2%</b>",
                            ("new", "perplexity"): "<b>66.1</b>"}
    dialog.close()
    # the model that knows fewer words has fewer to choose from: its lower figure says nothing
    dialog = results_page(qtbot, window)
    dialog._show_scores({
        "current": scored("English (default)", perplexity=71.9, ksr=59.3, top_k=0.368, vocab_size=20_000),
        "new": scored("My writing", perplexity=66.1, ksr=59.5, top_k=0.372, vocab_size=5_000)})
    assert ("new", "perplexity") not in bold(dialog) and ("current", "perplexity") not in bold(dialog)
    dialog.close()


EMPTY = [[0.0, 1.0], [0.0, 1.0]]


def ranges(dialog):
    return [[list(map(float, axis)) for axis in plot.viewRange()] for plot in (dialog.loss_plot, dialog.ppl_plot)]


def test_a_new_runs_empty_charts_do_not_keep_the_last_runs_axes(qtbot, window, corpus, fake_trainer):
    dialog = open_dialog(qtbot, window, corpus)
    first = ranges(dialog)
    fake_trainer(TRAINED_A_QUARTER + [{"event": "error", "message": "Out of memory."}], exit_code=1)
    with qtbot.waitSignal(dialog.run_finished, timeout=30_000):
        dialog.start_button.click()
    qtbot.waitUntil(lambda: ranges(dialog) != first, timeout=5_000)  # the curves' own ranges
    dialog.back_button.click()
    fake_trainer([])  # "Starting the trainer…", nothing read yet
    dialog.start_button.click()
    assert dialog.phase_label.text() == "Starting the trainer…"
    assert ranges(dialog) == [EMPTY, EMPTY]
    with qtbot.waitSignal(dialog.run_finished, timeout=10_000) as finished:
        dialog.cancel_button.click()  # cancelled at 0 s: still the empty charts
    assert finished.args == ["cancelled"]
    assert ranges(dialog) == [EMPTY, EMPTY]
    # and the next run's curves are fitted again
    dialog.back_button.click()
    fake_trainer(TRAINED_A_QUARTER)
    start_and_wait_for(qtbot, dialog, "epoch")
    qtbot.waitUntil(lambda: ranges(dialog)[0] != EMPTY and ranges(dialog)[1] != EMPTY, timeout=5_000)
    with qtbot.waitSignal(dialog.run_finished, timeout=10_000):
        dialog.cancel_button.click()
