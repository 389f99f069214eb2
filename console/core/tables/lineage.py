"""Which run wrote a row, and what the row was before it: the owner of
`run_row_images`.

A run's script stamps every row it writes with `__runId`. Before it first
updates or deletes a row that it did not write itself, the row as it was
goes into `run_row_images`, in the same transaction as the change: what
undoing the run puts back. Rows the run inserted need none (their
`__runId` says so). Images go with their run (a foreign key): pruned with
the run's log after `log_retention_days`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from console.core.clock import parse_iso
from console.core.store import schema
from console.core.tables.row_diff import plain
from console.core.tables.values import ColumnInfo

_BATCH = 1000


def keep_before(
    conn: Connection,
    run_id: int | None,
    sa_table: sa.Table,
    chosen: sa.ColumnElement[bool],
) -> None:
    """Inside the writing transaction, before the change: keep the image of
    every row `chosen` picks that run `run_id` has not written yet (None: a
    person's edit, which keeps none)."""
    if run_id is None:
        return
    not_ours = sa.or_(sa_table.c["__runId"].is_(None), sa_table.c["__runId"] != run_id)
    stmt = sa.select(sa_table).where(chosen, not_ours)
    batch: list[dict[str, Any]] = []
    for row in conn.execute(stmt):
        values = {k: plain(v) for k, v in row._mapping.items()}
        batch.append(
            {
                "run_id": run_id,
                "table_name": sa_table.name,
                "row_id": values["id"],
                "before": json.dumps(values, default=str),
            }
        )
        if len(batch) >= _BATCH:
            conn.execute(schema.run_row_images.insert(), batch)
            batch = []
    if batch:
        conn.execute(schema.run_row_images.insert(), batch)


def images(conn: Connection, run_id: int) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """The run's before-images: (table, row id, row as it was)."""
    images_table = schema.run_row_images
    stmt = (
        sa.select(images_table.c.table_name, images_table.c.row_id, images_table.c.before)
        .where(images_table.c.run_id == run_id)
        .order_by(images_table.c.table_name, images_table.c.row_id)
    )
    for table_name, row_id, before in conn.execute(stmt):
        yield table_name, int(row_id), json.loads(before)


def has_images(conn: Connection, run_id: int) -> bool:
    images_table = schema.run_row_images
    stmt = sa.select(images_table.c.run_id).where(images_table.c.run_id == run_id).limit(1)
    return conn.execute(stmt).first() is not None


def decoded(row: Mapping[str, Any], columns: Mapping[str, ColumnInfo]) -> dict[str, Any]:
    """A before-image's values as the table stores them."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name not in columns:
            continue  # a column gone since: nothing to put it in
        kind = columns[name].kind
        if value is not None and kind == "datetime" and isinstance(value, str):
            value = parse_iso(value)
        elif value is not None and kind == "binary" and isinstance(value, str):
            value = bytes.fromhex(value)
        out[name] = value
    return out
