"""Widgets every page shares: the list view the console's tables use, and
the model of a run's log lines."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QWidget

from console.core.formatting import local_time
from console.gui.record_model import Column, RecordModel


def table_view(parent: QWidget, model: Any, stretch_last: bool = True) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(26)
    view.setShowGrid(False)
    header = view.horizontalHeader()
    header.setStretchLastSection(stretch_last)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    # Columns fit what the list holds (headers included) when it is filled
    # anew or gets its first rows, judged on a sample so a long log stays
    # cheap; not on every streamed line. The user may resize them after.
    header.setResizeContentsPrecision(200)

    def fit() -> None:
        last = model.columnCount() - (1 if stretch_last else 0)
        for column in range(last):  # the last one stretches to the edge
            view.resizeColumnToContents(column)

    def fit_first_rows(_parent: Any, first: int, last: int) -> None:
        if first == 0 and last + 1 == model.rowCount():
            fit()

    model.modelReset.connect(fit)
    model.rowsInserted.connect(fit_first_rows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return view


def log_model() -> RecordModel[Any]:
    return RecordModel(
        [
            Column("Time", lambda e: local_time(e.at, "%H:%M:%S")),
            Column("Level", lambda e: e.level),
            Column("Message", lambda e: e.message),
        ]
    )


def error_label(parent: QWidget) -> QLabel:
    """A message beside a field, red, empty until something is wrong."""
    label = QLabel(parent)
    label.setObjectName("fielderror")
    label.setWordWrap(True)
    return label
