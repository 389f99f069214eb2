"""A run's table operations, done by its supervisor: the run's child sends
each one over a Unix socket (`linked_tables`), and the supervisor does it
with the very `Table` and `Query` code, through its own pooled connection,
stamped with the run's id. A short run then opens no database connection of
its own and reads no schema: about half the machine's CPU a one-row run cost
(docs/benchmarks.md, "A run's table operations over its pipe").

Values cross as JSON with tags for what JSON lacks (`encode`, `decode`):
never pickle, since the child runs the user's code. Each operation is one
transaction here, as it was in the child, so a child killed mid-request
writes a whole operation or none; `finish` waits for the one under way
before the run's end is recorded. Errors cross as their kind and message
and are raised again in the child (`linked_tables.raise_reply`).
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import json
import os
import secrets
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from console.core.errors import ConsoleError
from console.core.running.link_values import LINK_ROWS, REQUEST_BYTES, decode, encode
from console.core.store import faults
from console.core.store.cancel import Cancel
from console.core.store.database import Store
from console.core.tables.api import Query, Table, open_table
from console.core.tables.catalogue import Known, TableStore

#: A read answered here returns at most this many rows, and values of at
#: most this many bytes; a longer one is read by the child itself (within
#: its memory limit), so a worker never holds a job's big read.
READ_ROWS = 10_000
READ_BYTES = 16 * 1024 * 1024
#: Connections one run may hold (its threads share one; a process it forks
#: opens another), and connections not yet past their hello, at most, each
#: for at most `HELLO_S`: a job cannot use up the supervisor's descriptors.
RUN_CONNECTIONS = 4
WAITING_CONNECTIONS = 64
HELLO_S = 2.0
#: Table operations a run may ask for (`Table`'s methods).
TABLE_OPS = frozenset(
    ("insert", "insert_many", "update", "upsert", "delete", "delete_many", "delete_duplicates")
)
#: What may end a query here (`Query`'s methods); `iter` streams in the child.
QUERY_CALLS = frozenset(("read", "count", "first", "delete", "update", "move_to"))


def _same_user(conn: socket.socket) -> bool:
    """Whether the peer runs as this process's user (Linux: SO_PEERCRED;
    elsewhere the socket's private folder keeps others out)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return True
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return False
    return bool(struct.unpack("3i", creds)[1] == os.getuid())


def available() -> bool:
    """Whether this platform has Unix sockets (else each run connects itself)."""
    return hasattr(socket, "AF_UNIX")


def error_reply(error: BaseException) -> dict[str, Any]:
    """An error as the child raises it again (`linked_tables.raise_reply`)."""
    if isinstance(error, ConsoleError):
        return {"error": "console", "class": type(error).__name__, "msg": str(error)}
    if isinstance(error, SQLAlchemyError):
        return {"error": "database", "msg": faults.describe(error)}
    kind = type(error).__name__
    if getattr(builtins, kind, None) is not type(error):
        kind = "RuntimeError"  # not one the child can name: said with its message
    return {"error": "builtin", "class": kind, "args": encode(list(error.args))}


# -- the supervisor's end ------------------------------------------------------


class _Session:
    """One run's operations: its `TableStore`, and a lock held while one runs."""

    def __init__(self, store: Store, run_id: int, known: Known | None) -> None:
        #: Set as the run is stopped or ends: an operation under way stops
        #: and rolls back, as the child's own connection's would have.
        self.cancel = Cancel()
        self.tables = TableStore(store, run_id=run_id)
        self.tables.cancel = self.cancel
        self.known = {name.lower(): (name, columns) for name, columns in (known or {}).items()}
        self.lock = threading.Lock()
        self.closed = False
        self.conns: list[socket.socket] = []

    def table(self, name: str, on_write: Callable[[int], None]) -> Table:
        return Table(self.tables, name, on_write)

    def open(self, name: object, create: bool) -> Table:
        given = self.known.pop(str(name).lower(), None)
        if given is not None:  # trusted on first use: a run pays for the tables it opens
            self.tables.trust({given[0]: given[1]})
        return open_table(self.tables, str(name), create=create)


