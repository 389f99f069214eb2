"""The catalogue of user tables: create, list, drop, their columns and
indexes, and the schema cache the script API and the browser read through."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from console.core.clock import Clock, utcnow
from console.core.errors import ConsoleError, NotFoundError
from console.core.names import check_column_name, check_identifier, check_table_name
from console.core.store import schema
from console.core.store.cancel import Cancel
from console.core.store.changes import Change
from console.core.store.database import Store
from console.core.tables.bulk_insert import split_rows
from console.core.tables.ddl import AddColumn
from console.core.tables.values import (
    KINDS,
    SYSTEM_COLUMNS,
    ColumnInfo,
    TableInfo,
    check_column,
    kind_of,
)

#: Tables' columns as a run is given them (`tables/known.py`): by table,
#: [name, kind, indexed] of each user column in order.
Known = dict[str, list[list[Any]]]


def _missing(error: BaseException) -> str | None:
    """The database's one line, when `error` says a table or column is not there."""
    if not isinstance(error, sa.exc.DBAPIError) or error.orig is None:
        return None
    line = (str(error.orig).strip().splitlines() or [""])[0]
    code = getattr(error.orig, "sqlstate", None)  # PostgreSQL: undefined table, column
    if code in ("42P01", "42703") or line.startswith(("no such table", "no such column")):
        return line
    return line if " has no column named " in line else None


def _index_name(table: str, column: str) -> str:
    digest = hashlib.sha1(f"{table}.{column}".encode()).hexdigest()[:16]
    return f"ix_u_{digest}"


