"""The command line: `mobile-console …`, on the same core as the window.

Exit status: 0 success, 1 a job run failed, 2 bad input (one line on stderr,
nothing changed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from console.core.clock import parse_iso
from console.core.errors import ConsoleError
from console.core.formatting import duration_text, json_text, local_time, text_table

# The core (and SQLAlchemy) loads only for commands: the window paints first.
if TYPE_CHECKING:
    from console.app import Services
    from console.core.config.settings import SettingSpec
    from console.core.jobs.job_store import Job
    from console.core.jobs.runs import Run
    from console.core.running.host_process import HostProcess
    from console.core.running.runner import LogLine

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: The largest --limit: beyond it a database's integer would overflow.
MAX_COUNT = 2**31 - 1


class UsageError(Exception):
    """Bad command-line words; carries the one line to print."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def print_json(value: object) -> None:
    print(json_text(value))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Rows as aligned columns, for people; --json is for programs."""
    print(text_table(headers, rows))


class _VersionAction(argparse.Action):
    """--version: the installed version, from the package metadata, looked up
    only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the installed version")

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> NoReturn:
        import console

        print(f"{parser.prog} {console.__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from console.core.config.settings import JOB_TIMEOUT, TIER_LIMITS
    from console.core.jobs.retry_policy import DEFAULT_DELAY_S
    from console.core.jobs.runs import LEVELS

    parser = _Parser(
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
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    commands.add_parser("demo", help="open the window on a demo home with a simulated Twitter")

    table = commands.add_parser("table", help="user tables").add_subparsers(
        dest="action", required=True, parser_class=_Parser
    )
    table.add_parser("create", help="create a table").add_argument("name")
    p = table.add_parser("list", help="list tables with their row counts")
    p.add_argument("--json", action="store_true")
    p = table.add_parser("rows", help="print a table's rows")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.add_argument("--order-by", metavar="COL")
    p.add_argument("--desc", action="store_true", help="with --order-by: largest first")
    p.add_argument("--limit", type=_non_negative, metavar="N")
    p = table.add_parser("delete", help="delete a table and all its rows")
    p.add_argument("name")

    job = commands.add_parser("job", help="scheduled jobs").add_subparsers(
        dest="action", required=True, parser_class=_Parser
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
    p = job.add_parser("run", help="Run Once: run now, print the log, exit 0 if it succeeded")
    p.add_argument("name")
    for verb in ("enable", "disable", "delete"):
        job.add_parser(verb, help=f"{verb} a job").add_argument("name")

    p = commands.add_parser("logs", help="log entries of runs")
    p.add_argument("--job", metavar="NAME")
    p.add_argument("--level", choices=LEVELS)
    p.add_argument(
        "--limit",
        type=_non_negative,
        default=1000,
        metavar="N",
        help="the newest N entries (default 1000)",
    )
    p.add_argument("--json", action="store_true")

    identity = commands.add_parser("identity", help="identity providers' credentials")
    identity.add_subparsers(dest="provider", required=True, parser_class=_Parser).add_parser(
        "twitter", help="consumer key, then secret, as two lines on stdin"
    )

    setting = commands.add_parser("setting", help="app settings").add_subparsers(
        dest="action", required=True, parser_class=_Parser
    )
    p = setting.add_parser("set", help="set an app setting; a secret's value comes from stdin")
    p.add_argument("key")
    p.add_argument("value", nargs="?")
    p.add_argument("--secret", action="store_true", help="keep the value in the OS keyring")
    p.add_argument(
        "--jobs",
        metavar="A,B",
        help="only these jobs see it (default: every job); a job's script sees no other's",
    )
    p = setting.add_parser("list", help="list app settings, secrets masked")
    p.add_argument("--json", action="store_true")
    setting.add_parser("delete", help="delete an app setting").add_argument("key")

    p = commands.add_parser("worker", help="run enabled jobs, no window, until SIGTERM/SIGINT")
    p.add_argument("--name", help="this worker's name, unique among live ones (default host:pid)")
    p.add_argument(
        "--max-runs", type=_positive, metavar="N", help="at most N runs at once on this worker"
    )
    p = commands.add_parser("workers", help="live and recently dead workers")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser("tier", help="show or set the enabled-job limit (see also config)")
    p.add_argument("tier", nargs="?", choices=tuple(TIER_LIMITS))

    p = commands.add_parser(
        "desktop-entry", help="add the console to the application menu, with its icons (XDG)"
    )
    p.add_argument("action", choices=("install", "uninstall"))
    p = commands.add_parser("autostart", help="start the console hidden in the tray at login")
    p.add_argument("action", choices=("enable", "disable"))
    p = commands.add_parser(
        "config",
        help="console settings: all of them, one, or set one (a secret one's value from stdin)",
    )
    p.add_argument("key", nargs="?", metavar="KEY")
    p.add_argument("value", nargs="?", metavar="VALUE", help="the new value (- for stdin)")
    p.add_argument("--json", action="store_true")

    redirect = commands.add_parser(
        "redirect", help="URL-prefix redirects for jobs' HTTP requests"
    ).add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = redirect.add_parser("add", help="send requests whose URL starts with FROM to TO instead")
    p.add_argument("source", metavar="FROM")
    p.add_argument("target", metavar="TO")
    p = redirect.add_parser("list", help="list redirects")
    p.add_argument("--json", action="store_true")
    redirect.add_parser("delete", help="delete the redirect from FROM").add_argument(
        "source", metavar="FROM"
    )
    return parser


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is below 0")
    if value > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text!r} is above {MAX_COUNT:,}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is below 1")
    return value


def cmd_table(services: Services, args: argparse.Namespace) -> int:
    from console.core.tables.api import open_table

    tables = services.tables
    if args.action == "create":
        info = tables.create(args.name)
        print(f"created table {info.name}")
    elif args.action == "list":
        listing = [(t, open_table(tables, t.name).count()) for t in tables.all()]
        if args.json:
            print_json(
                [
                    {
                        "name": t.name,
                        "rows": n,
                        "columns": [{"name": c.name, "type": c.kind} for c in t.columns],
                    }
                    for t, n in listing
                ]
            )
        else:
            print_table(
                ["NAME", "ROWS", "COLUMNS"], [(t.name, n, len(t.columns)) for t, n in listing]
            )
    elif args.action == "rows":
        table = open_table(tables, args.name)
        columns = [c.name for c in table.columns]
        if args.desc and not args.order_by:
            raise ConsoleError("--desc goes with --order-by")
        query = table.query()
        if args.order_by:
            match = [c for c in columns if c.lower() == args.order_by.lower()]
            if not match:
                raise ConsoleError(f"no column {args.order_by!r} in {table.name}")
            query = (query.order_by_descending if args.desc else query.order_by)(match[0])
        if args.limit is not None:
            query = query.take(args.limit)
        rows = query.read()
        if args.json:
            # Strict JSON: a NaN or infinity stored by an older version prints as null.
            print_json([{k: _finite_or_none(v) for k, v in row.items()} for row in rows])
        else:
            ordered = [c for c in columns if not c.startswith("__")] + [
                c for c in columns if c.startswith("__")
            ]
            print_table(ordered, [[r.get(c) for c in ordered] for r in rows])
    elif args.action == "delete":
        tables.drop(args.name)
        print(f"deleted table {args.name}")
    return EXIT_OK


def _finite_or_none(value: object) -> object:
    import math

    return None if isinstance(value, float) and not math.isfinite(value) else value


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
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise ConsoleError(f"cannot read {path}: {reason}") from None


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


def _run_json(run: Run) -> dict[str, Any]:
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


def _print_on(text: str) -> None:
    """Print a line of a run or of the worker, come what may to stdout."""
    try:
        print(text, flush=True)
    except OSError:
        # The reader went away (`job run NAME | head`, `worker | head`) or the
        # output cannot be written (/dev/full): that must neither end a run
        # half way nor the worker's scheduler. Print the rest to nowhere; the
        # runs and their logs are kept in the database.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _print_line(line: LogLine) -> None:
    _print_on(f"{line.at.astimezone():%H:%M:%S} {line.level:<11} {line.message}")


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
        _note_interrupted(services)
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
        _note_interrupted(services)
        job = jobs.get(args.name)
        recent = services.runs.runs(job.id, limit=10)
        if args.json:
            print_json({**_job_json(job), "runs": [_run_json(r) for r in recent]})
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
    elif args.action == "script":
        if args.set:
            _check_file_language(jobs.get(args.name), args.set)
            jobs.set_script(args.name, _read_source(args.set))
            print(f"saved the script of {jobs.get(args.name).name}")
        else:
            sys.stdout.write(jobs.get(args.name).script)
    elif args.action == "run":
        return _run_once(services, args.name)
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


def _note_interrupted(services: Services) -> None:
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


def _run_once(services: Services, name: str) -> int:
    import signal
    import threading

    cancel = threading.Event()
    # Ctrl+C, a closed terminal or a polite kill cancel the run, which then
    # ends (its whole process tree) and is recorded as cancelled.
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, lambda *_: cancel.set()) for sig in stops}
    try:
        run = services.runner.run(name, on_line=_print_line, cancel=cancel)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK if run.status == "succeeded" else EXIT_RUN_FAILED


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


