"""Dialogue of free games: what their characters say to each other, as people would type it.

The default corpus has almost no conversation (the ChatterBot turns are all
of it), and the games Debian ships are where redistributable, first-person,
everyday English is written in quantity: greetings, questions, answers,
small talk. Only the lines a character says (or a note a character writes)
are kept; game statistics, item names, menus and markup are not read at all,
and a line that still holds a placeholder the game fills in at run time
(``%s``, ``<name>``, ``$name``) is dropped rather than guessed at.

* ``cdda``       Cataclysm: Dark Days Ahead (``cataclysm-dda-data``): the NPC
                 conversations (``talk_topic`` objects of the JSON data) and the
                 notes, letters, hints and radio messages (``snippet`` objects)
* ``freedroid``  FreedroidRPG (``freedroidrpg-data``): the dialogue scripts,
                 whose lines are the translatable Lua strings ``_"..."``
* ``dink``       Dink Smallwood (``freedink-data``): what characters say in the
                 game's scripts (``say("...")``)
* ``adonthell``  Waste's Edge, the Adonthell game (``adonthell-data``): the
                 dialogue modules, whose lines are the ``_("...")`` strings

Each reader takes the installed folder as an argument, so the tests can give
it a small crafted one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

from .source import Context
from .text import Document, dedupe, norm_space, word_count

CDDA_DIR = Path("/usr/share/games/cataclysm-dda")
FREEDROID_DIR = Path("/usr/share/freedroidrpg/data")
DINK_STORY = Path("/usr/share/games/dink/dink/Story")
ADONTHELL_DIALOGUES = Path("/usr/share/games/adonthell/games/wastesedge/scripts/dialogues")

# Lines that are only a placeholder the game fills in, or that hold one
# of these, are left out: the game's insults, and its own bookkeeping.
PROFANE_TAGS = {"<swear>", "<swear!>", "<name_b>", "<fuck_you>", "<shitty>", "<dumb>", "<sass>",
                "<get_lost>", "<drop_it>"}
# A tag may hold spaces (Dink's "<Casts harm>" is a spell's effect, not speech),
# but starts with a letter: a hint's "cycle with '<' and '>'" names two keys.
_PLACEHOLDER = re.compile(r"<[A-Za-z_!][^<>]*>|%(\d+\$)?[-+#0-9.]*[sdifxuc](?![a-z])|\$\$?[A-Za-z_]\w*|[{}\[\]\\|]")
_LETTER = re.compile(r"[A-Za-z]")
# Block elements ("█"): Cataclysm's redacted documents black out words, and a
# line with holes in it is not a sentence anyone types.
_REDACTED = re.compile(r"[\u2580-\u259f]")
_SENTENCE_END = re.compile(r"[.!?]['\"”’)]*$")


def clean_line(text: str) -> str | None:
    """One spoken line as a paragraph, or None if it still holds markup or a placeholder."""
    text = norm_space(text)
    text = re.sub(r"^\[[^\]]{1,40}\]\s*", "", text)  # "[INT 8] ...", "[Persuade] ..."
    text = re.sub(r"\[/?[bi]\]", "", text)  # FreedroidRPG's bold marks
    if not text or _PLACEHOLDER.search(text) or _REDACTED.search(text) or not _LETTER.search(text):
        return None
    return text


def reads_as_sentence(line: str) -> bool:
    """Four words or more, or a sentence's end: what a fill-in list holds beside
    its sentences are single words and short phrases ("neo", "bummed", "amigo")."""
    return word_count(line) >= 4 or bool(_SENTENCE_END.search(line))


# --------------------------------------------------------------------------
# Cataclysm: Dark Days Ahead
# --------------------------------------------------------------------------
# Snippet categories that are lists of names, labels or test data, not sentences.
# The game's own test data: a path part that is, starts or ends with "test" or
# "debug" (TEST_DATA/, TALK_TEST.json, mapgen-test.json, debug.json), but not a
# word that merely contains it (Aftershock's "selftest" NPC background).
_CDDA_TEST_FILE = re.compile(r"(?i)(?:^|[/_-])(?:test|debug)")
CDDA_SKIP_SNIPPETS = re.compile(r"^(mapgen_test|trailhead_graffiti|grave_label|.*_name|.*names?)$")


def _cdda_objects(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return []
    if isinstance(data, dict):
        data = [data]
    return [o for o in data if isinstance(o, dict)] if isinstance(data, list) else []


def _cdda_str(value: object) -> str | None:
    """A translatable string: plain, or {"str": ...} / {"text": ...} (with a context)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("str", "str_sp", "text"):
            inner = value.get(key)
            if isinstance(inner, str):
                return inner
            if isinstance(inner, dict):
                return _cdda_str(inner)
    return None


