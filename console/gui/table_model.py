"""The Browse grid's model: lazy, paged by key, never blocking the GUI.

`rowCount` is the view's row count; `data` answers from a bounded cache of
200-row pages and asks the loader thread (its own database connection) for a
page it does not hold, showing "loading…" meanwhile. Each page is fetched by
key from a neighbour page's first or last key, from the end of the table, or
from an anchor (the first key of every page, gathered in one pass when the
user jumps far). Every result carries the generation of the view it was
asked for; a result for an older sort or filter is dropped.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor

from console.core.browse import Browser, Key, View
from console.core.errors import ConflictError, ConsoleError
from console.core.store import Store
from console.core.user_tables import SYSTEM_COLUMNS, ColumnInfo, TableStore, parse_text
from console.gui.binary_cell import binary_text, binary_tooltip

PAGE = 200
CACHE_PAGES = 24  # 4,800 rows at most in memory, whatever the table's size
LOADING = "loading…"
Index = QModelIndex | QPersistentModelIndex


@dataclass(order=True)
class _Request:
    priority: int
    serial: int
    kind: str = field(compare=False)
    generation: int = field(compare=False)
    args: dict[str, Any] = field(compare=False, default_factory=dict)


class _Loader(threading.Thread):
    """Reads and writes for one grid, in order of urgency, on its own connection."""

    def __init__(self, db_url: str, deliver: Callable[[int, str, Any], None]) -> None:
        super().__init__(name="grid-loader", daemon=True)
        self._db_url = db_url
        self._deliver = deliver
        self._queue: queue.PriorityQueue[_Request] = queue.PriorityQueue()
        self._serial = 0
        self._anchors: dict[int, list[Key]] = {}
        self.generation = 0

    def ask(self, kind: str, generation: int, priority: int = 5, **args: Any) -> None:
        self._serial += 1
        # Newer page requests first: the user is looking at them now.
        serial = -self._serial if kind == "page" else self._serial
        self._queue.put(_Request(priority, serial, kind, generation, args))

    def stop(self) -> None:
        self._queue.put(_Request(-1, 0, "stop", 0))

    def run(self) -> None:
        store = Store(self._db_url, migrate=False)
        browser = Browser(TableStore(store))
        try:
            while True:
                request = self._queue.get()
                if request.kind == "stop":
                    return
                if request.generation != self.generation and request.kind not in ("write",):
                    continue  # asked for a view that is gone
                try:
                    result = self._handle(browser, request)
                except Exception as e:  # shown beside the grid, never a crash
                    self._deliver(request.generation, "error", (request.kind, request.args, e))
                else:
                    self._deliver(request.generation, request.kind, (request.args, result))
        finally:
            store.dispose()

    def _handle(self, browser: Browser, request: _Request) -> Any:
        view: View = request.args["view"]
        if request.kind == "first":
            # The first rows before the count: counting a million rows takes
            # longer than showing the first two hundred (see docs/benchmarks.md).
            return (
                browser.tables.info(view.table),
                browser.max_id(view.table),
                browser.page(view, PAGE),
            )
        if request.kind == "count":
            return browser.count(view)
        if request.kind == "page":
            page: int = request.args["page"]
            if request.args.get("last_rows"):
                return browser.last_rows(view, request.args["last_rows"])
            if page == 0:
                return browser.page(view, PAGE)
            if request.args.get("after") is not None:
                return browser.page(view, PAGE, after=request.args["after"])
            if request.args.get("before") is not None:
                return browser.page(view, PAGE, before=request.args["before"])
            anchors = self._anchors.get(request.generation)
            if anchors is None:
                anchors = browser.page_anchors(view, PAGE)
                self._anchors = {request.generation: anchors}
            if page >= len(anchors):
                return []
            return browser.page_at_anchor(view, anchors[page], PAGE)
        if request.kind == "newer":
            return browser.count_newer(view.table, request.args["after_id"])
        if request.kind == "write":
            table = browser.tables.get(view.table)
            action = request.args["action"]
            if action == "update":
                return table.update(request.args["row"])
            if action == "insert":
                return table.insert(request.args["row"])
            if action == "delete":
                return table.delete_many(request.args["ids"])
        raise ValueError(request.kind)


class GridModel(QAbstractTableModel):
    """A user table's rows for the Browse grid."""

    count_changed = Signal(int)
    loading_changed = Signal(bool)
    error_raised = Signal(str)
    new_rows_found = Signal(int)
    rows_written = Signal(str)
    _loaded = Signal(int, str, object)

    def __init__(self, db_url: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view: View | None = None
        self._columns: list[ColumnInfo] = []
        self._count = 0
        self._max_id = 0
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        self._asked: set[int] = set()
        self._generation = 0
        self._loaded.connect(self._on_loaded)
        self._loader = _Loader(db_url, self._loaded.emit)
        self._loader.start()

    # -- the view ----------------------------------------------------------

    @property
    def view(self) -> View | None:
        return self._view

    @property
    def columns(self) -> list[ColumnInfo]:
        return list(self._columns)

    def set_view(self, view: View) -> None:
        """Show a table, sorted and filtered; drops everything of the old view."""
        self._generation += 1
        self._loader.generation = self._generation
        self.beginResetModel()
        self._view = view
        self._count = 0
        self._pages.clear()
        self._asked.clear()
        self.endResetModel()
        self.loading_changed.emit(True)
        self._loader.ask("first", self._generation, priority=0, view=view)
        self._loader.ask("count", self._generation, priority=0, view=view)

    def reload(self) -> None:
        """Look again (new rows, another console's edits); keeps the scroll place."""
        if self._view is not None:
            self.set_view(self._view)

    def close(self) -> None:
        self._loader.stop()
        self._loader.join(timeout=5)

    def check_new_rows(self) -> None:
        if self._view is not None and self._count:
            self._loader.ask(
                "newer", self._generation, priority=9, view=self._view, after_id=self._max_id
            )

    def row(self, row: int) -> dict[str, Any] | None:
        page = self._pages.get(row // PAGE)
        if page is None or row % PAGE >= len(page):
            return None
        return page[row % PAGE]

    def is_loaded(self, row: int) -> bool:
        return self.row(row) is not None

    # -- Qt's model --------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._columns[section].name if 0 <= section < len(self._columns) else None
        return str(section + 1)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._count:
            return None
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.EditRole,
            Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        row = self.row(index.row())
        if row is None:
            self._want(index.row() // PAGE)
            if role == Qt.ItemDataRole.ForegroundRole:
                return QColor("#999999")
            return LOADING if index.column() == 0 else None
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor("#888888") if self._columns[index.column()].system else None
        value = row.get(self._columns[index.column()].name)
        if role == Qt.ItemDataRole.ToolTipRole:
            return binary_tooltip(value) if isinstance(value, bytes) else None
        return _text(value)

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        column = self._columns[index.column()] if index.isValid() else None
        if column is not None and not column.system and column.kind != "binary":
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or self._view is None:
            return False
        column = self._columns[index.column()]
        row = self.row(index.row())
        if column.system or column.name in SYSTEM_COLUMNS:
            self.error_raised.emit(f"{column.name} is a system column; the table sets it")
            return False
        if row is None:
            return False
        try:
            parsed = parse_text(column.name, column.kind, str(value))
        except ConsoleError as e:
            self.error_raised.emit(str(e))
            return False
        change = {"id": row["id"], "__version": row["__version"], column.name: parsed}
        self._loader.ask(
            "write",
            self._generation,
            priority=1,
            view=self._view,
            action="update",
            row=change,
            at=index.row(),
        )
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self._view is None or not 0 <= column < len(self._columns):
            return
        from dataclasses import replace

        self.set_view(
            replace(
                self._view,
                sort=self._columns[column].name,
                descending=order == Qt.SortOrder.DescendingOrder,
            )
        )

    # -- writes --------------------------------------------------------------

    def add_row(self) -> None:
        if self._view is not None:
            self._loader.ask(
                "write", self._generation, priority=1, view=self._view, action="insert", row={}
            )

    def delete_rows(self, rows: list[int]) -> None:
        ids = [r["id"] for r in (self.row(i) for i in rows) if r is not None]
        if self._view is not None and ids:
            self._loader.ask(
                "write", self._generation, priority=1, view=self._view, action="delete", ids=ids
            )

    # -- loading ---------------------------------------------------------------

    def _want(self, page: int) -> None:
        if page in self._asked or self._view is None:
            return
        self._asked.add(page)
        hints: dict[str, Any] = {}
        last_page = (self._count - 1) // PAGE
        if page == last_page and page > 0:
            hints["last_rows"] = self._count - page * PAGE
        elif page - 1 in self._pages and self._pages[page - 1]:
            hints["after"] = self._key(self._pages[page - 1][-1])
        elif page + 1 in self._pages and self._pages[page + 1]:
            hints["before"] = self._key(self._pages[page + 1][0])
        self._loader.ask("page", self._generation, view=self._view, page=page, **hints)
        self.loading_changed.emit(True)

    def _key(self, row: dict[str, Any]) -> Key:
        assert self._view is not None
        value = row.get(self._view.sort)
        return (1 if value is None else 0, value, int(row["id"]))

    def _on_loaded(self, generation: int, kind: str, payload: Any) -> None:
        if kind == "error":
            failed_kind, args, error = payload
            if failed_kind == "write" and isinstance(error, ConflictError):
                self.error_raised.emit(str(error))
                self.reload()
            elif failed_kind == "write" or generation == self._generation:
                self.error_raised.emit(
                    str(error)
                    if isinstance(error, ConsoleError)
                    else f"{type(error).__name__}: {error}"
                )
                if failed_kind == "page":
                    self._asked.discard(args.get("page"))
            return
        if kind == "write":
            args, result = payload
            if args["action"] == "update":
                self._replace_row(result)
                self.rows_written.emit("saved")
            else:
                self.rows_written.emit(
                    "added a row"
                    if args["action"] == "insert"
                    else f"deleted {result} row{'s' * (result != 1)}"
                )
                self.reload()
            return
        if generation != self._generation:
            return  # a result for a view that is gone
        args, result = payload
        if kind == "first":
            info, max_id, first_page = result
            self.beginResetModel()
            # id, the user's columns, then the system's bookkeeping
            self._columns = sorted(
                info.columns, key=lambda c: 0 if c.name == "id" else 2 if c.system else 1
            )
            self._count = len(first_page)  # until the count comes, right behind
            self._max_id = max_id
            self._pages.clear()
            self._asked = {0}
            self._pages[0] = first_page
            self.endResetModel()
        elif kind == "count":
            self._set_count(int(result))
            self.count_changed.emit(self._count)
            self.loading_changed.emit(False)
        elif kind == "page":
            page = args["page"]
            self._pages[page] = result
            self._pages.move_to_end(page)
            while len(self._pages) > CACHE_PAGES:
                evicted, _ = self._pages.popitem(last=False)
                self._asked.discard(evicted)
            first = page * PAGE
            last = min(self._count, first + PAGE) - 1
            if last >= first:
                self.dataChanged.emit(
                    self.index(first, 0), self.index(last, max(0, len(self._columns) - 1))
                )
            self.loading_changed.emit(False)
        elif kind == "newer" and result:
            self.new_rows_found.emit(int(result))

    def _set_count(self, count: int) -> None:
        """Grow (or, if rows went in between, shrink) to the counted rows,
        keeping what is shown and where the user is."""
        if count > self._count:
            self.beginInsertRows(QModelIndex(), self._count, count - 1)
            self._count = count
            self.endInsertRows()
        elif count < self._count:
            self.beginRemoveRows(QModelIndex(), count, self._count - 1)
            self._count = count
            self.endRemoveRows()

    def _replace_row(self, stored: dict[str, Any]) -> None:
        for number, page in self._pages.items():
            for i, row in enumerate(page):
                if row["id"] == stored["id"]:
                    page[i] = stored
                    at = number * PAGE + i
                    self.dataChanged.emit(self.index(at, 0), self.index(at, len(self._columns) - 1))
                    return


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().isoformat(sep=" ", timespec="seconds")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return binary_text(value)
    return str(value)
