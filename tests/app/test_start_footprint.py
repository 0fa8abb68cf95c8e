"""What a later start of the app leaves out until it is needed, seen at its first
suggestions in real starts of the app, each in a process of its own:

* OpenSSL's libcrypto: the socket's name is hashed with CPython's own SHA-256
  (``paths``), and hashlib, which maps libcrypto, is imported only where a bundle's
  file is hashed, which the checksum memo spares a later start;
* the on-screen keyboard's modules: the window's menu entry imports them when it is
  first used (``MainWindow._toggle_on_screen_keyboard``);
* the source lines PySide6 reads of every module imported after it, which Python's
  ``linecache`` would keep (``ui.app.forget_source_lines``)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/maps")

# The app, run as ``python -m keyboard_app`` runs it, noting at its first suggestions
# what is mapped and imported, and the socket's name.
PROBE = textwrap.dedent("""
    import json, linecache, runpy, sys
    from keyboard_app import paths
    from keyboard_app.engine.predictor import Predictor

    suggest, seen = Predictor.suggest, []

    def noting(self, *args, **kwargs):
        result = suggest(self, *args, **kwargs)
        if not seen:
            with open("/proc/self/maps") as f:
                mapped = any("libcrypto" in line for line in f)
            seen.append({"libcrypto": mapped, "hashlib": "hashlib" in sys.modules,
                         "osk": sorted(m for m in sys.modules if m.startswith("keyboard_app.osk")),
                         "name": paths.single_instance_name(), "data": str(paths.user_data_dir().resolve()),
                         "sources": sorted(linecache.cache)})
        return result

    Predictor.suggest = noting
    sys.argv = ["keyboard_app", "--quit-after", "0.5"]
    try:
        runpy.run_module("keyboard_app", run_name="__main__")
    except SystemExit:
        pass
    print("PROBE " + json.dumps(seen[0]))
""")


def start(home: Path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(home / "data"),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache")}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in out.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, out.stderr[-3000:]
    return json.loads(lines[-1][len("PROBE "):])


@pytest.fixture(scope="module")
def starts(tmp_path_factory) -> tuple[dict, dict]:
    home = tmp_path_factory.mktemp("user")
    first = start(home)  # hashes the bundle's files and remembers their checksums
    return first, start(home)


def test_a_later_start_reaches_its_first_suggestions_without_openssl(starts):
    first, later = starts
    assert first["hashlib"]  # (so the probe sees it where a file is hashed)
    assert not later["hashlib"] and not later["libcrypto"]
    # the same name as hashlib's SHA-256 gives: a copy started by an older version finds it
    expected = "keyboard-app-" + hashlib.sha256(later["data"].encode("utf-8")).hexdigest()[:16]
    assert later["name"] == first["name"] == expected


def test_the_on_screen_keyboard_is_not_imported_at_the_start(starts):
    assert starts[0]["osk"] == starts[1]["osk"] == []


def test_the_source_lines_read_at_the_start_are_not_kept(starts):
    """PySide6 reads the source of each module imported after it (the window's, the
    standard library's): none of those read before the model loads is still held."""
    for seen in starts:
        held = [name for name in seen["sources"] if name.endswith(("main_window.py", "editor.py"))]
        assert held == []

