"""`tables` of a run whose supervisor does its table operations: a real
`TableLink` over a real database, and the script's side in this process
(the link serves from its own threads, as in a worker)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from console.core.errors import ConflictError, ConsoleError, NotFoundError
from console.core.running import link_values, table_link
from console.core.running.linked_tables import LinkedTables
from console.core.running.script_api import ScriptTables
from console.core.running.table_link import TableLink
from console.core.store.database import Store
from console.core.tables.catalogue import TableStore
from console.core.tables.known import read_known

RUN_ID = 7


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    TableStore(store).create("People")
    yield store
    store.dispose()


@contextmanager
def _linked(
    store: Store, sent: list[dict[str, Any]], direct_url: str | None = None
) -> Iterator[LinkedTables]:
    """A run's linked `tables`, and its link, ended as a run ends."""
    link = TableLink(store)
    offered = link.offer(RUN_ID, read_known(store))
    direct = ScriptTables(direct_url or store.url, sent.append, run_id=RUN_ID)
    tables = LinkedTables(offered, direct, sent.append)
    try:
        yield tables
    finally:
        tables.close()
        link.finish(offered)
        link.close()


@pytest.fixture
def linked(store: Store) -> Iterator[tuple[LinkedTables, list[dict[str, Any]]]]:
    sent: list[dict[str, Any]] = []
    with _linked(store, sent) as tables:
        yield tables, sent


def _stored(store: Store) -> list[dict[str, Any]]:
    people = sa.table("People", sa.column("id"), sa.column("name"), sa.column("__runId"))
    with store.read() as conn:
        rows = conn.execute(sa.select(people).order_by(people.c.id))
        return [dict(r._mapping) for r in rows]


def test_a_linked_run_writes_as_itself_without_a_connection_of_its_own(store: Store) -> None:
    """Its own connection would fail (the database it names is not there):
    every operation is the supervisor's, each row stamped with the run."""
    sent: list[dict[str, Any]] = []
    nowhere = "sqlite:////nonexistent-folder/console.db"
    with _linked(store, sent, direct_url=nowhere) as tables:
        people = tables.get_table("people")  # any letter case, as get_table takes it
        ada = people.insert({"name": "Ada", "born": datetime(1815, 12, 10, tzinfo=UTC)})
        assert ada["name"] == "Ada" and ada["__runId"] == RUN_ID and ada["__version"] == 1
        assert ada["born"] == datetime(1815, 12, 10, tzinfo=UTC)
        assert people.insert_many([{"name": "Alan"}, {"name": "Grace", "photo": b"\x00\xff"}]) == 2
        assert people.where(name__startswith="A").count() == 2
        assert people.order_by_descending("name").first()["name"] == "Grace"  # type: ignore[index]
        assert [r["name"] for r in people.select("name").order_by("id").read()] == [
            "Ada",
            "Alan",
            "Grace",
        ]
        assert people.where(name="Grace").read()[0]["photo"] == b"\x00\xff"
        assert people.update({"id": ada["id"], "name": "Ada L."})["__version"] == 2
        assert people.upsert({"name": "Alan", "age": 41}, key="name")["age"] == 41
        assert people.where(name="Alan").update(age=42) == 1
        assert "age" in [c.name for c in people.columns]
        people.delete(ada["id"])
        assert people.where(age__gt=40).delete() == 1
        assert [(r["name"], r["__runId"]) for r in _stored(store)] == [("Grace", RUN_ID)]
        # 3 inserted, 3 updated (one by the upsert), 2 deleted
        assert sum(m["n"] for m in sent if m.get("t") == "rows") == 8


def test_errors_are_the_table_apis_own(linked: tuple[LinkedTables, list[dict[str, Any]]]) -> None:
    tables, _ = linked
    people = tables.get_table("People")
    with pytest.raises(NotFoundError, match="no table named 'Nope'"):
        tables.get_table("Nope")
    with pytest.raises(ConsoleError, match=r"People\.where\(\): no column 'nope'"):
        people.where(nope=1)  # at the call, as the table API raises it
    with pytest.raises(ConsoleError, match="take\\(\\) needs a whole number"):
        people.take(-1)
    with pytest.raises(NotFoundError, match="no row with id 99 in People"):
        people.update({"id": 99, "name": "x"})
    row = people.insert({"name": "Ada"})
    people.update({"id": row["id"], "name": "Ada L."})
    with pytest.raises(ConflictError, match="changed by someone else"):
        people.update({"id": row["id"], "name": "Ada", "__version": 1})
    with pytest.raises(ConsoleError, match="name: cannot store a date"):
        people.insert({"name": datetime(2026, 1, 1).date()})
    with pytest.raises(ConsoleError, match="insert_many takes a list of rows"):
        people.insert_many("abc")


