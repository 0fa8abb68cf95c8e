"""benchmarks/adaptation.py: corpus extraction, the position split and the report.

No Debian package and no training: the extractors are given small crafted
texts in each source's format.  The one test that needs Presage's
text2ngram is skipped where it is not installed.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

import benchmark_scripts

ad = benchmark_scripts.load("adaptation")
needs_text2ngram = pytest.mark.skipif(shutil.which("text2ngram") is None,
                                      reason="Presage is not installed (apt-get install presage)")

HANDBOOK_PAGE = """<html><head><title>6.2. apt-get</title></head><body>
<p id="title"><a class="left" href="http://www.debian.org">Product Site</a></p>
<ul class="docnav top"><li class="previous"><a accesskey="p" href="apt.html"><strong>Prev</strong></a></li>
<li class="next"><a accesskey="n" href="sect.apt-cache.html"><strong>Next</strong></a></li></ul>
<div class="section"><div class="titlepage"><h2 class="title">6.2. <code class="command">apt-get</code> Commands</h2></div>
<div class="para">
    <acronym class="acronym">APT</acronym> is a vast project, and <code class="command">apt-get</code>
    is its first front end.
</div>
<pre class="screen"><code class="computeroutput"># </code><strong class="userinput"><code>apt update</code></strong></pre>
<div class="para">Both tools are close:
  <div class="itemizedlist"><ul><li class="listitem"><div class="para">the first one is old;</div></li></ul></div>
  and the rest follows the list.</div>
<table><tr><td><div class="para">A table cell is not prose here.</div></td></tr></table>
<div class="para">Short</div>
</div></body></html>
"""


def test_handbook_paragraphs_keep_prose_and_inline_commands():
    assert ad.html_paragraphs(HANDBOOK_PAGE) == [
        "APT is a vast project, and apt-get is its first front end.",
        "Both tools are close:",
        "the first one is old;",
        "and the rest follows the list.",
    ]


def test_handbook_pages_follow_the_next_links(tmp_path):
    def page(name: str, nxt: str | None) -> None:
        link = f'<a accesskey="n" href="{nxt}"><strong>Next</strong></a>' if nxt else ""
        (tmp_path / name).write_text(f"<html><body>{link}<div class='para'>{name}</div></body></html>")

    page("index.html", "preface.html")
    page("preface.html", "b-chapter.html")
    page("b-chapter.html", "a-appendix.html")
    page("a-appendix.html", None)
    page("orphan.html", None)
    assert [p.name for p in ad.handbook_pages(tmp_path)] == [
        "index.html", "preface.html", "b-chapter.html", "a-appendix.html", "orphan.html"]


ENDLESS_SKY = """# Copyright line, a comment
mission "Liberate Kornephoros"
\tdescription "Travel with the militia to drive off the Navy fleet."
\tsource Longjump
\ton offer
\t\tconversation
\t\t\tscene "scene/fleet"
\t\t\t`The mood in the spaceport is solemn.`
\t\t\t`\tTomek says, "Captain <last>, how is the <ship>?"`
\t\t\tchoice
\t\t\t\t`\t"She took a bit of a pounding."`
\t\t\t\t\taccept
\t\t\t\t`\t"Ask <first> about the <payment>."`
\t\t\t\t\tdecline
\t\t\tbranch bad
\t\t\t\thas "flag"
\ton fail
\t\tdialog `You have failed. "Revert," they say.`
\t\tdialog phrase "generic failure"
\tnpc
\t\tgovernment "Free Worlds"
\t\tdialog
\t\t\t"Your escort is gone."
ship "Falcon"
\tdescription "A ship's description is not mission text."
"""


def test_endless_sky_conversation_dialog_and_mission_description():
    assert ad.endless_sky_paragraphs(ENDLESS_SKY) == [
        "Travel with the militia to drive off the Navy fleet.",
        "The mood in the spaceport is solemn.",
        'Tomek says, "Captain Mercer, how is the Wayfarer?"',
        '"She took a bit of a pounding."',
        # "Ask <first> about the <payment>." holds a substitution with no fixed text: left out
        'You have failed. "Revert," they say.',
        "Your escort is gone.",
    ]


WESNOTH_CFG = """#textdomain wesnoth-httt
[scenario]
    name= _ "The Elves Besieged"
    [story]
        [part]
            story= _ "Konrad rode east.

