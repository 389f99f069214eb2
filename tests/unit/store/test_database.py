"""The store: SQLite setup, migrations, refusing newer databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from console.core.errors import ConsoleError, DatabaseVersionError
from console.core.store.database import Store, prepare_engine


def test_sqlite_runs_in_wal_mode_with_foreign_keys(home: Path) -> None:
    store = Store(f"sqlite:///{home / 'c.db'}")
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_a_foreign_sqlite_database_is_refused_not_taken_over(home: Path) -> None:
    url = f"sqlite:///{home / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # another program's database
        conn.execute(sa.text("CREATE TABLE keepme (x INTEGER)"))
        conn.execute(sa.text("INSERT INTO keepme VALUES (42)"))
    with pytest.raises(ConsoleError, match="not a Mobile Console database"):
        Store(url)
    with engine.begin() as conn:
        assert sa.inspect(conn).get_table_names() == ["keepme"]
    engine.dispose()


def test_a_newer_database_is_refused_with_a_clear_message(db_url: str) -> None:
    store = Store(db_url)
    with store.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseVersionError, match="newer Mobile Console"):
        Store(db_url)


def test_a_bad_url_is_a_clear_error() -> None:
    with pytest.raises(ConsoleError, match="not a database URL"):
        Store("no such thing")


def test_sqlite_times_are_stored_in_sqlalchemys_own_text() -> None:
    """UTCDateTime writes SQLite's DATETIME text itself (faster); it must be
    exactly what SQLAlchemy's processor writes, or sorting and equality in SQL
    would differ between old and new rows."""
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy.dialects import sqlite

    from console.core.store.schema import UTCDateTime

    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    theirs = sqlite.DATETIME().bind_processor(dialect)
    for value in [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=timezone(timedelta(hours=-7, minutes=-30))),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]:
        assert ours(value) == theirs(value.astimezone(UTC).replace(tzinfo=None))
    assert ours(None) is None
    with pytest.raises(ValueError):
        ours(datetime(2026, 1, 2))  # naive: ambiguous


def test_a_file_deleted_just_before_a_new_connection_is_not_made_again(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check that the file is still there, and the connect after it, are
    two steps: a file deleted between them must not come back as a second,
    empty database."""
    path = home / "gone.db"
    store = Store(f"sqlite:///{path}")
    store.engine.dispose()  # the next use opens a new connection
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    monkeypatch.setattr(store, "check_file", lambda: None)  # deleted after the check
    with pytest.raises(sa.exc.OperationalError), store.engine.connect():
        pass
    assert not path.exists()
    monkeypatch.undo()
    with pytest.raises(ConsoleError, match="was deleted while this console had it open"):
        store.engine.connect()
    assert not path.exists()


def test_warming_up_for_a_deleted_file_makes_no_second_database(tmp_path: Path) -> None:
    """The fork server's warm-up of a SQLite file deleted under the console
    fails and leaves no empty file behind (the worker would take that for
    its database replaced, not deleted)."""
    path = tmp_path / "console.db"
    with pytest.raises(sa.exc.OperationalError):
        prepare_engine(f"sqlite:///{path}")
    assert not path.exists()


@pytest.mark.postgres
def test_a_pooled_connection_the_server_ended_is_replaced_unseen(pg_url: str) -> None:
    # Taken again at once, so without a ping unless its socket says the
    # server has ended it (as a restart does): then pinged and replaced.
    store = Store(pg_url)
    with store.read() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # waits (up to 5 s) for that backend to be gone
        assert conn.execute(sa.text(f"SELECT pg_terminate_backend({pid}, 5000)")).scalar()
    admin.dispose()
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid
    with store.write() as conn:
        conn.execute(sa.text("SELECT 1"))
    store.dispose()


def test_a_second_store_on_a_file_keeps_the_first_ones_lock(home: Path) -> None:
    """A worker opens several stores on one file. Opening one must not close
    a descriptor of the file: POSIX drops every lock the process holds on it
    then, and another process that closes its own connection takes itself
    for the last one and removes the write-ahead log under the first store
    (a corrupt database: a worker's run and `run list` beside it did it)."""
    import subprocess
    import sys

    url = f"sqlite:///{home / 'console.db'}"
    first = Store(url)
    try:
        with first.write() as conn:  # a connection kept open by the pool, its writes in the log
            conn.execute(sa.text("UPDATE alembic_version SET version_num = version_num"))
        assert (home / "console.db-wal").exists()
        Store(url).dispose()
        looked = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
                " c.execute('SELECT count(*) FROM sqlite_master').fetchall(); c.close()",
                str(home / "console.db"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert looked.returncode == 0, looked.stderr
        assert (home / "console.db-wal").exists()  # not taken for the last connection
        with first.read() as conn:
            assert conn.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        first.dispose()
