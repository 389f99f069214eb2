"""Jobs: `job create | list | show | script | run | enable | disable | delete`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console.cli.output import print_json, print_on, print_table
from console.cli.parser import EXIT_OK, EXIT_RUN_FAILED, Command, Commands, Parser, positive
from console.core.clock import parse_iso
from console.core.errors import ConsoleError
from console.core.formatting import duration_text, local_time
from console.core.store.cancel import Cancel

if TYPE_CHECKING:
    from console.app import Services
    from console.core.jobs.job_store import Job
    from console.core.jobs.runs import Run
    from console.core.running.log_writer import LogLine


def declare_job(commands: Commands) -> None:
    from console.core.config.settings import JOB_TIMEOUT
    from console.core.jobs.retry_policy import DEFAULT_DELAY_S

    job = commands.add_parser("job", help="scheduled jobs").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = job.add_parser("create", help="create a job (disabled, as in the portal)")
    p.add_argument("name")
    p.add_argument("--every", required=True, metavar="N", help="the interval, a whole number")
    p.add_argument("--unit", required=True, help="minute, hour, day, month or none")
    p.add_argument(
        "--start",
        metavar="ISO",
        help="first run time (default now); without an offset, in the job's time zone",
    )
    p.add_argument(
        "--timeout",
        metavar="SECONDS",
        default=JOB_TIMEOUT.default,
        help=f"{JOB_TIMEOUT.minimum}-{JOB_TIMEOUT.maximum} (default {JOB_TIMEOUT.default})",
    )
    p.add_argument(
        "--retries", metavar="N", default=0, help="retry a failed scheduled run up to N times"
    )
    p.add_argument(
        "--retry-delay",
        metavar="SECONDS",
        default=DEFAULT_DELAY_S,
        help="wait before the first retry; doubles for each next one",
    )
    p.add_argument(
        "--timezone",
        metavar="ZONE",
        help="the zone its days and months count in (default this machine's, e.g. Europe/Paris)",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--script", metavar="FILE", help="the script (- for stdin); FILE.js: a JavaScript job"
    )
    source.add_argument("--template", metavar="NAME", help="a script from the templates")
    p = job.add_parser("list", help="list jobs")
    p.add_argument("--json", action="store_true")
    p = job.add_parser("show", help="a job with its last and next run and recent runs")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p = job.add_parser("script", help="print a job's script, or replace it")
    p.add_argument("name")
    p.add_argument("--set", metavar="FILE", help="the new script (- for stdin)")
    p.add_argument("--version", type=positive, metavar="N", help="print version N (job versions)")
    p = job.add_parser("versions", help="every saved script of a job")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p = job.add_parser("run", help="Run Once: run now, print the log, exit 0 if it succeeded")
    p.add_argument("name")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="roll every table write back at the end and print what it would have written",
    )
    p.add_argument(
        "--replay",
        type=positive,
        metavar="RUN_ID",
        help="answer every HTTP request from that run's recording, offline (a dry run)",
    )
    p.add_argument("--commit", action="store_true", help="a replay keeps what it writes")
    p.add_argument(
        "--json",
        action="store_true",
        help="with --dry-run or --replay: the diff (or, with --commit, the finished run) as JSON",
    )
    p = job.add_parser("debug", help="run under a DAP debugger (Python jobs), on loopback")
    p.add_argument("name")
    p.add_argument("--replay", type=positive, metavar="RUN_ID", help="HTTP from that run")
    p.add_argument("--listen", required=True, metavar="HOST:PORT", help="such as 127.0.0.1:5678")
    p.add_argument("--wait", action="store_true", help="start the script once a client attaches")
    for verb in ("enable", "disable", "delete"):
        p = job.add_parser(verb, help=f"{verb} a job")
        p.add_argument("name")
        # Only to refuse it by name (issue 24): a dry run is of `job run` alone.
        p.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)


def cmd_job(services: Services, args: argparse.Namespace) -> int:
    jobs = services.jobs
    if args.action == "create":
        from console.core.jobs.job_store import language_of_file

        script = _read_source(args.script) if args.script else None
        language = language_of_file(args.script) if args.script else None
        job = jobs.create(
            args.name,
            interval=args.every,
            unit=args.unit,
            start_at=parse_iso_arg(args.start, args.timezone),
            timeout_s=args.timeout,
            script=script,
            template=args.template,
            retries=args.retries,
            retry_delay_s=args.retry_delay,
            timezone=args.timezone,
            language=language,
        )
        print(f"created job {job.name} ({job.schedule_text}, disabled)")
    elif args.action == "list":
        note_interrupted(services)
        listing = jobs.all()
        if args.json:
            print_json([_job_json(j) for j in listing])
        else:
            print_table(
                ["NAME", "STATUS", "SCHEDULE", "LAST RUN", "NEXT RUN"],
                [
                    (
                        j.name,
                        "Enabled" if j.enabled else "Disabled",
                        j.schedule_text,
                        local_time(j.last_run_at),
                        local_time(j.next_run_at),
                    )
                    for j in listing
                ],
            )
    elif args.action == "show":
        note_interrupted(services)
        job = jobs.get(args.name)
        recent = services.runs.runs(job.id, limit=10)
        if args.json:
            print_json({**_job_json(job), "runs": [run_json(r) for r in recent]})
        else:
            for label, value in [
                ("name", job.name),
                ("status", "Enabled" if job.enabled else "Disabled"),
                ("language", "JavaScript" if job.language == "javascript" else "Python"),
                ("schedule", job.schedule_text),
                ("start", _start_text(job)),
                ("time zone", job.zone_text),
                ("timeout", f"{job.timeout_s} s"),
                ("memory limit", f"{job.memory_mb} MB"),
                (
                    "retries",
                    f"{job.retries}, first after {job.retry_delay_s} s, then doubling"
                    if job.retries
                    else "none",
                ),
                ("last run", local_time(job.last_run_at) or "never"),
                ("next run", local_time(job.next_run_at) or "-"),
            ]:
                print(f"{label + ':':<14}{value}")
            if recent:
                print()
                print_table(
                    ["RUN", "TRIGGER", "ATTEMPT", "STARTED", "DURATION", "STATUS", "ROWS", "ERROR"],
                    [
                        (
                            r.id,
                            r.trigger,
                            f"{r.attempt} of {r.attempts}",
                            local_time(r.started_at),
                            duration_text(r.duration_s),
                            r.status,
                            r.rows_written,
                            r.error or "",
                        )
                        for r in recent
                    ],
                )
    elif args.action == "versions":
        kept = jobs.versions(args.name)
        if args.json:
            print_json(
                [
                    {"version": k.version, "saved": k.saved_at, "lines": len(k.script.splitlines())}
                    for k in kept
                ]
            )
        else:
            print_table(
                ["VERSION", "SAVED", "LINES"],
                [(k.version, local_time(k.saved_at), len(k.script.splitlines())) for k in kept],
            )
    elif args.action == "script":
        if args.set and args.version is not None:
            raise ConsoleError("job script: --set or --version, not both")
        if args.version is not None:
            sys.stdout.write(jobs.script_version(args.name, args.version).script)
        elif args.set:
            _check_file_language(jobs.get(args.name), args.set)
            jobs.set_script(args.name, _read_source(args.set))
            print(f"saved the script of {jobs.get(args.name).name}")
        else:
            sys.stdout.write(jobs.get(args.name).script)
    elif args.action == "run":
        return _run_once(services, args.name, args)
    elif args.action == "debug":
        return _debug(services, args)
    elif args.action in ("enable", "disable", "delete") and args.dry_run:
        raise ConsoleError(
            f"job {args.action}: --dry-run goes with `job run NAME` alone; nothing was changed"
        )
    elif args.action == "enable":
        job = jobs.enable(args.name)
        print(f"enabled {job.name}; next run {local_time(job.next_run_at)}")
    elif args.action == "disable":
        print(f"disabled {jobs.disable(args.name).name}")
    elif args.action == "delete":
        name = jobs.get(args.name).name
        jobs.delete(name)
        print(f"deleted job {name}")
    return EXIT_OK


def _read_source(path: str) -> str:
    """A script file (or stdin), read no further than the script limit: a
    device such as /dev/zero is refused after 1 MB, not read to the end."""
    from console.core.jobs.job_store import MAX_SCRIPT_BYTES

    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_SCRIPT_BYTES + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_SCRIPT_BYTES + 1)
        if len(data) > MAX_SCRIPT_BYTES:
            raise ConsoleError(
                f"{path} is larger than a script may be ({MAX_SCRIPT_BYTES:,} bytes)"
            )
        if not data.strip():  # an empty pipe, or an empty file: a mistake, not a script
            where = "stdin" if path == "-" else path
            raise ConsoleError(f"{where} holds no script; nothing was changed")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise ConsoleError(f"cannot read {path}: {reason}") from None


def _check_file_language(job: Job, path: str) -> None:
    """A `.js` file for a Python job (or a `.py` for a JavaScript one) is a mistake."""
    suffix = path.lower().rsplit(".", 1)[-1] if "." in path else ""
    given = {"js": "javascript", "mjs": "javascript", "cjs": "javascript", "py": "python"}
    if suffix in given and given[suffix] != job.language:
        raise ConsoleError(
            f"{job.name} is a {job.language} job; {path} is {given[suffix]}: "
            "create a new job for it"
        )


def _job_json(job: Job) -> dict[str, Any]:
    return {
        "name": job.name,
        "enabled": job.enabled,
        "interval": job.interval,
        "unit": job.unit,
        "start": job.start_at,
        "timeout": job.timeout_s,
        "memory_mb": job.memory_mb,
        "retries": job.retries,
        "retry_delay": job.retry_delay_s,
        "timezone": job.timezone,
        "language": job.language,
        "last_run": job.last_run_at,
        "next_run": job.next_run_at,
    }


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "trigger": run.trigger,
        "status": run.status,
        "started": run.started_at,
        "ended": run.ended_at,
        "duration_s": run.duration_s,
        "error": run.error,
        "rows_written": run.rows_written,
        "attempt": run.attempt,
        "attempts": run.attempts,
        "worker": run.owner,
        "due": run.due_at,
    }


def _print_line(line: LogLine) -> None:
    print_on(f"{line.at.astimezone():%H:%M:%S} {line.level:<11} {line.message}")


def _print_line_to_stderr(line: LogLine) -> None:
    """The log of a run whose standard output is JSON."""
    print(f"{line.at.astimezone():%H:%M:%S} {line.level:<11} {line.message}", file=sys.stderr)


def note_interrupted(services: Services) -> None:
    """Mark runs whose console or worker went away (see RunLog); a database
    that cannot be written now (read-only, locked) only delays that."""
    from console.core.store.faults import FAULTS

    try:
        services.runs.interrupt_abandoned()
    except FAULTS:
        pass


def _start_text(job: Job) -> str:
    """The start on this machine's clock, like every time shown, and on the
    job's own clock too when that reads otherwise (the one `--start` took)."""
    shown = local_time(job.start_at)
    try:
        own = job.start_at.astimezone(job.zone).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError):
        return shown
    return shown if own == shown else f"{shown} ({own} in {job.zone_text})"


