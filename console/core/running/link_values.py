"""What crosses a run's table link (`table_link`, `linked_tables`): values
as JSON can carry them, tagged where JSON has no such type, and what the
child sends over it at most. Standard library only: a run's child loads it before any table
layer (an empty job loads no SQLAlchemy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: A request longer than this is not sent: the child does that operation
#: over its own connection instead (`linked_tables`).
REQUEST_BYTES = 4 * 1024 * 1024
#: An `insert_many` of more rows is written over the run's own connection:
#: one connection costs less than sending them all.
LINK_ROWS = 2_000


def encode(value: Any) -> Any:
    """`value` as JSON can carry it, tagged where JSON has no such type."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        import base64

        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {"$m": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$t": [encode(v) for v in value]}
    if isinstance(value, set | frozenset):
        return {"$s": [encode(v) for v in value]}
    # Something no table stores: its type's name, so the check says as much.
    return {"$x": type(value).__name__, "r": repr(value)[:200]}


def decode(value: Any) -> Any:
    """What `encode` was given (an unstorable value as a stand-in of the same
    type name)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if "$b" in value:
        import base64

        return base64.b64decode(value["$b"])
    if "$m" in value:
        return {decode(k): decode(v) for k, v in value["$m"]}
    if "$s" in value:
        return {decode(v) for v in value["$s"]}
    if "$t" in value:
        return tuple(decode(v) for v in value["$t"])
    shown = str(value.get("r", ""))
    stand_in = type(str(value.get("$x", "object")), (), {"__repr__": lambda _self: shown})
    return stand_in()
