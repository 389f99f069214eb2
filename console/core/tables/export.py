"""A view of a table (its sort and filter) streamed to a CSV file.

One read, in one transaction, in the view's order: not a page query per
2,000 rows. On SQLite the database writes each CSV line itself (quoting,
ISO times with their offset, True/False); in a view in the order of its ids
(the usual one) it also joins a batch of lines into one piece of bytes
(`group_concat`), so Python holds no object per row and only writes; in a
view sorted by another column Python joins the lines; a big one in the order
of its ids is written by two processes, each half the ids (`export_part`).
10M rows cost a little more CPU than the sqlite3 shell's `.mode csv`
(docs/benchmarks.md). A table with
a binary column, and PostgreSQL, take the rows as values and format the
cells that need it in Python. The file is written beside its name first, so
a cancel or a failure leaves no half file; memory stays one batch of lines."""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import itertools
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa

from console.core.store.cancel import Cancel
from console.core.store.database import BUSY_TIMEOUT_MS, sqlite_file
from console.core.tables.browse import Browser, View
from console.core.tables.export_part import Batch, Helper, write_batches

#: Rows fetched and written at a time: about 1 MB of text.
BATCH = 10_000
#: What one batch joined by SQLite should weigh at most, roughly: a table of
#: wide rows takes fewer rows at a time (and SQLite's longest string, 1 GB,
#: is never reached by a batch).
BATCH_BYTES = 2 << 20
#: A view in id order over at least twice these ids is written by two
#: processes, each half the ids (`export_part`); 0 never splits.
SPLIT_ROWS = 100_000
#: The pieces of the id range the two processes share (each takes the next
#: when done: the one with more of the cores writes more of them).
CHUNKS = 16
#: What SQLite raises for a string longer than its longest.
TOO_BIG = sa.exc.DataError


def export_csv(
    browser: Browser,
    view: View,
    path: Path,
    *,
    cancel: Cancel | None = None,
    report: Callable[[int], None] = lambda _rows: None,
    batch: int = BATCH,
) -> int:
    """Write `view` to `path` as CSV (a header, then the rows in the view's
    order), `batch` rows at a time; `report` hears the rows written so far.
    Returns the row count."""
    partial = path.with_name(path.name + ".part")
    sa_table, sort, columns = browser._parts(view)
    where = browser._where(view, sa_table, columns)
    order = browser._order(view, sa_table, sort, reverse=False)
    names = [c.name for c in browser.tables.info(view.table).columns]
    kinds = {c.name: c.kind for c in columns}
    in_sql = browser.tables.store.dialect == "sqlite" and "binary" not in kinds.values()
    database = sqlite_file(str(browser.tables.store.engine.url))
    written = 0
    try:
        with (
            partial.open("wb", buffering=0) as f,
            browser.tables.store.read(cancel) as conn,
        ):
            header = io.StringIO(newline="")
            csv.writer(header).writerow(names)
            f.write(header.getvalue().encode("utf-8"))

            def wrote(rows: int) -> None:
                nonlocal written
                written += rows
                report(written)
                if cancel is not None:
                    cancel.check()

            if in_sql:
                line = _sqlite_line([(sa_table.c[n], kinds[n]) for n in names])
                if view.sort == "id":
                    split = None
                    if (
                        database is not None
                        and SPLIT_ROWS
                        and sys.platform.startswith("linux")
                        and sys.executable
                        and not getattr(sys, "frozen", False)  # a bundle runs no script
                        and not browser.tables.store.holding  # its writes: ours alone
                    ):
                        split = (database, path.with_name(path.name + ".part2"), cancel)
                    _sqlite_batches(
                        conn, sa_table, line, where, view.descending, batch, f, wrote, split
                    )
                else:
                    stmt = sa.select(line).select_from(sa_table).where(*where).order_by(*order)
                    cursor = conn.execute(stmt).cursor
                    while lines := cursor.fetchmany(batch):
                        f.write("\r\n".join([r[0] for r in lines]).encode("utf-8"))
                        f.write(b"\r\n")
                        wrote(len(lines))
            else:
                stmt = sa.select(*[sa_table.c[n] for n in names]).where(*where).order_by(*order)
                result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
                text = io.StringIO(newline="")
                writer = csv.writer(text)
                cells = _python_cells([kinds[n] for n in names])
                for part in result.partitions(batch):
                    writer.writerows(part if cells is None else map(cells, part))
                    f.write(text.getvalue().encode("utf-8"))
                    text.seek(0)
                    text.truncate()
                    wrote(len(part))
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return written