def parse_iso_arg(text: str | None, zone_name: str | None = None) -> datetime | None:
    """`--start`: an ISO time; without an offset, a wall-clock time in the
    job's zone (`--timezone`, else this machine's)."""
    if text is None:
        return None
    try:
        wall = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConsoleError(f"--start {text!r} is not an ISO date and time") from None
    try:
        if wall.tzinfo is not None:
            return parse_iso(text)
        from datetime import UTC

        from console.core.jobs.timing import zone

        tz = zone(zone_name)
        start = wall.replace(tzinfo=tz).astimezone(UTC)
        if start.astimezone(tz).replace(tzinfo=None) != wall:
            # A time the clocks skip (spring forward) would silently become an
            # hour later, and so would every daily or monthly run after it.
            raise ConsoleError(
                f"--start {text!r} does not exist in {getattr(tz, 'key', tz)}: the clocks "
                "skip that hour (daylight saving); give a time outside it"
            )
        return start
    except (ValueError, OverflowError):  # year 1 in New York, 9999-12-31 at -05:00
        raise ConsoleError(
            f"--start {text!r} is out of range: give a time from 1970 to 9000"
        ) from None


@contextmanager
def _stopped_by_signals(cancel: Cancel, command: str) -> Iterator[list[signal.Signals]]:
    """While the block runs, Ctrl+C, a closed terminal or a polite kill end
    the run as interrupted, its log naming the signal: not the user's Cancel.
    Yields the signals that came, for the exit status (128+signal)."""
    from console.core.running import runner_platform

    came: list[signal.Signals] = []

    def stop(signum: int, _frame: object) -> None:
        sig = signal.Signals(signum)
        came.append(sig)
        cancel.interrupt(f"mobile-console {command} was stopped by {sig.name}")

    stops = runner_platform.STOP_SIGNALS
    previous = {sig: signal.signal(sig, stop) for sig in stops}
    try:
        yield came
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _exit_status(run: Run, came: list[signal.Signals]) -> int:
    if came and run.status == "interrupted":
        return 128 + came[0].value  # as shells expect of a stopped command
    return EXIT_OK if run.status == "succeeded" else EXIT_RUN_FAILED