def _read_secret_lines(count: int, prompts: list[str]) -> list[str]:
    """Values from stdin (a prompt without echo when it is a terminal)."""
    if sys.stdin.isatty():
        import getpass

        return [getpass.getpass(f"{p}: ") for p in prompts]
    lines = sys.stdin.read().splitlines()
    if len(lines) < count or any(not line.strip() for line in lines[:count]):
        raise ConsoleError(f"expected {count} non-empty line(s) on stdin: {', '.join(prompts)}")
    return [line.strip() for line in lines[:count]]


def cmd_identity(services: Services, args: argparse.Namespace) -> int:
    key, secret = _read_secret_lines(2, ["consumer key", "consumer secret"])
    services.app_settings.set_identity(key, secret)
    backend = services.keyring.backend_name
    print(f"stored the Twitter consumer key and secret in the keyring ({backend})")
    return EXIT_OK


def cmd_setting(services: Services, args: argparse.Namespace) -> int:
    settings = services.app_settings
    if args.action == "set":
        if args.secret:
            if args.value is not None:
                raise ConsoleError(
                    "a secret's value is read from stdin, never the command line "
                    "(other users can see it there)"
                )
            (value,) = _read_secret_lines(1, [f"value of {args.key}"])
        else:
            value = args.value if args.value is not None else sys.stdin.read().rstrip("\r\n")
        jobs = None if args.jobs is None else args.jobs.split(",")
        settings.set(args.key, value, secret=args.secret, jobs=jobs)
        seen_by = f"; only {', '.join(j.strip() for j in jobs)} see it" if jobs else ""
        print(f"set {args.key}" + (" (secret, in the keyring)" if args.secret else "") + seen_by)
    elif args.action == "list":
        views = settings.list()
        if args.json:
            print_json(
                [
                    {"name": v.name, "value": v.shown, "secret": v.is_secret, "jobs": list(v.jobs)}
                    for v in views
                ]
            )
        else:
            print_table(
                ["NAME", "VALUE", "SECRET", "JOBS"],
                [(v.name, v.shown, v.is_secret, ",".join(v.jobs) or "all") for v in views],
            )
    elif args.action == "delete":
        settings.delete(args.key)
        print(f"deleted {args.key}")
    return EXIT_OK


