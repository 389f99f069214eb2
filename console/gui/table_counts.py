"""Tables with their row counts, at once: an estimate first (exact when it
is cheap), then the exact figure from a cancellable background count.

Used by the Data page and the Dashboard. A newer listing cancels the counts
of the older one, so a burst of changes never piles up full-table scans.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtCore import QTimer

from console.core.tables.browse import Browser, View
from console.core.tables.catalogue import TableStore
from console.core.tables.values import TableInfo
from console.gui.operations import Handle, Op, Operations

#: The exact counts start this long after the list shows: a table opened at
#: once has no full scan to cancel (on PostgreSQL a cancel is a connection of
#: its own, made just when the grid reads its first rows).
COUNT_AFTER_MS = 500


@dataclass(frozen=True)
class TableCount:
    info: TableInfo
    rows: int | None
    exact: bool = True

    @property
    def shown(self) -> str:
        """The count as the user sees it: "≈" marks an estimate."""
        if self.rows is None:
            return "…"
        return f"{self.rows:,}" if self.exact else f"≈ {self.rows:,}"


class TableCounts:
    """Lists tables for one page: `listed` gets the list now and again as
    each exact count comes in."""

    def __init__(
        self, tables: TableStore, ops: Operations, listed: Callable[[list[TableCount]], None]
    ) -> None:
        self._browser = Browser(tables)
        self._ops = ops
        self._listed = listed
        self._counts: list[Handle] = []
        self._rows: list[TableCount] = []
        self._serial = 0  # moves at each listing and cancel: older answers are dropped

    def refresh(self) -> None:
        self.cancel()  # and a new serial
        serial, browser = self._serial, self._browser

        def read() -> list[TableCount]:
            return [TableCount(info, *browser.estimate(info.name)) for info in browser.tables.all()]

        def listed(rows: list[TableCount]) -> None:
            if serial != self._serial:
                return
            self._rows = rows
            self._listed(rows)
            names = [row.info.name for row in rows if not row.exact]
            if names:
                QTimer.singleShot(COUNT_AFTER_MS, self._ops, lambda: self._start(serial, names))

        self._ops.latest(f"table-counts-{id(self)}", read, listed)

    def _start(self, serial: int, names: list[str]) -> None:
        if serial == self._serial:  # no listing or cancel since
            for name in names:
                self._count(serial, name)

    def _count(self, serial: int, name: str) -> None:
        browser = self._browser

        def counted(rows: int) -> None:
            if serial != self._serial:
                return
            self._rows = [
                replace(r, rows=rows, exact=True) if r.info.name == name else r for r in self._rows
            ]
            self._listed(self._rows)

        self._counts.append(
            self._ops.run(
                Op(
                    lambda progress: browser.count(View(name), progress.cancel),
                    counted,
                    failure=lambda _e: None,  # dropped meanwhile: the next listing says so
                )
            )
        )

    def cancel(self) -> None:
        """Stop the counts still going (a newer listing, the page closing)."""
        self._serial += 1
        for handle in self._counts:
            handle.cancel()
        self._counts = []
