"""Nothing leaves a trace for an online collector: onnxruntime's usage telemetry is off before
it is imported (it wrote a device id and an event queue under ~/.cache/Microsoft)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_loading_a_model_writes_no_telemetry_files(tmp_path, tiny_bundle):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    code = ("import sys; from keyboard_app.engine.predictor import Predictor; "
            "p = Predictor.load(sys.argv[1]); print(len(p.suggest('the ', 3)))")
    done = subprocess.run([sys.executable, "-c", code, str(tiny_bundle)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not (home / ".cache" / "Microsoft").exists()
    assert not any(p.name in ("deviceid", "onnxruntime.db") for p in home.rglob("*"))
