"""The lexicon and phrase tables a training run writes, keeps when fine-tuning,
and adds to an older bundle."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import numpy as np

from keyboard_app.engine.bundle import load_bundle
from keyboard_app.engine.phrases import compress_file
from keyboard_app.engine.predictor import PhraseSettings, Predictor, RecencySettings
from model_training.add_lexicon import add_lexicon

RARE = "Once a Xylophone played for Quixote.\n\n"  # words seen once: below min_count 2
OFF = RecencySettings.off()  # what the lexicon does, not the document cache


def completions(path, text, **settings):
    predictor = Predictor.load(path, recency=OFF, **settings)
    try:
        return [s.text for s in predictor.suggest(text, 3)]
    finally:
        predictor.close()


def test_training_writes_the_words_beyond_the_vocabulary(tmp_path, patterned_text, tiny_bundle_factory):
    path = tiny_bundle_factory(tmp_path, RARE + patterned_text, min_count=2, epochs=2, eval_max_words=0)
    bundle = load_bundle(path)
    assert "xylophone" not in bundle.vocab and bundle.lexicon is not None
    assert {"xylophone", "quixote"} <= set(bundle.lexicon.words)
    assert bundle.manifest["lexicon"] == {"file": "lexicon.json", "words": len(bundle.lexicon)}
    assert "Xylophone" in completions(path, "The xy")  # as it was written
    assert completions(path, "The Qui")[:1] == ["Quixote"]
    # the phrase tables know lexicon words as contexts and as followers: with the fixed weights
    # a context seen once puts its one follower first; the engine's own, which weigh a context
    # by how often it was seen (phrases.EVIDENCE), no longer do so for this one-off
    fixed = PhraseSettings()  # (evidence 0)
    assert completions(path, "Then a Xylophone played for ", phrases=fixed)[:1] == ["Quixote"]
    assert completions(path, "Then a Xylophone played for ")[:1] != ["Quixote"]


def test_fine_tuning_keeps_the_source_lexicon(tmp_path, patterned_text, tiny_bundle_factory):
    source = tiny_bundle_factory(tmp_path / "a", RARE + patterned_text, min_count=2, epochs=1, eval_max_words=0)
    tuned = tiny_bundle_factory(tmp_path / "b", "Zephyrs blew once.\n\n" + patterned_text, init_from=source,
                                min_count=2, epochs=1, eval_max_words=0, max_new_words=0)
    words = set(load_bundle(tuned).lexicon.words)
    assert {"xylophone", "quixote", "zephyrs"} <= words


def test_add_lexicon_gives_an_older_bundle_its_corpus_words(tmp_path, tiny_bundle, patterned_text):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(RARE + patterned_text, encoding="utf-8")
    before = load_bundle(tiny_bundle)
    assert before.lexicon is None and completions(tiny_bundle, "The xy") == []
    out = tmp_path / "with-lexicon"
    words, entries = add_lexicon(tiny_bundle, [corpus], out)
    after = load_bundle(out)
    assert words == len(after.lexicon) >= 2 and entries == len(after.phrases) > 0
    assert "xylophone" in after.lexicon.words
    assert completions(out, "The xy") == ["Xylophone"]
    for name in ("model.onnx", "vocab.json"):  # the model itself is untouched
        assert after.manifest["files"][name] == before.manifest["files"][name]


def test_add_lexicon_can_count_the_lines_training_held_out(tmp_path, tiny_bundle, patterned_text):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(patterned_text + "\nThe Zanzibar ferry left.\n", encoding="utf-8")  # the validation tail
    add_lexicon(tiny_bundle, [corpus], tmp_path / "part")
    add_lexicon(tiny_bundle, [corpus], tmp_path / "whole", whole=True)
    part, whole = load_bundle(tmp_path / "part"), load_bundle(tmp_path / "whole")
    assert "zanzibar" not in part.vocab and "zanzibar" not in (part.lexicon.words if part.lexicon else [])
    assert "zanzibar" in whole.lexicon.words


def test_add_lexicon_keeps_the_phrase_tables_compressed_where_they_were(tmp_path, tiny_bundle, patterned_text):
    # the built-in model's tables are compressed (9.8 MB, 44 MB stored): a recount must not
    # quadruple the bundle, nor compress a user's memory-mapped ones
    from keyboard_app.engine.phrases import is_compressed

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(RARE + patterned_text, encoding="utf-8")
    add_lexicon(tiny_bundle, [corpus], tmp_path / "stored")
    stored = load_bundle(tmp_path / "stored")
    assert not is_compressed(stored.path / stored.manifest["phrases"]["file"])
    packed = tmp_path / "packed"
    shutil.copytree(tmp_path / "stored", packed)
    compress_file(packed / stored.manifest["phrases"]["file"])
    manifest = json.loads((packed / "manifest.json").read_text())
    manifest["files"]["phrases.npz"] = hashlib.sha256((packed / "phrases.npz").read_bytes()).hexdigest()
    (packed / "manifest.json").write_text(json.dumps(manifest))
    add_lexicon(packed, [corpus], tmp_path / "again")
    again = load_bundle(tmp_path / "again")
    assert is_compressed(again.path / "phrases.npz")
    assert len(again.phrases) == len(stored.phrases)


def test_add_lexicon_cuts_the_phrase_tables_to_a_limit_rarest_first(tmp_path, tiny_bundle, patterned_text):
    rng = np.random.default_rng(5)
    words = [f"zo{a}{b}" for a in "bdfgk" for b in "lmnprstv"]  # 40 lexicon words: 1,600 pairs seen often
    babble = "\n".join(" ".join(rng.choice(words, 12)) + "." for _ in range(3000))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(patterned_text + "\n\n" + babble + "\n", encoding="utf-8")
    _, whole = add_lexicon(tiny_bundle, [corpus], tmp_path / "whole")
    _, cut = add_lexicon(tiny_bundle, [corpus], tmp_path / "cut", phrases_limit_mb=0.05)
    assert 0 < cut < whole
    full, small = load_bundle(tmp_path / "whole").phrases, load_bundle(tmp_path / "cut").phrases
    # (the limit counts the arrays; the archive adds its headers and alignment)
    assert (tmp_path / "cut" / "phrases.npz").stat().st_size < 60_000 < (tmp_path / "whole" / "phrases.npz").stat().st_size
    rarest = min(int(t.counts.min()) for t in full.tables.values())
    assert min(int(t.counts.min()) for t in small.tables.values()) > rarest  # the rarest went first


def test_add_lexicon_command_reports_a_bad_bundle_in_one_sentence(tmp_path):
    (tmp_path / "corpus.txt").write_text("words\n")
    done = subprocess.run(
        [sys.executable, "-m", "model_training.add_lexicon", str(tmp_path / "nothing"), str(tmp_path / "corpus.txt")],
        capture_output=True, text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no such model bundle" in done.stderr
    assert "Traceback" not in done.stderr


def follows(bundle, context: str, word: str) -> float:
    """P_corpus(word | context) from the bundle's phrase tables (0 if never seen)."""
    vocab = bundle.vocab
    ids = [vocab.id(t) for t in context.split()]
    found = bundle.phrases.followers(ids, len(ids) + 1)
    if found is None:
        return 0.0
    shares = dict(zip(found[0].tolist(), np.exp(found[1]).tolist()))
    return shares.get(vocab.id(word), 0.0)


def test_training_writes_the_corpus_phrases(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    entries = bundle.manifest["phrases"]
    assert entries["file"] == "phrases.npz"
    assert sum(entries["entries"].values()) == len(bundle.phrases) > 0
    assert follows(bundle, "sat on", "the") == 1.0  # every "sat on" of the corpus
    assert follows(bundle, "met bob", "in") == 1.0
    assert 0.0 < follows(bundle, "the", "cat") < 1.0
    assert follows(bundle, "the cat", "ran") == 0.0


def test_fine_tuning_adds_its_phrases_to_the_source_ones(tmp_path, patterned_text, tiny_bundle_factory):
    source = tiny_bundle_factory(tmp_path / "a", patterned_text, epochs=1, eval_max_words=0)
    new_text = "The cat ran to the park.\n\n" * 20  # words the source knows, in a new order
    tuned = load_bundle(tiny_bundle_factory(tmp_path / "b", new_text, init_from=source, epochs=1,
                                            eval_max_words=0, max_new_words=0))
    assert follows(tuned, "the cat", "ran") > 0.0  # the new corpus's
    assert follows(tuned, "the cat", "sat") > 0.0  # the source's
    assert follows(tuned, "alice met", "bob") == 1.0
