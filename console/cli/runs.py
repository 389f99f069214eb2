"""Runs and their logs: `logs`, `run list | show | undo | http`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from console.cli.output import print_json, print_table
from console.cli.parser import EXIT_OK, Command, Commands, Parser, non_negative, positive
from console.core.formatting import local_time

if TYPE_CHECKING:
    from console.app import Services
    from console.core.jobs.runs import Run


def declare_logs(commands: Commands) -> None:
    from console.core.jobs.runs import LEVELS

    p = commands.add_parser("logs", help="log entries of runs")
    p.add_argument("--job", metavar="NAME")
    p.add_argument("--level", choices=LEVELS)
    p.add_argument(
        "--limit",
        type=non_negative,
        default=1000,
        metavar="N",
        help="the newest N entries (default 1000)",
    )
    p.add_argument("--json", action="store_true")


def cmd_logs(services: Services, args: argparse.Namespace) -> int:
    if args.job:
        services.jobs.get(args.job)  # an unknown job is bad input, not an empty log
    entries = services.runs.entries(
        job_name=args.job, level=args.level, limit=args.limit, newest_first=True
    )[::-1]
    if args.json:
        print_json(
            [
                {
                    "id": e.id,
                    "run": e.run_id,
                    "job": e.job_name,
                    "at": e.at,
                    "level": e.level,
                    "message": e.message,
                }
                for e in entries
            ]
        )
    else:
        for e in entries:
            print(f"{local_time(e.at)} {e.level:<11} {e.job_name or '-':<16} {e.message}")
    return EXIT_OK


def declare_run(commands: Commands) -> None:
    run = commands.add_parser("run", help="runs: list, show, undo, their HTTP").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = run.add_parser("list", help="recent runs, newest first")
    p.add_argument("--job", metavar="NAME")
    p.add_argument("--json", action="store_true")
    p = run.add_parser("show", help="one run")
    p.add_argument("run_id", type=non_negative, metavar="RUN_ID")
    p.add_argument("--json", action="store_true")
    p = run.add_parser(
        "undo", help="delete the rows a run inserted, put back the rows it updated or deleted"
    )
    p.add_argument("run_id", type=non_negative, metavar="RUN_ID")
    p.add_argument("--force", action="store_true", help="also put back rows changed since the run")
    p.add_argument("--json", action="store_true")
    p = run.add_parser("http", help="the run's recorded HTTP exchanges, masked")
    p.add_argument("run_id", type=positive, metavar="RUN_ID")
    p.add_argument("--json", action="store_true")


def cmd_run(services: Services, args: argparse.Namespace) -> int:
    from console.cli.job import note_interrupted, run_json
    from console.core.jobs.undo import undo_run, undoable

    if args.action in ("list", "show"):
        note_interrupted(services)  # not "running" for a console that is gone
    if args.action == "list":
        job_id = services.jobs.get(args.job).id if args.job else None
        listing = services.runs.runs(job_id, limit=100)
        if args.json:
            print_json([run_json(r) for r in listing])
        else:
            for r in listing:
                print(
                    f"{r.id:>6} {local_time(r.started_at)} {r.job_name:<16} "
                    f"{r.trigger:<10} {r.status}"
                )
        return EXIT_OK
    if args.action == "show":
        shown = _any_run(services, args.run_id)
        ran, _ = services.jobs.version_ran(shown.job_name, shown.started_at, shown.script_version)
        fields = {**run_json(shown), "script_version": ran.version}
        if args.json:
            print_json(fields)
        else:
            for key, value in fields.items():
                print(f"{key:<13} {value if value is not None else '-'}")
        return EXIT_OK
    if args.action == "http":
        return _http(services, args.run_id, args.json)
    undoable(services.runs, args.run_id, force=args.force)  # bad input before anything is written
    result = undo_run(
        services.runs, services.tables, args.run_id, services.runner.owner, force=args.force
    )
    if args.json:
        print_json(result.as_json())
    else:
        conflicts = ", ".join(f"{c['table']} {c['id']}" for c in result.conflicts)
        print(
            f"undid run {args.run_id} (as run {result.run.id}): {result.deleted} deleted, "
            f"{result.restored} restored"
            + (f"; changed since, left alone: {conflicts}" if conflicts else "")
        )
    return EXIT_OK


def _http(services: Services, run_id: int, as_json: bool) -> int:
    from sqlalchemy.exc import NoResultFound

    from console.core.errors import NotFoundError
    from console.core.jobs.recordings import exchange_size, is_truncated

    try:
        services.runs.get(run_id)  # an unknown run is bad input, not an empty list
    except NoResultFound:
        raise NotFoundError(f"no run {run_id}") from None
    recording = services.recordings.get(run_id)
    exchanges = recording.exchanges if recording else []
    if as_json:
        print_json(
            [
                {
                    "method": e["method"],
                    "url": e["url"],
                    "status": e.get("status"),
                    "bytes": exchange_size(e),
                    "ms": e.get("elapsed_ms"),
                    "truncated": is_truncated(e),
                    "request_headers": e.get("request_headers"),
                    "response_headers": e.get("response_headers"),
                }
                for e in exchanges
            ]
        )
        return EXIT_OK
    if not exchanges:
        print(f"run {run_id} recorded no HTTP")
        return EXIT_OK
    rows = [
        (
            i,
            e["method"],
            e["url"],
            e.get("status", ""),
            f"{exchange_size(e):,}" + (" (truncated)" if is_truncated(e) else ""),
            f"{e.get('elapsed_ms', 0):,.0f} ms",
        )
        for i, e in enumerate(exchanges, 1)
    ]
    print_table(["#", "METHOD", "URL", "STATUS", "BYTES", "TIME"], rows)
    return EXIT_OK


def _any_run(services: Services, run_id: int) -> Run:
    """The run `run_id`; a missing one is bad input."""
    from sqlalchemy.exc import NoResultFound

    from console.core.errors import ConsoleError

    try:
        return services.runs.get(run_id)
    except NoResultFound:
        raise ConsoleError(f"no run {run_id}") from None


COMMANDS = {
    "logs": Command(declare_logs, cmd_logs),
    "run": Command(declare_run, cmd_run),
}
