"""A view exported to CSV: the same cells `csv_value` gives, in the view's
order, whatever the database writes them with."""

from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from sqlite3 import SQLITE_LIMIT_LENGTH
from typing import Any

import pytest
from sqlalchemy import event

from console.core.formatting import csv_value
from console.core.store.cancel import Cancel, Cancelled
from console.core.store.database import Store
from console.core.tables import export
from console.core.tables.api import open_table
from console.core.tables.browse import Browser, Filter, View
from console.core.tables.catalogue import TableStore
from console.core.tables.export import export_csv
from console.core.tables.export_part import Helper

ROWS: list[dict[str, Any]] = [
    {"s": "plain", "f": 0.1 + 0.2, "b": True, "t": datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC)},
    {"s": 'a "quoted", comma', "f": 100.0, "b": False, "t": datetime(2026, 1, 2, tzinfo=UTC)},
    {"s": "two\nlines\r\n", "f": 1e16, "b": None, "t": None},
    {"s": "", "f": -2.5e-300, "b": True, "t": datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)},
    {"s": None, "f": None, "b": False, "t": datetime(2026, 6, 1, 12, 0, 0, 500000, tzinfo=UTC)},
]


@pytest.fixture(params=["text", "binary"])
def browser(request: pytest.FixtureRequest, db_url: str) -> Browser:
    tables = TableStore(Store(db_url))
    tables.create("Things")
    rows = [dict(r, n=i - 2) for i, r in enumerate(ROWS)]
    if request.param == "binary":  # formatted in Python, not by SQLite
        rows = [dict(r, raw=bytes([i, 0, 255])) for i, r in enumerate(rows)]
    open_table(tables, "Things").insert_many(rows)
    return Browser(tables)


def read_back(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


VIEWS = [
    View("Things"),
    View("Things", descending=True, filters=(Filter("n", "less than", "2"),)),
    View("Things", sort="s", descending=True, filters=(Filter("n", "greater than", "-1"),)),
]


def test_the_file_holds_the_views_rows_as_csv_value_gives_them(
    browser: Browser, tmp_path: Path
) -> None:
    names = [c.name for c in browser.tables.info("Things").columns]
    for view, batch in [(v, b) for v in VIEWS for b in (1000, 2)]:  # one batch, and several
        path = tmp_path / "things.csv"
        seen: list[int] = []
        rows = browser.page(view, 100)
        assert export_csv(browser, view, path, report=seen.append, batch=batch) == len(rows)
        expected = [names] + [[str(csv_value(r[c])) for c in names] for r in rows]
        got = read_back(path)
        for row in got[1:]:  # a float reads back the same, however it is spelled
            for i, name in enumerate(names):
                if name == "f" and row[i]:
                    row[i] = str(float(row[i]))
        assert got == expected
        assert seen[-1] == len(rows)
    # Cancelled: no file, not even the part written beside it
    cancel = Cancel()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(Cancelled):
        export_csv(browser, VIEWS[0], out / "x.csv", cancel=cancel, report=lambda _n: cancel.set())
    assert list(out.iterdir()) == []


def test_rows_too_long_for_one_string_of_sqlites_are_written_in_smaller_batches(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'big.db'}")
    tables = TableStore(store)
    tables.create("Things")
    open_table(tables, "Things").insert_many([{"s": "x" * 50, "n": i} for i in range(30)])
    browser = Browser(tables)
    whole = tmp_path / "whole.csv"
    assert export_csv(browser, View("Things"), whole) == 30
    # SQLite's longest string made shorter than the 30 lines joined
    event.listen(store.engine, "connect", lambda c, _r: c.setlimit(SQLITE_LIMIT_LENGTH, 1000))
    store.engine.dispose()
    pieces = tmp_path / "pieces.csv"
    assert export_csv(browser, View("Things"), pieces) == 30
    assert pieces.read_bytes() == whole.read_bytes()


def test_a_big_view_in_id_order_is_written_by_two_processes_byte_for_byte_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = TableStore(Store(f"sqlite:///{tmp_path / 'console.db'}"))
    tables.create("Things")
    rows = [dict(ROWS[i % len(ROWS)], n=i) for i in range(400)]
    open_table(tables, "Things").insert_many(rows)
    browser = Browser(tables)
    helpers: list[Helper] = []
    started = Helper.__init__

    def seen(helper: Helper, *args: Any) -> None:
        started(helper, *args)
        helpers.append(helper)

    monkeypatch.setattr(Helper, "__init__", seen)
    views = [*VIEWS[:2], View("Things", filters=(Filter("s", "contains", "quoted"),))]
    for view in views:
        monkeypatch.setattr(export, "SPLIT_ROWS", 0)  # one process
        one = tmp_path / "one.csv"
        count = export_csv(browser, view, one, batch=30)
        monkeypatch.setattr(export, "SPLIT_ROWS", 50)  # 400 ids: two halves
        two, reported = tmp_path / "two.csv", []
        assert export_csv(browser, view, two, batch=30, report=reported.append) == count
        assert two.read_bytes() == one.read_bytes()
        assert reported[-1] == count
    assert len(helpers) == len(views)
    # Cancelled while the helper writes: it ends with the export, no file left
    out = tmp_path / "out"
    out.mkdir()
    cancel = Cancel()
    with pytest.raises(Cancelled):
        export_csv(
            browser, View("Things"), out / "x.csv", cancel=cancel, report=lambda _n: cancel.set()
        )
    assert helpers[-1].proc.returncode is not None
    assert list(out.iterdir()) == []


def test_a_commit_while_the_helper_starts_leaves_the_export_in_its_first_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'console.db'}")
    tables = TableStore(store)
    tables.create("Things")
    open_table(tables, "Things").insert_many([{"s": f"row {i}", "n": i} for i in range(400)])
    browser = Browser(tables)
    before = tmp_path / "before.csv"
    export_csv(browser, View("Things"), before)
    monkeypatch.setattr(export, "SPLIT_ROWS", 50)
    writer = sqlite3.connect(tmp_path / "console.db")

    def commit_after_the_first_read(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        if "min(" in statement and writer.in_transaction is False and not done:
            done.append(True)  # another user deletes rows of the second half, at once
            writer.execute('DELETE FROM "Things" WHERE n >= 300')
            writer.commit()

    done: list[bool] = []
    event.listen(store.engine, "after_cursor_execute", commit_after_the_first_read)
    during = tmp_path / "during.csv"
    assert export_csv(browser, View("Things"), during) == 400
    assert done and during.read_bytes() == before.read_bytes()
    writer.close()
