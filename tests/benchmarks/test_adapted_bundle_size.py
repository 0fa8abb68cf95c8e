"""benchmarks/adapted_bundle_size.py run on a tiny model fine-tuned from another: its parts,
whose phrases its tables hold, and the load and adopt rows against the stored baseline."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from benchmark_scripts import ROOT


def test_it_counts_the_sources_phrases_and_times_each_form(tiny_bundle, tiny_bundle_factory, patterned_text,
                                                          tmp_path):
    own = "The frabnitz module reads the glorp table. " * 40  # phrases the source never saw
    adapted = tiny_bundle_factory(tmp_path / "adapted", patterned_text[:3000] + own, init_from=tiny_bundle,
                                  epochs=1)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks/adapted_bundle_size.py"), str(adapted),
                          "--source", str(tiny_bundle), "--runs", "1"],
                         capture_output=True, text=True, env=env, timeout=300, check=True).stdout
    for order in (2, 3):
        row = re.search(rf"order {order}: adapted ([\d,]+) entries, source ([\d,]+); ([\d,]+) \(.*?\) are the "
                        rf"source's \(([\d,]+) with the source's count\), ([\d,]+) the user's corpus's alone", out)
        assert row, out
        adapted_n, source_n, shared, same, alone = (int(g.replace(",", "")) for g in row.groups())
        assert adapted_n == shared + alone and shared <= source_n and same <= shared
        assert alone > 0  # "frabnitz module", "the glorp", ...
    for name in ("stored (today)", "compressed, copy in the cache", "compressed, no copy yet"):
        assert re.search(rf"  {re.escape(name)} +[\d.]+ ms .* [\d.]+x", out), out
    assert "adopting it" in out and "level 1" in out
