#!/usr/bin/env python3
"""What choosing each corpus file's encoding costs (``model_training.corpus.text_encoding``).

``find_files`` reads every file once more, before the two passes, to tell UTF-8
from Windows-1252 by all of its bytes (the two passes must decode a file the
same way, and a file's first invalid byte may come late).  This prints, in one
process, for the corpus given (default: ``corpus/train``):

* **scan**: ``text_encoding`` over every file, as ``find_files`` runs it: one
  strict UTF-8 decode a block for a valid file;
* **scan, Windows-1252 copy**: the same files saved as Windows-1252 (characters
  it lacks dropped), the slower path: decoded with replacement and counted;
* **count pass**: ``count_corpus_tokens``, the first of the two passes every run
  makes anyway (tokenizing and counting), the baseline;

and the scans' times as a share of the count pass.  Each is the best of
``--repeat`` runs (the files in the page cache after the first).

Usage::

    python benchmarks/corpus_encoding.py [CORPUS ...] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", nargs="*", default=[str(REPO / "corpus" / "train")])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)

    from keyboard_app.engine.tokenizer import Tokenizer
    from model_training.corpus import find_files, heldout_splits, text_encoding
    from model_training.vocabulary import count_corpus_tokens

    files = find_files(args.corpus)
    total = sum(f.size for f in files)
    splits = heldout_splits(files, 0.1, 1_500_000)
    scan = best_of(args.repeat, lambda: [text_encoding(f.path) for f in files])
    count = best_of(args.repeat, lambda: count_corpus_tokens(files, splits, Tokenizer()))
    with tempfile.TemporaryDirectory(prefix="corpus-cp1252-") as tmp:
        copies = []
        for f in files:
            copy = Path(tmp) / f.path.name
            copy.write_bytes(f.path.read_text(encoding="utf-8", errors="replace").encode("cp1252", "ignore"))
            copies.append(copy)
        chosen = {text_encoding(c).codec for c in copies}
        legacy = best_of(args.repeat, lambda: [text_encoding(c) for c in copies])
    print(f"{len(files)} files, {total / 1e6:.1f} MB (best of {args.repeat})")
    print(f"scan (UTF-8 files):          {scan:7.3f} s  {total / 1e6 / scan:7.1f} MB/s  "
          f"{scan / count:6.1%} of the count pass")
    print(f"scan (Windows-1252 copies):  {legacy:7.3f} s  {total / 1e6 / legacy:7.1f} MB/s  "
          f"{legacy / count:6.1%} of the count pass  (read as {', '.join(sorted(chosen))})")
    print(f"count pass (baseline):       {count:7.3f} s  {total / 1e6 / count:7.1f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
