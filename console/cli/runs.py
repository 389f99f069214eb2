"""Runs and their logs: `logs`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from console.cli.output import EXIT_OK, print_json
from console.cli.parser import Command, Commands, non_negative
from console.core.formatting import local_time

if TYPE_CHECKING:
    from console.app import Services


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


COMMANDS = {"logs": Command(declare_logs, cmd_logs)}
