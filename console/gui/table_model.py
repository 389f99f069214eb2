"""The Browse grid's model: lazy, paged by key, never blocking the GUI.

`rowCount` is the view's row count; `data` answers from a bounded cache of
200-row pages and asks for a page it does not hold, showing "loading…"
meanwhile. Page reads run in order on the grid's own lane of the window's
operations; a request for a page no longer in view is dropped before it
runs. Each page is fetched by key from a neighbour page's first or last key,
from the end of the table (the view's order reversed: Ctrl+End needs no
count), by id for a jump in a table shown by id, or as `grid_jumps` says
for a jump in another order (a seek on an indexed column, else anchors).

The row count starts as an estimate (exact for a small table) and is
replaced by an exact count from a cancellable background operation. A sort
or filter that takes long can be cancelled: the query is interrupted and the
previous view comes back.

Over 500 lines, kept whole: paging, the count, Ctrl+End and a cancelled
view's return all move the same page cache, which Qt's model API needs in
one object; cells are drawn by `grid_cells`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, fields, replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, QTimer, Signal

from console.core.errors import ConflictError, ConsoleError
from console.core.tables.api import open_table
from console.core.tables.browse import Browser, Opening, View
from console.core.tables.catalogue import TableStore
from console.core.tables.values import SYSTEM_COLUMNS, ColumnInfo, TableInfo, parse_text
from console.gui import grid_cells as cells
from console.gui.grid_cells import Index
from console.gui.grid_jumps import Jumps
from console.gui.operations import Handle, Op, Operations, Progress

PAGE = 200
CACHE_PAGES = 24  # 4,800 rows at most in memory, whatever the table's size
LOADING = "loading…"
MARGIN_PAGES = 2  # pages either side of the visible rows still worth reading
COUNT_AFTER_MS = 300  # a full count waits: not on the CPU with the first paint


@dataclass
class _Kept:  # the shown view while another reads: the model's fields of these names
    view: View
    columns: list[ColumnInfo]
    count: int
    exact: bool
    low_id: int
    high_id: int
    pages: OrderedDict[int, list[dict[str, Any]]]


class GridModel(QAbstractTableModel):
    """A user table's rows for the Browse grid."""

    #: The row count, and whether it is exact (False: an estimate, "≈").
    count_changed = Signal(int, bool)
    #: True while a view (a sort, a filter) is being read; False once shown.
    loading_changed = Signal(bool)
    #: A view's read was cancelled; the previous view is back. The text says so.
    view_cancelled = Signal(str)
    error_raised = Signal(str)
    new_rows_found = Signal(int)
    #: Ctrl+End before the count: the last rows are shown, after the first page.
    tail_shown = Signal()
    info_read = Signal(object)  # the first read's `TableInfo`: the columns as stored
    rows_written = Signal(str)

    def __init__(self, tables: TableStore, ops: Operations, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._browser = Browser(tables)
        self._ops = ops
        self._lane = f"grid-{id(self)}"
        self._view: View | None = None
        self._shown: View | None = None  # the last view that came in full
        self._columns: list[ColumnInfo] = []
        self._count = 0
        self._exact = False
        self._low_id = self._high_id = 0
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        self._asked: set[int] = set()
        self._generation = 0
        self._jumps = Jumps(self._browser, ops, PAGE)
        self._passing: int | None = None  # the generation whose jump waits for a pass
        self._visible: tuple[int, int] | None = None  # pages in view (None: any)
        self._first: Handle | None = None
        self._kept: _Kept | None = None  # the shown view's state while another reads
        self._counting: Handle | None = None
        self._reads: set[Handle] = set()
        self._tail_asked = 0  # the generation whose last rows were read before its count
        self._placement = 0  # moves when the count moves rows: older page reads are dropped
        self._changes = 0  # moves on a change event or a reload
        # The last exact count, for another sort of the same rows: (table, filters, changes, count)
        self._counted: tuple[str, Any, int, int] | None = None

    # -- the view ----------------------------------------------------------

    @property
    def view(self) -> View | None:
        return self._view

    @property
    def columns(self) -> list[ColumnInfo]:
        return list(self._columns)

    @property
    def exact(self) -> bool:
        """Whether `rowCount` is the counted number of rows, not an estimate."""
        return self._exact

    @property
    def lane(self) -> str:
        """The name of this grid's ordered lane of the window's operations."""
        return self._lane

    @property
    def loading(self) -> bool:
        """A view is being read, or a jump waits for a pass over its keys."""
        return self._first is not None or self._passing is not None

    def set_view(self, view: View) -> None:
        """Show a table, sorted and filtered; drops everything of the old view."""
        self._generation += 1
        generation = self._generation
        for handle in (self._first, self._counting, *self._reads):
            if handle is not None:
                handle.cancel()
        self._counting = None
        self._reads, self._passing = set(), None
        if self._first is None and self._view is not None and self._view == self._shown:
            # What the user sees now, kept while the new view reads: a Cancel
            # puts it back at once instead of reading it again behind the
            # interrupted query on the lane.
            self._kept = _Kept(**{f.name: getattr(self, f"_{f.name}") for f in fields(_Kept)})
        self.beginResetModel()
        self._view = view
        self._count = 0
        self._exact = False
        self._pages = OrderedDict()
        self._asked.clear()
        self._jumps.start(None, [])
        self.endResetModel()
        browser = self._browser

        def first(progress: Progress) -> tuple[TableInfo, Opening]:
            return browser.first(view, PAGE, progress.cancel)

        self._first = self._ops.run(
            Op(
                first,
                success=lambda result: self._on_first(generation, result),
                failure=lambda error: self._on_first_failed(generation, error),
                cancelled=lambda: self._on_first_cancelled(generation),
            ),
            lane=self._lane,
        )
        self.loading_changed.emit(True)

    def reload(self) -> None:
        """Look again (new rows, another console's edits)."""
        self._changes += 1
        if self._view is not None:
            self.set_view(self._view)

    def cancel_loading(self) -> None:
        """Stop reading the view (interrupting its query); the last view comes back."""
        for handle in (self._first, self._counting):
            if handle is not None:
                handle.cancel()
        if self._passing is not None:
            self.cancel_pass()
            self.error_raised.emit(
                "jump cancelled: Columns › Set as index makes jumps in this sort instant"
            )

    def close(self) -> None:
        """Stop everything this grid has going (the window joins the threads)."""
        self._generation += 1
        self.cancel_loading()
        self._jumps.stop()

    def cancel_pass(self) -> None:
        """Cancel a jump's pass over the keys: no other until the view changes."""
        self._jumps.refused = True
        for handle in self._reads:
            handle.cancel()

    @property
    def jumps_seek(self) -> bool:
        """Whether a jump in this view is a seek (its sort column is indexed)."""
        return self._jumps.indexed()

    def check_new_rows(self) -> None:
        """Count rows added since the view was read (after a change event)."""
        view, after, generation = self._view, self._high_id, self._generation
        self._changes += 1
        if view is None or self._first is not None:
            return
        self._jumps.changed()  # rows in or out move every position
        browser = self._browser

        def done(count: int) -> None:
            if generation == self._generation and count:
                self.new_rows_found.emit(count)

        self._ops.run(
            Op(
                lambda _p: browser.count_newer(view.table, after),
                done,
                failure=lambda _e: None,  # the table went: the next change says so
            ),
            lane=self._lane,
        )

    def set_visible(self, first_row: int, last_row: int) -> bool:
        """The rows the user sees now: reads for pages far from them are
        dropped, the pages they are on asked for at once (before a paint
        would ask). False while a read of one of those pages is on its way."""
        self._visible = (first_row // PAGE - MARGIN_PAGES, last_row // PAGE + MARGIN_PAGES)
        pages = range(max(0, first_row) // PAGE, min(last_row, self._count - 1) // PAGE + 1)
        for page in pages:
            if page not in self._pages:
                self._want(page)
        return not any(p in self._asked and p not in self._pages for p in pages)

    def go_to_end(self) -> bool:
        """Ctrl+End: True if `rowCount() - 1` is the last row now. Else (a
        filtered view still being counted) the last rows are read at once by
        the view's order reversed and put after the first page, and
        `tail_shown` says when; the exact count moves them where they belong."""
        if self._exact or not (self._view and self._view.filters):
            return True
        self._read_tail()
        return False

    def _read_tail(self) -> None:
        view, generation, browser = self._view, self._generation, self._browser
        if view is None or self._first is not None or self._tail_asked == generation:
            return
        self._tail_asked = generation

        def shown(tail: list[dict[str, Any]]) -> None:
            if generation != self._generation or self._exact:
                return
            first = self._pages.get(0, [])
            known = {row["id"] for row in first}
            rest = [row for row in tail if row["id"] not in known]
            overlap = len(rest) < len(tail)  # the tail reaches the first page: all is read
            count = len(first) + (len(rest) if overlap else PAGE)
            if not overlap:  # room for the tail right after the first page
                rest = tail
            self._set_count(max(count, len(first)))
            if rest:
                self._pages[1] = rest
                self._asked.add(1)
                self.dataChanged.emit(
                    self.index(PAGE, 0), self.index(self._count - 1, len(self._columns) - 1)
                )
            if overlap:
                self._exact = True
                if self._counting is not None:
                    self._counting.cancel()
            self.count_changed.emit(self._count, self._exact)
            self.tail_shown.emit()

        self._reads.add(
            self._ops.run(
                Op(
                    lambda progress: browser.last_rows(view, PAGE, progress.cancel),
                    shown,
                    failure=lambda error: self.error_raised.emit(cells.error_message(error)),
                ),
                lane=self._lane,
            )
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
        if role == cells.ALIGN and orientation == Qt.Orientation.Horizontal:
            return cells.header_alignment(self._columns, section)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._columns[section].name if 0 <= section < len(self._columns) else None
        return str(section + 1)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called for every role of every visible cell at each paint: the
        # roles we do not answer leave first, and nothing is built per call.
        if role not in cells.ROLES or not index.isValid():
            return None
        at = index.row()
        page = self._pages.get(at // PAGE)
        if page is None or at % PAGE >= len(page):
            if not 0 <= at < self._count:
                return None
            self._want(at // PAGE)
            if role == Qt.ItemDataRole.ForegroundRole:
                return cells.pending_colour()
            return LOADING if index.column() == 0 and role != cells.ALIGN else None
        return cells.cell_data(page[at % PAGE], self._columns[index.column()], role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return cells.cell_flags(self._columns[index.column()])

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
        table = open_table(self._browser.tables, self._view.table)

        def saved(stored: dict[str, Any]) -> None:
            self._replace_row(stored)
            self.rows_written.emit("saved")

        self._write(lambda: table.update(change), saved)
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self._view is None or not 0 <= column < len(self._columns):
            return
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
            table = open_table(self._browser.tables, self._view.table)

            def added(_row: Any) -> None:
                self.rows_written.emit("added a row")
                self.reload()

            self._write(lambda: table.insert({}), added)

    def delete_rows(self, rows: list[int]) -> None:
        ids = [r["id"] for r in (self.row(i) for i in rows) if r is not None]
        if self._view is not None and ids:
            table = open_table(self._browser.tables, self._view.table)

            def deleted(count: int) -> None:
                self.rows_written.emit(f"deleted {count} row{'s' * (count != 1)}")
                self.reload()

            self._write(lambda: table.delete_many(ids), deleted)

    def _write(self, work: Any, done: Any) -> None:
        def failed(error: Exception) -> None:
            self.error_raised.emit(cells.error_message(error))
            if isinstance(error, ConflictError):
                self.reload()

        # A write is the user's: it finishes even if the window closes meanwhile.
        self._ops.run(Op(lambda _p: work(), done, failed, finish_on_close=True))

    # -- loading ---------------------------------------------------------------

    def _want(self, page: int) -> None:
        view = self._view
        if page in self._asked or view is None or self._first is not None:
            return
        self._asked.add(page)
        generation, placed = self._generation, self._placement
        read = self._jumps.choose(
            view, page, self._pages, self._count, (self._low_id, self._high_id)
        )

        def wanted() -> bool:
            if generation != self._generation or placed != self._placement:
                return False
            shown = self._visible
            return shown is None or shown[0] <= page <= shown[1]

        def dropped() -> None:
            self._on_pass(generation, False)
            if generation == self._generation:
                self._asked.discard(page)  # asked again when scrolled back

        handle = self._ops.run(
            Op(
                read,
                success=lambda rows: self._on_page(generation, placed, page, rows),
                failure=lambda error: self._on_page_failed(generation, page, error),
                cancelled=dropped,
                wanted=wanted,
                progress=lambda passing: self._on_pass(generation, bool(passing)),
            ),
            lane=self._lane,
        )
        # A page read still going when the view changes (a pass for anchors
        # over millions of keys) is interrupted, not waited for on the lane.
        self._reads = {h for h in self._reads if not h.finished.is_set()} | {handle}

    def _on_first(self, generation: int, result: tuple[TableInfo, Opening]) -> None:
        if generation != self._generation:
            return
        info, first = result
        self._first = None
        self._kept = None
        assert self._view is not None
        self._shown = self._view
        self.beginResetModel()
        # id, the user's columns, then the system's bookkeeping
        self._columns = sorted(
            info.columns, key=lambda c: 0 if c.name == "id" else 2 if c.system else 1
        )
        self._count = first.count
        self._exact = first.exact
        rows = (self._view.table, self._view.filters, self._changes)
        if first.exact:
            self._counted = (*rows, first.count)
        elif self._counted is not None and self._counted[:3] == rows:
            self._count, self._exact = self._counted[3], True  # the same rows, sorted another way
        self._low_id, self._high_id = first.low_id, first.high_id
        self._pages.clear()
        self._asked = {0}
        self._pages[0] = first.rows
        self._jumps.start(self._view, self._columns)
        self.endResetModel()
        self.loading_changed.emit(False)
        self.count_changed.emit(self._count, self._exact)
        self.info_read.emit(info)
        if not self._exact:
            QTimer.singleShot(COUNT_AFTER_MS, self, lambda: self._count_exactly(generation))

    def _count_exactly(self, generation: int) -> None:
        view, browser, changes = self._view, self._browser, self._changes
        if view is None or generation != self._generation or self._exact:
            return  # another view since, or counted meanwhile (Ctrl+End read it all)

        def counted(count: int) -> None:
            if generation != self._generation:
                return
            self._counting = None
            self._set_count(count)
            self._exact = True
            self._counted = (view.table, view.filters, changes, count)
            self.count_changed.emit(self._count, True)

        def given_up() -> None:
            if generation == self._generation:
                self._counting = None

        self._counting = self._ops.run(
            Op(
                lambda progress: browser.count(view, progress.cancel),
                counted,
                failure=lambda error: given_up(),
                cancelled=given_up,
            )
        )

    def _on_first_failed(self, generation: int, error: Exception) -> None:
        if generation != self._generation:
            return
        self._first = None
        self.loading_changed.emit(False)
        self.error_raised.emit(cells.error_message(error))

    def _on_first_cancelled(self, generation: int) -> None:
        if generation != self._generation:
            return  # replaced by a newer view, not cancelled by the user
        self._first = None
        self.loading_changed.emit(False)
        view, shown = self._view, self._shown
        self.view_cancelled.emit(cells.cancelled_text(view))
        kept, self._kept = self._kept, None
        if shown is not None and shown != view and kept is not None and kept.view == shown:
            self._restore(kept)
        elif shown is not None and shown != view:
            self.set_view(shown)
        else:
            self.set_view(View(view.table) if view is not None else View(""))

    def _restore(self, kept: _Kept) -> None:
        """The view shown before a cancelled one, as it was (its pages kept)."""
        self._generation += 1  # reads still queued for the cancelled view are dropped
        generation = self._generation
        self.beginResetModel()
        self._view = kept.view
        self._columns = kept.columns
        self._count, self._exact = kept.count, kept.exact
        self._low_id, self._high_id = kept.low_id, kept.high_id
        self._pages = kept.pages
        self._asked = set(kept.pages)
        self._jumps.start(kept.view, kept.columns)
        self.endResetModel()
        self.count_changed.emit(self._count, self._exact)
        if not self._exact:
            self._count_exactly(generation)
        self.check_new_rows()  # rows added while the cancelled view was reading

    def _on_pass(self, generation: int, passing: bool) -> None:
        """A jump's pass over the keys started or ended: shown as the view's reading."""
        if (self._passing is not None) != passing and generation == self._generation:
            self._passing = generation if passing else None
            self.loading_changed.emit(passing)

    def _on_page(self, generation: int, placed: int, page: int, rows: list[dict[str, Any]]) -> None:
        if generation != self._generation or placed != self._placement:
            return  # read for another view, or for rows since moved by the count
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > CACHE_PAGES:
            if next(iter(self._pages)) == 0:
                # The first page stays: Ctrl+Home and the view a Cancel brings
                # back (at its top) show it without a read.
                self._pages.move_to_end(0)
            evicted, _ = self._pages.popitem(last=False)
            self._asked.discard(evicted)
        first = page * PAGE
        last = min(self._count, first + PAGE) - 1
        if last >= first:
            self.dataChanged.emit(
                self.index(first, 0), self.index(last, max(0, len(self._columns) - 1))
            )

    def _on_page_failed(self, generation: int, page: int, error: Exception) -> None:
        if generation == self._generation:
            self._asked.discard(page)
            self.error_raised.emit(cells.error_message(error))

    def _set_count(self, count: int) -> None:
        """Grow or shrink to the counted rows. Pages read from the end were
        placed by the estimate: they are read again where they belong."""
        if count == self._count:
            return
        self._placement += 1
        keep = self._pages.get(0)
        self._pages.clear()
        self._asked = set()
        if keep is not None:
            self._pages[0] = keep
            self._asked.add(0)
        if count > self._count:
            self.beginInsertRows(QModelIndex(), self._count, count - 1)
            self._count = count
            self.endInsertRows()
        else:
            self.beginRemoveRows(QModelIndex(), count, self._count - 1)
            self._count = count
            self.endRemoveRows()
        if self._count and self._columns:
            self.dataChanged.emit(
                self.index(0, 0), self.index(self._count - 1, len(self._columns) - 1)
            )

    def _replace_row(self, stored: dict[str, Any]) -> None:
        for number, page in self._pages.items():
            for i, row in enumerate(page):
                if row["id"] == stored["id"]:
                    page[i] = stored
                    at = number * PAGE + i
                    self.dataChanged.emit(self.index(at, 0), self.index(at, len(self._columns) - 1))
                    return
