"""URL-prefix redirects for jobs' HTTP requests: `redirect add | list | delete`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from console.cli.output import print_json, print_table
from console.cli.parser import EXIT_OK, Command, Commands, Parser

if TYPE_CHECKING:
    from console.app import Services


def declare_redirect(commands: Commands) -> None:
    redirect = commands.add_parser(
        "redirect", help="URL-prefix redirects for jobs' HTTP requests"
    ).add_subparsers(dest="action", required=True, parser_class=Parser)
    p = redirect.add_parser("add", help="send requests whose URL starts with FROM to TO instead")
    p.add_argument("source", metavar="FROM")
    p.add_argument("target", metavar="TO")
    p = redirect.add_parser("list", help="list redirects")
    p.add_argument("--json", action="store_true")
    redirect.add_parser("delete", help="delete the redirect from FROM").add_argument(
        "source", metavar="FROM"
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


COMMANDS = {"redirect": Command(declare_redirect, cmd_redirect)}
