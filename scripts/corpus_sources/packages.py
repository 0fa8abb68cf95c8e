"""Installing a source's Debian or PyPI packages, and the versions that go in the manifest."""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
from pathlib import Path

from .source import Context, Source

LOG = logging.getLogger(__name__)


def pip_version(dist: str, ctx: Context) -> str:
    """Version of a pip-installed distribution (anywhere on sys.path, or in the cache).

    Looked for in the order the sources' finders look for their texts
    (``package_folders``: sys.path first, the builder's cache last), so that with two copies installed the
    manifest names the version of the copy that was read.
    """
    from importlib import metadata

    for path in [*sys.path, str(ctx.cache_dir / "pip")]:
        for d in metadata.distributions(path=[path]):
            if (d.metadata["Name"] or "").lower().replace("_", "-") == dist:
                return d.version
    return "unknown"


def package_folders(package: str, ctx: Context) -> list[Path]:
    """Where an importable package's files may be: its folders wherever it is installed
    first, the builder's cache (``install``'s ``pip --target``) last, the order
    ``pip_version`` reads versions in."""
    spec = importlib.util.find_spec(package)
    found = [Path(p) for p in spec.submodule_search_locations] if spec and spec.submodule_search_locations else []
    return [*found, ctx.cache_dir / "pip" / package]


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