Days passed."
        [/part]
    [/story]
    [message]
        speaker=Delfador
        message= _ "We must flee, Konrad! The orcs are ""everywhere"" now."
        female_message= _ "female^We must flee, Li’sar!"
    [/message]
    [message]
        speaker=Konrad
        message= _ "female^I will <i>not</i> leave " + _ "my people."
    [/message]
    #    message= _ "A commented-out line."
    [message]
        message= _ "Well done, $unit.name|!"
    [/message]
[/scenario]
"""


def test_wesnoth_messages_and_story_text():
    assert ad.wesnoth_paragraphs(WESNOTH_CFG) == [
        "Konrad rode east.",
        "Days passed.",
        'We must flee, Konrad! The orcs are "everywhere" now.',
        "I will not leave my people.",
    ]


RST = """.. SPDX-License-Identifier: GPL-2.0

.. _process_howto:

HOWTO do Linux kernel development
=================================

This is the be-all, end-all document on this topic.  It contains
instructions on how to become a Linux kernel developer.

.. note::

   A note's body is skipped with its directive, even when it is prose.

Run the following command to build it::

    make -j8 defconfig all

The kernel is written in C, see :ref:`the coding style <codingstyle>` and
``scripts/checkpatch.pl``; read `the FAQ <https://example.org>`_ first.

 - "The C Programming Language" by Kernighan and Ritchie, a classic book.
 - A short item

+--------+-------+
| table  | cell  |
+--------+-------+

