"""The database: an engine for SQLite or any SQLAlchemy URL, kept migrated.

SQLite runs in WAL mode with a busy timeout so the window reads while a job
writes; writes take the lock up front (BEGIN IMMEDIATE) so two writers queue
on the busy timeout instead of failing on a stale snapshot.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    InvalidatePoolError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from console.core.errors import ConsoleError, DatabaseGoneError, DatabaseVersionError
from console.core.paths import create_private_file, refuse_foreign_file
from console.core.store.cancel import Cancel
from console.core.store.changes import Change, ChangeFeed, notify_statement


def pathname2url(path: str) -> str:
    """urllib.request's pathname2url, without importing urllib.request (http,
    email and more: 10-25 ms of every run's start, before its first write)."""
    if os.name == "nt":
        from nturl2path import pathname2url as windows

        return windows(path)
    from urllib.parse import quote

    return quote(path)


#: The newest schema revision this console knows (a unit test keeps it equal
#: to the head of `migrations/versions`), so opening an up-to-date database
#: never needs to load Alembic.
HEAD_REVISION = "0009"
#: How long a write waits for another process's lock before it gives up (and
#: says so in one line). MOBILE_CONSOLE_BUSY_TIMEOUT_MS changes it.
BUSY_TIMEOUT_MS = int(os.environ.get("MOBILE_CONSOLE_BUSY_TIMEOUT_MS", "") or 30_000)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_ANNOUNCED = "console_announced"
#: Engines `prepare_engine` made ahead, by URL: each taken once.
_prepared: dict[str, Engine] = {}
_CANCEL = "console_cancel"
#: A pooled connection back in the pool for less than this, with nothing on
#: its socket to read, is taken without a ping (`_ping_when_needed`).
QUIET_S = 10.0
_IDLE = "console_idle_since"


