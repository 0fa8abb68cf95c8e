"""A file with no line breaks, or of a few long lines, holds out its share too (H74's finding 8).

A 20,158-word file on one line trained, then its held-out text was empty ("texts": []) and
the app could not compare the models: the held-out part was cut at line starts only.  Now
it is cut inside the line, after the sentence end nearest its share's edge (else between
two words), at the end of the file, or at its start when adapting a model.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from keyboard_app.engine.tokenizer import Tokenizer
from keyboard_app.heldout import read_heldout
from model_training.corpus import ReadStats, find_files, heldout_splits, read_lines
from model_training.data import encode_corpus
from model_training.vocabulary import build_vocabulary, count_corpus_tokens
from training_helpers import run_main


def one_line(text: str) -> str:
    """``text`` with no line breaks, as ``tr -s '\\n' ' '`` leaves it."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def parts_of(path: Path, at: str, fraction: float = 0.1):
    """The file, its split, its held-out text and its training text, as the trainer reads them."""
    [file] = find_files([path])
    split = heldout_splits([file], fraction, 1_500_000, at)[file.path]
    held = "".join(read_lines(file.path, ReadStats(), split.start, split.stop, encoding=file.encoding))
    train = "".join(line for a, b in split.train_parts(file.size)
                    for line in read_lines(file.path, ReadStats(), a, b, encoding=file.encoding))
    return file, split, held, train


@pytest.mark.parametrize("at", ["end", "start"])
def test_a_file_on_one_line_holds_out_its_share_from_a_sentence_end(tmp_path, patterned_text, at):
    text = one_line(patterned_text)
    path = tmp_path / "one.txt"
    path.write_text(text, encoding="utf-8")
    file, split, held, train = parts_of(path, at)
    assert 0.05 * file.size <= split.stop - split.start <= 0.15 * file.size
    if at == "end":  # from scratch: the end; the training text ends a sentence, the held-out starts one
        assert split.stop == file.size and train + held == text
        assert train.endswith(". ") and held[:1].isupper()
    else:  # adapting: the start, up to a sentence end
        assert split.start == 0 and held + train == text
        assert held.endswith(". ") and train[:1].isupper()


def test_a_file_of_a_few_long_lines_holds_out_its_share_too(tmp_path, patterned_text):
    """Three paragraphs: the split falls inside the last, which alone is a third of the file."""
    sentences = re.findall(r"[^.]+\.", one_line(patterned_text))
    third = len(sentences) // 3
    text = "".join(" ".join(s.strip() for s in sentences[i : i + third]) + "\n"
                   for i in range(0, 3 * third, third))
    path = tmp_path / "three.txt"
    path.write_text(text, encoding="utf-8")
    file, split, held, train = parts_of(path, "end")
    assert 0.05 * file.size <= split.stop - split.start <= 0.15 * file.size
    assert train + held == text and train.endswith(". ") and held[:1].isupper()


def test_without_a_sentence_end_the_cut_is_between_two_words(tmp_path):
    words = [f"word{i}" for i in range(600)]
    text = " ".join(words)
    path = tmp_path / "words.txt"
    path.write_text(text, encoding="utf-8")
    file, split, held, train = parts_of(path, "end")
    assert 0.05 * file.size <= split.stop - split.start <= 0.15 * file.size
    assert train + held == text and train.endswith(" ") and held.split() == words[-len(held.split()):]
    assert train.split() + held.split() == words  # no word cut in two


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "utf-16"])
def test_the_cut_follows_a_closing_quote_in_every_encoding(tmp_path, encoding):
    """Only one sentence end near the edge, behind a closing quote: the held-out part starts
    with the next sentence, on a code-unit boundary, and nothing is lost or read twice."""
    filler = " ".join(f"café{i}" for i in range(700))  # no sentence end anywhere else
    text = f"{filler} He said “Stop here.” Then {filler[:700]}"
    path = tmp_path / "quoted.txt"
    path.write_bytes(text.encode(encoding))  # ("utf-16" writes a byte-order mark)
    file, split, held, train = parts_of(path, "end")
    assert file.encoding.unit == (2 if encoding == "utf-16" else 1)
    assert split.start % file.encoding.unit == 0
    assert held.startswith("Then ") and train.endswith("“Stop here.” ")
    assert train + held == text


