"""benchmarks/knn_memory.py: the memory votes for what followed the nearest states."""

from __future__ import annotations

import numpy as np

import benchmark_scripts

km = benchmark_scripts.load("knn_memory")


def test_the_vote_goes_to_the_words_that_followed_the_nearest_keys():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(4, 16)).astype(np.float32) * 10
    keys = np.concatenate([c + rng.normal(size=(50, 16)).astype(np.float32) for c in centres])
    values = np.repeat(np.array([7, 11, 13, 17]), 50)
    memory = km.Memory(keys, values, dims=8, lists=4)
    for centre, word in zip(centres, (7, 11, 13, 17)):
        ids, log_p = memory.search(centre, probe=2, neighbours=20, temperature=1.0)
        assert ids[np.argmax(log_p)] == word
        assert np.isclose(np.exp(log_p).sum(), 1.0)
        assert list(ids) == sorted(set(ids))  # a Part's ids: sorted and unique


def test_the_states_pair_each_position_with_the_token_after_it(tiny_bundle, patterned_text):
    from keyboard_app.engine.bundle import load_bundle
    from keyboard_app.engine.tokenizer import Tokenizer

    bundle = load_bundle(tiny_bundle)
    keys, values = km.hidden_states(bundle, patterned_text)
    ids = bundle.vocab.encode(Tokenizer(bundle.tokenizer_settings).tokenize(patterned_text))
    length = (len(ids) - 1) // km.STREAMS
    assert keys.shape == (km.STREAMS * length, bundle.hidden_size)
    assert list(values[:length]) == ids[1:length + 1]  # the first piece: the text's own next tokens
    assert list(values[length:2 * length]) == ids[length + 1:2 * length + 1]


def test_the_table_has_a_row_per_setting(tmp_path, tiny_bundle, patterned_text, capsys):
    (tmp_path / "train.txt").write_text(patterned_text)
    (tmp_path / "unseen.txt").write_text(patterned_text)
    code = km.main([str(tiny_bundle), str(tmp_path / "train.txt"), str(tmp_path / "unseen.txt"), "--skip", "0",
                    "--words", "60", "--weights", "0,0.3", "--dims", "8", "--lists", "4", "--probe", "2"])
    assert code == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("w ")]
    assert [row.split()[1] for row in rows] == ["0", "0.3"]


def test_the_network_alone_is_measured_first_whatever_the_weights_given(tmp_path, tiny_bundle, patterned_text, capsys):
    (tmp_path / "train.txt").write_text(patterned_text)
    (tmp_path / "unseen.txt").write_text(patterned_text)
    code = km.main([str(tiny_bundle), str(tmp_path / "train.txt"), str(tmp_path / "unseen.txt"), "--skip", "0",
                    "--words", "60", "--weights", "0.3", "--dims", "8", "--lists", "4", "--probe", "2"])
    assert code == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("w ")]
    assert [row.split()[1] for row in rows] == ["0", "0.3"]
