"""The rows a run wrote, across every user table: what History › a run ›
Rows shows (its `__runId` names the run that last wrote a row)."""

from __future__ import annotations

from typing import Any

from console.core.tables.api import open_table
from console.core.tables.catalogue import TableStore

#: Rows shown at most, across tables: a run that wrote millions is browsed
#: in the Data grid (`table rows NAME --run RUN_ID`), not here.
LIMIT = 1_000


def rows_written_by(
    tables: TableStore, run_id: int, limit: int = LIMIT
) -> list[tuple[str, dict[str, Any]]]:
    """(table, row) for the rows whose last write was run `run_id`'s, table
    by table in name order, each table's rows by id; at most `limit`."""
    found: list[tuple[str, dict[str, Any]]] = []
    for info in sorted(tables.all(), key=lambda t: t.name.lower()):
        if len(found) >= limit:
            break
        if not any(c.name == "__runId" for c in info.columns):
            continue  # made before lineage, and never written since
        query = open_table(tables, info.name).where(__runId=run_id).order_by("id")
        found.extend((info.name, row) for row in query.take(limit - len(found)).read())
    return found
