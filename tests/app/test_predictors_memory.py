"""After a model load the C heap's free pages go back to the system
(``predictors.release_free_memory``): a load's freed temporaries are not counted in
the app's memory until something happens to reuse them."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import textwrap

import pytest


@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim")
def test_freed_memory_in_the_middle_of_the_heap_is_handed_back():
    # 40 MB in 2 KB blocks (malloc's, not Python's small-object arenas), all freed but the
    # last, which keeps the heap from shrinking by itself: resident until trimmed
    script = textwrap.dedent("""
        import json
        from keyboard_app.predictors import release_free_memory

        def resident():
            fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
            return int(fields["VmRSS"].split()[0]) * 1024

        blocks = [bytes(2048) for _ in range(20_000)]
        kept = blocks[-1]
        del blocks
        before = resident()
        release_free_memory()
        print(json.dumps({"released": before - resident()}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["released"] > 20 * 2**20

