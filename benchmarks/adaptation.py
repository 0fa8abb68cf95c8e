"""The adaptation benchmark (issue 12): does retraining on a user's own writing pay?

For each user corpus (texts of distinct genres taken from Debian packages),
split by position, this retrains the default model on the first part the
way the app does and scores the last 10%, which neither side saw, beside
Presage trained on the default corpus with and without the same user text::

    .venv/bin/python benchmarks/adaptation.py \\
        [--corpora handbook,endless-sky,wesnoth,kernel-docs] \\
        [--sizes 20000,50000,200000] [--max-words 2000] [--k 3] \\
        [--recipe app|cli] [--recipe-args="--lr 1e-3 --epochs 2"] \\
        [--bundle assets/models/default] [--train-corpus corpus/train] \\
        [--work build/adaptation] [--no-presage] [--json out.json]

It installs nothing.  The user corpora and their packages (the licences need
not allow shipping a model: nothing trained here ships):

* ``handbook``     The Debian Administrator's Handbook, prose paragraphs of
                   the English HTML book, in reading order (``debian-handbook``;
                   CC-BY-SA 3.0 or GPL-2+).
* ``endless-sky``  Endless Sky's mission and conversation text: conversation
                   lines and choices, dialogs, mission descriptions, from
                   /usr/share/games/endless-sky/data/*.txt in file order
                   (``endless-sky-data``; GPL-3+, text by the Endless Sky authors).
* ``wesnoth``      Battle for Wesnoth's campaign dialogue: the ``message=`` and
                   ``story=`` translatable strings (``_ "..."``) of the
                   campaigns' .cfg files.  ``wesnoth-1.16-data`` holds only the
                   tutorial and World Conquest; Debian ships each campaign in a
                   package of its own, so this needs them too
                   (``wesnoth-1.16-httt``, ``-trow``, ``-tsg``, ``-ei``,
                   ``-sotbe``, ``-utbs``, ``-nr``, ``-low``, ``-did``, ``-sof``,
                   ``-thot``, ``-l``, ``-dw``, ``-dm``, ``-sota``, ``-ttb``;
                   those installed are used, in folder order; GPL-2+).
* ``kernel-docs``  The Linux kernel's documentation, prose paragraphs of its
                   reStructuredText sources (``Documentation/**/*.rst.gz``:
                   the rst, not the HTML, whose API pages are generated from C
                   comments); process/ and admin-guide/ first, then the rest
                   in path order, translations left out.  The issue names
                   ``linux-doc-6.12``; Debian 12 has ``linux-doc-6.1``
                   (/usr/share/doc/linux-doc-6.1), which is what is read
                   (any installed ``linux-doc-*`` is accepted; GPL-2).

Each corpus is the first ``--corpus-words`` words (300,000: whole paragraphs)
of its source, deduplicated, one paragraph per line, paragraphs separated by
a blank line.  Only whole paragraphs are moved around, nothing is shuffled.

What it does:

1. Splits each corpus by position: the last 10% (``--unseen-fraction``,
   from a paragraph start) is the user's unseen text; of it the first
   ``--max-words`` words are scored (KSR) and the first ``--ppl-words``
   words give the network's perplexity.  The user's training text at each
   size of ``--sizes`` is the first that many words of the rest (a learning
   curve: each size holds the smaller ones).
2. Retrains the default bundle on that text with the app's own recipe,
   ``keyboard_app.retraining.TrainRequest(..., init_from=BUNDLE).command()``
   (the trainer then keeps its own 10% for validation, as in the app), plus
   ``--recipe-args`` appended; or with ``--recipe cli``, plain
   ``keyboard-train USER_TEXT --init-from BUNDLE --quantize`` (plus --out,
   --work-dir and --quiet, and ``--recipe-args``).  The retrain's wall time
   is measured with nothing else of this script running.
3. Scores the default and the adapted bundle on the unseen text with the
   engine's ``evaluate()`` (KSR at ``--k``, EVALUATION.md), and the
   network's perplexity with the network and lexicon alone (no document
   cache, no phrase tables: what ``keyboard-eval --network-only`` reports).
   The adapted vocabulary is larger (words the user wrote twice join it), so
   the two perplexities are not strictly comparable: both vocabulary sizes
   are printed and in the JSON.
4. Presage (benchmarks/compare_presage.py's machinery, imported): its
   trigram database built by ``text2ngram`` from the default corpus (once,
   some 5-8 minutes for 5.4M words, kept in ``--work``), and for each user
   text a copy of it to which ``text2ngram --append`` adds the user's
   training text (the very words and normalisation compare_presage gives
   Presage).  Appending adds the user's counts to the copied ones: the result
   is the database text2ngram builds from the default corpus and the user's
   text together (checked on small texts), at the cost of a file copy and
   one pass over the user's text rather than over 5.4M words.
   ``presage_simulator`` then scores the same unseen words.  Presage is
   given the user's whole training text; our trainer validates on 10% of it.
5. Prints one row per corpus and size: KSR default -> adapted and the gain,
   network perplexity default -> adapted, Presage default -> default + user
   and its gain, the ratio of the gains (ours / Presage's; "n/a" when
   Presage gains nothing), and the retrain's wall time.

Caching, in ``--work`` (default build/adaptation): the built corpora (keyed
by the package's version and the extraction's version), the trained bundles
(keyed by corpus text, size, recipe, recipe arguments, the default bundle's
files and the sources of model_training/ and keyboard_app/retraining.py, so
a changed recipe, in arguments or in code, retrains and nothing else does),
our scores (keyed by bundle, text and the engine's sources), Presage's
databases (the default+user copies are deleted after use unless
``--keep-presage-dbs``) and the simulator's results.  ``--retrain`` and
``--rerun-presage`` ignore the caches.

Exit status: 0; 1 when a retrain or a Presage tool failed (the other rows
are still printed); 2 on bad input (no such corpus, a package missing).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import importlib.util
import json
import logging
import math
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Iterable, Sequence

log = logging.getLogger("adaptation")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # keyboard_app, model_training when run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent))  # compare_presage

import compare_presage as cp  # noqa: E402  (Presage's database, configuration, simulator)


def _load_build_corpus():
    """scripts/build_corpus.py (not a package) as a module: its text helpers."""
    spec = importlib.util.spec_from_file_location("build_corpus", REPO / "scripts" / "build_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_corpus", module)
    spec.loader.exec_module(module)
    return sys.modules["build_corpus"]


bc = _load_build_corpus()

#: Bump when what an extractor keeps changes, so cached corpora are rebuilt.
EXTRACTION_VERSION = 1
DEFAULT_SIZES = (20_000, 50_000, 200_000)
CORPUS_WORDS = 300_000
UNSEEN_FRACTION = 0.1


# --------------------------------------------------------------------------
# Extraction: each returns paragraphs (one line of clean text each), in order


class DocBookProse(HTMLParser):
    """The text of paragraphs (``<p>``, ``<div class="para">``) outside navigation,
    titles, program listings and tables; inline code is kept (a command's name
    is a word of the writer's text)."""

    SKIP_TAGS = {"pre", "table", "script", "style", "head", "h1", "h2", "h3", "h4", "h5", "h6", "title"}
    SKIP_CLASSES = {"docnav", "titlepage", "toc", "navheader", "navfooter", "legalnotice", "indexterm",
                    "programlisting", "screen", "mediaobject", "index", "footnotes"}
    VOID_TAGS = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, starts a skipped region, is a paragraph)
        self.skip = 0
        self.open_paragraphs = 0
        self.buf: list[str] = []
        self.paragraphs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID_TAGS:
            if tag == "br":
                self.buf.append(" ")
            return
        attr = dict(attrs)
        classes = set((attr.get("class") or "").split())
        skipping = tag in self.SKIP_TAGS or bool(classes & self.SKIP_CLASSES) or attr.get("id") == "title"
        is_paragraph = tag == "p" or (tag == "div" and "para" in classes)
        self.stack.append((tag, skipping, is_paragraph))
        self.skip += skipping
        if is_paragraph:
            self._flush()  # a paragraph inside another (a list in a para) ends the text before it
            self.open_paragraphs += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID_TAGS or not any(t == tag for t, _, _ in self.stack):
            return
        while self.stack:
            t, skipping, is_paragraph = self.stack.pop()
            self.skip -= skipping
            if is_paragraph:
                self._flush()
                self.open_paragraphs -= 1
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.open_paragraphs and not self.skip:
            self.buf.append(data)

    def _flush(self) -> None:
        text = bc.norm_space("".join(self.buf))
        if text:
            self.paragraphs.append(text)
        self.buf = []

    def close(self) -> None:
        super().close()
        self._flush()


