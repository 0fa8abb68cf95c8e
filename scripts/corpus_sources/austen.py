"""Jane Austen's six novels, from the R package janeaustenr (Debian ``r-cran-janeaustenr``), read without R."""

from __future__ import annotations

import re
from pathlib import Path

from .rdata import read_r_lazyload
from .source import Context
from .text import Document, norm_space, word_count

JANEAUSTENR = Path("/usr/lib/R/site-library/janeaustenr/data")
AUSTEN_ORDER = ("sensesensibility", "prideprejudice", "mansfieldpark", "emma",
                "northangerabbey", "persuasion")


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
