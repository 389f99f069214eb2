"""Dry runs: a run whose table writes are all rolled back at its end.

In the script host (payload `"dry_run": true`) every table write of the run
happens in one held transaction (`Store.hold`); before it is rolled back,
`HeldDiff` takes each table the run wrote, then compares it with the
committed one (`tables.row_diff`) and sends the result to the parent over
the JSON-lines pipe, in messages of bounded size. The parent gathers them in a
`DryRunDiff`. HTTP in a dry run: `http_allowed` decides what goes out.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from console.core.store.database import Store
    from console.core.tables.row_diff import Snapshot

#: The longest text of a sample cell; the counts are exact whatever this is.
MAX_CELL = 10_000
#: About how many characters of sample rows one message carries (the
#: parent reads protocol lines of up to 1 MiB).
MESSAGE_CHARS = 200_000
KINDS = ("inserted", "updated", "deleted")


def http_allowed(method: str, url: str) -> bool:
    """Whether a dry run sends this request: reads only (GET, HEAD). The
    one place the rule lives, so a recording can later answer the rest."""
    del url  # a recording will look it up
    return method.upper() in ("GET", "HEAD")


def install_in_requests() -> None:
    """Refuse, in this process (a dry run's script host), every `requests`
    call `http_allowed` refuses: the script's request fails with why."""
    import requests

    original = requests.Session.request

    def request(self: requests.Session, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        if not http_allowed(str(method), str(url)):
            raise requests.ConnectionError(f"not sent: {str(method).upper()} {url} in a dry run")
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = request  # type: ignore[assignment,method-assign]


def _short(value: object) -> object:
    if isinstance(value, str) and len(value) > MAX_CELL:
        return value[:MAX_CELL] + "…"
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    return value


class HeldDiff:
    """A dry run's writes, taken from its held transaction (`take`) before
    it rolls back, then compared with the committed tables and sent
    (`send`): per table one `diff` message with the counts, then
    `diff_rows` messages with the sample rows."""

    def __init__(self) -> None:
        self._tables: list[tuple[str, Snapshot, IO[str]]] = []

    def take(self, store: Store, run_id: int | None = None) -> None:
        from console.core.tables.row_diff import snapshot

        held = store.held_connection()
        for name in sorted(store.held_tables):
            rows = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115  (closed in send)
            taken = snapshot(held, name, rows, store.held_high.get(name), run_id)
            self._tables.append((name, taken, rows))

    def send(self, store: Store, emit: Callable[[dict[str, Any]], None]) -> None:
        from console.core.tables.row_diff import table_diff

        for name, taken, held_rows in self._tables:
            with held_rows, store.engine.connect() as committed, committed.begin():
                diff = table_diff(taken, held_rows, committed, name)
            _emit_table(name, diff, emit)


def _emit_table(name: str, diff: dict[str, Any], emit: Callable[[dict[str, Any]], None]) -> None:
    rows = diff.pop("rows")
    emit({"t": "diff", "table": name, **diff})
    for kind in KINDS:
        chunk: list[Any] = []
        size = 0
        for row in rows[kind]:
            row = _short(row)
            chunk.append(row)
            size += len(json.dumps(row, default=str))
            if size > MESSAGE_CHARS:
                emit({"t": "diff_rows", "table": name, "kind": kind, "rows": chunk})
                chunk, size = [], 0
        if chunk:
            emit({"t": "diff_rows", "table": name, "kind": kind, "rows": chunk})


@dataclass
class TableDiff:
    """What a dry run wrote to one table: exact counts, sample rows."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    columns_added: list[str] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {kind: [] for kind in KINDS}
    )

    def as_json(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "deleted": self.deleted,
            "columns_added": list(self.columns_added),
            "rows": {kind: list(self.rows[kind]) for kind in KINDS},
        }

    def summary(self, name: str) -> str:
        added = f", columns added: {', '.join(self.columns_added)}" if self.columns_added else ""
        return (
            f"{name}: {self.inserted} inserted, {self.updated} updated, "
            f"{self.deleted} deleted{added} (rolled back)"
        )


@dataclass
class DryRunDiff:
    """A dry run's result, table by table, as the parent gathered it from
    the script host's messages (`take`)."""

    tables: dict[str, TableDiff] = field(default_factory=dict)

    def take(self, message: dict[str, Any]) -> bool:
        """Take in one message from the host; False if it is not a diff's."""
        kind = message.get("t")
        if kind == "diff":
            table = self.tables.setdefault(str(message.get("table")), TableDiff())
            table.inserted = int(message.get("inserted", 0))
            table.updated = int(message.get("updated", 0))
            table.deleted = int(message.get("deleted", 0))
            table.columns_added = [str(c) for c in message.get("columns_added", [])]
            return True
        if kind == "diff_rows":
            table = self.tables.setdefault(str(message.get("table")), TableDiff())
            which = str(message.get("kind"))
            if which in KINDS:
                table.rows[which].extend(message.get("rows", []))
            return True
        return False

    def as_json(self) -> dict[str, Any]:
        return {name: table.as_json() for name, table in self.tables.items()}