def prepare_engine(url: str, warm: Callable[[Connection], None] | None = None) -> None:
    """Make the engine for `url` ahead, connected once (so SQLAlchemy has
    read the server's version and settings; `warm` is given that connection,
    in a transaction rolled back) and left with no connection: the next
    `make_engine(url)` of this process, or of a process forked from it,
    takes it instead of making one. For the fork server: its runs then skip
    SQLAlchemy's first-connect queries (docs/benchmarks.md)."""
    engine = make_engine(url, create_file=False)
    file = engine.url.database if engine.dialect.name == "sqlite" else None

    def existing_only(dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        # `mode=rw`: a SQLite file deleted under the console is not made
        # again, empty, by this warm-up (its Store would call it replaced).
        uri = f"file:{pathname2url(str(file))}?mode=rw"
        return dialect.dbapi.connect(uri, *cargs[1:], **{**cparams, "uri": True})

    creates = bool(file) and file != ":memory:" and not str(file).startswith("file:")
    if creates:
        event.listen(engine, "do_connect", existing_only)
    try:
        with engine.connect() as conn:
            if warm is not None:
                with conn.begin() as transaction:
                    warm(conn)
                    transaction.rollback()
    finally:
        if creates:
            event.remove(engine, "do_connect", existing_only)
        engine.dispose()  # no connection crosses a fork
    _prepared[url] = engine


def _ping_when_needed(engine: Engine) -> Engine:
    """SQLAlchemy's `pool_pre_ping`, but only for a connection that sat in
    the pool `QUIET_S` or longer, or whose socket has something to read
    (a server that restarted or ended the backend has closed it): a worker
    takes a connection several times a run, and each ping is a round trip
    and the server's CPU (docs/benchmarks.md). A ping that fails gives a
    new connection, and the pool's older ones are replaced as they are
    taken, as with `pool_pre_ping`."""

    def back(_dbapi: Any, record: Any, *_: Any) -> None:
        record.info[_IDLE] = time.monotonic()

    def taken(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE, None)
        if since is not None and time.monotonic() - since < QUIET_S and _quiet(dbapi):
            return
        try:
            engine.dialect.do_ping(dbapi)
        except engine.dialect.loaded_dbapi.Error as e:
            # as `pool_pre_ping` does: the pool's other connections are as old
            raise InvalidatePoolError(f"the pooled connection failed its ping: {e}") from e

    event.listen(engine, "connect", back)
    event.listen(engine, "checkin", back)
    event.listen(engine, "checkout", taken)
    return engine


def _quiet(dbapi: Any) -> bool:
    """Nothing waits on the connection's socket (an idle connection is sent
    nothing, unless its server closed it or says why it is ending it)."""
    try:
        if getattr(dbapi, "closed", False):
            return False
        readable, _, _ = select.select([dbapi.fileno()], [], [], 0)
    except (OSError, ValueError, AttributeError):  # ValueError: past FD_SETSIZE
        return False
    return not readable


def make_engine(url: str, *, create_file: bool = True, **kwargs: Any) -> Engine:
    """An engine for `url`; for SQLite, WAL, busy timeout and foreign keys on,
    and the file made (private) unless `create_file` is False."""
    if not kwargs and url in _prepared:
        return _prepared.pop(url)
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018  (a port that is not a number fails here, not later)
    except ArgumentError:
        raise ConsoleError(f"not a database URL: {url!r}") from None
    except ValueError:
        raise ConsoleError(f"not a database URL: {url!r} (its port is not a number)") from None
    if parsed.get_backend_name() != "sqlite":
        try:
            return _ping_when_needed(create_engine(parsed, **kwargs))
        except (NoSuchModuleError, ModuleNotFoundError) as e:
            raise ConsoleError(f"no database driver for {parsed.drivername}: {e}") from None
    database = parsed.database or ""
    if create_file and database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).parent
        for above in [folder, *folder.parents]:
            if above.exists() and not above.is_dir():
                raise ConsoleError(f"cannot keep a database in {folder}: {above} is a file")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            create_private_file(database)  # 0600 from the first byte, and so its WAL
        except OSError as e:
            raise ConsoleError(f"cannot create the database in {folder}: {e.strerror}") from None
    engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" below issue BEGIN itself, so DDL is
        # transactional too (the pysqlite recipe in SQLAlchemy's SQLite docs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # each statement commits by itself (the worker's heartbeat)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("console_write") else "BEGIN")

    return engine


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL; None for other databases and memory."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else os.path.abspath(database)


#: The SQLite files whose header this process has read (`refuse_foreign_file`).
_HEADER_READ: set[str] = set()


