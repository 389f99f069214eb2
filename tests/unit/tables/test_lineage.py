"""Before-images: kept once per row and run, in the writing transaction,
never for a person's edit; decoded back to the column's kinds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from console.app import Services, open_services
from console.core.errors import ConsoleError
from console.core.store import schema
from console.core.tables import lineage
from console.core.tables.api import open_table
from console.core.tables.catalogue import TableStore
from console.core.tables.row_diff import plain
from console.demo.memory_keyring import MemoryKeyring


@pytest.fixture
def services(home: Path, db_url: str) -> Iterator[Services]:
    opened = open_services(home, db_url, keyring_backend=MemoryKeyring())
    opened.jobs.create("work")
    opened.tables.create("Stock")
    yield opened
    opened.store.dispose()


def test_one_image_a_row_with_its_kinds(services: Services) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    open_table(services.tables, "Stock").insert({"n": 1, "at": when, "blob": b"\x00\x01"})
    open_table(services.tables, "Stock").update({"id": 1, "n": 2})  # a person: no image
    job = services.jobs.get("work")
    run = services.runs.start(job.id, job.name, "run once", "test")
    stock = open_table(TableStore(services.store, run_id=run.id), "Stock")
    stock.update({"id": 1, "n": 3})
    stock.update({"id": 1, "n": 4})
    with services.store.read() as conn:
        images = list(lineage.images(conn, run.id))
        assert lineage.has_images(conn, run.id)
    assert [(t, i) for t, i, _ in images] == [("Stock", 1)]
    _, columns = services.tables.load("Stock", refresh=True)
    before = lineage.decoded(images[0][2], columns)
    assert before["n"] == 2 and before["at"] == when and before["blob"] == b"\x00\x01"


def test_a_deleted_rows_image_reads_back_as_the_row_was(services: Services) -> None:
    """What a dry run shows of a row its run deleted, and what undo puts
    back: the times as the table gave them, in UTC."""
    when = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    open_table(services.tables, "Stock").insert({"n": 1, "at": when, "flag": True})
    [row] = open_table(services.tables, "Stock").read()
    job = services.jobs.get("work")
    run = services.runs.start(job.id, job.name, "run once", "test")
    open_table(TableStore(services.store, run_id=run.id), "Stock").delete(1)
    sa_table, columns = services.tables.load("Stock", refresh=True)
    with services.store.read() as conn:
        [(_, _, image)] = list(lineage.images(conn, run.id))
        [before] = conn.execute(sa.select(schema.run_row_images.c.before)).scalars()
    assert lineage.decoded(image, columns) == row
    assert lineage.plain_image(before, sa_table) == {k: plain(v) for k, v in row.items()}


def test_a_failed_write_keeps_no_image(services: Services) -> None:
    open_table(services.tables, "Stock").insert({"n": 1})
    job = services.jobs.get("work")
    run = services.runs.start(job.id, job.name, "run once", "test")
    stock = open_table(TableStore(services.store, run_id=run.id), "Stock")
    with pytest.raises(ConsoleError):
        stock.update({"id": 1, "n": "not a number"})
    with services.store.read() as conn:
        assert not lineage.has_images(conn, run.id)
