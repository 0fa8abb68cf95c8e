"""The personal layer: counts only, prefix candidates, forgetting, storage."""

from __future__ import annotations

import json

import pytest

from keyboard_app import learning, paths
from keyboard_app.engine.mixture import MixtureWeights
from keyboard_app.learning import PersonalLayer, PersonalModel


def typed(model: PersonalModel, text: str) -> None:
    previous = "<s>"
    for i, word in enumerate(text.split()):
        model.observe(previous, word, initial=(i == 0))
        previous = word.lower()


def test_counts_words_and_pairs_not_text():
    model = PersonalModel()
    typed(model, "We flew to Zanzibar and then to Zanzibar again")
    data = model.to_dict()
    assert data["unigrams"]["zanzibar"] == 2
    assert data["bigrams"]["to"]["zanzibar"] == 2
    assert "We flew to" not in json.dumps(data)  # only counts, never the sentence


def test_candidates_follow_the_previous_word_and_prefix():
    model = PersonalModel()
    typed(model, "to Zanzibar to Zanzibar to Zambia we went")
    after_to = model.candidates("to", "")
    assert after_to[0].token == "zanzibar" and after_to[0].display == "Zanzibar"
    assert [c.token for c in model.candidates("to", "zam")] == ["zambia"]
    assert model.candidates("to", "q") == []
    total = sum(c.prob for c in model.candidates("to", "", limit=100))
    assert total == pytest.approx(1.0)


def test_sentence_initial_capital_is_not_the_written_form():
    model = PersonalModel()
    model.observe("<s>", "Then", initial=True)
    model.observe("and", "then")
    assert model.display("then") == "then"
    model.observe("<s>", "McDonald", initial=True)
    assert model.display("mcdonald") == "mcdonald"  # no evidence yet
    model.observe("met", "McDonald")
    assert model.display("mcdonald") == "McDonald"


@pytest.mark.parametrize("word", ["", "42", "x" * 100, "a-b", "<s>", "http"])
def test_only_words_are_learned(word):
    model = PersonalModel()
    learned = model.observe("<s>", word)
    assert learned == (word == "http")


def test_forget_and_block():
    model = PersonalModel()
    typed(model, "hello Zanzibar hello Zanzibar")
    assert model.forget("Zanzibar")
    assert not model.knows("zanzibar")
    assert "zanzibar" not in model.bigrams.get("hello", {})
    assert not model.forget("zanzibar")
    model.block("hello")
    assert model.candidates("<s>", "") == []
    model.clear()
    assert len(model) == 0 and not model.blocked


def test_the_layers_share_grows_with_use():
    model = PersonalModel()
    layer = PersonalLayer(model)
    weights = MixtureWeights()
    assert layer.share(weights) == 0
    typed(model, "one two")
    small = layer.share(weights)
    typed(model, "word " * 200)
    assert 0 < small < layer.share(weights) < weights.personal


def test_save_load_round_trip():
    model = PersonalModel()
    typed(model, "Alice met Zanzibar")
    model.block("met")
    path = paths.learned_data_path()
    model.save(path)
    loaded, problem = PersonalModel.load(path)
    assert problem is None
    assert loaded.to_dict() == model.to_dict()
    assert loaded.total == model.total


def test_corrupt_file_is_set_aside_once():
    path = paths.learned_data_path()
    path.parent.mkdir(parents=True)
    path.write_text("{broken", encoding="utf-8")
    model, problem = PersonalModel.load(path)
    assert len(model) == 0 and problem and "set aside" in problem
    assert path.with_name(path.name + ".corrupt").exists()
    _, again = PersonalModel.load(path)
    assert again is None


def test_a_file_without_its_tables_is_read_as_empty_ones_and_the_app_starts():
    """H39: a hand-made file of words only ("unigrams" without "bigrams") raised KeyError
    at start, so the app would not open; saving over it failed the same way."""
    path = paths.learned_data_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format": learning.PERSONAL_FORMAT, "format_version": 1,
                                "unigrams": {"frabnitz": 12}}), encoding="utf-8")
    model, problem = PersonalModel.load(path)
    assert problem is None and model.to_dict()["unigrams"] == {"frabnitz": 12}
    model.observe("met", "Frabnitz")
    model.save(path)
    assert PersonalModel.load(path)[0].to_dict()["bigrams"] == {"met": {"frabnitz": 1}}
    path.write_text(json.dumps({"format": learning.PERSONAL_FORMAT, "format_version": 1}), encoding="utf-8")
    model, problem = PersonalModel.load(path)
    assert problem is None and len(model) == 0


