"""The errors the core raises for a user to read."""

from __future__ import annotations


class ConsoleError(Exception):
    """Something a user asked for that cannot be done; the message says why.

    The CLI prints it as one line and exits 2; the window shows it beside the
    field. Nothing has been changed when it is raised.
    """


class NotFoundError(ConsoleError):
    """A table, job, column, row or setting that does not exist."""


class ConflictError(ConsoleError):
    """An edit based on a stale `__version` of a row."""


class SecretsUnavailableError(ConsoleError):
    """No usable OS keyring: secrets can be neither stored nor read."""


class DatabaseVersionError(ConsoleError):
    """The database was made by a newer version of the console."""


class DatabaseUnavailableError(ConsoleError):
    """The database cannot be read or written now (gone, full, locked,
    corrupt, unreachable); the message says which, in one line."""


class DatabaseGoneError(DatabaseUnavailableError):
    """The SQLite file this console opened was deleted or replaced under it."""
