"""Column kinds from values, the checks of values, and text typed by a person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.core.errors import ConsoleError
from console.core.tables.values import check_column, check_value, kind_of, parse_text


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("x", "string"),
        (1, "integer"),
        (True, "boolean"),
        (1.5, "float"),
        (datetime(2026, 1, 1, tzinfo=UTC), "datetime"),
        (b"\x00", "binary"),
        (bytearray(b"\x00"), "binary"),
    ],
)
def test_kind_of(value: object, kind: str) -> None:
    assert kind_of(value) == kind


def test_binary_values_are_stored_as_bytes_and_checked() -> None:
    assert check_value("data", "binary", bytearray(b"ab")) == b"ab"
    assert check_value("data", "binary", memoryview(b"ab")) == b"ab"
    with pytest.raises(ConsoleError, match="data holds string values; got binary 3 bytes"):
        check_value("data", "string", b"abc")
    assert check_column("data", "binary", [b"a", None]) == [b"a", None]
    assert check_column("data", "binary", [bytearray(b"a")]) == [b"a"]


def test_binary_is_not_typed_as_text() -> None:
    with pytest.raises(ConsoleError, match="written by jobs"):
        parse_text("data", "binary", "abc")
    assert parse_text("data", "binary", " ") is None


def test_nan_is_refused_typed_or_stored_as_sqlite_would_make_it_null() -> None:
    with pytest.raises(ConsoleError, match="score: nan"):
        parse_text("score", "float", "NaN")
    with pytest.raises(ConsoleError, match="score: nan"):
        check_column("score", "float", [1.0, None, float("nan")])
    assert check_column("score", "float", [1.0, None, 2.5]) == [1.0, None, 2.5]


def test_an_int_goes_into_a_float_column_only_when_it_is_a_float_exactly() -> None:
    assert repr(check_value("f", "float", 3)) == "3.0"
    assert check_value("f", "float", 2**64) == 2.0**64  # exact, though no 64-bit integer
    for inexact in (2**53 + 1, 10**400):
        with pytest.raises(ConsoleError, match="has no exact float"):
            check_value("f", "float", inexact)
