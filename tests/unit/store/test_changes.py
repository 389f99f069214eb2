"""Every write says what it changed, after it commits; another process hears
it too (PostgreSQL NOTIFY, SQLite data_version)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from console.app import open_services
from console.core.errors import ConsoleError
from console.core.store.changes import Change, DataVersion, Listener
from console.core.tables.api import open_table


def test_writes_announce_what_they_changed_after_commit(home: Path, db_url: str) -> None:
    services = open_services(home, db_url)
    heard: list[Change] = []
    services.changes.subscribe(heard.append)
    services.tables.create("Things")
    open_table(services.tables, "Things").insert_many([{"n": 1}, {"n": 2}])
    services.jobs.create("tidy")
    services.settings.set("tier", "standard")
    assert Change("tables", "Things") in heard
    assert Change("columns", "Things") in heard  # n came with the rows
    assert Change("rows", "Things", rows=2) in heard
    assert Change("jobs", "tidy") in heard
    assert Change("settings", "tier") in heard
    heard.clear()
    with pytest.raises(ConsoleError):
        services.tables.create("Things")  # refused: rolled back, nothing announced
    assert heard == []
    services.close()


def test_another_process_is_heard(home: Path, db_url: str) -> None:
    ours = open_services(home, db_url)
    theirs = open_services(home, db_url)  # another process, as far as the feed knows
    ours.tables.create("Things")
    heard: list[Change] = []
    ours.changes.subscribe(heard.append)
    if ours.store.dialect == "postgresql":
        listener = Listener(ours.store.engine, ours.changes)
        listener.start()
        assert listener.listening.wait(10)
        rows = threading.Event()
        ours.changes.subscribe(lambda change: rows.set() if change.topic == "rows" else None)
        open_table(theirs.tables, "Things").insert({"n": 1})
        assert rows.wait(10)
        listener.stop()
        assert Change("rows", "Things", rows=1) in heard
        assert Change("columns", "Things") in heard
    else:
        version = DataVersion(ours.store.engine)
        assert not version.moved()  # the first read is the baseline
        assert not version.moved()
        open_table(theirs.tables, "Things").insert({"n": 1})
        assert version.moved()
        assert not version.moved()
        version.close()
    ours.close()
    theirs.close()
