"""The desktop: `desktop-entry` and `autostart`. They need no console database."""

from __future__ import annotations

import argparse

from console.cli.parser import EXIT_OK, Command, Commands


def declare_desktop_entry(commands: Commands) -> None:
    p = commands.add_parser(
        "desktop-entry", help="add the console to the application menu, with its icons (XDG)"
    )
    p.add_argument("action", choices=("install", "uninstall"))


def cmd_desktop_entry(args: argparse.Namespace) -> int:
    from console import desktop

    if args.action == "install":
        entry, *icons = desktop.install_desktop_entry()
        print(f"installed {entry} and {len(icons)} icons in {desktop.data_home() / 'icons'}")
    else:
        removed = desktop.uninstall_desktop_entry()
        print(f"removed {len(removed)} files" if removed else "no desktop entry was installed")
    return EXIT_OK


def declare_autostart(commands: Commands) -> None:
    p = commands.add_parser("autostart", help="start the console hidden in the tray at login")
    p.add_argument("action", choices=("enable", "disable"))


def cmd_autostart(args: argparse.Namespace) -> int:
    from console import desktop

    if args.action == "enable":
        print(f"the console starts in the tray at login: {desktop.enable_autostart()}")
    else:
        removed = desktop.disable_autostart()
        print(f"removed {removed[0]}" if removed else "autostart was not enabled")
    return EXIT_OK


COMMANDS = {
    "desktop-entry": Command(declare_desktop_entry, handle_alone=cmd_desktop_entry),
    "autostart": Command(declare_autostart, handle_alone=cmd_autostart),
}