def html_paragraphs(page: str) -> list[str]:
    """Prose paragraphs of a DocBook/Publican HTML page (the handbook's)."""
    parser = DocBookProse()
    parser.feed(page)
    parser.close()
    return [p for p in parser.paragraphs if _is_sentence_like(p)]


def _is_sentence_like(paragraph: str, min_words: int = 3) -> bool:
    """Enough words, mostly letters: prose rather than a value, a path or a table cell."""
    words = paragraph.split()
    if len(words) < min_words:
        return False
    letters = sum(c.isalpha() for c in paragraph)
    visible = sum(not c.isspace() for c in paragraph)
    return visible > 0 and letters / visible >= 0.7


def handbook_pages(root: Path) -> list[Path]:
    """The book's pages in reading order: index.html, then each page's "next" link."""
    nxt = re.compile(r'<a\s[^>]*accesskey="n"[^>]*href="([^"#]+)"|<a\s[^>]*href="([^"#]+)"[^>]*accesskey="n"')
    pages, seen = [], set()
    page = root / "index.html"
    while page.is_file() and page.name not in seen:
        seen.add(page.name)
        pages.append(page)
        m = nxt.search(page.read_text(encoding="utf-8", errors="replace"))
        if not m:
            break
        page = root / (m.group(1) or m.group(2))
    # Pages the chain does not reach (none in the 11.x book) follow in name order.
    return pages + sorted(p for p in root.glob("*.html") if p.name not in seen)


