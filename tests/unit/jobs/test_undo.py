"""Undo of a whole run on SQLite and PostgreSQL: inserts deleted, updates and
deletes put back, later edits left alone unless forced, an undo undone, an
undo stopped midway."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from console.app import Services, open_services
from console.core.errors import ConsoleError
from console.core.jobs import undo
from console.core.jobs.runs import Run
from console.core.jobs.undo import undo_run
from console.core.tables.api import Table, open_table
from console.core.tables.catalogue import TableStore
from console.demo.memory_keyring import MemoryKeyring


@pytest.fixture
def services(home: Path, db_url: str) -> Iterator[Services]:
    opened = open_services(home, db_url, keyring_backend=MemoryKeyring())
    opened.jobs.create("work")
    opened.tables.create("Stock")
    yield opened
    opened.store.dispose()


def _as_run(services: Services, trigger: str = "run once") -> tuple[Run, Table]:
    """A finished run of `work`, and Stock as its script writes it."""
    job = services.jobs.get("work")
    run = services.runs.start(job.id, job.name, trigger, services.runner.owner)
    services.runs.finish(run.id, "succeeded", None, 0)
    return run, open_table(TableStore(services.store, run_id=run.id), "Stock")


def _values(services: Services) -> dict[int, object]:
    return {r["id"]: r["n"] for r in open_table(services.tables, "Stock").read()}


def _undo(services: Services, run: Run, force: bool = False) -> dict[str, object]:
    """The undo's JSON, as the command line prints it, and the undo's own run."""
    result = undo_run(services.runs, services.tables, run.id, "test", force=force)
    shown = result.as_json()
    assert set(shown) == {"run", "deleted", "restored", "conflicts"}  # the contract's keys
    return {**shown, "undo_run": result.run.id}


def test_undo_of_inserts_deletes_them(services: Services) -> None:
    open_table(services.tables, "Stock").insert({"n": 1})
    run, stock = _as_run(services)
    stock.insert_many([{"n": 2}, {"n": 3}])
    result = _undo(services, run)
    assert (result["deleted"], result["restored"], result["conflicts"]) == (2, 0, [])
    assert list(_values(services).values()) == [1]


def test_undo_puts_back_updates_and_deletes_and_can_be_undone(services: Services) -> None:
    open_table(services.tables, "Stock").insert_many([{"n": i} for i in range(4)])
    before = _values(services)
    run, stock = _as_run(services)
    stock.update({"id": 1, "n": 10})
    stock.update({"id": 1, "n": 11})  # twice: the image is of the row before the run
    stock.delete(2)
    stock.where(n=3).update(n=33)
    stock.where(n=2).delete()
    after = _values(services)
    assert after == {1: 11, 4: 33}

    result = _undo(services, run)

    assert (result["deleted"], result["restored"]) == (0, 4)
    assert _values(services) == before
    again = _undo(services, services.runs.get(int(result["undo_run"])))  # type: ignore[call-overload]
    assert _values(services) == after and again["conflicts"] == []


def test_undo_puts_back_the_rows_delete_duplicates_removed(services: Services) -> None:
    open_table(services.tables, "Stock").insert_many([{"n": n} for n in (1, 2, 1, 3, 2, 1)])
    before = _values(services)
    run, stock = _as_run(services)
    assert stock.delete_duplicates("n") == 3
    assert _values(services) == {1: 1, 2: 2, 4: 3}
    result = _undo(services, run)
    assert (result["deleted"], result["restored"], result["conflicts"]) == (0, 3, [])
    assert _values(services) == before
    assert stock.delete_duplicates("n") == 3  # its gathering table is gone: a second goes too


def test_a_later_edit_is_a_conflict_unless_forced(services: Services) -> None:
    open_table(services.tables, "Stock").insert_many([{"n": 1}, {"n": 2}])
    run, stock = _as_run(services)
    stock.update({"id": 1, "n": 10})
    stock.update({"id": 2, "n": 20})
    open_table(services.tables, "Stock").update({"id": 2, "n": 200})  # a person's edit

    result = _undo(services, run)

    assert result["conflicts"] == [{"table": "Stock", "id": 2}]
    assert _values(services) == {1: 1, 2: 200}
    forced = _undo(services, run, force=True)
    assert forced["conflicts"] == [] and _values(services) == {1: 1, 2: 2}


def test_a_person_s_edit_names_no_run(services: Services) -> None:
    run, stock = _as_run(services)
    row = stock.insert({"n": 1})
    assert row["__runId"] == run.id
    edited = open_table(services.tables, "Stock").update({"id": row["id"], "n": 2})
    assert edited["__runId"] is None


def test_bad_runs_are_refused(services: Services) -> None:
    with pytest.raises(ConsoleError, match="no run 999"):
        _undo_id(services, 999)
    dry, _ = _as_run(services, "dry run")
    with pytest.raises(ConsoleError, match="was a dry run"):
        _undo_id(services, dry.id)
    job = services.jobs.get("work")
    running = services.runs.start(job.id, job.name, "run once", "test")
    with pytest.raises(ConsoleError, match="still running"):
        _undo_id(services, running.id)
    assert len(services.runs.runs()) == 2  # no undo run recorded for any of them


def _undo_id(services: Services, run_id: int) -> None:
    undo_run(services.runs, services.tables, run_id, "test")


def test_a_row_it_inserted_that_a_later_edit_changed_is_a_conflict(services: Services) -> None:
    run, stock = _as_run(services)
    stock.insert_many([{"n": 1}, {"n": 2}, {"n": 3}])
    open_table(services.tables, "Stock").update({"id": 2, "n": 20})  # a person's edit
    _, later = _as_run(services)
    later.update({"id": 3, "n": 30})  # a later run's

    result = _undo(services, run)

    assert result["deleted"] == 1
    assert result["conflicts"] == [{"table": "Stock", "id": 2}, {"table": "Stock", "id": 3}]
    assert _values(services) == {2: 20, 3: 30}
    forced = _undo(services, run, force=True)
    assert (forced["deleted"], forced["conflicts"]) == (2, []) and _values(services) == {}


@pytest.mark.parametrize("binary", [False, True])  # SQLite puts bytes back in Python
def test_deleted_inserts_come_back_whole_when_the_undo_is_undone(
    services: Services, binary: bool
) -> None:
    when = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    run, stock = _as_run(services)
    row: dict[str, object] = {"n": 1, "at": when, "ok": True, "x": 1.5, "s": "é"}
    stock.insert_many([{**row, "raw": b"\x00\xff"} if binary else row])
    stock.insert({"n": 2, "at": when.replace(microsecond=0)})
    before = open_table(services.tables, "Stock").read()

    undone = _undo(services, run)
    assert undone["deleted"] == 2 and _values(services) == {}
    _undo(services, services.runs.get(int(undone["undo_run"])))  # type: ignore[call-overload]

    def kept(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in r.items() if k not in ("__updatedAt", "__version", "__runId")}
            for r in rows
        ]

    assert kept(open_table(services.tables, "Stock").read()) == kept(before)


def test_an_undo_stopped_midway_leaves_each_row_undone_or_as_it_was(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(undo, "DELETE_BATCH", 2)
    run, stock = _as_run(services)
    stock.insert_many([{"n": i} for i in range(1, 7)])
    with services.store.write() as conn:  # the database refuses the delete of row 5
        if services.store.dialect == "sqlite":
            conn.exec_driver_sql(
                'CREATE TRIGGER stop BEFORE DELETE ON "Stock" WHEN OLD.n = 5 '
                "BEGIN SELECT RAISE(ABORT, 'stopped'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION stop() RETURNS trigger AS $$ BEGIN IF OLD.n = 5 THEN "
                "RAISE EXCEPTION 'stopped'; END IF; RETURN OLD; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                'CREATE TRIGGER stop BEFORE DELETE ON "Stock" FOR EACH ROW EXECUTE FUNCTION stop()'
            )

    with pytest.raises(sa.exc.DatabaseError, match="stopped"):
        _undo(services, run)

    assert _values(services) == {5: 5, 6: 6}  # two batches undone, the third as it was
    (failed,) = [r for r in services.runs.runs() if r.trigger == "undo"]
    assert failed.status == "failed"
    _undo(services, failed)  # and what it did undo can be put back
    assert _values(services) == {i: i for i in range(1, 7)}


def test_undo_puts_back_floats_exactly(services: Services) -> None:
    exact = [0.1 + 0.2, 123456789.12345678, 2.0**60, 1e-300]
    ids = [open_table(services.tables, "Stock").insert({"f": f})["id"] for f in exact]
    run, stock = _as_run(services)
    stock.update({"id": ids[0], "f": 1.5})
    stock.delete(ids[1])
    stock.where(id__in=ids[2:]).delete()
    assert _undo(services, run)["restored"] == 4
    kept = {r["id"]: r["f"] for r in open_table(services.tables, "Stock").read()}
    assert [kept[i] for i in ids] == exact  # not rounded to 15 digits on the way


def test_a_run_undone_already_is_refused_until_its_undo_is_undone(services: Services) -> None:
    open_table(services.tables, "Stock").insert_many([{"n": 1}, {"n": 2}])
    run, stock = _as_run(services)
    stock.update({"id": 1, "n": 10})
    first = _undo(services, run)
    undo = services.runs.get(int(first["undo_run"]))  # type: ignore[call-overload]
    told = [e.message for e in services.runs.entries(run_id=undo.id)]
    assert told == [f"Undo of run {run.id}: 0 deleted, 1 restored"]
    with pytest.raises(ConsoleError, match=f"undone already, by run {undo.id}"):
        _undo(services, run)
    _undo(services, undo)  # its changes put back: the run may be undone again
    assert _values(services) == {1: 10, 2: 2}
    again = _undo(services, run)  # the row is back as the run left it: no conflict
    assert (again["restored"], again["conflicts"]) == (1, [])
    assert _values(services) == {1: 1, 2: 2}


@pytest.mark.parametrize("binary", [False, True])  # SQLite puts bytes back in Python
def test_runs_undone_newest_first_need_no_force(services: Services, binary: bool) -> None:
    when = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    extra: dict[str, object] = {"raw": b"\x00\xff"} if binary else {}
    open_table(services.tables, "Stock").insert_many([{"n": 1}, {"n": 2}])
    before = _values(services)
    first, stock = _as_run(services)
    stock.insert_many([{"n": 3, "at": when, "x": 0.1, "ok": True, **extra}, {"n": 4}])
    stock.update({"id": 1, "n": 10})
    stock.update({"id": 2, "n": 20})
    second, later = _as_run(services)
    later.update({"id": 3, "n": 30, "x": 2.5})  # rows the first run wrote, changed again
    later.delete(4)
    later.update({"id": 1, "n": 100})
    later.delete(2)

    assert _undo(services, second)["conflicts"] == []
    assert _values(services) == {1: 10, 2: 20, 3: 3, 4: 4}
    undone = _undo(services, first)  # each row is back as the first run left it

    assert (undone["deleted"], undone["restored"], undone["conflicts"]) == (2, 2, [])
    assert _values(services) == before


def test_a_change_an_undo_did_not_take_back_is_still_a_conflict(services: Services) -> None:
    run, stock = _as_run(services)
    stock.insert_many([{"n": 1}, {"n": 2}])
    stock_by_hand = open_table(services.tables, "Stock")
    stock_by_hand.update({"id": 1, "n": 10})  # a person's edit, which no undo takes back
    later_run, later = _as_run(services)
    later.update({"id": 1, "n": 11})
    later.update({"id": 2, "n": 22})
    _undo(services, later_run)  # row 1 goes back to the person's 10, row 2 to the run's 2
    stock_by_hand.update({"id": 2, "n": 2})  # the same value, but a person's: their row now

    result = _undo(services, run)

    assert result["conflicts"] == [{"table": "Stock", "id": 1}, {"table": "Stock", "id": 2}]
    assert _values(services) == {1: 10, 2: 2}


def test_many_rows_undone_newest_first_need_no_force(services: Services) -> None:
    many = 33_000  # more row ids than SQLite binds in one statement
    open_table(services.tables, "Stock").insert_many([{"n": -i} for i in range(many)])
    first, stock = _as_run(services)
    stock.insert_many([{"n": i} for i in range(many)])
    stock.where(n__le=0).update(n=0)
    second, later = _as_run(services)
    later.where(n__ge=0).update(n=1)

    assert _undo(services, second)["conflicts"] == []
    undone = _undo(services, first)

    assert (undone["deleted"], undone["restored"], undone["conflicts"]) == (many, many, [])
    assert sorted(_values(services).values()) == sorted(-i for i in range(many))
