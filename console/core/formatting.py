"""Values as people and files read them: one place for the command line's
tables and JSON, the grid's cells, CSV, local times and durations."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

#: The widest a column of a text table grows; longer cells end in "…".
MAX_COLUMN = 60


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """An aware time on this machine's wall clock; "" for none."""
    if value is None:
        return ""
    try:
        return value.astimezone().strftime(fmt)
    except (OverflowError, ValueError):  # year 1 shown west of UTC (an older console stored it)
        return value.strftime(fmt) + " UTC"


def duration_text(seconds: float | None) -> str:
    """A run's length as "1.2 s"; "" while it is still going."""
    return "" if seconds is None else f"{seconds:.1f} s"


def cell_text(value: Any) -> str:
    """One cell for people (the CLI's tables, the grid): local times,
    true/false, nothing for null."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().isoformat(sep=" ", timespec="seconds")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):  # a binary column: its size, not its bytes
        return f"<{len(value):,} bytes>"
    return str(value)


def csv_value(value: Any) -> Any:
    """One cell for a CSV file: ISO times with their offset, "" for null."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):  # a binary column: base64, as `table rows --json` shows it
        return base64.b64encode(value).decode("ascii")
    return value


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as aligned columns, for people; JSON is for programs."""
    cells = [[cell_text(v).replace("\n", "\\n") for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = min(max(widths[i], len(cell)), MAX_COLUMN)
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append(
            "  ".join(
                (c if len(c) <= w else c[: w - 1] + "…").ljust(w)
                for c, w in zip(row, widths, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):  # a binary column: its bytes as standard base64
        return base64.b64encode(value).decode("ascii")
    raise TypeError(type(value).__name__)


def json_text(value: object) -> str:
    """JSON for programs: times in ISO 8601 with their offset, text as is."""
    return json.dumps(value, default=_json_default, ensure_ascii=False, indent=2)
