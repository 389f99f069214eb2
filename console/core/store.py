"""The database: an engine for SQLite or any SQLAlchemy URL, kept migrated.

SQLite runs in WAL mode with a busy timeout so the window reads while a job
writes; writes take the lock up front (BEGIN IMMEDIATE) so two writers queue
on the busy timeout instead of failing on a stale snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from console.core.errors import ConsoleError, DatabaseVersionError

#: The newest schema revision this console knows (a unit test keeps it equal
#: to the head of `migrations/versions`), so opening an up-to-date database
#: never needs to load Alembic.
HEAD_REVISION = "0006"
BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; for SQLite, WAL, busy timeout and foreign keys on."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConsoleError(f"not a database URL: {url!r}") from None
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(parsed, pool_pre_ping=True, **kwargs)
        except (NoSuchModuleError, ModuleNotFoundError) as e:
            raise ConsoleError(f"no database driver for {parsed.drivername}: {e}") from None
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
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
        immediate = conn.get_execution_options().get("console_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Store:
    """One database: its engine, transactions for reading and writing, and
    its schema kept at the newest revision."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if migrate:
            self.migrate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (a consistent snapshot)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction: committed on success, rolled
        back on any exception."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(console_write=True)
            with conn.begin():
                yield conn

    def current_revision(self) -> str | None:
        try:
            with self.read() as conn:
                if not inspect(conn).has_table("alembic_version"):
                    return None
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError as e:
            raise ConsoleError(f"cannot open the database: {e.orig}") from None

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
