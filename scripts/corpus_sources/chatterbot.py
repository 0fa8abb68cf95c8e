"""ChatterBot dialogue corpus (PyPI ``chatterbot-corpus``; small but conversational)."""

from __future__ import annotations

import re
from pathlib import Path

from .packages import package_folders
from .source import Context
from .text import Document, norm_space

CHATTERBOT_SKIP = {"coding.yml"}  # program code, not conversation


def find_chatterbot_data(ctx: Context) -> Path | None:
    """Locate chatterbot_corpus/data/english (installed anywhere, or in the cache)."""
    for folder in package_folders("chatterbot_corpus", ctx):
        if (folder / "data" / "english").is_dir():
            return folder / "data" / "english"
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
