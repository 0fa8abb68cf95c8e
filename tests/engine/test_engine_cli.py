"""keyboard-suggest and keyboard-eval: output, and one sentence with exit 2 on bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine_helpers import SAMPLE_TEXT
from keyboard_app.engine.cli import eval_main, phrase_copies, suggest_main
from keyboard_app.engine.evaluate import typed_words
from keyboard_app.engine.predictor import Predictor

REPOSITORY = Path(__file__).resolve().parents[2]


def test_suggest_prints_the_suggestions(random_bundle, capsys):
    assert suggest_main([str(random_bundle), "we met in lon", "-k", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    expected = Predictor.load(random_bundle).suggest("we met in lon", 2)
    assert [line.split()[0] for line in out] == [s.text for s in expected]
    assert all(line.endswith("completion") for line in out)


def test_suggest_json(random_bundle, capsys):
    assert suggest_main([str(random_bundle), "Alice met ", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [s["text"] for s in shown] == [s.text for s in Predictor.load(random_bundle).suggest("Alice met ")]
    assert set(shown[0]) == {"text", "token", "log_prob", "is_completion", "kind"}
    assert shown[0]["kind"] == "word"  # "correction" only with typo tolerance on


def test_suggest_with_nothing_to_suggest(random_bundle, capsys):
    assert suggest_main([str(random_bundle), "qqqqq"]) == 0
    assert capsys.readouterr().out.strip() == "(no suggestions)"


def test_suggest_offers_corrections_as_the_app_does(capsys):
    """The default model's slip "alot" (lexicon.json's slips): the command line offers "a lot",
    marked as a correction, as the app's strip does; ``--no-corrections`` gives completions only."""
    from keyboard_app.paths import default_model_path

    assert suggest_main([str(default_model_path()), "I like it alot"]) == 0
    first = capsys.readouterr().out.splitlines()[0].split()
    assert first[:2] == ["a", "lot"] and first[-1] == "correction"
    assert suggest_main([str(default_model_path()), "I like it alot", "--no-corrections"]) == 0
    assert "a lot" not in capsys.readouterr().out


def test_eval_prints_a_table(random_bundle, tmp_path, capsys):
    text = tmp_path / "heldout.txt"
    text.write_text(SAMPLE_TEXT, encoding="utf-8")
    assert eval_main([str(random_bundle), str(text), "--max-words", "40"]) == 0
    out = capsys.readouterr().out
    for needle in ("perplexity", "vocabulary", "top-1", "top-3", "top-5", "KSR", "k=1", "k=5", "words scored  40 "):
        assert needle in out