# -- SQLite: the line, written by the database ---------------------------------


def _text(expr: Any) -> sa.ColumnElement[str]:
    return sa.type_coerce(expr, sa.Text)


def _sqlite_cell(column: sa.Column[Any], kind: str) -> tuple[sa.ColumnElement[Any], str]:
    """One cell as `csv.writer` would write `csv_value` of it, and its
    `printf` conversion; NULL for a null (`%s` writes it as nothing).
    Spelled for the fewest steps of SQLite's (counted with callgrind)."""
    value = _text(column)
    if kind == "string":  # LIKE finds a character in fewer steps than instr()
        special = sa.or_(*[value.like(f"%{c}%") for c in (",", '"', "\n", "\r")])
        quoted = _text('"') + _text(sa.func.replace(value, '"', '""')) + _text('"')
        return _text(sa.case((special, quoted), else_=value)), "%s"
    if kind == "boolean":
        number = sa.type_coerce(column, sa.Integer)
        return _text(sa.case((number == 1, "True"), (number == 0, "False"))), "%s"
    if kind == "datetime":  # stored "2026-01-02 03:04:05.000007" (UTC): ISO with "+00:00"
        whole = _text(sa.func.substr(value, 20)) == ".000000"  # isoformat() drops it
        iso = _text(
            sa.case(
                (whole, _text(sa.func.replace(sa.func.substr(value, 1, 19), " ", "T"))),
                else_=_text(sa.func.replace(value, " ", "T")),
            )
        )
        if column.nullable:
            return _text(iso + "+00:00"), "%s"
        return iso, "%s+00:00"  # never null: the offset in the format, one step less
    if kind == "float":  # the shortest of 15, 16, 17 digits that reads back the same
        number = sa.type_coerce(column, sa.Double)
        spelled = [_text(sa.func.printf(f"%!.{d}g", number)) for d in (15, 16)]
        return _text(
            sa.case(
                (column.is_(None), sa.null()),
                *[(sa.cast(s, sa.Double) == number, s) for s in spelled],
                else_=_text(sa.func.printf("%!.17g", number)),
            )
        ), "%s"
    if kind == "integer" and column.primary_key:  # the id: always an integer
        return column, "%d"
    return column, "%s"  # integer: printf writes it in full


def _sqlite_line(columns: Sequence[tuple[sa.Column[Any], str]]) -> sa.ColumnElement[str]:
    """One `printf` per 100 cells (SQLite's limit on a function's arguments)."""
    cells = [_sqlite_cell(column, kind) for column, kind in columns]
    parts = [cells[i : i + 100] for i in range(0, len(cells), 100)]
    line: sa.ColumnElement[str] | None = None
    for part in parts:
        spelled = _text(sa.func.printf(",".join(f for _, f in part), *[e for e, _ in part]))
        line = spelled if line is None else line + "," + spelled
    assert line is not None
    return line


def _sqlite_batches(
    conn: sa.Connection,
    sa_table: sa.Table,
    line: sa.ColumnElement[str],
    where: Sequence[Any],
    descending: bool,
    batch: int,
    f: BinaryIO,
    wrote: Callable[[int], None],
    split: tuple[str, Path, Cancel | None] | None,
) -> None:
    """The view in the order of its ids, `batch` lines at a time joined by
    SQLite itself (`group_concat`, as bytes): no Python object per row.
    Each batch starts after the last id of the one before. SQLite feeds an
    aggregate other than count/min/max the rows of a subquery in the
    subquery's order (it keeps that ORDER BY, and a LIMIT keeps it too);
    the unit test checks the order. The first batch is small; each next
    one as many rows as weigh about BATCH_BYTES, up to `batch`.

    With `split` (the database file, the part file, the cancel) and enough
    ids, the second half of the id range in the view's order is written by
    a helper process at the same time (`export_part`)."""
    id_ = sa_table.c.id
    last = sa.bindparam("last", type_=sa.Integer)
    stop = sa.bindparam("stop", type_=sa.Integer)
    bounds = (id_ < last, id_ >= stop) if descending else (id_ > last, id_ <= stop)
    rows = (
        sa.select(line.label("line"), id_.label("id"))
        .where(*where, *bounds)
        .order_by(id_.desc() if descending else id_)
        .limit(sa.bindparam("size", type_=sa.Integer))
        .subquery()
    )
    last_id = sa.func.min(rows.c.id) if descending else sa.func.max(rows.c.id)
    stmt = sa.select(
        sa.cast(sa.func.group_concat(rows.c.line, "\r\n"), sa.LargeBinary),
        last_id,
        sa.func.count(),
    )
    lowest, highest = -(1 << 63), (1 << 63) - 1
    params: dict[str, int] = {}

    def run(after: int, size: int) -> Batch:
        params.update(last=after, size=size)
        lines, after_id, count = conn.execute(stmt, params).one()
        return lines, after_id, count

    helper = _start_helper(conn, sa_table, stmt, descending, batch, split) if split else None
    if helper is None:
        params["stop"] = lowest if descending else highest
        write_batches(run, highest if descending else lowest, batch, BATCH_BYTES, TOO_BIG, f, wrote)
        return
    cancel = split[2] if split else None
    try:
        with cancel.interrupts(helper.kill) if cancel is not None else contextlib.nullcontext():

            def wrote_both(rows: int) -> None:
                wrote(rows + helper.rows())

            while (chunk := helper.next_chunk()) is not None:
                after, params["stop"] = chunk
                write_batches(run, after, batch, BATCH_BYTES, TOO_BIG, f, wrote_both)
            while (more := helper.more_rows()) is not None:
                wrote(more)
            if cancel is not None:
                cancel.check()
            helper.finish()
            helper.append_to(f)
    finally:
        helper.close()


