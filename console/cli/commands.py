"""Every command of the command line, from its group's own declaration.

Loaded only when a command is given: the window opens without it (its
groups load the output's JSON and dates, which the first paint does not need).
"""

from __future__ import annotations

from console.cli import desktop, job, redirect, runs, settings, table, worker
from console.cli.parser import Command

COMMANDS: dict[str, Command] = {
    **table.COMMANDS,
    **job.COMMANDS,
    **runs.COMMANDS,
    **settings.COMMANDS,
    **redirect.COMMANDS,
    **worker.COMMANDS,
    **desktop.COMMANDS,
}
