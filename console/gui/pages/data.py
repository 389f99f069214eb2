"""The Data page: tables with their row counts, and each table's Browse grid
and Columns.

Over 500 lines, kept whole: the Browse tab's toolbar, filter, busy bar,
columns tab and the page's list are one page's widgets wired to one grid;
the grid itself is `grid_view` and `table_model`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontMetricsF, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.core.errors import ConsoleError
from console.core.store.changes import Change
from console.core.tables.browse import OPERATORS, Browser, Filter, View
from console.core.tables.values import KINDS, ColumnInfo, TableInfo
from console.gui.dialogs import CreateTableDialog
from console.gui.grid_cells import cell_text
from console.gui.grid_view import GridView, export_csv
from console.gui.operations import Handle, Op
from console.gui.pages import Context, Page
from console.gui.record_model import Column, RecordModel
from console.gui.shell import small_caps_tabs
from console.gui.table_counts import TableCount, TableCounts
from console.gui.table_model import GridModel
from console.gui.widgets import error_label, table_view

SIZING_ROWS = 40  # rows whose text sizes the columns when a table opens

#: How long a view may read before the busy bar (with Cancel) shows.
BUSY_AFTER_MS = 150


class TableView(QWidget):
    """One table: Browse and Columns."""

    #: How an export ended, in words ("exported 2,500 rows to things.csv").
    exported = Signal(str)

    def __init__(self, page: DataPage) -> None:
        super().__init__(page)
        self.page = page
        ctx = page.ctx
        self.table: str | None = None
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Table")
        small_caps_tabs(self.tabs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

        # Browse
        browse = QWidget(self)
        box = QVBoxLayout(browse)
        bar = QHBoxLayout()
        self.filter_column = QComboBox(browse)
        self.filter_operator = QComboBox(browse)
        self.filter_operator.addItems(list(OPERATORS))
        self.filter_value = QLineEdit(browse)
        self.filter_value.setPlaceholderText("value")
        apply = QPushButton("Filter", browse)
        clear = QPushButton("Clear", browse)
        self.export_button = QPushButton("Export CSV", browse)
        self.new_rows = QPushButton("", browse)
        self.new_rows.setObjectName("newrows")
        self.new_rows.setFlat(True)
        self.new_rows.hide()
        for widget in (self.filter_column, self.filter_operator, self.filter_value, apply, clear):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.new_rows)
        bar.addWidget(self.export_button)
        self.model = GridModel(ctx.services.tables, ctx.tasks, self)
        self.grid = GridView(self.model, browse)
        self.grid.setAccessibleName("Rows")
        self.grid.setSortingEnabled(True)
        self.grid.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.grid.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        header = self.grid.verticalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # fixed row height
        header.setDefaultSectionSize(self.grid.row_px)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # Columns are sized from the first rows only (see _size_columns_once):
        # Qt's default reads 1,000 rows of every column, half a second of the
        # GUI thread at this size; a user's "resize to contents" reads as few.
        self.grid.horizontalHeader().setResizeContentsPrecision(SIZING_ROWS)
        self.status = error_label(browse)
        self.status.setObjectName("")
        self.error = error_label(browse)
        # A sort or filter that reads long: what it does, progress, Cancel;
        # after a cancelled sort, the offer to index the column.
        self.busy = QWidget(browse)
        busy_row = QHBoxLayout(self.busy)
        busy_row.setContentsMargins(0, 0, 0, 0)
        self.busy_text = QLabel(self.busy)
        busy_bar = QProgressBar(self.busy)
        busy_bar.setRange(0, 0)  # a query has no progress to tell: it is going
        busy_bar.setMaximumHeight(10)
        self.busy_cancel = QPushButton("Cancel", self.busy)
        busy_row.addWidget(self.busy_text)
        busy_row.addWidget(busy_bar, 1)
        busy_row.addWidget(self.busy_cancel)
        self.busy.hide()
        self.index_offer = QPushButton("", browse)
        self.index_offer.hide()
        self._busy_timer = QTimer(self, singleShot=True, interval=BUSY_AFTER_MS)
        self._busy_timer.timeout.connect(self._show_busy)
        box.addLayout(bar)
        box.addWidget(self.busy)
        box.addWidget(self.grid, 1)
        box.addWidget(self.error)
        box.addWidget(self.index_offer, 0, Qt.AlignmentFlag.AlignLeft)
        box.addWidget(self.status)
        self.tabs.addTab(browse, "Browse")
        self._sized = False

        # Columns
        columns = QWidget(self)
        cbox = QVBoxLayout(columns)
        self.columns = RecordModel[ColumnInfo](
            [
                Column("Name", lambda c: c.name),
                Column("Type", lambda c: c.kind),
                Column("System", lambda c: "yes" if c.system else ""),
                Column("Indexed", lambda c: "yes" if c.indexed else ""),
            ]
        )
        self.columns_view = table_view(columns, self.columns)
        self.columns_view.setAccessibleName("Columns")
        add = QHBoxLayout()
        self.column_name = QLineEdit(columns)
        self.column_name.setPlaceholderText("new column name")
        self.column_kind = QComboBox(columns)
        self.column_kind.addItems(list(KINDS))
        add_button = QPushButton("Add column", columns)
        index_button = QPushButton("Set as index", columns)
        drop_button = QPushButton("Delete column", columns)
        for widget in (self.column_name, self.column_kind, add_button):
            add.addWidget(widget)
        add.addStretch(1)
        add.addWidget(index_button)
        add.addWidget(drop_button)
        self.column_error = error_label(columns)
        cbox.addWidget(self.columns_view, 1)
        cbox.addLayout(add)
        cbox.addWidget(self.column_error)
        self.tabs.addTab(columns, "Columns")

        apply.clicked.connect(self.apply_filter)
        self.filter_value.returnPressed.connect(self.apply_filter)
        clear.clicked.connect(self.clear_filter)
        self.export_button.clicked.connect(self.export)
        self.new_rows.clicked.connect(self._show_new_rows)
        add_button.clicked.connect(self.add_column)
        index_button.clicked.connect(self.set_index)
        drop_button.clicked.connect(self.drop_column)
        self.model.count_changed.connect(self._on_count)
        self.model.loading_changed.connect(self._on_loading)
        self.model.view_cancelled.connect(self._on_view_cancelled)
        self.busy_cancel.clicked.connect(self.model.cancel_loading)
        self.index_offer.clicked.connect(self._index_offered)
        self.model.error_raised.connect(self.error.setText)
        self.model.rows_written.connect(self._on_written)
        self.model.new_rows_found.connect(self._on_new_rows)
        self.model.info_read.connect(self._on_info)
        self.model.dataChanged.connect(self._size_columns_once)
        self.model.modelReset.connect(self._size_columns_once)  # the first page comes so
        self.grid.selectionModel().selectionChanged.connect(lambda *_: page.commands_changed.emit())
        QShortcut(QKeySequence.StandardKey.Copy, self.grid, self.copy_cells)
        self.export_job: Handle | None = None
        self._offered_index: str | None = None

    # -- showing a table ---------------------------------------------------

    def show_table(self, name: str) -> None:
        self.table = name
        self._sized = False
        self.error.clear()
        self.new_rows.hide()
        self.index_offer.hide()
        self.model.set_view(View(name))
        self.grid.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        # The Columns tab is filled from the grid's first read (`_on_info`):
        # a read of its own would share the two cores with the first rows.

    def hide_table(self) -> None:
        self.model.cancel_loading()

    def on_changes(self, changes: frozenset[Change]) -> None:
        """This table's new rows become "N new rows"; its columns are read again."""
        if self.table is None:
            return
        mine = [c for c in changes if c.name.lower() == self.table.lower() or not c.name]
        topics = {c.topic for c in mine}
        if topics & {"rows", "external"}:
            self.model.check_new_rows()
        if topics & {"columns", "external"}:
            self.load_columns()

    def _on_loading(self, loading: bool) -> None:
        if loading:
            self._busy_timer.start()
        else:
            self._busy_timer.stop()
            self.busy.hide()

    def _show_busy(self) -> None:
        view = self.model.view
        if view is None or not self.model.loading:
            return
        if view.filters:
            f = view.filters[0]
            text = f"Filtering {f.column} {f.operator} {f.text!r}…"
        elif view.sort != "id":
            text = f"Sorting by {view.sort}…"
        else:
            text = "Reading…"
        self.busy_text.setText(text)
        self.busy.show()

    def _on_view_cancelled(self, message: str) -> None:
        view = self.model.view
        self.error.setText(message)
        column = next(
            (c for c in self.columns.records() if view is not None and c.name == view.sort), None
        )
        sort = self.grid.horizontalHeader()
        sort.blockSignals(True)  # the cancelled sort leaves the header, not the other way
        sort.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        sort.blockSignals(False)
        if column is not None and not column.system and not column.indexed:
            self._offered_index = column.name
            self.index_offer.setText(f"Columns › Set as index: index {column.name}")
            self.index_offer.show()

    def _index_offered(self) -> None:
        name, tables, table = self._offered_index, self.page.ctx.services.tables, self.table
        self.index_offer.hide()
        if name is not None and table is not None:
            self._column_action(lambda: tables.set_index(table, name), f"indexed {name}")

    def load_columns(self) -> None:
        if self.table is None:
            return
        tables, name = self.page.ctx.services.tables, self.table
        self.page.ctx.tasks.submit(lambda: tables.info(name).columns, self._on_columns)

    def _on_info(self, info: TableInfo) -> None:
        if list(info.columns) != self.columns.records():
            self._on_columns(info.columns)

    def _on_columns(self, columns: tuple[ColumnInfo, ...]) -> None:
        self.columns.set_records(columns)
        current = self.filter_column.currentText()
        self.filter_column.clear()
        self.filter_column.addItems([c.name for c in columns])
        if current:
            self.filter_column.setCurrentText(current)

    def _on_count(self, count: int, exact: bool) -> None:
        view = self.model.view
        filtered = f" (filtered: {len(view.filters)})" if view and view.filters else ""
        shown = f"{count:,}" if exact else f"≈ {count:,}"
        if view and view.filters and not exact:
            shown = f"{count:,}+"  # counting the rest
        self.status.setText(f"{shown} rows{filtered}")
        self.page.header_changed.emit()

    def _size_columns_once(self, *_args: Any) -> None:
        # Columns sized once from the first page, then left alone: no re-measuring
        # a million rows, no jumping widths while scrolling.
        # Measured here from the first rows' text, not by resizeColumnsToContents:
        # that asks the delegate for every role of every sampled cell (5 ms of
        # the GUI thread between the first page's arrival and its first paint).
        if not self._sized and self.model.is_loaded(0):
            self._sized = True
            grid, header = self.grid, self.grid.horizontalHeader()
            metrics = QFontMetricsF(grid.font())
            # QStyledItemDelegate's text margin either side, and the grid line
            margin = 2 * (grid.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
            margin += 1 if grid.showGrid() else 0
            rows = [r for r in map(self.model.row, range(SIZING_ROWS)) if r is not None]
            for i, column in enumerate(self.model.columns):
                texts = [cell_text(row.get(column.name)) for row in rows]
                content = math.ceil(max((metrics.horizontalAdvance(t) for t in texts), default=0))
                width = max(content + margin, header.sectionSizeHint(i))
                grid.setColumnWidth(i, min(width, 320))

    def _on_new_rows(self, count: int) -> None:
        self.new_rows.setText(f"{count:,} new row{'s' * (count != 1)}")
        self.new_rows.show()

    def _show_new_rows(self) -> None:
        self.new_rows.hide()
        self.model.reload()  # same view, same scroll place

    def _on_written(self, what: str) -> None:
        self.error.clear()
        self.page.ctx.notify(what)

    # -- filters, edits, export ----------------------------------------------

    def apply_filter(self) -> None:
        view = self.model.view
        if view is None:
            return
        candidate = Filter(
            self.filter_column.currentText(),
            self.filter_operator.currentText(),
            self.filter_value.text(),
        )
        kinds = {c.name: c.kind for c in self.columns.records()}
        if candidate.operator != "contains":
            from console.core.tables.values import parse_text

            try:
                parse_text(candidate.column, kinds.get(candidate.column, "string"), candidate.text)
            except ConsoleError as e:
                self.error.setText(str(e))
                return
        self.error.clear()
        self.model.set_view(replace(view, filters=(candidate,)))

    def clear_filter(self) -> None:
        view = self.model.view
        if view is not None:
            self.filter_value.clear()
            self.model.set_view(replace(view, filters=()))

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.grid.selectionModel().selectedRows()})

    def delete_selected(self) -> None:
        rows = self.selected_rows()
        if rows and self.page.confirm(
            "Delete rows", f"Delete {len(rows)} row{'s' * (len(rows) != 1)} from {self.table}?"
        ):
            self.model.delete_rows(rows)

    def copy_cells(self) -> None:
        indexes = sorted(self.grid.selectedIndexes(), key=lambda i: (i.row(), i.column()))
        lines: dict[int, list[str]] = {}
        for index in indexes:
            lines.setdefault(index.row(), []).append(str(self.model.data(index) or ""))
        QGuiApplication.clipboard().setText("\n".join("\t".join(v) for v in lines.values()))

    def export(self) -> None:
        view = self.model.view
        if view is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export CSV", f"{view.table}.csv", "CSV (*.csv)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> Handle:
        """Export the current view (sort and filter) to `path`, with progress;
        `exported` says how it ended."""
        view = self.model.view
        assert view is not None
        browser = Browser(self.page.ctx.services.tables)
        total = max(1, self.model.rowCount())
        progress = QProgressDialog("Exporting…", "Cancel", 0, total, self)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)

        def ended(message: str) -> None:
            progress.reset()
            progress.deleteLater()
            self.page.ctx.notify(message)
            self.status.setText(message)
            self.exported.emit(message)

        job = self.page.ctx.tasks.run(
            Op(
                lambda p: export_csv(browser, view, path, p),
                success=lambda rows: ended(f"exported {rows:,} rows to {path.name}"),
                failure=lambda e: ended(f"export failed: {e}"),
                progress=lambda rows: progress.setValue(min(rows, total)),
                cancelled=lambda: ended("export cancelled"),
            )
        )
        progress.canceled.connect(job.cancel)
        self.export_job = job
        return job

    # -- columns ---------------------------------------------------------------

    def _column_action(self, action: Any, done: str, after: Any = None) -> None:
        def finished(_result: Any) -> None:
            self.column_error.clear()
            if after is not None:
                after()
            self.page.ctx.notify(done)
            self.load_columns()
            self.model.reload()

        self.page.ctx.tasks.submit(action, finished, lambda e: self.column_error.setText(str(e)))

    def add_column(self) -> None:
        name, kind, table = self.column_name.text(), self.column_kind.currentText(), self.table
        tables = self.page.ctx.services.tables
        self._column_action(
            lambda: tables.add_column(str(table), name, kind),
            f"added {name}",
            after=self.column_name.clear,  # a refused name stays, to be mended
        )

    def _selected_column(self) -> ColumnInfo | None:
        rows = self.columns_view.selectionModel().selectedRows()
        if not rows:
            self.column_error.setText("select a column first")
            return None
        return self.columns.record(rows[0].row())

    def set_index(self) -> None:
        column, tables, table = self._selected_column(), self.page.ctx.services.tables, self.table
        if column is not None:
            self._column_action(
                lambda: tables.set_index(str(table), column.name), f"indexed {column.name}"
            )

    def drop_column(self) -> None:
        column, tables, table = self._selected_column(), self.page.ctx.services.tables, self.table
        if column is None:
            return
        if column.system:
            self.column_error.setText(f"{column.name} is a system column and cannot be deleted")
            return
        if self.page.confirm("Delete column", f"Delete the column {column.name} and its values?"):
            self._column_action(
                lambda: tables.drop_column(str(table), column.name), f"deleted {column.name}"
            )

    def shutdown(self) -> None:
        self.model.close()
        if self.export_job is not None:
            self.export_job.cancel()


