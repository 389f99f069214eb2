"""A table model over a list of records (jobs, runs, log entries, tables…),
replaced whole when a background read returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from console.gui import theme
from console.gui.columns import VALUE_ROLE, Kind, alignment, date_text, full_timestamp

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str
    value: Callable[[R], Any]
    #: Status words ("succeeded", "Enabled"…) are drawn in their palette colour.
    status: bool = False
    #: How the column reads (`columns.Kind`): a date column's value is a datetime.
    kind: Kind = "text"
    #: The column of free text that takes the spare width of the view.
    fill: bool = False
    #: Shown for a value of None ("never" for a job's last run).
    empty: str = ""
    #: What a screen reader says for a chart column's value (it has no text).
    spoken: Callable[[Any], str] | None = None


class RecordModel(QAbstractTableModel, Generic[R]):
    """Rows are records; columns are `Column`s that read them."""

    def __init__(self, columns: Sequence[Column[R]], key: Callable[[R], Any] | None = None) -> None:
        super().__init__()
        self._columns = list(columns)
        self._records: list[R] = []
        self._key = key

    @property
    def fill_column(self) -> int | None:
        """The column that takes the view's spare width, if one holds free text."""
        return next((i for i, c in enumerate(self._columns) if c.fill), None)

    def records(self) -> list[R]:
        return list(self._records)

    def record(self, row: int) -> R:
        return self._records[row]

    def set_records(self, records: Sequence[R]) -> None:
        """Replace the rows; unchanged keys keep their place for the view."""
        new = list(records)
        if self._key is not None and [self._key(r) for r in new] == [
            self._key(r) for r in self._records
        ]:
            self._records = new
            if new:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(new) - 1, len(self._columns) - 1)
                )
            return
        self.beginResetModel()
        self._records = new
        self.endResetModel()

    def append(self, record: R) -> None:
        """Add one row at the end (a live log line); the view follows."""
        at = len(self._records)
        self.beginInsertRows(QModelIndex(), at, at)
        self._records.append(record)
        self.endInsertRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid() or index.row() >= len(self._records):
            return None
        column = self._columns[index.column()]
        if role == _ALIGN:
            return alignment(column.kind)
        if column.kind == "chart":
            if role == VALUE_ROLE:
                return column.value(self._records[index.row()])
            if role == Qt.ItemDataRole.AccessibleTextRole and column.spoken is not None:
                return column.spoken(column.value(self._records[index.row()]))
            return None
        if role in (_DISPLAY, _TOOLTIP):
            value = column.value(self._records[index.row()])
            if value is None:
                return column.empty
            if isinstance(value, datetime):
                if role == _TOOLTIP:
                    return full_timestamp(value)
                return date_text(value, column.kind)
            return str(value)
        if role == Qt.ItemDataRole.ForegroundRole and column.status:
            colour = theme.current().status(str(column.value(self._records[index.row()])))
            return None if colour is None else QColor(colour)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        if role == _DISPLAY:
            return self._columns[section].header.upper()
        if role == _ALIGN:
            return alignment(self._columns[section].kind)
        return None
