"""One parser for the command line, built from each command group's own
declaration (`COMMANDS` in `table`, `job`, `runs`, `settings`, `redirect`,
`worker`, `desktop`), and the argument types they share."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from console.app import Services

#: The program's exit statuses: success, a job run that failed, bad input
#: (one line on stderr, nothing changed).
EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT = 0, 1, 2

#: The largest --limit: beyond it a database's integer would overflow.
MAX_COUNT = 2**31 - 1


class UsageError(Exception):
    """Bad command-line words; carries the one line to print."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


#: The subparsers of `mobile-console`, where each group adds its commands.
Commands = Any  # argparse's _SubParsersAction[Parser]: private to argparse


@dataclass(frozen=True)
class Command:
    """A command: how its words are declared, and what runs it: `handle`
    with the console's services, or `handle_alone` for a command that needs
    no console database."""

    declare: Callable[[Commands], None]
    handle: Callable[[Services, argparse.Namespace], int] | None = None
    handle_alone: Callable[[argparse.Namespace], int] | None = None


#: The order `--help` lists the commands in.
ORDER = (
    "demo",
    "table",
    "job",
    "logs",
    "run",
    "identity",
    "setting",
    "worker",
    "workers",
    "tier",
    "desktop-entry",
    "autostart",
    "config",
    "redirect",
)


class _VersionAction(argparse.Action):
    """--version: the installed version, from the package metadata, looked up
    only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the installed version")

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> NoReturn:
        import console

        print(f"{parser.prog} {console.__version__}")
        parser.exit()


def build_parser(commands_by_name: Mapping[str, Command]) -> argparse.ArgumentParser:
    """The whole command line: the options every command shares, then each
    command as its group declares it, in `ORDER`."""
    parser = Parser(
        prog="mobile-console",
        description="Mobile Console: tables, scheduled jobs, secrets and logs of a local "
        "mobile backend. With no command, opens the console window.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument(
        "--home",
        help="data directory (default: $MOBILE_CONSOLE_HOME or the platform's user data directory)",
    )
    parser.add_argument(
        "--db",
        help="SQLAlchemy database URL (default: $MOBILE_CONSOLE_DB or console.db in the home)",
    )
    parser.add_argument(
        "--minimized", action="store_true", help="open the window straight into the system tray"
    )
    commands = parser.add_subparsers(dest="command", parser_class=Parser)

    commands.add_parser("demo", help="open the window on a demo home with a simulated Twitter")

    for name in ORDER:
        if name in commands_by_name:
            commands_by_name[name].declare(commands)
    return parser


def non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is below 0")
    if value > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text!r} is above {MAX_COUNT:,}")
    return value


def positive(text: str) -> int:
    value = non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is below 1")
    return value
