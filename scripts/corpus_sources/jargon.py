"""The Jargon File 4.4.7 (Debian ``jargon-text``; public domain)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from .source import Context
from .text import Document, norm_space, word_count

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