def _run_once(services: Services, name: str, args: argparse.Namespace) -> int:
    """Run Once from the command line: a dry run (`--dry-run`, or a replay
    without `--commit`) prints what it would have written."""
    replay = getattr(args, "replay", None)
    if args.commit and replay is None:
        raise ConsoleError("--commit goes with --replay")
    if args.commit and args.dry_run:
        raise ConsoleError("--dry-run keeps nothing: --commit goes with a replay alone")
    if args.json and not (args.dry_run or replay is not None):
        raise ConsoleError("job run: --json goes with --dry-run or --replay")
    dry_run = args.dry_run or (replay is not None and not args.commit)
    on_line = _print_line_to_stderr if args.json else _print_line
    cancel = Cancel()
    from console.core.running import process_tree

    # What the run leaves behind if its host's guardian is killed comes here.
    keeps_orphans = process_tree.become_subreaper()
    try:
        with _stopped_by_signals(cancel, "job run") as came:
            run = services.runner.run(
                name, on_line=on_line, cancel=cancel, replay=replay, dry_run=dry_run
            )
    finally:
        if keeps_orphans:  # nothing of the run outlives it
            process_tree.end_tree(os.getpid())
    if dry_run:
        diff = services.runner.diff(run.id)
        if args.json:
            print_json({"run": run.id, "status": run.status, "tables": diff.as_json()})
        else:
            for table_name, table in sorted(diff.tables.items()):
                print(table.summary(table_name))
            if not diff.tables:
                print("no table written (dry run)")
    elif args.json:
        print_json(run_json(run))
    return _exit_status(run, came)


