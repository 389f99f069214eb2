"""The Create dialog offers the periodic-task templates."""

from __future__ import annotations

from typing import Any

from console.gui.dialogs import CreateJobDialog


def test_the_create_dialog_lists_every_template(qtbot: Any) -> None:
    dialog = CreateJobDialog(set())
    qtbot.addWidget(dialog)
    offered = [dialog.template.itemData(i) for i in range(dialog.template.count())]
    for name in ("getUpdates", "archiveOld", "removeDuplicates", "getFeed", "makeThumbnails"):
        assert name in offered
