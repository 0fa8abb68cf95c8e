"""What a newcomer found in ``keyboard-train`` (H47): nothing of the user's is replaced
(``--write-heldout`` onto a corpus file, ``--out`` onto the ``--init-from`` model), a resumed
fine-tune keeps its source's lexicon and phrase tables, numbers no run can use are refused
before the corpus is read, and the run says what its figures and its stops mean."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from keyboard_app.engine.bundle import load_bundle
from keyboard_app.heldout import read_heldout, write_heldout
from model_training.cli import build_parser, main
from model_training.config import ModelConfig, TrainConfig
from model_training.export import ParityReport
from model_training.pipeline import train_bundle
from model_training.train import Stop
from training_helpers import TINY_ARGS, run_main

TINY = TINY_ARGS


def refused_before_reading(capsys, *argv) -> str:
    """Run with ``--progress-json``: exit 2, one error line, and no event but the error (the
    corpus was not read: its ``start`` event never came).  Returns the sentence."""
    code, out, err = run_main(capsys, *argv, "--progress-json")
    assert code == 2, err
    assert "Traceback" not in err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events] == ["error"], events
    [line] = [line for line in err.splitlines() if line.startswith("keyboard-train: error:")]
    assert line.endswith(".")
    return line


@pytest.fixture
def corpus(tmp_path, patterned_text):
    folder = tmp_path / "corpus"
    (folder / "mine").mkdir(parents=True)
    (folder / "text.txt").write_text(patterned_text[:6000])
    (folder / "mine" / "diary.txt").write_text("Remember to water the begonias.\n" * 20)
    return folder


# -- --write-heldout: never the user's file -------------------------------------------------

@pytest.mark.parametrize("target", ["mine/diary.txt", "text.txt", "mine/new.json", "."])
def test_the_held_out_file_may_not_be_or_lie_inside_the_corpus(target, corpus, tmp_path, capsys):
    before = {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()}
    line = refused_before_reading(capsys, corpus, "--out", tmp_path / "model", *TINY,
                                  "--write-heldout", corpus / target)
    assert "the corpus" in line and "--write-heldout" in line
    assert {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()} == before  # the diary is whole
    assert not (tmp_path / "model").exists()


def test_a_corpus_file_named_on_its_own_is_not_replaced_either(corpus, tmp_path, capsys):
    diary = corpus / "mine" / "diary.txt"
    before = diary.read_bytes()
    line = refused_before_reading(capsys, diary, "--out", tmp_path / "model", *TINY, "--write-heldout", diary)
    assert line.startswith(f"keyboard-train: error: {diary}: the held-out file is the corpus")
    assert diary.read_bytes() == before


def test_an_existing_file_the_trainer_did_not_write_is_not_replaced(corpus, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    line = refused_before_reading(capsys, corpus, "--out", tmp_path / "model", *TINY, "--write-heldout", notes)
    assert "the file exists and is not a held-out text file keyboard-train wrote" in line
    assert notes.read_text() == "my notes\n"


def test_a_folder_is_refused_before_training(corpus, tmp_path, capsys):
    folder = tmp_path / "ho"
    folder.mkdir()
    line = refused_before_reading(capsys, corpus, "--out", tmp_path / "model", *TINY, "--write-heldout", folder)
    assert f"{folder}: the held-out file is a folder" in line and str(folder / "heldout.json") in line


def test_a_place_that_cannot_be_written_is_refused_before_training(corpus, tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):  # a read-only folder, as root cannot be refused by chmod
        if Path(kwargs.get("dir", "")) == locked:
            raise PermissionError(13, "Permission denied")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    line = refused_before_reading(capsys, corpus, "--out", tmp_path / "model", *TINY,
                                  "--write-heldout", locked / "h.json")
    assert line == (f"keyboard-train: error: {locked / 'h.json'}: the held-out file cannot be written "
                    f"in {locked} (Permission denied).")


def test_a_held_out_file_of_an_earlier_run_is_replaced(corpus, tmp_path, capsys):
    heldout = tmp_path / "heldout.json"
    write_heldout(heldout, ["an earlier run's text\n"])
    code, _, err = run_main(capsys, corpus / "text.txt", "--out", tmp_path / "model", *TINY,
                            "--max-tokens", "100", "--write-heldout", heldout)
    assert code == 0, err
    texts = read_heldout(heldout)
    assert len(texts) == 1 and texts[0] != "an earlier run's text\n"


# -- --out and --init-from the same model ------------------------------------------------------

@pytest.mark.parametrize("where", ["same", "inside"])
def test_the_new_model_may_not_replace_the_model_it_is_fine_tuned_from(where, corpus, tmp_path, capsys,
                                                                      tiny_bundle):
    source = tmp_path / "source"
    shutil.copytree(tiny_bundle, source)
    before = {p.name: p.read_bytes() for p in source.iterdir()}
    out = source if where == "same" else source / "new"
    line = refused_before_reading(capsys, corpus, "--out", out, "--init-from", source, *TINY)
    assert "the model being fine-tuned" in line and "which must stay as it is until the new model is complete" in line
    assert {p.name: p.read_bytes() for p in source.iterdir()} == before


# -- --resume of a fine-tune: the source's lexicon and phrase tables ------------------------------

class _StopAt:
    """Stands in for a run's progress sink and asks the trainer to stop after ``step``."""

    def __init__(self, trainer, step):
        self.trainer, self.step, self.inner = trainer, step, trainer.progress

    def update(self, **kwargs):
        self.inner.update(**kwargs)
        if self.trainer.counters.step >= self.step:
            self.trainer.stop_requested = True

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _stop_at(step):
    def hook(trainer):
        trainer.progress = _StopAt(trainer, step)
    return hook


