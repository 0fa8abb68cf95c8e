"""Text helpers shared by the extractors: whitespace, word counts, what reads as prose.

A document is a list of paragraphs; each paragraph is one line of clean text.
benchmarks/adaptation.py uses these too (through scripts/build_corpus.py).
"""

from __future__ import annotations

import re

Document = list[str]

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


def dedupe(docs: list[Document], key=str.lower) -> list[Document]:
    """Drop paragraphs already seen earlier in the source (page furniture, embeds):
    two paragraphs are the same when ``key`` gives the same for both (a paragraph
    whose key is None is always kept)."""
    seen: set = set()
    out: list[Document] = []
    for doc in docs:
        kept = []
        for p in doc:
            k = key(p)
            if k is not None:
                if k in seen:
                    continue
                seen.add(k)
            kept.append(p)
        if kept:
            out.append(kept)
    return out