@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_a_format_version_that_is_not_the_integer_one_is_refused(version):
    path = paths.learned_data_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format": learning.PERSONAL_FORMAT, "format_version": version,
                                "unigrams": {"frabnitz": 12}}), encoding="utf-8")
    model, problem = PersonalModel.load(path)
    assert len(model) == 0 and problem and "set aside" in problem


def test_block_refuses_a_phrase_so_the_session_and_the_saved_file_agree():
    model = PersonalModel()
    assert not model.block("of the")
    assert model.block("Hello")
    assert model.blocked == {"hello"}
    path = paths.learned_data_path()
    model.save(path)
    loaded, problem = PersonalModel.load(path)
    assert problem is None and loaded.blocked == model.blocked


# -- the token before a word: what observe keeps, the file keeps (H25 finding 12) -------------


def typed_through_the_tokenizer(model: PersonalModel, text: str) -> None:
    """Learn ``text`` as the editor does: each word after the token the tokenizer gives before it."""
    from keyboard_app.engine.tokenizer import BOS, Tokenizer

    previous = BOS
    for token in Tokenizer().iter_tokens(text):
        model.observe(previous, token.surface, initial=token.initial)
        previous = token.token


def test_pairs_after_punctuation_and_numbers_are_kept_across_a_restart_without_a_warning(caplog):
    model = PersonalModel()
    typed_through_the_tokenizer(model, "We met Zora. Then we left, and 3 cats ran! Later Zora came... Then")
    assert model.bigrams["."] == {"then": 2} and model.bigrams["!"] == {"later": 1}
    assert model.bigrams[","] == {"and": 1} and model.bigrams["<num>"] == {"cats": 1}
    path = paths.learned_data_path()
    model.save(path)
    with caplog.at_level("WARNING", logger="keyboard_app.learning"):
        loaded, problem = PersonalModel.load(path)
    assert problem is None and caplog.records == []  # the app's own data is never "unusable"
    assert loaded.to_dict() == model.to_dict()
    assert loaded.candidates(".", "")[0].token == "then"  # what the strip asks after a full stop


def test_a_pair_after_a_token_the_file_cannot_keep_counts_the_word_alone():
    model = PersonalModel()
    assert model.observe("x" * 100, "Zora")  # (pasted junk before it)
    assert model.unigrams == {"zora": 1} and model.bigrams == {}


# -- saving off the UI thread (H25 finding 4) ---------------------------------------------------


class SlowWriter:
    """``atomic_write_text`` held until ``go`` is set: a save that takes as long as the test wants."""

    def __init__(self, monkeypatch) -> None:
        import threading

        from keyboard_app import learning

        self.entered, self.go = threading.Event(), threading.Event()
        self.threads: list[str] = []
        self.running = self.most = 0
        real = learning.atomic_write_text

        def write(path, data):
            self.threads.append(threading.current_thread().name)
            self.running += 1
            self.most = max(self.most, self.running)
            self.entered.set()
            assert self.go.wait(30), "the test never let the write go"
            try:
                return real(path, data)
            finally:
                self.running -= 1

        monkeypatch.setattr(learning, "atomic_write_text", write)


def in_a_thread(call, timeout: float = 10.0) -> bool:
    """True if ``call`` returned within ``timeout`` on another thread (False: it was blocked)."""
    import threading

    done = threading.Event()
    threading.Thread(target=lambda: (call(), done.set()), daemon=True).start()
    return done.wait(timeout)


def saving(monkeypatch, words: str):
    """A model that learned ``words``, its saver and the file, with a save requested and
    held in its write (``SlowWriter``): (path, model, saver, slow)."""
    from keyboard_app.learning import LearnedWordsSaver

    path = paths.learned_data_path()
    model = PersonalModel()
    saver = LearnedWordsSaver(model, path)
    typed(model, words)
    slow = SlowWriter(monkeypatch)
    saver.request()
    assert slow.entered.wait(10)
    return path, model, saver, slow


