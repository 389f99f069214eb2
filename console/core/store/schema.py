"""The console's own tables, as SQLAlchemy Core metadata.

The migrations in `migrations/versions` create and upgrade these; a unit test
checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

metadata = MetaData()

# Autoincrementing 64-bit keys that SQLite still treats as its rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; give a timezone")
        utc: datetime = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        to_utc = self.process_bind_param

        def process(value: Any) -> str | None:
            # SQLAlchemy's SQLite DATETIME text ("2026-01-02 03:04:05.000007")
            # in one C call instead of its per-field format: a bulk insert's
            # dates cost a third as much. tests/unit/test_store.py pins the text.
            if type(value) is datetime and value.tzinfo is not None:
                return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]  # no "+00:00"
            utc = to_utc(value, dialect)  # None, or the refusal of anything else
            return None if utc is None else utc.isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: The type of a user table's column of each kind (`tables/values.KINDS`).
USER_TYPES: dict[str, Callable[[], Any]] = {
    "string": Text,
    "integer": BigInteger,
    "float": lambda: Double(),
    "boolean": Boolean,
    "datetime": UTCDateTime,
    "binary": LargeBinary,
}


user_tables = Table(
    "user_tables",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("name_key", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

user_columns = Table(
    "user_columns",
    metadata,
    Column(
        "table_name",
        String(64),
        ForeignKey("user_tables.name", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("position", Integer, nullable=False),
    Column("indexed", Boolean, nullable=False, default=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("name_key", String(64), nullable=False, unique=True),
    Column("interval", Integer, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("start_at", UTCDateTime(), nullable=False),
    Column("enabled", Boolean, nullable=False, default=False),
    Column("script", Text, nullable=False),
    Column("timeout_s", Integer, nullable=False),
    Column("memory_mb", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("last_run_at", UTCDateTime(), nullable=True),
    Column("next_run_at", UTCDateTime(), nullable=True),
    Column("retries", Integer, nullable=False, server_default="0"),
    Column("retry_delay_s", Integer, nullable=False, server_default="60"),
    # The IANA zone days and months count in; NULL (jobs made before 0006):
    # the zone of the machine that runs them, as then.
    Column("timezone", String(64), nullable=True),
    Column("language", String(16), nullable=False, server_default="python"),
)

leases = Table(
    "leases",
    metadata,
    Column("job_id", BigId, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("owner", String(80), nullable=True),
    Column("run_id", BigInteger, nullable=True),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("heartbeat_at", UTCDateTime(), nullable=True),
)

runs = Table(
    "runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", BigId, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("job_name", String(64), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("owner", String(80), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("error", Text, nullable=True),
    Column("rows_written", Integer, nullable=False, default=0),
    Column("attempt", Integer, nullable=False, server_default="1"),
    Column("attempts", Integer, nullable=False, server_default="1"),
    # The scheduled tick a run was started for (None for Run Once): what
    # "each tick exactly once" and start lateness are counted against.
    Column("due_at", UTCDateTime(), nullable=True),
    # The job's script version the run started with (script_versions).
    Column("script_version", Integer, nullable=True),
    Index("ix_runs_job_started", "job_id", "started_at"),
)

#: `mobile-console worker` processes, live and recently gone (owned by `workers`).
workers = Table(
    "workers",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("max_runs", Integer, nullable=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("stopped_at", UTCDateTime(), nullable=True),
)

log_entries = Table(
    "log_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, ForeignKey("runs.id", ondelete="CASCADE"), nullable=True),
    Column("job_name", String(64), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("level", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Index("ix_log_entries_run", "run_id", "id"),
    Index("ix_log_entries_at", "at"),
)

#: The HTTP a run's script made, masked and compressed (owned by `jobs.recordings`).
http_recordings = Table(
    "http_recordings",
    metadata,
    Column("run_id", BigInteger, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("exchanges", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    # How many exchanges kept a body only as its digest (past a limit).
    Column("truncated", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# Rows a run updated or deleted, as they were before it (tables/lineage.py):
# what undoing the run puts back. Gone with the run (retention, job deleted).
run_row_images = Table(
    "run_row_images",
    metadata,
    Column("run_id", BigInteger, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("table_name", String(64), primary_key=True),
    Column("row_id", BigInteger, primary_key=True),
    Column("before", Text, nullable=False),
)

# Rows a run wrote that a later write (another run's, or a person's) changed
# (tables/lineage.py): what undoing the run must not touch unless forced.
# Gone with the run whose rows were changed.
run_overwrites = Table(
    "run_overwrites",
    metadata,
    Column("run_id", BigInteger, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("table_name", String(64), primary_key=True),
    Column("row_id", BigInteger, primary_key=True),
)

# Every saved script of a job, oldest first (jobs/versions.py).
script_versions = Table(
    "script_versions",
    metadata,
    Column("job_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("script", Text, nullable=False),
    Column("saved_at", UTCDateTime(), nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

app_settings = Table(
    "app_settings",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("value", Text, nullable=True),
    Column("is_secret", Boolean, nullable=False),
    Column("kind", String(16), nullable=False, default="app"),
    # The lower-case names of the jobs that see it, comma-separated; NULL: all.
    Column("jobs", Text, nullable=True),
)

redirects = Table(
    "redirects",
    metadata,
    Column("from_prefix", String(2000), primary_key=True),
    Column("to_prefix", String(2000), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

#: The console's own table names; no user table may take one, in any case.
CONSOLE_TABLES = frozenset(t.lower() for t in [*metadata.tables, "alembic_version"])
