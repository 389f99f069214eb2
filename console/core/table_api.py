"""The job script API over one user table (a contract: see DESIGN.md):
`Table` writes rows and starts queries; `Query` is chainable and immutable."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from console.core.bulk_insert import bulk_insert
from console.core.errors import ConflictError, ConsoleError, NotFoundError
from console.core.table_values import SYSTEM_COLUMNS, ColumnInfo

if TYPE_CHECKING:
    from console.core.table_catalogue import TableStore


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
    def columns(self) -> list[ColumnInfo]:
        return list(self._tables.load(self.name, refresh=True)[1].values())

    def insert(self, row: Mapping[str, object]) -> dict[str, Any]:
        """Store one row; returns it as stored, with its id and system columns."""
        store = self._tables.store
        with store.write() as conn:
            sa_table, values = self._tables.prepare_row(conn, self.name, row, inserting=True)
            now = self._tables.clock()
            values.update({"__createdAt": now, "__updatedAt": now, "__version": 1})
            stored = conn.execute(sa_table.insert().values(values).returning(*sa_table.c)).one()
        self._on_write(1)
        return dict(stored._mapping)

    def insert_many(self, rows: Iterable[Mapping[str, object]]) -> int:
        """Store many rows in one transaction: all of them, or none."""
        batch = list(rows)
        if not batch:
            return 0
        with self._tables.store.write() as conn:
            sa_table, checked = self._tables.prepare(conn, self.name, batch, inserting=True)
            now = self._tables.clock()
            system = {"__createdAt": now, "__updatedAt": now, "__version": 1}
            bulk_insert(conn, sa_table, len(batch), checked, system)
        self._on_write(len(batch))
        return len(batch)

    def update(self, row: Mapping[str, object]) -> dict[str, Any]:
        """Change the row with `row["id"]`; when `__version` is given it must
        still be the stored one, else ConflictError."""
        if "id" not in row:
            raise ConsoleError("update needs the row's id")
        row_id = row["id"]
        expected = row.get("__version")
        changes = {k: v for k, v in row.items() if k not in SYSTEM_COLUMNS}
        with self._tables.store.write() as conn:
            sa_table, values = self._tables.prepare_row(conn, self.name, changes, inserting=False)
            values.update(
                {"__updatedAt": self._tables.clock(), "__version": sa_table.c["__version"] + 1}
            )
            condition = sa_table.c.id == row_id
            if expected is not None:
                condition = condition & (sa_table.c["__version"] == expected)
            stored = conn.execute(
                sa_table.update().where(condition).values(values).returning(*sa_table.c)
            ).one_or_none()
            if stored is None:
                current = conn.execute(
                    sa.select(sa_table.c["__version"]).where(sa_table.c.id == row_id)
                ).scalar()
                if current is None:
                    raise NotFoundError(f"no row with id {row_id} in {self.name}")
                raise ConflictError(
                    f"row {row_id} of {self.name} was changed by someone else "
                    f"(your version {expected}, now {current}); reload it and try again"
                )
        self._on_write(1)
        return dict(stored._mapping)

    def delete(self, row_id: object) -> None:
        """Delete the row with this id (NotFoundError when there is none)."""
        self.delete_many([row_id])

    def delete_many(self, row_ids: Iterable[object]) -> int:
        ids = list(row_ids)
        sa_table, _ = self._tables.load(self.name)
        with self._tables.store.write() as conn:
            deleted = conn.execute(sa_table.delete().where(sa_table.c.id.in_(ids))).rowcount
        if deleted == 0 and ids:
            raise NotFoundError(f"no row with id {ids[0]} in {self.name}")
        self._on_write(deleted)
        return int(deleted)

    # Queries start from the whole table.
    def query(self) -> Query:
        return Query(self)

    def where(self, **equals: object) -> Query:
        return Query(self).where(**equals)

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


@dataclass(frozen=True)
class Query:
    """A chainable, immutable query over one table; each step returns a new
    query. A column the table does not have (yet) reads as null, as in the
    portal's dynamic schema."""

    table: Table
    filters: tuple[tuple[str, object], ...] = ()
    ordering: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None
    offset: int = 0
    columns: tuple[str, ...] = field(default=())

    def where(self, **equals: object) -> Query:
        return replace(self, filters=self.filters + tuple(equals.items()))

    def order_by(self, column: str) -> Query:
        return replace(self, ordering=(*self.ordering, (column, False)))

    def order_by_descending(self, column: str) -> Query:
        return replace(self, ordering=(*self.ordering, (column, True)))

    def take(self, n: int) -> Query:
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ConsoleError(f"take() needs a whole number ≥ 0, not {n!r}")
        return replace(self, limit=n)

    def skip(self, n: int) -> Query:
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ConsoleError(f"skip() needs a whole number ≥ 0, not {n!r}")
        return replace(self, offset=n)

    def select(self, *columns: str) -> Query:
        return replace(self, columns=tuple(columns))

    def _statement(self) -> sa.Select[Any]:
        sa_table, _ = self.table._tables.load(self.table.name, refresh=True)

        def column(name: str) -> sa.ColumnElement[Any]:
            if name in sa_table.c:
                return sa_table.c[name]
            return sa.null().label(name)

        chosen = [column(c) for c in self.columns] if self.columns else list(sa_table.c)
        stmt = sa.select(*chosen).select_from(sa_table)
        for name, value in self.filters:
            target = column(name)
            stmt = stmt.where(target.is_(None) if value is None else target == value)
        for name, descending in self.ordering:
            if name in sa_table.c:
                stmt = stmt.order_by(sa_table.c[name].desc() if descending else sa_table.c[name])
        stmt = stmt.order_by(sa_table.c.id)
        if self.limit is not None:
            stmt = stmt.limit(self.limit)
        if self.offset:
            stmt = stmt.offset(self.offset)
        return stmt

    def read(self) -> list[dict[str, Any]]:
        stmt = self._statement()
        with self.table._tables.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def count(self) -> int:
        """How many rows `read()` would return."""
        inner = self._statement().subquery()
        with self.table._tables.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())