def _debug(services: Services, args: argparse.Namespace) -> int:
    """`job debug`: the first line says where the debugger listens, then the
    run's log as `job run` prints it."""
    import threading

    from console.core.running.debugging import listen_address, script_path

    job = services.jobs.get(args.name)
    if job.language != "python":
        raise ConsoleError(f"{job.name} is a JavaScript job: debugging is for Python jobs for now")
    host, port = listen_address(args.listen)
    held: list[LogLine] = []
    listening = threading.Event()

    def on_line(line: LogLine) -> None:
        if listening.is_set():
            _print_line(line)
        else:
            held.append(line)  # the first line is where the debugger listens

    def on_debug(message: dict[str, Any]) -> None:
        print_on(f"listening on {message['listening']}, script {message['script']}")
        listening.set()
        for line in held:
            _print_line(line)

    cancel = Cancel()
    debug = {"host": host, "port": port, "wait": args.wait, "script": script_path(job.name)}
    with _stopped_by_signals(cancel, "job debug") as came:
        run = services.runner.run(
            job.name,
            trigger="debug",
            on_line=on_line,
            cancel=cancel,
            replay=args.replay,
            debug=debug,
            on_debug=on_debug,
        )
    if not listening.is_set():
        for line in held:
            _print_line(line)
    return _exit_status(run, came)


COMMANDS = {"job": Command(declare_job, cmd_job)}
