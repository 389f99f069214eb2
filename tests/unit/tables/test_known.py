"""A run that writes without reading the catalogue first: given the tables'
columns by its supervisor (`read_known`, `TableStore.trust`), it still
writes right when a table changed in between, and a fork server's warm-up
writes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from console.core.errors import ConsoleError
from console.core.store.database import Store, prepare_engine
from console.core.tables.api import open_table
from console.core.tables.catalogue import TableStore
from console.core.tables.known import read_known, warm_up


@pytest.fixture
def person(db_url: str) -> Iterator[TableStore]:
    """The console's own connection: the one that changes tables."""
    tables = TableStore(Store(db_url))
    tables.create("Firsts")
    tables.add_column("Firsts", "job", "string")
    tables.add_column("Firsts", "note", "string")
    yield tables
    tables.store.dispose()


def trusting(db_url: str, person: TableStore) -> tuple[TableStore, list[str]]:
    """A run's table store given the columns as they are now, and the
    statements it sends."""
    run = TableStore(Store(db_url, migrate=False), run_id=7)
    run.trust(read_known(person.store) or {})
    sent: list[str] = []
    sa.event.listen(run.store.engine, "before_cursor_execute", lambda *a: sent.append(a[2].lower()))
    return run, sent


def rows(tables: TableStore) -> list[dict[str, object]]:
    return [
        {k: v for k, v in r.items() if not k.startswith("__") and k != "id"}
        for r in open_table(tables, "Firsts").read()
    ]


def test_a_write_reads_no_catalogue_and_stamps_its_run(db_url: str, person: TableStore) -> None:
    run, sent = trusting(db_url, person)
    stored = open_table(run, "firsts").insert({"job": "a"})  # any letter case
    assert stored["job"] == "a" and stored["note"] is None and stored["__runId"] == 7
    assert not [s for s in sent if "user_tables" in s or "user_columns" in s]
    assert rows(person) == [{"job": "a", "note": None}]


def test_a_column_added_since_is_used_not_added_again(db_url: str, person: TableStore) -> None:
    run, _ = trusting(db_url, person)
    person.add_column("Firsts", "count", "integer")
    open_table(run, "Firsts").insert({"job": "b", "count": 3})
    assert rows(person) == [{"job": "b", "note": None, "count": 3}]
    assert [c.name for c in open_table(run, "Firsts").columns][-1] == "count"
    person.add_column("Firsts", "late", "boolean")
    with pytest.raises(ConsoleError, match="holds boolean values"):  # its kind, as stored now
        open_table(trusting(db_url, person)[0], "Firsts").insert({"late": "yes"})


def test_a_column_dropped_since_fails_in_one_line_and_writes_nothing(
    db_url: str, person: TableStore
) -> None:
    run, _ = trusting(db_url, person)
    person.drop_column("Firsts", "note")
    with pytest.raises(ConsoleError) as raised:
        open_table(run, "Firsts").insert({"job": "c"})
    assert "Firsts changed as this run started" in str(raised.value)
    assert "\n" not in str(raised.value) and "note" in str(raised.value)
    assert rows(person) == []
    open_table(run, "Firsts").insert({"job": "d"})  # read again: right now
    assert rows(person) == [{"job": "d"}]


def test_a_table_dropped_since_fails_in_one_line(db_url: str, person: TableStore) -> None:
    run, _ = trusting(db_url, person)
    person.drop("Firsts")
    with pytest.raises(ConsoleError, match="Firsts changed as this run started"):
        open_table(run, "Firsts").insert({"job": "e"})
    with pytest.raises(ConsoleError, match="no table named"):
        open_table(run, "Firsts")


def test_a_dry_run_given_the_columns_writes_nothing(db_url: str, person: TableStore) -> None:
    run, _ = trusting(db_url, person)
    with run.store.hold():
        open_table(run, "Firsts").insert({"job": "f", "extra": 1})
        assert rows(run) == [{"job": "f", "note": None, "extra": 1}]
    assert rows(person) == [] and [c.name for c in person.info("Firsts").columns][-1] == "note"


def test_the_fork_servers_warm_up_writes_nothing(db_url: str, person: TableStore) -> None:
    prepare_engine(db_url, warm_up)
    run = TableStore(Store(db_url, migrate=False), run_id=8)  # on the engine made ahead
    open_table(run, "Firsts").insert({"job": "g"})
    assert rows(person) == [{"job": "g", "note": None}]
    assert [t.name for t in person.all()] == ["Firsts"]