def cmd_tier(services: Services, args: argparse.Namespace) -> int:
    from console.core.config.settings import TIER_LIMITS

    if args.tier:
        services.set_setting("tier", args.tier)
    tier = services.settings.get("tier")
    limit = TIER_LIMITS[tier]
    enabled = len(services.jobs.enabled())
    allowed = "no limit" if limit is None else f"at most {limit} enabled"
    print(f"{tier} ({allowed}; {enabled} enabled)")
    return EXIT_OK


def _setting_json(spec: SettingSpec, value: Any) -> dict[str, Any]:
    return {
        "key": spec.key,
        "value": value,
        "default": spec.default,
        "secret": spec.secret,
        "values": spec.kind_text,
        "help": spec.help,
    }


def _piped_line() -> str | None:
    """A line already waiting on a piped stdin, else None (a terminal, an
    empty or idle pipe): `config SECRET_KEY` shows the setting unless its new
    value was piped in."""
    if sys.stdin is None or sys.stdin.isatty():
        return None
    import select

    try:
        ready, _, _ = select.select([sys.stdin], [], [], 0.5)
    except (OSError, ValueError):  # not selectable (a pipe on Windows): show it
        return None
    line = sys.stdin.readline() if ready else ""
    return line.rstrip("\r\n") if line.strip() else None


def cmd_config(services: Services, args: argparse.Namespace) -> int:
    """`config [KEY [VALUE]] [--json]`: the settings declared in SETTINGS."""
    from console.core.config.settings import SETTINGS, spec

    if args.key is None:
        values = services.settings.all()
        if args.json:
            print_json([_setting_json(s, values[s.key]) for s in SETTINGS])
        else:
            print_table(
                ["KEY", "VALUE", "DEFAULT", "HELP"],
                [(s.key, values[s.key], s.default, s.help) for s in SETTINGS],
            )
        return EXIT_OK
    declared = spec(args.key)
    value = args.value
    if declared.secret:
        if value == "-":
            (value,) = _read_secret_lines(1, [f"value of {declared.key}"])
        elif value is None:
            value = _piped_line()
        elif value:
            raise ConsoleError(
                f"{declared.key} is secret: its value is read from stdin, never the command "
                "line (other users can see it there)"
            )
    elif value == "-":
        value = sys.stdin.readline().rstrip("\r\n")
    if value is not None:
        services.set_setting(declared.key, value)
    shown = services.settings.all()[declared.key]
    if args.json:
        print_json(_setting_json(declared, shown))
    elif value is not None:
        where = " (in the keyring)" if declared.secret and shown else ""
        print(f"{declared.key} = {shown}{where}")
    else:
        print(shown)
    return EXIT_OK