def test_a_resumed_fine_tune_writes_the_bundle_an_uninterrupted_one_would(tmp_path, patterned_text,
                                                                          tiny_bundle_factory):
    # a source whose lexicon holds words beyond its vocabulary (seen once, min_count 2)
    rare = "".join(f"I met {name} once.\n" for name in ("zyxwert", "quorblen", "flimsten", "grovald"))
    source = tiny_bundle_factory(tmp_path / "src", rare + patterned_text[:8000], epochs=1, min_count=2,
                                 eval_max_words=0)
    source_words = set(load_bundle(source).lexicon.words)
    assert {"zyxwert", "quorblen"} <= source_words
    corpus = tmp_path / "mine.txt"
    corpus.write_text("Zorblat visited Quimby on Monday.\nThe cat ran to the park.\n\n" * 40)
    model = dict(embedding_dim=24, hidden_size=48, dropout=0.0)
    config = TrainConfig(vocab_size=0, min_count=1, heldout_fraction=0.1, batch_size=4, bptt=8, lr=0.01,
                         warmup_steps=5, epochs=2, seed=1, device="cpu", eval_max_words=0, threads=1)

    def run(out, **kwargs):
        return train_bundle([corpus], out, model_config=ModelConfig(**model), train_config=config,
                            work_dir=tmp_path / (out.name + ".work"), **kwargs)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run(tmp_path / "straight", init_from=source)
        with pytest.raises(Stop):
            run(tmp_path / "resumed", init_from=source, trainer_hook=_stop_at(3))
        checkpoint = tmp_path / "resumed.work" / "checkpoint.pt"
        assert checkpoint.is_file()

        # the source gone: one sentence, the checkpoint kept
        shutil.move(source, tmp_path / "away")
        from model_training.init_from import InitError

        with pytest.raises(InitError, match="whose words and phrase tables the new model keeps, but it "
                                            "cannot be read now"):
            run(tmp_path / "resumed", resume=checkpoint)
        assert checkpoint.is_file()
        shutil.move(tmp_path / "away", source)

        run(tmp_path / "resumed", resume=checkpoint)
    finally:
        torch.set_num_threads(threads)
    straight, resumed = load_bundle(tmp_path / "straight"), load_bundle(tmp_path / "resumed")
    assert source_words <= set(resumed.lexicon.words)  # was the user's few words alone
    assert resumed.lexicon.words == straight.lexicon.words
    assert resumed.vocab.tokens == straight.vocab.tokens
    assert resumed.manifest["phrases"]["entries"] == straight.manifest["phrases"]["entries"]
    assert resumed.user_phrases is not None  # was left out
    assert resumed.manifest["user_phrases"]["entries"] == straight.manifest["user_phrases"]["entries"]
    assert resumed.manifest["training"]["init_from"] == straight.manifest["training"]["init_from"] == str(source)
    for a, b in zip(resumed.phrases.tables.values(), straight.phrases.tables.values()):
        assert np.array_equal(a.next_ids, b.next_ids) and np.array_equal(a.counts, b.counts)


# -- numbers no run can use: one sentence, exit 2, before the corpus is read ----------------------

@pytest.mark.parametrize("option, value, sentence", [
    ("--threads", "-1", "--threads must be 0 (all cores) or more, not -1."),
    ("--device", "tpu", "--device must be auto, cpu, cuda or cuda:N (N a GPU's number), not 'tpu'."),
    ("--lr", "0", "--lr must be more than 0, not 0."),
    ("--lr", "-1", "--lr must be more than 0, not -1."),
    ("--lr", "nan", "--lr must be more than 0, not nan."),
    ("--warmup", "-3", "--warmup must be 0 (none) or more, not -3."),
    ("--max-tokens", "-1", "--max-tokens must be 0 (no token budget) or more, not -1."),
    ("--max-minutes", "-1", "--max-minutes must be 0 (no time budget) or more, not -1."),
    ("--ksr-words", "-1", "--ksr-words must be 0 (keystroke savings not measured) or more, not -1."),
    ("--nproc", "0", "--nproc must be 1 or more, not 0."),
    ("--epochs", "0", "--epochs must be 1 or more, not 0."),
    ("--epochs", "-1", "--epochs must be 1 or more, not -1."),
    ("--hidden-size", "0", "--hidden-size must be 1 or more, not 0."),  # was "hidden_size must be ..."
    ("--layers", "0", "--layers must be 1 or more, not 0."),
    ("--bptt", "0", "--bptt must be 1 or more, not 0."),
])
def test_a_number_no_run_can_use_is_refused_naming_its_option(option, value, sentence, corpus, tmp_path, capsys):
    line = refused_before_reading(capsys, corpus, "--out", tmp_path / "model", *TINY, option, value)
    assert line == f"keyboard-train: error: {sentence}"
    assert not (tmp_path / "model").exists()


