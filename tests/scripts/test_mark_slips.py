"""scripts/mark_slips.py: which of a bundle's words are marked as the chat's misspellings, with
the word or words each means, and the bundle rewritten with them (a tiny model, a tiny corpus)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from text_helpers import make_patterned_text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import mark_slips as ms  # noqa: E402

from keyboard_app.engine.bundle import load_bundle  # noqa: E402

DICTIONARY = frozenset({"because", "roommate", "the", "definitely", "surprised", "a", "lot", "every", "one",
                        "fro", "so", "oh", "just", "have"})
CHAT = Counter({"becuase": 26, "roomate": 10, "teh": 26, "definately": 8, "suprised": 10, "alot": 74,
                "everyone": 600, "fro": 7, "sooo": 41, "ohh": 73, "jsut": 9, "hte": 9, "ahve": 19,
                "fixme": 30, "because": 3000, "roommate": 98, "lot": 800, "just": 3000, "have": 9000})
BOOKS = Counter({"because": 4574, "the": 420_000, "definitely": 853, "surprised": 200, "a": 170_000,
                 "lot": 2000, "every": 3000, "one": 20_000, "so": 20_000, "oh": 5000, "just": 7000,
                 "have": 26_000, "jsut": 10, "fixme": 1, "everyone": 400})
CHAT.update({"gameplay": 20, "game": 300, "play": 200, "the": 60_000, "definitely": 200, "surprised": 60})
BOOKS.update({"game": 900, "play": 2000})
DICTIONARY |= {"game", "play"}
PAIRS = ({("a", "lot"): 2613, ("every", "one"): 300, ("game", "play"): 400},  # all the files
         {("a", "lot"): 1900, ("every", "one"): 100, ("game", "play"): 12})  # the chat


def marked(**options) -> dict[str, str]:
    words = set(CHAT) | set(BOOKS)
    return ms.mark(words, {"chat": CHAT, "books": BOOKS}, ("chat",), DICTIONARY, PAIRS, **options)


def test_the_chats_misspellings_are_marked_with_the_word_meant():
    found = marked()
    assert found == {
        "becuase": "because", "ahve": "have",  # two letters swapped
        "teh": "the", "hte": "the",  # ... in three letters, where the word meant is 1,000 times as frequent
        "roomate": "roommate",  # one letter of a double left out (5 times as frequent is enough)
        "suprised": "surprised",  # a letter left out
        "definately": "definitely",  # a vowel for another
        "alot": "a lot",  # two words written as one, ten times as often apart
    }


def test_what_is_left_alone():
    found = marked()
    assert "everyone" not in found  # written together more often than apart
    assert "gameplay" not in found  # the books write "game play", the chat writes "gameplay"
    assert "fro" not in found  # a dictionary's word ("to and fro")
    assert not {"sooo", "ohh"} & found.keys()  # an extra letter: the chat's stress, no slip
    assert "jsut" not in found  # edited text writes it as often as the chat: not the chat's slip
    assert "fixme" not in found  # no word one slip from it
    assert "becuase" not in marked(ratio=1000)  # "because" not 1,000 times as frequent
    assert marked(casual_share=1.0).keys() == marked().keys()  # all but jsut are the chat's alone


def test_one_slip_kinds():
    found = list(ms.one_slip_from("roomate"))
    assert ("roommate", "double") in found and ("oromate", "swap") in found and ("roomaste", "drop") in found
    assert "roomat" not in dict(found)  # a letter too many is no kind
    assert dict(ms.one_slip_from("definately"))["definitely"] == "vowel"


@pytest.fixture(scope="module")
def corpus_and_bundle(tmp_path_factory, tiny_bundle_factory):
    """A book and a chat; the model trained on both (words seen once or twice: its lexicon)."""
    root = tmp_path_factory.mktemp("slips")
    book = make_patterned_text() + "We drank a lot of tea.\n" * 20  # "park" 40-odd times, "a lot" 20
    chat = "lol the dog ran to the prak\ni like it alot\n" + "the dog ran to the park\nthanks a lot\n" * 3
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "book.txt").write_text(book, encoding="utf-8")
    (corpus / "chat.txt").write_text(chat, encoding="utf-8")
    wordnet = root / "wordnet"
    wordnet.mkdir()
    for part in ("noun", "verb", "adj", "adv"):
        (wordnet / f"index.{part}").write_text("  1 licence text\npark n 1\nlot n 1\n", encoding="latin-1")
    (root / "words").write_text("a\nthe\nlol\n", encoding="utf-8")
    trained = tiny_bundle_factory(root / "train", book + chat, min_count=3)
    from model_training.add_lexicon import add_lexicon

    bundle = root / "bundle"
    add_lexicon(trained, sorted(corpus.glob("*.txt")), bundle, whole=True)  # "prak", "alot": the lexicon's
    return corpus, wordnet, root / "words", bundle


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "mark_slips.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_the_chats_slips_are_marked_and_kept_by_a_new_lexicon(corpus_and_bundle, tmp_path):
    from model_training.add_lexicon import add_lexicon

    corpus, wordnet, words, bundle = corpus_and_bundle
    out = tmp_path / "marked"
    done = run(bundle, corpus, "--out", out, "--casual", "chat", "--dictionary", wordnet, "--words", words)
    assert done.returncode == 0, done.stderr
    assert "prak -> park" in done.stdout
    assert load_bundle(out).lexicon.slips == {"prak": "park", "alot": "a lot"}  # it loads: checksums rewritten
    assert load_bundle(out).lexicon.words == load_bundle(bundle).lexicon.words  # nothing else changed
    again = tmp_path / "again"
    add_lexicon(out, sorted(corpus.glob("*.txt")), again, whole=True)  # the same corpus: the same slips
    assert load_bundle(again).lexicon.slips == {"prak": "park", "alot": "a lot"}


@pytest.mark.parametrize("args, says", [
    (["{corpus}/missing", "--casual", "chat"], "is not a folder of .txt files"),
    (["{corpus}", "--casual", "nothere"], "has no nothere.txt"),
    (["{corpus}"], "name the casual files with --casual"),
    (["{corpus}", "--casual", "chat", "--words", "{corpus}/none"], "is no word list"),
])
def test_bad_input_is_one_sentence(corpus_and_bundle, args, says):
    corpus, wordnet, words, bundle = corpus_and_bundle
    extra = [] if "--words" in args else ["--words", words]
    done = run(bundle, *[a.format(corpus=corpus) for a in args], "--dictionary", wordnet, *extra)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr


def test_out_a_folder_of_the_users_files_is_one_sentence_and_they_stay(corpus_and_bundle, tmp_path):
    corpus, wordnet, words, bundle = corpus_and_bundle
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("chapter one", encoding="utf-8")
    done = run(bundle, corpus, "--out", mine, "--casual", "chat", "--dictionary", wordnet, "--words", words)
    assert done.returncode == 2 and "thesis.txt" in done.stderr and "Traceback" not in done.stderr
    assert [p.name for p in mine.iterdir()] == ["thesis.txt"]
    assert (mine / "thesis.txt").read_text(encoding="utf-8") == "chapter one"
