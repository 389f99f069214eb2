"""The names users give tables, columns, jobs and settings."""

from __future__ import annotations

import pytest

from console.core.errors import ConsoleError
from console.core.names import MAX_NAME, check_column_name, check_identifier, check_setting_name


@pytest.mark.parametrize("name", ["a", "Updates", "get_Updates2", "x" * MAX_NAME])
def test_identifiers_a_user_would_expect_are_taken(name: str) -> None:
    assert check_identifier(name, "table") == name


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "name is required"),
        (None, "name is required"),
        ("__secret", "may not start with '__'"),
        ("x" * (MAX_NAME + 1), f"at most {MAX_NAME}"),
        ("1abc", "must start with a letter"),
        ("a b", "must start with a letter"),
        ("Updates; DROP TABLE x", "must start with a letter"),
        ("naïve", "must start with a letter"),
    ],
)
def test_bad_identifiers_say_what_is_wrong(name: object, says: str) -> None:
    with pytest.raises(ConsoleError, match=says) as caught:
        check_identifier(name, "table")
    assert "\n" not in str(caught.value)  # one line for the CLI


def test_a_very_long_bad_name_is_shortened_in_the_message() -> None:
    with pytest.raises(ConsoleError) as caught:
        check_identifier("y" * 500, "job")
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("name", ["TWITTER_QUERY", "_private", "a.b-c", "x" * 128])
def test_setting_names(name: str) -> None:
    assert check_setting_name(name) == name


@pytest.mark.parametrize("name", ["", "1st", "has space", "x" * 129, "console:tier", None])
def test_bad_setting_names(name: object) -> None:
    with pytest.raises(ConsoleError, match="setting name"):
        check_setting_name(name)


def test_names_are_at_most_63_characters_as_postgresql_takes_them() -> None:
    assert check_identifier("t" * 63, "table") == "t" * 63
    with pytest.raises(ConsoleError, match="is 64 characters; at most 63"):
        check_identifier("t" * 64, "table")


@pytest.mark.parametrize("name", ["ctid", "xmin", "OID", "tableoid"])
def test_postgresql_system_column_names_are_refused_everywhere(name: str) -> None:
    with pytest.raises(ConsoleError, match="reserved: PostgreSQL keeps it"):
        check_column_name(name)
    assert check_column_name("ctidx") == "ctidx"
