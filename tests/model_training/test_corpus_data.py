"""Reading the corpus, choosing the vocabulary, encoding ids and cutting batches."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pytest

from keyboard_app.engine.tokenizer import BOS, SPECIAL_TOKENS, UNK, Tokenizer
from model_training import corpus as corpus_mod
from model_training import data as data_mod
from model_training.corpus import CorpusError, ReadStats, find_files, heldout_splits, read_lines
from model_training.data import Batches, encode_corpus
from model_training.vocabulary import build_vocabulary, count_corpus_tokens, grow_vocabulary


def count(files, fraction=0.0, at="end"):
    splits = heldout_splits(files, fraction, 0, at)
    return count_corpus_tokens(files, splits, Tokenizer()), splits


def test_folders_are_searched_recursively_and_binary_files_skipped(tmp_path, caplog):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.txt").write_text("one\n")
    (tmp_path / "a" / "b" / "two.md").write_text("two\n")
    (tmp_path / "a" / "b" / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0IHDR")
    (tmp_path / "a" / "empty.txt").write_text("")
    with caplog.at_level(logging.WARNING):
        files = find_files([tmp_path / "a"])
    assert [f.name for f in files] == ["a/b/two.md", "a/one.txt"]
    assert "image.png: skipped, it looks like a binary file" in caplog.text


def test_invalid_utf8_is_replaced_and_counted(tmp_path, caplog):
    path = tmp_path / "bad.txt"
    # UTF-8 with 3 bad bytes (fewer than its 4 valid non-ASCII characters: still UTF-8), 1 real U+FFFD
    path.write_bytes("café naïve crème ok ".encode() + b"\xff\xfe done \xef\xbf\xbd \xe9\n")
    stats = ReadStats()
    assert list(read_lines(path, stats)) == ["café naïve crème ok \ufffd\ufffd done \ufffd \ufffd\n"]
    assert stats.invalid == 3
    with caplog.at_level(logging.WARNING):
        counts, _ = count(find_files([path]))
    assert "bad.txt: 3 invalid UTF-8 sequences replaced by U+FFFD" in caplog.text
    assert counts.counts["done"] == 1


def test_long_lines_are_read_in_pieces_cut_between_words(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_mod, "PIECE_BYTES", 64)
    words = [f"word{i % 7}x" for i in range(200)]
    path = tmp_path / "long.txt"
    path.write_text(" ".join(words) + "\nlast line\n")
    pieces = list(read_lines(path, ReadStats()))
    assert len(pieces) > 10 and all(len(p.encode()) < 2 * 64 for p in pieces)  # a carried word + one read
    assert "".join(pieces).split() == words + ["last", "line"]


def test_heldout_is_the_last_lines_of_each_file(tmp_path):
    for name in ("a", "b"):
        lines = [f"{name} train line {i} ." for i in range(90)] + [f"{name} tail line {i} ." for i in range(10)]
        (tmp_path / f"{name}.txt").write_text("\n".join(lines) + "\n")
    files = find_files([tmp_path])
    # the first "tail" line starts after 90 of ~100 equal lines: 10% holds out the tails
    counts, starts = count(files, fraction=0.1)
    assert counts.counts["train"] == 180 and counts.counts["tail"] == 0  # vocabulary: training part only
    for f in files:
        tail = f.path.read_bytes()[starts[f.path].start:].decode()
        assert tail.startswith(f"{f.path.stem} tail line 0 .") or tail.startswith(f"{f.path.stem} train line 89")
    vocab = build_vocabulary(counts, 0, 1)
    enc = encode_corpus(files, starts, vocab, Tokenizer(), train_tokens=counts.train_tokens,
                        heldout_tokens=counts.heldout_tokens)
    assert len(enc.train) == counts.train_tokens and len(enc.heldout) == counts.heldout_tokens
    assert counts.heldout_tokens >= 2 * 10 * 5  # ten 5-token lines per file at least
    # each file's held-out part starts a new stream with <s>
    assert enc.heldout[0] == vocab.id(BOS)
    assert all("tail line" in t or "train line 89" in t for t in enc.heldout_texts)
    assert vocab.id("tail") == vocab.unk_id


def test_when_adapting_the_heldout_is_the_first_lines_of_each_file(tmp_path):
    """The newest text of a person's files (their end) trains; the oldest is held out."""
    for name in ("a", "b"):
        lines = [f"{name} head line {i} ." for i in range(10)] + [f"{name} newest line {i} ." for i in range(90)]
        (tmp_path / f"{name}.txt").write_text("\n".join(lines) + "\n")
    files = find_files([tmp_path])
    counts, splits = count(files, fraction=0.1, at="start")
    # (10% of the bytes: the ten shorter head lines and a newest line or two)
    assert counts.counts["head"] == 0 and 170 <= counts.counts["newest"] < 180
    for f in files:
        held = f.path.read_bytes()[splits[f.path].start : splits[f.path].stop].decode()
        assert splits[f.path].start == 0 and held.startswith(f"{f.path.stem} head line 0 .")
        assert f"{f.path.stem} head line 9 .\n" in held and held.endswith(" .\n")
    vocab = build_vocabulary(counts, 0, 1)
    enc = encode_corpus(files, splits, vocab, Tokenizer(), train_tokens=counts.train_tokens,
                        heldout_tokens=counts.heldout_tokens)
    assert len(enc.train) == counts.train_tokens and len(enc.heldout) == counts.heldout_tokens
    assert vocab.id("head") == vocab.unk_id and vocab.id("newest") != vocab.unk_id
    assert all("head line" in t for t in enc.heldout_texts)
    assert [vocab.tokens[i] for i in enc.train[1:4]] == ["a", "newest", "line"]  # (after <s>)
    # the corpus's hash is its files', wherever the held-out part is
    assert counts.sha256 == count(files, fraction=0.1)[0].sha256 == count(files)[0].sha256


