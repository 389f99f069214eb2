"""Database and file-system faults, said in one line for a user.

The CLI prints the line and exits 2; the window shows it; a worker logs it.
Never a traceback: the line names what failed and, where one exists, the fix.
"""

from __future__ import annotations

import errno

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from console.core.errors import DatabaseUnavailableError

#: Fragments of SQLite's and PostgreSQL's messages, and what to tell the user.
_KNOWN = (
    (
        "database is locked",
        "the database is locked by another process past the busy timeout; "
        "try again when it is done",
    ),
    ("database or disk is full", "the disk holding the database is full; free some space"),
    ("disk i/o error", "the database file could not be read or written (disk I/O error)"),
    (
        "file is not a database",
        "the database file is not a database (damaged, or another program's file)",
    ),
    (
        "malformed",
        "the database is corrupt (database disk image is malformed); restore it from a backup",
    ),
    (
        "unable to open database file",
        "the database file cannot be opened (it or its folder is missing, or not "
        "readable and writable by this user)",
    ),
    ("readonly database", "the database is read-only here"),
    ("connection refused", "the database server refuses connections (is it running?)"),
    ("could not connect", "cannot reach the database server"),
    ("terminating connection", "the database server closed the connection (it stopped)"),
    ("server closed the connection", "the database server closed the connection (it stopped)"),
    ("connection is closed", "the connection to the database server was lost"),
    ("consuming input failed", "the connection to the database server was lost"),
    ("no such table", "the database lacks the console's tables (damaged?)"),
)


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0].strip() if lines else ""


def describe(error: BaseException) -> str:
    """One line for a database or file-system error."""
    if isinstance(error, DatabaseUnavailableError):
        return str(error)
    if isinstance(error, OSError):
        if error.errno == errno.ENOSPC:
            return f"the disk is full ({error.filename or 'writing'}); free some space"
        where = f" {error.filename}" if error.filename else ""
        return f"cannot use{where}: {error.strerror or _first_line(error)}"
    cause = error.orig if isinstance(error, DBAPIError) else error
    detail = _first_line(cause) or type(cause).__name__
    lowered = detail.lower()
    for fragment, said in _KNOWN:
        if fragment in lowered:
            return said
    return f"database error: {detail}"


def is_fatal(error: BaseException) -> bool:
    """A fault that waiting will not mend: the database file deleted,
    replaced, corrupt or not a database. A worker stops on it."""
    from console.core.errors import DatabaseGoneError

    if isinstance(error, DatabaseGoneError):
        return True
    if isinstance(error, DBAPIError):
        text = _first_line(error.orig).lower()
        return "malformed" in text or "not a database" in text
    return False


def as_console_error(error: BaseException) -> DatabaseUnavailableError:
    """`error` as the ConsoleError the CLI and the window show."""
    return DatabaseUnavailableError(describe(error))


FAULTS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)
