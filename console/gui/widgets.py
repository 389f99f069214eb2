"""Widgets every page shares: the list view the console's tables use, and
the model of a run's log lines."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QWidget,
)

from console.gui import theme
from console.gui.record_model import Column, RecordModel


class ListView(QTableView):
    """A console list: columns sized to their content, headers never cut, and
    the spare width given to the model's free-text column (`fill_column`)."""

    def __init__(self, parent: QWidget, model: Any) -> None:
        super().__init__(parent)
        self.setProperty("consolelist", True)  # theme.qss pads its cells
        # Arrows move within the list; Tab moves on to the next control.
        self.setTabKeyNavigation(False)
        self.setModel(model)
        self._fill: int | None = getattr(model, "fill_column", None)
        self._natural = 0  # the fill column's width for its content alone
        #: Said in the empty list (what would fill it), faint and centred.
        self.placeholder = ""
        self._fit_due = False  # filled while hidden: sized when shown

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.placeholder and self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(theme.current().colour("faint"))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(
                self.viewport().rect().adjusted(12, 0, -12, 0), flags, self.placeholder
            )
            painter.end()

    def fit_columns(self) -> None:
        """Size each column to its content and header, on a sample of rows
        (when shown: a hidden tab's list costs the GUI thread nothing)."""
        self._fit_due = not self.isVisible()
        if self._fit_due:
            return
        header = self.horizontalHeader()
        for column in range(self.model().columnCount()):
            self.resizeColumnToContents(column)
            if header.sectionSize(column) < header.sectionSizeHint(column):
                header.resizeSection(column, header.sectionSizeHint(column))
        if self._fill is not None:
            self._natural = header.sectionSize(self._fill)
        self._spread()

    def _spread(self) -> None:
        if self._fill is None or self._fill >= self.model().columnCount():
            return
        header = self.horizontalHeader()
        others = sum(header.sectionSize(c) for c in range(header.count()) if c != self._fill)
        width = max(self._natural, self.viewport().width() - others)
        if width != header.sectionSize(self._fill):
            header.resizeSection(self._fill, width)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._spread()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_due:
            self.fit_columns()


def table_view(parent: QWidget, model: Any) -> ListView:
    view = ListView(parent, model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(26)
    view.setShowGrid(False)
    header = view.horizontalHeader()
    header.setStretchLastSection(False)
    header.setHighlightSections(False)  # a selected row does not bolden the headers
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    # Columns fit what the list holds (headers included) when it is filled
    # anew or gets its first rows, judged on a sample so a long log stays
    # cheap; not on every streamed line. The user may resize them after.
    header.setResizeContentsPrecision(200)

    def fit_first_rows(_parent: Any, first: int, last: int) -> None:
        if first == 0 and last + 1 == model.rowCount():
            view.fit_columns()

    model.modelReset.connect(view.fit_columns)
    model.rowsInserted.connect(fit_first_rows)
    view.fit_columns()  # the headers alone, before the first rows
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return view


def name_form_fields(form: QFormLayout) -> None:
    """Each field of `form` named by its label for screen readers, the text
    field inside a spin box too (it is what takes the focus)."""
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        text = label.widget() if label is not None else None
        widget = field.widget() if field is not None else None
        if isinstance(text, QLabel) and text.text() and widget is not None:
            widget.setAccessibleName(text.text())
            inner = widget.findChild(QLineEdit) if isinstance(widget, QAbstractSpinBox) else None
            if inner is not None:
                inner.setAccessibleName(text.text())


def log_model() -> RecordModel[Any]:
    return RecordModel(
        [
            Column("Time", lambda e: e.at, kind="time"),
            Column("Level", lambda e: e.level),
            Column("Message", lambda e: e.message, fill=True),
        ]
    )


def error_label(parent: QWidget) -> QLabel:
    """A message beside a field, red, empty until something is wrong."""
    label = QLabel(parent)
    label.setObjectName("fielderror")
    label.setWordWrap(True)
    return label