def _cdda_lines(value: object) -> Iterator[str]:
    """The alternatives a ``dynamic_line`` can say: plain strings, lists, and the
    ``yes``/``no`` branches of a condition (the condition's own values are not text)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _cdda_lines(v)
    elif isinstance(value, dict):
        s = _cdda_str(value)
        if s is not None:
            yield s
        for key in ("yes", "no", "and", "concatenate", "gendered_line"):
            if key in value:
                yield from _cdda_lines(value[key])


def cdda_snippet_table(files: list[Path]) -> dict[str, list[str]]:
    """category -> texts, for every snippet category (used to fill ``<tags>``)."""
    table: dict[str, list[str]] = {}
    for path in files:
        for obj in _cdda_objects(path):
            if obj.get("type") != "snippet" or not isinstance(obj.get("category"), str):
                continue
            texts = obj.get("text")
            texts = texts if isinstance(texts, list) else [texts]
            for t in texts:
                s = _cdda_str(t)
                if s is not None:
                    table.setdefault(obj["category"], []).append(s)
    return table


def cdda_fill(text: str, table: dict[str, list[str]], depth: int = 0) -> str | None:
    """Fill each ``<tag>`` with the first text of its snippet category (itself filled);
    None where a tag is profane or not a category the data defines."""
    def repl(m: re.Match[str]) -> str:
        tag = m.group(0)
        choices = table.get(tag) or []
        if tag in PROFANE_TAGS or not choices or depth >= 3:
            raise LookupError(tag)
        plain = [c for c in choices if "<" not in c]
        filled = cdda_fill((plain or choices)[0], table, depth + 1)
        if filled is None:
            raise LookupError(tag)
        return filled

    try:
        return re.sub(r"<[a-z_!]+>", repl, text)
    except LookupError:
        return None


def cdda_docs(root: Path) -> list[Document]:
    """Snippets (one document per file), then conversations (one per file), core data after mods.

    The conversations of the core game come last, so the held-out part is NPC talk.
    """
    files = sorted((root / "mods").rglob("*.json")) + sorted((root / "json").rglob("*.json"))
    table = cdda_snippet_table(files)
    files = [f for f in files if not _CDDA_TEST_FILE.search(f.relative_to(root).as_posix())]
    snippet_docs: list[Document] = []
    talk_docs: list[Document] = []
    for path in files:
        snippets: list[str] = []
        talk: list[str] = []
        for obj in _cdda_objects(path):
            kind = obj.get("type")
            if kind == "snippet":
                cat = obj.get("category")
                if not isinstance(cat, str) or cat in PROFANE_TAGS or CDDA_SKIP_SNIPPETS.match(cat.strip("<>")):
                    continue
                texts = obj.get("text")
                for t in texts if isinstance(texts, list) else [texts]:
                    s = _cdda_str(t)
                    if s is not None:
                        snippets.append((s, cat.startswith("<")))
            elif kind == "talk_topic":
                talk.extend((s, False) for s in _cdda_lines(obj.get("dynamic_line")))
                for resp in obj.get("responses") or []:
                    if isinstance(resp, dict):
                        tf = resp.get("truefalsetext")
                        options = [resp.get("text")] + ([tf.get("true"), tf.get("false")] if isinstance(tf, dict) else [])
                        talk.extend((s, False) for s in map(_cdda_str, options) if s is not None)
        for raw, docs in ((snippets, snippet_docs), (talk, talk_docs)):
            doc = []
            for s, fill_in in raw:
                filled = cdda_fill(s, table)
                line = clean_line(filled) if filled is not None else None
                # A <tag> category is a list the game picks from to fill other
                # lines: its sentences are kept, its bare words and phrases not.
                if line and (not fill_in or reads_as_sentence(line)):
                    doc.append(line)
            if doc:
                docs.append(doc)
    return dedupe(snippet_docs + talk_docs)


# Firearms, ammunition, vehicle parts and game mechanics: catalogue text of one
# narrow kind that would crowd out the everyday objects.
# And the camp-building plans ("recipe"), one template filled with each building material.
CDDA_SKIP_DESCRIPTIONS = {"GUN", "AMMO", "MAGAZINE", "GUNMOD", "MOD_INFO", "vehicle_part", "SPELL",
                          "BIONIC_ITEM", "bionic", "martial_art", "technique", "proficiency",
                          "enchantment", "effect_type", "ammunition_type", "recipe"}


def drop_templates(docs: list[Document], min_words: int = 8) -> list[Document]:
    """Keep the first of paragraphs that differ only in the middle ("A gold ring with a
    pearl ... won't provide any effects.", then the silver one, the platinum one...):
    such a series would teach the template, not English, and make a held-out text
    that a cache of the document predicts by rote."""
    def template(p: str):
        words = p.lower().split()
        return tuple(words[:1] + words[-6:]) if len(words) >= min_words else None

    return dedupe(docs, key=template)


def cdda_description_docs(root: Path) -> list[Document]:
    """The descriptions of things, creatures, places and traits, one document per file
    (mods first, then the core game): plain descriptive English about everyday objects."""
    files = [f for f in sorted((root / "mods").rglob("*.json")) + sorted((root / "json").rglob("*.json"))
             if not _CDDA_TEST_FILE.search(f.relative_to(root).as_posix())]
    docs: list[Document] = []
    for path in files:
        doc = []
        for obj in _cdda_objects(path):
            if obj.get("type") in CDDA_SKIP_DESCRIPTIONS:
                continue
            s = _cdda_str(obj.get("description"))
            line = clean_line(s) if s else None
            if line and word_count(line) >= 4 and _SENTENCE_END.search(line):
                doc.append(line)
        if doc:
            docs.append(doc)
    return drop_templates(dedupe(docs))


def extract_cdda(ctx: Context) -> list[Document]:
    return cdda_docs(CDDA_DIR)


def extract_cdda_descriptions(ctx: Context) -> list[Document]:
    return cdda_description_docs(CDDA_DIR)


# --------------------------------------------------------------------------
# FreedroidRPG and Adonthell: translatable strings in scripts
# --------------------------------------------------------------------------
_LUA_STRING = re.compile(r'_\s*"((?:[^"\\\n]|\\.)*)"')
_PY_STRING = re.compile(r'_\(\s*"((?:[^"\\\n]|\\.)*)"\s*\)')
# A string a helper function returns is a piece the dialogue splices into a
# line (Adonthell's ``return _("thief to her")``), not a line of its own.
_RETURNED = re.compile(r"^return\b")


def _unescape(s: str) -> str:
    return re.sub(r'\\(["\'\\])', r"\1", s)


def script_lines(text: str, pattern: re.Pattern[str]) -> Document:
    """The translatable strings of one script, in order, cleaned; comments skipped."""
    text = re.sub(r"--\[\[.*?\]\]", " ", text, flags=re.S)  # Lua block comments (the WIKI headers)
    out: Document = []
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("--", "#")) or _RETURNED.match(stripped):
            continue
        for m in pattern.finditer(line):
            cleaned = clean_line(_unescape(m.group(1)))
            if cleaned:
                out.append(cleaned)
    return out


_FREEDROID_MACHINE = re.compile(r"(?i)terminal|vending|^c-net")
# A script that prints a login prompt is a machine's console whatever its file
# is called (DSB-PowerControl.lua, SACD.lua): "Login :", "passwd", shell prompts.
_LOGIN_PROMPT = re.compile(r'_\s*"\s*Login\s*:\s*"')


def freedroid_docs(root: Path) -> list[Document]:
    """One document per character's dialogue script, act 2 then act 1 (whose
    last characters are the held-out part).

    The computer terminals, vending machines and the in-game network (and the
    shared scripts under base/) print shell sessions and menus, not conversation:
    they are known by their file names, or by the login prompt they print.
    """
    paths = [p for act in ("act2", "act1") for p in sorted((root / "storyline" / act / "dialogs").glob("*.lua"))
             if not _FREEDROID_MACHINE.search(p.name)]
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
    docs = [script_lines(t, _LUA_STRING) for t in texts if not _LOGIN_PROMPT.search(t)]
    return dedupe([d for d in docs if d])


def adonthell_docs(folder: Path) -> list[Document]:
    """One document per dialogue module."""
    docs = [script_lines(p.read_text(encoding="utf-8", errors="replace"), _PY_STRING)
            for p in sorted(folder.glob("*.py")) if p.name != "__init__.py"]
    return dedupe([d for d in docs if d])


_DINK_SAY = re.compile(r'say(?:_stop|_xy|_stop_xy|_stop_npc)?\(\s*"((?:[^"\\\n]|\\.)*)"')


def dink_docs(story: Path) -> list[Document]:
    """The lines said in Dink Smallwood's scripts, one document per script.

    A line starts with a colour code (a backquote and one character), and a
    long speech is said in several bubbles: a bubble that goes on in lower
    case after one that did not end a sentence is joined to it. Lines naming
    a game variable (``&gold``) are dropped.
    """
    docs: list[Document] = []
    for path in sorted(story.glob("*.[cC]")):
        doc: Document = []
        text = path.read_text(encoding="latin-1")
        for line in text.split("\n"):
            if line.lstrip().startswith("//"):
                continue
            for m in _DINK_SAY.finditer(line):
                said = re.sub(r"`.", "", m.group(1))
                if "&" in said:
                    continue
                cleaned = clean_line(_unescape(said))
                if not cleaned:
                    continue
                if doc and cleaned[0].islower() and not re.search(r"[.!?]['\"”’)]*$", doc[-1]):
                    doc[-1] += " " + cleaned
                else:
                    doc.append(cleaned)
        if doc:
            docs.append(doc)
    return dedupe(docs)


def extract_dink(ctx: Context) -> list[Document]:
    return dink_docs(DINK_STORY)


def extract_freedroid(ctx: Context) -> list[Document]:
    return freedroid_docs(FREEDROID_DIR)


def extract_adonthell(ctx: Context) -> list[Document]:
    return adonthell_docs(ADONTHELL_DIALOGUES)
