"""User tables, as in the portal: created by name, with system columns and a
schema that grows as rows with new properties arrive.

This is the API job scripts use (`tables.get_table("Updates")`), and the one
the CLI and the window browse through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import ExecutableDDLElement

from console.core import schema
from console.core.clock import Clock, parse_iso, utcnow
from console.core.errors import ConflictError, ConsoleError, NotFoundError
from console.core.names import check_identifier
from console.core.store import Store

SYSTEM_COLUMNS = ("id", "__createdAt", "__updatedAt", "__version")
KINDS = ("string", "integer", "float", "boolean", "datetime")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_SA_TYPES: dict[str, Callable[[], Any]] = {
    "string": sa.Text,
    "integer": sa.BigInteger,
    "float": lambda: sa.Double(),
    "boolean": sa.Boolean,
    "datetime": schema.UTCDateTime,
}


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a user table as the catalogue knows it."""

    name: str
    kind: str
    system: bool = False
    indexed: bool = False


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]
    created_at: datetime


def kind_of(value: object) -> str:
    """The column kind a Python value would create."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "datetime"
    raise ConsoleError(
        f"cannot store a {type(value).__name__}: use str, int, float, bool or datetime"
    )


def check_value(column: str, kind: str, value: object) -> object:
    """`value` ready to store in a column of `kind`, or a ConsoleError."""
    if value is None:
        return None
    given = kind_of(value)
    if given == "integer" and not INT64_MIN <= value <= INT64_MAX:  # type: ignore[operator]
        raise ConsoleError(f"{column}: {value} does not fit in a 64-bit integer")
    if given == kind:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
    if given == "integer" and kind == "float":
        return float(value)  # type: ignore[arg-type]
    raise ConsoleError(f"{column} holds {kind} values; got {given} {value!r}")


_EXACT_TYPES: dict[str, type] = {"string": str, "float": float, "boolean": bool}


def check_column(column: str, kind: str, values: list[object]) -> list[object]:
    """`check_value` over a whole column. When every value already has the
    column's type (the usual batch), one set of types, and min and max for
    integers, decide it at C speed; otherwise each value is checked."""
    if not values:
        return values
    types = set(map(type, values))
    if kind == "integer":
        numbers: list[int] = values  # type: ignore[assignment]  # all int, as types says
        fast = types <= {int} and min(numbers) >= INT64_MIN and max(numbers) <= INT64_MAX
    elif kind == "datetime":
        fast = types <= {datetime} and None not in map(attrgetter("tzinfo"), values)
    else:
        fast = types <= {_EXACT_TYPES[kind], type(None)}
    return values if fast else [check_value(column, kind, v) for v in values]


class AddColumn(ExecutableDDLElement):
    """`ALTER TABLE t ADD COLUMN c`, both names quoted by SQLAlchemy. Ours
    rather than Alembic's so a job's first new property does not load
    Alembic (0.1 s) in its script host."""

    inherit_cache = False

    def __init__(self, table: sa.Table, column: sa.Column[Any]) -> None:
        self.table, self.column = table, column


@compiles(AddColumn)
def _compile_add_column(element: AddColumn, compiler: Any, **_kw: Any) -> str:
    table = compiler.preparer.format_table(element.table)
    return f"ALTER TABLE {table} ADD COLUMN {compiler.get_column_specification(element.column)}"


def bulk_insert(
    conn: Connection,
    table: sa.Table,
    count: int,
    columns: Mapping[str, Sequence[object]],
    constants: Mapping[str, object],
) -> None:
    """INSERT `count` rows given column by column, with `constants` in every
    row, at the driver's executemany speed.

    SQLAlchemy compiles the statement once (its quoting, its paramstyle) and
    each column's dialect type converts its values, as when SQLAlchemy
    executes; what it no longer does is rebuild the parameters row by row
    (profiled: 70% of a 200,000-row insert) or convert a constant per row.
    """
    if count == 0:
        return
    dialect = conn.dialect
    compiled = table.insert().compile(dialect=dialect, column_keys=[*columns, *constants])

    def converted(key: str, values: Sequence[object]) -> Sequence[object]:
        process = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            return values
        out: list[object] = []
        last: object = out  # a sentinel no value can be
        done: object = None
        for value in values:
            if value is not last:  # a batch stamped with one `now` converts it once
                last, done = value, process(value)
            out.append(done)
        return out

    prepared = {key: converted(key, values) for key, values in columns.items()}
    for key, value in constants.items():  # converted once, the same object in every row
        prepared[key] = [converted(key, [value])[0]] * count
    if compiled.positional:
        ordered = [prepared[k] for k in compiled.positiontup or ()]
        params: list[Any] = list(zip(*ordered, strict=True))
    else:
        escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
        names = [escaped.get(k, k) for k in prepared]
        rows = zip(*prepared.values(), strict=True)
        params = [dict(zip(names, row, strict=True)) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def parse_text(column: str, kind: str, text: str) -> object:
    """A value typed by a person (CLI, a grid cell) for a column of `kind`."""
    stripped = text.strip()
    if stripped == "" and kind != "string":
        return None
    try:
        if kind == "string":
            return text
        if kind == "integer":
            return check_value(column, kind, int(stripped))
        if kind == "float":
            return float(stripped)
        if kind == "boolean":
            lowered = stripped.lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(text)
        if kind == "datetime":
            return parse_iso(stripped)
    except ValueError:
        pass
    examples = {
        "integer": "a whole number",
        "float": "a number",
        "boolean": "true or false",
        "datetime": "an ISO date and time such as 2026-01-31T10:00:00Z",
    }
    raise ConsoleError(f"{column}: {text!r} is not {examples.get(kind, kind)}")


def _index_name(table: str, column: str) -> str:
    digest = hashlib.sha1(f"{table}.{column}".encode()).hexdigest()[:16]
    return f"ix_u_{digest}"


class TableStore:
    """The user tables of one database: catalogue, schema and rows."""

    def __init__(self, store: Store, clock: Clock = utcnow) -> None:
        self.store = store
        self.clock = clock
        self._cache: dict[str, tuple[sa.Table, dict[str, ColumnInfo]]] = {}

    # -- catalogue -------------------------------------------------------

    def create(self, name: str) -> TableInfo:
        check_identifier(name, "table")
        self._check_length(name, "table")
        if name.lower() in schema.CONSOLE_TABLES:
            raise ConsoleError(f"{name!r} is the name of one of the console's own tables")
        with self.store.write() as conn:
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
            self._build(name, {}).create(conn)
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

    def info(self, name: str) -> TableInfo:
        sa_table, columns = self._load(name, refresh=True)
        with self.store.read() as conn:
            created = conn.execute(
                sa.select(schema.user_tables.c.created_at).where(
                    schema.user_tables.c.name == sa_table.name
                )
            ).scalar_one()
        return TableInfo(sa_table.name, tuple(columns.values()), created)

    def resolve(self, name: str) -> str:
        """The stored spelling of a table name, found case-insensitively."""
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
            sa_table, _ = self._read_schema(conn, real)
            sa_table.drop(conn)
            conn.execute(schema.user_tables.delete().where(schema.user_tables.c.name == real))
        self._cache.pop(real, None)

    def get(self, name: str, on_write: Callable[[int], None] | None = None) -> Table:
        """The table named `name` (any letter case), for reading and writing."""
        return Table(self, self.resolve(name), on_write)

    def count(self, name: str) -> int:
        return self.get(name).count()

    # -- columns ---------------------------------------------------------

    def add_column(self, table: str, column: str, kind: str) -> ColumnInfo:
        check_identifier(column, "column")
        if kind not in KINDS:
            raise ConsoleError(f"column type {kind!r} is not one of {', '.join(KINDS)}")
        real = self.resolve(table)
        with self.store.write() as conn:
            self._lock(conn, real)
            _, columns = self._read_schema(conn, real)
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
            self._lock(conn, real)
            _, columns = self._read_schema(conn, real)
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
        self._cache.pop(real, None)

    def set_index(self, table: str, column: str) -> None:
        """Index a column, as the portal's "Set as index"."""
        real = self.resolve(table)
        with self.store.write() as conn:
            self._lock(conn, real)
            sa_table, columns = self._read_schema(conn, real)
            info = self._find_column(real, columns, column)
            if info.system:
                raise ConsoleError(f"{column} is a system column; it is indexed already")
            if info.indexed:
                return
            sa.Index(_index_name(real, info.name), sa_table.c[info.name]).create(conn)
            conn.execute(
                schema.user_columns.update()
                .where(
                    schema.user_columns.c.table_name == real,
                    schema.user_columns.c.name == info.name,
                )
                .values(indexed=True)
            )
        self._cache.pop(real, None)

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
        ]

    @staticmethod
    def _find_column(table: str, columns: Mapping[str, ColumnInfo], name: str) -> ColumnInfo:
        for info in columns.values():
            if info.name.lower() == str(name).lower():
                return info
        raise NotFoundError(f"no column {name!r} in {table}")

    @staticmethod
    def _build(name: str, columns: Mapping[str, ColumnInfo]) -> sa.Table:
        return sa.Table(
            name,
            sa.MetaData(),
            sa.Column("id", schema.BigId, primary_key=True, autoincrement=True),
            sa.Column("__createdAt", schema.UTCDateTime(), nullable=False),
            sa.Column("__updatedAt", schema.UTCDateTime(), nullable=False),
            sa.Column("__version", sa.Integer, nullable=False),
            *(
                sa.Column(c.name, _SA_TYPES[c.kind]())
                for c in columns.values()
                if c.name not in SYSTEM_COLUMNS
            ),
        )

    def _read_schema(self, conn: Connection, name: str) -> tuple[sa.Table, dict[str, ColumnInfo]]:
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
        sa_table = self._build(name, columns)
        self._cache[name] = (sa_table, columns)
        return sa_table, columns

    def _load(self, name: str, refresh: bool = False) -> tuple[sa.Table, dict[str, ColumnInfo]]:
        if not refresh and name in self._cache:
            return self._cache[name]
        with self.store.read() as conn:
            return self._read_schema(conn, name)

    def _lock(self, conn: Connection, name: str) -> None:
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
            check_identifier(name, "column")
            self._check_length(name, "column")
            if name.lower() in lowered:
                existing = lowered[name.lower()]
                raise ConsoleError(f"{table} already has a column {existing!r}")
            column = sa.Column(name, _SA_TYPES[kind]())
            conn.execute(AddColumn(sa.Table(table, sa.MetaData(), column), column))
            conn.execute(
                schema.user_columns.insert().values(
                    table_name=table, name=name, kind=kind, position=position, indexed=False
                )
            )
            position += 1
            columns[name] = ColumnInfo(name, kind)
            lowered[name.lower()] = name
        return columns

    def _prepare_row(
        self, conn: Connection, table: str, row: Mapping[str, object], inserting: bool
    ) -> tuple[sa.Table, dict[str, Any]]:
        """`_prepare` for one row, as a row."""
        sa_table, checked = self._prepare(conn, table, [row], inserting)
        return sa_table, {name: values[0] for name, values in checked.items()}

    def _prepare(
        self, conn: Connection, table: str, rows: Sequence[Mapping[str, object]], inserting: bool
    ) -> tuple[sa.Table, dict[str, list[object]]]:
        """Rows checked against the table's columns, adding new ones, as one
        list of values a column; inside
        the write transaction so a schema change and its rows commit together."""
        sa_table, columns = self._cache.get(table) or self._read_schema(conn, table)
        keys: dict[str, None] = {}
        last: Any = None
        for row in rows:
            if type(row) is not dict and not isinstance(row, Mapping):
                raise ConsoleError(f"a row must be a dict, not {type(row).__name__}")
            if row.keys() != last:  # the rows of a batch mostly share their keys
                last = row.keys()
                keys.update(dict.fromkeys(last))
        unknown = [k for k in keys if k not in columns]
        if unknown:
            # Another connection may be adding the same columns: serialise on the
            # table's catalogue row, then look again at what is there now.
            self._lock(conn, table)
            sa_table, columns = self._read_schema(conn, table)
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
                    new[key] = kind_of(sample)
            if new:
                columns = self._add_columns(conn, table, dict(columns), new)
                sa_table = self._build(table, columns)
                self._cache[table] = (sa_table, columns)
        names = [k for k in keys if k in columns and k not in SYSTEM_COLUMNS]
        checked = {
            name: check_column(name, columns[name].kind, [row.get(name) for row in rows])
            for name in names
        }
        return sa_table, checked

    def _columns(self, table: str) -> dict[str, ColumnInfo]:
        return self._load(table)[1]


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
        return list(self._tables._load(self.name, refresh=True)[1].values())

    def insert(self, row: Mapping[str, object]) -> dict[str, Any]:
        """Store one row; returns it as stored, with its id and system columns."""
        store = self._tables.store
        with store.write() as conn:
            sa_table, values = self._tables._prepare_row(conn, self.name, row, inserting=True)
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
            sa_table, checked = self._tables._prepare(conn, self.name, batch, inserting=True)
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
            sa_table, values = self._tables._prepare_row(conn, self.name, changes, inserting=False)
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
        sa_table, _ = self._tables._load(self.name)
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
        sa_table, _ = self.table._tables._load(self.table.name, refresh=True)

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
