"""`where` conditions checked against a table's columns, before any SQL."""

from __future__ import annotations

from datetime import datetime

import pytest

from console.core.errors import ConsoleError
from console.core.tables.conditions import Condition, parse_conditions
from console.core.tables.values import ColumnInfo

COLUMNS = {
    c.name: c
    for c in [
        ColumnInfo("id", "integer", system=True),
        ColumnInfo("__createdAt", "datetime", system=True),
        ColumnInfo("age", "integer"),
        ColumnInfo("name", "string"),
        ColumnInfo("odd__name", "string"),
    ]
}


def test_conditions_are_parsed_and_values_checked() -> None:
    parsed = parse_conditions(
        {
            "age__ge": 3,
            "name": None,
            "odd__name": "x",
            "__createdAt__lt": datetime(2026, 1, 1),
            "age__in": [1, 2],
        },
        COLUMNS,
    )
    assert parsed[0] == Condition("age", "ge", 3)
    assert parsed[1] == Condition("name", "eq", None)
    assert parsed[2] == Condition("odd__name", "eq", "x")  # a column's own name wins
    assert parsed[3].column == "__createdAt" and parsed[3].value.tzinfo is not None
    assert parsed[4] == Condition("age", "in", (1, 2))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("age__between", 1, "unknown operator __between in 'age__between'"),
        ("nope__lt", 1, "no column 'nope'"),
        ("nope", 1, "no column 'nope'"),
        ("age__in", "12", "takes a list"),
        ("name__startswith", 5, "takes text"),
        ("age__gt", None, "use age__isnull"),
        ("age", "x", "age holds integer values"),
    ],
)
def test_bad_conditions_name_what_is_wrong(key: str, value: object, message: str) -> None:
    with pytest.raises(ConsoleError, match=message):
        parse_conditions({key: value}, COLUMNS)
