"""The job script API over one user table (a contract: see DESIGN.md):
`Table` writes rows and starts queries; `Query` is chainable and immutable.

Over 500 lines: the contract's two classes, each write path stamping its
run (`lineage`) beside its SQL; splitting Table from Query would part the
chain from what it starts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from console.core.errors import ConflictError, ConsoleError, NotFoundError
from console.core.store.changes import Change
from console.core.tables.bulk_insert import bulk_insert, gc_paused
from console.core.tables.catalogue import TableStore
from console.core.tables.conditions import Condition, condition_sql, parse_conditions
from console.core.tables.held_cursor import stream_held
from console.core.tables.id_batches import by_id, check_batch
from console.core.tables.lineage import gathered_ids, keep_before
from console.core.tables.values import (
    INT64_MAX,
    INT64_MIN,
    SYSTEM_COLUMNS,
    ColumnInfo,
    check_text,
    check_value,
    column_names,
    whole_number,
)


def _as_stored(row: Any, sa_table: sa.Table) -> dict[str, Any]:
    """A row a write returned, as a read gives it: SQLite's RETURNING hands
    back a whole float (1.0) as an int, which a read does not."""
    stored = dict(row._mapping)
    for column in sa_table.c:
        if type(stored.get(column.name)) is int and isinstance(column.type, sa.Float):
            stored[column.name] = float(stored[column.name])
    return stored


def _version_given(row: Mapping[str, object]) -> int | None:
    """The `__version` a write expects the row to have still, if given."""
    expected = row.get("__version")
    if expected is None:
        return None
    if not isinstance(expected, int) or isinstance(expected, bool) or not 0 < expected < 2**63:
        raise ConsoleError(f"__version must be the row's version number, not {expected!r}")
    return expected


def _row_id(table: str, row_id: object) -> int:
    """A row id as the database can compare it; any other value names no row."""
    if (
        isinstance(row_id, int)
        and not isinstance(row_id, bool)
        and INT64_MIN <= row_id <= INT64_MAX
    ):
        return row_id
    raise NotFoundError(f"no row with id {row_id!r} in {table}")


def _inserting(table: sa.Table) -> sa.Insert:
    """`table`'s INSERT … RETURNING every column, built once per shape of the
    table (the catalogue builds a new `sa.Table` when its columns change);
    the row's values are its parameters, instead of building it for every
    row (a one-row run's insert, done by its worker: docs/benchmarks.md)."""
    statement: sa.Insert | None = table.info.get("insert")
    if statement is None:
        statement = table.info["insert"] = table.insert().returning(*table.c)
    return statement


class Table:
    """One user table: write rows, or start a query (see `Query`)."""

    def __init__(
        self, tables: TableStore, name: str, on_write: Callable[[int], None] | None = None
    ) -> None:
        self._tables = tables
        self.name = name
        self._on_write = on_write or (lambda _n: None)

    def __repr__(self) -> str:
        return f"<Table {self.name}>"

    @property
    def _run(self) -> int | None:
        """The run writing through this table (its rows' `__runId`)."""
        return self._tables.run_id

    @property
    def columns(self) -> list[ColumnInfo]:
        return list(self._tables.load(self.name, refresh=True)[1].values())

    def insert(self, row: Mapping[str, object]) -> dict[str, Any]:
        """Store one row; returns it as stored, with its id and system columns."""
        with self._tables.writing(self.name) as conn:
            sa_table, values = self._tables.prepare_row(conn, self.name, row, inserting=True)
            now = self._tables.clock()
            values.update(
                {"__createdAt": now, "__updatedAt": now, "__version": 1, "__runId": self._run}
            )
            stored = conn.execute(_inserting(sa_table), values).one()
            self._tables.store.announce(conn, Change("rows", self.name, rows=1))
        self._on_write(1)
        return _as_stored(stored, sa_table)

    def insert_many(self, rows: Iterable[Mapping[str, object]]) -> int:
        """Store many rows in one transaction: all of them, or none."""
        if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
            raise ConsoleError(f"insert_many takes a list of rows, not {type(rows).__name__}")
        batch = list(rows)
        count = len(batch)
        if not count:
            return 0
        checked: dict[str, list[object]] = {}
        try:
            with gc_paused():
                with self._tables.writing(self.name) as conn:
                    sa_table, checked = self._tables.prepare(conn, self.name, batch, inserting=True)
                    now = self._tables.clock()
                    system = {
                        "__createdAt": now,
                        "__updatedAt": now,
                        "__version": 1,
                        "__runId": self._run,
                    }
                    bulk_insert(conn, sa_table, count, checked, system)
                    self._tables.store.announce(conn, Change("rows", self.name, rows=count))
                # Freed now (no cycles among them), not walked by the collector once back.
                batch, checked = [], {}
        except (UnicodeEncodeError, sa.exc.StatementError) as e:
            if isinstance(e, UnicodeEncodeError) or isinstance(e.orig, UnicodeEncodeError):
                for name, values in checked.items():  # which column: only now, at a failure
                    check_text(name, [v for v in values if isinstance(v, str)])
            raise
        self._on_write(count)
        return count

    def update(self, row: Mapping[str, object]) -> dict[str, Any]:
        """Change the row with `row["id"]`; when `__version` is given it must
        still be the stored one, else ConflictError."""
        if "id" not in row:
            raise ConsoleError("update needs the row's id")
        row_id = _row_id(self.name, row["id"])
        expected = _version_given(row)
        changes = {k: v for k, v in row.items() if k not in SYSTEM_COLUMNS}
        with self._tables.writing(self.name) as conn:
            sa_table, values = self._tables.prepare_row(conn, self.name, changes, inserting=False)
            stored = self._update_row(conn, sa_table, row_id, values, expected)
            self._tables.store.announce(conn, Change("rows", self.name))
        self._on_write(1)
        return _as_stored(stored, sa_table)

    def _update_row(
        self,
        conn: sa.Connection,
        sa_table: sa.Table,
        row_id: int,
        values: dict[str, Any],
        expected: int | None,
    ) -> Any:
        """Row `row_id` changed to `values` (its image kept for undo), if it
        still has version `expected` when given; else ConflictError, or
        NotFoundError when it is gone. Returns the row as stored."""
        values |= {
            "__updatedAt": self._tables.clock(),
            "__version": sa_table.c["__version"] + 1,
            "__runId": self._run,
        }
        condition = sa_table.c.id == row_id
        if expected is not None:
            condition = condition & (sa_table.c["__version"] == expected)
        keep_before(conn, self._run, sa_table, condition)
        stored = conn.execute(
            sa_table.update().where(condition).values(values).returning(*sa_table.c)
        ).one_or_none()
        if stored is None:
            current = conn.execute(
                sa.select(sa_table.c["__version"]).where(sa_table.c.id == row_id)
            ).scalar()
            if current is None:
                raise NotFoundError(f"no row with id {row_id!r} in {self.name}")
            raise ConflictError(
                f"row {row_id} of {self.name} was changed by someone else "
                f"(your version {expected}, now {current}); reload it and try again"
            )
        return stored

    def upsert(self, row: Mapping[str, object], key: str = "id") -> dict[str, Any]:
        """Update the row whose `key` column equals `row[key]` (the one with
        the smallest id, should several), or insert `row`; one transaction.
        Returns the row as stored."""
        if not isinstance(key, str) or key not in row or row[key] is None:
            raise ConsoleError(f"upsert: the row needs a value for its key column {key!r}")
        expected = _version_given(row)  # checked as update checks it, when the row is there
        with self._tables.writing(self.name) as conn:
            found = None
            self._tables.lock(conn, self.name)  # two upserts of one key do not both insert
            # the schema as this transaction sees it: another writer may have added the key column
            sa_table, columns = self._tables.read_schema(conn, self.name)
            if key in columns:
                value = check_value(key, columns[key].kind, row[key])
                found = conn.execute(
                    sa.select(sa_table.c.id)
                    .where(sa_table.c[key] == value)
                    .order_by(sa_table.c.id)
                    .limit(1)
                ).scalar()
            now = self._tables.clock()
            if found is None and expected is not None:  # the row it read is gone
                raise ConflictError(
                    f"no row of {self.name} has {key} {row[key]!r} now (your version "
                    f"{expected}); reload it and try again"
                )
            if found is None:
                new = {k: v for k, v in row.items() if k != "id"}
                sa_table, values = self._tables.prepare_row(conn, self.name, new, inserting=True)
                values.update(
                    {"__createdAt": now, "__updatedAt": now, "__version": 1, "__runId": self._run}
                )
                stored = conn.execute(_inserting(sa_table), values).one()
            else:
                changes = {k: v for k, v in row.items() if k not in SYSTEM_COLUMNS}
                sa_table, values = self._tables.prepare_row(
                    conn, self.name, changes, inserting=False
                )
                stored = self._update_row(conn, sa_table, found, values, expected)
            added = 1 if found is None else 0
            self._tables.store.announce(conn, Change("rows", self.name, rows=added))
        self._on_write(1)
        return _as_stored(stored, sa_table)

    def delete(self, row_id: object) -> None:
        """Delete the row with this id (NotFoundError when there is none)."""
        self.delete_many([row_id])

    def delete_many(self, row_ids: Iterable[object]) -> int:
        given = list(row_ids)
        ids = [i for i in given if isinstance(i, int) and not isinstance(i, bool)]
        ids = [i for i in ids if INT64_MIN <= i <= INT64_MAX]
        if len(ids) < len(given):
            _row_id(self.name, next(i for i in given if i not in ids))
        sa_table, _ = self._tables.load(self.name)
        with self._tables.writing(self.name) as conn:
            keep_before(conn, self._run, sa_table, sa_table.c.id.in_(ids))
            deleted = conn.execute(sa_table.delete().where(sa_table.c.id.in_(ids))).rowcount
            self._tables.store.announce(conn, Change("rows", self.name))
        if deleted == 0 and ids:
            raise NotFoundError(f"no row with id {ids[0]!r} in {self.name}")
        self._on_write(deleted)
        return int(deleted)

    def delete_duplicates(self, *keys: str) -> int:
        """Keep the oldest row (smallest id) of each group of rows with equal
        `keys` (nulls count as equal) and delete the rest, in one SQL
        statement; returns how many were deleted."""
        sa_table, _ = self._tables.load(self.name, refresh=True)
        if not keys:
            raise ConsoleError("delete_duplicates needs at least one column")
        missing = [k for k in keys if k not in sa_table.c or k in SYSTEM_COLUMNS]
        if missing:
            raise ConsoleError(f"no column {missing[0]!r} to compare in {self.name}")
        keep = sa.select(sa.func.min(sa_table.c.id)).group_by(*(sa_table.c[k] for k in keys))
        with (
            self._tables.writing(self.name) as conn,
            gathered_ids(conn, sa_table, sa_table.c.id.not_in(keep)) as doomed,
        ):
            keep_before(conn, self._run, sa_table, doomed)
            deleted = int(conn.execute(sa_table.delete().where(doomed)).rowcount)
            self._tables.store.announce(conn, Change("rows", self.name))
        self._on_write(deleted)
        return deleted

    # Queries start from the whole table.
    def query(self) -> Query:
        return Query(self)

    def where(self, **conditions: object) -> Query:
        return Query(self).where(**conditions)

    def order_by(self, column: str) -> Query:
        return Query(self).order_by(column)

    def order_by_descending(self, column: str) -> Query:
        return Query(self).order_by_descending(column)

    def take(self, n: int) -> Query:
        return Query(self).take(n)

    def skip(self, n: int) -> Query:
        return Query(self).skip(n)

    def select(self, *columns: str) -> Query:
        return Query(self).select(*columns)

    def read(self) -> list[dict[str, Any]]:
        return Query(self).read()

    def count(self) -> int:
        return Query(self).count()

    def first(self) -> dict[str, Any] | None:
        return Query(self).first()

    def iter(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        return Query(self).iter(batch)


@dataclass(frozen=True)
class Query:
    """A chainable, immutable query over one table; each step returns a new
    query. Conditions are checked when given (an unknown column or operator
    is an error); a column ordered by or selected that the table does not
    have (yet) reads as null, as in the portal's dynamic schema."""

    table: Table
    filters: tuple[Condition, ...] = ()
    ordering: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None
    offset: int = 0
    columns: tuple[str, ...] = field(default=())

    def where(self, **conditions: object) -> Query:
        """Rows matching every condition: `col=value` (None: is null) or
        `col__op=value`, op one of lt, le, gt, ge, ne, in, contains,
        startswith, isnull."""
        tables = self.table._tables
        try:
            parsed = parse_conditions(conditions, tables.load(self.table.name)[1])
        except ConsoleError:
            try:  # another writer may have added the column since we looked
                fresh = tables.load(self.table.name, refresh=True)[1]
                parsed = parse_conditions(conditions, fresh)
            except ConsoleError as e:
                raise ConsoleError(f"{self.table.name}.{e}") from None
        return replace(self, filters=self.filters + parsed)

    def order_by(self, column: str) -> Query:
        (column,) = column_names("order_by()", (column,))
        return replace(self, ordering=(*self.ordering, (column, False)))

    def order_by_descending(self, column: str) -> Query:
        (column,) = column_names("order_by_descending()", (column,))
        return replace(self, ordering=(*self.ordering, (column, True)))

    def take(self, n: int) -> Query:
        return replace(self, limit=whole_number("take()", n))

    def skip(self, n: int) -> Query:
        return replace(self, offset=whole_number("skip()", n))

    def select(self, *columns: str) -> Query:
        return replace(self, columns=column_names("select()", columns))

    # -- SQL ---------------------------------------------------------------

    def _sa_table(self) -> sa.Table:
        return self.table._tables.load(self.table.name, refresh=True)[0]

    def _conditions(self, sa_table: sa.Table) -> list[sa.ColumnElement[bool]]:
        dialect = self.table._tables.store.dialect
        return [condition_sql(sa_table, c, dialect) for c in self.filters]

    def _statement(self, sa_table: sa.Table | None = None) -> sa.Select[Any]:
        sa_table = self._sa_table() if sa_table is None else sa_table

        def column(name: str) -> sa.ColumnElement[Any]:
            if name in sa_table.c:
                return sa_table.c[name]
            return sa.null().label(name)

        chosen = [column(c) for c in self.columns] if self.columns else list(sa_table.c)
        stmt = sa.select(*chosen).select_from(sa_table).where(*self._conditions(sa_table))
        for name, descending in self.ordering:
            if name in sa_table.c:
                order = sa_table.c[name].desc() if descending else sa_table.c[name].asc()
                # Nulls last either way, on every database; not for the system
                # columns, never null, whose order an index (id) then gives as is.
                stmt = stmt.order_by(order if name in SYSTEM_COLUMNS else order.nulls_last())
        stmt = stmt.order_by(sa_table.c.id)
        if self.limit is not None:
            stmt = stmt.limit(self.limit)
        if self.offset:
            stmt = stmt.offset(self.offset)
        return stmt

    def _chosen(self, sa_table: sa.Table) -> sa.ColumnElement[bool]:
        """Which rows the query means, as a condition on the table's own rows
        (for UPDATE and DELETE, which take no ORDER BY or LIMIT everywhere)."""
        if self.limit is None and not self.offset and not self.ordering:
            return sa.and_(sa.true(), *self._conditions(sa_table))
        ids = self.select("id")._statement(sa_table).subquery()
        return sa_table.c.id.in_(sa.select(ids.c.id))

    # -- reading -----------------------------------------------------------

    def read(self) -> list[dict[str, Any]]:
        stmt = self._statement()
        with self.table._tables.store.read(self.table._tables.cancel) as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def count(self) -> int:
        """How many rows `read()` would return."""
        if self.limit is None and not self.offset:
            sa_table = self._sa_table()
            stmt = sa.select(sa.func.count()).select_from(sa_table)
            with self.table._tables.store.read(self.table._tables.cancel) as conn:
                return int(conn.execute(stmt.where(*self._conditions(sa_table))).scalar_one())
        inner = self._statement().subquery()
        with self.table._tables.store.read(self.table._tables.cancel) as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())

    def first(self) -> dict[str, Any] | None:
        """The first row `read()` would return, or None."""
        rows = replace(self, limit=1 if self.limit is None else min(self.limit, 1)).read()
        return rows[0] if rows else None

    def iter(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every row `read()` would return, fetched `batch` at a time, so a
        table of any size streams in constant memory. Ordered by id (or an
        order on id alone), each batch starts after the last id seen (never
        OFFSET) in a short read of its own, so the job may write between
        batches; any other order streams from one open read."""
        check_batch(batch)
        if any(name != "id" for name, _ in self.ordering):
            yield from self._stream(batch)
            return
        descending = bool(self.ordering) and self.ordering[0][1]
        hide_id = bool(self.columns) and "id" not in self.columns
        columns = (*self.columns, "id") if hide_id else self.columns
        query = replace(self, ordering=(("id", descending),), limit=None, offset=0, columns=columns)
        sa_table = self._sa_table()

        def read(size: int, offset: int, after: Any) -> list[dict[str, Any]]:
            stmt = query._statement(sa_table).limit(size)
            if offset:
                stmt = stmt.offset(offset)
            if after is not None:
                stmt = stmt.where(sa_table.c.id < after if descending else sa_table.c.id > after)
            with self.table._tables.store.read(self.table._tables.cancel) as conn:
                return [dict(r._mapping) for r in conn.execute(stmt)]

        yield from by_id(read, batch, self.limit, self.offset, hide_id)

    def _stream(self, batch: int) -> Iterator[dict[str, Any]]:
        stmt = self._statement()
        store = self.table._tables.store
        if store.dialect == "postgresql" and not store.holding:
            yield from stream_held(store.engine, stmt, batch)
            return
        # SQLite in WAL mode lets the job write (even add a column) while this
        # read stays open on its own connection.
        with store.read() as conn:
            for row in conn.execution_options(yield_per=batch).execute(stmt):
                yield dict(row._mapping)

    # -- writing -----------------------------------------------------------

    def delete(self) -> int:
        """Delete every row the query means, in one transaction; returns how many."""
        tables = self.table._tables
        with tables.writing(self.table.name) as conn:
            sa_table = tables.load(self.table.name)[0]
            keep_before(conn, tables.run_id, sa_table, self._chosen(sa_table))
            deleted = int(conn.execute(sa_table.delete().where(self._chosen(sa_table))).rowcount)
            tables.store.announce(conn, Change("rows", self.table.name))
        self.table._on_write(deleted)
        return deleted

    def update(self, **values: object) -> int:
        """Set `values` on every row the query means, in one transaction,
        with a new `__updatedAt` and `__version`; returns how many rows."""
        if not values:
            raise ConsoleError("update() needs at least one column=value")
        tables = self.table._tables
        with tables.writing(self.table.name) as conn:
            sa_table, checked = tables.prepare_row(conn, self.table.name, values, inserting=True)
            checked.update(
                {
                    "__updatedAt": tables.clock(),
                    "__version": sa_table.c["__version"] + 1,
                    "__runId": tables.run_id,
                }
            )
            keep_before(conn, tables.run_id, sa_table, self._chosen(sa_table))
            stmt = sa_table.update().where(self._chosen(sa_table)).values(checked)
            changed = int(conn.execute(stmt).rowcount)
            tables.store.announce(conn, Change("rows", self.table.name))
        self.table._on_write(changed)
        return changed

    def move_to(self, target: Table) -> int:
        """Move the rows the query means into `target`, keeping their ids,
        system columns and values (columns `target` lacks are added, of the
        same kinds), then delete them here: one transaction, so the rows are
        in exactly one of the two tables whatever happens. Returns how many."""
        tables = self.table._tables
        if target._tables is not tables or target.name == self.table.name:
            raise ConsoleError("move_to() needs another table of the same database")
        with tables.writing(self.table.name) as conn:
            tables.note_unstamped(target.name)
            sa_table, columns = tables.load(self.table.name, refresh=True)
            kinds = {n: c.kind for n, c in columns.items() if not c.system}
            to_table = tables.ensure_columns(conn, target.name, kinds)
            chosen = self._chosen(sa_table)
            keep_before(conn, tables.run_id, sa_table, chosen)
            names = list(columns)
            copied = sa.select(*(sa_table.c[n] for n in names)).where(chosen)
            conn.execute(to_table.insert().from_select(names, copied))
            moved = int(conn.execute(sa_table.delete().where(chosen)).rowcount)
            tables.store.announce(
                conn, Change("rows", self.table.name), Change("rows", target.name, rows=moved)
            )
            if moved and tables.store.dialect == "postgresql":
                # Rows inserted with their ids leave the target's sequence
                # behind: move it past them, so its own inserts do not collide.
                sequence = sa.func.pg_get_serial_sequence(
                    conn.dialect.identifier_preparer.format_table(to_table), "id"
                )
                top = sa.select(sa.func.max(to_table.c.id)).scalar_subquery()
                conn.execute(sa.select(sa.func.setval(sequence, top)))
        target._on_write(moved)  # one count: the same rows, written once
        return moved


def open_table(
    tables: TableStore,
    name: str,
    on_write: Callable[[int], None] | None = None,
    create: bool = False,
) -> Table:
    """The table named `name` (any letter case), for reading and writing;
    with `create`, made first when there is none."""
    try:
        return Table(tables, tables.resolve(name), on_write)
    except NotFoundError:
        if not create:
            raise
    try:
        tables.create(name)
    except ConsoleError:
        pass  # made meanwhile by another connection, or a bad name: resolve says which
    try:
        return Table(tables, tables.resolve(name), on_write)
    except NotFoundError:
        tables.create(name)  # raises the reason the name cannot be a table
        raise
