"""Many rows in one executemany: every value stored as SQLAlchemy would have
stored it, constants in every row, awkward column names quoted."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest
import sqlalchemy as sa

from console.core.errors import ConsoleError
from console.core.store.database import Store
from console.core.tables.api import open_table
from console.core.tables.bulk_insert import bulk_insert
from console.core.tables.catalogue import TableStore


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "Things",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("n", sa.BigInteger),
        sa.Column("word", sa.Text),
        sa.Column("a b%(x)s", sa.Text),  # spaces, a percent sign, a paramstyle lookalike
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("flag", sa.Boolean),
    )


def test_columns_and_constants_land_in_every_row(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    metadata = sa.MetaData()
    table = _table(metadata)
    metadata.create_all(engine)
    when = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    count = 2_500
    with engine.begin() as conn:
        bulk_insert(
            conn,
            table,
            count,
            {"n": list(range(count)), "word": [f"w{i}" for i in range(count)]},
            # written into the statement as literals, but a text with a percent sign
            {"a b%(x)s": "50% odd 'name' %(x)s", "at": when, "flag": True},
        )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).order_by(table.c.n)).all()
    assert len(rows) == count
    assert [r.n for r in rows] == list(range(count))
    assert rows[7].word == "w7" and rows[7]._mapping["a b%(x)s"] == "50% odd 'name' %(x)s"
    assert all(r.flag is True for r in rows)
    assert rows[-1].at.replace(tzinfo=UTC) == when  # stored as the column's type stores it
    with engine.begin() as conn:
        conn.execute(table.insert().values(n=-1, at=when, flag=True))  # as SQLAlchemy binds it
        raw = conn.exec_driver_sql('SELECT at FROM "Things" ORDER BY n LIMIT 2').scalars().all()
    assert raw[0] == raw[1]  # the very same text on SQLite, where times compare as text
    engine.dispose()


def test_nothing_to_insert_sends_nothing(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    metadata = sa.MetaData()
    table = _table(metadata)
    metadata.create_all(engine)
    with engine.begin() as conn:
        bulk_insert(conn, table, 0, {"n": []}, {"flag": False})
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0
    engine.dispose()


def test_a_column_of_one_object_stores_what_a_row_alone_stores(tmp_path: Path) -> None:
    """On SQLite a column whose values are all one object (a batch stamped
    with one `now`) is written into the statement once: each row stores the
    very value, of the very type, that a row inserted alone stores; a batch
    of one dict repeated stores every row."""
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    tables = TableStore(store, run_id=None)
    tables.create("Same")
    same = open_table(tables, "Same")
    at = datetime(2026, 12, 4, 9, 30, 1, 5, tzinfo=UTC)
    row = {"t": "it's ☃", "p": "100%", "n": -(2**63), "f": 0.1, "b": True, "at": at, "x": b"\0"}
    same.insert(row)  # bound, as SQLAlchemy binds a row
    same.insert_many([{**row, "i": i} for i in range(3)])  # all but i: one object each
    same.insert_many([row] * 2)
    columns = ", ".join(f'"{c}", typeof("{c}")' for c in row)
    with store.engine.connect() as conn:
        # the test's own column names, nothing user-given
        stored = conn.exec_driver_sql(f'SELECT {columns} FROM "Same" ORDER BY id').all()  # noqa: S608
    assert len(stored) == 6 and len(set(stored)) == 1
    store.dispose()


def test_rows_of_other_keys_or_kinds_store_what_each_row_says(tmp_path: Path) -> None:
    """The column-by-column path takes a batch whose rows all have the same
    keys; rows of one size with another key, rows missing a key, a Mapping
    that is not a dict: each row still stores what it says."""
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    tables = TableStore(store, run_id=None)
    tables.create("Mixed")
    mixed = open_table(tables, "Mixed")
    assert mixed.insert_many([{"a": 1, "b": "x"}, {"a": 2, "c": "y"}]) == 2  # one size, other keys
    assert mixed.insert_many([{"a": 3}, {"a": 4, "b": "z"}]) == 2  # sizes differ
    assert mixed.insert_many([MappingProxyType({"c": "w"}), {"c": "v"}]) == 2
    stored = [(r["a"], r["b"], r["c"]) for r in mixed.read()]
    assert stored == [
        (1, "x", None),
        (2, None, "y"),
        (3, None, None),
        (4, "z", None),
        (None, None, "w"),
        (None, None, "v"),
    ]
    store.dispose()


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ([{"n": 1}] * 999 + [{"n": 2**64}], f"n: {2**64} does not fit in a 64-bit integer"),
        ([{"n": 1}] * 999 + [{"n": "one"}], "n holds integer values; got string 'one'"),
        ([{"n": 1}] * 999 + [5], "a row must be a dict, not int"),
    ],
)
def test_a_refused_row_in_a_big_batch_is_one_error_and_writes_nothing(
    tmp_path: Path, rows: list[object], error: str
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    tables = TableStore(store, run_id=None)
    tables.create("Numbers")
    numbers = open_table(tables, "Numbers")
    numbers.insert({"n": 0})
    with pytest.raises(ConsoleError) as caught:
        numbers.insert_many(rows)  # type: ignore[arg-type]  # a script may pass anything
    assert str(caught.value) == error
    assert [r["n"] for r in numbers.read()] == [0]
    assert gc.isenabled()  # collection paused for the batch only, refused or not
    store.dispose()
