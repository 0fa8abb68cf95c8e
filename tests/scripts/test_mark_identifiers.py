"""scripts/mark_identifiers.py: which words are marked as code identifiers of the manuals,
and the bundle rewritten with the marks (a tiny model trained on a tiny corpus)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from text_helpers import make_patterned_text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import mark_identifiers as mi  # noqa: E402

from keyboard_app.engine.bundle import load_bundle  # noqa: E402

COUNTS = {"from": 500, "hex": 40, "run": 300, "server": 90, "file": 200, "date": 80, "data": 100,
          "base": 60, "de": 25, "x": 900}
DICTIONARY = frozenset({"database", "run", "file"})


@pytest.mark.parametrize("word, glued", [
    ("fromhex", True), ("runserver", True), ("fromfiledate", True),  # two and three words
    ("fromdesc", True),  # the last one a lexicon word
    ("database", True),  # glued, but the dictionary knows it (code_shaped below)
    ("from", False), ("hexx", False), ("fromx", False),  # a part of one letter is no word
    ("run2server", False),
])
def test_glued_words(word, glued):
    assert mi.glued(word, COUNTS, {"desc": 5}) is glued


@pytest.mark.parametrize("written, token, shaped", [
    ("RunSQL", "runsql", True), ("basicConfig", "basicconfig", True), ("EACCES", "eacces", True),
    ("fromhex", "fromhex", True), ("database", "database", False), ("databases", "databases", False),
    ("London", "london", False), ("NASA", "nasa", True), ("TV", "tv", False), ("server", "server", False),
])
def test_code_shapes(written, token, shaped):
    assert mi.code_shaped(written, token, COUNTS, DICTIONARY) is shaped


@pytest.fixture(scope="module")
def corpus_and_bundle(tmp_path_factory, tiny_bundle_factory):
    """A prose file and a manual; the model trained on both (words seen once: its lexicon)."""
    root = tmp_path_factory.mktemp("identifiers")
    prose = make_patterned_text()  # "cat" and "mat" seen 40 times or so: words to glue
    manual = ("Start the server with catmat and read the parkTree option.\n"
              "The GREENAPPLE flag and the dogcat setting are described below.\n"
              "Set catmat again and check parkTree.\n")
    prose_extra = "The mat was red.\n"  # "dogcat" is in prose too below: not the manual's alone
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "prose.txt").write_text(prose + prose_extra + "A dogcat sat.\n", encoding="utf-8")
    (corpus / "manual.txt").write_text(manual, encoding="utf-8")
    wordnet = root / "wordnet"
    wordnet.mkdir()
    for part in ("noun", "verb", "adj", "adv"):
        (wordnet / f"index.{part}").write_text("  1 licence text\ncat n 1\nmat n 1\n", encoding="latin-1")
    trained = tiny_bundle_factory(root / "train", (corpus / "prose.txt").read_text() + manual, min_count=3)
    from model_training.add_lexicon import add_lexicon

    bundle = root / "bundle"
    add_lexicon(trained, sorted(corpus.glob("*.txt")), bundle, whole=True)  # words seen once or twice
    return corpus, wordnet, bundle


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "mark_identifiers.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_the_manuals_identifiers_are_marked_and_the_bundle_still_loads(corpus_and_bundle, tmp_path):
    corpus, wordnet, bundle = corpus_and_bundle
    out = tmp_path / "marked"
    done = run(bundle, corpus, "--out", out, "--documentation", "manual", "--dictionary", wordnet)
    assert done.returncode == 0, done.stderr
    marked = load_bundle(out).lexicon.identifiers  # the checksums were rewritten: it loads
    assert {"parktree", "greenapple", "catmat"} <= marked
    assert "dogcat" not in marked  # the prose uses it too
    assert not {"the", "cat", "mat", "server", "option"} & marked
    before = load_bundle(bundle)
    assert load_bundle(out).lexicon.words == before.lexicon.words  # nothing else changed


@pytest.mark.parametrize("args, says", [
    (["{corpus}/missing"], "is not a folder of .txt files"),
    (["{corpus}", "--documentation", "nothere"], "has no nothere.txt"),
    (["{corpus}", "--dictionary", "{corpus}"], "holds no WordNet index"),
])
def test_bad_input_is_one_sentence(corpus_and_bundle, args, says):
    corpus, wordnet, bundle = corpus_and_bundle
    done = run(bundle, *[a.format(corpus=corpus) for a in args], *(
        [] if "--dictionary" in args else ["--dictionary", wordnet]))
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr


def test_counts_by_file_use_the_models_tokens(tmp_path):
    from keyboard_app.engine.tokenizer import Tokenizer

    (tmp_path / "a.txt").write_text("Use fromhex() twice: fromhex.\n", encoding="utf-8")
    counts = mi.count_files([tmp_path / "a.txt"], Tokenizer())
    assert counts["a"]["fromhex"] == 2 and isinstance(counts["a"], Counter)


def test_add_lexicon_keeps_the_marks_of_the_words_still_there(corpus_and_bundle, tmp_path):
    from model_training.add_lexicon import add_lexicon

    corpus, wordnet, bundle = corpus_and_bundle
    marked = tmp_path / "marked"
    done = run(bundle, corpus, "--out", marked, "--documentation", "manual", "--dictionary", wordnet)
    assert done.returncode == 0, done.stderr
    marks = load_bundle(marked).lexicon.identifiers
    assert {"parktree", "greenapple", "catmat"} <= marks
    again = tmp_path / "again"
    add_lexicon(marked, sorted(corpus.glob("*.txt")), again, whole=True)  # the same corpus: the same marks
    assert load_bundle(again).lexicon.identifiers == marks
    shorter = tmp_path / "manual.txt"  # the manual without its last line: no more "parkTree"
    shorter.write_text("Start the server with catmat and read the option.\nThe GREENAPPLE flag is below.\n",
                       encoding="utf-8")
    fewer = tmp_path / "fewer"
    add_lexicon(marked, [corpus / "prose.txt", shorter], fewer, whole=True)
    kept = load_bundle(fewer).lexicon
    assert "parktree" not in kept.words and "parktree" not in kept.identifiers
    assert {"greenapple", "catmat"} <= kept.identifiers
    assert kept.identifiers <= set(kept.words) | set(load_bundle(fewer).vocab.tokens)


def test_out_a_folder_of_the_users_files_is_one_sentence_and_they_stay(corpus_and_bundle, tmp_path):
    corpus, wordnet, bundle = corpus_and_bundle
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("chapter one", encoding="utf-8")
    done = run(bundle, corpus, "--out", mine, "--documentation", "manual", "--dictionary", wordnet)
    assert done.returncode == 2 and "thesis.txt" in done.stderr and "Traceback" not in done.stderr
    assert [p.name for p in mine.iterdir()] == ["thesis.txt"]
