"""The icons and the desktop entry that the build and Linux desktops use."""

from __future__ import annotations

import configparser
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "assets" / "icons"
sys.path.insert(0, str(ROOT / "scripts"))
import make_icons  # noqa: E402


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("size", make_icons.PNG_SIZES)
def test_each_png_has_the_size_its_name_says(size):
    assert png_size((ICONS / f"{make_icons.NAME}-{size}.png").read_bytes()) == (size, size)


def test_the_svg_is_the_one_the_script_draws():
    assert (ICONS / f"{make_icons.NAME}.svg").read_text(encoding="utf-8") == make_icons.SVG


def test_the_windows_icon_holds_every_size_as_png():
    data = (ICONS / f"{make_icons.NAME}.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, len(make_icons.ICO_SIZES))
    sizes = []
    for i in range(count):
        width, _h, _c, _r, _p, _bpp, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert png_size(data[offset: offset + length])[0] == (width or 256)
        sizes.append(width or 256)
    assert sizes == sorted(make_icons.ICO_SIZES)


def test_the_macos_icon_is_a_well_formed_icns():
    data = (ICONS / f"{make_icons.NAME}.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    at, kinds = 8, []
    while at < len(data):
        kind, length = data[at: at + 4].decode(), struct.unpack(">I", data[at + 4: at + 8])[0]
        assert data[at + 8: at + 16] == b"\x89PNG\r\n\x1a\n"
        kinds.append(kind)
        at += length
    assert at == len(data) and kinds == [k for k, _ in make_icons.ICNS_TYPES]


def test_the_desktop_entry_starts_the_app_with_its_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(ROOT / "assets" / "keyboard-app.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Exec"].split()[0] == "keyboard-app"  # the gui-script and the frozen program
    assert section["Icon"] == make_icons.NAME
    assert section["Terminal"] == "false"
    assert section["Categories"].endswith(";")
