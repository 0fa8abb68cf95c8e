"""The trainer tells the app, as progress lines, which corpus files it left out and which it
read as Windows-1252: the warnings alone went to standard error, which the dialog only logs."""

from __future__ import annotations

from pathlib import Path

from keyboard_app.progress_events import Decoded, Skipped, Start, parse_line
from model_training.cli import main
from training_helpers import TINY_ARGS

TINY = [*TINY_ARGS, "--epochs", "1"]


def test_skipped_and_decoded_files_are_progress_events_after_start(tmp_path, capsys, patterned_text):
    corpus = tmp_path / "writing"
    corpus.mkdir()
    (corpus / "essay.txt").write_text(patterned_text[:6000], encoding="utf-8")
    (corpus / "photo.bin").write_bytes(bytes(range(256)) * 8)
    (corpus / "loop").symlink_to(corpus / "loop")
    (corpus / "lettre.txt").write_bytes("Le café est très bon.\n".encode("cp1252") * 20)
    assert main([str(corpus), "--out", str(tmp_path / "model"), "--progress-json", *TINY]) == 0
    events = [parse_line(line) for line in capsys.readouterr().out.splitlines()]
    start = next(i for i, e in enumerate(events) if isinstance(e, Start))
    notes = [e for e in events if isinstance(e, (Skipped, Decoded))]
    assert notes == events[start + 1:start + 4]  # right after "start", before the reading passes
    assert notes == [
        Skipped(path=str(corpus / "loop"), kind="link loop",
                reason="it is a symbolic link that leads back to itself (a loop)"),
        Skipped(path=str(corpus / "photo.bin"), kind="binary", reason="it looks like a binary file, not text"),
        Decoded(path=str(corpus / "lettre.txt"), encoding="Windows-1252"),
    ]


def test_a_clean_corpus_says_nothing_of_the_kind(tmp_path, capsys, patterned_text):
    corpus = tmp_path / "essay.txt"
    corpus.write_text(patterned_text[:6000], encoding="utf-8")
    assert main([str(corpus), "--out", str(tmp_path / "model"), "--progress-json", *TINY]) == 0
    events = [parse_line(line) for line in capsys.readouterr().out.splitlines()]
    assert not [e for e in events if isinstance(e, (Skipped, Decoded))]


def test_each_reason_to_skip_has_its_short_kind_and_stays_the_warnings_sentence(tmp_path):
    import os

    from model_training.corpus import SkippedFile, find_files

    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "ok.txt").write_text("some words here\n")
    (folder / "wide.txt").write_bytes("plain words in UTF-16\n".encode("utf-16-le") * 10)
    os.mkfifo(folder / "pipe")
    (folder / "away").symlink_to(tmp_path)
    skipped: list = []
    find_files([folder, folder / "pipe"], skipped)
    kinds = {Path(s.path).name: s.kind for s in skipped}
    assert kinds == {"away": "link out of the corpus", "wide.txt": "UTF-16 without a byte-order mark",
                     "pipe": "not a regular file"}
    assert all(isinstance(s, SkippedFile) and s == f"{s.path}: {s.reason}" for s in skipped)
    assert SkippedFile(folder / "x", "it cannot be read (Permission denied)").kind == "unreadable"
    assert SkippedFile(folder / "x", "something new").kind == "skipped"


def test_the_phrase_counting_pass_is_told_as_a_reading_after_each_file(tmp_path, capsys, patterned_text):
    """The trainer's third pass over the text (its word pairs and triples) was silent: on one file of
    130k words the dialog's bar waited ~4 s with no event after "encode" (H70)."""
    from keyboard_app.progress_events import Reading, Training

    corpus = tmp_path / "writing"
    corpus.mkdir()
    (corpus / "a.txt").write_text(patterned_text[:6000], encoding="utf-8")
    (corpus / "b.txt").write_text(patterned_text[6000:9000], encoding="utf-8")
    assert main([str(corpus), "--out", str(tmp_path / "model"), "--progress-json", *TINY]) == 0
    events = [parse_line(line) for line in capsys.readouterr().out.splitlines()]
    readings = [e for e in events if isinstance(e, Reading)]
    total = sum(f.stat().st_size for f in corpus.iterdir())
    assert [e.phase for e in readings] == ["count"] * 2 + ["encode"] * 2 + ["phrases"] * 2
    phrases = [e for e in readings if e.phase == "phrases"]
    assert phrases[-1].bytes == phrases[-1].total == total and phrases[0].bytes < total
    first_training = next(i for i, e in enumerate(events) if isinstance(e, Training))
    assert events.index(phrases[-1]) < first_training  # before the training starts