class Store:
    """One database: its engine, transactions for reading and writing, and
    its schema kept at the newest revision."""

    def __init__(
        self,
        url: str,
        *,
        migrate: bool = True,
        changes: ChangeFeed | None = None,
        **engine_options: Any,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_options)
        self._file = sqlite_file(url)
        if self._file is not None and self._file not in _HEADER_READ:
            # Before this process connects: a close later drops its SQLite (POSIX) locks.
            refuse_foreign_file(self._file)
            _HEADER_READ.add(self._file)
        self._identity: tuple[int, int] | None = None
        if self._file is not None:
            event.listen(self.engine, "do_connect", self._before_connect)
        #: Where this database's writes announce what they changed.
        self.changes = changes if changes is not None else ChangeFeed()
        #: While `hold` runs: its one connection, and the tables its writes named.
        self._held: Connection | None = None
        self.held_tables: set[str] = set()
        #: While `hold` runs: each written table's highest id before its
        #: first write (`TableStore.writing`); rows above it are all inserts.
        #: None: rows went under it unstamped (`TableStore.note_unstamped`).
        self.held_high: dict[str, int | None] = {}

        @event.listens_for(self.engine, "before_cursor_execute")
        def _before_execute(conn: Connection, *_args: Any) -> None:
            # A cancel that came before the statement reached the server
            # (nothing there to interrupt yet) stops it here.
            cancel = conn.info.get(_CANCEL)
            if cancel is not None:
                cancel.check()

        if migrate:
            self.migrate()
        self._remember_file()

    def _remember_file(self) -> None:
        if self._file is not None and self._identity is None:
            try:
                found = os.stat(self._file)
            except OSError:
                return
            self._identity = (found.st_dev, found.st_ino)

    def check_file(self) -> None:
        """Refuse to go on when the SQLite file this console opened was
        deleted or replaced under it: SQLite would carry on writing to the
        deleted file, and a new connection would create an empty one (two
        databases, each thinking it is the console's)."""
        if self._identity is None or self._file is None:
            return
        try:
            found = os.stat(self._file)
            now: tuple[int, int] | None = (found.st_dev, found.st_ino)
        except OSError:
            now = None
        if now != self._identity:
            happened = "deleted" if now is None else "replaced"
            raise DatabaseGoneError(
                f"the database {self._file} was {happened} while this console had it open; "
                "stopping so as not to write to two databases"
            )

    def _before_connect(
        self, dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]
    ) -> Any:
        """Every new connection to the file this console opened: refused if it
        is gone, and opened without the power to create it (`mode=rw`), so
        that a file deleted between that check and the connect is not made
        again, empty, as a second database."""
        self.check_file()
        if self._identity is None or self._file is None:
            return None  # the first connection, which may create the file
        try:
            return dialect.dbapi.connect(
                f"file:{pathname2url(self._file)}?mode=rw", *cargs[1:], **{**cparams, "uri": True}
            )
        except dialect.dbapi.OperationalError:
            self.check_file()  # gone since the check: say so
            raise

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self, cancel: Cancel | None = None) -> Iterator[Connection]:
        """A connection in a read transaction (a consistent snapshot); setting
        `cancel` interrupts the statement running on it."""
        self.check_file()
        if self._held is not None:  # reads see the held transaction's own writes
            yield self._held
            return
        with self.engine.connect() as conn, conn.begin(), self._interruptible(conn, cancel):
            yield conn

    @contextmanager
    def _interruptible(self, conn: Connection, cancel: Cancel | None) -> Iterator[None]:
        """While the block runs, setting `cancel` interrupts the statement
        running on `conn` (and stops any that would start)."""
        if cancel is None:
            yield
            return
        cancel.check()
        dbapi: Any = conn.connection.dbapi_connection
        conn.info[_CANCEL] = cancel
        ended = threading.Event()
        helpers: list[threading.Thread] = []
        try:
            if self.dialect == "sqlite":
                # interrupt() stops only a statement already running; the
                # progress handler also stops one that starts just after.
                # Rarely (about every 10 ms of work): each call takes the
                # GIL from the GUI thread.
                dbapi.set_progress_handler(lambda: 1 if cancel.is_set() else 0, 1_000_000)
                try:
                    with cancel.interrupts(dbapi.interrupt):
                        yield
                finally:
                    dbapi.set_progress_handler(None, 0)
            else:
                with cancel.interrupts(lambda: helpers.append(_cancel_until(dbapi, ended))):
                    yield
        finally:
            ended.set()
            for helper in helpers:  # no late cancel may reach the pool's next user
                helper.join()
            conn.info.pop(_CANCEL, None)

    @contextmanager
    def write(self, cancel: Cancel | None = None) -> Iterator[Connection]:
        """A connection in a write transaction: committed on success, rolled
        back on any exception. What it `announce`s is published after commit.
        Setting `cancel` interrupts it (rolled back, nothing written)."""
        self.check_file()
        if self._held is not None:  # a savepoint inside the held transaction
            savepoint = self._held.begin_nested()
            try:
                yield self._held
            except BaseException:
                try:
                    savepoint.rollback()
                except SQLAlchemyError:
                    # SQLite ends the whole transaction on some errors (a full
                    # disk): no savepoint is left, and the write's own error,
                    # raised on, says why
                    pass
                raise
            savepoint.commit()
            return
        announced: list[Change] = []
        with self.engine.connect() as conn:
            conn = conn.execution_options(console_write=True)
            conn.info[_ANNOUNCED] = announced
            try:
                with conn.begin(), self._interruptible(conn, cancel):
                    yield conn
            finally:
                conn.info.pop(_ANNOUNCED, None)
        self.changes.publish(*announced)

    @contextmanager
    def hold(self) -> Iterator[Connection]:
        """Every `read` and `write` until this ends happens on one connection,
        in one write transaction that is rolled back at the end (a dry run):
        each `write` is a savepoint in it. On SQLite it holds the write lock
        throughout. Other connections (`engine.connect()`) still see the
        database as committed."""
        self.check_file()
        with self.engine.connect() as conn:
            conn = conn.execution_options(console_write=True)
            outer = conn.begin()
            self._held, self.held_tables, self.held_high = conn, set(), {}
            try:
                yield conn
            finally:
                self._held = None
                outer.rollback()

    @property
    def holding(self) -> bool:
        return self._held is not None

    def held_connection(self) -> Connection:
        """The connection `hold` runs on (only while it does)."""
        if self._held is None:
            raise RuntimeError("no transaction is held")
        return self._held

    def announce(self, conn: Connection, *changes: Change) -> None:
        """Say what this write changed: heard in this process after commit,
        and by other processes (PostgreSQL NOTIFY, sent on commit)."""
        if self._held is not None:  # nothing is committed: only remember where
            self.held_tables.update(
                c.name for c in changes if c.topic in ("tables", "columns", "rows")
            )
            return
        if self.dialect == "postgresql" and changes:
            conn.execute(*notify_statement(changes, self.changes.origin))
        pending = conn.info.get(_ANNOUNCED)
        if pending is None:
            self.changes.publish(*changes)
        else:
            pending.extend(c for c in changes if c not in pending)

    def current_revision(self) -> str | None:
        try:
            with self.read() as conn:
                names = set(inspect(conn).get_table_names())
                if "alembic_version" not in names:
                    self._refuse_foreign(names)
                    return None
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError as e:
            raise ConsoleError(f"cannot open the database: {faults_describe(e)}") from None
        except DatabaseError as e:
            raise ConsoleError(f"cannot open the database: {faults_describe(e)}") from None
        if revision is None and names & {"jobs", "runs", "user_tables"}:
            raise ConsoleError(
                "the database's schema version is missing (alembic_version is empty), so "
                "it cannot be upgraded safely; restore it from a backup"
            )
        return revision

    def _refuse_foreign(self, names: set[str]) -> None:
        """A SQLite file with tables but none of the console's was made by
        another program: refused, never taken over."""
        if self.dialect != "sqlite":
            return
        theirs = sorted(n for n in names if not n.startswith("sqlite_"))
        if theirs:
            shown = ", ".join(theirs[:3]) + (", …" if len(theirs) > 3 else "")
            raise ConsoleError(
                f"{self.url.split('///', 1)[-1]} is not a Mobile Console database (it holds "
                f"tables {shown}); refusing to take it over: choose another --home or --db"
            )

    def migrate(self) -> None:
        """Bring the schema to the newest revision; refuse a newer database."""
        current = self.current_revision()
        if current == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        known = {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}
        if current is not None and current not in known:
            raise DatabaseVersionError(
                f"this database was made by a newer Mobile Console (schema {current}); "
                f"this one knows up to {HEAD_REVISION}: upgrade Mobile Console to open it"
            )
        with self.write() as conn:
            if self.dialect == "postgresql":
                # Two consoles opening a new database at once: one migrates.
                conn.execute(text("SELECT pg_advisory_xact_lock(7206001)"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def faults_describe(error: BaseException) -> str:
    from console.core.store.faults import describe

    return describe(error)


def _cancel_until(dbapi: Any, ended: threading.Event) -> threading.Thread:
    """PostgreSQL: psycopg's cancel() asks the server, on a connection of its
    own, to stop the statement running now. A statement sent just after that
    request would run on, so the request is repeated until the read ends."""

    def repeat() -> None:
        while not ended.is_set():
            try:
                dbapi.cancel()
            except Exception:  # the connection is gone: nothing left to stop
                return
            ended.wait(0.2)

    helper = threading.Thread(target=repeat, name="query-cancel", daemon=True)
    helper.start()
    return helper
