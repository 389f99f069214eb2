"""The `mobile-console` program: the window when no command is given, else
one command, with bad input and faults said in one line (exit 2).

The window is opened without loading the command line's core first; `job
run` starts its script host before the core loads (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from console.cli.parser import EXIT_BAD_INPUT, Parser, UsageError, build_parser
from console.core.errors import ConsoleError

if TYPE_CHECKING:
    from console.core.running.host_process import HostProcess


def _early_words(argv: list[str]) -> tuple[argparse.Namespace, list[str]] | None:
    """--home and --db, and the other words, read before the core is loaded;
    None when they do not parse (the full parser then says what is wrong)."""
    early = Parser(add_help=False, allow_abbrev=False)
    early.add_argument("--home")
    early.add_argument("--db")
    early.add_argument("--minimized", action="store_true")
    try:
        return early.parse_known_args(argv)
    except UsageError:
        return None


def _window_request(
    early: tuple[argparse.Namespace, list[str]] | None,
) -> argparse.Namespace | None:
    """`[--home DIR] [--db URL] [demo]`: the window, opened without loading
    the command line's core first. None for anything else (commands, --help)."""
    if early is None or early[1] not in ([], ["demo"]):
        return None
    known, rest = early
    known.demo = rest == ["demo"]
    return known


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["__fork-server__"]:  # the bundle's fork server (see fork_server.py)
        from console.core.running.fork_server import serve_and_exit

        serve_and_exit(argv[1:])
    if argv[:1] == ["__script-host__"]:  # the bundle's job runner (see host_process.child_command)
        from console.core.running.script_host import preload_flag, run_and_exit

        run_and_exit(preload_what=preload_flag(argv[1:]))
    if argv[:1] == ["__script-assist__"]:  # the bundle's editor helper (see assist_client)
        from console.gui.editor.assist_server import main as assist_main

        assist_main()
        return 0
    early = _early_words(argv)
    window = _window_request(early)
    if window is not None:
        from console.gui.launch import launch

        try:
            return launch(window.home, window.db, demo=window.demo, minimized=window.minimized)
        except ConsoleError as e:
            print(f"mobile-console: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
    # `job run`: the script host starts loading the table layer now, on the
    # other core, while this process loads its own (docs/benchmarks.md).
    host = None
    if early is not None and early[1][:2] == ["job", "run"]:
        from console.core.running.host_process import HostProcess

        host = HostProcess(preload="tables")
    try:
        return _command(argv, host)
    finally:
        if host is not None:
            host.discard()  # if it was never given a run (bad input, --help)


def _command(argv: list[str], host: HostProcess | None) -> int:
    """A command of the command line (not the window)."""
    from console.cli.commands import COMMANDS

    try:
        args = build_parser(COMMANDS).parse_args(argv)
    except UsageError as e:
        print(f"mobile-console: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from console.core.store.faults import FAULTS, describe

    try:
        command = COMMANDS[args.command]
        if command.handle_alone is not None:
            return command.handle_alone(args)
        assert command.handle is not None
        from console.app import open_services

        services = open_services(args.home, args.db)
        if host is not None:
            services.runner.adopt(host)
        for warning in services.warnings:
            print(f"mobile-console: {warning}", file=sys.stderr)
        try:
            return command.handle(services, args)
        finally:
            services.close()
    except ConsoleError as e:
        print(f"mobile-console: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FAULTS as e:  # the database or the disk, not the user's words
        print(f"mobile-console: {describe(e)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def run() -> NoReturn:
    """The `mobile-console` program: `main`, then out without the
    interpreter's teardown (unloading SQLAlchemy and the rest costs 40-80 ms
    and does nothing once the database is closed). After the window, Qt's
    objects take their ordinary way down."""
    argv = sys.argv[1:]
    code = main(argv)
    if _window_request(_early_words(argv)) is None:
        from console.core.running.host_process import exit_without_teardown

        exit_without_teardown(code)
    raise SystemExit(code)
