"""The trainer's progress lines, as the trainer writes them and the app reads them
(keyboard_app.progress_events; model_training.progress writes them)."""

from __future__ import annotations

import io
import json
import math
import re

import pytest

from keyboard_app import progress_events
from keyboard_app.progress_events import (
    Done,
    Epoch,
    Metrics,
    ProgressLineError,
    Reading,
    Training,
    parse_line,
)
from model_training.progress import Progress

METRICS = {"heldout_tokens": 272, "vocab_size": 44, "perplexity": 1.627, "top1": 0.8235, "top3": 0.9301,
           "ksr": {"1": 74.22, "3": 77.78}, "ksr_words": 50}


def trainer_lines(*calls) -> list[str]:
    """What ``keyboard-train --progress-json`` writes for these calls of its Progress."""
    out = io.StringIO()
    progress = Progress(json_lines=True, stream=out, interval_s=0.0)
    for name, fields in calls:
        if name == "update":
            progress.update(**fields)
        else:
            progress.emit(name, **fields)
    return out.getvalue().splitlines()


def test_every_line_the_trainer_writes_round_trips():
    lines = trainer_lines(
        ("start", dict(files=2, bytes=12_345)),
        ("reading", dict(bytes=6_000, total=12_345, phase="count")),
        ("update", dict(tokens=250, total=1000, loss=5.01234567, tokens_per_s=100.04)),
        ("epoch", dict(epoch=1.5, val_ppl=110.9, train_loss=None, step=10)),
        ("tuning", dict(step=5, total=12)),
        ("evaluating", dict(words=400, total=1000)),
        ("metrics", METRICS),
        ("done", dict(bundle="/models/mine", metrics=METRICS)),
        ("cancelled", dict(checkpoint=None, signal="SIGTERM")),
        ("error", dict(message="the corpus is empty.")),
    )
    events = [parse_line(line) for line in lines]
    assert [e.EVENT for e in events] == ["start", "reading", "progress", "epoch", "tuning", "evaluating",
                                         "metrics", "done", "cancelled", "error"]
    assert [event.to_line() for event in events] == lines  # the same bytes back
    training = events[2]
    assert training == Training(tokens=250, total=1000, loss=5.0123, tokens_per_s=100.0, eta_s=7.5)
    assert events[3] == Epoch(epoch=1.5, val_ppl=110.9, train_loss=None, step=10)
    assert events[6] == Metrics(values=METRICS) and events[7] == Done(bundle="/models/mine", metrics=METRICS)
    assert json.loads(lines[1]) == {"event": "reading", "bytes": 6000, "total": 12345, "phase": "count"}


def test_numbers_json_cannot_hold_are_written_as_null_and_read_as_none():
    [line] = trainer_lines(("epoch", dict(epoch=2.0, val_ppl=math.inf, train_loss=math.nan, step=3)))
    assert json.loads(line) == {"event": "epoch", "epoch": 2.0, "val_ppl": None, "train_loss": None, "step": 3}
    assert parse_line(line) == Epoch(epoch=2.0, val_ppl=None, train_loss=None, step=3)


def test_a_trainer_that_emits_an_event_or_field_not_defined_here_fails_at_once():
    # Whether or not it writes JSON lines: the mistake shows in any run of the trainer.
    with pytest.raises(TypeError):
        Progress(json_lines=False).emit("progress", tokens=1, total=2, loss=1.0, tokens_per_s=1.0, eta=3)
    with pytest.raises(TypeError):
        Progress(json_lines=False).emit("finished")


def test_fields_a_later_trainer_adds_are_ignored():
    line = json.dumps({"event": "reading", "bytes": 1, "total": 2, "phase": "encode", "file": "a.txt"})
    assert parse_line(line) == Reading(bytes=1, total=2, phase="encode")
    assert parse_line(line.encode()) == Reading(bytes=1, total=2, phase="encode")  # as read from the pipe


@pytest.mark.parametrize("line, says", [
    ("Traceback (most recent call last):", "not JSON"),
    ("[1, 2, 3]", "not a JSON object"),
    ('{"files": 1}', "unknown event None"),
    ('{"event": "rewinding", "step": 3}', "unknown event 'rewinding'"),
    ('{"event": "epoch", "epoch": 1.0, "val_ppl": 9.5, "step": 4}', "the 'epoch' event lacks 'train_loss'"),
    ('{"event": "progress", "tokens": "many", "total": 9, "loss": 1, "tokens_per_s": 1, "eta_s": 1}',
     "'tokens' should be a whole number, not \"many\""),
    ('{"event": "start", "files": true, "bytes": 10}', "'files' should be a whole number, not true"),
    ('{"event": "error", "message": null}', "'message' should be a string, not null"),
    ('{"event": "done", "bundle": "/b", "metrics": [' + ", ".join(["1"] * 200) + "]}",
     "'metrics' should be an object, not [1, 1,"),
])
def test_a_line_that_is_not_an_event_is_one_sentence_quoting_it(line, says):
    with pytest.raises(ProgressLineError) as refused:
        parse_line(line)
    message = str(refused.value)
    assert says in message
    assert message.startswith("progress line '") and message.endswith(".") and "\n" not in message
    assert len(message) < 250  # a long line is quoted in part


def test_the_trainers_documented_events_are_the_ones_defined_here():
    """keyboard-train's help lists the events for people; this module defines them once."""
    from model_training import cli

    documented = set(re.findall(r'``\{"event": "(\w+)"', cli.__doc__))
    assert documented == set(progress_events.EVENTS)
