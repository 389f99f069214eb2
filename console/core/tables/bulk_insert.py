"""Many rows into one table at the database driver's executemany speed."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Dialect

from console.core.tables.values import one_object


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: a batch's hundreds of
    thousands of new lists and tuples (none of them in a cycle) would start
    collections that walk every object the job holds, its rows too (a fifth
    of a 200,000-row insert_many, profiled)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def split_rows(rows: Sequence[object]) -> dict[object, list[object]] | None:
    """Each key's values, column by column, when every row is a plain dict
    with the same keys (the usual batch: one comprehension made them); else
    None, and the caller walks the rows one by one.

    At C speed: one pass each for the rows' types and sizes, one per column.
    Rows of one size that all hold each of the first row's keys hold exactly
    its keys, in the first row's order of them."""
    if not rows or set(map(type, rows)) != {dict}:
        return None
    dicts: Sequence[dict[object, object]] = rows  # type: ignore[assignment]  # as checked
    if set(map(len, dicts)) != {len(dicts[0])}:
        return None
    try:
        return {key: list(map(itemgetter(key), dicts)) for key in dicts[0]}
    except KeyError:  # a row has another key instead
        return None


def _literal(column: sa.Column[Any], dialect: Dialect, value: object) -> str | None:
    """`value` as SQL text that stores exactly what binding it would: the
    column's bind processor's own text on SQLite (a time with no
    microseconds is stored with ".000000" there, and compared as text), else
    SQLAlchemy's literal of the column's type. None when there is no
    literal, or when it holds a percent sign (which a literal column
    escapes again for a driver of the pyformat paramstyle)."""
    if value is None:
        return "NULL"
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    stored = value if process is None else process(value)
    if type(stored) is int:
        return str(stored)
    if type(stored) is str and dialect.name == "sqlite":
        text: str | None = "'" + stored.replace("'", "''") + "'"
    else:
        literal = column.type.literal_processor(dialect)
        text = None if literal is None else str(literal(value))
    return None if text is None or "%" in text else text


#: The values a column of one object may be written as on SQLite (`_once`):
#: text, whole numbers and times, whose literal SQLite stores as it stores
#: the bound value. A float's literal is read back by SQLite's own parser,
#: bytes have none: those are bound, converted once.
_LITERAL_TYPES = (str, int, bool, datetime)


def _once(dialect: Dialect, values: list[object]) -> bool:
    """Whether a column's values can be written into the statement once,
    as a literal, instead of bound in every row: on SQLite, for one object
    of a type in `_LITERAL_TYPES` (a batch stamped with one `now`)."""
    return dialect.name == "sqlite" and type(values[0]) in _LITERAL_TYPES and one_object(values)


def _converted(column: sa.Column[Any], dialect: Dialect, values: list[object]) -> list[object]:
    """`values` as the column's dialect type binds them. A value that is the
    same object as another (a batch stamped with one `now`) converts once."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    distinct = dict(zip(map(id, values), values, strict=True))  # the values live: ids are unique
    if len(distinct) * 2 > len(values):
        return list(map(process, values))
    done = {key: process(value) for key, value in distinct.items()}
    return list(map(done.__getitem__, map(id, values)))


def bulk_insert(
    conn: Connection,
    table: sa.Table,
    count: int,
    columns: Mapping[str, list[object]],
    constants: Mapping[str, object],
) -> None:
    """INSERT `count` rows given column by column, with `constants` in every
    row, at the driver's executemany speed.

    SQLAlchemy compiles the statement once (its quoting, its paramstyle) with
    the constants written in it as literals of their column's type (the run's
    `__runId`, the batch's `__createdAt`: no bound value per row for them),
    and each column's dialect type converts its values, as when SQLAlchemy
    executes; what it no longer does is rebuild the parameters row by row
    (profiled: 70% of a 200,000-row insert). The driver gets one tuple (or,
    for a named paramstyle, one dict) a row, made at C speed.
    """
    if count == 0:
        return
    dialect = conn.dialect
    written: dict[str, Any] = {}
    bound: dict[str, list[object]] = {}
    once: dict[str, str] = {}
    for key, values in columns.items():
        text = _literal(table.c[key], dialect, values[0]) if _once(dialect, values) else None
        if text is not None:
            once[key] = text
    if once and len(once) == len(columns):
        once.popitem()  # one column stays bound: the driver repeats a row per parameter set
    written.update((key, sa.literal_column(text)) for key, text in once.items())
    for key, value in constants.items():
        # Rows of constants alone (insert_many of empty dicts) bind them, so
        # that each row still has its parameters for the driver to repeat.
        text = _literal(table.c[key], dialect, value) if columns else None
        if text is None:  # bound instead: converted once, the same object in every row
            bound[key] = [_converted(table.c[key], dialect, [value])[0]] * count
        else:
            written[key] = sa.literal_column(text)
    for key, values in columns.items():
        if key not in once:
            bound[key] = _converted(table.c[key], dialect, values)
    # inline: no RETURNING of each row's id, which nobody reads
    statement = table.insert().inline().values(written)
    compiled = statement.compile(dialect=_positional(dialect), column_keys=list(bound))
    params: list[Any]
    if compiled.positional:
        params = list(zip(*(bound[k] for k in compiled.positiontup or ()), strict=True))
    else:
        escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
        names = [escaped.get(k, k) for k in bound]
        params = list(map(dict, map(partial(zip, names), zip(*bound.values(), strict=True))))
    conn.exec_driver_sql(str(compiled), params)


_POSITIONAL: dict[type[Dialect], Dialect] = {}


def _positional(dialect: Dialect) -> Dialect:
    """A dialect that compiles `dialect`'s SQL with positional parameters
    where its driver takes both: psycopg reorders a dict of parameters for
    every row of an executemany, and takes a tuple as it is (`%s` in place
    of `%(name)s`, the same driver's other paramstyle)."""
    if dialect.paramstyle != "pyformat":
        return dialect
    kind = type(dialect)
    if kind not in _POSITIONAL:
        _POSITIONAL[kind] = kind(paramstyle="format")  # type: ignore[call-arg]
    return _POSITIONAL[kind]
