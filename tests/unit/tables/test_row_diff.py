"""A held transaction's table against the committed one, row by row, on
SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest

from console.core.store.database import Store
from console.core.tables import row_diff
from console.core.tables.api import open_table
from console.core.tables.catalogue import TableStore


@pytest.fixture
def tables(db_url: str) -> Iterator[TableStore]:
    store = Store(db_url)
    yield TableStore(store)
    store.dispose()


def _diff(tables: TableStore, name: str) -> dict[str, object]:
    store = tables.store
    with tempfile.TemporaryFile("w+") as rows:
        with store.hold() as held:
            stock = open_table(tables, name)
            stock.insert({"n": 10})
            stock.update({"id": 1, "n": 11, "extra": "x"})
            stock.delete(2)
            assert store.held_high == {name: 3}  # before the run's first write
            columns = row_diff.snapshot(held, name, rows, store.held_high[name])
        with store.engine.connect() as committed, committed.begin():
            return row_diff.table_diff(columns, rows, committed, name)


def test_counts_samples_and_changed_cells(tables: TableStore) -> None:
    tables.create("Stock")
    open_table(tables, "Stock").insert_many([{"n": 1}, {"n": 2}, {"n": 3}])

    diff = _diff(tables, "Stock")

    assert (diff["inserted"], diff["updated"], diff["deleted"]) == (1, 1, 1)
    assert diff["columns_added"] == ["extra"]
    rows = diff["rows"]
    assert isinstance(rows, dict)
    (updated,) = rows["updated"]
    assert updated["before"]["n"] == 1 and updated["after"]["n"] == 11
    assert sorted(updated["changed"]) == ["extra", "n"]
    assert [r["n"] for r in rows["deleted"]] == [2]
    assert [r["n"] for r in rows["inserted"]] == [10]
    assert [r["n"] for r in open_table(tables, "Stock").read()] == [1, 2, 3]  # rolled back


def test_samples_are_bounded_and_counts_exact(
    tables: TableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(row_diff, "SAMPLE", 5)
    tables.create("Big")
    store = tables.store
    with tempfile.TemporaryFile("w+") as rows:
        with store.hold() as held:
            open_table(tables, "Big").insert_many([{"n": i} for i in range(50)])
            columns = row_diff.snapshot(held, "Big", rows, store.held_high["Big"])
            assert rows.tell() == 0  # inserts only: nothing went to the file
        with store.engine.connect() as committed, committed.begin():
            diff = row_diff.table_diff(columns, rows, committed, "Big")
    assert diff["inserted"] == 50
    assert len(diff["rows"]["inserted"]) == 5  # type: ignore[index]
    assert diff["columns_added"] == ["n"]
    assert open_table(tables, "Big").count() == 0
