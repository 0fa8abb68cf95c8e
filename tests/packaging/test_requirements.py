"""pyproject.toml's requirements: each platform gets one torch, the CPU build."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _torch_for(platform: str) -> list[str]:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    environment = {"sys_platform": platform, "python_version": "3.11", "extra": "train"}
    found = [Requirement(line) for line in extras["train"]]
    return [str(r.specifier) for r in found if r.name == "torch" and (r.marker is None or r.marker.evaluate(environment))]


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_linux_and_windows_pin_the_cpu_build(platform):
    # a bare version there is PyPI's CUDA build, gigabytes the app never uses
    assert _torch_for(platform) == ["==2.13.0+cpu"]


def test_macos_gets_a_version_that_exists_there():
    # PyTorch's macOS wheels have no +cpu tag (they are CPU and MPS builds): "+cpu" found nothing
    assert _torch_for("darwin") == ["==2.13.0"]