def _data_tokens(line: str) -> list[tuple[str, bool]]:
    """Endless Sky's data-file tokens of one line: (text, quoted); a ``#`` outside quotes ends it."""
    tokens, i, n = [], 0, len(line)
    while i < n:
        ch = line[i]
        if ch.isspace():
            i += 1
        elif ch == "#":
            break
        elif ch in "\"`":
            end = line.find(ch, i + 1)
            end = n if end < 0 else end
            tokens.append((line[i + 1:end], True))
            i = end + 1
        else:
            end = i
            while end < n and not line[end].isspace():
                end += 1
            tokens.append((line[i:end], False))
            i = end
    return tokens


#: The player's name and ship as a fixed, plausible text; paragraphs holding any
#: other substitution (<payment>, <destination>, ...) are left out.
ENDLESS_SKY_NAMES = {"<first>": "Alex", "<last>": "Mercer", "<ship>": "Wayfarer"}


def endless_sky_paragraphs(text: str) -> list[str]:
    """Conversation lines (and choices), dialogs and mission descriptions of a data file.

    The data is a tree by indentation; a line whose first token is a quoted
    string under a ``conversation`` or a ``dialog`` is text, as are
    ``dialog "..."`` and a mission's ``description "..."``.
    """
    out: list[str] = []
    stack: list[tuple[int, str]] = []  # (indentation, key) of the open nodes
    for raw in text.splitlines():
        stripped = raw.lstrip("\t ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(stripped)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        tokens = _data_tokens(stripped)
        if not tokens:
            continue
        (first, quoted) = tokens[0]
        keys = [k for _, k in stack]
        found = None
        if quoted and ("conversation" in keys or "dialog" in keys):
            found = first
        elif not quoted and first == "dialog" and len(tokens) > 1 and tokens[1][1]:
            found = tokens[1][0]
        elif not quoted and first == "description" and keys[-1:] == ["mission"] and len(tokens) > 1:
            found = tokens[1][0]
        stack.append((indent, "" if quoted else first))
        if found is None:
            continue
        for tag, name in ENDLESS_SKY_NAMES.items():
            found = found.replace(tag, name)
        paragraph = bc.norm_space(found)
        if paragraph and not re.search(r"<[a-z][^>]*>", paragraph):
            out.append(paragraph)
    return out


_WESNOTH_KEY = re.compile(r"\b(?:message|story)\s*=\s*_\s*\"")
_WESNOTH_MORE = re.compile(r"\s*\+\s*_\s*\"")
_MARKUP = re.compile(r"</?(?:i|b|u|big|small|span|tt)\b[^>]*>")


def _wesnoth_string(text: str, start: int) -> tuple[str, int]:
    """A WML string from just after its opening quote: (content, index after the closing quote).
    A doubled quote inside it is a quote; it may span lines."""
    parts, i = [], start
    while True:
        end = text.find('"', i)
        if end < 0:
            return "".join(parts) + text[i:], len(text)
        if text.startswith('""', end):
            parts.append(text[i:end] + '"')
            i = end + 2
            continue
        parts.append(text[i:end])
        return "".join(parts), end + 1


def wesnoth_paragraphs(cfg: str) -> list[str]:
    """The ``message=`` and ``story=`` translatable strings of a WML file, in order.

    ``+ _ "..."`` continuations are joined; a translation context
    (``female^``) and text markup (``<i>``) are removed; comment lines are
    skipped; a string with a variable (``$unit.name``) is left out.
    """
    text = "\n".join(line for line in cfg.splitlines() if not line.lstrip().startswith("#"))
    out: list[str] = []
    for m in _WESNOTH_KEY.finditer(text):
        value, end = _wesnoth_string(text, m.end())
        while (more := _WESNOTH_MORE.match(text, end)) is not None:
            extra, end = _wesnoth_string(text, more.end())
            value += extra
        value = re.sub(r"^[\w ]+\^", "", value)  # translation context: "female^Hello"
        value = _MARKUP.sub("", value)
        if "$" in value:
            continue
        for part in re.split(r"\n\s*\n", value):  # a blank line inside a story is a paragraph break
            paragraph = bc.norm_space(html.unescape(part))
            if paragraph:
                out.append(paragraph)
    return out


_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.<>_])\1{2,}\s*$")
_RST_TABLE = re.compile(r"^\s*(\+[-=+]+\+|\|.*\||=+(\s+=+)+)\s*$")
_RST_BULLET = re.compile(r"^([-*+\u2022]|\d+[.)]|#\.|\(?[a-zA-Z0-9]\))\s+")


