"""The conditions of `Query.where`: `col=value` or `col__op=value`, checked
against the table's columns and turned into SQL (never filtered in Python)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.core.errors import ConsoleError
from console.core.tables.values import ColumnInfo, check_value

if TYPE_CHECKING:
    import sqlalchemy as sa

OPERATORS = ("lt", "le", "gt", "ge", "ne", "in", "contains", "startswith", "isnull")
_COMPARE = {
    "lt": lambda c, v: c < v,
    "le": lambda c, v: c <= v,
    "gt": lambda c, v: c > v,
    "ge": lambda c, v: c >= v,
}


@dataclass(frozen=True)
class Condition:
    """One checked condition: a column of the table, an operator
    (`eq` or one of OPERATORS) and its value, ready to store or compare."""

    column: str
    op: str
    value: Any


def _split(key: str, columns: Mapping[str, ColumnInfo]) -> tuple[str, str]:
    if key in columns:  # a column whose own name holds "__" wins over an operator
        return key, "eq"
    name, sep, op = key.rpartition("__")
    if not sep or not name:
        raise ConsoleError(f"where(): no column {key!r} in this table")
    if op not in OPERATORS:
        if name in columns:
            raise ConsoleError(
                f"where(): unknown operator __{op} in {key!r}; "
                f"use one of {', '.join('__' + o for o in OPERATORS)}"
            )
        raise ConsoleError(f"where(): no column {key!r} in this table")
    if name not in columns:
        raise ConsoleError(f"where(): no column {name!r} in this table (in {key!r})")
    return name, op


def parse_conditions(
    conditions: Mapping[str, object], columns: Mapping[str, ColumnInfo]
) -> tuple[Condition, ...]:
    """Checked conditions, or a ConsoleError naming the bad column, operator or value."""
    parsed: list[Condition] = []
    for key, value in conditions.items():
        name, op = _split(key, columns)
        kind = columns[name].kind
        if op == "isnull":
            if not isinstance(value, bool):
                raise ConsoleError(f"where(): {key} takes True or False, not {value!r}")
        elif op == "in":
            if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                raise ConsoleError(f"where(): {key} takes a list of values, not {value!r}")
            value = tuple(check_value(name, kind, v) for v in value)
        elif op in ("contains", "startswith"):
            if kind != "string":
                raise ConsoleError(f"where(): {key}: {name} holds {kind} values, not text")
            if not isinstance(value, str):
                raise ConsoleError(f"where(): {key} takes text, not {value!r}")
            value = check_value(name, kind, value)
        elif value is None and op not in ("eq", "ne"):
            raise ConsoleError(f"where(): {key} cannot compare with None; use {name}__isnull")
        else:
            value = check_value(name, kind, value)
        parsed.append(Condition(name, op, value))
    return tuple(parsed)


def condition_sql(table: sa.Table, condition: Condition, dialect: str) -> sa.ColumnElement[bool]:
    """The SQL for one condition. `contains` and `startswith` are
    case-sensitive on every database (SQLite's LIKE would not be)."""
    import sqlalchemy as sa  # here: a linked run checks its conditions without it

    column: Any = table.c[condition.column]
    op, value = condition.op, condition.value
    if op == "eq":
        return column.is_(None) if value is None else column == value  # type: ignore[no-any-return]
    if op == "ne":
        if value is None:
            return column.is_not(None)  # type: ignore[no-any-return]
        # SQL's != is never true against null; a missing value is "not equal"
        return sa.or_(column != value, column.is_(None))
    if op == "isnull":
        return column.is_(None) if value else column.is_not(None)  # type: ignore[no-any-return]
    if op == "in":
        # None in the list matches a missing value, as col=None does
        known = [v for v in value if v is not None]
        if dialect == "postgresql" and len(known) > 1000:
            # one array parameter: PostgreSQL's protocol takes at most 65,535 a statement
            # (imported here: its dialect costs every SQLite run's start 10-25 ms)
            from sqlalchemy.dialects.postgresql import ARRAY

            matches = column == sa.any_(
                sa.cast(sa.literal(known, ARRAY(column.type)), ARRAY(column.type))
            )
        elif dialect == "sqlite" and len(known) > 1000 and _json_safe(known):
            # one JSON parameter: SQLite takes at most 32,766 (as commonly built) a statement
            values = sa.func.json_each(sa.literal(json.dumps(known))).table_valued("value")
            matches = column.in_(sa.select(values.c.value))
        else:
            matches = column.in_(known)
        return sa.or_(matches, column.is_(None)) if len(known) < len(value) else matches
    if op == "startswith":
        return sa.func.substr(column, 1, len(value)) == value  # type: ignore[no-any-return]
    if op == "contains":
        if dialect == "sqlite":
            return sa.func.instr(column, value) > 0
        if dialect == "postgresql":
            return sa.func.strpos(column, value) > 0
        return column.contains(value, autoescape=True)  # type: ignore[no-any-return]
    if isinstance(value, bool):  # false < true, as both databases order them
        value = sa.literal(value, sa.Boolean())
    return _COMPARE[op](column, value)  # type: ignore[no-any-return]


def _json_safe(values: list[Any]) -> bool:
    """Values JSON carries to SQLite as it stores them: whole numbers, text."""
    kinds = set(map(type, values))
    return kinds == {int} or kinds == {str}
