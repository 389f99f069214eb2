"""The Data page: tables created and deleted through the window, and the
Columns tab, with every bad input refused beside its field."""

from __future__ import annotations

from typing import Any

import pytest

from console.core.tables.api import open_table
from console.gui.dialogs import CreateTableDialog
from console.gui.main_window import MainWindow
from console.gui.pages import Page
from console.gui.pages.data import DataPage


def data_page(window: MainWindow) -> DataPage:
    window.show_page("Data")
    page = window.pages["Data"]
    assert isinstance(page, DataPage)
    return page


def test_create_a_table_through_the_dialog_and_a_refusal_beside_the_name(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["Updates", "Updates2"])
    shown_errors: list[str] = []

    def fill(dialog: CreateTableDialog) -> int:
        shown_errors.append(dialog.error.text())
        dialog.name.setText(next(answers, ""))
        return 1 if dialog.validate() else 0

    monkeypatch.setattr(CreateTableDialog, "exec", fill)
    page = data_page(window)
    # Another console creates "updates" after the list was read: the dialog
    # still says yes, the store says no, and the dialog comes back with why.
    window.services.tables.create("updates")
    window.command_bar.actions_by_name["Create"].trigger()
    qtbot.waitUntil(lambda: len(shown_errors) == 2, timeout=5000)
    assert "already" in shown_errors[1]
    qtbot.waitUntil(
        lambda: (
            {page.tables.record(i).info.name for i in range(page.tables.rowCount())}
            == {"updates", "Updates2"}
        ),
        timeout=5000,
    )


def test_deleting_a_table_names_its_rows(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.services.tables.create("Things")
    open_table(window.services.tables, "Things").insert_many([{"n": i} for i in range(1234)])
    asked: list[str] = []
    monkeypatch.setattr(Page, "confirm", lambda self, title, text: asked.append(text) or False)
    page = data_page(window)
    qtbot.waitUntil(
        lambda: page.tables.rowCount() == 1 and page.tables.record(0).rows == 1234,
        timeout=5000,
    )
    page.list.selectRow(0)
    window.command_bar.actions_by_name["Delete"].trigger()
    assert "Things" in asked[0] and "1,234 rows" in asked[0]
    assert (
        open_table(window.services.tables, "Things").count() == 1234
    )  # answered no: nothing changed

    monkeypatch.setattr(Page, "confirm", lambda self, title, text: True)
    window.command_bar.actions_by_name["Delete"].trigger()
    qtbot.waitUntil(lambda: page.tables.rowCount() == 0, timeout=5000)
    assert window.services.tables.all() == []


def test_columns_add_index_and_refuse_bad_input(window: MainWindow, qtbot: Any) -> None:
    tables = window.services.tables
    tables.create("Things")
    open_table(tables, "Things").insert({"n": 1})
    page = data_page(window)
    qtbot.waitUntil(lambda: page.tables.rowCount() == 1, timeout=5000)
    page.open_table("Things")
    view = page.table_view
    view.tabs.setCurrentIndex(1)
    # id, the four system columns (__runId among them) and n
    qtbot.waitUntil(lambda: view.columns.rowCount() == 6, timeout=5000)

    def names() -> list[str]:
        return [view.columns.record(i).name for i in range(view.columns.rowCount())]

    # A name that is not an identifier: refused beside the field, kept to mend.
    view.column_name.setText("bad name")
    view.add_column()
    qtbot.waitUntil(lambda: "bad name" in view.column_error.text(), timeout=5000)
    assert view.column_name.text() == "bad name"
    assert [c.name for c in tables.info("Things").columns] == names()  # nothing changed

    view.column_name.setText("score")
    view.column_kind.setCurrentText("float")
    view.add_column()
    qtbot.waitUntil(lambda: "score" in names(), timeout=5000)
    assert view.column_error.text() == "" and view.column_name.text() == ""
    assert {c.name: c.kind for c in tables.info("Things").columns}["score"] == "float"

    # A system column cannot be deleted.
    view.columns_view.selectRow(names().index("__createdAt"))
    view.drop_column()
    assert "system column" in view.column_error.text()
    assert "__createdAt" in [c.name for c in tables.info("Things").columns]

    # Set as index.
    view.columns_view.selectRow(names().index("n"))
    view.set_index()
    qtbot.waitUntil(lambda: view.columns.record(names().index("n")).indexed, timeout=5000)
    assert {c.name: c.indexed for c in tables.info("Things").columns}["n"]

    # Delete a user column.
    view.columns_view.selectRow(names().index("score"))
    view.drop_column()
    qtbot.waitUntil(lambda: "score" not in names(), timeout=5000)
    assert "score" not in [c.name for c in tables.info("Things").columns]