def test_display_form_is_the_most_frequent_non_initial_form(tmp_path):
    text = (
        "Apple pie. Apple tart. Apple cake. I like apple pie and apple tart.\n"  # 'Apple' only starts sentences
        "Paris is big. We saw Paris and Paris and PARIS.\n"
        "Nice day. It is nice. Very nice. Nice. Nice.\n"  # 'Nice' starts sentences; 'nice' inside
        "Zebra.\n"  # only sentence-initial: shown lowercase
        "We think I said I and i.\n"  # non-initial: I twice, i once
    )
    (tmp_path / "t.txt").write_text(text)
    counts, _ = count(find_files([tmp_path]))
    vocab = build_vocabulary(counts, 0, 1)
    display = dict(zip(vocab.tokens, vocab.display))
    assert display["apple"] == "apple"
    assert display["paris"] == "Paris"
    assert display["nice"] == "nice"
    assert display["zebra"] == "zebra"
    assert display["i"] == "I"
    assert vocab.tokens[: len(SPECIAL_TOKENS)] == list(SPECIAL_TOKENS)


def test_vocabulary_is_ordered_by_count_and_respects_min_count(tmp_path):
    (tmp_path / "t.txt").write_text("b a b c b a d\n")
    counts, _ = count(find_files([tmp_path]))
    vocab = build_vocabulary(counts, 0, 2)
    assert vocab.tokens[len(SPECIAL_TOKENS):] == ["b", "a"]
    assert vocab.counts[vocab.id(UNK)] == 2  # c and d
    # asking for more than the corpus has gives all it has (issue 11: no advice to follow)
    assert build_vocabulary(counts, 10, 2).tokens == vocab.tokens
    with pytest.raises(CorpusError, match=r"no word seen at least 5 times \(use a larger corpus, or --min-count 1\)"):
        build_vocabulary(counts, 10, 5)


def test_grown_vocabulary_keeps_old_ids_and_appends_new_words(tmp_path):
    (tmp_path / "old.txt").write_text("a b c a b a\n")
    (tmp_path / "new.txt").write_text("z c z y z y\n")
    old = build_vocabulary(count(find_files([tmp_path / "old.txt"]))[0], 0, 1)
    new = build_vocabulary(count(find_files([tmp_path / "new.txt"]))[0], 0, 1)
    grown = grow_vocabulary(old, new, 5)
    assert grown.tokens[: len(old)] == old.tokens
    assert grown.tokens[len(old):] == ["z", "y"]  # most frequent new words first; 'c' is known
    assert grow_vocabulary(old, new, 1).tokens[len(old):] == ["z"]


