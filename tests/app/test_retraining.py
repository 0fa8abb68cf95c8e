"""The retrain (keyboard_app.retraining), without Qt or a trainer: the up-front estimate, the
command line, and the comparison of two models on the held-out text."""

import pytest

from keyboard_app import retraining


def test_a_fine_tunes_fixed_part_grows_with_the_held_out_words_then_stops():
    """Tuning and the final scoring read the held-out words (at most the trainer's cap):
    a 3,500-word corpus is not charged the 1,000 held-out words of a big one."""
    small, medium, big, huge = (retraining.adapt_fixed_seconds(w) for w in (3_500, 10_000, 200_000, 2_000_000))
    assert small < medium == big == huge
    # measured (benchmarks/retrain_estimate.py): 7-11 s beyond training for 2,000 words,
    # 10-32 s with 1,000 held out (retraining's comment has the runs)
    assert small < 12 and 10 <= big <= 20


def test_the_estimate_adds_training_time_in_proportion_to_the_words():
    one = retraining.estimate_seconds(100_000, size=None, adapt_tokens_per_s=2500)
    two = retraining.estimate_seconds(200_000, size=None, adapt_tokens_per_s=2500)
    fixed = retraining.adapt_fixed_seconds(100_000)
    assert abs((two - fixed) - 2 * (one - fixed)) < 1e-6
    capped = retraining.estimate_seconds(10_000_000, size=None, adapt_tokens_per_s=2500, max_minutes=5)
    assert capped == 300 + fixed
    assert retraining.estimate_seconds(1000, size="small") > retraining.FIXED_SECONDS


def test_every_retrain_writes_an_int8_model_and_its_held_out_text(tmp_path):
    from pathlib import Path

    for init_from in (None, Path("/models/current")):
        request = retraining.TrainRequest(corpus=[tmp_path], out=tmp_path / "run" / "bundle",
                                          work_dir=tmp_path / "run" / "work", name="x", init_from=init_from)
        _, args = request.command()
        assert "--quantize" in args
        assert args[args.index("--write-heldout") + 1] == str(tmp_path / "run" / "heldout.json")
        assert request.heldout_file.parent == request.out.parent  # removed with the run's folder


def test_the_comparison_scores_each_model_on_the_text_the_trainer_held_out(tmp_path, tiny_bundle, patterned_text):
    from keyboard_app.heldout import write_heldout

    request = retraining.TrainRequest(corpus=[tmp_path], out=tmp_path / "run" / "bundle",
                                      work_dir=tmp_path / "run" / "work", name="x")
    models = {"current": (None, "(none)"), "new": (tiny_bundle, "Mine")}
    with pytest.raises(ValueError, match="too short to hold any text out"):
        write_heldout(request.heldout_file, ["  \n"])
        retraining.compare_models(request, models)
    write_heldout(request.heldout_file, [patterned_text[-1500:]])
    seen = []
    scores = retraining.compare_models(request, {**models, "again": (tiny_bundle, "Mine")}, progress=seen.append)
    assert set(scores) == {"new", "again"}  # a model without a bundle is left out
    assert scores["new"] == scores["again"] and scores["new"].name == "Mine"
    assert scores["new"].words > 100 and 0 < scores["new"].top_k <= 1 and 0 < scores["new"].ksr < 100
    assert seen == sorted(seen) and 0.5 <= seen[-1] <= 1.0  # the fraction of both, in order


def test_the_word_count_reads_a_windows_1252_file_as_the_trainer_does_and_skips_a_link_loop(tmp_path):
    """The retrain dialog's count (H25, findings 6 and 7): an accent no longer splits a word
    in two ("caf" + "é"), and a link that leads back to itself is skipped and listed, not
    "This text cannot be used: Symlink loop"."""
    corpus = tmp_path / "writing"
    corpus.mkdir()
    (corpus / "notes.txt").write_bytes("Le café et la crème du garçon.\n".encode("cp1252") * 10)
    (corpus / "self").symlink_to("self")
    count = retraining.count_corpus_words([corpus])
    assert (count.files, count.words) == (1, 70)  # 7 words a line; read as UTF-8 it was 90
    assert count.skipped == [f"{corpus / 'self'}: it is a symbolic link that leads back to itself (a loop)"]


# --- the estimate on a busy computer (H33's finding 3) --------------------------------------


def fake_load(monkeypatch, last_minute: float, last_five: float, cores: int = 2) -> None:
    import os

    monkeypatch.setattr(os, "getloadavg", lambda: (last_minute, last_five, last_five))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)


