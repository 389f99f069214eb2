"""Validation of the names users give: tables, columns, jobs, settings."""

from __future__ import annotations

import re

from console.core.errors import ConsoleError

#: PostgreSQL's limit, kept on SQLite too: a table moves between them.
MAX_NAME = 63
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def check_identifier(name: object, what: str) -> str:
    """`name` if it is a letter then letters, digits or `_`, at most 63 long,
    not starting with `__`; else a ConsoleError saying what is wrong."""
    if not isinstance(name, str) or not name:
        raise ConsoleError(f"a {what} name is required")
    shown = name if len(name) <= 80 else name[:77] + "..."
    if name.startswith("__"):
        raise ConsoleError(f"{what} name {shown!r} may not start with '__' (reserved for system)")
    if len(name) > MAX_NAME:
        raise ConsoleError(f"{what} name {shown!r} is {len(name)} characters; at most {MAX_NAME}")
    if not _IDENTIFIER.fullmatch(name):
        raise ConsoleError(
            f"{what} name {shown!r} must start with a letter and hold only letters, digits and '_'"
        )
    return name


#: Relation names the databases keep for themselves (SQLite's `sqlite_*`,
#: PostgreSQL's `pg_*`) or that the console's own indexes, constraints and
#: sequences take or may take (`ix_*`, `*_pkey`, `*_key`, `*_seq`...): in
#: PostgreSQL an index shares the namespace of tables.
_RESERVED_PREFIXES = ("sqlite_", "pg_", "ix_", "uq_", "fk_", "ck_", "pk_")
_RESERVED_SUFFIXES = ("_pkey", "_key", "_seq", "_fkey", "_idx", "_excl", "_check")


def check_table_name(name: str) -> str:
    """A table name that no database object of SQLite, PostgreSQL or the
    console takes (checked after `check_identifier`)."""
    lowered = name.lower()
    for prefix in _RESERVED_PREFIXES:
        if lowered.startswith(prefix):
            raise ConsoleError(
                f"table name {name!r} is reserved: names starting {prefix!r} belong to the "
                "database or the console's indexes"
            )
    for suffix in _RESERVED_SUFFIXES:
        if lowered.endswith(suffix):
            raise ConsoleError(
                f"table name {name!r} is reserved: PostgreSQL names indexes, keys and "
                f"sequences ending {suffix!r}"
            )
    return name


#: Column names PostgreSQL keeps for every table's system columns.
_SYSTEM_COLUMNS = ("ctid", "xmin", "xmax", "cmin", "cmax", "tableoid", "oid")


def check_column_name(name: str) -> str:
    """A column name that no database takes for itself (checked after
    `check_identifier`): the same on SQLite, so a table moves between them."""
    if name.lower() in _SYSTEM_COLUMNS:
        raise ConsoleError(f"column name {name!r} is reserved: PostgreSQL keeps it for every table")
    return name


def check_setting_name(name: object) -> str:
    """App setting names: like identifiers, upper or lower case, at most 128."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}", name):
        raise ConsoleError(
            f"setting name {name!r} must start with a letter or '_' and hold only "
            "letters, digits, '_', '.' or '-' (at most 128)"
        )
    return name
