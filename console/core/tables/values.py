"""The values user tables hold: column kinds, the check of a value against a
column, and a person's text turned into a value."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from operator import attrgetter, is_
from typing import Any

from console.core.clock import parse_iso
from console.core.errors import ConsoleError

SYSTEM_COLUMNS = ("id", "__createdAt", "__updatedAt", "__version", "__runId")
KINDS = ("string", "integer", "float", "boolean", "datetime", "binary")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a user table as the catalogue knows it."""

    name: str
    kind: str
    system: bool = False
    indexed: bool = False


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]
    created_at: datetime


def whole_number(what: str, n: object) -> int:
    """`n` as a query's count (`take`, `skip`), or a ConsoleError."""
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= INT64_MAX:
        raise ConsoleError(f"{what} needs a whole number from 0 to {INT64_MAX}, not {n!r}")
    return n


def column_names(what: str, columns: tuple[object, ...]) -> tuple[str, ...]:
    """`columns` as a query's column names, or a ConsoleError."""
    for name in columns:
        if not isinstance(name, str):
            raise ConsoleError(f"{what} takes column names, not {name!r}")
    return columns  # type: ignore[return-value]  # all str, as checked


def kind_of(value: object) -> str:
    """The column kind a Python value would create."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, bytes | bytearray | memoryview):
        return "binary"
    raise ConsoleError(
        f"cannot store a {type(value).__name__}: use str, int, float, bool, datetime or bytes"
    )


def check_value(column: str, kind: str, value: object) -> object:
    """`value` ready to store in a column of `kind`, or a ConsoleError."""
    if value is None:
        return None
    try:
        given = kind_of(value)
    except ConsoleError as e:
        raise ConsoleError(f"{column}: {e}") from None
    if given == "string":
        check_text(column, [value])  # type: ignore[list-item]
    if given == "integer" and kind == "float":
        try:
            exact = float(value)  # type: ignore[arg-type]
        except OverflowError:
            exact = math.inf
        if exact != value:  # never rounded unsaid: 2**53 + 1 is no float
            raise ConsoleError(
                f"{column} holds float values; {value} has no exact float: "
                f"write float({value}) to store it rounded"
            )
        return exact
    if given == "integer" and not INT64_MIN <= value <= INT64_MAX:  # type: ignore[operator]
        raise ConsoleError(f"{column}: {value} does not fit in a 64-bit integer")
    if given == "float" and not math.isfinite(value):  # type: ignore[arg-type]
        raise ConsoleError(
            f"{column}: {value} cannot be stored: NaN and infinity are not numbers a table "
            "holds (SQLite would keep NaN as NULL, and JSON has neither); store None instead"
        )
    if given == kind:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if isinstance(value, datetime) and value.year in (1, 9999):
            try:  # stored in UTC, which may fall outside datetime's years
                value.astimezone(UTC)
            except OverflowError:
                raise ConsoleError(
                    f"{column}: {value} is outside the years 1 to 9999 in UTC"
                ) from None
        if isinstance(value, bytearray | memoryview):
            return bytes(value)
        return value
    shown = f"{len(value)} bytes" if given == "binary" else repr(value)  # type: ignore[arg-type]
    raise ConsoleError(f"{column} holds {kind} values; got {given} {shown}")


_EXACT_TYPES: dict[str, type] = {"string": str, "float": float, "boolean": bool, "binary": bytes}


def one_object(values: list[object]) -> bool:
    """Whether every value of a column is the very same object (more than
    one of them): a batch stamped with one `now`, one status. At C speed,
    and at once for the other columns (their last value is another)."""
    first = values[0] if values else None
    return len(values) > 1 and values[-1] is first and all(map(is_, values, repeat(first)))


def check_column(column: str, kind: str, values: list[object]) -> list[object]:
    """`check_value` over a whole column. A column of one object is checked
    once; when every value already has the column's type (the usual batch),
    one set of types, and min and max for integers, decide it at C speed;
    otherwise each value is checked."""
    if not values:
        return values
    if one_object(values):
        checked = check_value(column, kind, values[0])
        return values if checked is values[0] else [checked] * len(values)
    types = set(map(type, values))
    if kind == "integer":
        numbers: list[int] = values  # type: ignore[assignment]  # all int, as types says
        fast = types <= {int} and min(numbers) >= INT64_MIN and max(numbers) <= INT64_MAX
    elif kind == "datetime":
        fast = types <= {datetime} and None not in map(attrgetter("tzinfo"), values)
        fast = fast and not {1, 9999} & set(map(attrgetter("year"), values))
    elif kind == "float":  # finite, checked at C speed: inf and NaN make the sum so
        fast = types <= {float} and math.isfinite(math.fsum(values))  # type: ignore[arg-type]
    else:
        fast = types <= {_EXACT_TYPES[kind], type(None)}
        if fast and kind == "string":
            given: list[Any] = values
            texts: list[str] = [v for v in given if v is not None] if type(None) in types else given
            check_text(column, texts, encode=len(texts) <= 64)
    return values if fast else [check_value(column, kind, v) for v in values]


def check_text(column: str, texts: list[str], encode: bool = True) -> None:
    """Text every database stores: PostgreSQL refuses NUL, and no driver can
    encode a lone surrogate (half of an emoji's UTF-16 pair). Without `encode`
    only NUL is looked for: a big batch leaves a surrogate to the driver's
    UnicodeEncodeError (`Table.insert_many` names it), as encoding every text
    twice would cost a tenth of the insert."""
    if any(map(operator.contains, texts, repeat("\x00"))):
        raise ConsoleError(f"{column}: text cannot hold the NUL character (\\x00)")
    for text in texts if encode else ():
        if not text.isascii():
            try:
                text.encode()
            except UnicodeEncodeError as e:
                raise ConsoleError(
                    f"{column}: text holds {e.object[e.start : e.end]!r}, which is not a character"
                ) from None


def parse_text(column: str, kind: str, text: str) -> object:
    """A value typed by a person (CLI, a grid cell) for a column of `kind`."""
    stripped = text.strip()
    if stripped == "" and kind != "string":
        return None
    if kind == "binary":
        raise ConsoleError(f"{column} holds binary values, which are written by jobs, not typed")
    try:
        if kind == "string":
            return text
        if kind == "integer":
            return check_value(column, kind, int(stripped))
        if kind == "float":
            return check_value(column, kind, float(stripped))
        if kind == "boolean":
            lowered = stripped.lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(text)
        if kind == "datetime":
            return parse_iso(stripped)
    except ValueError:
        pass
    examples = {
        "integer": "a whole number",
        "float": "a number",
        "boolean": "true or false",
        "datetime": "an ISO date and time such as 2026-01-31T10:00:00Z",
    }
    raise ConsoleError(f"{column}: {text!r} is not {examples.get(kind, kind)}")
