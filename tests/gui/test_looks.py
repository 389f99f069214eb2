"""How the window reads: one alignment rule for every table in it."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QTableView

from console.gui.main_window import MainWindow
from console.gui.pages.data import DataPage
from console.gui.pages.scheduler import SchedulerPage

ALIGN = Qt.ItemDataRole.TextAlignmentRole
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
#: A number as the tables show one: a count, a size, a duration ("1.2 s").
NUMBER = re.compile(r"^≈?\s?-?[\d,.]+\s?(s|ms|KB|MB|bytes)?$")

WRITER = """def looks():
    tables.get_table('Notes', create=True).insert({'text': 'hi there', 'n': 3, 'x': 2.5})
    print('wrote one note')
"""


def _models(window: MainWindow) -> dict[int, tuple[str, QAbstractItemModel]]:
    found: dict[int, tuple[str, QAbstractItemModel]] = {}
    for view in window.findChildren(QTableView):
        model = view.model()
        if model is not None:
            found[id(model)] = (type(model).__name__, model)
    return found


def test_every_tables_headers_sit_like_their_values(window: MainWindow, qtbot: Any) -> None:
    """Numbers right, text and dates left, and each header like its column's values."""
    services = window.services
    assert services is not None
    job = services.jobs.create("looks", interval=1, unit="hour", script=WRITER)
    assert services.runner.run("looks").status == "succeeded"
    services.workers.register("alpha")
    for name in ("Logs", "Configure", "Dashboard"):
        window.show_page(name)
    data = window.pages["Data"]
    assert isinstance(data, DataPage)
    window.show_page("Data")
    qtbot.waitUntil(lambda: data.tables.rowCount() == 1, timeout=5000)
    data.open_table("Notes")
    window.show_page("Scheduler")
    scheduler = window.pages["Scheduler"]
    assert isinstance(scheduler, SchedulerPage)
    scheduler.open_job(job)
    history = scheduler.job_view.history
    scheduler.job_view.tabs.setCurrentWidget(history)
    qtbot.waitUntil(lambda: history.run_log.rowCount() > 0, timeout=5000)
    models = _models(window)
    qtbot.waitUntil(lambda: sum(m.rowCount() > 0 for _, m in models.values()) >= 10, timeout=5000)

    filled = 0
    for name, model in models.values():
        for column in range(model.columnCount()):
            header = model.headerData(column, Qt.Orientation.Horizontal, ALIGN)
            title = model.headerData(column, Qt.Orientation.Horizontal)
            assert header in (LEFT, RIGHT), f"{name} {title}: header alignment {header}"
            if model.rowCount() == 0:
                continue
            index = model.index(0, column)
            text = str(index.data() or "")
            value = model.data(index, ALIGN)
            assert value == header, f"{name} {title}: header {header}, value {value}"
            if text:
                expected = RIGHT if NUMBER.match(text) else LEFT
                assert value == expected, f"{name} {title}: {text!r} sits {value}"
        filled += model.rowCount() > 0
    assert filled >= 10  # runs, logs, settings, workers, tables, the grid…
