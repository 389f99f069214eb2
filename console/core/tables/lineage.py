"""Which run wrote a row, and what the row was before it: the owner of
`run_row_images`.

A run's script stamps every row it writes with `__runId`. Before it first
updates or deletes a row that it did not write itself, the row as it was
goes into `run_row_images`, in the same transaction as the change: what
undoing the run puts back. Rows the run inserted need none (their
`__runId` says so). Images go with their run (a foreign key): pruned with
the run's log after `log_retention_days`.

A write that changes rows another run wrote (a later run's, or a person's)
notes them in `run_overwrites` under that run: undoing it leaves them alone.
Images are built by the database (`INSERT … SELECT` of each row as JSON
text), not one Python object a row.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from console.core.store import schema
from console.core.tables.values import ColumnInfo

#: Key/value pairs per JSON-building call (PostgreSQL takes at most 100 arguments).
_PAIRS = 40


def keep_before(
    conn: Connection,
    run_id: int | None,
    sa_table: sa.Table,
    chosen: sa.ColumnElement[bool],
) -> None:
    """Inside the writing transaction, before the change: keep the image of
    every row `chosen` picks that run `run_id` has not written yet (None: a
    person's edit, which keeps none); and `note_overwrites`."""
    note_overwrites(conn, run_id, sa_table, chosen)
    if run_id is None:
        return
    not_ours = sa.or_(sa_table.c["__runId"].is_(None), sa_table.c["__runId"] != run_id)
    _keep(conn, run_id, sa_table, sa.and_(chosen, not_ours))


@contextmanager
def gathered_ids(
    conn: Connection, sa_table: sa.Table, chosen: sa.ColumnElement[bool]
) -> Iterator[sa.ColumnElement[bool]]:
    """The rows `chosen` picks, as a condition on their ids gathered once into
    a temporary table: a costly condition (a GROUP BY over the table) is then
    evaluated once, not by each of `keep_before`'s statements and the write.
    The table goes at the end (and with the transaction, if it is undone)."""
    doomed = sa.Table(
        "console_chosen_ids",
        sa.MetaData(),
        sa.Column("id", sa.BigInteger, primary_key=True),
        prefixes=["TEMPORARY"],
    )
    doomed.create(conn)
    try:
        conn.execute(doomed.insert().from_select(["id"], sa.select(sa_table.c.id).where(chosen)))
        yield sa_table.c.id.in_(sa.select(doomed.c.id))
    finally:
        doomed.drop(conn)


def note_overwrites(
    conn: Connection, run_id: int | None, sa_table: sa.Table, chosen: sa.ColumnElement[bool]
) -> None:
    """Inside the writing transaction, before the change: note, under each
    run that wrote a row `chosen` picks (other than `run_id`, the writer;
    None: a person), that a later write changed it."""
    owner = sa_table.c["__runId"]
    others = owner.is_not(None) if run_id is None else sa.and_(owner.is_not(None), owner != run_id)
    known = owner.in_(sa.select(schema.runs.c.id))  # a pruned run has nothing left to undo
    rows = sa.select(owner, sa.literal(sa_table.name), sa_table.c.id).where(chosen, others, known)
    _insert_new(conn, schema.run_overwrites, ["run_id", "table_name", "row_id"], rows)


def _insert_new(conn: Connection, table: sa.Table, into: list[str], rows: sa.Select[Any]) -> None:
    """INSERT … SELECT, leaving out rows whose key is there already."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        conn.execute(insert(table).from_select(into, rows).on_conflict_do_nothing())
    else:
        conn.execute(table.insert().prefix_with("OR IGNORE").from_select(into, rows))


def overwritten(run_id: int, table: str) -> sa.Select[tuple[int]]:
    """The ids of rows of `table` the run wrote that a later write changed."""
    t = schema.run_overwrites
    return sa.select(t.c.row_id).where(t.c.run_id == run_id, t.c.table_name == table)


def keep_deleted(
    conn: Connection, run_id: int, sa_table: sa.Table, chosen: sa.ColumnElement[bool]
) -> None:
    """Inside the deleting transaction, before the delete: keep the image of
    every row `chosen` picks (an undo's own deletes, whatever wrote them)."""
    _keep(conn, run_id, sa_table, chosen)


def _keep(
    conn: Connection, run_id: int, sa_table: sa.Table, chosen: sa.ColumnElement[bool]
) -> None:
    """Images of the rows `chosen` picks, built by the database: no Python
    object a row. A row already imaged by the run keeps its first image."""
    image = _image_sql(conn.dialect.name, sa_table)
    rows = sa.select(sa.literal(run_id), sa.literal(sa_table.name), sa_table.c.id, image)
    into = ["run_id", "table_name", "row_id", "before"]
    _insert_new(conn, schema.run_row_images, into, rows.where(chosen))


def _image_sql(dialect: str, sa_table: sa.Table) -> sa.ColumnElement[Any]:
    """A row as JSON text, in SQL, much as `plain` and `json.dumps` would
    write it: binary as hex, booleans as JSON's, datetimes in ISO 8601 (on
    SQLite as the column stores them: UTC, a space for the "T" and no
    offset); `decoded` and `plain_image` read it back."""
    pairs: list[tuple[str, sa.ColumnElement[Any]]] = []
    for column in sa_table.c:
        value: sa.ColumnElement[Any] = column
        if isinstance(column.type, sa.LargeBinary):
            hexed = sa.func.hex(column) if dialect == "sqlite" else sa.func.encode(column, "hex")
            value = sa.case((column.is_(None), None), else_=hexed)
        elif dialect != "sqlite":
            pass  # PostgreSQL's JSON writes its timestamps and booleans so already
        elif isinstance(column.type, schema.UTCDateTime):
            pass  # as stored, UTC without its offset (spelling it cost a move 40 %)
        elif isinstance(column.type, sa.Float):  # json_object keeps 15 digits: 17 are exact
            value = sa.case(
                (column.is_(None), None), else_=sa.func.json(sa.func.printf("%!.17g", column))
            )
        elif isinstance(column.type, sa.Boolean):  # stored as 0 or 1
            value = sa.case(
                (column.is_(None), None),
                (sa.type_coerce(column, sa.Integer) != 0, sa.func.json("true")),
                else_=sa.func.json("false"),
            )
        pairs.append((column.name, value))
    chunks = [pairs[i : i + _PAIRS] for i in range(0, len(pairs), _PAIRS)]
    if dialect == "postgresql":
        built = [
            sa.func.jsonb_build_object(
                # keys cast: PostgreSQL cannot tell an untyped parameter's type here
                *(x for n, v in chunk for x in (sa.cast(sa.literal(n), sa.Text), v))
            )
            for chunk in chunks
        ]
        whole: sa.ColumnElement[Any] = built[0]
        for more in built[1:]:
            whole = whole.op("||")(more)
        return sa.cast(whole, sa.Text)
    image: sa.ColumnElement[Any] = sa.func.json_object(*(x for pair in chunks[0] for x in pair))
    for chunk in chunks[1:]:
        image = sa.func.json_set(image, *(x for n, v in chunk for x in (f'$."{n}"', v)))
    return image


def images(
    conn: Connection,
    run_id: int,
    table: str | None = None,
    present_in: sa.Table | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """The run's before-images (of `table` only, if given; only of rows
    `present_in` holds now, if given; of row ids above `after`, at most
    `limit`): (table, row id, row as it was)."""
    images_table = schema.run_row_images
    stmt = (
        sa.select(images_table.c.table_name, images_table.c.row_id, images_table.c.before)
        .where(images_table.c.run_id == run_id)
        .order_by(images_table.c.table_name, images_table.c.row_id)
    )
    if table is not None:
        stmt = stmt.where(images_table.c.table_name == table)
    if present_in is not None:
        stmt = stmt.where(sa.exists().where(present_in.c.id == images_table.c.row_id))
    if after is not None:
        stmt = stmt.where(images_table.c.row_id > after)
    if limit is not None:
        stmt = stmt.limit(limit)
    for table_name, row_id, before in conn.execute(stmt):
        yield table_name, int(row_id), json.loads(before)


#: A row's columns that any write changes: left out when rows are compared.
_STAMPS = ("__updatedAt", "__version", "__runId")
#: Row ids one statement binds (SQLite binds at most 32,766 values).
IDS_AT_ONCE = 10_000


def in_chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    """`ids`, `IDS_AT_ONCE` at a time."""
    for start in range(0, len(ids), IDS_AT_ONCE):
        yield list(ids[start : start + IDS_AT_ONCE])


def as_left_by(
    conn: Connection,
    target: int,
    sa_table: sa.Table,
    ids: Sequence[int],
    writers: sa.Select[tuple[int]],
) -> list[int]:
    """Of the rows `ids`, which run `target` wrote and later writes changed,
    those a run of `writers` wrote last (an undo) and that hold again what
    `target` left in them: their values are those of the newest image a
    later run kept of the row as `target` wrote it. Undoing `target` then
    undoes no one else's change."""
    img, found = schema.run_row_images, list[int]()
    for chunk in in_chunks(ids):
        now = conn.execute(
            sa.select(sa_table.c.id, _image_sql(conn.dialect.name, sa_table)).where(
                sa_table.c.id.in_(chunk), sa_table.c["__runId"].in_(writers)
            )
        ).all()
        current = {int(row_id): json.loads(text) for row_id, text in now}
        left: dict[int, dict[str, Any]] = {}
        kept = sa.select(img.c.row_id, img.c.before).where(
            img.c.table_name == sa_table.name,
            img.c.run_id > target,
            img.c.row_id.in_(list(current)),
        )
        for row_id, text in conn.execute(kept) if current else ():
            image = json.loads(text)
            newest = left.get(int(row_id), {}).get("__version", -1)
            if image.get("__runId") == target and int(image.get("__version") or 0) > newest:
                left[int(row_id)] = image
        found.extend(
            row_id
            for row_id, row in current.items()
            if row_id in left
            and all(left[row_id].get(k) == v for k, v in row.items() if k not in _STAMPS)
        )
    return sorted(found)


def restores_in_sql(dialect: str, columns: Mapping[str, ColumnInfo]) -> bool:
    """Whether `restore_absent` can put back rows of a table of `columns`
    (SQLite before 3.41 cannot turn hex back into bytes in SQL)."""
    return dialect != "sqlite" or all(c.kind != "binary" for c in columns.values())


def restore_absent(
    conn: Connection,
    target: int,
    writer: int,
    sa_table: sa.Table,
    columns: Mapping[str, ColumnInfo],
    now: datetime,
    after: int | None,
    up_to: int | None,
) -> int:
    """Inside a write transaction: put back, with their ids, the rows of
    `sa_table` whose images run `target` kept (row ids in (`after`,
    `up_to`]) and that the table no longer holds, built in SQL from the
    images, as written by run `writer` at `now`; returns how many."""
    img = schema.run_row_images
    chosen = [
        img.c.run_id == target,
        img.c.table_name == sa_table.name,
        ~sa.exists().where(sa_table.c.id == img.c.row_id),
    ]
    if after is not None:
        chosen.append(img.c.row_id > after)
    if up_to is not None:
        chosen.append(img.c.row_id <= up_to)
    dialect = conn.dialect.name
    values: dict[str, sa.ColumnElement[Any]] = {}
    for name, info in columns.items():
        if name == "id":
            values[name] = img.c.row_id
        elif name == "__updatedAt":
            values[name] = sa.literal(now, schema.UTCDateTime())
        elif name == "__runId":
            values[name] = sa.literal(writer, sa.BigInteger())
        elif name == "__version":
            values[name] = sa.func.coalesce(_field(dialect, img.c.before, name, "integer"), 0) + 1
        else:
            values[name] = _field(dialect, img.c.before, name, info.kind)
    rows = sa.select(*values.values()).where(*chosen)
    # Counted by RETURNING: psycopg gives an INSERT … SELECT no rowcount (-1).
    stmt = sa_table.insert().from_select(list(values), rows).returning(sa_table.c.id)
    return len(conn.execute(stmt).all())


def restore_present(
    conn: Connection,
    target: int,
    writer: int,
    sa_table: sa.Table,
    columns: Mapping[str, ColumnInfo],
    now: datetime,
    window: tuple[int | None, int | None],
    force: bool,
    only: Sequence[int] | None = None,
) -> tuple[int, list[int]]:
    """Inside a write transaction: put back, in SQL, the rows of `sa_table`
    whose images run `target` kept (row ids in `window`, (after, up_to])
    and that the table still holds, as written by run `writer` at `now`,
    keeping `writer`'s own images of them first. A row a later write
    changed (its `__runId` no longer names `target`) is left alone unless
    `force`; `only`: of these row ids alone. Returns how many were put back,
    and the ids left alone."""
    img = schema.run_row_images
    imaged = [
        img.c.run_id == target,
        img.c.table_name == sa_table.name,
        img.c.row_id == sa_table.c.id,
    ]
    after, up_to = window
    if after is not None:
        imaged.append(img.c.row_id > after)
    if up_to is not None:
        imaged.append(img.c.row_id <= up_to)
    if only is not None:
        imaged.append(img.c.row_id.in_(only))
    owner = sa_table.c["__runId"]
    changed_since = sa.or_(owner.is_(None), owner != target)
    left: list[int] = []
    if not force:
        found = sa.select(sa_table.c.id).where(*imaged, changed_since).order_by(sa_table.c.id)
        left = [int(i) for i in conn.execute(found).scalars()]
    ours = [] if force else [sa.not_(changed_since)]
    chosen = sa.exists().where(*imaged, *ours)
    keep_before(conn, writer, sa_table, chosen)
    dialect = conn.dialect.name
    image = sa.cast(img.c.before, _jsonb()) if dialect == "postgresql" else img.c.before
    values: dict[str, Any] = {
        "__updatedAt": sa.literal(now, schema.UTCDateTime()),
        "__runId": sa.literal(writer, sa.BigInteger()),
        "__version": sa_table.c["__version"] + 1,
    }
    for name, info in columns.items():
        if name in values or name == "id":
            continue
        if dialect == "postgresql":
            kept = image.op("?")(sa.cast(sa.literal(name), sa.Text))
        else:
            kept = sa.func.json_type(image, f'$."{name}"').is_not(None)
        # A column the image lacks (added since) keeps its value, as row by row.
        values[name] = sa.case(
            (kept, _field(dialect, img.c.before, name, info.kind)), else_=sa_table.c[name]
        )
    stmt = sa_table.update().where(*imaged, *ours).values(values).returning(sa_table.c.id)
    return len(conn.execute(stmt).all()), left


def _jsonb() -> Any:
    """PostgreSQL's JSONB, its dialect loaded only on PostgreSQL (it costs
    every SQLite run's start 10-25 ms)."""
    from sqlalchemy.dialects.postgresql import JSONB

    return JSONB


def _field(
    dialect: str, image: sa.ColumnElement[Any], name: str, kind: str
) -> sa.ColumnElement[Any]:
    """One value of an image (JSON text), in SQL, as its column stores it."""
    if dialect == "postgresql":
        text = sa.cast(image, _jsonb()).op("->>")(name)
        if kind == "binary":
            return sa.func.decode(text, "hex")
        casts: dict[str, Any] = {
            "integer": sa.BigInteger(),
            "float": sa.Double(),
            "boolean": sa.Boolean(),
            "datetime": sa.DateTime(timezone=True),
        }
        return sa.cast(text, casts[kind]) if kind in casts else text
    value = sa.func.json_extract(image, f'$."{name}"')
    if kind != "datetime":
        return value
    # ISO 8601 with "T" or " ", with or without microseconds, offset +00:00:
    # SQLite's stored text is "YYYY-MM-DD HH:MM:SS.ffffff".
    whole = sa.func.replace(sa.func.substr(value, 1, 19), "T", " ")
    fraction = sa.case(
        (sa.func.substr(value, 20, 1) == ".", sa.func.substr(value, 20, 7)), else_=".000000"
    )
    return sa.case((value.is_(None), None), else_=whole.op("||")(fraction))


def has_images(conn: Connection, run_id: int) -> bool:
    images_table = schema.run_row_images
    stmt = sa.select(images_table.c.run_id).where(images_table.c.run_id == run_id).limit(1)
    return conn.execute(stmt).first() is not None


def image_time(text: str) -> datetime:
    """A time as an image holds it: ISO 8601, UTC when it names no offset."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def plain_image(before: str, sa_table: sa.Table) -> dict[str, Any]:
    """A before-image (JSON text) of a row of `sa_table` as `plain` writes a
    row: its times in ISO 8601 with their offset, binary as base64."""
    row: dict[str, Any] = json.loads(before)
    for column in sa_table.c:
        value = row.get(column.name)
        if isinstance(column.type, schema.UTCDateTime) and isinstance(value, str):
            row[column.name] = image_time(value).isoformat()
        elif isinstance(column.type, sa.LargeBinary) and isinstance(value, str):
            row[column.name] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
        elif isinstance(column.type, sa.Float) and isinstance(value, int):
            row[column.name] = float(value)  # PostgreSQL's JSON writes 2.0**60 without its point
    return row


def decoded(row: Mapping[str, Any], columns: Mapping[str, ColumnInfo]) -> dict[str, Any]:
    """A before-image's values as the table stores them."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name not in columns:
            continue  # a column gone since: nothing to put it in
        kind = columns[name].kind
        if value is not None and kind == "datetime" and isinstance(value, str):
            value = image_time(value)
        elif value is not None and kind == "binary" and isinstance(value, str):
            value = bytes.fromhex(value)
        out[name] = value
    return out
