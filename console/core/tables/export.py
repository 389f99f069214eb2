"""A view of a table (its sort and filter) streamed to a CSV file.

One read, in one transaction, in the view's order: not a page query per
2,000 rows. On SQLite the database writes each CSV line itself (quoting,
ISO times with their offset, True/False), so Python only joins the lines
and writes them: 10M rows cost about what the sqlite3 shell's `.mode csv`
costs (docs/benchmarks.md). A table with a binary column, and PostgreSQL,
take the rows as values and format the cells that need it in Python. The
file is written beside its name first, so a cancel or a failure leaves no
half file; memory stays one batch of lines.
"""

from __future__ import annotations

import base64
import csv
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from console.core.store.cancel import Cancel
from console.core.tables.browse import Browser, View

#: Rows fetched and written at a time: about 1 MB of text.
BATCH = 10_000


def export_csv(
    browser: Browser,
    view: View,
    path: Path,
    *,
    cancel: Cancel | None = None,
    report: Callable[[int], None] = lambda _rows: None,
) -> int:
    """Write `view` to `path` as CSV (a header, then the rows in the view's
    order); `report` hears the rows written so far. Returns the row count."""
    partial = path.with_name(path.name + ".part")
    sa_table, sort, columns = browser._parts(view)
    where = browser._where(view, sa_table, columns)
    order = browser._order(view, sa_table, sort, reverse=False)
    names = [c.name for c in browser.tables.info(view.table).columns]
    kinds = {c.name: c.kind for c in columns}
    in_sql = browser.tables.store.dialect == "sqlite" and "binary" not in kinds.values()
    written = 0
    try:
        with (
            partial.open("w", newline="", encoding="utf-8", buffering=1 << 20) as f,
            browser.tables.store.read(cancel) as conn,
        ):
            csv.writer(f).writerow(names)
            if in_sql:
                line = _sqlite_line([(sa_table.c[n], kinds[n]) for n in names])
                stmt = sa.select(line).select_from(sa_table).where(*where).order_by(*order)
                cursor = conn.execute(stmt).cursor
                while batch := cursor.fetchmany(BATCH):
                    f.write("\r\n".join([r[0] for r in batch]))
                    f.write("\r\n")
                    written += len(batch)
                    report(written)
                    if cancel is not None:
                        cancel.check()
            else:
                stmt = sa.select(*[sa_table.c[n] for n in names]).where(*where).order_by(*order)
                result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt)
                writer = csv.writer(f)
                cells = _python_cells([kinds[n] for n in names])
                for part in result.partitions(BATCH):
                    writer.writerows(part if cells is None else map(cells, part))
                    written += len(part)
                    report(written)
                    if cancel is not None:
                        cancel.check()
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return written


# -- SQLite: the line, written by the database ---------------------------------


def _text(expr: Any) -> sa.ColumnElement[str]:
    return sa.type_coerce(expr, sa.Text)


def _sqlite_cell(column: sa.ColumnElement[Any], kind: str) -> sa.ColumnElement[Any]:
    """One cell as `csv.writer` would write `csv_value` of it; NULL for a
    null (`printf` writes it as nothing)."""
    value = _text(column)
    if kind == "string":
        special = sa.or_(*[sa.func.instr(value, c) > 0 for c in (",", '"', "\n", "\r")])
        quoted = _text('"') + _text(sa.func.replace(value, '"', '""')) + _text('"')
        return _text(sa.case((special, quoted), else_=value))
    if kind == "boolean":
        number = sa.type_coerce(column, sa.Integer)
        return _text(sa.case((number == 1, "True"), (number == 0, "False")))
    if kind == "datetime":  # stored "2026-01-02 03:04:05.000007" (UTC): ISO with "+00:00"
        whole = _text(sa.func.substr(value, 20)) == ".000000"  # isoformat() drops it
        return _text(
            sa.case(
                (whole, _text(sa.func.replace(sa.func.substr(value, 1, 19), " ", "T"))),
                else_=_text(sa.func.replace(value, " ", "T")),
            )
            + "+00:00"
        )
    if kind == "float":  # the shortest of 15, 16, 17 digits that reads back the same
        number = sa.type_coerce(column, sa.Double)
        spelled = [_text(sa.func.printf(f"%!.{d}g", number)) for d in (15, 16)]
        return _text(
            sa.case(
                (column.is_(None), sa.null()),
                *[(sa.cast(s, sa.Double) == number, s) for s in spelled],
                else_=_text(sa.func.printf("%!.17g", number)),
            )
        )
    return column  # integer: printf writes it in full


def _sqlite_line(columns: Sequence[tuple[sa.ColumnElement[Any], str]]) -> sa.ColumnElement[str]:
    """One `printf` per 100 cells (SQLite's limit on a function's arguments)."""
    cells = [_sqlite_cell(column, kind) for column, kind in columns]
    parts = [cells[i : i + 100] for i in range(0, len(cells), 100)]
    line = _text(sa.func.printf(",".join(["%s"] * len(parts[0])), *parts[0]))
    for part in parts[1:]:
        line = line + "," + _text(sa.func.printf(",".join(["%s"] * len(part)), *part))
    return line


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
