"""Browsing a user table page by page, by key: the grid's data source.

Pages are fetched with keyset pagination on (sort column, id), never OFFSET,
so the last page of a million rows costs what the first does. Nulls sort
last in either direction: a sorted read is two statements at most, the
column's values by `(column, id)` (a row-value comparison an index on
`(column, id)` answers by a seek) and then its nulls by id. A jump into the
middle of a column without an index uses anchors: the key that starts every
page, gathered by one pass over the keys (`page_anchors`); an indexed column
needs no pass (`positions`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from console.core.errors import ConsoleError
from console.core.store.cancel import Cancel
from console.core.tables.catalogue import TableStore
from console.core.tables.values import ColumnInfo, TableInfo, parse_text

OPERATORS = ("equals", "contains", "less than", "greater than")
Key = tuple[int, Any, int]  # (is null, value, id)


@dataclass(frozen=True)
class Filter:
    column: str
    operator: str
    text: str


@dataclass(frozen=True)
class Opening:
    """A view's first rows, the table's id range, and a row count."""

    rows: list[dict[str, Any]]
    low_id: int
    high_id: int
    count: int
    exact: bool


@dataclass(frozen=True)
class View:
    """What the grid shows: one table, sorted and filtered."""

    table: str
    sort: str = "id"
    descending: bool = False
    filters: tuple[Filter, ...] = ()


class Browser:
    """Reads pages of one database's user tables on a connection of its own
    (the grid's loader thread owns one Browser)."""

    def __init__(self, tables: TableStore) -> None:
        self.tables = tables

    # -- statements --------------------------------------------------------

    def _parts(self, view: View) -> tuple[sa.Table, sa.ColumnElement[Any], list[ColumnInfo]]:
        sa_table, columns = self.tables.load(view.table, refresh=False)
        if view.sort not in sa_table.c:
            sa_table, columns = self.tables.load(view.table, refresh=True)
            if view.sort not in sa_table.c:
                raise ConsoleError(f"no column {view.sort!r} in {view.table}")
        return sa_table, sa_table.c[view.sort], list(columns.values())

    def _where(self, view: View, sa_table: sa.Table, columns: Sequence[ColumnInfo]) -> list[Any]:
        kinds = {c.name: c.kind for c in columns}
        conditions: list[Any] = []
        for f in view.filters:
            if f.column not in kinds:
                raise ConsoleError(f"no column {f.column!r} in {view.table}")
            column = sa_table.c[f.column]
            if f.operator == "contains":
                conditions.append(sa.cast(column, sa.Text).contains(f.text, autoescape=True))
                continue
            value = parse_text(f.column, kinds[f.column], f.text)
            if f.operator == "equals":
                conditions.append(column.is_(None) if value is None else column == value)
            elif f.operator == "less than":
                conditions.append(column < value)
            elif f.operator == "greater than":
                conditions.append(column > value)
            else:
                raise ConsoleError(f"unknown filter {f.operator!r}; use {', '.join(OPERATORS)}")
        return conditions

    @staticmethod
    def _null_flag(sort: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        return sa.case((sort.is_(None), 1), else_=0)

    def _order(self, view: View, sa_table: sa.Table, sort: Any, reverse: bool) -> list[Any]:
        descending = view.descending != reverse
        order: list[Any] = []
        if view.sort != "id":
            flag = self._null_flag(sort)
            order += [flag.desc() if reverse else flag, sort.desc() if descending else sort]
        order.append(sa_table.c.id.desc() if descending else sa_table.c.id)
        return order

    # -- queries -----------------------------------------------------------

    def count(self, view: View, cancel: Cancel | None = None) -> int:
        sa_table, _, columns = self._parts(view)
        stmt = sa.select(sa.func.count()).select_from(sa_table)
        stmt = stmt.where(*self._where(view, sa_table, columns))
        with self.tables.store.read(cancel) as conn:
            return int(conn.execute(stmt).scalar_one())

    def estimate(self, table: str, exact_below: int = 50_000) -> tuple[int, bool]:
        """The table's row count at once: (rows, exact). Small tables are
        counted; a big one is estimated without a scan (PostgreSQL's
        `pg_class.reltuples`, else the id range, which is exact until rows
        are deleted)."""
        sa_table, _ = self.tables.load(table)
        with self.tables.store.read() as conn:
            low, high = _id_range(conn, sa_table)
            return self._estimate(conn, sa_table, low, high, exact_below)

    def _estimate(
        self, conn: sa.Connection, sa_table: sa.Table, low: int, high: int, exact_below: int
    ) -> tuple[int, bool]:
        span = 0 if high == 0 else high - low + 1
        if span <= exact_below:
            count = conn.execute(sa.select(sa.func.count()).select_from(sa_table))
            return int(count.scalar_one()), True
        if self.tables.store.dialect == "postgresql":
            tuples = conn.execute(
                sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
                {"name": f'"{sa_table.name}"'},
            ).scalar()
            if tuples is not None and tuples >= 0:
                return int(tuples), False
        return span, False

    def opening(self, view: View, limit: int, cancel: Cancel | None = None) -> Opening:
        """What showing a view starts with, in one read: its first rows, its
        id range and its row count (exact when cheap, else an estimate; a
        filtered view's count is unknown until counted)."""
        with self.tables.store.read(cancel) as conn:
            return self._opening(conn, view, limit)

    def first(
        self, view: View, limit: int, cancel: Cancel | None = None
    ) -> tuple[TableInfo, Opening]:
        """The grid's first read: the table's columns as they are now and
        the view's `opening`, in one transaction (on PostgreSQL each read
        costs a ping, a BEGIN and a COMMIT)."""
        with self.tables.store.read(cancel) as conn:
            info = self.tables.info(view.table, conn)
            return info, self._opening(conn, view, limit)

    def _opening(self, conn: sa.Connection, view: View, limit: int) -> Opening:
        sa_table, _, _ = self._parts(view)
        rows = self._read(conn, view, limit, None, reverse=False)
        if len(rows) < limit and not view.filters:  # the whole table: no range needed
            low = min((r["id"] for r in rows), default=0)
            high = max((r["id"] for r in rows), default=0)
            return Opening(rows, low, high, len(rows), True)
        low, high, tuples = _range_and_tuples(conn, sa_table, self.tables.store.dialect)
        if len(rows) < limit:
            return Opening(rows, low, high, len(rows), True)
        if view.filters:
            return Opening(rows, low, high, len(rows), False)
        span = 0 if high == 0 else high - low + 1
        if span <= 50_000:
            count, exact = self._estimate(conn, sa_table, low, high, 50_000)
        elif tuples is not None and tuples >= 0:
            count, exact = int(tuples), False
        else:
            count, exact = span, False
        return Opening(rows, low, high, max(count, len(rows)), exact)

    def key(self, view: View, row: dict[str, Any]) -> Key:
        value = row.get(view.sort)
        return (1 if value is None else 0, value, int(row["id"]))

    def page(
        self,
        view: View,
        limit: int,
        *,
        after: Key | None = None,
        before: Key | None = None,
        cancel: Cancel | None = None,
    ) -> list[dict[str, Any]]:
        """`limit` rows in view order: from the start, after a key, or
        (with `before`) the rows just before a key."""
        reverse = before is not None
        bound = before if reverse else after
        with self.tables.store.read(cancel) as conn:
            rows = self._read(conn, view, limit, bound, reverse)
        return rows[::-1] if reverse else rows

    def page_from(
        self, view: View, key: Key, limit: int, cancel: Cancel | None = None
    ) -> list[dict[str, Any]]:
        """`limit` rows in view order starting with the row whose key is `key`."""
        with self.tables.store.read(cancel) as conn:
            return self._read(conn, view, limit, key, reverse=False, inclusive=True)

    def _read(
        self,
        conn: sa.Connection,
        view: View,
        limit: int,
        bound: Key | None,
        reverse: bool,
        inclusive: bool = False,
        keys_only: bool = False,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Up to `limit` rows after `bound` in view order (before it,
        nearest first, if `reverse`), skipping `offset`: each part of the
        order (values, then nulls; reversed, nulls first) one statement."""
        sa_table, sort, columns = self._parts(view)
        where = self._where(view, sa_table, columns)
        descending = view.descending != reverse
        ident = sa_table.c.id
        indexed = any(c.name == view.sort and c.indexed for c in columns)
        chosen: list[Any] = [sa_table]
        if keys_only:
            chosen = [ident] if view.sort == "id" else [sort, ident]
        if view.sort == "id":
            parts = [False]
        elif bound is None:
            parts = [True, False] if reverse else [False, True]
        elif bound[0]:
            parts = [True, False] if reverse else [True]
        else:
            parts = [False] if reverse else [False, True]
        rows: list[dict[str, Any]] = []
        for number, nulls in enumerate(parts):
            stmt = sa.select(*chosen).where(*where)
            key = bound if number == 0 else None
            if nulls or view.sort == "id":
                if view.sort != "id":
                    stmt = stmt.where(sort.is_(None))
                if key is not None:
                    stmt = stmt.where(_beyond(ident, key[2], descending, inclusive))
                order: list[Any] = [ident.desc() if descending else ident]
                if view.sort != "id" and indexed:
                    # by the index on (column, id), whose nulls are in id
                    # order: by id alone PostgreSQL sorts every null row
                    order = [sort.desc(), *order] if descending else [sort, *order]
            else:
                stmt = stmt.where(sort.is_not(None))
                if key is not None:
                    pair, bound_pair = sa.tuple_(sort, ident), sa.tuple_(key[1], key[2])
                    stmt = stmt.where(_beyond(pair, bound_pair, descending, inclusive))
                order = [sort.desc(), ident.desc()] if descending else [sort, ident]
            stmt = stmt.order_by(*order).limit(limit - len(rows))
            if offset:
                stmt = stmt.offset(offset)
            found = conn.execute(stmt).all()
            rows += [dict(r._mapping) for r in found]
            if len(rows) >= limit:
                break
            if offset:  # skip the rest of the offset in the next part
                if found:
                    offset = 0
                else:
                    counted = sa.select(sa.func.count()).select_from(
                        stmt.limit(offset).offset(None).subquery()
                    )
                    offset -= int(conn.execute(counted).scalar_one())
        return rows

    def last_rows(
        self, view: View, limit: int, cancel: Cancel | None = None
    ) -> list[dict[str, Any]]:
        """The last `limit` rows in view order (Ctrl+End): the view's order
        reversed, so it needs no count."""
        with self.tables.store.read(cancel) as conn:
            return self._read(conn, view, limit, None, reverse=True)[::-1]

    def page_anchors(self, view: View, page_size: int, cancel: Cancel | None = None) -> list[Key]:
        """The key of the first row of every page, by one pass over the keys
        in the database (a window function): only the anchors come back, so
        ten million rows cost no Python loop holding the GIL."""
        sa_table, sort, columns = self._parts(view)
        number = sa.func.row_number().over(order_by=self._order(view, sa_table, sort, False))
        keys = (
            sa.select(sort.label("value"), sa_table.c.id.label("key"), number.label("n"))
            .where(*self._where(view, sa_table, columns))
            .subquery()
        )
        stmt = sa.select(keys.c.value, keys.c.key).where((keys.c.n - 1) % page_size == 0)
        with self.tables.store.read(cancel) as conn:
            rows = conn.execute(stmt.order_by(keys.c.n)).all()
        return [(1 if value is None else 0, value, int(row_id)) for value, row_id in rows]

    def page_at_anchor(
        self, view: View, anchor: Key, limit: int, cancel: Cancel | None = None
    ) -> list[dict[str, Any]]:
        """`limit` rows starting at the row whose key is `anchor`."""
        return self.page_from(view, anchor, limit, cancel)

    def key_at(
        self,
        view: View,
        start: Key | None,
        skip: int,
        reverse: bool = False,
        cancel: Cancel | None = None,
    ) -> Key | None:
        """The key `skip` rows on from the row whose key is `start` (from the
        first row if None; towards the first row, from the last, if
        `reverse`); None past the end. On an indexed column, an index-only
        scan of `skip` entries."""
        with self.stepping(view, cancel) as step:
            return step(start, skip, reverse)

    @contextmanager
    def stepping(
        self, view: View, cancel: Cancel | None = None
    ) -> Iterator[Callable[[Key | None, int, bool], Key | None]]:
        """`key_at` for several steps in one read (on PostgreSQL each read
        costs a ping, a BEGIN and a COMMIT: round trips that wait for a core
        on a busy machine)."""
        with self.tables.store.read(cancel) as conn:

            def step(start: Key | None, skip: int, reverse: bool) -> Key | None:
                found = self._read(
                    conn, view, 1, start, reverse, inclusive=True, keys_only=True, offset=skip
                )
                return self.key(view, found[0]) if found else None

            yield step

    def stream(
        self, view: View, batch: int = 2000, cancel: Cancel | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Every row of the view, in batches, by key (CSV export)."""
        after: Key | None = None
        while True:
            rows = self.page(view, batch, after=after, cancel=cancel)
            if not rows:
                return
            yield rows
            after = self.key(view, rows[-1])

    def max_id(self, table: str) -> int:
        sa_table, _ = self.tables.load(table)
        with self.tables.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.max(sa_table.c.id))).scalar() or 0)

    def count_newer(self, table: str, after_id: int) -> int:
        """Rows added since the grid loaded (ids are never reused)."""
        sa_table, _ = self.tables.load(table)
        stmt = sa.select(sa.func.count()).select_from(sa_table).where(sa_table.c.id > after_id)
        with self.tables.store.read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def id_range(self, table: str) -> tuple[int, int]:
        """The smallest and largest id (0, 0 for an empty table): two index lookups."""
        sa_table, _ = self.tables.load(table)
        with self.tables.store.read() as conn:
            return _id_range(conn, sa_table)