class DataPage(Page):
    name = "Data"
    topics = frozenset({"tables", "rows", "columns"})

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.tables = RecordModel[TableCount](
            [
                Column("Name", lambda t: t.info.name, fill=True),
                Column("Rows", lambda t: t.shown, kind="number"),
                Column("Columns", lambda t: len(t.info.columns), kind="number"),
            ],
            key=lambda t: t.info.name,
        )
        self.counts = TableCounts(ctx.services.tables, ctx.tasks, self._on_tables)
        self.stack = QStackedWidget(self)
        self.list = table_view(self, self.tables)
        self.list.setAccessibleName("Tables")
        self.list.activated.connect(  # Enter, or a double click
            lambda i: self.open_table(self.tables.record(i.row()).info.name)
        )
        self.list.selectionModel().selectionChanged.connect(lambda *_: self.commands_changed.emit())
        self.table_view = TableView(self)
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.table_view)
        self.message = error_label(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.message)

    def in_table(self) -> bool:
        return self.stack.currentWidget() is self.table_view and self.table_view.table is not None

    def crumbs(self) -> list[str]:
        return ["Data"] + ([str(self.table_view.table)] if self.in_table() else [])

    def title(self) -> str:
        return str(self.table_view.table) if self.in_table() else "data"

    def available(self) -> dict[str, bool]:
        if self.in_table():
            return {"Create": True, "Delete": bool(self.table_view.selected_rows())}
        return {"Create": True, "Delete": bool(self.list.selectionModel().selectedRows())}

    def trigger(self, command: str) -> None:
        self.message.clear()
        if self.in_table():
            if command == "Create":
                self.table_view.model.add_row()
            elif command == "Delete":
                self.table_view.delete_selected()
            return
        if command == "Create":
            self.create_table()
        elif command == "Delete":
            rows = self.list.selectionModel().selectedRows()
            if rows:
                self.delete_table(self.tables.record(rows[0].row()))

    def refresh(self) -> None:
        """The tables at once, with estimated counts; exact ones follow."""
        self.counts.refresh()

    def on_changes(self, changes: frozenset[Change]) -> None:
        if self.in_table():
            self.table_view.on_changes(changes)
        elif any(c.topic in self.topics or c.topic == "external" for c in changes):
            self.refresh()

    def _on_tables(self, rows: list[TableCount]) -> None:
        self.tables.set_records(rows)
        self.commands_changed.emit()

    def open_table(self, name: str) -> None:
        self.counts.cancel()  # the user looks at rows now, not at counts
        self.table_view.show_table(name)
        self.stack.setCurrentWidget(self.table_view)
        self.header_changed.emit()
        self.commands_changed.emit()

    def show_list(self) -> None:
        self.table_view.hide_table()
        self.stack.setCurrentWidget(self.list)
        self.refresh()
        self.header_changed.emit()
        self.commands_changed.emit()

    def create_table(self, dialog: CreateTableDialog | None = None) -> None:
        """The Create dialog; the table is made off the GUI thread, and a
        refusal reopens the dialog with the message beside the name."""
        if dialog is None:
            dialog = CreateTableDialog({t.info.name for t in self.tables.records()}, self)
        if not dialog.exec():
            return
        tables, name = self.ctx.services.tables, dialog.name.text()

        def created(info: TableInfo) -> None:
            self.ctx.notify(f"created table {info.name}")
            self.refresh()

        def refused(error: Exception) -> None:
            dialog.show_error(str(error))
            self.create_table(dialog)

        self.ctx.tasks.submit(lambda: tables.create(name), created, refused)

    def delete_table(self, row: TableCount) -> None:
        rows = "?" if row.rows is None else f"{row.rows:,}"
        if not self.confirm(
            "Delete table",
            f"Delete the table {row.info.name} and its {rows} rows? This cannot be undone.",
        ):
            return
        tables = self.ctx.services.tables

        def done(_result: Any) -> None:
            self.ctx.notify(f"deleted table {row.info.name}")
            self.refresh()

        self.ctx.tasks.submit(
            lambda: tables.drop(row.info.name), done, lambda e: self.message.setText(str(e))
        )

    def leave(self) -> None:
        self.counts.cancel()  # the list's; shown again, it counts again

    def shutdown(self) -> None:
        self.counts.cancel()
        self.table_view.shutdown()