def _start_helper(
    conn: sa.Connection,
    sa_table: sa.Table,
    stmt: sa.Select[Any],
    descending: bool,
    batch: int,
    split: tuple[str, Path, Cancel | None],
) -> Helper | None:
    """The helper sharing the chunks of the id range with us, reading the
    snapshot of `conn` (which has read nothing yet); None when the table is
    too small to split or a commit came between the two snapshots."""
    database, part, cancel = split
    id_ = sa_table.c.id
    # a third connection: was anything committed between the two snapshots?
    with contextlib.closing(sqlite3.connect(database)) as watch:
        before = watch.execute("PRAGMA data_version").fetchone()
        low, high = conn.execute(sa.select(sa.func.min(id_), sa.func.max(id_))).one()
        if low is None or high - low < 2 * SPLIT_ROWS:
            return None
        kind: Any = type(conn.dialect)
        dialect = kind(paramstyle="named")  # the helper passes its parameters by name
        compiled = stmt.compile(dialect=dialect)
        params = {}
        for name, value in compiled.construct_params({"last": 0, "stop": 0, "size": 0}).items():
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            params[name] = process(value) if process is not None else value
        task = {
            "sql": str(compiled),
            "params": params,
            "batch": batch,
            "batch_bytes": BATCH_BYTES,
            "busy_ms": BUSY_TIMEOUT_MS,
        }
        try:
            helper = Helper(database, part, task)
        except OSError:
            return None
        with cancel.interrupts(helper.kill) if cancel is not None else contextlib.nullcontext():
            started = helper.started()
        if started and watch.execute("PRAGMA data_version").fetchone() == before:
            helper.share(_chunks(low, high, descending))
            return helper
    helper.close()
    return None


def _chunks(low: int, high: int, descending: bool) -> list[tuple[int, int]]:
    """CHUNKS pieces of the ids in the view's order, each `(after, stop)`:
    the ids past `after` up to `stop` (which is in it)."""
    span = high - low + 1
    if descending:
        edges = [high + 1 - span * k // CHUNKS for k in range(CHUNKS + 1)]
        edges[0], edges[-1] = (1 << 63) - 1, -(1 << 63)
    else:
        edges = [low - 1 + span * k // CHUNKS for k in range(CHUNKS + 1)]
        edges[0], edges[-1] = -(1 << 63), (1 << 63) - 1
    return list(itertools.pairwise(edges))


# -- anywhere: the rows as values ----------------------------------------------


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return utc.isoformat()
    return value


def _base64(value: Any) -> Any:
    return value if value is None else base64.b64encode(value).decode("ascii")


def _python_cells(kinds: Sequence[str]) -> Callable[[Sequence[Any]], list[Any]] | None:
    """What turns a row into its cells, touching only the columns that need
    it (times, binary); None when every value is written as it comes."""
    convert: dict[int, Callable[[Any], Any]] = {}
    for i, kind in enumerate(kinds):
        if kind == "datetime":
            convert[i] = _iso
        elif kind == "binary":
            convert[i] = _base64
    if not convert:
        return None
    items = list(convert.items())

    def cells(row: Sequence[Any]) -> list[Any]:
        out = list(row)
        for i, f in items:
            out[i] = f(out[i])
        return out

    return cells
