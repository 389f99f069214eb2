"""Every Save keeps the old script; versions listed and read back, on both
databases; a database from before versions and lineage is upgraded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from console.app import Services, open_services
from console.core.errors import NotFoundError
from console.core.jobs.versions import diff_text
from console.core.store.database import MIGRATIONS_DIR, Store
from console.core.tables.catalogue import TableStore
from console.demo.memory_keyring import MemoryKeyring


@pytest.fixture
def services(home: Path, db_url: str) -> Iterator[Services]:
    opened = open_services(home, db_url, keyring_backend=MemoryKeyring())
    yield opened
    opened.store.dispose()


def test_every_save_keeps_the_old_script(services: Services) -> None:
    first = services.jobs.create("work").script
    assert [v.script for v in services.jobs.versions("work")] == [first]
    services.jobs.set_script("work", "def work():\n    pass\n")
    services.jobs.set_script("work", "def work():\n    return 2\n")
    services.jobs.set_script("work", "def work():\n    return 2\n")  # unchanged: no version
    kept = services.jobs.versions("work")
    assert [v.version for v in kept] == [1, 2, 3]
    assert services.jobs.script_version("work", 1).script == first
    assert services.jobs.script_version("work", 3).script == "def work():\n    return 2\n"
    with pytest.raises(NotFoundError, match="no script version 4"):
        services.jobs.script_version("work", 4)


def test_the_version_a_run_ran_and_what_changed_since(services: Services) -> None:
    services.jobs.create("work")
    services.jobs.set_script("work", "def work():\n    return 1\n")
    services.jobs.set_script("work", "def work():\n    return 2\n")
    kept = services.jobs.versions("work")

    used, current = services.jobs.version_ran("work", kept[1].saved_at)

    assert (used.version, current.version) == (2, 3)
    changes = diff_text(used, current)
    assert "-    return 1\n" in changes and "+    return 2\n" in changes
    assert services.jobs.version_ran("work", kept[0].saved_at)[0].version == 1
    assert diff_text(current, current) == ""


def test_an_older_database_gets_lineage(home: Path, db_url: str) -> None:
    store = Store(db_url, migrate=False)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.write() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
    with store.write() as conn:  # a user table as 0006 made it
        conn.execute(sa.text("INSERT INTO user_tables VALUES ('Old', 'old', '2026-01-01')"))
        conn.execute(sa.text('CREATE TABLE "Old" (id INTEGER PRIMARY KEY, "__version" INTEGER)'))
        conn.execute(sa.text('INSERT INTO "Old" VALUES (1, 1)'))
    store.dispose()
    upgraded = Store(db_url)
    TableStore(upgraded).create("New")
    with upgraded.read() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("Old")}
        kept = conn.execute(sa.text('SELECT id, "__runId" FROM "Old"')).all()
        indexed = [
            [i["column_names"] for i in sa.inspect(conn).get_indexes(t)] for t in ("Old", "New")
        ]
    upgraded.dispose()
    assert "__runId" in columns and [tuple(r) for r in kept] == [(1, None)]
    assert indexed == [[["__runId"]], [["__runId"]]]  # 0009, and every table made since
