"""User tables: `table create | list | rows | delete`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from console.cli.output import print_json, print_table
from console.cli.parser import EXIT_OK, Command, Commands, Parser, non_negative
from console.core.errors import ConsoleError

if TYPE_CHECKING:
    from console.app import Services


def declare_table(commands: Commands) -> None:
    table = commands.add_parser("table", help="user tables").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    table.add_parser("create", help="create a table").add_argument("name")
    p = table.add_parser("list", help="list tables with their row counts")
    p.add_argument("--json", action="store_true")
    p = table.add_parser("rows", help="print a table's rows")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.add_argument("--order-by", metavar="COL")
    p.add_argument("--desc", action="store_true", help="with --order-by: largest first")
    p.add_argument("--limit", type=non_negative, metavar="N")
    p.add_argument(
        "--run", type=non_negative, metavar="RUN_ID", help="only the rows that run wrote"
    )
    p = table.add_parser("delete", help="delete a table and all its rows")
    p.add_argument("name")


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
        if args.run is not None:
            from sqlalchemy.exc import NoResultFound

            try:
                services.runs.get(args.run)
            except NoResultFound:
                raise ConsoleError(f"no run {args.run}") from None
            query = query.where(__runId=args.run)
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


COMMANDS = {"table": Command(declare_table, cmd_table)}