def test_a_background_save_returns_at_once_and_learning_goes_on_while_it_writes(monkeypatch):
    path, model, saver, slow = saving(monkeypatch, "we went to Zanzibar")  # returned while the write is held
    assert saver.busy() and not path.exists()
    assert slow.threads == ["learned-words-save_0"]  # not the calling thread
    # The model's lock is free during the write: typing, predicting and forgetting go on.
    assert in_a_thread(lambda: typed(model, "Zanzibar again"))
    assert in_a_thread(lambda: model.candidates("to", "za"))
    slow.go.set()
    saver.wait()
    saved = PersonalModel.load(path)[0]
    assert saved.unigrams["zanzibar"] == 1 and "again" not in saved.unigrams  # the copy taken at the start
    assert model.unigrams["zanzibar"] == 2 and model.unigrams["again"] == 1  # nothing learned meanwhile lost
    assert saver.unsaved()
    saver.request()  # the next save writes what was learned during the last
    saver.close()
    assert PersonalModel.load(path)[0].to_dict() == model.to_dict() and not saver.unsaved()


def test_requests_during_a_save_wait_for_it_and_saving_now_finishes_before_returning(monkeypatch):
    import threading

    path, model, saver, slow = saving(monkeypatch, "alpha beta")
    typed(model, "gamma")
    saver.request()
    saver.request()  # (one save waiting is enough: it copies the counts when it starts)
    typed(model, "delta")
    threading.Timer(0.3, slow.go.set).start()
    saver.save_now()  # what closing the window does: waits for the write, then saves the rest
    assert slow.most == 1  # never two writes at once
    assert len(slow.threads) <= 3
    assert PersonalModel.load(path)[0].unigrams == {w: 1 for w in ("alpha", "beta", "gamma", "delta")}
    assert not saver.unsaved()
    saver.close()


def test_a_failed_background_save_is_reported_and_its_words_saved_by_the_next(monkeypatch):
    import errno

    from keyboard_app import learning
    from keyboard_app.learning import LearnedWordsSaver

    path = paths.learned_data_path()
    model = PersonalModel()
    failures = []
    saver = LearnedWordsSaver(model, path, on_failed=failures.append)
    typed(model, "alpha")
    model.forget("alpha")
    typed(model, "beta")
    real = learning.atomic_write_text

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(learning, "atomic_write_text", full)
    saver.request()
    saver.wait()
    assert [e.errno for e in failures] == [errno.ENOSPC] and saver.unsaved() and not path.exists()
    monkeypatch.setattr(learning, "atomic_write_text", real)
    saver.request()
    saver.close()
    assert PersonalModel.load(path)[0].unigrams == {"beta": 1} and not saver.unsaved()


def test_two_copies_saving_in_the_background_keep_both_and_count_nothing_twice(monkeypatch):
    """The merge of ``save`` holds on the saver's thread, with words learned and forgotten
    during the write: each copy adds what it learned since it last read the file."""
    from keyboard_app.learning import LearnedWordsSaver

    path = paths.learned_data_path()
    seed = PersonalModel()
    typed(seed, "shared words")
    seed.save(path)
    first, second = PersonalModel.load(path)[0], PersonalModel.load(path)[0]
    first_saver, second_saver = LearnedWordsSaver(first, path), LearnedWordsSaver(second, path)
    typed(first, "alpha alpha")
    first_saver.request()
    first_saver.wait()
    typed(second, "beta")
    slow = SlowWriter(monkeypatch)
    second_saver.request()  # reads first's file (it changed since second read it) and adds beta
    assert slow.entered.wait(10)
    typed(second, "gamma")  # during the write: kept for the next save
    second.forget("shared")  # during the write: dropped from the file at the next save
    slow.go.set()
    second_saver.wait()
    assert PersonalModel.load(path)[0].unigrams == {"shared": 1, "words": 1, "alpha": 2, "beta": 1}
    assert second.unigrams == {"words": 1, "alpha": 2, "beta": 1, "gamma": 1}  # first's words taken in
    assert not second.knows("shared")
    second_saver.request()
    second_saver.wait()
    typed(first, "alpha")
    first_saver.request()
    first_saver.close()
    second_saver.close()
    saved = PersonalModel.load(path)[0]
    assert saved.unigrams == {"words": 1, "alpha": 3, "beta": 1, "gamma": 1}
    assert first.unigrams == saved.unigrams