:Author: Somebody Else, who is not prose.
"""


def test_rst_prose_without_titles_directives_literals_and_tables():
    assert ad.rst_paragraphs(RST) == [
        "This is the be-all, end-all document on this topic. It contains instructions on how to "
        "become a Linux kernel developer.",
        "Run the following command to build it:",
        "The kernel is written in C, see the coding style and scripts/checkpatch.pl; read the FAQ first.",
        '"The C Programming Language" by Kernighan and Ritchie, a classic book.',
    ]


def test_split_by_position_keeps_the_last_tenth_unseen():
    paragraphs = [" ".join(["w"] * 10)] * 20  # 200 words
    start = ad.split_by_position(paragraphs, 0.1)
    assert start == 18
    assert ad.words_of(paragraphs[start:]) == 20
    # The unseen part starts at a paragraph start, at or after the 90% mark.
    uneven = ["a " * 50, "b " * 30, "c " * 15, "d " * 5]
    start = ad.split_by_position([p.strip() for p in uneven], 0.1)
    assert start == 3  # 95 words before it: the first paragraph start past 90


def test_training_text_is_a_prefix_cut_at_the_word():
    paragraphs = ["one two three", "four five", "six seven eight nine"]
    assert ad.first_words(paragraphs, 4) == ["one two three", "four"]
    assert ad.first_words(paragraphs, 100) == paragraphs
    assert ad.first_words(paragraphs, 5) == ["one two three", "four five"]
    assert ad.cap_words(paragraphs, 8) == ["one two three", "four five"]


def test_gain_ratio_and_its_formatting():
    assert ad.gain_ratio(6.0, 4.0) == pytest.approx(1.5)
    assert ad.gain_ratio(6.0, 0.0) is None  # Presage gained nothing: no ratio
    assert ad.gain_ratio(6.0, -1.0) is None
    assert ad.gain_ratio(None, 2.0) is None
    assert ad.format_ratio(1.5) == "1.50"
    assert ad.format_ratio(None) == "n/a"
    assert ad.format_gain(4.5) == "+4.50" and ad.format_gain(-0.25) == "-0.25"


def test_table_has_a_row_per_corpus_and_size_with_gains():
    rows = [
        ad.Row("handbook", 20_000, 20_000, "app", default_ksr=50.0, adapted_ksr=53.0, default_ppl=150.0,
               adapted_ppl=140.0, presage_default_ksr=45.0, presage_user_ksr=47.0, retrain_s=95.0),
        ad.Row("wesnoth", 200_000, 169_500, "app", default_ksr=40.0, adapted_ksr=41.0,
               presage_default_ksr=38.0, presage_user_ksr=37.5, retrain_s=605.0, retrain_reused=True),
        ad.Row("endless-sky", 50_000, 50_000, "app", default_ksr=42.0, error="retrain failed (exit 2: bad)"),
    ]
    table = ad.format_table(rows, 3)
    lines = table.splitlines()
    assert "KSR@3 default -> adapted" in lines[0] and "ratio" in lines[0]
    assert lines[2].split() == ["handbook", "20k", "50.00", "->", "53.00", "+3.00", "150.0", "->", "140.0",
                                "45.00", "->", "47.00", "+2.00", "1.50", "1", "min", "35", "s"]
    assert lines[3].split()[:2] == ["wesnoth", "170k*"]
    assert "n/a" in lines[3] and "10 min 05 s (cached)" in lines[3]
    assert "FAILED" in lines[4]
    assert "fewer training words than asked for" in table
    assert "endless-sky 50k: retrain failed (exit 2: bad)" in table
    assert rows[0].to_dict()["gain_ratio"] == pytest.approx(1.5)


def test_recipe_commands_are_the_apps_and_the_clis(tmp_path):
    app = ad.recipe_command("app", tmp_path / "user.txt", tmp_path / "out", tmp_path / "w",
                            Path("assets/models/default"), ["--lr", "1e-3"], "handbook-20000")
    assert app[:3] == [sys.executable, "-m", "model_training.cli"]
    joined = " ".join(app)
    assert "--init-from assets/models/default --min-count 2 --max-new-words 5000" in joined
    assert "--heldout-fraction 0.1" in joined and app[-2:] == ["--lr", "1e-3"]
    cli = ad.recipe_command("cli", tmp_path / "user.txt", tmp_path / "out", tmp_path / "w",
                            Path("assets/models/default"), [], "x")
    assert "--quantize" in cli and "--min-count" not in cli


@needs_text2ngram
def test_appending_the_users_text_equals_building_from_both(tmp_path):
    default_text, user_text = tmp_path / "default.txt", tmp_path / "user.txt"
    default_text.write_text("the cat sat on the mat\nthe dog ran\n")
    user_text.write_text("the cat ran away\nzebra crossing the cat\n")
    together = tmp_path / "together.db"
    for n in (1, 2, 3):
        ad.cp._run(["text2ngram", "-n", str(n), "-l", "-f", "sqlite", "-o", str(together),
                    str(default_text), str(user_text)])
    (tmp_path / "default").mkdir()
    default_db = tmp_path / "default" / "presage-ngram.db"
    for n in (1, 2, 3):
        ad.cp._run(["text2ngram", "-n", str(n), "-l", "-f", "sqlite", "-o", str(default_db), str(default_text)])
    (tmp_path / "default" / "presage-ngram.db.stamp").write_text("stamp\n")
    appended, _, _ = ad.user_database(default_db, user_text, tmp_path / "user")

    def tables(db: Path) -> dict:
        with sqlite3.connect(db) as con:
            return {t: sorted(con.execute(f"SELECT * FROM {t}")) for t in ("_1_gram", "_2_gram", "_3_gram")}

    assert tables(appended) == tables(together)
    assert tables(default_db)["_1_gram"] != tables(together)["_1_gram"]  # the default was copied, not changed


def test_perplexity_over_the_default_words_scores_new_words_as_unknown(tiny_bundle, patterned_text):
    """Over its whole vocabulary the shared perplexity is the engine's; over fewer words
    each word beyond them counts as <unk> with its probability added to <unk>'s, so it
    can only be cheaper, never dearer."""
    import math

    from keyboard_app.engine.evaluate import perplexity_nll
    from keyboard_app.engine.predictor import PhraseSettings, Predictor, RecencySettings

    text = patterned_text[:400]
    network = Predictor.load(tiny_bundle, recency=RecencySettings.off(), phrases=PhraseSettings.off())
    try:
        size = len(network.bundle.vocab)
        whole, tokens = ad.shared_vocab_nll(network, text, size)
        reference, ref_tokens = perplexity_nll(network, [text])
        assert tokens == ref_tokens and math.isclose(whole, reference, rel_tol=1e-4)
        fewer, _ = ad.shared_vocab_nll(network, text, size // 2)
        assert fewer < whole
    finally:
        network.close()
