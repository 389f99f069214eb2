"""The `mobile-console` program: the window when no command is given, else
one command, with bad input and faults said in one line (exit 2).

The window is opened without loading the command line's core first; `job
run` starts its script host before the core loads (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from console.cli.parser import EXIT_BAD_INPUT, Parser, UsageError, build_parser
from console.core.errors import ConsoleError
from console.core.running.runner_platform import refusal

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
    refused = refusal()
    if refused is not None:  # before the window or a command starts a run with it
        print(f"mobile-console: {refused}", file=sys.stderr)
        return EXIT_BAD_INPUT
    early = _early_words(argv)
    window = _window_request(early)
    if window is not None:
        from console.gui.launch import launch

        try:
            return launch(window.home, window.db, demo=window.demo, minimized=window.minimized)
        except ConsoleError as e:
            print(f"mobile-console: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
    # No cyclic collection while a command loads its modules and opens the
    # database: each collection walks every object loaded so far, and
    # imports make no garbage worth it (`_command` turns it back on).
    collecting = gc.isenabled()
    gc.disable()
    # `job run`: on Linux its script host is forked from this process once
    # the table layer is loaded (`_forked_host`); elsewhere a fresh one
    # starts loading it now, on the other core (docs/benchmarks.md).
    hosts: list[HostProcess] = []
    job_run = early is not None and early[1][:2] == ["job", "run"]
    if job_run:
        from console.core.running.host_process import HostProcess, can_fork_host

        if not can_fork_host():
            hosts.append(HostProcess(preload="tables"))
            job_run = False
    try:
        return _command(argv, hosts, fork=job_run, collect=collecting)
    finally:
        for host in hosts:
            host.discard()  # if it was never given a run (bad input, --help)
        if collecting:
            gc.enable()


def _forked_host(args: argparse.Namespace) -> HostProcess:
    """`job run`'s script host, forked from this process once SQLAlchemy
    and the database's driver are loaded: one interpreter loads them, not
    two. The host then loads the table layer while this process opens the
    database. Before the database is opened and before any thread starts
    (`fork_host`)."""
    import threading
    from functools import partial

    from sqlalchemy.engine import make_url

    import console.core.store.database  # noqa: F401  (SQLAlchemy, which both use)
    from console.core import paths
    from console.core.running.host_process import HostProcess, fork_host
    from console.core.running.script_host import run_and_exit

    try:
        make_url(paths.resolve(args.home, args.db).db_url).get_dialect().import_dbapi()
    except Exception:  # a URL or driver that fails is open_services' to say
        pass
    if threading.active_count() > 1:  # a thread does not survive a fork
        return HostProcess(preload="tables")
    # What is loaded now is left out of the host's cyclic collections: they
    # would walk it all (SQLAlchemy's hundreds of thousands of objects) and
    # write to every page of it, which the host then copies from this
    # process, page by page (about 0.1 s of CPU in a 200,000-row job's run).
    gc.freeze()
    try:
        return fork_host(partial(_host_main, run_and_exit))
    except OSError:  # no fork now (out of processes, say): a fresh host
        return HostProcess(preload="tables")
    finally:
        gc.unfreeze()  # here, in the command line


def _host_main(run_and_exit: Callable[..., NoReturn]) -> NoReturn:
    """The forked host: collecting as a host does (`main` paused it here)."""
    gc.enable()
    run_and_exit(preload_what="tables")


def _command(
    argv: list[str], hosts: list[HostProcess], *, fork: bool = False, collect: bool = True
) -> int:
    """A command of the command line (not the window). `fork`: give `job
    run` a host forked from this process (`_forked_host`). `collect`: turn
    the cyclic collector back on once the database is open."""
    from console.cli.commands import COMMANDS

    try:
        args = build_parser(COMMANDS).parse_args(argv)
    except UsageError as e:
        print(f"mobile-console: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if fork and args.command == "job" and getattr(args, "action", None) == "run":
        hosts.append(_forked_host(args))
    host = hosts[0] if hosts else None
    from console.core.store.faults import FAULTS, describe

    try:
        command = COMMANDS[args.command]
        if command.handle_alone is not None:
            return command.handle_alone(args)
        assert command.handle is not None
        from console.app import open_services

        services = open_services(args.home, args.db)
        if collect:  # loaded and open: a command may run long (`worker`)
            gc.enable()
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