def test_eval_reads_latin1_as_the_editor_does_and_says_so(random_bundle, tmp_path, capsys):
    """H47: the trainer and the editor read a Latin-1 file; keyboard-eval refused it."""
    utf8, latin1 = tmp_path / "utf8.txt", tmp_path / "latin1.txt"
    text = SAMPLE_TEXT + " Caf\u00e9 cr\u00e8me."
    utf8.write_text(text, encoding="utf-8")
    latin1.write_bytes(text.encode("latin-1"))
    assert eval_main([str(random_bundle), str(utf8), "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert eval_main([str(random_bundle), str(latin1), "--json"]) == 0
    out, err = capsys.readouterr()
    got = json.loads(out)
    assert (got["ksr"], got["words"]) == (expected["ksr"], expected["words"])
    assert "latin1.txt is not UTF-8: read as latin-1" in err


def test_eval_scores_the_texts_of_a_held_out_file_not_its_json(random_bundle, tmp_path, capsys):
    """H47: keyboard-eval scored the trainer's --write-heldout file as prose, braces and keys."""
    from keyboard_app.heldout import write_heldout

    plain = tmp_path / "plain.txt"
    plain.write_text(SAMPLE_TEXT, encoding="utf-8")
    assert eval_main([str(random_bundle), str(plain), "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    held = write_heldout(tmp_path / "heldout.json", [SAMPLE_TEXT])
    assert eval_main([str(random_bundle), str(held), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert (got["ksr"], got["words"], got["perplexity"]) == (expected["ksr"], expected["words"],
                                                             expected["perplexity"])


def test_eval_json(random_bundle, tmp_path, capsys):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(SAMPLE_TEXT, encoding="utf-8")
    b.write_text("The cat sat on the mat.", encoding="utf-8")
    assert eval_main([str(random_bundle), str(a), str(b), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["texts"] == [str(a), str(b)]
    assert set(report["ksr"]) == {"1", "3", "5"} and set(report["topk"]) == {"1", "3", "5"}
    predictor = Predictor.load(random_bundle)
    words = len(typed_words(predictor.tokenizer.iter_tokens(SAMPLE_TEXT))) + 6
    assert report["words"] == words and report["vocab_size"] == len(predictor.bundle.vocab)
    assert report["repeats_allowed"] is True and report["document_cache"] is True


def test_eval_network_only_is_the_engine_without_its_document_cache_and_phrases(
        random_int8_bundle, tmp_path, capsys):
    from keyboard_app.engine.evaluate import evaluate
    from keyboard_app.engine.predictor import PhraseSettings, RecencySettings

    text = tmp_path / "heldout.txt"
    text.write_text(SAMPLE_TEXT * 3, encoding="utf-8")  # repeated: the cache has something to do
    assert eval_main([str(random_int8_bundle), str(text), "--network-only", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["document_cache"] is False and report["phrases"] is False
    alone = evaluate(Predictor.load(random_int8_bundle, recency=RecencySettings.off(), phrases=PhraseSettings.off()),
                     [SAMPLE_TEXT * 3])
    phrases = evaluate(Predictor.load(random_int8_bundle, recency=RecencySettings.off()), [SAMPLE_TEXT * 3])
    cached = evaluate(Predictor.load(random_int8_bundle), [SAMPLE_TEXT * 3])
    assert report["ksr"] == {str(k): round(v, 2) for k, v in alone.ksr.items()}
    # the bundle's phrases come from SAMPLE_TEXT, and a text said three times has its words come back
    assert phrases.ksr[3] > alone.ksr[3] and cached.ksr[3] > alone.ksr[3]


@pytest.fixture
def bad_inputs(random_bundle, tmp_path):
    text = tmp_path / "ok.txt"
    text.write_text("hello there", encoding="utf-8")
    binary = tmp_path / "program.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    corrupt = shutil.copytree(random_bundle, tmp_path / "corrupt")
    (corrupt / "vocab.json").write_text("{}", encoding="utf-8")
    return {
        "missing bundle": ([str(tmp_path / "nowhere"), str(text)], "nowhere"),
        "missing text": ([str(random_bundle), str(tmp_path / "absent.txt")], "absent.txt"),
        "binary": ([str(random_bundle), str(binary)], "program.bin is not a text file"),
        "corrupt bundle": ([str(corrupt), str(text)], "vocab.json"),
        "a text file as bundle": ([str(text), str(text)], "ok.txt: not a model bundle"),
    }


@pytest.mark.parametrize("case", ["missing bundle", "missing text", "binary", "corrupt bundle",
                                  "a text file as bundle"])
def test_eval_bad_input_is_one_sentence_and_exit_2(bad_inputs, case, capsys):
    args, needle = bad_inputs[case]
    assert eval_main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("keyboard-eval: error: ") and needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_eval_help_points_to_the_definitions_in_the_repository(capsys):
    with pytest.raises(SystemExit) as done:
        eval_main(["--help"])
    assert done.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    [doc] = re.findall(r"definitions: (\S+\.md)", help_text)
    page = (REPOSITORY / doc).read_text(encoding="utf-8")
    for needle in ("KSR", "presage_simulator", "len(word) + 1", "top-k", "Perplexity", "--network-only",
                   "What k means"):
        assert needle in page


def test_suggest_bad_bundle_is_one_sentence_and_exit_2(tmp_path, capsys):
    assert suggest_main([str(tmp_path / "nowhere"), "hello"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("keyboard-suggest: error: ") and "nowhere" in err and err.count("\n") == 1


def test_the_command_itself_prints_no_traceback(tmp_path):
    """As a process: what a user sees on the terminal."""
    done = subprocess.run(
        [sys.executable, "-m", "keyboard_app.engine.cli", "eval", str(tmp_path / "nowhere"), str(tmp_path / "x")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("keyboard-eval: error: ") and "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.fixture(scope="module")
def compressed_bundle(random_int8_bundle, tmp_path_factory):
    """The random int8 bundle with its phrase tables compressed (the default model's form)."""
    from keyboard_app.engine.phrases import copy_bundle

    return copy_bundle(random_int8_bundle, tmp_path_factory.mktemp("compressed") / "bundle", compressed=True)


def _join_copies() -> None:
    import threading

    for thread in threading.enumerate():
        if thread.name == "phrase-tables-copy":
            thread.join()


@pytest.mark.parametrize("command", ["suggest", "eval"])
def test_the_commands_keep_compressed_phrase_tables_stored_in_the_users_cache(
        command, compressed_bundle, tmp_path, monkeypatch, capsys):
    """The first call inflates the tables and leaves the stored copy in the user's cache
    folder (the commands' own, ``phrase_copies``); the next reads that copy, inflating nothing,
    and prints the same."""
    from keyboard_app.engine import phrases as phrases_module
    from keyboard_app.engine.bundle import sha256_file

    text = tmp_path / "text.txt"
    text.write_text(SAMPLE_TEXT, encoding="utf-8")
    argv = [str(compressed_bundle), "we met in lon", "--json"] if command == "suggest" else \
        [str(compressed_bundle), str(text), "--max-words", "40", "--json", "--jobs", "1"]
    main = suggest_main if command == "suggest" else eval_main
    assert main(argv) == 0
    _join_copies()
    first = capsys.readouterr().out
    checksum = sha256_file(compressed_bundle / "phrases.npz")
    assert [p.name for p in phrase_copies().iterdir()] == [f"{checksum}.npz"]

    def never(*_):
        raise AssertionError("the tables were inflated again")

    monkeypatch.setattr(phrases_module, "_inflate", never)
    assert main(argv) == 0
    assert capsys.readouterr().out == first


@pytest.mark.parametrize("value, said", [("abc", "must be a whole number, not 'abc'"), ("0", "must be at least 1")])
def test_a_count_that_is_not_a_positive_number_is_named(random_bundle, capsys, value, said):
    with pytest.raises(SystemExit) as stop:
        suggest_main([str(random_bundle), "we met", "-k", value])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and said in err and "_positive" not in err


def test_eval_says_when_perplexity_cannot_be_set_beside_the_built_in_models(random_bundle, tmp_path, capsys):
    """H33's finding 7: a tiny model's low perplexity beside the default's high one looked like
    a better model; keyboard-eval says, as the app's retrain result does, that it is not."""
    text = tmp_path / "heldout.txt"
    text.write_text(SAMPLE_TEXT, encoding="utf-8")
    assert eval_main([str(random_bundle), str(text), "--max-words", "40"]) == 0
    out = capsys.readouterr().out
    size = len(Predictor.load(random_bundle).bundle.vocab)
    builtin = json.loads((REPOSITORY / "assets/models/default/manifest.json").read_text())["vocab"]["size"]
    assert size != builtin
    notes = [line for line in out.splitlines() if line.startswith("note")]
    assert len(notes) == 1
    assert f"has {size:,} tokens, the built-in model's {builtin:,}" in notes[0]
    assert "not comparable" in notes[0] and "KSR" in notes[0]


def test_eval_says_nothing_of_vocabularies_of_the_same_size(random_bundle, tmp_path, capsys, monkeypatch):
    from keyboard_app import paths

    monkeypatch.setattr(paths, "default_model_path", lambda: random_bundle)  # the same model as the built-in
    text = tmp_path / "heldout.txt"
    text.write_text(SAMPLE_TEXT, encoding="utf-8")
    assert eval_main([str(random_bundle), str(text), "--max-words", "40"]) == 0
    assert "not comparable" not in capsys.readouterr().out


def test_no_vocabulary_note_without_a_readable_built_in_model(tmp_path):
    from keyboard_app.engine.cli import vocabulary_note

    assert vocabulary_note(517, tmp_path / "missing") == ""
    (tmp_path / "manifest.json").write_text('{"vocab": {"size": 20000}}', encoding="utf-8")
    assert "517 tokens, the built-in model's 20,000" in vocabulary_note(517, tmp_path)
    assert vocabulary_note(20000, tmp_path) == ""
    (tmp_path / "manifest.json").write_text('{"vocab": {"size": "many"}}', encoding="utf-8")
    assert vocabulary_note(517, tmp_path) == ""
