"""What a dry run wrote: one user table as a held transaction saw it
(`Store.hold`) against the table as committed, compared row by row.

Rows above the table's highest id before the run's first write to it
(`Store.held_high`) are all inserts: counted, and `SAMPLE` of them read, in
SQL. Under it, the rows the run changed carry its `__runId`, and those it
deleted left a before-image: only the former are written to a file
(`snapshot`), in id order, before the transaction rolls back (on PostgreSQL
a column it added locks the table against any other reader until then),
then compared with the committed rows of their ids. A table that got rows
without the run's stamp (`move_to`'s target) is compared whole: every row
to the file, merged in id order with the committed rows. Either way memory
stays bounded whatever the size of the table: exact counts, plus at most
`SAMPLE` rows per kind.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from console.core.store import schema
from console.core.tables import lineage
from console.core.tables.catalogue import built_table
from console.core.tables.values import SYSTEM_COLUMNS

#: Sample rows kept per kind (inserted, updated, deleted) per table.
SAMPLE = 1000
_BATCH = 2000


def plain(value: object) -> object:
    """A value as JSON can carry it, as `table rows --json` writes it: times
    in ISO 8601 with their offset, binary as standard base64."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _row(mapping: Any) -> dict[str, object]:
    return {k: plain(v) for k, v in dict(mapping).items()}


def _reflect(conn: Connection, name: str) -> sa.Table | None:
    """The user table `name` as the console types its columns (times read
    back with their offset on SQLite too), from its catalogue as `conn`
    sees it; None where there is no such table."""
    if conn.execute(sa.select(schema.user_tables.c.name).where(_named(name))).first() is None:
        return None
    kinds = conn.execute(
        sa.select(schema.user_columns.c.name, schema.user_columns.c.kind)
        .where(schema.user_columns.c.table_name == name)
        .order_by(schema.user_columns.c.position)
    ).all()
    return built_table(name, tuple((n, k) for n, k in kinds))


def _named(name: str) -> sa.ColumnElement[bool]:
    return schema.user_tables.c.name == name


def _rows(
    conn: Connection, table: sa.Table | None, up_to: int | None = None
) -> Iterator[dict[str, object]]:
    if table is None:
        return
    stmt = sa.select(table).order_by(table.c.id)
    if up_to is not None:
        stmt = stmt.where(table.c.id <= up_to)
    for row in conn.execution_options(yield_per=_BATCH).execute(stmt):
        yield _row(row._mapping)


@dataclass
class Snapshot:
    """The held side of one table: its columns; the rows above its highest
    committed id `high` (all inserts: counted, and a sample); when the run
    `stamped` every row it changed under `high` (its `__runId`), the rows it
    deleted there, from its before-images (counted, and a sample)."""

    columns: list[str]
    high: int | None
    stamped: bool = False
    inserted: int = 0
    inserted_sample: list[dict[str, object]] = field(default_factory=list)
    deleted: int = 0
    deleted_sample: list[dict[str, object]] = field(default_factory=list)


def snapshot(
    conn: Connection,
    name: str,
    into: IO[str],
    high: int | None = None,
    run_id: int | None = None,
) -> Snapshot:
    """Write to `into`, as JSON lines in id order, the table's rows up to
    id `high` (all of them if None) that the diff must compare: with the
    writing run's id, only the rows that run stamped. Count and sample the
    rest in SQL."""
    table = _reflect(conn, name)
    stamped = table is not None and high is not None and run_id is not None
    taken = Snapshot([] if table is None else list(table.c.keys()), high, stamped)
    if table is None:
        return taken
    stmt = sa.select(table).order_by(table.c.id)
    if high is not None:
        stmt = stmt.where(table.c.id <= high)
    if stamped:
        stmt = stmt.where(table.c["__runId"] == run_id)
    for row in conn.execution_options(yield_per=_BATCH).execute(stmt):
        into.write(json.dumps(_row(row._mapping), default=str) + "\n")
    into.flush()
    if high is not None:
        above = table.c.id > high
        count = sa.select(sa.func.count()).select_from(table)
        taken.inserted = int(conn.execute(count.where(above)).scalar() or 0)
        sample = sa.select(table).where(above).order_by(table.c.id).limit(SAMPLE)
        taken.inserted_sample = [_row(r._mapping) for r in conn.execute(sample)]
    if stamped:
        assert run_id is not None and high is not None
        images = schema.run_row_images
        gone = sa.and_(
            images.c.run_id == run_id,
            images.c.table_name == name,
            images.c.row_id <= high,
            ~sa.exists().where(table.c.id == images.c.row_id),
        )
        count = sa.select(sa.func.count()).select_from(images)
        taken.deleted = int(conn.execute(count.where(gone)).scalar() or 0)
        sample = sa.select(images.c.before).where(gone).order_by(images.c.row_id).limit(SAMPLE)
        befores = conn.execute(sample).scalars()
        taken.deleted_sample = [lineage.plain_image(b, table) for b in befores]
    return taken


