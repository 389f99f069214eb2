"""How the Browse grid shows a cell: its text, colour, tooltip and whether
it can be edited; and the grid's page read, wrapped for its lane."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from console.core.errors import ConsoleError
from console.core.formatting import cell_text as core_cell_text
from console.core.tables.browse import View
from console.core.tables.values import ColumnInfo
from console.gui import theme
from console.gui.binary_cell import binary_text, binary_tooltip
from console.gui.columns import alignment, date_text, full_timestamp, grid_kind
from console.gui.operations import Progress

Index = QModelIndex | QPersistentModelIndex
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_DISPLAY = Qt.ItemDataRole.DisplayRole
ALIGN = Qt.ItemDataRole.TextAlignmentRole
#: The roles the grid answers; every other role leaves at once.
ROLES = frozenset({_DISPLAY, Qt.ItemDataRole.EditRole, _FOREGROUND, _TOOLTIP, ALIGN})
_READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_EDITABLE = _READ_ONLY | Qt.ItemFlag.ItemIsEditable


def cell_data(row: dict[str, Any], column: ColumnInfo, role: int) -> Any:
    """What a loaded cell answers for `role` (one of `ROLES`)."""
    if role == ALIGN:
        return alignment(grid_kind(column.kind))
    if role == _FOREGROUND:
        return theme.current().colour("system_cell") if column.system else None
    value = row.get(column.name)
    if isinstance(value, datetime) and role in (_DISPLAY, _TOOLTIP):
        # Shown in the user's locale; edited (EditRole) as ISO text.
        return date_text(value) if role == _DISPLAY else full_timestamp(value)
    if role == _TOOLTIP:
        return binary_tooltip(value) if isinstance(value, bytes) else None
    return cell_text(value)


def header_alignment(columns: list[ColumnInfo], section: int) -> Qt.AlignmentFlag | None:
    """A column's header sits like its values (`columns.alignment`)."""
    return alignment(grid_kind(columns[section].kind)) if 0 <= section < len(columns) else None


def pending_colour() -> QColor:
    """A row still loading."""
    return theme.current().colour("pending_cell")


def cell_flags(column: ColumnInfo) -> Qt.ItemFlag:
    """System and binary columns are read-only; the rest are edited in place."""
    if not column.system and column.kind != "binary":
        return _EDITABLE
    return _READ_ONLY


def cell_text(value: Any) -> str:
    # The grid shows a binary cell's size in KB/MB; everything else as the CLI does.
    return binary_text(value) if isinstance(value, bytes) else core_cell_text(value)


def cancelled_text(view: View | None) -> str:
    """What the grid says when the user cancels `view`'s read (a sort or a filter)."""
    if view is not None and view.filters:
        return "filter cancelled"
    return f"sort by {view.sort if view is not None else ''} cancelled"


def error_message(error: Exception) -> str:
    return str(error) if isinstance(error, ConsoleError) else f"{type(error).__name__}: {error}"


class PageRead:
    """One page read, for the grid's lane: the browser call with the op's cancel."""

    def __init__(self, call: Any, *args: Any, **kwargs: Any) -> None:
        self._call, self._args, self._kwargs = call, args, kwargs

    def __call__(self, progress: Progress) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call(
            *self._args, **self._kwargs, cancel=progress.cancel
        )
        return result