@pytest.mark.parametrize("load, cores, stretch", [
    (0.0, 2, 1.0),  # nothing else runs: the quiet rates
    (2.0, 2, 2.0),  # one other task per core: each of the run's threads gets half a core
    (1.3, 2, 1.65),  # measured: 146 s at a load of 3.3 during the run (its own 2 included), 84-90 s quiet
    (6.0, 8, 1.75),  # a load is per core
    (40.0, 2, retraining.MAX_STRETCH),  # a load that may pass is not promised as hours
    (-1.0, 2, 1.0),
])
def test_the_load_read_before_start_stretches_the_quiet_time_by_one_plus_the_load_per_core(load, cores, stretch):
    """Read before Start, the load average does not count the run: the run's threads share
    the cores with it (the old stretch, load / cores, promised the quiet time up to a load
    of one task per core, and H33's run at such a load took 2.4 times as long)."""
    assert retraining.load_stretch(load, cores) == pytest.approx(stretch)


def test_the_stretch_follows_the_last_minutes_load_read_now(monkeypatch):
    fake_load(monkeypatch, 1.9, 3.4)  # H33's computer: about 3.4, a minute's lull before Start
    assert retraining.busy_stretch() == pytest.approx(1.95)
    fake_load(monkeypatch, 0.0, 0.0)
    assert retraining.busy_stretch() == 1.0


def test_a_busy_computer_is_also_given_the_time_a_run_may_take(monkeypatch):
    fake_load(monkeypatch, 1.9, 1.9)
    assert retraining.slow_end(100.0) == pytest.approx(100.0 * retraining.SLOW_MARGIN)
    fake_load(monkeypatch, 1.9, 3.4)  # busier over five minutes than over the last one
    assert retraining.slow_end(100.0) == pytest.approx(100.0 * retraining.SLOW_MARGIN * 2.7 / 1.95)
    fake_load(monkeypatch, 3.4, 1.0)  # a load that came in the last minute is the estimate's already
    assert retraining.slow_end(100.0) == pytest.approx(100.0 * retraining.SLOW_MARGIN)


def test_h33s_retrain_falls_within_what_the_estimate_now_says(monkeypatch):
    """62,931 words, adapting the built-in model (its manifest's speed), shown 48 s before
    Start, taken 1 min 55 s at a load of about 3.4 on 2 cores."""
    import json
    from pathlib import Path

    from keyboard_app.ui.eta import estimate_before_start

    manifest = json.loads((Path(__file__).resolve().parents[2] / "assets/models/default/manifest.json").read_text())
    quiet = estimate_before_start(62_931, size=None, manifest_tokens_per_s=manifest["training"]["tokens_per_s"],
                                  max_minutes=0, busy=1.0)
    assert 40 < quiet < 56  # what was shown: the old stretch was 1 at any load up to 2
    fake_load(monkeypatch, 2.0, 3.4)
    likely = quiet * retraining.busy_stretch()
    assert likely < 115 < retraining.slow_end(likely)


def test_no_load_average_gives_the_quiet_time_and_the_usual_spread(monkeypatch):
    import os

    monkeypatch.delattr(os, "getloadavg")  # Windows has none
    assert retraining.MachineLoad.read() is None
    assert retraining.busy_stretch() == 1.0
    assert retraining.slow_end(10.0) == pytest.approx(10.0 * retraining.SLOW_MARGIN)


def test_every_retrain_writes_its_phrase_tables_compressed(tmp_path):
    """H33's finding 4: a fine-tuned model's tables are nearly all the built-in model's (44 MB
    stored): the app's retrain asks for them compressed, as the built-in model's are."""
    from pathlib import Path

    for init_from in (None, Path("/models/current")):
        request = retraining.TrainRequest(corpus=[tmp_path], out=tmp_path / "run" / "bundle",
                                          work_dir=tmp_path / "run" / "work", name="x", init_from=init_from)
        _, args = request.command()
        assert "--compress-phrases" in args


def test_the_install_command_names_the_python_that_shows_its_output(monkeypatch, tmp_path):
    """H51: on Windows the app runs on pythonw.exe, and pip run by it in a terminal shows no
    progress and no error: the command names python.exe beside it."""
    for name in ("pythonw.exe", "python.exe"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setattr(retraining.sys, "executable", str(tmp_path / "pythonw.exe"))
    assert retraining._console_python() == str(tmp_path / "python.exe")
    monkeypatch.setattr(retraining.sys, "executable", str(tmp_path / "python3"))
    assert retraining._console_python() == str(tmp_path / "python3")
