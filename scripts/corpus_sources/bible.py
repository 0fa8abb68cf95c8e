"""World English Bible: a SWORD zText module (Debian ``sword-text-web``), read directly."""

from __future__ import annotations

import html
import re
import struct
import zlib
from pathlib import Path
from typing import Iterable, Iterator

from .source import Context
from .text import Document, norm_space

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
