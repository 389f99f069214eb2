"""The core's errors are for a user to read: every one of them reaches the
command line as one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import pytest

from console.cli import commands, program
from console.cli.parser import Command
from console.core import errors

ERRORS = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, Exception) and cls.__module__ == errors.__name__
]


def test_every_core_error_is_a_console_error() -> None:
    assert len(ERRORS) >= 6
    assert all(issubclass(cls, errors.ConsoleError) for cls in ERRORS)


@pytest.mark.parametrize("error", ERRORS, ids=lambda cls: cls.__name__)
def test_each_reaches_the_command_line_as_one_line_and_exit_2(
    error: type[errors.ConsoleError],
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def fails(_services: object, _args: argparse.Namespace) -> int:
        raise error(f"{error.__name__} said why, in a line")

    tier = commands.COMMANDS["tier"]
    monkeypatch.setitem(commands.COMMANDS, "tier", Command(tier.declare, fails))
    assert program.main(["--home", str(home), "tier"]) == 2
    err = capsys.readouterr().err
    assert err == f"mobile-console: {error.__name__} said why, in a line\n"


def test_a_deleted_database_file_is_handled_as_an_outage() -> None:
    # Outage handling (store/faults.py) looks for DatabaseUnavailableError; a
    # file deleted under the console must take that path too.
    assert issubclass(errors.DatabaseGoneError, errors.DatabaseUnavailableError)
    assert not issubclass(errors.DatabaseVersionError, errors.DatabaseUnavailableError)
