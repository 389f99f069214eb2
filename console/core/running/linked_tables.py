"""`tables` in a run whose supervisor does its table operations
(`table_link`): the same `get_table`, `Table` and `Query` a script sees
(DESIGN.md's contract), each operation one request and one answer over a
Unix socket. The run opens no database connection for them.

What needs no database is checked here, at the script's own line, as the
table API checks it: a query's steps, and its conditions against the
columns the supervisor gave when the table was opened. Two things are done
over the run's own connection instead (`ScriptTables`, opened only then): a
request too big to send (`link_values.REQUEST_BYTES`, a big `insert_many`),
and `iter()` in an order other than by id or a `read()` of more than
`table_link.READ_ROWS` rows, which stream in the child so the supervisor
never holds them. Each operation is its own transaction either way, so the
two paths mix safely. Only that connection loads SQLAlchemy.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from console.core import errors
from console.core.running import link_values
from console.core.running.link_values import REQUEST_BYTES, decode, encode
from console.core.running.script_api import Emit, ScriptTables

if TYPE_CHECKING:  # SQLAlchemy loads only with the run's own connection
    import socket

    from console.core.tables.api import Query, Table
    from console.core.tables.values import ColumnInfo


class LinkedDatabaseError(Exception):
    """The database failed an operation the supervisor did for the run; the
    message is the console's one line (`faults.describe`)."""


def raise_reply(reply: dict[str, Any]) -> None:
    """Raise the error in `reply` as the table API would have raised it."""
    kind = reply.get("error")
    if kind is None:
        return
    if kind == "console":
        cls = getattr(errors, str(reply.get("class")), None)
        if not (isinstance(cls, type) and issubclass(cls, errors.ConsoleError)):
            cls = errors.ConsoleError
        raise cls(reply.get("msg", ""))
    if kind == "database":
        raise LinkedDatabaseError(reply.get("msg", ""))
    builtin = getattr(builtins, str(reply.get("class")), None)
    args = decode(reply.get("args", []))
    error: Exception = RuntimeError(*args)
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        with contextlib.suppress(TypeError):  # one not made from its message alone
            error = builtin(*args)
    raise error


class LinkedTables:
    """`tables` of a linked run: `get_table(name, create=False)`."""

    def __init__(self, link: dict[str, Any], direct: ScriptTables, emit: Emit) -> None:
        self._link = link
        self._direct = direct
        self._emit = emit
        self._socket: socket.socket | None = None
        self._replies: Any = None
        #: The process that opened the socket: a child the script forked
        #: opens its own, as answers cannot be shared.
        self._pid = 0
        #: One request and its answer at a time: a script's threads share it.
        self._lock = threading.Lock()
        self._went_direct = False
        self.dry_run = False

    def get_table(self, name: str, create: bool = False) -> LinkedTable:
        opened = self.call({"op": "open", "table": name, "create": create})
        return LinkedTable(self, opened["name"], opened["columns"])

    getTable = get_table  # the portal's spelling

    def call(self, request: dict[str, Any]) -> Any:
        """One operation over the link: its result, or its error raised."""
        data = json.dumps(request).encode() + b"\n"
        if len(data) > REQUEST_BYTES:
            raise _TooBig
        with self._lock:
            if self._socket is None or self._pid != os.getpid():
                self._connect()
            assert self._socket is not None
            self._socket.sendall(data)
            line = self._replies.readline()
        if not line:
            raise errors.ConsoleError("the console running this job has stopped")
        reply = json.loads(line)
        raise_reply(reply)
        if reply.get("rows"):
            self._emit({"t": "rows", "n": int(reply["rows"])})
        return decode(reply["result"])

    def _connect(self) -> None:
        import socket  # at the first table operation: an empty job never loads it

        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.connect(self._link["path"])
        self._socket.sendall(json.dumps({"token": self._link["token"]}).encode() + b"\n")
        self._replies = self._socket.makefile("rb")
        self._pid = os.getpid()

    def direct(self, name: str) -> Table:
        """The table over the run's own connection (opened on first use; the
        supervisor then forks the job's next runs with the table layer
        loaded ahead, `fork_server.ForkServers`)."""
        if not self._went_direct:
            self._went_direct = True
            self._emit({"t": "direct"})
        return self._direct.get_table(name)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._direct.close()