def _read_back(lines: IO[str]) -> Iterator[dict[str, object]]:
    lines.seek(0)
    for line in lines:
        yield json.loads(line)


def _same(value: object) -> object:
    """A committed value as its snapshot reads back."""
    return json.loads(json.dumps(value, default=str))


def table_diff(
    held: Snapshot, held_rows: IO[str], committed: Connection, name: str
) -> dict[str, Any]:
    """`{"inserted": n, "updated": n, "deleted": n, "columns_added": [...],
    "rows": {"inserted": [...], "updated": [{"id", "before", "after",
    "changed"}], "deleted": [...]}}` for the table `name`, from its
    `snapshot` and its committed rows."""
    after_columns = held.columns
    before_table = _reflect(committed, name)
    before_columns = set() if before_table is None else set(before_table.c.keys())
    added = [
        c
        for c in after_columns
        if c not in before_columns and c not in SYSTEM_COLUMNS and c != "id"
    ]
    counts = {"inserted": held.inserted, "updated": 0, "deleted": held.deleted}
    samples: dict[str, list[dict[str, object]]] = {k: [] for k in counts}
    samples["inserted"] = list(held.inserted_sample)
    samples["deleted"] = list(held.deleted_sample)

    def note(kind: str, row: dict[str, object]) -> None:
        counts[kind] += 1
        if len(samples[kind]) < SAMPLE:
            samples[kind].append(row)

    after_rows = _read_back(held_rows)
    if held.stamped:
        _compare_by_id(after_rows, committed, before_table, note)
        return {**counts, "columns_added": added, "rows": samples}
    before_rows = (
        {k: _same(v) for k, v in r.items()} for r in _rows(committed, before_table, held.high)
    )
    after, before = next(after_rows, None), next(before_rows, None)
    while after is not None or before is not None:
        if before is None or (after is not None and after["id"] < before["id"]):  # type: ignore[operator]
            assert after is not None
            note("inserted", after)
            after = next(after_rows, None)
        elif after is None or before["id"] < after["id"]:  # type: ignore[operator]
            note("deleted", before)
            before = next(before_rows, None)
        else:
            _compare(before, after, note)
            after, before = next(after_rows, None), next(before_rows, None)
    return {**counts, "columns_added": added, "rows": samples}


def _compare(
    before: dict[str, object],
    after: dict[str, object],
    note: Callable[[str, dict[str, object]], None],
) -> None:
    changed = [
        c
        for c in after
        if c not in ("__updatedAt", "__version", "__runId") and before.get(c) != after[c]
    ]
    if changed or before.get("__version") != after.get("__version"):
        note("updated", {"id": after["id"], "before": before, "after": after, "changed": changed})


def _compare_by_id(
    after_rows: Iterator[dict[str, object]],
    committed: Connection,
    before_table: sa.Table | None,
    note: Callable[[str, dict[str, object]], None],
) -> None:
    """Each held row the run stamped against the committed row of its id,
    fetched `_BATCH` ids at a time: work in proportion to what it changed."""
    while chunk := list(itertools.islice(after_rows, _BATCH)):
        before: dict[object, dict[str, object]] = {}
        if before_table is not None:
            stmt = sa.select(before_table).where(before_table.c.id.in_([r["id"] for r in chunk]))
            for row in committed.execute(stmt):
                found = {k: _same(v) for k, v in _row(row._mapping).items()}
                before[found["id"]] = found
        for after in chunk:
            if after["id"] in before:
                _compare(before[after["id"]], after, note)
            else:
                note("inserted", after)
