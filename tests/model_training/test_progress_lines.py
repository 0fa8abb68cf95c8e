"""Training's progress into a log file (H59): where stderr is not a terminal (``2> train.log``,
``nohup``) it is whole lines, one each few percent, not a bar redrawn with carriage returns;
at a terminal the bar is as it was, and the JSON lines the app reads are untouched."""

from __future__ import annotations

import io
import re
import sys

import pytest

from keyboard_app.progress_events import Training, parse_line
from model_training.cli import main
from model_training.progress import PLAIN_STEP_PERCENT, PlainLines, Progress
from training_helpers import TINY_ARGS, run_main

LOUD = [arg for arg in TINY_ARGS if arg != "--quiet"]  # with the progress shown to a person
LINE = re.compile(r"training: +(\d+)% \S+/\S+ tokens, \S+ tokens/s, loss \d+\.\d{3} \(perplexity \d+\), "
                  r"\d+:\d\d:\d\d spent, (\d+:\d\d:\d\d left|time left not known yet)")


@pytest.fixture
def corpus(tmp_path, patterned_text):
    path = tmp_path / "corpus.txt"
    path.write_text(patterned_text[:8000])
    return path


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_into_a_file_training_is_whole_lines_with_the_time_left(corpus, tmp_path, capsys):
    # was: one line of "\r"-redrawn bars, tqdm's, thousands of characters long
    code, out, err = run_main(capsys, corpus, "--out", tmp_path / "model", *LOUD, "--epochs", "3")
    assert code == 0, err
    assert "\r" not in err and "\x1b" not in err
    shown = [line for line in err.splitlines() if line.startswith("training")]
    assert shown and all(LINE.fullmatch(line) for line in shown), shown
    percents = [int(LINE.fullmatch(line).group(1)) for line in shown]
    assert percents == sorted(percents) and percents[-1] == 100  # the last line: where it ended
    assert len(shown) <= 100 // PLAIN_STEP_PERCENT + 2  # a line each few percent, not each step
    assert "epoch 1.00: validation perplexity" in err  # the other messages on lines of their own


def test_at_a_terminal_the_bar_is_redrawn_in_place(corpus, tmp_path, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = main([str(arg) for arg in (corpus, "--out", tmp_path / "model", *LOUD, "--epochs", "3")])
    err = terminal.getvalue()
    assert code == 0, err
    assert "\r" in err and "tok/s" in err  # tqdm's bar, as before
    assert not any(LINE.fullmatch(line) for line in err.splitlines())


def test_the_apps_json_lines_are_only_events_whatever_stderr_is(corpus, tmp_path, capsys):
    code, out, err = run_main(capsys, corpus, "--out", tmp_path / "model", *LOUD, "--progress-json")
    assert code == 0, err
    events = [parse_line(line) for line in out.splitlines()]  # each line one event the app can read
    assert any(isinstance(event, Training) for event in events)
    assert not any(line.startswith("training:") for line in err.splitlines())  # no bar beside the events


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_slow_run_still_gets_a_line_each_interval_and_the_last_one_at_close():
    stream, clock = io.StringIO(), Clock()
    lines = PlainLines("training", stream=stream, step_percent=5, interval_s=60, clock=clock)
    update = dict(total=100_000, loss=4.0, tokens_per_s=10.0)
    lines.update(tokens=100, **update)  # the first update: a line at once
    clock.now += 59
    lines.update(tokens=200, **update)  # within the same 5 %, before the interval: no line
    assert len(stream.getvalue().splitlines()) == 1
    clock.now += 1
    lines.update(tokens=300, **update)  # 60 s on: a line although the percent has not moved
    clock.now += 1
    lines.update(tokens=400, **update)
    lines.close()  # the last update's line, so the log ends where the run ended
    written = stream.getvalue().splitlines()
    assert [line.split(" tokens,")[0] for line in written] == [
        "training:   0% 100/100k", "training:   0% 300/100k", "training:   0% 400/100k"]
    assert written[-1].endswith("0:01:01 spent, 2:46:00 left")  # 99,600 tokens at 10 a second
    lines.close()
    assert stream.getvalue().splitlines() == written  # nothing new: nothing twice


def test_each_step_of_the_way_gets_one_line():
    stream, clock = io.StringIO(), Clock()
    lines = PlainLines("training", stream=stream, step_percent=5, interval_s=60, clock=clock)
    for tokens in range(0, 1001, 10):  # 101 updates, no time passing
        lines.update(tokens=tokens, total=1000, loss=2.0, tokens_per_s=0.0)
    lines.close()
    percents = [int(line.split("%")[0].split()[-1]) for line in stream.getvalue().splitlines()]
    assert percents == list(range(0, 101, 5))
    assert stream.getvalue().splitlines()[0].endswith("time left not known yet")


def test_quiet_writes_no_lines(corpus, tmp_path, capsys):
    progress = Progress(bar=False)
    progress.start(1000)
    progress.update(tokens=10, total=1000, loss=3.0, tokens_per_s=5.0)
    progress.close()
    assert capsys.readouterr().err == ""


def test_counts_are_written_in_at_most_four_figures_across_each_unit():
    from model_training.progress import _count

    assert [_count(n) for n in (950, 999.4, 999.6, 12_340, 999_400, 999_600, 1_200_000, 2.5e9)] == [
        "950", "999", "1k", "12.3k", "999k", "1M", "1.2M", "2.5G"]
