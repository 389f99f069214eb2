"""Undo of a whole run on SQLite and PostgreSQL: inserts deleted, updates and
deletes put back, later edits left alone unless forced, an undo undone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.app import Services, open_services
from console.core.errors import ConsoleError
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
    return undo_run(services.runs, services.tables, run.id, "test", force=force).as_json()


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
