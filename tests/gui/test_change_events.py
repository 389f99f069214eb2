"""The window redraws from change events: another process's rows reach the
open grid (SQLite's data_version, PostgreSQL's LISTEN/NOTIFY); Ctrl+End
works before the count; a cancelled sort leaves the grid usable."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from console.core.tables.api import open_table
from console.core.tables.browse import Filter, View
from console.gui import create_window
from console.gui.main_window import MainWindow
from console.gui.operations import Op
from console.gui.pages.data import DataPage, TableView


@pytest.fixture
def db_window(qtbot: Any, home: Path, db_url: str) -> Iterator[MainWindow]:
    win = create_window(home, db_url)
    qtbot.addWidget(win)
    win.show()
    yield win


def show_table(window: MainWindow, qtbot: Any, name: str, rows: int) -> TableView:
    window.show_page("Data")
    page = window.pages["Data"]
    assert isinstance(page, DataPage)
    qtbot.waitUntil(lambda: page.tables.rowCount() >= 1, timeout=5000)
    page.open_table(name)
    qtbot.waitUntil(lambda: page.table_view.model.rowCount() == rows, timeout=5000)
    return page.table_view


def column(view: TableView, name: str) -> int:
    return [c.name for c in view.model.columns].index(name)


def test_rows_another_process_inserts_show_as_new_rows(
    db_window: MainWindow, qtbot: Any, home: Path, db_url: str
) -> None:
    services = db_window.services
    assert services is not None
    services.tables.create("Things")
    open_table(services.tables, "Things").insert_many([{"n": i} for i in range(300)])
    services.jobs.create(
        "adder",
        script="def adder():\n    tables.get_table('Things').insert_many("
        "[{'n': 1000 + i} for i in range(12)])\n",
    )
    view = show_table(db_window, qtbot, "Things", 300)
    assert db_window.changes is not None and db_window.changes.wait_listening()
    command = ["--home", str(home), "--db", db_url, "job", "run", "adder"]
    done = subprocess.run(
        [sys.executable, "-m", "console", *command],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    qtbot.waitUntil(lambda: view.new_rows.isVisible(), timeout=10000)
    assert view.new_rows.text() == "12 new rows"
    assert view.model.rowCount() == 300  # the user's place is kept until asked
    view.new_rows.click()
    qtbot.waitUntil(lambda: view.model.rowCount() == 312, timeout=5000)


def test_ctrl_end_before_the_count_goes_to_the_last_row(window: MainWindow, qtbot: Any) -> None:
    services = window.services
    assert services is not None
    services.tables.create("Things")
    open_table(services.tables, "Things").insert_many(
        [{"n": i, "word": f"w{i}"} for i in range(1000)]
    )
    view = show_table(window, qtbot, "Things", 1000)
    grid, model = view.grid, view.model
    grid.setFocus()
    pressed: list[int] = []

    def press_end() -> None:  # as soon as the first rows show, before any count
        if not pressed and model.rowCount():
            pressed.append(model.rowCount())
            qtbot.keyClick(grid, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)

    model.modelReset.connect(press_end)
    model.set_view(View("Things", filters=(Filter("word", "contains", "w"),)))
    qtbot.waitUntil(lambda: bool(pressed), timeout=5000)
    assert pressed == [200]  # only the first page was known then
    qtbot.waitUntil(lambda: grid.currentIndex().row() == 999, timeout=10000)
    qtbot.waitUntil(lambda: model.is_loaded(999), timeout=10000)
    assert model.data(model.index(999, column(view, "n"))) == "999"
    qtbot.keyClick(grid, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    assert grid.currentIndex().row() == 0


def test_a_cancelled_sort_leaves_the_grid_usable(window: MainWindow, qtbot: Any) -> None:
    services = window.services
    assert services is not None
    services.tables.create("Things")
    open_table(services.tables, "Things").insert_many([{"n": i} for i in range(500)])
    view = show_table(window, qtbot, "Things", 500)
    model = view.model
    n = column(view, "n")

    # The sort is still reading when the user clicks Cancel beside "Sorting by n…"
    # (held behind another read on the grid's lane, so it is, whatever the machine).
    gate = threading.Event()
    window.tasks.run(Op(lambda _p: gate.wait(10)), lane=model.lane)
    model.sort(n, Qt.SortOrder.DescendingOrder)
    assert model.loading
    qtbot.waitUntil(view.busy.isVisible, timeout=5000)  # a moment later, the busy bar
    assert view.busy_text.text() == "Sorting by n…"
    open_table(services.tables, "Things").insert({"n": 500})  # a row comes while the sort reads
    view.busy_cancel.click()
    gate.set()
    qtbot.waitUntil(lambda: "sort by n cancelled" in view.error.text(), timeout=5000)
    qtbot.waitUntil(lambda: not model.loading and model.is_loaded(0), timeout=5000)
    assert model.view == View("Things")  # the view from before, shown in full
    assert model.rowCount() == 500
    assert model.data(model.index(0, n)) == "0"
    # the row that came meanwhile is offered, as for any open view
    qtbot.waitUntil(view.new_rows.isVisible, timeout=5000)
    assert view.new_rows.text() == "1 new row"
    assert view.index_offer.isVisible()  # Columns › Set as index, offered
    view.index_offer.click()
    qtbot.waitUntil(
        lambda: any(c.name == "n" and c.indexed for c in view.columns.records()), timeout=5000
    )
    model.sort(n, Qt.SortOrder.DescendingOrder)  # and now it sorts
    qtbot.waitUntil(lambda: model.is_loaded(0) and model.view == View("Things", "n", True))
    assert model.data(model.index(0, n)) == "500"  # the row added during the first try


def test_a_big_table_is_listed_at_once_with_an_estimate_then_counted(
    window: MainWindow, qtbot: Any
) -> None:
    services = window.services
    assert services is not None
    services.tables.create("Big")
    big = open_table(services.tables, "Big")
    big.insert_many({"n": i} for i in range(60_001))
    big.delete_many(range(2, 1002))  # the id range now overstates the rows by 1,000
    window.show_page("Data")
    page = window.pages["Data"]
    assert isinstance(page, DataPage)
    shown: list[str] = []

    def seen(*_args: Any) -> None:
        if page.tables.rowCount():
            shown.append(page.tables.record(0).shown)

    page.tables.modelReset.connect(seen)
    page.tables.dataChanged.connect(seen)
    page.refresh()
    qtbot.waitUntil(lambda: "59,001" in shown, timeout=10000)
    assert shown[shown.index("59,001") - 1] == "≈ 60,001"  # at once, marked, then exact

    # Opened, the grid says the estimate at once and the exact count after
    # its first rows (the count waits for them, off the CPU of their paint).
    statuses: list[str] = []
    page.table_view.model.count_changed.connect(
        lambda *_: statuses.append(page.table_view.status.text())
    )
    page.open_table("Big")
    qtbot.waitUntil(lambda: "59,001 rows" in statuses, timeout=10000)
    assert statuses[0] == "≈ 60,001 rows"