class TableStore:
    """The user tables of one database: catalogue, schema and rows."""

    def __init__(self, store: Store, clock: Clock = utcnow, run_id: int | None = None) -> None:
        self.store = store
        self.clock = clock
        #: The run whose script writes through this store (`__runId` of the
        #: rows it writes); None for a person's edits.
        self.run_id = run_id
        #: Set, it interrupts this store's row writes and queries under way
        #: (a run's table operations done for it: `table_link`).
        self.cancel: Cancel | None = None
        self._cache: dict[str, tuple[sa.Table, dict[str, ColumnInfo]]] = {}
        #: Stored names by lower-case name, of the tables `trust` was given.
        self._given: dict[str, str] = {}
        #: Of those, the ones no write has confirmed yet.
        self._unconfirmed: set[str] = set()

    def trust(self, known: Known) -> None:
        """Take the tables' columns as `known` (read by the run's supervisor
        a moment before the run started) instead of reading them before a
        write: a run then opens a table and inserts a row without reading the
        catalogue. A table changed since is found out by the write itself:
        an insert names and returns every column it was given, so a column
        or table dropped since fails the statement (rolled back, nothing
        written) with one line saying so, and the next write reads the table
        again; a row naming a column it was not given reads the catalogue as
        before (another connection may have added it)."""
        for name, columns in known.items():
            found = {c.name: c for c in self._system_columns()}
            for column, kind, indexed in columns:
                found[column] = ColumnInfo(column, kind, indexed=bool(indexed))
            self._cache[name] = (self._build(name, found), found)
            self._given[name.lower()] = name
            self._unconfirmed.add(name)

    @contextmanager
    def writing(self, table: str) -> Iterator[Connection]:
        """A write transaction for rows of `table`. Columns it adds enter the
        schema cache at once; if it rolls back, so do they, and the cache is
        dropped (else the next write names a column that is not there)."""
        try:
            with self.store.write(self.cancel) as conn:
                self.note_high(conn, table)
                yield conn
        except BaseException as e:
            self._cache.pop(table, None)
            reason = _missing(e)
            if reason is not None:  # the next `resolve` asks the database
                self._given.pop(table.lower(), None)
            if table in self._unconfirmed:
                self._unconfirmed.discard(table)
                if reason is not None:  # the table changed since it was given
                    raise ConsoleError(
                        f"{table} changed as this run started ({reason}); nothing was "
                        "written, and the next write reads its columns again"
                    ) from None
            raise
        self._unconfirmed.discard(table)

    def note_high(self, conn: Connection, table: str) -> None:
        """In a held transaction (a dry run), before its first write to
        `table`: remember the table's highest id (`Store.held_high`), so the
        dry run's diff counts the rows above it as inserts in SQL."""
        if not self.store.holding or table in self.store.held_high:
            return
        sa_table = sa.table(table, sa.column("id"))
        self.store.held_high[table] = int(
            conn.execute(sa.select(sa.func.max(sa_table.c.id))).scalar() or 0
        )

    def note_unstamped(self, table: str) -> None:
        """In a held transaction: `table` got rows under its highest id that
        do not carry the run's `__runId` (`move_to` keeps the moved rows'),
        so the dry run's diff compares the table whole."""
        if self.store.holding:
            self.store.held_high[table] = None

    # -- catalogue -------------------------------------------------------

    def create(self, name: str) -> TableInfo:
        check_identifier(name, "table")
        self._check_length(name, "table")
        if name.lower() in schema.CONSOLE_TABLES:
            raise ConsoleError(f"{name!r} is the name of one of the console's own tables")
        check_table_name(name)
        with self.store.write() as conn:
            if self.store.dialect == "postgresql":
                # Creates of one name at once queue here: the second sees the
                # first's table instead of failing on a unique index.
                conn.execute(
                    sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(name.lower())))
                )
            clash = conn.execute(
                sa.select(schema.user_tables.c.name).where(
                    schema.user_tables.c.name_key == name.lower()
                )
            ).scalar()
            if clash is not None:
                raise ConsoleError(f"a table named {clash!r} already exists")
            if sa.inspect(conn).has_table(name):
                raise ConsoleError(f"the database already holds a table named {name!r}")
            now = self.clock()
            conn.execute(
                schema.user_tables.insert().values(name=name, name_key=name.lower(), created_at=now)
            )
            try:
                self._build(name, {}).create(conn)
            except (sa.exc.ProgrammingError, sa.exc.OperationalError) as e:
                # another application's sequence or index in a shared database
                reason = str(e.orig).strip().splitlines()[0] if e.orig else type(e).__name__
                raise ConsoleError(f"cannot create a table named {name!r}: {reason}") from None
            self.store.announce(conn, Change("tables", name))
        return TableInfo(name, tuple(self._system_columns()), now)

    def all(self) -> list[TableInfo]:
        with self.store.read() as conn:
            tables = conn.execute(
                sa.select(schema.user_tables).order_by(schema.user_tables.c.name_key)
            ).all()
            columns = conn.execute(
                sa.select(schema.user_columns).order_by(schema.user_columns.c.position)
            ).all()
        by_table: dict[str, list[ColumnInfo]] = {}
        for c in columns:
            by_table.setdefault(c.table_name, []).append(
                ColumnInfo(c.name, c.kind, indexed=c.indexed)
            )
        return [
            TableInfo(t.name, (*self._system_columns(), *by_table.get(t.name, [])), t.created_at)
            for t in tables
        ]

    def info(self, name: str, conn: Connection | None = None) -> TableInfo:
        """The table as it is now (its columns read again), in `conn`'s read
        if given (the grid's first read: one transaction, not three)."""
        if conn is None:
            with self.store.read() as conn:
                return self.info(name, conn)
        sa_table, columns = self.read_schema(conn, name)
        created = conn.execute(
            sa.select(schema.user_tables.c.created_at).where(
                schema.user_tables.c.name == sa_table.name
            )
        ).scalar_one()
        return TableInfo(sa_table.name, tuple(columns.values()), created)

    def resolve(self, name: str) -> str:
        """The stored spelling of a table name, found case-insensitively."""
        given = self._given.get(str(name).lower())
        if given is not None:
            return given
        with self.store.read() as conn:
            found = conn.execute(
                sa.select(schema.user_tables.c.name).where(
                    schema.user_tables.c.name_key == str(name).lower()
                )
            ).scalar()
        if found is None:
            raise NotFoundError(f"no table named {name!r}")
        return str(found)

    def drop(self, name: str) -> None:
        real = self.resolve(name)
        with self.store.write() as conn:
            sa_table, _ = self.read_schema(conn, real)
            sa_table.drop(conn)
            conn.execute(schema.user_tables.delete().where(schema.user_tables.c.name == real))
            self.store.announce(conn, Change("tables", real))
        self._cache.pop(real, None)

    # -- columns ---------------------------------------------------------

    def add_column(self, table: str, column: str, kind: str) -> ColumnInfo:
        check_column_name(check_identifier(column, "column"))
        if kind not in KINDS:
            raise ConsoleError(f"column type {kind!r} is not one of {', '.join(KINDS)}")
        real = self.resolve(table)
        with self.store.write() as conn:
            self.lock(conn, real)
            _, columns = self.read_schema(conn, real)
            self._add_columns(conn, real, columns, {column: kind})
        self._cache.pop(real, None)
        return ColumnInfo(column, kind)

    def drop_column(self, table: str, column: str) -> None:
        real = self.resolve(table)
        if column in SYSTEM_COLUMNS:
            raise ConsoleError(f"{column} is a system column and cannot be deleted")
        from alembic.migration import MigrationContext
        from alembic.operations import Operations

        with self.store.write() as conn:
            self.lock(conn, real)
            _, columns = self.read_schema(conn, real)
            info = self._find_column(real, columns, column)
            if info.indexed:
                Operations(MigrationContext.configure(conn)).drop_index(
                    _index_name(real, info.name), table_name=real
                )
            Operations(MigrationContext.configure(conn)).drop_column(real, info.name)
            conn.execute(
                schema.user_columns.delete().where(
                    schema.user_columns.c.table_name == real,
                    schema.user_columns.c.name == info.name,
                )
            )
            self.store.announce(conn, Change("columns", real))
        self._cache.pop(real, None)

    def set_index(self, table: str, column: str) -> None:
        """Index a column, as the portal's "Set as index" (on `(column, id)`)."""
        real = self.resolve(table)
        with self.store.write() as conn:
            self.lock(conn, real)
            sa_table, columns = self.read_schema(conn, real)
            info = self._find_column(real, columns, column)
            if info.system:
                raise ConsoleError(f"{column} is a system column; it is indexed already")
            if info.indexed:
                return
            # (column, id): the order the grid sorts by, so a sorted page is
            # one seek and a position an index-only scan (PostgreSQL has no
            # row id in an index to sort equal values by).
            sa.Index(_index_name(real, info.name), sa_table.c[info.name], sa_table.c.id).create(
                conn
            )
            conn.execute(
                schema.user_columns.update()
                .where(
                    schema.user_columns.c.table_name == real,
                    schema.user_columns.c.name == info.name,
                )
                .values(indexed=True)
            )
            self.store.announce(conn, Change("columns", real))
        self._cache.pop(real, None)

    # -- for the script API and the browser -----------------------------

    def load(self, name: str, refresh: bool = False) -> tuple[sa.Table, dict[str, ColumnInfo]]:
        """The SQLAlchemy table and the columns of `name` (stored spelling),
        from the cache unless `refresh`."""
        if not refresh and name in self._cache:
            return self._cache[name]
        with self.store.read() as conn:
            return self.read_schema(conn, name)

    # -- internals -------------------------------------------------------

    def _check_length(self, name: str, what: str) -> None:
        limit = self.store.engine.dialect.max_identifier_length
        if len(name.encode()) > limit:
            raise ConsoleError(
                f"{what} name {name!r} is {len(name)} characters; "
                f"{self.store.engine.dialect.name} allows at most {limit}"
            )

    @staticmethod
    def _system_columns() -> list[ColumnInfo]:
        return [
            ColumnInfo("id", "integer", system=True, indexed=True),
            ColumnInfo("__createdAt", "datetime", system=True),
            ColumnInfo("__updatedAt", "datetime", system=True),
            ColumnInfo("__version", "integer", system=True),
            ColumnInfo("__runId", "integer", system=True),
        ]

    @staticmethod
    def _find_column(table: str, columns: Mapping[str, ColumnInfo], name: str) -> ColumnInfo:
        for info in columns.values():
            if info.name.lower() == str(name).lower():
                return info
        raise NotFoundError(f"no column {name!r} in {table}")

    @staticmethod
    def _build(name: str, columns: Mapping[str, ColumnInfo]) -> sa.Table:
        kinds = tuple((c.name, c.kind) for c in columns.values() if c.name not in SYSTEM_COLUMNS)
        return built_table(name, kinds)

    def read_schema(self, conn: Connection, name: str) -> tuple[sa.Table, dict[str, ColumnInfo]]:
        self._unconfirmed.discard(name)
        found = conn.execute(
            sa.select(schema.user_tables.c.name).where(schema.user_tables.c.name == name)
        ).scalar()
        if found is None:
            raise NotFoundError(f"no table named {name!r}")
        rows = conn.execute(
            sa.select(schema.user_columns)
            .where(schema.user_columns.c.table_name == name)
            .order_by(schema.user_columns.c.position)
        ).all()
        columns = {c.name: c for c in self._system_columns()}
        for r in rows:
            columns[r.name] = ColumnInfo(r.name, r.kind, indexed=r.indexed)
        cached = self._cache.get(name)
        if cached is not None and cached[1] == columns:
            return cached  # the same Table: SQLAlchemy's statement cache still holds
        sa_table = self._build(name, columns)
        self._cache[name] = (sa_table, columns)
        return sa_table, columns

    def ensure_columns(self, conn: Connection, table: str, kinds: Mapping[str, str]) -> sa.Table:
        """Inside a write transaction: give `table` every column of `kinds` it
        lacks; a column it has with another kind is an error."""
        self.lock(conn, table)
        sa_table, columns = self.read_schema(conn, table)
        for name, kind in kinds.items():
            if name in columns and columns[name].kind != kind:
                raise ConsoleError(f"{table}.{name} holds {columns[name].kind} values, not {kind}")
        missing = {n: k for n, k in kinds.items() if n not in columns}
        if missing:
            columns = self._add_columns(conn, table, dict(columns), missing)
            sa_table = self._build(table, columns)
            self._forget_uncommitted(table)
        return sa_table

    def _forget_uncommitted(self, table: str) -> None:
        """Columns just added belong to a transaction that may still roll
        back (a value refused after them, a failed write): caching them would
        make every later write of this process name a column that is not
        there. The next write reads the committed schema again."""
        self._cache.pop(table, None)

    def lock(self, conn: Connection, name: str) -> None:
        """Serialise schema changes to one table across connections."""
        if self.store.dialect == "postgresql":
            conn.execute(
                sa.select(schema.user_tables.c.name)
                .where(schema.user_tables.c.name == name)
                .with_for_update()
            )

    def _add_columns(
        self,
        conn: Connection,
        table: str,
        columns: dict[str, ColumnInfo],
        new: Mapping[str, str],
    ) -> dict[str, ColumnInfo]:
        lowered = {c.lower(): c for c in columns}
        position = len(columns)
        for name, kind in new.items():
            check_column_name(check_identifier(name, "column"))
            self._check_length(name, "column")
            if name.lower() in lowered:
                existing = lowered[name.lower()]
                raise ConsoleError(f"{table} already has a column {existing!r}")
            column = sa.Column(name, schema.USER_TYPES[kind]())
            conn.execute(AddColumn(sa.Table(table, sa.MetaData(), column), column))
            conn.execute(
                schema.user_columns.insert().values(
                    table_name=table, name=name, kind=kind, position=position, indexed=False
                )
            )
            position += 1
            columns[name] = ColumnInfo(name, kind)
            lowered[name.lower()] = name
            self.store.announce(conn, Change("columns", table))
        return columns

    def prepare_row(
        self, conn: Connection, table: str, row: Mapping[str, object], inserting: bool
    ) -> tuple[sa.Table, dict[str, Any]]:
        """`prepare` for one row, as a row."""
        sa_table, checked = self.prepare(conn, table, [row], inserting)
        return sa_table, {name: values[0] for name, values in checked.items()}

    def prepare(
        self, conn: Connection, table: str, rows: Sequence[Mapping[str, object]], inserting: bool
    ) -> tuple[sa.Table, dict[str, list[object]]]:
        """Rows checked against the table's columns, adding new ones, as one
        list of values a column; inside
        the write transaction so a schema change and its rows commit together."""
        sa_table, columns = self._cache.get(table) or self.read_schema(conn, table)
        split = split_rows(rows)  # column by column at C speed, for the usual batch
        keys: dict[Any, None] = dict.fromkeys(split or ())
        last: Any = None
        for row in rows if split is None else ():
            if type(row) is not dict and not isinstance(row, Mapping):
                raise ConsoleError(f"a row must be a dict, not {type(row).__name__}")
            if row.keys() != last:  # the rows of a batch mostly share their keys
                last = row.keys()
                keys.update(dict.fromkeys(last))
        unknown = [k for k in keys if k not in columns]
        if unknown:
            # Another connection may be adding the same columns: serialise on the
            # table's catalogue row, then look again at what is there now.
            self.lock(conn, table)
            sa_table, columns = self.read_schema(conn, table)
            unknown = [k for k in keys if k not in columns]
        for key in keys:
            if not isinstance(key, str):
                raise ConsoleError(f"a column name must be a string, not {key!r}")
            if inserting and key in SYSTEM_COLUMNS:
                raise ConsoleError(f"{key} is a system column; the table sets it")
        if unknown:
            lowered = {c.lower(): c for c in columns}
            new: dict[str, str] = {}
            for key in unknown:
                if key.lower() in lowered:
                    raise ConsoleError(
                        f"{table} has a column {lowered[key.lower()]!r}; "
                        f"{key!r} differs only in letter case"
                    )
                sample = next((r[key] for r in rows if r.get(key) is not None), None)
                if sample is not None:
                    try:
                        new[key] = kind_of(sample)
                    except ConsoleError as e:
                        raise ConsoleError(f"{key}: {e}") from None
            if new:
                columns = self._add_columns(conn, table, dict(columns), new)
                sa_table = self._build(table, columns)
                self._forget_uncommitted(table)
        names = [k for k in keys if k in columns and k not in SYSTEM_COLUMNS]
        checked = {
            name: check_column(
                name,
                columns[name].kind,
                split[name] if split is not None else [row.get(name) for row in rows],
            )
            for name in names
        }
        return sa_table, checked


@functools.lru_cache(maxsize=512)
def built_table(name: str, kinds: tuple[tuple[str, str], ...]) -> sa.Table:
    """The SQLAlchemy table of these columns, made once a process and never
    changed: the engine's cache of compiled statements then serves every run
    that writes to it (each run compiled its insert again: a third of a
    one-row run's time in the worker)."""
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", schema.BigId, primary_key=True, autoincrement=True),
        sa.Column("__createdAt", schema.UTCDateTime(), nullable=False),
        sa.Column("__updatedAt", schema.UTCDateTime(), nullable=False),
        sa.Column("__version", sa.Integer, nullable=False),
        sa.Column("__runId", sa.BigInteger, nullable=True),
        *(sa.Column(column, schema.USER_TYPES[kind]()) for column, kind in kinds),
        # No index on __runId: it cost a job's inserts 12-15 % and saved
        # an undo nothing measurable (docs/benchmarks.md); finding a small
        # run's rows in a big table scans it.
    )
