"""The job script API over user tables (Table, Query) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from console.core.errors import ConsoleError, NotFoundError
from console.core.store.database import Store
from console.core.tables.api import Table, open_table
from console.core.tables.catalogue import TableStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def tables(db_url: str) -> Iterator[TableStore]:
    store = Store(db_url)
    yield TableStore(store)
    store.dispose()


@pytest.fixture
def people(tables: TableStore) -> Table:
    tables.create("People")
    table = open_table(tables, "People")
    table.insert_many(
        [
            {"name": "Ada", "age": 36, "city": "London", "born": T0 - timedelta(days=3)},
            {"name": "Alan", "age": 41, "city": "London", "born": T0 - timedelta(days=2)},
            {"name": "Grace", "age": 85, "city": None, "born": T0 - timedelta(days=1)},
            {"name": "Edsger", "age": 72, "city": "Austin", "born": T0},
            {"name": "barbara", "age": None, "city": "boston", "born": None},
        ]
    )
    return table


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in rows]


def test_where_operators(people: Table) -> None:
    assert names(people.where(age__lt=41).read()) == ["Ada"]
    assert names(people.where(age__le=41).read()) == ["Ada", "Alan"]
    assert names(people.where(age__gt=72).read()) == ["Grace"]
    assert names(people.where(age__ge=72).read()) == ["Grace", "Edsger"]
    assert names(people.where(city__ne="London").read()) == ["Grace", "Edsger", "barbara"]
    assert names(people.where(name__in=["Ada", "Grace", "Zed"]).read()) == ["Ada", "Grace"]
    assert names(people.where(name__in=[]).read()) == []
    assert names(people.where(city__isnull=True).read()) == ["Grace"]
    assert people.where(age__isnull=False).count() == 4
    assert names(people.where(born__lt=T0 - timedelta(hours=36)).read()) == ["Ada", "Alan"]
    assert names(people.where(__createdAt__le=datetime.now(UTC) + timedelta(1)).read())[0] == "Ada"


def test_a_whole_float_comes_back_a_float_from_every_write(tables: TableStore) -> None:
    tables.create("Floats")
    floats = open_table(tables, "Floats")
    inserted = floats.insert({"k": "a", "f": 1.0})
    updated = floats.update({"id": inserted["id"], "f": 2.0})
    upserted = floats.upsert({"k": "a", "f": 3}, key="k")  # an int, stored in a float column
    assert [repr(r["f"]) for r in (inserted, updated, upserted)] == ["1.0", "2.0", "3.0"]
    assert [repr(r["f"]) for r in floats.read()] == ["3.0"]


def test_booleans_compare_false_before_true(tables: TableStore) -> None:
    tables.create("Flags")
    flags = open_table(tables, "Flags")
    flags.insert_many([{"n": 1, "b": False}, {"n": 2, "b": True}, {"n": 3, "b": None}])
    assert [r["n"] for r in flags.where(b__gt=False).read()] == [2]
    assert [r["n"] for r in flags.where(b__le=True).order_by("n").read()] == [1, 2]
    assert [r["n"] for r in flags.where(b__lt=True).read()] == [1]
    assert flags.where(b__ge=True).count() == 1


def test_text_operators_are_case_sensitive_and_take_wildcards_literally(people: Table) -> None:
    assert names(people.where(name__startswith="A").read()) == ["Ada", "Alan"]
    assert names(people.where(name__startswith="a").read()) == []
    assert names(people.where(name__contains="ar").read()) == ["barbara"]
    assert names(people.where(name__contains="AR").read()) == []
    people.insert({"name": "100%_sure"})
    assert names(people.where(name__contains="%_").read()) == ["100%_sure"]
    assert people.where(name__contains="_").count() == 1


def test_operators_combine_with_equalities_and_each_other(people: Table) -> None:
    query = people.where(city="London", age__gt=36)
    assert names(query.read()) == ["Alan"]
    assert names(people.where(age__ge=40).where(age__le=80, city__isnull=False).read()) == [
        "Alan",
        "Edsger",
    ]


@pytest.mark.parametrize(
    ("conditions", "named"),
    [
        ({"age__between": 3}, "__between"),
        ({"agee__lt": 3}, "agee"),
        ({"nosuch": 3}, "nosuch"),
        ({"age__lt": "old"}, "age"),
        ({"age__in": 5}, "age__in"),
        ({"age__isnull": "yes"}, "age__isnull"),
        ({"age__contains": "3"}, "age__contains"),
        ({"age__lt": None}, "age__isnull"),
    ],
)
def test_a_bad_condition_is_one_error_naming_it(
    people: Table, conditions: dict[str, object], named: str
) -> None:
    with pytest.raises(ConsoleError, match=named):
        people.where(**conditions)


def test_query_delete_deletes_what_the_query_means(people: Table) -> None:
    assert people.where(city="London").delete() == 2
    assert names(people.read()) == ["Grace", "Edsger", "barbara"]
    assert people.where(age__gt=1000).delete() == 0
    assert people.order_by_descending("age").take(1).delete() == 1  # Grace, the oldest
    assert names(people.read()) == ["Edsger", "barbara"]


def test_query_update_bumps_version_and_updated_at(people: Table) -> None:
    before = {r["name"]: r for r in people.read()}
    assert people.where(city="London").update(city="Paris", moved=True) == 2
    after = {r["name"]: r for r in people.read()}
    for name in ("Ada", "Alan"):
        assert after[name]["city"] == "Paris" and after[name]["moved"] is True
        assert after[name]["__version"] == before[name]["__version"] + 1
        assert after[name]["__updatedAt"] >= before[name]["__updatedAt"]
    assert after["Grace"] == {**before["Grace"], "moved": None}
    with pytest.raises(ConsoleError, match="system column"):
        people.where(name="Ada").update(__version=7)
    with pytest.raises(ConsoleError, match="age holds integer"):
        people.where(name="Ada").update(age="old")
    assert {r["name"]: r["__version"] for r in people.read()} == {
        n: r["__version"] for n, r in after.items()
    }


def test_upsert_inserts_then_updates_by_key(people: Table) -> None:
    new = people.upsert({"name": "Barbara", "age": 88}, key="name")
    assert new["__version"] == 1 and people.count() == 6
    again = people.upsert({"name": "Barbara", "age": 89}, key="name")
    assert (again["id"], again["age"], again["__version"]) == (new["id"], 89, 2)
    assert people.count() == 6
    fresh = people.upsert({"email": "x@example.org", "name": "X"}, key="email")  # a new column
    assert fresh["email"] == "x@example.org" and people.count() == 7
    with pytest.raises(ConsoleError, match="key column 'email'"):
        people.upsert({"name": "nobody"}, key="email")


def test_upsert_checks_a_given_version_as_update_does(people: Table) -> None:
    from console.core.errors import ConflictError

    ada = people.where(name="Ada").first()
    assert ada is not None and ada["__version"] == 1
    people.update({"id": ada["id"], "age": 37})  # someone else's change: version 2
    with pytest.raises(ConflictError, match="your version 1, now 2"):
        people.upsert({"name": "Ada", "age": 99, "__version": 1}, key="name")
    kept = people.upsert({"name": "Ada", "age": 38, "__version": 2}, key="name")
    assert (kept["age"], kept["__version"]) == (38, 3)
    with pytest.raises(ConflictError, match="no row of People has name 'Nobody' now"):
        people.upsert({"name": "Nobody", "age": 1, "__version": 4}, key="name")
    for bad in (2**64, 0, True, "2"):
        with pytest.raises(ConsoleError, match="__version must be the row's version number"):
            people.update({"id": ada["id"], "age": 1, "__version": bad})
    assert people.count() == 5 and people.where(name="Ada").first()["age"] == 38  # type: ignore[index]


def test_first(people: Table) -> None:
    first = people.order_by_descending("age").first()
    assert first is not None and first["name"] == "Grace"
    assert people.where(age__gt=1000).first() is None
    assert people.first() == people.read()[0]


def test_get_table_creates_on_request(tables: TableStore) -> None:
    with pytest.raises(NotFoundError):
        open_table(tables, "Archive")
    made = open_table(tables, "Archive", create=True)
    made.insert({"x": 1})
    assert open_table(tables, "archive", create=True).count() == 1
    with pytest.raises(ConsoleError):
        open_table(tables, "bad name", create=True)


def test_iter_streams_by_key_in_batches_without_offset(tables: TableStore) -> None:
    tables.create("Many")
    many = open_table(tables, "Many")
    many.insert_many({"n": i % 7} for i in range(2500))
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and '"Many"' in statement:
            statements.append(statement)

    engine = tables.store.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        rows = list(many.where(n__ne=3).iter(batch=500))
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    expected = [r["id"] for r in many.where(n__ne=3).read()]
    assert [r["id"] for r in rows] == expected
    assert len(statements) == -(-len(expected) // 500) + (len(expected) % 500 == 0)
    # each batch after the first starts after the last id seen (SQLite's
    # dialect writes "OFFSET ?" with every LIMIT, bound to 0)
    assert all('"Many".id > ' in s for s in statements[1:])
    assert list(many.select("n").skip(3).take(4).iter(batch=3)) == [{"n": n} for n in (3, 4, 5, 6)]
    assert list(many.select("n").take(2).iter(batch=5)) == [{"n": 0}, {"n": 1}]
    descending = [r["id"] for r in many.order_by_descending("id").take(3).iter(batch=2)]
    assert descending == [2500, 2499, 2498]
    by_n = [r["n"] for r in many.order_by("n").take(3).iter(batch=2)]
    assert by_n == [0, 0, 0]


def test_iter_lets_the_job_write_between_batches(tables: TableStore) -> None:
    tables.create("Work")
    work = open_table(tables, "Work")
    work.insert_many({"n": i} for i in range(10))
    for row in work.iter(batch=3):
        work.update({"id": row["id"], "done": True})
    assert work.where(done=True).count() == 10


def test_move_to_keeps_ids_and_columns_in_one_transaction(
    people: Table, tables: TableStore
) -> None:
    archive = open_table(tables, "People_archive", create=True)
    originals = {r["id"]: r for r in people.read()}
    assert people.where(city="London").order_by("id").take(1).move_to(archive) == 1
    assert people.where(city="London").move_to(archive) == 1
    moved = archive.read()
    assert [r["id"] for r in moved] == [1, 2]
    assert moved == [originals[1], originals[2]]
    assert sorted(r["id"] for r in people.read()) == [3, 4, 5]
    assert archive.insert({"name": "later"})["id"] == 3  # the archive's own ids go on after them
    with pytest.raises(ConsoleError):
        people.query().move_to(people)


def test_delete_duplicates_keeps_the_smallest_id(tables: TableStore) -> None:
    tables.create("Dupes")
    dupes = open_table(tables, "Dupes")
    dupes.insert_many(
        [
            {"a": 1, "b": "x", "c": 1},
            {"a": 1, "b": "x", "c": 2},
            {"a": 2, "b": "x", "c": 3},
            {"a": 1, "b": None, "c": 4},
            {"a": 1, "b": None, "c": 5},
            {"a": 1, "b": "x", "c": 6},
        ]
    )
    assert dupes.delete_duplicates("a", "b") == 3
    assert [r["c"] for r in dupes.read()] == [1, 3, 4]
    with pytest.raises(ConsoleError, match="nosuch"):
        dupes.delete_duplicates("a", "nosuch")


def test_binary_values_make_a_binary_column(tables: TableStore) -> None:
    tables.create("Blobs")
    blobs = open_table(tables, "Blobs")
    data = bytes(range(256)) * 10
    blobs.insert({"data": data, "name": "one"})
    kinds = {c.name: c.kind for c in tables.info("Blobs").columns}
    assert kinds["data"] == "binary"
    assert blobs.first() == {**blobs.read()[0], "data": data}
    blobs.where(name="one").update(data=bytearray(b"\x00\x01"))
    assert blobs.where(data__isnull=False).first()["data"] == b"\x00\x01"  # type: ignore[index]
    with pytest.raises(ConsoleError, match="data holds binary"):
        blobs.insert({"data": "text"})


def test_iter_in_any_order_lets_the_job_add_columns_between_rows(tables: TableStore) -> None:
    # On PostgreSQL an open read of the table used to block the job's own
    # ALTER TABLE ADD COLUMN forever.
    tables.create("Ordered")
    ordered = open_table(tables, "Ordered")
    ordered.insert_many({"name": name} for name in ("c", "a", "d", "b", "e"))
    seen = []
    for row in ordered.order_by_descending("name").iter(batch=2):
        seen.append(row["name"])
        ordered.update({"id": row["id"], f"mark_{row['name']}": True})
    assert seen == ["e", "d", "c", "b", "a"]
    assert ordered.where(mark_c=True).count() == 1
    chosen = ordered.where(name__in=["a", "c", "d"], mark_d__isnull=True).order_by("name")
    assert [r["name"] for r in chosen.select("name").skip(1).iter(batch=1)] == ["c"]
    # stopping early leaves nothing open that blocks the next change
    for _row in ordered.order_by("name").iter(batch=1):
        break
    ordered.insert({"late": 1})
    assert ordered.count() == 6


def test_in_with_none_matches_missing_values_and_takes_long_lists(people: Table) -> None:
    assert names(people.where(city__in=[None]).read()) == ["Grace"]
    assert names(people.where(city__in=["Austin", None]).read()) == ["Grace", "Edsger"]
    # more values than SQLite (250,000 in Debian's build) or PostgreSQL
    # (65,535) take parameters in one statement
    ages = [*range(100, 300_100), 36]
    assert names(people.where(age__in=ages).read()) == ["Ada"]
    texts = [f"town{n}" for n in range(300_000)]
    assert names(people.where(city__in=[*texts, "Austin", None]).read()) == ["Grace", "Edsger"]
    assert people.where(age__in=ages).update(age=37) == 1


@pytest.mark.parametrize(
    ("attempt", "named"),
    [
        (lambda t: t.take(2**64).read(), "take()"),
        (lambda t: t.skip(2**63).read(), "skip()"),
        (lambda t: t.order_by(None).read(), "order_by()"),
        (lambda t: t.select("name", 1).read(), "select()"),
        (lambda t: t.insert_many(None), "insert_many"),
        (lambda t: t.insert({"name": "a\x00b"}), "name"),
        (lambda t: t.insert_many([{"name": "ok"}, {"name": "\ud83d"}]), "name"),
        (lambda t: t.insert_many([{"name": "ok ☕"}] * 100 + [{"name": "\ud83d"}]), "'\\ud83d'"),
        (lambda t: t.insert_many([{"name": "ok ☕"}] * 100 + [{"name": "a\x00"}]), "NUL"),
        (lambda t: t.where(name__contains="\x00").read(), "name"),
        (lambda t: t.insert({"when": datetime(2026, 1, 1).date()}), "when"),
        (lambda t: t.upsert({"age": 2**64}, key="age"), "age"),
        (lambda t: t.upsert({"age": "old"}, key="age"), "age"),
        (lambda t: t.update({"id": 2**64, "age": 1}), "2**64"),
        (lambda t: t.update({"id": "one", "age": 1}), "'one'"),
        (lambda t: t.update({"id": 1, "__version": "x", "age": 1}), "__version"),
        (lambda t: t.delete(2**64), "2**64"),
        (lambda t: t.delete("one"), "'one'"),
        (lambda t: t.insert({"score": float("nan")}), "score"),
        (lambda t: t.insert_many([{"score": 1.5}, {"score": float("nan")}]), "score"),
    ],
)
def test_odd_values_are_one_error_naming_the_culprit_on_every_database(
    people: Table, attempt: Any, named: str
) -> None:
    before = people.read()
    with pytest.raises(ConsoleError) as caught:
        attempt(people)
    assert named.replace("2**64", str(2**64)) in str(caught.value)
    assert people.read() == before


@pytest.mark.parametrize("name", ["pg_class", "PG_type", "sqlite_stat1", "sqlite_x"])
def test_database_reserved_table_names_are_refused(tables: TableStore, name: str) -> None:
    with pytest.raises(ConsoleError, match="is reserved"):
        open_table(tables, name, create=True)
    assert tables.all() == []


def test_datetimes_whose_utc_falls_outside_the_calendar_are_one_error(tables: TableStore) -> None:
    tables.create("Dates")
    dates = open_table(tables, "Dates")
    dates.insert({"d": datetime(2026, 1, 1, tzinfo=UTC)})
    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    late = datetime.max.replace(tzinfo=timezone(timedelta(hours=-5)))
    for attempt in (
        lambda: dates.insert({"d": early}),
        lambda: dates.insert_many([{"d": datetime(2026, 1, 2, tzinfo=UTC)}, {"d": late}]),
        lambda: dates.where(d__lt=early).count(),
    ):
        with pytest.raises(ConsoleError, match=r"d: .* outside the years 1 to 9999"):
            attempt()
    assert dates.count() == 1
    edge = datetime(1, 1, 1, 5, tzinfo=timezone(timedelta(hours=5)))  # year 1 in UTC too
    assert dates.insert({"d": edge})["d"] == datetime(1, 1, 1, tzinfo=UTC)


def test_a_name_the_database_uses_for_another_object_is_one_error(tables: TableStore) -> None:
    # A shared database may hold other applications' objects: here a sequence
    # (PostgreSQL) or an index (SQLite, one namespace with tables) named Counter.
    tables.create("P")
    with tables.store.write() as conn:
        if tables.store.dialect == "postgresql":
            conn.exec_driver_sql('CREATE SEQUENCE "Counter"')
        else:
            conn.exec_driver_sql('CREATE INDEX "Counter" ON "P" (id)')
    with pytest.raises(ConsoleError, match="cannot create a table named 'Counter'"):
        open_table(tables, "Counter", create=True)
    assert [t.name for t in tables.all()] == ["P"]


@pytest.mark.parametrize(
    "refused",
    [
        {"huge": 2**70},  # a new column, then a value that cannot go in it
        {"fresh": 1, "age": "not a number"},  # a new column, then a clash on an old one
    ],
    ids=["value too big", "kind clash"],
)
def test_a_refused_row_adds_no_column_that_later_writes_trip_over(
    people: Table, refused: dict[str, Any]
) -> None:
    with pytest.raises(ConsoleError):
        people.insert(refused)
    with pytest.raises(ConsoleError):
        people.where(name="Ada").update(**refused)
    stored = people.insert({"name": "Linus", "age": 28})  # the same Table object, as a script has
    people.insert_many([{"name": "Ken", "age": 81}])
    assert stored["name"] == "Linus" and people.count() == 7
    assert not {"huge", "fresh"} & {c.name for c in people.columns}