def test_big_corpora_are_encoded_into_a_memory_map(tmp_path, monkeypatch):
    monkeypatch.setattr(data_mod, "MEMMAP_MIN_TOKENS", 10)
    (tmp_path / "t.txt").write_text("one two three four five six seven eight nine ten\n" * 20)
    files = find_files([tmp_path / "t.txt"])
    counts, starts = count(files)
    vocab = build_vocabulary(counts, 0, 1)
    enc = encode_corpus(files, starts, vocab, Tokenizer(), train_tokens=counts.train_tokens,
                        heldout_tokens=0, work_dir=tmp_path / "work")
    assert isinstance(enc.train, np.memmap) and enc.train.dtype == np.uint16
    assert (tmp_path / "work" / "train_ids.npy").is_file()
    words = [vocab.tokens[i] for i in enc.train[1:11]]
    assert words == "one two three four five six seven eight nine ten".split()


def test_batches_are_parallel_streams_with_targets_one_step_ahead():
    ids = np.arange(101, dtype=np.uint16)
    batches = Batches(ids, batch_size=4, bptt=10)
    assert batches.per_stream == 25 and len(batches) == 3
    x, y = batches.get(0)
    assert x.shape == (4, 10) and x[:, 0].tolist() == [0, 25, 50, 75]
    assert (y == x + 1).all()
    x2, _ = batches.get(2)  # the last batch is shorter
    assert x2.shape == (4, 5) and x2[0].tolist() == [20, 21, 22, 23, 24]
    assert batches.batch_tokens(2) == 20
    # stream s continues where batch i ended: stream 1 of batch 1 starts at 35
    x1, _ = batches.get(1)
    assert x1[1, 0].item() == 35


@pytest.mark.parametrize("at", ["end", "start"])
def test_a_file_of_a_line_or_two_trains_wherever_the_heldout_part_is(tmp_path, at):
    """A short note in a folder of longer files is training text, never held out whole
    (the held-out part is the lines wholly inside its fraction of the file), and the
    two passes over it agree (an empty part is no stream: no <s> the count did not see)."""
    (tmp_path / "note.txt").write_text("Remember to call Quimby about the meeting tomorrow.\n")
    (tmp_path / "two.txt").write_text("A first line that is rather long, as notes go.\nAnd a short one.\n")
    (tmp_path / "long.txt").write_text("".join(f"line {i} of the long file .\n" for i in range(200)))
    files = find_files([tmp_path])
    counts, splits = count(files, fraction=0.1, at=at)
    by_name = {Path(entry.name).name: entry for entry in counts.files}
    assert by_name["note.txt"].train_tokens > 0 and by_name["note.txt"].heldout_tokens == 0
    assert by_name["two.txt"].train_tokens > 0 and by_name["long.txt"].heldout_tokens > 0
    assert counts.counts["quimby"] == 1
    vocab = build_vocabulary(counts, 0, 1)
    enc = encode_corpus(files, splits, vocab, Tokenizer(), train_tokens=counts.train_tokens,
                        heldout_tokens=counts.heldout_tokens)
    assert len(enc.train) == counts.train_tokens and len(enc.heldout) == counts.heldout_tokens


# -- files that are not UTF-8, and links that lead back to themselves (H25, findings 6 and 7) --

WINDOWS_TEXT = "The café’s owner didn’t say “hello” to Zoë at the garçon’s table.\n"


