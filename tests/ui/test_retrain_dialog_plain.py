"""The retrain dialog as a newcomer found it at a 1366x768 screen (H70): a verdict that
said "recommended" beside a perplexity that rose from 723 to 2,279, charts cut off at the
bottom, a busy bar that looked full and still, and the trainer's words (tokens, nats,
epochs) on the screen."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from keyboard_app import progress_events, retraining
from keyboard_app.ui import retrain_dialog
from keyboard_app.ui.retrain_dialog import RetrainDialog

from test_retrain_dialog import READ, TRAINED_A_QUARTER  # noqa: E402 - the same fake run's events


def shown_dialog(qtbot, window) -> RetrainDialog:
    dialog = RetrainDialog(controller=window.models, settings=window.settings, save_settings=window.save_settings,
                           start_directory=window.start_directory, parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def score(name, *, perplexity, ksr, vocab_size, top_k=0.4):
    return retraining.ModelScore(name=name, perplexity=perplexity, top_k=top_k, ksr=ksr, words=1500,
                                 vocab_size=vocab_size)


# --- 1. what the recommendation rests on ----------------------------------------------------

def test_a_recommendation_against_the_perplexity_says_what_it_rests_on(qtbot, window):
    # The newcomer's run: perplexity 723 -> 2,279, yet "using it is recommended".
    dialog = shown_dialog(qtbot, window)
    dialog.pages.setCurrentWidget(dialog.results_page)
    dialog._show_scores({"current": score("English (default)", perplexity=723.0, ksr=40.0, vocab_size=20_000),
                         "new": score("My writing", perplexity=2279.0, ksr=44.0, vocab_size=21_204)})
    assert "using it is recommended" in dialog.verdict_label.text()
    note = dialog.figures_note_label
    assert note.isVisible()
    text = note.text()
    assert "rests on the keystrokes saved on your own text" in text
    assert "how unsure a model is of the exact next word" in text  # what the other figure means
    assert "2,279.0 against 723.0" in text and "1,204 more words" in text
    dialog.close()


def test_the_verdict_heads_the_figures_and_keystrokes_saved_come_first(qtbot, window):
    dialog = shown_dialog(qtbot, window)
    dialog.pages.setCurrentWidget(dialog.results_page)
    dialog._show_scores({"current": score("current", perplexity=100.0, ksr=40.0, vocab_size=20),
                         "new": score("new", perplexity=90.0, ksr=44.0, vocab_size=20)})
    qtbot.wait(1)

    def top(key):
        cell = dialog.table[("new", key)]
        return cell.mapTo(dialog, cell.rect().topLeft()).y()

    verdict_top = dialog.verdict_label.mapTo(dialog, dialog.verdict_label.rect().topLeft()).y()
    assert verdict_top < top("name") < top("ksr") < top("top_k") < top("perplexity")
    assert not dialog.figures_note_label.isVisible()  # the figures agree: nothing to explain
    dialog.close()


@pytest.mark.parametrize("new_perplexity, explained", [(80.0, True), (120.0, False)])
def test_a_worse_new_model_with_a_lower_perplexity_is_explained_too(qtbot, window, new_perplexity, explained):
    dialog = shown_dialog(qtbot, window)
    dialog.pages.setCurrentWidget(dialog.results_page)
    dialog._show_scores({"current": score("current", perplexity=100.0, ksr=48.0, vocab_size=20),
                         "new": score("new", perplexity=new_perplexity, ksr=44.0, vocab_size=20)})
    assert "keeping the current model is recommended" in dialog.verdict_label.text()
    assert dialog.figures_note_label.isVisible() == explained
    if explained:
        assert "is lower, 80.0 against 100.0" in dialog.figures_note_label.text()
    dialog.close()


# --- 3. a bar that does not move is a busy one, and looks it -------------------------------

def highlighted_share(bar) -> float:
    """The share of the bar's middle row drawn in (about) the highlight colour."""
    image = bar.grab().toImage()
    highlight = bar.palette().color(bar.palette().ColorRole.Highlight)
    y = image.height() // 2
    inside = range(3, image.width() - 3)
    near = 0
    for x in inside:
        pixel = image.pixelColor(x, y)
        if max(abs(pixel.red() - highlight.red()), abs(pixel.green() - highlight.green()),
               abs(pixel.blue() - highlight.blue())) < 70:
            near += 1
    return near / len(inside)