def test_the_two_passes_agree_and_the_hash_is_the_whole_files(tmp_path, patterned_text):
    """The count and the encoding of a file cut inside its line agree (the trainer refuses a
    file "that changed while it was being read" otherwise), every byte is hashed once, in
    order (a resumed run compares the hash), and the held-out text is what the app compares
    the models on."""
    text = one_line(patterned_text)
    path = tmp_path / "one.txt"
    path.write_text(text, encoding="utf-8")
    files = find_files([path])
    tokenizer = Tokenizer()
    splits = heldout_splits(files, 0.1, 1_500_000, "end")
    assert splits == heldout_splits(files, 0.1, 1_500_000, "end")  # the same for a resumed run
    counts = count_corpus_tokens(files, splits, tokenizer)
    whole = count_corpus_tokens(files, heldout_splits(files, 0.0, 1_500_000, "end"), tokenizer)
    assert counts.sha256 == whole.sha256
    assert counts.heldout_tokens > 100 and counts.train_tokens + counts.heldout_tokens == whole.train_tokens + 1
    vocab = build_vocabulary(counts, 0, 1)
    encoded = encode_corpus(files, splits, vocab, tokenizer, train_tokens=counts.train_tokens,
                            heldout_tokens=counts.heldout_tokens)
    assert len(encoded.heldout) == counts.heldout_tokens
    [held] = encoded.heldout_texts
    assert text.endswith(held) and len(held) > 0.05 * len(text)


@pytest.mark.parametrize("adapting", [False, True])
def test_keyboard_train_writes_held_out_text_for_a_file_on_one_line(tmp_path, capsys, patterned_text,
                                                                   tiny_bundle, adapting):
    """The tester's run: a file on one line, then ``--write-heldout``: it held out nothing,
    and the app's comparison had no text.  Now its end (from scratch) or start (adapting:
    ``--init-from``) is held out, as whole sentences, and the keystrokes saved are measured."""
    text = one_line(patterned_text)
    corpus = tmp_path / "one.txt"
    corpus.write_text(text, encoding="utf-8")
    heldout = tmp_path / "heldout.json"
    common = ["--batch-size", "4", "--bptt", "8", "--min-count", "1", "--heldout-fraction", "0.1", "--quiet",
              "--threads", "1", "--ksr-words", "50", "--warmup", "5", "--lr", "0.01"]
    if adapting:
        args = ["--init-from", tiny_bundle, *common]
    else:
        args = ["--embedding-dim", "16", "--hidden-size", "24", "--vocab-size", "0", *common]
    code, _, err = run_main(capsys, corpus, "--out", tmp_path / "model", *args, "--write-heldout", heldout)
    assert code == 0, err
    assert "no whole lines" not in err
    [held] = read_heldout(heldout)
    assert len(held) > 0.05 * len(text)
    metrics = json.loads((tmp_path / "model" / "manifest.json").read_text())["metrics"]
    assert metrics.get("ksr_words", 0) > 0 and metrics["ksr"]
    if adapting:
        assert text.startswith(held) and held.endswith(". ")
    else:
        assert text.endswith(held) and held[:1].isupper()


def test_kept_prepared_data_of_a_file_on_one_line_gives_the_same_held_out_text(tmp_path, capsys, patterned_text):
    """``--keep-prepared``: the next run over the unchanged file uses the kept data, whose
    held-out text is the one this run cut from the line (the split depends only on the
    file and the settings the key holds)."""
    text = one_line(patterned_text)
    corpus = tmp_path / "one.txt"
    corpus.write_text(text, encoding="utf-8")
    work = tmp_path / "work"
    args = ["--embedding-dim", "16", "--hidden-size", "24", "--vocab-size", "0", "--batch-size", "4", "--bptt", "8",
            "--min-count", "1", "--heldout-fraction", "0.1", "--threads", "1", "--ksr-words", "0",
            "--warmup", "5", "--lr", "0.01", "--work-dir", work]
    held = []
    for run in ("first", "second"):
        code, out, err = run_main(capsys, corpus, "--out", tmp_path / run, *args, "--keep-prepared",
                                  "--write-heldout", tmp_path / f"{run}.json")
        assert code == 0, err
        held.append(read_heldout(tmp_path / f"{run}.json"))
    assert "using the prepared data kept in" in out + err
    assert held[0] == held[1] and len(held[0]) == 1 and text.endswith(held[0][0])
