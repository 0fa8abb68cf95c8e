"""What a corpus source is, and the paths its extractor is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .text import Document


@dataclass
class Source:
    """One corpus source: how to get it and how to turn it into documents."""

    name: str
    description: str
    licence: str
    apt: tuple[str, ...] = ()
    pip: tuple[str, ...] = ()
    extract: Callable[["Context"], list[Document]] | None = None
    version_of: str = ""  # the package whose version goes in the manifest


@dataclass
class Context:
    """Paths shared by the extractors."""

    cache_dir: Path
    sotu_dir: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)
