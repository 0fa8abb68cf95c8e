"""The prose paragraphs of HTML documentation pages: ``<p>`` text outside navigation, code and tables."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable

from .text import Document, dedupe, is_prose, norm_space

SKIP_TAGS = {"pre", "table", "nav", "header", "footer", "aside", "script", "style", "head",
             "h1", "h2", "h3", "h4", "h5", "h6", "form", "button", "select", "dl_sig", "noscript"}
SKIP_CLASSES = {"sphinxsidebar", "related", "footer", "navheader", "navfooter", "highlight",
                "toc", "sphinxsidebarwrapper", "breadcrumbs", "debug", "bug", "index-label",
                "modules", "dropdowns", "contents-treeview", "relbar", "nav", "search",
                "toctree-wrapper", "literal-block-wrapper", "versionmodified", "program",
                "synopsis", "cmdsynopsis", "funcsynopsis", "screen", "programlisting",
                "tablecontentintable", "paragraphintable", "tableheadintable", "doc-footer",
                "footer-nav", "sig", "sig-object"}
VOID_TAGS = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed",
             "source", "track", "wbr", "param"}
CODE_TAGS = {"code", "tt", "kbd", "samp", "var"}


class ProseExtractor(HTMLParser):
    """Collect the text of <p> elements outside navigation, code and tables."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, starts skip region, is code)
        self.skip = 0
        self.in_p = 0
        self.code = 0
        self.buf: list[str] = []
        self.code_chars = 0
        self.paragraphs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            if tag == "br" and self.in_p:
                self.buf.append(" ")
            return
        attr = dict(attrs)
        classes = set((attr.get("class") or "").split())
        skipping = tag in SKIP_TAGS or bool(classes & SKIP_CLASSES) or attr.get("role") == "navigation"
        is_code = tag in CODE_TAGS or "literal" in classes or (tag == "span" and "pre" in classes)
        self.stack.append((tag, skipping, is_code))
        if skipping:
            self.skip += 1
        if tag == "p" and not self.skip:
            if self.in_p:
                self._flush()
            self.in_p = 1
        if is_code:
            self.code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or not any(t == tag for t, _, _ in self.stack):
            return
        while self.stack:
            t, skipping, is_code = self.stack.pop()
            if skipping:
                self.skip -= 1
            if is_code:
                self.code -= 1
            if t == "p" and self.in_p:
                self._flush()
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.in_p and not self.skip:
            self.buf.append(data)
            if self.code:
                self.code_chars += len(data.strip())

    def _flush(self) -> None:
        text = norm_space("".join(self.buf))
        total = sum(not c.isspace() for c in text)
        if text and total and self.code_chars / total <= 0.15:
            self.paragraphs.append(text)
        self.buf = []
        self.code_chars = 0
        self.in_p = 0

    def close(self) -> None:
        super().close()
        if self.in_p:
            self._flush()


def html_prose(path: Path) -> Document:
    parser = ProseExtractor()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    out = []
    for p in parser.paragraphs:
        p = re.sub(r"\s+([,.;:!?])", r"\1", p.replace("¶", "")).strip()
        if is_prose(p):
            out.append(p)
    return out


def html_tree_docs(root: Path, skip: Callable[[str], bool]) -> list[Document]:
    """One document per HTML page, in sorted path order, duplicate paragraphs removed."""
    docs: list[Document] = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root).as_posix()
        if skip(rel):
            continue
        doc = html_prose(path)
        if doc:
            docs.append(doc)
    return dedupe(docs)
