"""Binary columns in the Browse grid: a size in the cell, the picture in the
tooltip when the bytes are an image."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage, QPixmap, QTextDocument

from console.app import open_services
from console.core.tables.api import open_table
from console.core.tables.browse import View
from console.gui.operations import Operations
from console.gui.table_model import GridModel


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 114, 198)).save(out, "PNG")
    return out.getvalue()


def test_binary_cells_show_a_size_and_images_a_picture(qtbot: Any, home: Path) -> None:
    services = open_services(home)
    services.tables.create("Pictures")
    picture = png(600, 300)
    open_table(services.tables, "Pictures").insert_many(
        [{"name": "photo", "data": picture}, {"name": "noise", "data": b"\x00\x01" * 1000}]
    )
    ops = Operations()
    model = GridModel(services.tables, ops)
    model.set_view(View("Pictures"))
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5000)
    column = [c.name for c in model.columns].index("data")
    model.data(model.index(0, 0))
    qtbot.waitUntil(lambda: model.is_loaded(0) and model.is_loaded(1), timeout=5000)

    photo, noise = model.index(0, column), model.index(1, column)
    assert model.data(noise) == "2.0 KB"
    assert model.data(photo).endswith(("bytes", "KB"))
    assert "binary, 2.0 KB" in model.data(noise, Qt.ItemDataRole.ToolTipRole)
    assert not model.flags(photo) & Qt.ItemFlag.ItemIsEditable

    tooltip = model.data(photo, Qt.ItemDataRole.ToolTipRole)
    assert 'width="256" height="128"' in tooltip  # scaled to fit, shape kept
    # The tooltip's rich text really yields the picture (Qt reads data: URLs).
    document = QTextDocument()
    document.setHtml(tooltip)
    source = tooltip.split('src="', 1)[1].split('"', 1)[0]
    image = document.resource(QTextDocument.ResourceType.ImageResource, QUrl(source))
    assert isinstance(image, QImage | QPixmap) and (image.width(), image.height()) == (600, 300)
    model.close()
    ops.shutdown()
    services.close()