def test_clearing_during_a_background_save_is_not_undone_by_it(monkeypatch):
    path, model, saver, slow = saving(monkeypatch, "alpha beta")
    model.clear()
    typed(model, "gamma")
    slow.go.set()
    saver.wait()
    assert model.unigrams == {"gamma": 1}  # the save's counts did not come back
    saver.save_now()
    saver.close()
    assert PersonalModel.load(path)[0].unigrams == {"gamma": 1}


# --- the cap on learned words (MAX_WORDS) is a cap, after an import too ---------------------

def exported_counts(tmp_path, counts: dict[str, int]):
    """An export holding ``counts``, each word after "met" as often as it was counted
    (written here: a model would keep the cap a test sets)."""
    path = tmp_path / "elsewhere.json"
    path.write_text(json.dumps({"format": learning.EXPORT_FORMAT, "format_version": 1, "unigrams": counts,
                                "bigrams": {"met": counts}, "forms": {}, "blocked": []}), encoding="utf-8")
    return path


def test_an_import_over_the_cap_keeps_the_most_counted_words_and_says_how_many_went(monkeypatch, tmp_path):
    monkeypatch.setattr(learning, "MAX_WORDS", 50)  # a prune keeps 49 (2% room, 1 at least)
    model = PersonalModel()
    typed(model, "local lonely")  # counted once: they go first
    for _ in range(3):
        model.observe("<s>", "kept")
    counts = {f"w{chr(97 + i // 26)}{chr(97 + i % 26)}": 2 + i % 5 for i in range(80)}
    path = exported_counts(tmp_path, counts)
    imported = model.import_words(path)
    kept = learning._kept_by_prune()
    assert kept == 49 and len(model) == kept
    assert imported.dropped == 80 + 3 - kept
    ranked = sorted({**counts, "kept": 3}.items(), key=lambda item: (-item[1], item[0]))
    assert set(model.unigrams) == {word for word, _ in ranked[:kept]}  # the most counted, ties by word
    assert "local" not in model.unigrams and "lonely" not in model.unigrams
    gone = {word for word, _ in ranked[kept:]}
    assert gone.isdisjoint(model.bigrams.get("met", {}))  # their rows went with them
    assert all(gone.isdisjoint(row) for row in model.bigrams.values())
    assert gone.isdisjoint(model.forms) and gone.isdisjoint(model.bigrams)
    assert model.total == sum(model.unigrams.values())
    assert model.bigrams["met"] == {word: counts[word] for word in model.unigrams if word in counts}


def test_after_an_import_over_the_cap_new_words_do_not_prune_at_every_word(monkeypatch, tmp_path):
    monkeypatch.setattr(learning, "MAX_WORDS", 200)
    model = PersonalModel()
    counts = {f"w{chr(97 + i // 26)}{chr(97 + i % 26)}": 2 for i in range(300)}
    model.import_words(exported_counts(tmp_path, counts))
    kept = learning._kept_by_prune()
    assert len(model) == kept == 196
    prunes = []
    prune = PersonalModel._prune
    monkeypatch.setattr(PersonalModel, "_prune", lambda self: prunes.append(len(self)) or prune(self))
    new = [f"new{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(20)]
    for word in new:
        model.observe("the", word)
    # a prune each time the table goes past the cap, then room for 4 more (2% of 200):
    # 4 prunes for 20 new words, where a table left at the cap would prune at every one
    assert prunes == [201] * (20 // (200 - kept + 1))
    assert kept <= len(model) <= 200


def test_a_small_import_under_the_cap_drops_nothing(tmp_path):
    model = PersonalModel()
    typed(model, "once")
    imported = model.import_words(exported_counts(tmp_path, {"frabnitz": 2}))
    assert imported.dropped == 0 and set(model.unigrams) == {"once", "frabnitz"}


def test_a_letter_alone_is_not_learned_but_a_and_i_are():
    """"P.S." taught "P" and "s" as words, and the strip then offered "S" at a sentence's start (H77)."""
    model = PersonalModel()
    for previous, word in (("<s>", "P"), (".", "S"), (".", "Thanks"), ("<s>", "I"), ("i", "saw"), ("saw", "a")):
        model.observe(previous, word)
    assert {"p", "s"}.isdisjoint(model.unigrams) and {"thanks", "i", "a", "saw"} <= set(model.unigrams)
