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
                   /usr/share/games/endless-sky/data/*.txt in file order; the
                   player's name and ship written as fixed names, paragraphs
                   with other substitutions (<payment>, <planet>) left out
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
   network's perplexity alone (no document cache, no phrase tables) over
   the default model's vocabulary: the adapted vocabulary is larger (words
   the user wrote twice join it), so a token beyond the default's words
   counts as ``<unk>`` for both models, with the adapted model's ``<unk>``
   and new words' probabilities summed (``shared_vocab_nll``).  Both
   vocabulary sizes are in the JSON.
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


# --------------------------------------------------------------------------
# Retraining


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part.encode() if isinstance(part, str) else part).digest())
    return h.hexdigest()


def tree_digest(paths: Iterable[Path], pattern: str = "*") -> str:
    """A digest of the contents of the files under ``paths`` (files or folders)."""
    files: list[Path] = []
    for p in paths:
        files += sorted(p.rglob(pattern)) if p.is_dir() else [p]
    return _digest(*(f"{f.name}\0".encode() + f.read_bytes() for f in files
                     if f.is_file() and "__pycache__" not in f.parts))


def recipe_command(recipe: str, user_text: Path, out: Path, work_dir: Path, bundle: Path,
                   extra: Sequence[str], name: str) -> list[str]:
    """The retrain's command line: the app's own (``TrainRequest``) or the plain CLI's."""
    if recipe == "app":
        from keyboard_app.retraining import TrainRequest

        exe, args = TrainRequest(corpus=[user_text], out=out, work_dir=work_dir, name=name,
                                 init_from=bundle, extra_args=list(extra)).command()
        return [exe, *args]
    return [sys.executable, "-m", "model_training.cli", str(user_text.resolve()), "--init-from", str(bundle),
            "--quantize", "--out", str(out), "--work-dir", str(work_dir), "--name", name, "--quiet", *extra]


@dataclass
class Retrain:
    bundle: Path
    command: list[str]
    wall_s: float | None = None
    reused: bool = False
    error: str = ""
    epochs: list[dict] = field(default_factory=list)  # the trainer's "epoch" events (validation)


def retrain(recipe: str, user_text: Path, bundle: Path, extra: Sequence[str], work: Path,
            label: str, force: bool) -> Retrain:
    """Fine-tune ``bundle`` on ``user_text`` (or reuse the bundle of an identical earlier run)."""
    placeholder = Path("OUT")
    generic = recipe_command(recipe, user_text, placeholder, placeholder, Path("BUNDLE"), extra, label)
    key = _digest(json.dumps([recipe, generic[1:]]), user_text.read_bytes(), tree_digest([bundle]),
                  tree_digest([REPO / "model_training", REPO / "keyboard_app" / "retraining.py"], "*.py"))[:16]
    folder = work / "bundles" / f"{label}-{recipe}-{key}"
    out, record = folder / "bundle", folder / "retrain.json"
    command = recipe_command(recipe, user_text, out, folder / "train-work", bundle.resolve(), extra, label)
    if not force and record.is_file() and (out / "manifest.json").is_file():
        saved = json.loads(record.read_text())
        return Retrain(out, command, saved["wall_s"], True, "", saved.get("epochs", []))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log.info("retraining: %s", shlex.join(command))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    with (folder / "stdout.log").open("w") as fout, (folder / "stderr.log").open("w") as ferr:
        done = subprocess.run(command, stdout=fout, stderr=ferr, cwd=REPO, env=env)
    wall = time.perf_counter() - t0
    epochs = []
    for line in (folder / "stdout.log").read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "epoch":
            epochs.append(event)
    if done.returncode != 0 or not (out / "manifest.json").is_file():
        tail = " | ".join((folder / "stderr.log").read_text(errors="replace").strip().splitlines()[-3:])
        return Retrain(out, command, wall, False, f"exit {done.returncode}: {tail}", epochs)
    record.write_text(json.dumps({"wall_s": wall, "command": command, "epochs": epochs}, indent=1) + "\n")
    log.info("retrained %s in %.0f s", label, wall)
    return Retrain(out, command, wall, False, "", epochs)


# --------------------------------------------------------------------------
# Our side: KSR through the engine, the network's perplexity


@dataclass
class Score:
    ksr: float
    words: int
    keystrokes: int
    perplexity: float  # the network alone, over the default model's words (``shared_vocab_nll``)
    ppl_tokens: int
    vocab_size: int


def cut_words(tokenizer, text: str, n: int) -> str:
    """``text`` up to the end of its ``n``-th scored word (all of it for n <= 0)."""
    if n <= 0:
        return text
    words = cp.scored_words(tokenizer, text)
    return text if len(words) <= n else text[: words[n - 1].end]


def shared_vocab_nll(predictor, text: str, known: int) -> tuple[float, int]:
    """Negative log-likelihood of ``text``'s tokens (after the first) under the network,
    over the first ``known`` words of its vocabulary: a token beyond them counts as
    ``<unk>``, whose probability is ``<unk>``'s plus that of every word beyond them.

    An adapted model's new words would otherwise make its perplexity incomparable:
    a name that was one cheap ``<unk>`` to the default model becomes a specific,
    costly word (kernel docs at 50k words: 142 -> 154 over different vocabularies).
    With ``known`` = the default model's vocabulary both models are scored on the
    same events, so a fall means the network predicts the user's text better.
    """
    import numpy as np

    from keyboard_app.engine.tokenizer import BOS

    vocab = predictor.bundle.vocab
    unk = vocab.unk_id
    ids = [vocab.id(BOS)] + vocab.encode(predictor.tokenizer.tokenize(text))
    session = predictor.session
    state = session.zero_state()
    nll = 0.0
    for t in range(len(ids) - 1):
        log_probs, state = session.run(np.array([[ids[t]]], np.int64), state)
        row = log_probs[0].astype(np.float64)
        target = ids[t + 1]
        if target >= known or target == unk:
            nll -= float(np.logaddexp(row[unk], np.logaddexp.reduce(row[known:])) if len(row) > known else row[unk])
        else:
            nll -= float(row[target])
    return nll, len(ids) - 1


def score_bundle(bundle: Path, text: str, ppl_text: str, k: int, threads: int, cache: dict,
                 known: int) -> Score:
    """KSR at ``k`` on ``text`` (the strip's suggestions) and the network's perplexity on
    ``ppl_text`` over the first ``known`` words of the vocabulary (the default model's)."""
    from keyboard_app.engine.evaluate import evaluate
    from keyboard_app.engine.predictor import PhraseSettings, Predictor, RecencySettings

    key = _digest(tree_digest([bundle]), text, ppl_text, str(k), f"shared-vocab {known}",
                  tree_digest([REPO / "keyboard_app" / "engine"], "*.py"))
    if key in cache:
        return Score(**cache[key])
    predictor = Predictor.load(bundle, threads=threads)
    try:
        report = evaluate(predictor, [text], ks=(k,))
    finally:
        predictor.close()
    network = Predictor.load(bundle, threads=threads, recency=RecencySettings.off(), phrases=PhraseSettings.off())
    try:
        nll, tokens = shared_vocab_nll(network, ppl_text, known)
        vocab = len(network.bundle.vocab)
    finally:
        network.close()
    score = Score(float(report.ksr[k]), report.words, report.keystrokes,
                  math.exp(nll / tokens) if tokens else float("nan"), tokens, vocab)
    cache[key] = asdict(score)
    return score


# --------------------------------------------------------------------------
# Presage: the default database, and a copy of it with the user's text appended


def presage_available() -> bool:
    return all(shutil.which(t) for t in cp.TOOLS) and cp._find_libpresage() is not None


def write_presage_words(tokenizer, src_text: str, dest: Path) -> None:
    """The user's training text as Presage is given it (compare_presage's normalisation)."""
    with dest.open("w", encoding="utf-8") as out:
        for line in src_text.split("\n"):
            out.write(cp.presage_line(tokenizer, line) + "\n")


def user_database(default_db: Path, user_words: Path, folder: Path) -> tuple[Path, str, float]:
    """``folder/presage-ngram.db``: the default database plus the user's text (text2ngram --append).

    Returns the database, its stamp and the seconds it took (0 when reused).
    The stamp names what the database holds, so the simulator's cached
    results stay valid when the database itself has been deleted.
    """
    default_stamp = (default_db.parent / "presage-ngram.db.stamp").read_text().strip()
    stamp = _digest(default_stamp, user_words.read_bytes(), f"append v{cp.NORMALISATION_VERSION}")
    database, stamp_file = folder / "presage-ngram.db", folder / "presage-ngram.db.stamp"
    folder.mkdir(parents=True, exist_ok=True)
    stamp_file.write_text(stamp + "\n")  # read by the result cache's key
    built = folder / "presage-ngram.db.built"
    if database.is_file() and built.is_file() and built.read_text().strip() == stamp:
        return database, stamp, 0.0
    t0 = time.perf_counter()
    partial = folder / "presage-ngram.db.partial"
    shutil.copyfile(default_db, partial)
    for n in (1, 2, 3):
        cp._run(["text2ngram", "-n", str(n), "-l", "-a", "-f", "sqlite", "-o", str(partial), str(user_words)])
    os.replace(partial, database)
    built.write_text(stamp + "\n")
    seconds = time.perf_counter() - t0
    (folder / "presage-ngram.db.seconds").write_text(f"{seconds:.1f}\n")  # kept when the database is deleted
    return database, stamp, seconds


@dataclass
class PresageJob:
    """One presage_simulator run: a database (by its stamp) on one unseen text."""

    name: str
    config: Path
    stamp: str
    words_file: Path
    result: cp.SimulatorResult | None = None

    def key(self) -> str:
        # The configuration names the database by path; the stamp says what it holds.
        return _digest(self.stamp, self.config.read_text().replace(str(self.config.parent), "DIR"),
                       self.words_file.read_bytes(), cp._presage_version())


def run_simulations(jobs: list[PresageJob], cache_file: Path, slots: int, rerun: bool,
                    prepare: Callable[[PresageJob], None] = lambda job: None) -> None:
    """Fill each job's result: from ``cache_file``, or by running presage_simulator,
    ``slots`` at a time (``prepare(job)`` first: build its database)."""
    cache = json.loads(cache_file.read_text()) if cache_file.is_file() else {}
    todo = []
    for job in jobs:
        if not rerun and job.key() in cache:
            job.result = cp.SimulatorResult(**cache[job.key()])
            log.info("presage  %-28s KSR %.2f (reused)", job.name, job.result.ksr)
        else:
            todo.append(job)
    running: list[tuple[PresageJob, subprocess.Popen]] = []
    envs: dict[Path, dict] = {}  # one empty HOME per folder, made before any run uses it
    for job in todo:
        if job.config.parent not in envs:
            envs[job.config.parent] = cp.presage_env(job.config.parent)
    while todo or running:
        while todo and len(running) < slots:
            job = todo.pop(0)
            prepare(job)
            running.append((job, cp.start_simulator(job.config, job.words_file, envs[job.config.parent])))
        for job, proc in [r for r in running if r[1].poll() is not None]:
            running.remove((job, proc))
            job.result = cp.finish_simulator(proc)
            cache[job.key()] = asdict(job.result)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache, indent=1))
            os.replace(tmp, cache_file)
            log.info("presage  %-28s KSR %.2f (%.0f s)", job.name, job.result.ksr, job.result.wall_s)
        time.sleep(0.2)


# --------------------------------------------------------------------------
# Report


@dataclass
class Row:
    corpus: str
    size: int  # words asked for
    train_words: int  # words given (fewer when the corpus has fewer)
    recipe: str
    default_ksr: float | None = None
    adapted_ksr: float | None = None
    default_ppl: float | None = None
    adapted_ppl: float | None = None
    default_vocab: int | None = None
    adapted_vocab: int | None = None
    presage_default_ksr: float | None = None
    presage_user_ksr: float | None = None
    retrain_s: float | None = None
    retrain_reused: bool = False
    estimate_s: float | None = None  # what the app's dialog would have promised (app recipe)
    presage_db_s: float | None = None  # copying and appending to the database
    val_ppl: list = field(default_factory=list)  # the trainer's validation perplexity at each validation
    scored_words: int = 0
    error: str = ""

    @property
    def gain(self) -> float | None:
        return _minus(self.adapted_ksr, self.default_ksr)

    @property
    def presage_gain(self) -> float | None:
        return _minus(self.presage_user_ksr, self.presage_default_ksr)

    @property
    def ratio(self) -> float | None:
        return gain_ratio(self.gain, self.presage_gain)

    def to_dict(self) -> dict:
        return {**asdict(self), "gain": self.gain, "presage_gain": self.presage_gain, "gain_ratio": self.ratio}


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def gain_ratio(ours: float | None, presage: float | None) -> float | None:
    """Our KSR gain over Presage's; None when either is missing or Presage gains nothing."""
    if ours is None or presage is None or presage <= 0:
        return None
    return ours / presage


def format_ratio(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}"


def format_gain(gain: float | None) -> str:
    return "" if gain is None else f"{gain:+.2f}"


def format_words(n: int) -> str:
    return f"{n / 1000:.0f}k" if n >= 10_000 else f"{n / 1000:.1f}k"


def _pair(a: float | None, b: float | None, fmt: str) -> str:
    if a is None and b is None:
        return ""
    return f"{'-' if a is None else format(a, fmt)} -> {'-' if b is None else format(b, fmt)}"


def format_table(rows: list[Row], k: int) -> str:
    """One line per corpus and size; gains in KSR points."""
    head = ("corpus", "words", f"KSR@{k} default -> adapted", "gain", "net ppl* default -> adapted",
            "Presage default -> +user", "gain", "ratio", "retrain", "estimate")
    body = []
    for r in rows:
        words = format_words(r.train_words) + ("*" if r.train_words < r.size else "")
        retrain_s = "" if r.retrain_s is None else _duration(r.retrain_s) + (" (cached)" if r.retrain_reused else "")
        body.append((r.corpus, words, _pair(r.default_ksr, r.adapted_ksr, ".2f"), format_gain(r.gain),
                     _pair(r.default_ppl, r.adapted_ppl, ".1f"),
                     _pair(r.presage_default_ksr, r.presage_user_ksr, ".2f"),
                     format_gain(r.presage_gain), format_ratio(r.ratio) if r.presage_default_ksr is not None else "",
                     retrain_s if not r.error else "FAILED",
                     "" if r.estimate_s is None else _duration(r.estimate_s)))
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    left = {0}  # the corpus name; numbers are right-aligned

    def line(cells) -> str:
        padded = (c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        return "  ".join(padded).rstrip()

    out = [line(head), line(["-" * w for w in widths])] + [line(b) for b in body]
    if any(r.train_words < r.size for r in rows):
        out.append("* the corpus holds fewer training words than asked for: all of them were used")
    for r in rows:
        if r.error:
            out.append(f"{r.corpus} {format_words(r.size)}: {r.error}")
    return "\n".join(out)


def _duration(seconds: float) -> str:
    minutes, s = divmod(int(round(seconds)), 60)
    return f"{minutes} min {s:02d} s" if minutes else f"{s} s"


# --------------------------------------------------------------------------
# Command line


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive word counts, not {text!r}")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Retrain the default model on user corpora the way the app does and compare "
        "the KSR gain with Presage's gain from the same text (issue 12).",
        epilog="See this script's docstring for the corpora, their packages and the caches.")
    add = parser.add_argument
    add("--corpora", default=",".join(SOURCES), help=f"comma-separated, of: {', '.join(SOURCES)} (default all)")
    add("--sizes", type=_sizes, default=list(DEFAULT_SIZES),
        help="training words per retrain (default 20000,50000,200000)")
    add("--max-words", type=int, default=2000, help="unseen words scored for KSR (default 2000)")
    add("--ppl-words", type=int, default=20000,
        help="unseen words for the network's perplexity (default 20000, 0: all; batched, so cheap)")
    add("--k", type=int, default=3, help="suggestions shown (default 3)")
    add("--recipe", choices=("app", "cli"), default="app",
        help="app: keyboard_app.retraining.TrainRequest's command; cli: keyboard-train --init-from --quantize")
    add("--recipe-args", default="", help='extra trainer arguments, appended, e.g. --recipe-args="--lr 1e-3"')
    add("--bundle", type=Path, default=REPO / "assets/models/default", help="the default model bundle")
    add("--train-corpus", type=Path, default=REPO / "corpus/train",
        help="the default corpus (Presage's database; default corpus/train)")
    add("--work", type=Path, default=REPO / "build/adaptation", help="caches (default build/adaptation)")
    add("--corpus-words", type=int, default=CORPUS_WORDS,
        help=f"words per user corpus at most (default {CORPUS_WORDS})")
    add("--unseen-fraction", type=float, default=UNSEEN_FRACTION, help="the end of each corpus kept unseen (0.1)")
    add("--no-presage", action="store_true", help="skip Presage")
    add("--presage-predictors", default=cp.DEFAULT_PREDICTORS, help=f"default {cp.DEFAULT_PREDICTORS!r}")
    add("--jobs", type=int, default=2, help="presage_simulator runs at a time (default 2)")
    add("--keep-presage-dbs", action="store_true",
        help="keep the default+user databases (each a copy of the default's)")
    add("--retrain", action="store_true", help="retrain even where --work holds a bundle of the same run")
    add("--rerun-presage", action="store_true", help="rerun presage_simulator even where its result is cached")
    add("--threads", type=int, default=1, help="onnxruntime threads when scoring (default 1)")
    add("--json", type=Path, help="also write every figure here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    names = [n.strip() for n in args.corpora.split(",") if n.strip()]
    unknown = [n for n in names if n not in SOURCES]
    if unknown or not names:
        print(f"Unknown corpus {', '.join(unknown) or '(none)'}: choose from {', '.join(SOURCES)}.", file=sys.stderr)
        return 2
    use_presage = not args.no_presage
    if use_presage and not presage_available():
        print("Presage is not installed (apt-get install presage): its columns are left empty.", file=sys.stderr)
        use_presage = False
    train_files = sorted(args.train_corpus.glob("*.txt")) if args.train_corpus.is_dir() else [args.train_corpus]
    train_files = [f for f in train_files if f.is_file()]
    if use_presage and not train_files:
        print(f"No default corpus at {args.train_corpus} (scripts/build_corpus.py builds it).", file=sys.stderr)
        return 2
    from keyboard_app.engine.bundle import ModelLoadError
    from keyboard_app.engine.predictor import Predictor

    try:
        default = Predictor.load(args.bundle, threads=args.threads)
    except ModelLoadError as e:
        print(e, file=sys.stderr)
        return 2
    tokenizer = default.tokenizer
    known = len(default.bundle.vocab)  # perplexities are over the default model's words
    default.close()
    args.work.mkdir(parents=True, exist_ok=True)
    extra = shlex.split(args.recipe_args)

    corpora: dict[str, UserCorpus] = {}
    for name in names:
        try:
            corpora[name] = build_user_corpus(SOURCES[name], args.work, args.corpus_words, args.unseen_fraction)
        except FileNotFoundError as e:
            print(f"Cannot build {name}: {e}", file=sys.stderr)
            return 2

    # Our side first, alone on the machine, so the retrain's wall time is honest.
    scores_file = args.work / "scores.json"
    scores = json.loads(scores_file.read_text()) if scores_file.is_file() else {}
    rows: list[Row] = []
    unseen: dict[str, cp.HeldoutText] = {}
    train_texts: dict[tuple[str, int], Path] = {}
    for name, corpus in corpora.items():
        unseen_path = args.work / "corpora" / f"{name}.unseen.txt"
        unseen_path.write_text(corpus.unseen_text, encoding="utf-8")
        held = cp.HeldoutText.load(unseen_path, tokenizer, args.max_words or None)
        unseen[name] = held
        ppl_text = cut_words(tokenizer, corpus.unseen_text, args.ppl_words)
        base = score_bundle(args.bundle, held.text, ppl_text, args.k, args.threads, scores, known)
        log.info("default  %-12s KSR %.2f  network ppl %.1f", name, base.ksr, base.perplexity)
        available = corpus.info["train_words"]
        for size in sorted({min(s, available) for s in args.sizes}):
            asked = max([s for s in args.sizes if min(s, available) == size])
            text_path = args.work / "corpora" / f"{name}.train-{size}.txt"
            text = "\n\n".join(first_words(corpus.train_paragraphs, size)) + "\n"
            if not text_path.is_file() or text_path.read_text(encoding="utf-8") != text:
                text_path.write_text(text, encoding="utf-8")
            train_texts[(name, size)] = text_path
            row = Row(name, asked, size, args.recipe, default_ksr=base.ksr, default_ppl=base.perplexity,
                      default_vocab=base.vocab_size, scored_words=base.words)
            rows.append(row)
            run = retrain(args.recipe, text_path, args.bundle, extra, args.work, f"{name}-{size}", args.retrain)
            row.retrain_s, row.retrain_reused = run.wall_s, run.reused
            row.val_ppl = [e.get("val_ppl") for e in run.epochs]
            if args.recipe == "app":
                from keyboard_app.retraining import count_corpus_words, estimate_seconds

                row.estimate_s = estimate_seconds(count_corpus_words([text_path]).words, size=None)
            if run.error:
                row.error = f"retrain failed ({run.error}); logs in {run.bundle.parent}"
                log.error("%s", row.error)
                continue
            adapted = score_bundle(run.bundle, held.text, ppl_text, args.k, args.threads, scores, known)
            row.adapted_ksr, row.adapted_ppl, row.adapted_vocab = adapted.ksr, adapted.perplexity, adapted.vocab_size
            log.info("adapted  %-12s %6d words: KSR %.2f  network ppl %.1f",
                     name, size, adapted.ksr, adapted.perplexity)
            scores_file.write_text(json.dumps(scores, indent=1) + "\n")
    scores_file.write_text(json.dumps(scores, indent=1) + "\n")

    presage_info: dict = {}
    if use_presage:
        try:
            presage_info = score_presage(args, rows, corpora, unseen, train_texts, train_files, tokenizer)
        except RuntimeError as e:  # a Presage tool failed; the message says which
            print(e, file=sys.stderr)
            for row in rows:
                row.error = row.error or f"Presage: {e}"

    print(describe(args, corpora, extra, use_presage))
    print()
    print(format_table(rows, args.k))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "k": args.k, "max_words": args.max_words, "ppl_words": args.ppl_words,
            "recipe": args.recipe, "recipe_args": extra,
            "recipe_command": recipe_command(args.recipe, Path("USER_TEXT"), Path("OUT"), Path("WORK"),
                                             args.bundle, extra, "NAME"),
            "bundle": str(args.bundle),
            "corpora": {n: {**c.info, "path": str(c.path)} for n, c in corpora.items()},
            "presage": presage_info,
            "rows": [r.to_dict() for r in rows],
            "machine": platform.platform(), "cpus": os.cpu_count(),
        }, indent=2, ensure_ascii=False) + "\n")
    return 1 if any(r.error for r in rows) else 0


def score_presage(args, rows: list[Row], corpora: dict[str, UserCorpus], unseen: dict[str, cp.HeldoutText],
                  train_texts: dict[tuple[str, int], Path], train_files: list[Path], tokenizer) -> dict:
    """Presage's KSR on each unseen text: default database, and default plus each user text."""
    root = args.work / "presage"
    stamp_file = root / "default" / "presage-ngram.db.stamp"
    reused = stamp_file.is_file() and stamp_file.read_text().strip() == cp._corpus_stamp(train_files)
    t0 = time.perf_counter()
    default_db = cp.build_database(train_files, tokenizer, root / "default", False)
    default_db_s = None if reused else round(time.perf_counter() - t0, 1)
    default_stamp = (root / "default" / "presage-ngram.db.stamp").read_text().strip()
    config = cp.write_config(root / "default", default_db, args.k, args.presage_predictors, True)
    jobs: list[PresageJob] = []
    for name, held in unseen.items():
        words = root / f"{name}.unseen.words.txt"
        words.write_text(held.presage_text)
        jobs.append(PresageJob(f"{name} default", config, default_stamp, words))
    user_jobs: dict[str, tuple[Row, Path]] = {}
    for row in rows:
        if (row.corpus, row.train_words) not in train_texts:
            continue
        folder = root / f"{row.corpus}-{row.train_words}"
        folder.mkdir(parents=True, exist_ok=True)
        user_words = folder / "user.words.txt"
        user_text = train_texts[(row.corpus, row.train_words)].read_text(encoding="utf-8")
        write_presage_words(tokenizer, user_text, user_words)
        stamp = _digest(default_stamp, user_words.read_bytes(), f"append v{cp.NORMALISATION_VERSION}")
        user_config = cp.write_config(folder, folder / "presage-ngram.db", args.k, args.presage_predictors, True)
        unseen_words = root / f"{row.corpus}.unseen.words.txt"
        job = PresageJob(f"{row.corpus} +{row.train_words}", user_config, stamp, unseen_words)
        jobs.append(job)
        user_jobs[job.name] = (row, user_words)

    def prepare(job: PresageJob) -> None:
        if job.name in user_jobs:
            row, user_words = user_jobs[job.name]
            _, stamp, row.presage_db_s = user_database(default_db, user_words, job.config.parent)
            assert stamp == job.stamp
            log.info("presage  %-28s database: default + user text in %.0f s", job.name, row.presage_db_s)

    run_simulations(jobs, root / "simulator-results.json", max(1, args.jobs), args.rerun_presage, prepare)
    defaults = {j.name[: -len(" default")]: j.result for j in jobs if j.name not in user_jobs}
    for job in jobs:
        if job.name in user_jobs:
            row, _ = user_jobs[job.name]
            row.presage_default_ksr = defaults[row.corpus].ksr
            row.presage_user_ksr = job.result.ksr
            seconds = job.config.parent / "presage-ngram.db.seconds"
            if row.presage_db_s is None and seconds.is_file():
                row.presage_db_s = float(seconds.read_text())
            if not args.keep_presage_dbs:
                (job.config.parent / "presage-ngram.db").unlink(missing_ok=True)
                (job.config.parent / "presage-ngram.db.built").unlink(missing_ok=True)
    for row in rows:
        if row.presage_default_ksr is None and row.corpus in defaults:
            row.presage_default_ksr = defaults[row.corpus].ksr
    return {"predictors": args.presage_predictors, "default_database": str(default_db),
            "default_database_s": default_db_s,  # None: reused from an earlier run
            "version": cp._presage_version(),
            "simulator": {j.name: asdict(j.result) for j in jobs}}


def describe(args, corpora: dict[str, UserCorpus], extra: list[str], presage: bool) -> str:
    command = recipe_command(args.recipe, Path("USER_TEXT"), Path("OUT"), Path("WORK"), Path("BUNDLE"), extra, "NAME")
    command = ["python", *(a.replace(str(Path("USER_TEXT").resolve()), "USER_TEXT") for a in command[1:])]
    lines = [f"Default model: {args.bundle}; recipe: {args.recipe}: {shlex.join(command)}"]
    for name, c in corpora.items():
        packages = ", ".join(f"{p} {v}" for p, v in c.info["packages"].items())
        lines.append(f"  {name:<12} {c.info['words']:>8,} words ({c.info['train_words']:,} to train on, "
                     f"{c.info['unseen_words']:,} unseen); {packages}")
    lines.append(f"Scored: the first {args.max_words or 'all'} words of each unseen text, k = {args.k}, "
                 "a passed-over suggestion may be shown again; net ppl*: the network's perplexity alone (no "
                 f"document cache, no phrase tables) on its first {args.ppl_words or 'all'} words, over the "
                 "default model's words (a word beyond them counts as <unk>, with the probability of <unk> "
                 "and of every new word: both models scored on the same events).")
    if presage:
        lines.append(f"Presage: {args.presage_predictors}, trigram database from {args.train_corpus} "
                     "(+ the user's training text, appended by text2ngram -a); gain ratio = our gain / Presage's.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
