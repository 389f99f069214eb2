"""Running jobs without a window: `worker`, and `workers` to see them."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from console.cli.output import print_json, print_on, print_table
from console.cli.parser import EXIT_BAD_INPUT, EXIT_OK, Command, Commands, positive
from console.core.errors import ConsoleError
from console.core.formatting import local_time

if TYPE_CHECKING:
    from console.app import Services


def declare_worker(commands: Commands) -> None:
    p = commands.add_parser("worker", help="run enabled jobs, no window, until SIGTERM/SIGINT")
    p.add_argument("--name", help="this worker's name, unique among live ones (default host:pid)")
    p.add_argument(
        "--max-runs", type=positive, metavar="N", help="at most N runs at once on this worker"
    )


def cmd_worker(services: Services, args: argparse.Namespace) -> int:
    """Run the scheduler without a window until SIGTERM or SIGINT."""
    import signal
    import threading
    import time

    from console.core.running.runner_platform import STOP_SIGNALS
    from console.core.scheduling.workers import HEARTBEAT_S, default_name
    from console.core.store.outage import is_unavailable

    stop = threading.Event()

    def say(message: str) -> None:
        print_on(f"{datetime.now():%Y-%m-%d %H:%M:%S} {message}")

    registry = services.workers
    name = registry.register(args.name or default_name(), max_runs=args.max_runs).name
    services.runner.owner = name  # its runs and leases carry the worker's name
    scheduler = services.scheduler(on_event=say, max_runs=args.max_runs)
    services.runner.use_fork_server()
    stopped_by: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopped_by.append(signal.Signals(signum).name)
        stop.set()

    for sig in STOP_SIGNALS:  # Windows has no SIGHUP
        signal.signal(sig, on_signal)
    enabled = services.jobs.enabled()
    cap = f"; at most {args.max_runs} runs at once" if args.max_runs else ""
    say(
        f"worker {name} on {services.location.db_url.split('@')[-1]}; "
        f"{len(enabled)} job{'s' * (len(enabled) != 1)} enabled{cap}"
    )
    scheduler.start()
    next_beat = time.monotonic() + HEARTBEAT_S
    while not stop.wait(max(0.0, next_beat - time.monotonic())):
        next_beat = time.monotonic() + HEARTBEAT_S
        try:
            services.store.check_file()  # deleted or replaced: stop before forking in two
        except ConsoleError as e:
            scheduler.fatal = str(e)
        if scheduler.fatal is not None:
            print(f"mobile-console: {scheduler.fatal}", file=sys.stderr, flush=True)
            scheduler.stop(grace_s=0, why=f"the worker {name} stopped: {scheduler.fatal}")
            return EXIT_BAD_INPUT
        try:
            registry.heartbeat(name)
            scheduler.outage.ok()  # says the database is back, if it was gone
        except Exception as e:  # one line per outage, the scheduler's or this
            if not is_unavailable(e):
                raise
            scheduler.outage.failed(e)
    running = scheduler.active_runs()
    say("stopping" + (f"; letting {', '.join(running)} finish" if running else ""))
    why = f" by {stopped_by[0]}" if stopped_by else ""
    scheduler.stop(grace_s=4.0, why=f"the worker {name} was stopped{why}")
    try:
        registry.stop(name)
    except Exception as e:  # gone with the database: its heartbeat lapses instead
        if not is_unavailable(e):
            raise
    say("stopped")
    return EXIT_OK


def declare_workers(commands: Commands) -> None:
    p = commands.add_parser("workers", help="live and recently dead workers")
    p.add_argument("--json", action="store_true")


def cmd_workers(services: Services, args: argparse.Namespace) -> int:
    workers = services.workers.all()
    if args.json:
        print_json(
            [
                {
                    "name": w.name,
                    "host": w.host,
                    "pid": w.pid,
                    "state": w.state,
                    "started": w.started_at,
                    "heartbeat": w.heartbeat_at,
                    "stopped": w.stopped_at,
                    "max_runs": w.max_runs,
                    "runs_in_flight": w.runs_in_flight,
                    "running": list(w.running),
                }
                for w in workers
            ]
        )
        return EXIT_OK
    if not workers:
        print("no workers in the last 24 hours")
        return EXIT_OK
    print_table(
        ["NAME", "STATE", "HOST", "STARTED", "LAST HEARTBEAT", "RUNS IN FLIGHT"],
        [
            [
                w.name,
                w.state,
                w.host,
                local_time(w.started_at),
                local_time(w.heartbeat_at),
                w.runs_in_flight
                if w.max_runs is None
                else f"{w.runs_in_flight} (max {w.max_runs})",
            ]
            for w in workers
        ],
    )
    return EXIT_OK


COMMANDS = {
    "worker": Command(declare_worker, cmd_worker),
    "workers": Command(declare_workers, cmd_workers),
}