def _check_file_language(job: Job, path: str) -> None:
    """A `.js` file for a Python job (or a `.py` for a JavaScript one) is a mistake."""
    suffix = path.lower().rsplit(".", 1)[-1] if "." in path else ""
    given = {"js": "javascript", "mjs": "javascript", "cjs": "javascript", "py": "python"}
    if suffix in given and given[suffix] != job.language:
        raise ConsoleError(
            f"{job.name} is a {job.language} job; {path} is {given[suffix]}: "
            "create a new job for it"
        )


def cmd_redirect(services: Services, args: argparse.Namespace) -> int:
    redirects = services.redirects
    if args.action == "add":
        added = redirects.add(args.source, args.target)
        print(f"redirecting {added.from_prefix} to {added.to_prefix}")
    elif args.action == "list":
        listing = redirects.all()
        if args.json:
            print_json([{"from": r.from_prefix, "to": r.to_prefix} for r in listing])
        else:
            print_table(["FROM", "TO"], [(r.from_prefix, r.to_prefix) for r in listing])
    elif args.action == "delete":
        redirects.delete(args.source)
        print(f"deleted the redirect from {args.source}")
    return EXIT_OK


def cmd_worker(services: Services, args: argparse.Namespace) -> int:
    """Run the scheduler without a window until SIGTERM or SIGINT."""
    import signal
    import threading
    import time

    from console.core.scheduling.workers import HEARTBEAT_S, default_name
    from console.core.store.outage import is_unavailable

    stop = threading.Event()

    def say(message: str) -> None:
        _print_on(f"{datetime.now():%Y-%m-%d %H:%M:%S} {message}")

    registry = services.workers
    name = registry.register(args.name or default_name(), max_runs=args.max_runs).name
    services.runner.owner = name  # its runs and leases carry the worker's name
    scheduler = services.scheduler(on_event=say, max_runs=args.max_runs)
    services.runner.use_fork_server()
    stopped_by: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopped_by.append(signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
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
        except Exception as e:  # the scheduler reports an outage, once
            if not is_unavailable(e):
                raise
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


def cmd_desktop_entry(args: argparse.Namespace) -> int:
    from console import desktop

    if args.action == "install":
        entry, *icons = desktop.install_desktop_entry()
        print(f"installed {entry} and {len(icons)} icons in {desktop.data_home() / 'icons'}")
    else:
        removed = desktop.uninstall_desktop_entry()
        print(f"removed {len(removed)} files" if removed else "no desktop entry was installed")
    return EXIT_OK


def cmd_autostart(args: argparse.Namespace) -> int:
    from console import desktop

    if args.action == "enable":
        print(f"the console starts in the tray at login: {desktop.enable_autostart()}")
    else:
        removed = desktop.disable_autostart()
        print(f"removed {removed[0]}" if removed else "autostart was not enabled")
    return EXIT_OK


#: Commands that need no console database.
DESKTOP_HANDLERS: dict[str, Any] = {
    "desktop-entry": cmd_desktop_entry,
    "autostart": cmd_autostart,
}

HANDLERS: dict[str, Any] = {
    "worker": cmd_worker,
    "workers": cmd_workers,
    "table": cmd_table,
    "job": cmd_job,
    "logs": cmd_logs,
    "identity": cmd_identity,
    "setting": cmd_setting,
    "tier": cmd_tier,
    "config": cmd_config,
    "redirect": cmd_redirect,
}


def _early_words(argv: list[str]) -> tuple[argparse.Namespace, list[str]] | None:
    """--home and --db, and the other words, read before the core is loaded;
    None when they do not parse (the full parser then says what is wrong)."""
    early = _Parser(add_help=False, allow_abbrev=False)
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
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        print(f"mobile-console: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from console.core.store.faults import FAULTS, describe

    try:
        if args.command in DESKTOP_HANDLERS:
            return int(DESKTOP_HANDLERS[args.command](args))
        from console.app import open_services

        services = open_services(args.home, args.db)
        if host is not None:
            services.runner.adopt(host)
        for warning in services.warnings:
            print(f"mobile-console: {warning}", file=sys.stderr)
        try:
            return int(HANDLERS[args.command](services, args))
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
