"""scripts/corpus_sources: the R data reader and the HTML prose extraction, on small crafted inputs.

The R inputs are written here byte by byte in R's XDR serialization format;
one test also reads the installed janeaustenr package and checks it against
R itself, where both are installed.
"""

from __future__ import annotations

import gzip
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from corpus_sources import rdata  # noqa: E402
from corpus_sources.html_prose import html_prose, html_tree_docs  # noqa: E402

# --------------------------------------------------------------------------
# R's XDR serialization, written by hand
# --------------------------------------------------------------------------
NILVALUE, SYMSXP, LISTSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP, REFSXP = (
    254, 1, 2, 9, 10, 13, 14, 16, 19, 255)
HAS_ATTR, HAS_TAG = 1 << 9, 1 << 10
UTF8, LATIN1 = 1 << 15, 1 << 14  # CHARSXP encoding bits (gp 8 and 4, shifted by 12)


def i32(*values: int) -> bytes:
    return struct.pack(f">{len(values)}i", *values)


def char(text: str | None, encoding: int = UTF8) -> bytes:
    if text is None:
        return i32(CHARSXP, -1)  # NA_character_
    data = text.encode("latin-1" if encoding == LATIN1 else "utf-8")
    return i32(CHARSXP | encoding, len(data)) + data


def names_attr(names: list[str], symbol_ref: int | None = None) -> bytes:
    """A pairlist holding one tagged entry, names = c(...); the tag as a new symbol or a reference."""
    tag = i32(REFSXP | (symbol_ref << 8)) if symbol_ref else i32(SYMSXP) + char("names")
    return i32(LISTSXP | HAS_TAG) + tag + strings(names) + i32(NILVALUE)


def strings(values: list[str | None], attr: bytes = b"") -> bytes:
    return i32(STRSXP | (HAS_ATTR if attr else 0), len(values)) + b"".join(map(char, values)) + attr


def integers(values: list[int], attr: bytes = b"") -> bytes:
    return i32(INTSXP | (HAS_ATTR if attr else 0), len(values)) + i32(*values) + attr


def vector(items: list[bytes], attr: bytes = b"") -> bytes:
    return i32(VECSXP | (HAS_ATTR if attr else 0), len(items)) + b"".join(items) + attr


def serialized(item: bytes, version: int = 3) -> bytes:
    head = b"X\n" + i32(version, 0x040201, 0x030500)  # format, R 4.2.1, readable from R 3.5.0
    if version == 3:
        head += i32(5) + b"UTF-8"
    return head + item


def read(item: bytes, version: int = 3) -> object:
    return rdata.RUnserializer(serialized(item, version)).read()


@pytest.mark.parametrize("version", [2, 3])
def test_a_character_vector_is_read_with_its_encodings_and_missing_values(version):
    item = i32(STRSXP, 4) + char("Emma") + char("Zoë") + char("café", LATIN1) + char(None)
    assert read(item, version) == ("vec", STRSXP, ["Emma", "Zoë", "café", None], None)


def test_numbers_are_read_big_endian():
    assert read(integers([1, -2, 2**31 - 1])) == ("vec", INTSXP, [1, -2, 2**31 - 1], None)
    real = i32(REALSXP, 2) + struct.pack(">2d", 0.5, -1e300)
    assert read(real) == ("vec", REALSXP, [0.5, -1e300], None)


def test_the_names_attribute_is_read_and_found():
    value = read(strings(["a", "b"], attr=names_attr(["first", "second"])))
    assert value[:3] == ("vec", STRSXP, ["a", "b"])
    assert rdata.r_names(value[3]) == ["first", "second"]
    assert rdata.r_names(None) == []


def test_a_reference_reuses_a_symbol_read_earlier():
    item = vector([strings(["x"], attr=names_attr(["one"])),
                   strings(["y"], attr=names_attr(["two"], symbol_ref=1))])
    _vec, _type, (first, second), _attr = read(item)
    assert rdata.r_names(first[3]) == ["one"]
    assert rdata.r_names(second[3]) == ["two"]  # the tag is reference 1, the symbol "names"


def test_other_formats_are_refused():
    with pytest.raises(ValueError, match="not an XDR"):
        rdata.RUnserializer(b"A\n" + bytes(20)).read()  # R's ASCII format
    with pytest.raises(ValueError, match="unsupported R SEXP type 99"):
        read(i32(99))


def write_lazyload(folder: Path, objects: dict[str, bytes]) -> None:
    """Rdata.rdx (the gzipped index) and Rdata.rdb (each object zlib-compressed after its length)."""
    rdb, locations = b"", []
    for item in objects.values():
        raw = serialized(item)
        blob = struct.pack(">i", len(raw)) + zlib.compress(raw)
        locations.append(integers([len(rdb), len(blob)]))
        rdb += blob
    variables = vector(locations, attr=names_attr(list(objects)))
    index = vector([variables, vector([]), i32(LGLSXP, 1, 1)],  # variables, references, compressed
                   attr=names_attr(["variables", "references", "compressed"], symbol_ref=1))
    (folder / "Rdata.rdb").write_bytes(rdb)
    (folder / "Rdata.rdx").write_bytes(gzip.compress(serialized(index)))


