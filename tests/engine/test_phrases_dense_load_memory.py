"""Loading a stored phrases file checks its counts a slice of whole contexts of about
CHECK_CHUNK entries at a time, each slice's pages handed back: a table whose contexts
have many followers (an order-2 table has fewer contexts than CHECK_CHUNK, so a chunk of
contexts would be all of it) must never have all of its counts resident at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keyboard_app.engine import phrases as phrases_module
from keyboard_app.engine.phrases import PHRASES_FORMAT, PHRASES_FORMAT_VERSION, write_aligned_npz

ID_SPACE, CONTEXTS, FOLLOWERS = 60_000, 60_000, 200  # a larger corpus's pairs: 12M entries


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_a_table_of_many_followers_a_context_is_not_resident_at_once(tmp_path):
    m = CONTEXTS * FOLLOWERS
    arrays = {"format": np.array(PHRASES_FORMAT), "format_version": np.array(PHRASES_FORMAT_VERSION),
              "vocab_size": np.array(ID_SPACE), "lexicon_size": np.array(0), "orders": np.array([2], np.int64),
              "context_2": np.arange(CONTEXTS, dtype=np.int64),
              "total_2": np.full(CONTEXTS, 3 * FOLLOWERS, np.uint32),
              "followers_2": np.full(CONTEXTS, FOLLOWERS, np.uint32),
              "next_2": ((np.arange(m) % FOLLOWERS) * (ID_SPACE // FOLLOWERS)).astype(np.uint16),
              "count_2": np.full(m, 3, np.uint32)}
    path = tmp_path / "phrases.npz"
    with open(path, "wb") as f:
        write_aligned_npz(f, arrays)
    del arrays
    size = path.stat().st_size
    script = textwrap.dedent(f"""
        import json
        from keyboard_app.engine.phrases import Phrases

        with open({str(path)!r}, "rb") as f:  # in the page cache, as at a later start
            while f.read(1 << 20):
                pass

        def status():
            fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
            return {{k: int(fields[k].split()[0]) * 1024 for k in ("VmHWM", "VmRSS")}}

        before = status()
        phrases = Phrases.load({str(path)!r}, {ID_SPACE}, 0, 1)
        after = status()
        kept = sum(t.contexts.nbytes + t.starts.nbytes for t in phrases.tables.values())
        print(json.dumps({{"peak": after["VmHWM"] - before["VmHWM"], "kept": kept, "entries": len(phrases)}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    figures = json.loads(out)
    assert figures["entries"] == m
    # the repository's own bound (tests/engine/test_phrases_load_memory.py): what stays,
    # and a few chunks' worth beyond it; count_2 alone is 48 MB
    chunk_bytes = 4 * 8 * phrases_module.CHECK_CHUNK
    assert figures["peak"] < figures["kept"] + 2 * chunk_bytes, (figures, size)