def test_a_windows_1252_file_is_read_as_such_by_every_pass_and_hashed_as_its_bytes(tmp_path, caplog):
    """Read as UTF-8, each é, ç and curly quote of such a file was a U+FFFD that split its
    word ("caf", "gar"); now every pass decodes it as Windows-1252, says so once, and the
    counts, the ids and the held-out text are those of the same text saved as UTF-8."""
    text = WINDOWS_TEXT * 30
    windows = tmp_path / "windows" / "notes.txt"
    utf8 = tmp_path / "utf8" / "notes.txt"
    for path, encoding in ((windows, "cp1252"), (utf8, "utf-8")):
        path.parent.mkdir()
        path.write_bytes(text.encode(encoding))
    with caplog.at_level(logging.WARNING):
        files = find_files([windows.parent])
    assert caplog.text.count("not UTF-8") == 1
    assert f"{windows}: not UTF-8; read as Windows-1252." in caplog.text
    assert files[0].encoding.codec == "cp1252"
    counts, splits = count(files, fraction=0.1)
    same, same_splits = count(find_files([utf8.parent]), fraction=0.1)
    assert counts.counts == same.counts and counts.counts["café's"] == 27 and counts.counts["caf"] == 0
    assert counts.counts["garçon's"] == 27 and counts.counts["zoë"] == 27
    # the hash is of the file's bytes (docs/CONTRACTS.md), whatever they decode to
    assert counts.sha256 == hashlib.sha256(b"windows/notes.txt\0" + windows.read_bytes() + b"\0").hexdigest()
    held = lambda path, split: path.read_bytes()[split.start:split.stop].count(b"\n")  # noqa: E731
    assert held(windows, splits[windows]) == held(utf8, same_splits[utf8]) == 3  # whole lines, by bytes
    vocab = build_vocabulary(counts, 0, 1)
    enc = encode_corpus(files, splits, vocab, Tokenizer(), train_tokens=counts.train_tokens,
                        heldout_tokens=counts.heldout_tokens)
    assert vocab.unk_id not in enc.train and vocab.unk_id not in enc.heldout  # both passes agree
    assert "café’s" in enc.heldout_texts[0] and "\ufffd" not in enc.heldout_texts[0]


def test_a_file_with_a_byte_windows_1252_leaves_undefined_is_read_as_latin1(tmp_path, caplog):
    path = tmp_path / "old.txt"
    path.write_bytes("déjà vu, naïve café\n".encode("latin-1") * 5 + b"a stray \x81 byte\n")
    with caplog.at_level(logging.WARNING):
        files = find_files([path])
    assert files[0].encoding.codec == "latin-1"
    assert "old.txt: not UTF-8; read as Latin-1." in caplog.text
    counts, _ = count(files)
    assert counts.counts["déjà"] == 5 and counts.counts["naïve"] == 5


def test_binary_data_without_a_nul_byte_is_still_refused(tmp_path, caplog):
    """No NUL in its first 8 KiB, not UTF-8, and mostly control bytes: not text in any
    single-byte encoding either, so it is skipped as before, not read as Windows-1252."""
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(1, 256)) * 40)
    with caplog.at_level(logging.WARNING), pytest.raises(CorpusError, match="looks like a binary file"):
        find_files([path])
    assert "not UTF-8" not in caplog.text


def test_one_stray_byte_in_ascii_text_is_read_as_windows_1252(tmp_path):
    """A stray byte in ASCII text has no valid UTF-8 character to outweigh it: the file is
    an old one with an accent, not a damaged UTF-8 one."""
    path = tmp_path / "menu.txt"
    path.write_bytes(b"plain words and one caf\xe9 on the menu\n" * 3)
    counts, _ = count(find_files([path]))
    assert counts.counts["café"] == 3 and counts.counts["caf"] == 0


def test_a_symbolic_link_loop_in_a_corpus_folder_is_skipped_with_one_warning(tmp_path, caplog):
    """``Path.resolve`` raises on a loop (RuntimeError on 3.11, OSError on 3.13), which
    stopped the whole run; now each such link is skipped, named once, like a link out."""
    corpus = tmp_path / "writing"
    corpus.mkdir()
    (corpus / "a.txt").write_text("some words to train on\n")
    (corpus / "self").symlink_to("self")
    (corpus / "ping").symlink_to("pong")
    (corpus / "pong").symlink_to("ping")
    skipped: list[str] = []
    with caplog.at_level(logging.WARNING):
        files = find_files([corpus], skipped)
    assert [f.name for f in files] == ["writing/a.txt"]
    for name in ("self", "ping", "pong"):
        line = f"{corpus / name}: skipped, it is a symbolic link that leads back to itself (a loop)."
        assert caplog.text.count(line) == 1
    assert sorted(skipped) == sorted(f"{corpus / n}: it is a symbolic link that leads back to itself (a loop)"
                                     for n in ("ping", "pong", "self"))


def test_a_symbolic_link_loop_named_as_the_corpus_is_one_sentence(tmp_path):
    loop = tmp_path / "loop.txt"
    loop.symlink_to("loop.txt")
    with pytest.raises(CorpusError, match="loop.txt: a symbolic link that leads nowhere"):
        find_files([loop])
