"""benchmarks/adaptation_breakdown.py: each unseen word counted once, in its class, and the
table adding up to the two models' KSR."""

from __future__ import annotations

import re

import benchmark_scripts
from keyboard_app.engine.evaluate import evaluate
from keyboard_app.engine.predictor import Predictor

ab = benchmark_scripts.load("adaptation_breakdown")


def test_the_classes_add_up_to_each_models_ksr(tmp_path, tiny_bundle, patterned_text, capsys):
    unseen = tmp_path / "unseen.txt"
    unseen.write_text(patterned_text)
    user = tmp_path / "user.txt"
    words = patterned_text.split()
    user.write_text(" ".join(words[:5]) + " " + words[0] + "\n")  # the first word twice, four once
    code = ab.main([str(tiny_bundle), str(tiny_bundle), str(unseen), str(user), "--max-words", "80"])
    assert code == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()[2:-1]]
    assert sum(int(r[-6]) for r in rows) == 80  # every word in one class
    ksr = evaluate(Predictor.load(tiny_bundle), [patterned_text], ks=(3,), max_words=80).ksr[3]
    assert f"KSR@3: default {ksr:.2f}, adapted {ksr:.2f} (+0.00 points)" in out
    # the same model both times: nothing saved in any class
    assert all(float(r[-2]) == 0.0 for r in rows)
    assert {(r[0], " ".join(r[1:-6])) for r in rows} <= {
        (k, u) for k in ("vocabulary", "lexicon", "neither") for u in ("never", "once", "2-9 times", "10+ times")}
    assert re.search(r"^vocabulary +2-9 times", out, re.M)  # the word written twice


def test_unreadable_input_is_one_sentence(tmp_path, tiny_bundle, capsys):
    code = ab.main([str(tiny_bundle), str(tmp_path / "missing"), str(tmp_path / "a"), str(tmp_path / "b")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("Cannot read the models or texts:") and "Traceback" not in err
    assert ab.main([str(tiny_bundle)] * 2 + [str(tmp_path / "a"), str(tmp_path / "b"), "--k", "0"]) == 2
    assert "--k and --max-words must be at least 1" in capsys.readouterr().err
