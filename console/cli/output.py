"""What the command line prints, in one place: `--json`,
aligned tables for people, and lines that survive a closed reader."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from console.core.formatting import json_text, text_table


def print_json(value: object) -> None:
    print(json_text(value))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Rows as aligned columns, for people; --json is for programs."""
    print(text_table(headers, rows))


def print_on(text: str) -> None:
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