def rst_inline(text: str) -> str:
    """reStructuredText inline markup reduced to its text."""
    text = re.sub(r":[\w:.+-]+:`([^`<]*?)\s*<[^`>]*>`", r"\1", text)  # :ref:`title <target>`
    text = re.sub(r":[\w:.+-]+:`([^`]*)`", r"\1", text)  # :c:func:`kmalloc`
    text = re.sub(r"`([^`<]*?)\s*<[^`>]*>`__?", r"\1", text)  # `title <url>`_
    text = re.sub(r"``([^`]+)``", r"\1", text)
    text = re.sub(r"`([^`]+)`_{0,2}", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"\s*\[(?:#\w*|\d+|\*)\]_", "", text)  # footnote references
    text = re.sub(r"\|([\w -]+)\|", r"\1", text)  # substitutions
    text = re.sub(r"(?<=\w)_(?=[\s.,;:!?)]|$)", "", text)  # word_ references
    return text


def rst_paragraphs(text: str) -> list[str]:
    """Prose paragraphs of a reStructuredText document.

    Left out: titles and their underlines, directives and comments (``..``)
    with their indented bodies, literal blocks (after ``::``), tables, field
    lists, line blocks; then whatever does not read as prose (build_corpus's
    ``is_prose``: sentence-final punctuation, few code-like words).
    """
    lines = text.replace("\t", "        ").splitlines()
    blocks: list[tuple[int, list[str]]] = []  # (indentation, lines) of each run of non-blank lines
    current: list[str] = []
    for line in lines + [""]:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append((len(current[0]) - len(current[0].lstrip()), current))
            current = []
    out: list[str] = []
    skip_deeper_than: int | None = None
    for indent, block in blocks:
        if skip_deeper_than is not None:
            if indent > skip_deeper_than:
                continue
            skip_deeper_than = None
        first = block[0].strip()
        if first.startswith(".."):
            skip_deeper_than = indent
            continue
        if block[-1].rstrip().endswith("::"):
            skip_deeper_than = indent  # what follows, indented, is a literal block
        kept = [ln for ln in block if not _RST_UNDERLINE.match(ln.strip())]
        if len(kept) < len(block) and len(kept) <= 1:
            continue  # a title
        if any(_RST_TABLE.match(ln) for ln in block) or first.startswith(("|", ":")):
            continue
        # A list item starts a paragraph of its own.
        items: list[list[str]] = []
        for ln in kept:
            s = ln.strip()
            if _RST_BULLET.match(s) or not items:
                items.append([_RST_BULLET.sub("", s, count=1)])
            else:
                items[-1].append(s)
        for item in items:
            paragraph = bc.norm_space(rst_inline(" ".join(item)))
            paragraph = re.sub(r"\s*::$", ":", paragraph).replace("::", ":")
            if bc.is_prose(paragraph):
                out.append(paragraph)
    return out


