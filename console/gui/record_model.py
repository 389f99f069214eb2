"""A table model over a list of records (jobs, runs, log entries, tables…),
replaced whole when a background read returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from console.gui.shell import STATUS_COLOURS

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str
    value: Callable[[R], Any]
    #: Words in STATUS_COLOURS are drawn in their colour.
    status: bool = False


class RecordModel(QAbstractTableModel, Generic[R]):
    """Rows are records; columns are `Column`s that read them."""

    def __init__(self, columns: Sequence[Column[R]], key: Callable[[R], Any] | None = None) -> None:
        super().__init__()
        self._columns = list(columns)
        self._records: list[R] = []
        self._key = key

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

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._records):
            return None
        column = self._columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = column.value(self._records[index.row()])
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.ForegroundRole and column.status:
            word = str(column.value(self._records[index.row()]))
            if word in STATUS_COLOURS:
                return QColor(STATUS_COLOURS[word])
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(self._columns):
            return self._columns[section].header.upper()
        return None
