"""Validation of the names users give: tables, columns, jobs, settings."""

from __future__ import annotations

import re

from console.core.errors import ConsoleError

MAX_NAME = 64
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def check_identifier(name: object, what: str) -> str:
    """`name` if it is a letter then letters, digits or `_`, at most 64 long,
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


def check_setting_name(name: object) -> str:
    """App setting names: like identifiers, upper or lower case, at most 128."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}", name):
        raise ConsoleError(
            f"setting name {name!r} must start with a letter or '_' and hold only "
            "letters, digits, '_', '.' or '-' (at most 128)"
        )
    return name
