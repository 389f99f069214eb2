"""What a user configures: `identity`, `setting`, `tier` and `config`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from console.cli.output import print_json, print_table
from console.cli.parser import EXIT_OK, Command, Commands, Parser
from console.core.errors import ConsoleError

if TYPE_CHECKING:
    from console.app import Services
    from console.core.config.app_settings import SettingView
    from console.core.config.settings import SettingSpec


def declare_identity(commands: Commands) -> None:
    identity = commands.add_parser("identity", help="identity providers' credentials")
    identity.add_subparsers(dest="provider", required=True, parser_class=Parser).add_parser(
        "twitter", help="consumer key, then secret, as two lines on stdin"
    )


def cmd_identity(services: Services, args: argparse.Namespace) -> int:
    key, secret = _read_secret_lines(2, ["consumer key", "consumer secret"])
    services.app_settings.set_identity(key, secret)
    backend = services.keyring.backend_name
    print(f"stored the Twitter consumer key and secret in the keyring ({backend})")
    return EXIT_OK


def declare_setting(commands: Commands) -> None:
    setting = commands.add_parser("setting", help="app settings").add_subparsers(
        dest="action", required=True, parser_class=Parser
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


def cmd_setting(services: Services, args: argparse.Namespace) -> int:
    settings = services.app_settings
    if args.action == "set":
        if args.secret:
            if args.value is not None:
                raise ConsoleError(
                    "a secret's value is read from stdin, never the command line "
                    "(other users can see it there)"
                )
            (value,) = _read_secret_lines(1, [f"value of {args.key}"], whole=True)
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
                [(v.name, v.shown, v.is_secret, _seen_by(v)) for v in views],
            )
    elif args.action == "delete":
        settings.delete(args.key)
        print(f"deleted {args.key}")
    return EXIT_OK


def _read_secret_lines(count: int, prompts: list[str], *, whole: bool = False) -> list[str]:
    """Values from stdin, one a line (a prompt without echo when it is a
    terminal). `whole`: one value, all of stdin but the blanks around it (a
    PEM key's lines). A line more than asked for is refused, never dropped."""
    if sys.stdin.isatty():
        import getpass

        return [getpass.getpass(f"{p}: ") for p in prompts]
    try:
        given = sys.stdin.read()
        given.encode("utf-8")  # stdin's decoding may let bytes through as surrogates
    except UnicodeError:
        raise ConsoleError("stdin is not UTF-8 text; nothing was stored") from None
    if whole:
        value = given.strip()
        if not value:
            raise ConsoleError(f"expected a value on stdin: {prompts[0]}")
        return [value]
    lines = given.rstrip("\r\n").splitlines()
    if len(lines) != count or any(not line.strip() for line in lines):
        raise ConsoleError(
            f"expected {count} non-empty line(s) on stdin ({', '.join(prompts)}); "
            f"got {len(lines)}; nothing was stored"
        )
    return [line.strip() for line in lines]


def declare_tier(commands: Commands) -> None:
    from console.core.config.settings import TIER_LIMITS

    p = commands.add_parser("tier", help="show or set the enabled-job limit (see also config)")
    p.add_argument("tier", nargs="?", choices=tuple(TIER_LIMITS))


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


def declare_config(commands: Commands) -> None:
    p = commands.add_parser(
        "config",
        help="console settings: all of them, one, or set one (a secret one's value from stdin)",
    )
    p.add_argument("key", nargs="?", metavar="KEY")
    p.add_argument("value", nargs="?", metavar="VALUE", help="the new value (- for stdin)")
    p.add_argument("--json", action="store_true")


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


COMMANDS = {
    "identity": Command(declare_identity, cmd_identity),
    "setting": Command(declare_setting, cmd_setting),
    "tier": Command(declare_tier, cmd_tier),
    "config": Command(declare_config, cmd_config),
}


def _seen_by(view: SettingView) -> str:
    return ",".join(view.jobs) or ("none (its jobs were deleted)" if view.scoped else "all")
