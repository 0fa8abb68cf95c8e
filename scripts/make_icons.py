"""Draw the application icon: an SVG master, PNG sizes, a Windows .ico and a macOS .icns.

The icon is a blue rounded tile with a suggestion strip (three pills, the
first one lit) above a small keyboard.  The SVGs below are the source of
truth (a simpler one for 16 and 24 px); the PNGs are rendered from it with Qt's SVG renderer (QPainter), and
the .ico/.icns files are packed here from those PNGs (both formats accept
PNG-compressed entries), so no image tool beyond PySide6 is needed.

Run it from the repository root after changing the drawing::

    .venv/bin/python scripts/make_icons.py          # writes assets/icons/

The outputs are committed; the build does not run this script.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

NAME = "keyboard-app"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns entry type for each PNG size (the retina variants reuse the larger PNGs).
ICNS_TYPES = (("icp4", 16), ("icp5", 32), ("icp6", 64), ("ic07", 128), ("ic08", 256),
              ("ic09", 512), ("ic11", 32), ("ic12", 64), ("ic13", 256), ("ic14", 512))

# 256 x 256 design grid, rendered at 32 px and up.
SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <title>Predictive Keyboard</title>
  <defs>
    <linearGradient id="tile" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#3b82f6"/>
      <stop offset="1" stop-color="#1e4fb8"/>
    </linearGradient>
  </defs>
  <rect x="8" y="8" width="240" height="240" rx="52" fill="url(#tile)"/>
  <!-- suggestion strip: three pills, the first one chosen -->
  <rect x="30" y="44" width="62" height="34" rx="17" fill="#fbbf24"/>
  <rect x="98" y="44" width="62" height="34" rx="17" fill="#ffffff" fill-opacity="0.9"/>
  <rect x="166" y="44" width="62" height="34" rx="17" fill="#ffffff" fill-opacity="0.9"/>
  <!-- keyboard -->
  <rect x="30" y="100" width="198" height="116" rx="20" fill="#ffffff"/>
  <g fill="#1e4fb8">
    <rect x="46" y="116" width="28" height="24" rx="6"/>
    <rect x="82" y="116" width="28" height="24" rx="6"/>
    <rect x="118" y="116" width="28" height="24" rx="6"/>
    <rect x="154" y="116" width="28" height="24" rx="6"/>
    <rect x="190" y="116" width="22" height="24" rx="6"/>
    <rect x="46" y="148" width="22" height="24" rx="6"/>
    <rect x="76" y="148" width="28" height="24" rx="6"/>
    <rect x="112" y="148" width="28" height="24" rx="6"/>
    <rect x="148" y="148" width="28" height="24" rx="6"/>
    <rect x="184" y="148" width="28" height="24" rx="6"/>
    <rect x="72" y="180" width="114" height="22" rx="8"/>
  </g>
</svg>
"""

# The same picture with fewer, bigger shapes for 16-24 px, where the full
# keyboard's keys would blur into one another.
SMALL_SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <rect x="0" y="0" width="256" height="256" rx="48" fill="#2563eb"/>
  <rect x="24" y="32" width="96" height="48" rx="16" fill="#fbbf24"/>
  <rect x="136" y="32" width="96" height="48" rx="16" fill="#ffffff"/>
  <rect x="24" y="104" width="208" height="128" rx="24" fill="#ffffff"/>
  <g fill="#1e4fb8">
    <rect x="48" y="128" width="48" height="32" rx="4"/>
    <rect x="112" y="128" width="32" height="32" rx="4"/>
    <rect x="160" y="128" width="48" height="32" rx="4"/>
    <rect x="64" y="176" width="128" height="32" rx="4"/>
  </g>
</svg>
"""
SMALL_MAX = 24


def render_png(svg_bytes: bytes, size: int) -> bytes:
    """Render the SVG to a square PNG of ``size`` pixels (antialiased, transparent)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg_bytes))
    if not renderer.isValid():
        raise ValueError("the icon SVG does not parse")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"cannot encode the {size} px PNG")
    buffer.close()
    return bytes(data.data())


def pack_ico(pngs: dict[int, bytes]) -> bytes:
    """A .ico with one PNG-compressed image per size (Windows Vista and later read these)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = [], []
    for size in sizes:
        png = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in the directory entry
        entries.append(struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset))
        blobs.append(png)
        offset += len(png)
    return header + b"".join(entries) + b"".join(blobs)


def pack_icns(pngs: dict[int, bytes]) -> bytes:
    """A .icns with PNG entries (macOS 10.7 and later)."""
    body = b"".join(
        kind.encode("ascii") + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
        for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write_icons(out: Path) -> list[Path]:
    """Write the SVG, the PNG sizes, the .ico and the .icns into ``out``; return their paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([])  # QImage text/AA needs a Gui app
    out.mkdir(parents=True, exist_ok=True)
    svg, small_svg = SVG.encode("utf-8"), SMALL_SVG.encode("utf-8")
    written = [out / f"{NAME}.svg"]
    written[0].write_bytes(svg)
    pngs = {size: render_png(small_svg if size <= SMALL_MAX else svg, size)
            for size in sorted(set(PNG_SIZES) | set(ICO_SIZES))}
    for size in PNG_SIZES:
        path = out / f"{NAME}-{size}.png"
        path.write_bytes(pngs[size])
        written.append(path)
    for path, data in ((out / f"{NAME}.ico", pack_ico({s: pngs[s] for s in ICO_SIZES})),
                       (out / f"{NAME}.icns", pack_icns(pngs))):
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent.parent / "assets" / "icons",
                        help="output folder (default: assets/icons)")
    args = parser.parse_args(argv)
    for path in write_icons(args.out):
        print(f"{path}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
