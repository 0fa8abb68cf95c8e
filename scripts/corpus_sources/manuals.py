"""Documentation prose: the Python, PostgreSQL and Django manuals and LibreOffice's help (Debian packages)."""

from __future__ import annotations

import re
from pathlib import Path

from .html_prose import html_tree_docs
from .source import Context
from .text import Document

PY_DOC = Path("/usr/share/doc/python3.11/html")
PG_DOC = Path("/usr/share/doc/postgresql-doc-15/html")
DJ_DOC = Path("/usr/share/doc/python-django-doc/html")
LO_HELP = Path("/usr/share/libreoffice/help/en-US")

_SPHINX_SKIP = re.compile(r"^(_|genindex|py-modindex|search|copyright|license|bugs|about|contents|"
                          r"glossary|releases/|internals/contributing/|download)")


def extract_python_docs(ctx: Context) -> list[Document]:
    return html_tree_docs(PY_DOC, lambda rel: bool(_SPHINX_SKIP.match(rel)) or rel.startswith("whatsnew/changelog"))


def extract_postgresql_docs(ctx: Context) -> list[Document]:
    return html_tree_docs(PG_DOC, lambda rel: rel.startswith(("release", "legalnotice", "bookindex",
                                                              "index.html", "biblio", "docguide")))


def extract_django_docs(ctx: Context) -> list[Document]:
    return html_tree_docs(DJ_DOC, lambda rel: bool(_SPHINX_SKIP.match(rel)))


def extract_libreoffice_help(ctx: Context) -> list[Document]:
    return html_tree_docs(LO_HELP, lambda rel: not rel.startswith("text/") or "/00/" in rel)