class TableLink:
    """A socket in the supervisor's process that does runs' table operations.

    `offer` registers a run and returns what its payload carries; `finish`
    ends the run's use of it (waiting for an operation under way); `close`
    ends the socket. Every connection says its run's token first: a run can
    only ever write as itself.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._folder: str | None = None
        if sys.platform == "linux":  # an abstract name: nothing on disk to leave behind
            self.path = f"\0mobile-console-link-{secrets.token_hex(8)}"
        else:
            self._folder = tempfile.mkdtemp(prefix="mobile-console-link-")
            self.path = os.path.join(self._folder, "tables")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(256)
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="table link", daemon=True).start()

    def offer(self, run_id: int, known: Known | None) -> dict[str, Any]:
        token = secrets.token_hex(16)
        with self._lock:
            self._sessions[token] = _Session(self.store, run_id, known)
        return {"path": self.path, "token": token}

    def stop(self, offered: dict[str, Any]) -> None:
        """The run is being stopped (timed out, cancelled): the operation
        under way is interrupted and rolled back, and none other is done."""
        with self._lock:
            session = self._sessions.get(offered["token"])
        if session is not None:
            session.cancel.set()

    def finish(self, offered: dict[str, Any]) -> None:
        """The run has ended: no more operations. One under way (its child
        killed, timed out or cancelled meanwhile) is interrupted and rolled
        back, as it would have been on the child's own connection, and has
        ended when this returns."""
        with self._lock:
            session = self._sessions.pop(offered["token"], None)
        if session is None:
            return
        session.cancel.set()
        with session.lock:
            session.closed = True
            for conn in session.conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def _accept(self) -> None:
        waiting = threading.BoundedSemaphore(WAITING_CONNECTIONS)
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError as e:
                if self._server.fileno() == -1:
                    return  # closed
                time.sleep(0.05 if e.errno in (errno.EMFILE, errno.ENFILE) else 0)
                continue  # out of descriptors for a moment: the next one may fit
            if not _same_user(conn) or not waiting.acquire(blocking=False):
                conn.close()  # another user's, or one too many not yet past its hello
                continue
            threading.Thread(target=self._serve, args=(conn, waiting), daemon=True).start()

    def _serve(self, conn: socket.socket, waiting: threading.BoundedSemaphore) -> None:
        with conn, conn.makefile("rb") as requests:
            try:
                conn.settimeout(HELLO_S)
                token = json.loads(requests.readline(256))["token"]
                conn.settimeout(None)
            except (OSError, ValueError, KeyError, TypeError):
                return
            finally:
                waiting.release()
            with self._lock:
                session = self._sessions.get(str(token))
                if session is None or len(session.conns) >= RUN_CONNECTIONS:
                    return
                session.conns.append(conn)
            while True:
                try:
                    line = requests.readline(REQUEST_BYTES + 65536)
                except OSError:
                    return  # the child was killed
                if not line.endswith(b"\n"):
                    return  # the child ended (or sent a request past any bound)
                with session.lock:
                    if session.closed:
                        return
                    reply = self._answer(session, line)
                    try:
                        conn.sendall(json.dumps(reply).encode() + b"\n")
                    except OSError:
                        return

    def _answer(self, session: _Session, line: bytes) -> dict[str, Any]:
        written = [0]

        def on_write(n: int) -> None:
            written[0] += n

        try:
            request = json.loads(line)
            result = _do(session, request, on_write)
        except Exception as e:
            return error_reply(e)
        return {"result": encode(result), "rows": written[0]}


def _do(session: _Session, request: dict[str, Any], on_write: Callable[[int], None]) -> Any:
    op = request["op"]
    args = decode(request.get("args", []))
    if op == "open":
        table = session.open(request["table"], bool(request.get("create")))
        return {"name": table.name, "columns": _columns(table, refresh=False)}
    table = session.table(str(request["table"]), on_write)
    if op == "columns":
        return _columns(table, refresh=True)
    if op == "insert_many" and isinstance(args[0], list) and len(args[0]) > LINK_ROWS:
        raise ConsoleError(f"the table link takes at most {LINK_ROWS} rows at once")
    if op in TABLE_OPS:
        return getattr(table, op)(*args)
    if op == "where":  # a condition the child's columns did not know: checked afresh
        table.where(**args[0])
        return _columns(table, refresh=False)
    if op != "query" or request.get("call") not in QUERY_CALLS:
        raise ConsoleError(f"the table link has no operation {op!r}")
    query = _query(table, decode(request["q"]))
    call = request["call"]
    if call == "move_to":
        return query.move_to(session.table(str(request["target"]), on_write))
    if call == "update":
        return query.update(**args[0])
    if call == "read":
        return _read(query)
    return getattr(query, call)()


def _read(query: Query) -> dict[str, Any]:
    """The query's rows, or `more` past `READ_ROWS` rows or `READ_BYTES`
    of text and bytes: streamed from the database, never held whole."""
    cap = READ_ROWS + 1 if query.limit is None else min(query.limit, READ_ROWS + 1)
    tables = query.table._tables
    rows: list[dict[str, Any]] = []
    size = 0
    with tables.store.read(tables.cancel) as conn:
        streamed = conn.execution_options(stream_results=True, max_row_buffer=100)
        for found in streamed.execute(query.take(cap)._statement()):
            row = dict(found._mapping)
            size += sum(len(v) for v in row.values() if isinstance(v, str | bytes))
            if len(rows) >= READ_ROWS or size > READ_BYTES:
                return {"more": True}  # read by the child itself
            rows.append(row)
    return {"rows": rows}


def _columns(table: Table, *, refresh: bool) -> list[dict[str, Any]]:
    found = table._tables.load(table.name, refresh=refresh)[1]
    return [vars(c).copy() for c in found.values()]  # flat: no need of `asdict`'s deep copy


def _query(table: Table, spec: dict[str, Any]) -> Query:
    """The child's query, made again step by step (each step checks again)."""
    query = table.query()
    for conditions in spec.get("filters", []):
        query = query.where(**conditions)
    for column, descending in spec.get("ordering", []):
        query = query.order_by_descending(column) if descending else query.order_by(column)
    if spec.get("limit") is not None:
        query = query.take(spec["limit"])
    if spec.get("offset"):
        query = query.skip(spec["offset"])
    if spec.get("columns"):
        query = query.select(*spec["columns"])
    return query
