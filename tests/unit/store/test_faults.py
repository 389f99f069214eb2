"""Database and file-system faults, in one line."""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy.exc import OperationalError

from console.core.errors import DatabaseGoneError
from console.core.store.faults import describe, is_fatal


def test_sqlite_errors_become_one_plain_line() -> None:
    locked = OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    assert describe(locked).startswith("the database is locked by another process")
    full = OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))
    assert "disk holding the database is full" in describe(full)
    assert "\n" not in describe(locked) + describe(full)


def test_a_full_disk_outside_the_database() -> None:
    error = OSError(errno.ENOSPC, "No space left on device", "spool")
    assert describe(error) == "the disk is full (spool); free some space"


def test_only_a_gone_or_corrupt_database_is_fatal() -> None:
    corrupt = OperationalError(
        "SELECT", {}, sqlite3.DatabaseError("database disk image is malformed")
    )
    locked = OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))
    assert is_fatal(corrupt) and is_fatal(DatabaseGoneError("gone"))
    assert not is_fatal(locked)
