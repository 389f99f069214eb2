"""The command line: `mobile-console …`, on the same core as the window.

Exit status: 0 success, 1 a job run failed, 2 bad input (one line on stderr,
nothing changed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn

from console import __version__
from console.app import Services, open_services
from console.core.errors import ConsoleError

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad command-line words; carries the one line to print."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def print_json(value: object) -> None:
    print(json.dumps(value, default=_json_default, ensure_ascii=False, indent=2))


def format_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().isoformat(sep=" ", timespec="seconds")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("\n", "\\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Rows as aligned columns, for people; --json is for programs."""
    cells = [[format_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = min(max(widths[i], len(cell)), 60)
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip())
    for row in cells:
        print(
            "  ".join(
                (c if len(c) <= w else c[: w - 1] + "…").ljust(w)
                for c, w in zip(row, widths, strict=True)
            ).rstrip()
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mobile-console",
        description="Mobile Console: tables, scheduled jobs, secrets and logs of a local "
        "mobile backend. With no command, opens the console window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--home",
        help="data directory (default: $MOBILE_CONSOLE_HOME or the platform's user data directory)",
    )
    parser.add_argument(
        "--db",
        help="SQLAlchemy database URL (default: $MOBILE_CONSOLE_DB or console.db in the home)",
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
    return parser


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is below 0")
    return value


def cmd_table(services: Services, args: argparse.Namespace) -> int:
    tables = services.tables
    if args.action == "create":
        info = tables.create(args.name)
        print(f"created table {info.name}")
    elif args.action == "list":
        listing = [(t, tables.count(t.name)) for t in tables.all()]
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
        table = tables.get(args.name)
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
            print_json(rows)
        else:
            ordered = [c for c in columns if not c.startswith("__")] + [
                c for c in columns if c.startswith("__")
            ]
            print_table(ordered, [[r.get(c) for c in ordered] for r in rows])
    elif args.action == "delete":
        tables.drop(args.name)
        print(f"deleted table {args.name}")
    return EXIT_OK


HANDLERS: dict[str, Any] = {"table": cmd_table}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        print(f"mobile-console: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.command in (None, "demo"):
            from console.gui.launch import launch

            return launch(args.home, args.db, demo=args.command == "demo")
        services = open_services(args.home, args.db)
        try:
            return int(HANDLERS[args.command](services, args))
        finally:
            services.close()
    except ConsoleError as e:
        print(f"mobile-console: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