def test_a_column_another_writer_added_can_be_asked_for(
    store: Store, linked: tuple[LinkedTables, list[dict[str, Any]]]
) -> None:
    tables, _ = linked
    people = tables.get_table("People")
    TableStore(store).add_column("People", "city", "string")  # after the run opened it
    people.insert({"name": "Ada", "city": "London"})
    assert people.where(city="London").count() == 1


def test_big_batches_and_long_reads_use_the_runs_own_connection(
    store: Store,
    linked: tuple[LinkedTables, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the link's bounds the run does it itself: the same rows, still its own."""
    monkeypatch.setattr(link_values, "LINK_ROWS", 5)
    monkeypatch.setattr(table_link, "READ_ROWS", 4)
    tables, sent = linked
    people = tables.get_table("People")
    assert people.insert_many([{"name": f"p{i}"} for i in range(8)]) == 8
    assert len(people.read()) == 8 and len(people.take(3).read()) == 3
    assert [r["name"] for r in people.where(name__in=iter(["p1", "p2"])).iter(batch=1)] == [
        "p1",
        "p2",
    ]
    assert {r["__runId"] for r in _stored(store)} == {RUN_ID}
    assert sum(m["n"] for m in sent if m.get("t") == "rows") == 8


def test_move_to_needs_a_table_of_the_same_run(
    store: Store, linked: tuple[LinkedTables, list[dict[str, Any]]]
) -> None:
    TableStore(store).create("Archive")
    tables, _ = linked
    people, archive = tables.get_table("People"), tables.get_table("Archive")
    people.insert_many([{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}])
    assert people.where(age__gt=40).move_to(archive) == 1
    assert [r["name"] for r in archive.read()] == ["Alan"]
    with pytest.raises(ConsoleError, match="another table of the same database"):
        people.query().move_to(people)


def test_a_scripts_threads_each_get_their_own_answers(
    store: Store, linked: tuple[LinkedTables, list[dict[str, Any]]]
) -> None:
    tables, _ = linked
    people = tables.get_table("People")
    wrong: list[object] = []

    def work(name: str) -> None:
        for _ in range(15):
            if people.insert({"name": name})["name"] != name:
                wrong.append(name)
            if not isinstance(people.where(name=name).count(), int):
                wrong.append(name)

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert wrong == [] and not any(t.is_alive() for t in threads)
    assert len(_stored(store)) == 60


def test_a_read_of_big_values_is_done_by_the_run_itself(
    store: Store,
    linked: tuple[LinkedTables, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The supervisor never holds more than `READ_BYTES` of a job's read."""
    monkeypatch.setattr(table_link, "READ_BYTES", 100)
    tables, _ = linked
    people = tables.get_table("People")
    people.insert_many([{"name": "x" * 60} for _ in range(3)])
    assert [r["name"] for r in people.read()] == ["x" * 60] * 3


def test_iter_by_id_reads_over_the_link_as_the_table_api_does(store: Store) -> None:
    """Each batch of `iter()` by id is a read over the link: the same rows,
    in the same order, as the table API's own `iter()`, with the run's own
    connection never opened (the database it names is not there)."""
    TableStore(store).add_column("People", "n", "integer")
    ScriptTables(store.url, lambda _m: None).get_table("People").insert_many(
        [{"name": f"p{i}", "n": i % 4} for i in range(23)]
    )
    sent: list[dict[str, Any]] = []
    own = ScriptTables(store.url, lambda _m: None).get_table("People")
    nowhere = "sqlite:////nonexistent/console.db"
    with _linked(store, sent, direct_url=nowhere) as tables:
        people = tables.get_table("People")
        for make in (
            lambda t: t.query(),
            lambda t: t.where(n__gt=1),
            lambda t: t.order_by_descending("id").skip(2).take(9),
            lambda t: t.select("name").take(7),
            lambda t: t.order_by("id").select("name", "n").skip(20),
        ):
            for batch in (1, 4, 1000):
                assert list(make(people).iter(batch)) == list(make(own).iter(batch))
        with pytest.raises(ConsoleError, match="iter\\(\\) needs a batch of at least 1 row"):
            next(people.iter(0))
        assert not any(m.get("t") == "direct" for m in sent)


def test_a_run_that_uses_its_own_connection_says_so_once(
    store: Store,
    linked: tuple[LinkedTables, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its supervisor then forks the job's next runs with the table layer loaded."""
    monkeypatch.setattr(link_values, "LINK_ROWS", 2)
    tables, sent = linked
    people = tables.get_table("People")
    people.insert({"name": "Ada"})
    assert not any(m.get("t") == "direct" for m in sent)
    people.insert_many([{"name": "a"}, {"name": "b"}, {"name": "c"}])
    people.insert_many([{"name": "d"}, {"name": "e"}, {"name": "f"}])
    assert [m for m in sent if m.get("t") == "direct"] == [{"t": "direct"}]