# --------------------------------------------------------------------------
# The user corpora


@dataclass(frozen=True)
class UserSource:
    """One user corpus: where its text is and how to read it."""

    name: str
    genre: str
    packages: tuple[str, ...]  # Debian packages read (the first is required)
    licence: str
    files: Callable[[], list[Path]]  # in reading order; empty: not installed
    read: Callable[[Path], list[str]]  # one file's paragraphs


HANDBOOK = Path("/usr/share/doc/debian-handbook/html/en-US")
ENDLESS_SKY = Path("/usr/share/games/endless-sky/data")
WESNOTH = Path("/usr/share/games/wesnoth/1.16/data/campaigns")
WESNOTH_PACKAGES = ("wesnoth-1.16-data", *(f"wesnoth-1.16-{c}" for c in (
    "httt", "trow", "tsg", "ei", "sotbe", "utbs", "nr", "low", "did", "sof", "thot", "l", "dw", "dm", "sota", "ttb")))
KERNEL_FIRST = ("process", "admin-guide")
KERNEL_SKIP = ("translations", "ABI", "sphinx", "sphinx-static", "devicetree")


def _kernel_docs_root() -> Path | None:
    roots = sorted(Path("/usr/share/doc").glob("linux-doc-*/Documentation"))
    return roots[-1] if roots else None


def _kernel_files() -> list[Path]:
    root = _kernel_docs_root()
    if root is None:
        return []
    files = [p for p in root.rglob("*.rst.gz") if p.relative_to(root).parts[0] not in KERNEL_SKIP]

    def order(p: Path) -> tuple[int, str]:
        top = p.relative_to(root).parts[0]
        return (KERNEL_FIRST.index(top) if top in KERNEL_FIRST else len(KERNEL_FIRST), p.relative_to(root).as_posix())

    return sorted(files, key=order)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        import gzip

        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


SOURCES: dict[str, UserSource] = {s.name: s for s in [
    UserSource("handbook", "technical manual (system administration)", ("debian-handbook",),
               "CC-BY-SA-3.0 or GPL-2+ (Raphaël Hertzog, Roland Mas)",
               lambda: handbook_pages(HANDBOOK) if (HANDBOOK / "index.html").is_file() else [],
               lambda p: html_paragraphs(_read_text(p))),
    UserSource("endless-sky", "science-fiction game dialogue and mission text", ("endless-sky-data",),
               "GPL-3+ (Michael Zahniser and the Endless Sky contributors)",
               lambda: sorted(ENDLESS_SKY.glob("*.txt")) if ENDLESS_SKY.is_dir() else [],
               lambda p: endless_sky_paragraphs(_read_text(p))),
    UserSource("wesnoth", "fantasy campaign dialogue and story", WESNOTH_PACKAGES,
               "GPL-2+ (the Battle for Wesnoth project)",
               lambda: sorted(WESNOTH.glob("*/**/*.cfg")) if WESNOTH.is_dir() else [],
               lambda p: wesnoth_paragraphs(_read_text(p))),
    UserSource("kernel-docs", "technical prose (the Linux kernel's documentation)", ("linux-doc-6.1",),
               "GPL-2 (the Linux kernel's documentation)",
               _kernel_files, lambda p: rst_paragraphs(_read_text(p))),
]}


def package_versions(packages: Sequence[str]) -> dict[str, str]:
    """Installed versions (dpkg) of those of ``packages`` that are installed."""
    done = subprocess.run(["dpkg-query", "-W", "-f=${Package}\\t${Version}\\t${db:Status-Abbrev}\\n", *packages],
                          capture_output=True, text=True)
    versions = {}
    for line in done.stdout.splitlines():
        name, version, status = (line.split("\t") + ["", ""])[:3]
        if status.startswith("ii"):
            versions[name] = version
    return versions


