"""How the grid shows a binary value: its size in the cell, and the picture
itself in the tooltip when the bytes are an image."""

from __future__ import annotations

import base64

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImageReader

PREVIEW_SIDE = 256  # the tooltip's picture fits in this square
PREVIEW_MAX_BYTES = 2_000_000  # larger images are named, not drawn, in a tooltip

# Signatures of the image formats Qt reads out of the box.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


def binary_text(value: bytes) -> str:
    """The cell's text: the size, in words a person reads."""
    size = len(value)
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def image_type(value: bytes) -> str | None:
    """The MIME type of an image the bytes hold, by their signature."""
    for signature, mime in _SIGNATURES:
        if value.startswith(signature):
            return mime
    return None


def binary_tooltip(value: bytes) -> str:
    """Rich text for the tooltip: the picture (scaled to fit) for an image,
    else the size. Only the image's header is read to size it."""
    mime = image_type(value)
    if mime is None:
        return f"binary, {binary_text(value)}"
    if len(value) > PREVIEW_MAX_BYTES:
        return f"{mime} image, {binary_text(value)} (too large to preview)"
    buffer = QBuffer()
    buffer.setData(QByteArray(value))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    size = QImageReader(buffer).size()
    if not size.isValid() or size.isEmpty():
        return f"{mime}, {binary_text(value)} (not a readable image)"
    if size.width() > PREVIEW_SIDE or size.height() > PREVIEW_SIDE:
        size = size.scaled(PREVIEW_SIDE, PREVIEW_SIDE, Qt.AspectRatioMode.KeepAspectRatio)
    data = base64.b64encode(value).decode("ascii")
    return (
        f'<img src="data:{mime};base64,{data}" width="{size.width()}" '
        f'height="{size.height()}"><br>{mime}, {binary_text(value)}'
    )