class _TooBig(Exception):
    """A request past `REQUEST_BYTES`: done over the run's own connection."""


def _columns(found: list[dict[str, Any]]) -> dict[str, ColumnInfo]:
    from console.core.tables.values import ColumnInfo

    return {c["name"]: ColumnInfo(**c) for c in found}


class LinkedTable:
    """One user table of a linked run: `Table`'s methods, each a request."""

    def __init__(self, tables: LinkedTables, name: str, columns: list[dict[str, Any]]) -> None:
        self._tables = tables
        self.name = name
        self._columns = _columns(columns)

    def __repr__(self) -> str:
        return f"<Table {self.name}>"

    def _call(self, op: str, *args: Any) -> Any:
        request = {"op": op, "table": self.name, "args": encode(list(args))}
        try:
            return self._tables.call(request)
        except _TooBig:
            return getattr(self._tables.direct(self.name), op)(*args)

    @property
    def columns(self) -> list[ColumnInfo]:
        found = self._tables.call({"op": "columns", "table": self.name})
        self._columns = _columns(found)
        return list(self._columns.values())

    def insert(self, row: Mapping[str, object]) -> dict[str, Any]:
        return dict(self._call("insert", row))

    def insert_many(self, rows: Iterable[Mapping[str, object]]) -> int:
        if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
            raise errors.ConsoleError(
                f"insert_many takes a list of rows, not {type(rows).__name__}"
            )
        batch = list(rows)
        if len(batch) > link_values.LINK_ROWS:
            return self._tables.direct(self.name).insert_many(batch)
        return int(self._call("insert_many", batch))

    def update(self, row: Mapping[str, object]) -> dict[str, Any]:
        return dict(self._call("update", row))

    def upsert(self, row: Mapping[str, object], key: str = "id") -> dict[str, Any]:
        return dict(self._call("upsert", row, key))

    def delete(self, row_id: object) -> None:
        self._call("delete", row_id)

    def delete_many(self, row_ids: Iterable[object]) -> int:
        return int(self._call("delete_many", list(row_ids)))

    def delete_duplicates(self, *keys: str) -> int:
        return int(self._call("delete_duplicates", *keys))

    # Queries start from the whole table.
    def query(self) -> LinkedQuery:
        return LinkedQuery(self)

    def where(self, **conditions: object) -> LinkedQuery:
        return LinkedQuery(self).where(**conditions)

    def order_by(self, column: str) -> LinkedQuery:
        return LinkedQuery(self).order_by(column)

    def order_by_descending(self, column: str) -> LinkedQuery:
        return LinkedQuery(self).order_by_descending(column)

    def take(self, n: int) -> LinkedQuery:
        return LinkedQuery(self).take(n)

    def skip(self, n: int) -> LinkedQuery:
        return LinkedQuery(self).skip(n)

    def select(self, *columns: str) -> LinkedQuery:
        return LinkedQuery(self).select(*columns)

    def read(self) -> list[dict[str, Any]]:
        return LinkedQuery(self).read()

    def count(self) -> int:
        return LinkedQuery(self).count()

    def first(self) -> dict[str, Any] | None:
        return LinkedQuery(self).first()

    def iter(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        return LinkedQuery(self).iter(batch)


def _given(value: object) -> object:
    """A condition's value as it can be sent (an iterator read once, here)."""
    return list(value) if isinstance(value, Iterator) else value


class LinkedQuery:
    """`Query` of a linked run: its steps kept here (and checked as `Query`
    checks them), sent whole with the call that ends it. Each step returns
    a new query. (Not a dataclass: `dataclasses` alone would add 7 ms to
    every run's start.)"""

    __slots__ = ("columns", "filters", "limit", "offset", "ordering", "table")

    def __init__(
        self,
        table: LinkedTable,
        filters: tuple[dict[str, object], ...] = (),
        ordering: tuple[tuple[str, bool], ...] = (),
        limit: int | None = None,
        offset: int = 0,
        columns: tuple[str, ...] = (),
    ) -> None:
        self.table, self.filters, self.ordering = table, filters, ordering
        self.limit, self.offset, self.columns = limit, offset, columns

    def __repr__(self) -> str:
        return f"<Query of {self.table.name}>"

    def _with(self, **changes: Any) -> LinkedQuery:
        given = {name: getattr(self, name) for name in self.__slots__}
        return LinkedQuery(**{**given, **changes})

    def where(self, **conditions: object) -> LinkedQuery:
        from console.core.tables.conditions import parse_conditions

        conditions = {k: _given(v) for k, v in conditions.items()}
        try:
            parse_conditions(conditions, self.table._columns)
        except errors.ConsoleError:
            # another writer may have added the column since: asked afresh
            request = {"op": "where", "table": self.table.name, "args": encode([conditions])}
            self.table._columns = _columns(self.table._tables.call(request))
        return self._with(filters=(*self.filters, conditions))

    def order_by(self, column: str) -> LinkedQuery:
        from console.core.tables.values import column_names

        (column,) = column_names("order_by()", (column,))
        return self._with(ordering=(*self.ordering, (column, False)))

    def order_by_descending(self, column: str) -> LinkedQuery:
        from console.core.tables.values import column_names

        (column,) = column_names("order_by_descending()", (column,))
        return self._with(ordering=(*self.ordering, (column, True)))

    def take(self, n: int) -> LinkedQuery:
        from console.core.tables.values import whole_number

        return self._with(limit=whole_number("take()", n))

    def skip(self, n: int) -> LinkedQuery:
        from console.core.tables.values import whole_number

        return self._with(offset=whole_number("skip()", n))

    def select(self, *columns: str) -> LinkedQuery:
        from console.core.tables.values import column_names

        return self._with(columns=column_names("select()", columns))

    def _spec(self) -> dict[str, Any]:
        return {
            "filters": list(self.filters),
            "ordering": [list(o) for o in self.ordering],
            "limit": self.limit,
            "offset": self.offset,
            "columns": list(self.columns),
        }

    def _call(self, call: str, *args: Any, target: str | None = None) -> Any:
        request = {
            "op": "query",
            "table": self.table.name,
            "q": encode(self._spec()),
            "call": call,
            "args": encode(list(args)),
            "target": target,
        }
        return self.table._tables.call(request)

    def _direct(self) -> Query:
        """This query over the run's own connection."""
        import dataclasses

        query = self.table._tables.direct(self.table.name).query()
        for conditions in self.filters:
            query = query.where(**conditions)
        return dataclasses.replace(
            query,
            ordering=self.ordering,
            limit=self.limit,
            offset=self.offset,
            columns=self.columns,
        )

    def read(self) -> list[dict[str, Any]]:
        answer = self._call("read")
        return self._direct().read() if answer.get("more") else list(answer["rows"])

    def count(self) -> int:
        return int(self._call("count"))

    def first(self) -> dict[str, Any] | None:
        row = self._call("first")
        return None if row is None else dict(row)

    def iter(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """As `Query.iter`: by id, each batch a read of its own over the link
        (after the last id seen); in any other order, one open read over the
        run's own connection."""
        from console.core.tables.id_batches import by_id, check_batch

        check_batch(batch)
        if any(name != "id" for name, _ in self.ordering):
            yield from self._direct().iter(batch)
            return
        descending = bool(self.ordering) and self.ordering[0][1]
        hide_id = bool(self.columns) and "id" not in self.columns
        columns = (*self.columns, "id") if hide_id else self.columns
        query = self._with(ordering=(("id", descending),), limit=None, offset=0, columns=columns)

        def read(size: int, offset: int, after: Any) -> list[dict[str, Any]]:
            step = query._with(limit=size, offset=offset)
            if after is not None:
                past = {"id__lt" if descending else "id__gt": after}
                step = step._with(filters=(*step.filters, past))
            return step.read()

        yield from by_id(read, batch, self.limit, self.offset, hide_id)

    def delete(self) -> int:
        return int(self._call("delete"))

    def update(self, **values: object) -> int:
        if not values:
            raise errors.ConsoleError("update() needs at least one column=value")
        return int(self._call("update", values))

    def move_to(self, target: LinkedTable) -> int:
        if (
            not isinstance(target, LinkedTable)
            or target._tables is not self.table._tables
            or target.name == self.table.name
        ):
            raise errors.ConsoleError("move_to() needs another table of the same database")
        return int(self._call("move_to", target=target.name))


if TYPE_CHECKING:
    #: `tables` and a table as a script gets them, linked or not.
    AnyTables = ScriptTables | LinkedTables
    AnyTable = Table | LinkedTable
