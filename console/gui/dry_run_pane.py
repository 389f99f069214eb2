"""The Dry run pane: what a dry run would have written, one grid per table,
inserted rows green, updated rows amber (changed cells in bold), deleted
rows red. Its columns read as the Browse grid's: id, the table's own
columns, then the system ones in grey; times in the user's locale."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.core.running.dry_run import KINDS, DryRunDiff, TableDiff
from console.gui import theme
from console.gui.columns import Kind, alignment, date_text, full_timestamp

#: A time as a dry run's rows hold it (`datetime.isoformat`).
_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?$")


def row_colour(kind: str) -> QColor:
    """An inserted, updated or deleted row's background, from the palette."""
    return theme.current().colour(f"{kind}_row")


class DryRunPane(QWidget):
    """The latest dry run's diff; empty until one ends."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)  # the summary clear of the tab bar
        self.summary = QLabel(
            "No dry run yet: Dry Run (Ctrl+Shift+R) runs the job and rolls its writes back.", self
        )
        self.summary.setWordWrap(True)
        self.tables = QTabWidget(self)
        self.tables.setAccessibleName("Tables the dry run wrote")
        self.tables.hide()  # until a dry run wrote to a table
        layout.addWidget(self.summary)
        layout.addWidget(self.tables, 1)

    def show_diff(self, run_id: int, status: str, diff: DryRunDiff) -> None:
        self.tables.clear()
        lines = [t.summary(name) for name, t in sorted(diff.tables.items())]
        self.summary.setText(
            f"Dry run {run_id} {status}; nothing was written. "
            + ("; ".join(lines) if lines else "It wrote to no table.")
        )
        for name, table in sorted(diff.tables.items()):
            self.tables.addTab(self._grid(table), name)
        self.tables.setVisible(self.tables.count() > 0)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._recolour()  # the theme changed: the rows take its colours

    def _recolour(self) -> None:
        for index in range(self.tables.count()):
            grid = self.tables.widget(index)
            if not isinstance(grid, QTableWidget):
                continue
            inks = [_ink(grid.horizontalHeaderItem(c)) for c in range(grid.columnCount())]
            for r in range(grid.rowCount()):
                change = grid.item(r, 0)
                brush = QBrush(row_colour(change.text())) if change is not None else None
                for c in range(grid.columnCount()):
                    item = grid.item(r, c)
                    if item is not None and brush is not None:
                        item.setBackground(brush)
                        item.setForeground(inks[c])

    def grid(self, name: str) -> QTableWidget | None:
        for index in range(self.tables.count()):
            if self.tables.tabText(index) == name:
                widget = self.tables.widget(index)
                return widget if isinstance(widget, QTableWidget) else None
        return None

    def _grid(self, table: TableDiff) -> QTableWidget:
        rows: list[tuple[str, dict[str, Any], list[str]]] = []
        for kind in KINDS:
            for row in table.rows[kind]:
                if kind == "updated":
                    rows.append((kind, dict(row.get("after", {})), list(row.get("changed", []))))
                else:
                    rows.append((kind, dict(row), []))
        columns: list[str] = []
        for _, values, _ in rows:
            columns.extend(c for c in values if c not in columns)
        columns.sort(key=lambda c: 0 if c == "id" else 2 if c.startswith("__") else 1)
        grid = QTableWidget(len(rows), len(columns) + 1, self)
        grid.setHorizontalHeaderLabels(["Change", *columns])
        aligns = [alignment("text")] + [
            alignment(_kind([v.get(k) for _, v, _ in rows])) for k in columns
        ]
        for c, align in enumerate(aligns):
            header_item = grid.horizontalHeaderItem(c)
            if header_item is not None:
                header_item.setTextAlignment(align)
        bold = QFont()
        bold.setBold(True)
        inks = [_ink(grid.horizontalHeaderItem(c)) for c in range(len(columns) + 1)]
        for r, (kind, values, changed) in enumerate(rows):
            brush = QBrush(row_colour(kind))
            for c, value in enumerate([kind, *(values.get(k) for k in columns)]):
                item = QTableWidgetItem(_text(value))
                if (moment := _time(value)) is not None:
                    item.setToolTip(full_timestamp(moment))
                item.setBackground(brush)
                item.setForeground(inks[c])
                item.setTextAlignment(aligns[c])
                if c > 0 and columns[c - 1] in changed:
                    item.setFont(bold)
                grid.setItem(r, c, item)
        grid.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        grid.resizeColumnsToContents()
        return grid


def _time(value: Any) -> datetime | None:
    """A time the store wrote (in UTC, its zone left out), or None."""
    if not isinstance(value, str) or not _ISO_TIME.match(value):
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    """A value as the grid shows it: a time in the user's locale, None as blank."""
    if value is None:
        return ""
    moment = _time(value)
    return str(value) if moment is None else date_text(moment)


def _ink(header: QTableWidgetItem | None) -> QBrush:
    """The system columns (`__version`…) in grey, as in the grid; the rest in the text colour."""
    system = header is not None and header.text().startswith("__")
    return QBrush(theme.current().colour("system_cell" if system else "text"))


def _kind(values: list[Any]) -> Kind:
    """A column of numbers alone reads as numbers; anything else as text."""
    shown = [v for v in values if v is not None]
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in shown)
    return "number" if shown and numbers else "text"