def test_preparing_the_text_shows_a_moving_block_not_a_full_bar(qtbot, window):
    # "Preparing the text…" showed the style's busy bar, the whole groove filled, for 8 s:
    # read as a full bar that did not move.
    dialog = shown_dialog(qtbot, window)
    dialog.pages.setCurrentWidget(dialog.training_page)
    for event in READ:
        dialog.handle_event(progress_events.from_dict(event))
    bar = dialog.progress
    qtbot.waitUntil(bar.isVisible)
    assert dialog.phase_label.text() == "Preparing the text…"
    assert (bar.minimum(), bar.maximum()) == (0, 0)  # a busy bar, to a screen reader too
    assert highlighted_share(bar) < 0.5
    bar.elapsed_ms = lambda: 0
    at_start = bar.grab().toImage()
    left = bar.block_rect()
    bar.elapsed_ms = lambda: bar.SWEEP_MS // 2
    halfway = bar.grab().toImage()
    assert bar.block_rect().x() > left.x() and halfway != at_start  # it moves
    assert highlighted_share(bar) < 0.5
    # real progress, when the trainer reports it, is a bar as usual
    dialog.handle_event(progress_events.from_dict({"event": "progress", "tokens": 500, "total": 1000, "loss": 5.0,
                                                   "tokens_per_s": 100, "eta_s": 8}))
    assert (bar.maximum(), bar.value()) == (1000, 500)
    assert 0.3 < highlighted_share(bar) < 0.7
    dialog.close()


def test_the_passes_over_the_text_fill_one_bar(qtbot, window):
    """Where the trainer reports its reading (after each file), the bar shows it: counting the
    words, preparing the text and (a trainer that reports it) finding the phrases, one third
    each, never going back."""
    dialog = shown_dialog(qtbot, window)
    dialog.pages.setCurrentWidget(dialog.training_page)
    seen = []
    for phase, done in (("count", 250), ("count", 750), ("count", 1000), ("encode", 500), ("encode", 1000),
                        ("phrases", 500), ("phrases", 1000)):
        dialog.handle_event(progress_events.Reading(bytes=done, total=1000, phase=phase))
        seen.append((dialog.progress.maximum(), dialog.progress.value(), dialog.phase_label.text()))
    assert [value for maximum, value, _ in seen if maximum] == [83, 250, 500, 833]
    assert [maximum for maximum, _, _ in seen] == [1000, 1000, 0, 1000, 0, 1000, 0]  # busy between the passes
    assert [text for _, _, text in seen] == ["Counting words…"] * 2 + ["Preparing the text…"] * 3 + [
        "Finding your phrases…", "Preparing the text…"]
    dialog.close()


# --- 4. plain words where users see them -----------------------------------------------------

JARGON = re.compile(r"\btokens?\b|\bnats\b|int8|8-bit|\bepochs?\b|\bcorpus|\bcorpora\b|held-out|validation|"
                    r"\bloss\b|vocabular|\bpoints\b|file\(s\)", re.IGNORECASE)