def test_a_lazy_load_database_gives_every_object_by_name(tmp_path):
    write_lazyload(tmp_path, {"emma": strings(["EMMA", "", "Chapter 1"]), "counts": integers([3, 1])})
    objects = rdata.read_r_lazyload(tmp_path)
    assert objects == {"emma": ("vec", STRSXP, ["EMMA", "", "Chapter 1"], None),
                       "counts": ("vec", INTSXP, [3, 1], None)}


JANEAUSTENR = Path("/usr/lib/R/site-library/janeaustenr/data")


@pytest.mark.skipif(not (JANEAUSTENR / "Rdata.rdx").is_file() or shutil.which("Rscript") is None,
                    reason="needs Debian's r-cran-janeaustenr and R")
def test_the_installed_austen_novels_read_as_r_reads_them():
    objects = rdata.read_r_lazyload(JANEAUSTENR)
    script = "library(janeaustenr); x <- emma; cat(length(x), sum(nchar(x)), x[length(x)], sep='\\n')"
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        pytest.skip(f"R cannot load janeaustenr: {out.stderr[-300:]}")
    length, chars, last = out.stdout.split("\n")[:3]
    emma = objects["emma"][2]
    assert (len(emma), sum(len(line or "") for line in emma), emma[-1]) == (int(length), int(chars), last)


# --------------------------------------------------------------------------
# HTML prose
# --------------------------------------------------------------------------
PAGE = """<html><head><title>Tutorial</title><style>p { color: red }</style></head><body>
<div class="sphinxsidebar"><p>Navigation text that is long enough to count as prose.</p></div>
<div role="navigation"><p>Previous topic and next topic are both linked from here.</p></div>
<h1>An informal introduction</h1>
<p>Python is an easy to learn, powerful programming language. ¶</p>
<p>It has efficient high-level data structures<br>and a simple approach , to objects.
<p>Call <code>print_function_name()</code> and <code>other_call()</code> to see it.</p>
<pre><p>Inside a pre block this paragraph never counts at all.</p></pre>
<table><tr><td><p>A table cell holds this sentence of five words.</p></td></tr></table>
<p>Too short.</p>
<p>The <em>interpreter</em> &amp; its <a href="x.html">standard library</a> are freely available.</p>
</body></html>
"""


def test_only_prose_paragraphs_outside_navigation_code_and_tables_are_kept(tmp_path):
    page = tmp_path / "tutorial.html"
    page.write_text(PAGE, encoding="utf-8")
    assert html_prose(page) == [
        "Python is an easy to learn, powerful programming language.",
        "It has efficient high-level data structures and a simple approach, to objects.",
        "The interpreter & its standard library are freely available.",
    ]


@pytest.mark.parametrize("paragraph, kept", [
    ("<p>Use the value from the configuration file when it is present.</p>", True),
    ("<p>Set <code>x</code> to the value from the configuration file when present.</p>", True),  # 1 code char
    ("<p>Set <code>configuration_value</code> from the file when it is there.</p>", False),  # > 15% code
    ("<p>Set <span class=\"pre\">configuration_value</span> from the file when it is there.</p>", False),
    ("<div class=\"highlight\"><p>Highlighted blocks are examples, never prose of the manual.</p></div>", False),
    ("<p>Headings such as this one</p>", False),  # no final punctuation
])
def test_code_heavy_and_unfinished_paragraphs_are_dropped(tmp_path, paragraph, kept):
    page = tmp_path / "page.html"
    page.write_text(f"<html><body>{paragraph}</body></html>", encoding="utf-8")
    assert bool(html_prose(page)) is kept


def test_a_paragraph_left_open_at_the_end_of_the_page_is_kept(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<body><p>The last paragraph of this page is never closed at all.", encoding="utf-8")
    assert html_prose(page) == ["The last paragraph of this page is never closed at all."]


def test_a_tree_gives_one_document_per_page_in_path_order_without_repeats(tmp_path):
    pages = {
        "b/second.html": "<p>A sentence that every page repeats in its footer area.</p>"
                         "<p>The second page says something of its own here.</p>",
        "a/first.html": "<p>The first page says something of its own here.</p>"
                        "<p>A sentence that every page repeats in its footer area.</p>",
        "genindex.html": "<p>The index page is skipped by the rule given to the tree.</p>",
        "c/empty.html": "<p>Short.</p>",
        "notes.txt": "<p>Not an HTML file, so it is never read by the tree walk.</p>",
    }
    for rel, body in pages.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    docs = html_tree_docs(tmp_path, skip=lambda rel: rel.startswith("genindex"))
    assert docs == [
        ["The first page says something of its own here.",
         "A sentence that every page repeats in its footer area."],
        ["The second page says something of its own here."],
    ]