def test_the_top_folder_as_the_model_folder_is_one_sentence(corpus, capsys):
    line = refused_before_reading(capsys, corpus, "--out", "/", *TINY)
    assert line == ("keyboard-train: error: /: the model folder is the top folder of the disk, which cannot "
                    "be replaced; name a new folder inside it, such as /model.")


def test_the_help_says_what_the_flags_do_by_default():
    text = build_parser().format_help()
    assert "(default: True)" not in text  # --no-user-phrases read as "off by default"
    assert "(by default they are added)" in " ".join(text.split())


# -- what the run says ---------------------------------------------------------------------------

def test_a_budget_that_stops_the_run_is_said(corpus, tmp_path, capsys):
    code, _, err = run_main(capsys, corpus / "text.txt", "--out", tmp_path / "model", *TINY, "--epochs", "5",
                            "--max-tokens", "300")
    assert code == 0, err
    [line] = [line for line in err.splitlines() if line.startswith("training stopped at")]
    assert line.startswith("training stopped at the token budget (--max-tokens 300) after 0.")
    assert line.endswith(" of 5 epochs")


def test_too_few_held_out_tokens_fall_back_on_a_slice_of_the_text_and_say_so(tmp_path, capsys):
    # a paragraph too short to cut a part from (``corpus.MIN_CUT_SHARE``) and a short last
    # line: the whole lines held out are that line alone
    text = " ".join(["the cat sat on the mat and the dog ran to the park ."] * 30) + "\nThe end.\n"
    (tmp_path / "notes.txt").write_text(text)
    code, _, err = run_main(capsys, tmp_path / "notes.txt", "--out", tmp_path / "model", *TINY,
                            "--max-tokens", "100")
    assert code == 0, err
    [warning] = [line for line in err.splitlines() if "too few to judge the model by" in line]
    assert warning.startswith("keyboard-train: only ") and "tokens could be held out as whole lines" in warning
    assert "validating on the last " in warning and "training tokens instead (not trained on)" in warning
    metrics = json.loads((tmp_path / "model" / "manifest.json").read_text())["metrics"]
    assert metrics["heldout_tokens"] > 20  # was 3: "the end ." and the line's end


def test_the_parity_line_says_what_it_compares():
    from model_training.pipeline import parity_sentence

    assert parity_sentence(ParityReport(9.5e-07, 8e-07, 1e-4)) == \
        "ONNX parity with PyTorch: largest difference 9.5e-07 (tolerance 0.0001)"
    # int8: what is checked is the graph's step-by-step run against its own full run
    line = parity_sentence(ParityReport(0.87, 0.85, 0.5, quantized_own=0.01))
    assert line == ("ONNX parity of the int8 graph: step by step vs one run 0.01 (tolerance 0.5); "
                    "distance to the float32 network 0.87 (int8 rounding, not checked)")


def test_options_a_fine_tune_does_not_use_are_said(corpus, tmp_path, capsys):
    code, _, err = run_main(capsys, corpus, "--out", tmp_path / "model", *TINY, "--init-from", tmp_path / "none")
    assert code == 2  # the source is missing: the warning came first, before anything was read
    assert ("keyboard-train: --embedding-dim, --hidden-size, --vocab-size not used with --init-from: the source "
            "model's architecture and vocabulary are kept") in err


def test_a_corpus_with_no_whole_line_held_out_says_what_is_missing(tmp_path, capsys):
    # one line too short to cut a part from (``corpus.MIN_CUT_SHARE``; a longer one is cut at a sentence end)
    (tmp_path / "one.txt").write_text(" ".join(["the cat sat on the mat and the dog ran ."] * 40))
    heldout = tmp_path / "heldout.json"
    code, _, err = run_main(capsys, tmp_path / "one.txt", "--out", tmp_path / "model", *TINY,
                            "--max-tokens", "100", "--ksr-words", "50", "--write-heldout", heldout)
    assert code == 0, err
    assert (f"keyboard-train: no text was held out (each file is a note too short to set part of it aside), so "
            f"keystroke savings are not measured and the held-out file {heldout} holds no text to compare models "
            "on (put short notes together in one file, one to a line)") in err
    assert read_heldout(heldout) == []