def seen_texts(dialog) -> list[str]:
    """What the page on show says: its labels, buttons and charts' titles and axes."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    page = dialog.pages.currentWidget()
    texts = [w.text() for w in page.findChildren(QLabel) + page.findChildren(QAbstractButton)
             if w.isVisible() and w.text()]
    if page is dialog.training_page:
        for plot in (dialog.loss_plot, dialog.ppl_plot):
            item = plot.getPlotItem()
            texts.append(item.titleLabel.text)
            texts += [item.getAxis(side).labelText for side in ("left", "bottom")]
    return texts


def unexplained(texts: list[str]) -> list[str]:
    """The texts with jargon, or with a perplexity not named as the uncertainty it is."""
    return [t for t in texts if JARGON.search(t)
            or re.search(r"perplexity", re.sub(r"uncertainty \(perplexity\)", "", t, flags=re.IGNORECASE),
                         re.IGNORECASE)]


def test_what_the_dialog_says_is_plain_english(qtbot, window, tmp_path):
    corpus = tmp_path / "mine.txt"
    corpus.write_text("Some words of my own. " * 50, encoding="utf-8")
    dialog = shown_dialog(qtbot, window)
    dialog.add_corpus_paths([corpus])
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=10_000)
    assert unexplained(seen_texts(dialog)) == []
    dialog.pages.setCurrentWidget(dialog.training_page)
    dialog.handle_event(progress_events.from_dict(READ[0]))
    assert dialog.phase_label.text() == "Reading 1 file…"
    for event in TRAINED_A_QUARTER[1:]:
        dialog.handle_event(progress_events.from_dict(event))
    assert "250 of 1,000" in dialog.detail_label.text()
    assert unexplained(seen_texts(dialog)) == []
    dialog.handle_event(progress_events.Done(bundle="/nowhere", metrics={}))
    assert unexplained(seen_texts(dialog)) == []
    dialog.pages.setCurrentWidget(dialog.results_page)
    dialog._show_scores({"current": score("English (default)", perplexity=723.0, ksr=40.0, vocab_size=20_000),
                         "new": score("My writing", perplexity=2279.0, ksr=44.0, vocab_size=21_204)})
    assert unexplained(seen_texts(dialog)) == []
    dialog.close()


# --- 2. the dialog fits 1366x768 and 1024x768, its charts whole --------------------------------

SCREENS = {"1366x768": (1366, 768), "1024x768": (1024, 768)}


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_each_page_fits_the_screen_with_its_charts_whole(tmp_path, tiny_bundle, screen):
    """On a 768 px screen the training page scrolled, its charts cut off at the bottom: the
    page asked for their own height (381 px each); so did the first page, the estimate out of
    sight, with a recovered model offered above the list.  Measured in a process of its own,
    given a screen of that size."""
    width, height = screen
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    done = subprocess.run([sys.executable, __file__, str(tiny_bundle)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(found) == {"setup", "training", "results"}
    for page, seen in found.items():
        assert seen["frame"][3] <= height - 60, page  # room for a title bar, and a panel
        assert not seen["scrolls"], page
        for chart in seen["charts"]:
            x, y, w, h = chart
            assert h >= retrain_dialog.CHART_MIN_HEIGHT and 0 <= y and y + h <= seen["viewport"][1], page


def probe(bundle: Path) -> dict:
    from PySide6.QtWidgets import QApplication

    from keyboard_app.model_store import ModelStore
    from keyboard_app.retraining import UnaddedModel
    from keyboard_app.ui.elide import Scrolling
    from keyboard_app.ui.main_window import MainWindow

    app = QApplication([])
    window = MainWindow(model_store=ModelStore(default_path=bundle))
    window.show()
    window.open_retrain_dialog()
    dialog = window.retrain_dialog
    dialog._offer(UnaddedModel(run_dir=bundle.parent / "run-1", name="My writing 2026-12-04 (2)",
                               created="2026-12-04T02:52:00", corpus=("corpus20k.txt",)))
    dialog.count_label.setText("21,611 words in 1 file (120.5 KB).")
    dialog.estimate_label.setText("Estimated time: about 48 s (up to 1 min 04 s) on this computer, as busy as "
                                  "it is now. You can keep typing meanwhile.")
    dialog._reset_training_view()
    dialog.subtitle_label.setText("Adapting “English (default)” to 21,611 words of your writing.")
    found = {}
    for name, page in (("setup", dialog.setup_page), ("training", dialog.training_page),
                       ("results", dialog.results_page)):
        dialog.pages.setCurrentWidget(page)
        for _ in range(10):
            app.processEvents()
        area = page.findChild(Scrolling)
        charts = [dialog.loss_plot, dialog.ppl_plot] if name == "training" else []
        found[name] = {
            "frame": list(dialog.frameGeometry().getRect()),
            "viewport": list(area.viewport().size().toTuple()),
            "scrolls": area.verticalScrollBar().isVisible() or area.horizontalScrollBar().isVisible(),
            "charts": [list(c.geometry().translated(c.parentWidget().mapTo(area.widget(), c.parentWidget().rect()
                                                                                 .topLeft())).getRect())
                       for c in charts],
        }
    dialog.close()
    window.editor.document().setModified(False)
    window.close()
    return found


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]))))
