"""The Data page: tables with their row counts, and each table's Browse grid
and Columns."""

from __future__ import annotations

import base64
import csv
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.core.browse import OPERATORS, Browser, Filter, View
from console.core.errors import ConsoleError
from console.core.store import Store
from console.core.user_tables import KINDS, ColumnInfo, TableInfo, TableStore
from console.gui.dialogs import CreateTableDialog
from console.gui.pages import Context, Page, error_label
from console.gui.record_model import Column, RecordModel
from console.gui.shell import small_caps_tabs
from console.gui.table_model import GridModel
from console.gui.widgets import table_view

NEW_ROWS_CHECK_MS = 2000


@dataclass(frozen=True)
class TableRow:
    info: TableInfo
    rows: int | None


class _Export(QObject):
    """Streams a view to CSV on a thread of its own; progress by signal."""

    progressed = Signal(int)
    finished = Signal(str)

    def __init__(self, db_url: str, view: View, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel = threading.Event()
        self._args = (db_url, view, path)

    def start(self) -> None:
        threading.Thread(target=self._work, name="csv-export", daemon=True).start()

    def _work(self) -> None:
        db_url, view, path = self._args
        store = Store(db_url, migrate=False)
        partial = path.with_name(path.name + ".part")
        written = 0
        try:
            browser = Browser(TableStore(store))
            columns = [c.name for c in browser.tables.info(view.table).columns]
            with partial.open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(columns)
                for rows in browser.stream(view):
                    if self.cancel.is_set():
                        raise InterruptedError
                    writer.writerows([[_csv(r.get(c)) for c in columns] for r in rows])
                    written += len(rows)
                    self.progressed.emit(written)
            partial.replace(path)
            self.finished.emit(f"exported {written:,} rows to {path.name}")
        except InterruptedError:
            partial.unlink(missing_ok=True)
            self.finished.emit("export cancelled")
        except Exception as e:  # said beside the grid
            partial.unlink(missing_ok=True)
            self.finished.emit(f"export failed: {e}")
        finally:
            store.dispose()


def _csv(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):  # a binary column: base64, as `table rows --json` shows it
        return base64.b64encode(value).decode("ascii")
    return value


class TableView(QWidget):
    """One table: Browse and Columns."""

    def __init__(self, page: DataPage) -> None:
        super().__init__(page)
        self.page = page
        ctx = page.ctx
        self.table: str | None = None
        self.tabs = QTabWidget(self)
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
        self.model = GridModel(ctx.services.location.db_url, self)
        self.grid = QTableView(browse)
        self.grid.setModel(self.model)
        self.grid.setSortingEnabled(True)
        self.grid.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.grid.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        header = self.grid.verticalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # fixed row height
        header.setDefaultSectionSize(24)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.status = error_label(browse)
        self.status.setObjectName("")
        self.error = error_label(browse)
        box.addLayout(bar)
        box.addWidget(self.grid, 1)
        box.addWidget(self.error)
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
        self.model.error_raised.connect(self.error.setText)
        self.model.rows_written.connect(self._on_written)
        self.model.new_rows_found.connect(self._on_new_rows)
        self.model.dataChanged.connect(self._size_columns_once)
        self.model.modelReset.connect(self._size_columns_once)  # the first page comes so
        self.grid.selectionModel().selectionChanged.connect(lambda *_: page.commands_changed.emit())
        QShortcut(QKeySequence.StandardKey.Copy, self.grid, self.copy_cells)
        self._new_rows_timer = QTimer(self, interval=NEW_ROWS_CHECK_MS)
        self._new_rows_timer.timeout.connect(self.model.check_new_rows)

    # -- showing a table ---------------------------------------------------

    def show_table(self, name: str) -> None:
        self.table = name
        self._sized = False
        self.error.clear()
        self.new_rows.hide()
        self.model.set_view(View(name))
        self.grid.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self._new_rows_timer.start()
        self.load_columns()

    def hide_table(self) -> None:
        self._new_rows_timer.stop()

    def load_columns(self) -> None:
        if self.table is None:
            return
        tables, name = self.page.ctx.services.tables, self.table
        self.page.ctx.tasks.submit(lambda: tables.info(name).columns, self._on_columns)

    def _on_columns(self, columns: tuple[ColumnInfo, ...]) -> None:
        self.columns.set_records(columns)
        current = self.filter_column.currentText()
        self.filter_column.clear()
        self.filter_column.addItems([c.name for c in columns])
        if current:
            self.filter_column.setCurrentText(current)

    def _on_count(self, count: int) -> None:
        view = self.model.view
        filtered = f" (filtered: {len(view.filters)})" if view and view.filters else ""
        self.status.setText(f"{count:,} rows{filtered}")
        self.page.header_changed.emit()

    def _size_columns_once(self, *_args: Any) -> None:
        # Columns sized once from the first page, then left alone: no re-measuring
        # a million rows, no jumping widths while scrolling.
        if not self._sized and self.model.is_loaded(0):
            self._sized = True
            self.grid.resizeColumnsToContents()
            for i in range(self.model.columnCount()):
                self.grid.setColumnWidth(i, min(self.grid.columnWidth(i), 320))

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
            from console.core.user_tables import parse_text

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

    def export_to(self, path: Path) -> _Export:
        """Export the current view (sort and filter) to `path`, with progress."""
        view = self.model.view
        assert view is not None
        job = _Export(self.page.ctx.services.location.db_url, view, path, self)
        total = max(1, self.model.rowCount())
        progress = QProgressDialog("Exporting…", "Cancel", 0, total, self)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)
        progress.canceled.connect(job.cancel.set)
        job.progressed.connect(progress.setValue)

        def finished(message: str) -> None:
            progress.reset()
            progress.deleteLater()
            self.page.ctx.notify(message)
            self.status.setText(message)

        job.finished.connect(finished)
        job.start()
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

    def close(self) -> bool:
        self._new_rows_timer.stop()
        self.model.close()
        return super().close()


class DataPage(Page):
    name = "Data"

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.tables = RecordModel[TableRow](
            [
                Column("Name", lambda t: t.info.name),
                Column("Rows", lambda t: "…" if t.rows is None else f"{t.rows:,}"),
                Column("Columns", lambda t: len(t.info.columns)),
            ],
            key=lambda t: t.info.name,
        )
        self.stack = QStackedWidget(self)
        self.list = table_view(self, self.tables)
        self.list.doubleClicked.connect(
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
        tables = self.ctx.services.tables

        def read() -> list[TableRow]:  # counted off the GUI thread
            return [TableRow(info, tables.count(info.name)) for info in tables.all()]

        self.ctx.tasks.latest("tables", read, self._on_tables)

    def _on_tables(self, rows: list[TableRow]) -> None:
        self.tables.set_records(rows)
        self.commands_changed.emit()

    def open_table(self, name: str) -> None:
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

    def delete_table(self, row: TableRow) -> None:
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

    def shutdown(self) -> None:
        self.table_view.close()
