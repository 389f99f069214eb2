"""Renders the application icon's PNG sizes from resources/icons/app.svg.

`make icons`; the PNGs are committed, so a bundle build needs no display or SVG
tooling. Desktops pick the size they need from resources/icons/hicolor/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(svg: Path, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication(sys.argv[:1])
    icons = Path(__file__).resolve().parents[1] / "resources" / "icons"
    svg = icons / "app.svg"
    for size in SIZES:
        target = icons / "hicolor" / f"{size}x{size}" / "apps" / "mobile-console.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        render(svg, size).save(str(target))
    scalable = icons / "hicolor" / "scalable" / "apps" / "mobile-console.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(svg.read_bytes())
    render(svg, 256).save(str(icons / "app.png"))  # the bundle's executable icon
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
