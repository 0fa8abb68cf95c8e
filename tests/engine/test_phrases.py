"""The bundle's phrase tables: the corpus's word pairs and triples, mixed into the strip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine_helpers import WORDS, FakeGraph, make_vocab, write_placeholder_bundle
from keyboard_app.engine.bundle import ModelLoadError, load_bundle, sha256_file
from keyboard_app.engine.lexicon import Lexicon
from keyboard_app.engine.phrases import PhraseSettings, Phrases, build_phrases, renumbering
from keyboard_app.engine.predictor import Predictor, RecencySettings
from keyboard_app.engine.tokenizer import Tokenizer
from keyboard_app.engine.vocab import VocabError

OFF = RecencySettings.off()  # the phrases alone, not the document cache
CORPUS = "we met tom. we met tom. we met london. see you tomorrow. see you tom. see a cat."
VOCAB = make_vocab()


def ids_of(text: str, vocab=VOCAB) -> np.ndarray:
    return np.array([vocab.id(t) if t in vocab else vocab.unk_id for t in Tokenizer().tokenize(text)], np.int64)


def followers(phrases, text, order):
    found = phrases.followers(ids_of(text).tolist(), order)
    if found is None:
        return None
    return {VOCAB.tokens[i]: round(math.exp(p), 4) for i, p in zip(*found)}


def test_followers_are_the_corpus_continuations_with_their_shares():
    phrases = build_phrases(ids_of(CORPUS), len(VOCAB), 0, VOCAB.unk_id)
    assert followers(phrases, "so we met", 3) == {"tom": 0.6667, "london": 0.3333}
    assert followers(phrases, "and then you", 2) == {"tomorrow": 0.5, "tom": 0.5}
    assert followers(phrases, "see", 2) == {"you": 0.6667, "a": 0.3333}
    assert followers(phrases, "london met", 3) is None  # never seen
    assert followers(phrases, "we", 2) == {"met": 1.0}


def test_contexts_with_unknown_words_give_nothing():
    text = "we zork tom. we zork tom."
    phrases = build_phrases(ids_of(text), len(VOCAB), 0, VOCAB.unk_id)
    assert followers(phrases, "the zork", 2) is None
    assert followers(phrases, "we zork", 3) is None
    assert followers(phrases, "we", 2) == {"<unk>": 1.0}  # an unknown word may follow


def test_a_word_seen_once_after_a_frequent_context_is_pruned():
    text = "see you tom. " * 60 + "see you london."
    kept = build_phrases(ids_of(text), len(VOCAB), 0, VOCAB.unk_id)
    assert followers(kept, "see you", 3) == {"tom": 0.9836}  # london was seen once in 61
    everything = build_phrases(ids_of(text), len(VOCAB), 0, VOCAB.unk_id, rare_context=1000)
    assert followers(everything, "see you", 3) == {"tom": 0.9836, "london": 0.0164}


def test_the_file_round_trips(tmp_path):
    phrases = build_phrases(ids_of(CORPUS), len(VOCAB), 0, VOCAB.unk_id)
    phrases.save(tmp_path / "phrases.npz")
    loaded = Phrases.load(tmp_path / "phrases.npz", len(VOCAB), 0, VOCAB.unk_id)
    for order, table in phrases.tables.items():
        for name in ("contexts", "totals", "starts", "next_ids", "counts"):
            assert np.array_equal(getattr(loaded.tables[order], name), getattr(table, name))
    assert followers(loaded, "we met", 3) == followers(phrases, "we met", 3)


def test_fine_tuning_adds_counts_and_renumbers_the_words_of_a_grown_vocabulary():
    # before: "zork" is the lexicon's word 0 (id V); after, the vocabulary has grown by "zork"
    # and the new lexicon lists "quux": "zork" is a vocabulary id, "quux" is id V' + 0
    zork = len(VOCAB)
    base = build_phrases(np.append(ids_of("we met tom. we met tom. we met london. we met"), zork),
                         len(VOCAB), 1, VOCAB.unk_id)
    assert shares(base, ids_of("we met"), VOCAB.tokens + ["zork"]) == {"tom": 0.5, "london": 0.25, "zork": 0.25}
    grown = make_vocab(WORDS + [("zork", "zork")])
    quux = len(grown)
    new_index = {t: i for i, t in enumerate(grown.tokens)} | {"quux": quux}
    renumber = renumbering(VOCAB.tokens, ["zork"], new_index, grown.unk_id)
    assert renumber[VOCAB.id("tom")] == grown.id("tom") and renumber[zork] == grown.id("zork")
    merged = build_phrases(np.append(ids_of("we met zork. we met", grown), quux), len(grown), 1, grown.unk_id,
                           base=base, base_ids=renumber)
    assert merged.id_space == len(grown) + 1
    assert shares(merged, ids_of("we met", grown), grown.tokens + ["quux"]) == {
        "tom": 0.3333, "london": 0.1667, "zork": 0.3333, "quux": 0.1667}


def shares(phrases, context, names):
    found, log_probs = phrases.followers(context.tolist(), len(context) + 1)
    return {names[i]: round(math.exp(p), 4) for i, p in zip(found, log_probs)}


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda path: path.write_bytes(b"not a zip at all"), "not a phrases file or is damaged"),
        (lambda path: np.savez(path, format=np.array("something-else")), "not a phrases file"),
        (lambda path: np.savez(path, format=np.array("keyboard-phrases"), format_version=np.array(9)),
         "version 9 is not supported"),
        (lambda path: build_phrases(ids_of(CORPUS), len(VOCAB) + 1, 0, 0).save(path), "vocabulary of"),
        (lambda path: build_phrases(ids_of(CORPUS), len(VOCAB), 5, 0).save(path), "and a lexicon of 5 words"),
        (lambda path: _resaved(path, count_3=lambda a: a * 100), "counts exceed their contexts' totals"),
        (lambda path: _resaved(path, context_2=lambda a: a[::-1].copy()), "contexts are not sorted"),
        (lambda path: _resaved(path, next_3=lambda a: a[:-1].copy()), "disagree in length"),
        (lambda path: _resaved(path, total_2=lambda a: a.astype(np.float64)), "not integers"),
    ],
)
def test_a_foreign_or_damaged_file_is_refused_in_one_sentence(tmp_path, damage, message):
    path = tmp_path / "phrases.npz"
    damage(path)
    with pytest.raises(VocabError, match=message):
        Phrases.load(path, len(VOCAB), 0, VOCAB.unk_id)


def _resaved(path, **changes):
    """A valid phrases file written to ``path`` with some arrays changed."""
    build_phrases(ids_of(CORPUS), len(VOCAB), 0, VOCAB.unk_id).save(path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    for name, change in changes.items():
        arrays[name] = change(arrays[name])
    np.savez(path, **arrays)


def test_a_bundle_with_a_foreign_phrases_file_names_it(tmp_path):
    wrong = build_phrases(ids_of(CORPUS), len(VOCAB) + 1, 0, 0)  # for another vocabulary
    # writing validates by loading, so such a bundle never lands
    with pytest.raises(ModelLoadError, match=rf"phrases\.npz: it was made for a vocabulary of {len(VOCAB) + 1} tokens and a lexicon "
                       rf"of 0 words, not {len(VOCAB)} and 0\.$"):
        write_placeholder_bundle(tmp_path / "new", VOCAB, phrases=wrong)
    assert not (tmp_path / "new").exists()
    # one swapped in afterwards, with a matching checksum, is refused when loading
    path = write_placeholder_bundle(tmp_path / "bundle", VOCAB, phrases=build_phrases(ids_of(CORPUS), len(VOCAB), 0, 0))
    wrong.save(path / "phrases.npz")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["phrases.npz"] = sha256_file(path / "phrases.npz")
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match=r"phrases\.npz: it was made for a vocabulary"):
        load_bundle(path)


@pytest.fixture(scope="module")
def phrase_bundle(tmp_path_factory):
    # "london" ranks far below "tom" in FakeGraph's table; the corpus says "we met london"
    phrases = build_phrases(ids_of("we met london. " * 3), len(VOCAB), 0, VOCAB.unk_id)
    return write_placeholder_bundle(tmp_path_factory.mktemp("phrases") / "bundle", VOCAB, phrases=phrases)


def predictor_for(path, phrases=PhraseSettings()):
    bundle = load_bundle(path)
    return Predictor(bundle, FakeGraph(bundle.vocab), recency=OFF, phrases=phrases)


def test_a_corpus_phrase_raises_its_word_by_the_formula(phrase_bundle):
    plain = predictor_for(phrase_bundle, PhraseSettings.off())
    mixed = predictor_for(phrase_bundle)
    network, _ = plain.next_word_log_probs("so we met ")
    log_probs, _ = mixed.next_word_log_probs("so we met ")
    london, tom = VOCAB.id("london"), VOCAB.id("tom")
    settings = PhraseSettings()
    keep = math.log1p(-settings.pair_weight - settings.triple_weight)
    # "met" was always followed by "london", and "we met" too: both parts give it everything
    assert log_probs[london] == pytest.approx(np.logaddexp(keep + network[london], math.log(0.2)))
    assert log_probs[tom] == pytest.approx(keep + network[tom])
    assert np.exp(log_probs).sum() == pytest.approx(1.0, abs=1e-5)
    assert "London" in [s.text for s in mixed.suggest("so we met ", 3)]
    assert "London" not in [s.text for s in plain.suggest("so we met ", 3)]


def test_a_context_the_corpus_never_had_leaves_the_network_alone(phrase_bundle):
    plain = predictor_for(phrase_bundle, PhraseSettings.off())
    mixed = predictor_for(phrase_bundle)
    for text in ("see you ", "the cat sat ", ""):
        assert np.array_equal(plain.next_word_log_probs(text)[0], mixed.next_word_log_probs(text)[0])


def test_only_the_pair_part_when_the_triple_was_never_seen(phrase_bundle):
    plain = predictor_for(phrase_bundle, PhraseSettings.off())
    mixed = predictor_for(phrase_bundle)
    network, _ = plain.next_word_log_probs("they met ")  # "they met" unseen, "met" seen
    log_probs, _ = mixed.next_word_log_probs("they met ")
    london = VOCAB.id("london")
    keep = math.log1p(-PhraseSettings().pair_weight)
    assert log_probs[london] == pytest.approx(np.logaddexp(keep + network[london], math.log(0.05)))


def test_settings_are_checked():
    with pytest.raises(ValueError):
        PhraseSettings(0.6, 0.5)
    with pytest.raises(ValueError):
        PhraseSettings(-0.1, 0.1)


# -- words beyond the vocabulary: the lexicon's ids (vocabulary size + position) ------------

NAMES = Lexicon(words=["ivan", "levkivskyi"], display=["Ivan", "Levkivskyi"], counts=[3, 3], unknown_total=1000)


@pytest.fixture(scope="module")
def names_bundle(tmp_path_factory):
    ivan, levkivskyi = len(VOCAB), len(VOCAB) + 1
    we, met, stop = VOCAB.id("we"), VOCAB.id("met"), VOCAB.id(".")
    phrases = build_phrases(np.array([we, met, ivan, levkivskyi, stop] * 3), len(VOCAB), len(NAMES), VOCAB.unk_id)
    return write_placeholder_bundle(tmp_path_factory.mktemp("names") / "bundle", VOCAB, lexicon=NAMES,
                                    phrases=phrases)


def test_a_name_beyond_the_vocabulary_follows_its_corpus_context(names_bundle):
    predictor = predictor_for(names_bundle)
    assert predictor.suggest("so we met ", 1)[0].text == "Ivan"  # the network can only say <unk>
    shown = predictor.suggest("so we met Ivan ", 3)  # and the lexicon word is a context too
    assert shown[0].text == "Levkivskyi" and not shown[0].is_completion
    network, _ = predictor_for(names_bundle, PhraseSettings.off()).next_word_log_probs("so we met Ivan ")
    settings = PhraseSettings()
    base = math.log1p(-settings.pair_weight - settings.triple_weight) + network[VOCAB.unk_id]
    # "ivan" and "met ivan" were always followed by "levkivskyi"
    expected = np.logaddexp(np.logaddexp(base + math.log(3 / 1000), math.log(settings.pair_weight)),
                            math.log(settings.triple_weight))
    assert shown[0].log_prob == pytest.approx(expected)


def test_a_word_in_neither_vocabulary_nor_lexicon_is_no_context(names_bundle):
    plain = predictor_for(names_bundle, PhraseSettings.off())
    mixed = predictor_for(names_bundle)
    for text in ("so we met Zork ", "so Zork "):
        assert np.array_equal(plain.next_word_log_probs(text)[0], mixed.next_word_log_probs(text)[0])
        assert plain.suggest(text, 3) == mixed.suggest(text, 3)


# -- the file's two forms (issue 17): stored and memory-mapped, or compressed as before -------


def _mapped_base(array):
    while isinstance(array, (np.ndarray, memoryview)):
        array = array.base if isinstance(array, np.ndarray) else array.obj
    return array


def test_the_file_is_stored_uncompressed_aligned_and_memory_mapped(tmp_path):
    import mmap
    import os
    import zipfile

    phrases = build_phrases(ids_of(CORPUS * 3), len(VOCAB), 0, VOCAB.unk_id)
    phrases.save(tmp_path / "phrases.npz")
    with zipfile.ZipFile(tmp_path / "phrases.npz") as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
    loaded = Phrases.load(tmp_path / "phrases.npz", len(VOCAB), 0, VOCAB.unk_id)
    for order, table in loaded.tables.items():
        for name in ("contexts", "totals", "next_ids", "counts"):
            array = getattr(table, name)
            assert array.ctypes.data % 64 == 0, (order, name)
            if os.name != "nt":
                assert isinstance(_mapped_base(array), mmap.mmap), (order, name)
    # still an ordinary .npz: numpy (and the engine before issue 17) reads it
    with np.load(tmp_path / "phrases.npz", allow_pickle=False) as data:
        assert np.array_equal(data["next_3"], loaded.tables[3].next_ids)


def test_the_compressed_form_of_before_loads_identically(tmp_path):
    import zipfile

    phrases = build_phrases(ids_of(CORPUS * 3 + " we met london. see you tom."), len(VOCAB), 0, VOCAB.unk_id)
    phrases.save(tmp_path / "stored.npz")
    phrases.save(tmp_path / "compressed.npz", compressed=True)
    with zipfile.ZipFile(tmp_path / "compressed.npz") as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    stored = Phrases.load(tmp_path / "stored.npz", len(VOCAB), 0, VOCAB.unk_id)
    compressed = Phrases.load(tmp_path / "compressed.npz", len(VOCAB), 0, VOCAB.unk_id)
    assert stored.tables.keys() == compressed.tables.keys() == {2, 3}
    for order, table in stored.tables.items():
        for name in ("contexts", "totals", "starts", "next_ids", "counts"):
            a, b = getattr(table, name), getattr(compressed.tables[order], name)
            assert a.dtype == b.dtype and np.array_equal(a, b), (order, name)
        # every context's followers, bit for bit, and as the whole table's computation gave them
        shares = table.counts.astype(np.float32)
        shares /= np.repeat(table.totals, np.diff(table.starts)).astype(np.float32)
        whole = np.log(shares)
        for i, key in enumerate(table.contexts.tolist()):
            context = [key // stored.id_space, key % stored.id_space] if order == 3 else [key]
            for source in (stored, compressed):
                ids, log_probs = source.followers(context, order)
                assert np.array_equal(ids, table.next_ids[table.starts[i] : table.starts[i + 1]])
                assert np.array_equal(log_probs, whole[table.starts[i] : table.starts[i + 1]])


def test_a_bundle_of_either_form_suggests_the_same(tmp_path, phrase_bundle):
    from keyboard_app.engine.phrases import copy_bundle

    old = copy_bundle(phrase_bundle, tmp_path / "old", compressed=True)
    new = copy_bundle(old, tmp_path / "new")
    assert (old / "phrases.npz").stat().st_size < (new / "phrases.npz").stat().st_size
    before, after = predictor_for(old), predictor_for(new)
    for text in ("so we met ", "we met lon", "they met ", "see you ", ""):
        assert np.array_equal(before.next_word_log_probs(text)[0], after.next_word_log_probs(text)[0])
        assert before.suggest(text, 5) == after.suggest(text, 5)