@dataclass
class UserCorpus:
    """A built user corpus, split by position."""

    name: str
    path: Path  # the whole corpus, paragraphs separated by blank lines
    paragraphs: list[str]
    unseen_start: int  # index of the first unseen paragraph
    info: dict = field(default_factory=dict)  # words, package versions, licence

    @property
    def train_paragraphs(self) -> list[str]:
        return self.paragraphs[: self.unseen_start]

    @property
    def unseen_text(self) -> str:
        return "\n\n".join(self.paragraphs[self.unseen_start:]) + "\n"


def words_of(paragraphs: Iterable[str]) -> int:
    return sum(bc.word_count(p) for p in paragraphs)


def cap_words(paragraphs: Iterable[str], limit: int) -> list[str]:
    """Whole paragraphs from the start while the total stays within ``limit`` words."""
    kept, total = [], 0
    for p in paragraphs:
        n = bc.word_count(p)
        if total + n > limit:
            break
        kept.append(p)
        total += n
    return kept


def split_by_position(paragraphs: Sequence[str], unseen_fraction: float = UNSEEN_FRACTION) -> int:
    """Index of the first unseen paragraph: the last ``unseen_fraction`` of the words,
    from a paragraph start (at least one paragraph on each side when there are two)."""
    total = words_of(paragraphs)
    target = total * (1.0 - unseen_fraction)
    seen = 0
    for i, p in enumerate(paragraphs):
        if seen >= target:
            return max(1, i)
        seen += bc.word_count(p)
    return max(1, len(paragraphs) - 1) if len(paragraphs) > 1 else len(paragraphs)


def first_words(paragraphs: Sequence[str], n: int) -> list[str]:
    """The first ``n`` words of ``paragraphs``: whole paragraphs, the last one cut."""
    out, left = [], n
    for p in paragraphs:
        if left <= 0:
            break
        words = p.split()
        out.append(p if len(words) <= left else " ".join(words[:left]))
        left -= len(words)
    return out


def build_user_corpus(source: UserSource, work: Path, corpus_words: int, unseen_fraction: float) -> UserCorpus:
    """Extract (or reuse) a user corpus under ``work/corpora``."""
    versions = package_versions(source.packages)
    if source.packages[0] not in versions and not source.files():
        raise FileNotFoundError(
            f"the {source.name} corpus needs the Debian package {source.packages[0]}: "
            f"apt-get install --no-install-recommends {' '.join(source.packages)}")
    folder = work / "corpora"
    folder.mkdir(parents=True, exist_ok=True)
    path, meta = folder / f"{source.name}.txt", folder / f"{source.name}.json"
    stamp = {"extraction": EXTRACTION_VERSION, "packages": versions, "corpus_words": corpus_words}
    info = None
    if path.is_file() and meta.is_file():
        info = json.loads(meta.read_text())
        if info.get("stamp") != stamp:
            info = None
    if info is None:
        t0 = time.perf_counter()
        files = source.files()
        paragraphs = []
        for f in files:
            paragraphs.extend(source.read(f))
            if words_of(paragraphs) > 2 * corpus_words:  # enough: the rest would be cut anyway
                break
        unique = [p for doc in bc.dedupe([paragraphs]) for p in doc]  # repeated lines, page furniture
        paragraphs = cap_words(unique, corpus_words)
        path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        info = {"stamp": stamp, "words": words_of(paragraphs), "paragraphs": len(paragraphs),
                "packages": versions, "licence": source.licence, "genre": source.genre,
                "extract_s": round(time.perf_counter() - t0, 1)}
        meta.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
        log.info("built %s: %d words in %.1f s", path, info["words"], info["extract_s"])
    paragraphs = [p for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    paragraphs = [p.strip() for p in paragraphs]
    start = split_by_position(paragraphs, unseen_fraction)
    info = {**info, "train_words": words_of(paragraphs[:start]), "unseen_words": words_of(paragraphs[start:])}
    return UserCorpus(source.name, path, paragraphs, start, info)
