"""WordNet glosses and example sentences (Debian ``wordnet-base``)."""

from __future__ import annotations

import re
from pathlib import Path

from .source import Context
from .text import Document, norm_space, word_count

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
