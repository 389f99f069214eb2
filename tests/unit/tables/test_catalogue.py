"""The user-table layer against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.core.errors import ConflictError, ConsoleError, NotFoundError
from console.core.store.database import Store
from console.core.tables.api import open_table
from console.core.tables.catalogue import TableStore


@pytest.fixture
def tables(db_url: str) -> TableStore:
    return TableStore(Store(db_url))


BAD_NAMES = [
    "Updates; DROP TABLE x",
    "__secret",
    "",
    "1abc",
    "a b",
    "x" * 65,
    'Up"dates',
    "Up'dates",
    "t--",
    "Robert'); DROP TABLE jobs;--",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_table_names_are_refused_and_change_nothing(tables: TableStore, name: str) -> None:
    tables.create("Updates")
    with pytest.raises(ConsoleError):
        tables.create(name)
    assert [t.name for t in tables.all()] == ["Updates"]


@pytest.mark.parametrize("name", ["updates", "UPDATES", "jobs", "Runs", "alembic_version"])
def test_case_variants_and_console_tables_are_refused(tables: TableStore, name: str) -> None:
    tables.create("Updates")
    with pytest.raises(ConsoleError, match=r"already exists|console's own"):
        tables.create(name)
    assert [t.name for t in tables.all()] == ["Updates"]


def test_the_longest_name_is_63_on_both_databases(tables: TableStore) -> None:
    """PostgreSQL's limit, and SQLite's too: a table moves between them."""
    longest = 63
    tables.create("a" * longest)
    open_table(tables, "a" * longest).insert({"b" * longest: 1})
    assert tables.all()[0].name == "a" * longest
    with pytest.raises(ConsoleError, match="at most"):
        tables.create("c" * (longest + 1))


def test_insert_returns_the_stored_row_with_system_columns(tables: TableStore) -> None:
    tables.create("Updates")
    row = open_table(tables, "updates").insert({"text": "hello", "twitterId": 2**62 + 3})
    assert row["id"] == 1
    assert row["__version"] == 1
    assert row["__createdAt"].tzinfo is not None
    assert row["twitterId"] == 2**62 + 3
    assert open_table(tables, "Updates").read() == [row]


def test_each_insert_returns_the_columns_the_table_has_then(tables: TableStore) -> None:
    """An insert's statement is kept for the table's shape: a row that adds
    a column gets it back, and a row without some columns stores them empty."""
    tables.create("Updates")
    table = open_table(tables, "Updates")
    first = table.insert({"text": "a"})
    second = table.insert({"text": "b", "author": "me"})
    third = table.insert({"author": "you"})
    assert "author" not in first
    assert (second["text"], second["author"]) == ("b", "me")
    assert (third["text"], third["author"]) == (None, "you")
    assert [(r["text"], r["author"]) for r in table.read()] == [
        ("a", None),
        ("b", "me"),
        (None, "you"),
    ]


def test_new_properties_add_typed_columns(tables: TableStore) -> None:
    tables.create("Things")
    when = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    open_table(tables, "Things").insert({"s": "x", "i": 1, "f": 1.5, "b": True, "d": when})
    kinds = {c.name: c.kind for c in tables.info("Things").columns if not c.system}
    assert kinds == {"s": "string", "i": "integer", "f": "float", "b": "boolean", "d": "datetime"}
    (row,) = open_table(tables, "Things").read()
    assert (row["s"], row["i"], row["f"], row["b"], row["d"]) == ("x", 1, 1.5, True, when)


def test_a_wrong_type_for_an_existing_column_is_refused(tables: TableStore) -> None:
    tables.create("Things")
    table = open_table(tables, "Things")
    table.insert({"n": 1})
    with pytest.raises(ConsoleError, match="n holds integer values; got string"):
        table.insert({"n": "one"})
    with pytest.raises(ConsoleError, match="64-bit"):
        table.insert({"n": 2**63})
    assert table.count() == 1


def test_insert_many_is_all_or_nothing(tables: TableStore) -> None:
    tables.create("Things")
    table = open_table(tables, "Things")
    table.insert({"n": 1})
    with pytest.raises(ConsoleError):
        table.insert_many([{"n": 2}, {"n": 3, "extra": "x"}, {"n": "bad"}])
    assert [r["n"] for r in table.read()] == [1]
    assert "extra" not in {c.name for c in table.columns}
    assert table.insert_many([{"n": 2}, {"n": 3, "extra": "x"}]) == 2
    assert [(r["n"], r["extra"]) for r in table.read()] == [(1, None), (2, None), (3, "x")]


def test_insert_many_checks_every_value_of_a_mixed_batch(tables: TableStore) -> None:
    tables.create("Things")
    table = open_table(tables, "Things")
    table.insert({"score": 1.5, "n": 1, "when": datetime(2026, 1, 1, tzinfo=UTC)})
    # ints into a float column are stored as floats; None is allowed anywhere
    assert table.insert_many([{"score": 2}, {"score": None, "n": None}, {"score": 3.25}]) == 3
    assert [r["score"] for r in table.order_by("id").read()] == [1.5, 2.0, None, 3.25]
    for bad in (
        [{"n": 2}, {"n": 2**63}],  # past 64 bits
        [{"n": 2}, {"n": True}],  # a bool is not an integer here
        [{"score": 1.0}, {"score": "1.0"}],
    ):
        with pytest.raises(ConsoleError):
            table.insert_many(bad)
    assert table.count() == 4  # every refused batch wrote nothing
    # A time without a zone, among times with one, is taken as UTC.
    table.insert_many([{"when": datetime(2026, 1, 2, tzinfo=UTC)}, {"when": datetime(2026, 1, 3)}])
    assert table.order_by_descending("id").take(1).read()[0]["when"] == datetime(
        2026, 1, 3, tzinfo=UTC
    )


def test_insert_many_of_rows_without_properties_stores_them(tables: TableStore) -> None:
    tables.create("Things")
    assert open_table(tables, "Things").insert_many([{}, {}]) == 2
    assert [r["__version"] for r in open_table(tables, "Things").read()] == [1, 1]


def test_a_time_reads_back_as_stored_however_it_was_written(tables: TableStore) -> None:
    from datetime import timedelta, timezone

    tables.create("Things")
    table = open_table(tables, "Things")
    paris = timezone(timedelta(hours=1))
    times = [datetime(2026, 3, 29, 2, 30, 0, 7, tzinfo=paris), datetime(999, 1, 1, tzinfo=UTC)]
    table.insert({"n": 0, "when": times[0]})
    table.insert_many([{"n": i + 1, "when": t} for i, t in enumerate(times)])
    stored = [r["when"] for r in table.order_by("n").read()]
    assert stored == [times[0], times[0], times[1]]
    assert all(t.tzinfo is UTC for t in stored)
    # Ordering and equality in SQL see the bulk path's times as the single path's.
    assert table.where(when=times[0]).count() == 2
    assert table.where(when=times[1]).count() == 1  # no microseconds: still the same text
    assert [r["n"] for r in table.order_by("when").read()] == [2, 0, 1]


def test_system_columns_cannot_be_inserted(tables: TableStore) -> None:
    tables.create("Things")
    with pytest.raises(ConsoleError, match="system column"):
        open_table(tables, "Things").insert({"id": 5, "n": 1})


def test_update_checks_the_version(tables: TableStore) -> None:
    tables.create("Things")
    table = open_table(tables, "Things")
    row = table.insert({"n": 1})
    updated = table.update({"id": row["id"], "n": 2, "__version": 1})
    assert (updated["n"], updated["__version"]) == (2, 2)
    with pytest.raises(ConflictError, match="changed by someone else"):
        table.update({"id": row["id"], "n": 3, "__version": 1})
    assert table.read()[0]["n"] == 2
    assert table.update({"id": row["id"], "n": 4})["__version"] == 3
    with pytest.raises(NotFoundError):
        table.update({"id": 999, "n": 1})


def test_delete(tables: TableStore) -> None:
    tables.create("Things")
    table = open_table(tables, "Things")
    a, b = table.insert({"n": 1}), table.insert({"n": 2})
    table.delete(a["id"])
    assert [r["id"] for r in table.read()] == [b["id"]]
    with pytest.raises(NotFoundError):
        table.delete(a["id"])


def test_queries_chain_and_stay_immutable(tables: TableStore) -> None:
    tables.create("Things")
    table = open_table(tables, "Things")
    table.insert_many([{"n": i, "even": i % 2 == 0} for i in range(10)])
    evens = table.where(even=True)
    top = evens.order_by_descending("n")
    assert [r["n"] for r in top.take(2).read()] == [8, 6]
    assert [r["n"] for r in top.skip(1).take(2).read()] == [6, 4]
    assert evens.count() == 5
    assert top.take(2).count() == 2
    assert [r["n"] for r in table.order_by("n").take(3).read()] == [0, 1, 2]
    assert table.select("n").take(1).read() == [{"n": 0}]
    with pytest.raises(ConsoleError):
        table.take(-1)


def test_a_column_not_yet_created_reads_as_null(tables: TableStore) -> None:
    """The getUpdates job asks an empty table for its largest twitterId."""
    tables.create("Updates")
    updates = open_table(tables, "Updates")
    assert updates.order_by_descending("twitterId").take(1).read() == []
    assert updates.select("twitterId").read() == []
    with pytest.raises(ConsoleError, match="no column 'twitterId'"):
        updates.where(twitterId=5)  # a condition on no column is a mistake, said at once


def test_columns_add_drop_and_index(tables: TableStore) -> None:
    tables.create("Things")
    tables.add_column("Things", "score", "float")
    tables.set_index("Things", "score")
    info = {c.name: c for c in tables.info("Things").columns}
    assert info["score"].indexed and info["score"].kind == "float"
    with pytest.raises(ConsoleError, match="system column"):
        tables.drop_column("Things", "__version")
    with pytest.raises(ConsoleError):
        tables.add_column("Things", "bad name", "string")
    with pytest.raises(ConsoleError, match="already has"):
        tables.add_column("Things", "SCORE", "string")
    open_table(tables, "Things").insert({"score": 2})
    tables.drop_column("Things", "score")
    assert "score" not in {c.name for c in tables.info("Things").columns}
    assert open_table(tables, "Things").count() == 1


def test_drop_table(tables: TableStore) -> None:
    tables.create("Things")
    open_table(tables, "Things").insert({"n": 1})
    tables.drop("things")
    assert tables.all() == []
    tables.create("Things")
    assert open_table(tables, "Things").count() == 0


def test_schema_added_by_another_connection_is_seen(db_url: str, tmp_path: Path) -> None:
    first, second = TableStore(Store(db_url)), TableStore(Store(db_url))
    first.create("Things")
    open_table(second, "Things").insert({"a": 1})
    open_table(first, "Things").insert({"a": 2, "b": "x"})
    open_table(second, "Things").insert({"b": "y"})
    assert [(r["a"], r["b"]) for r in open_table(first, "Things").read()] == [
        (1, None),
        (2, "x"),
        (None, "y"),
    ]