def _range_and_tuples(
    conn: sa.Connection, sa_table: sa.Table, dialect: str
) -> tuple[int, int, float | None]:
    """The id range and PostgreSQL's row estimate in one statement (one round
    trip): each lone min() or max() in its own subquery is an index lookup."""
    parts: list[Any] = [
        sa.select(sa.func.min(sa_table.c.id)).scalar_subquery(),
        sa.select(sa.func.max(sa_table.c.id)).scalar_subquery(),
    ]
    if dialect == "postgresql":
        parts.append(
            sa.select(sa.column("reltuples"))
            .select_from(sa.table("pg_class"))
            .where(sa.column("oid") == sa.func.to_regclass(f'"{sa_table.name}"'))
            .scalar_subquery()
        )
    low, high, *tuples = conn.execute(sa.select(*parts)).one()
    return int(low or 0), int(high or 0), (tuples[0] if tuples else None)


def _beyond(column: Any, bound: Any, descending: bool, inclusive: bool) -> Any:
    if descending:
        return column <= bound if inclusive else column < bound
    return column >= bound if inclusive else column > bound


def _id_range(conn: sa.Connection, sa_table: sa.Table) -> tuple[int, int]:
    # Two statements: SQLite answers a lone min() or max() from the index,
    # but min() and max() together scan the whole table.
    low = conn.execute(sa.select(sa.func.min(sa_table.c.id))).scalar()
    high = conn.execute(sa.select(sa.func.max(sa_table.c.id))).scalar()
    return int(low or 0), int(high or 0)
