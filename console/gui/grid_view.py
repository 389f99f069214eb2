"""The Browse grid as a widget: a table view that reads only the pages in
sight, goes to the last row on Ctrl+End and offers, on a row's context menu,
the run that wrote it; and the export of a view to CSV."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QMenu, QTableView, QWidget

from console.core.tables.browse import Browser, View
from console.core.tables.export import export_csv as write_csv
from console.gui.operations import Progress
from console.gui.table_model import GridModel

#: Qt keeps a header's length in pixels in a 32-bit int: rows × row height
#: past it wraps negative and the grid shows nothing (at 24 px, past 89M rows).
QT_MAX_PX = 2**31 - 1
#: The least row height the grid squeezes to for that (about 134M rows).
MIN_ROW_PX = 16
#: A jump to rows not yet read holds the grid's paint this long at most: rows
#: read by then are painted once, with no "loading…" frame before them (a
#: jump's paints were half its GUI thread's time; docs/benchmarks.md).
HOLD_MS = 50
#: After a hold that ran out (reads slower than it), the jumps of this long
#: are not held: a drag over slow rows moves with the mouse, as "loading…".
SLOW_S = 0.5


class GridView(QTableView):
    """The Browse grid: Ctrl+End goes to the last row even before the count."""

    #: A row's context menu › Open run N: the run that wrote the row (`__runId`).
    run_requested = Signal(int)

    def __init__(self, model: GridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setTabKeyNavigation(False)  # arrows move between cells, Tab to the next control
        self._grid = model
        self._end_pending = False
        model.count_changed.connect(self._on_count)
        model.tail_shown.connect(self._on_tail)
        self.verticalScrollBar().valueChanged.connect(self._tell_visible)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)
        self.row_px = 24  # the row height, unless the rows would not fit Qt's int
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.setInterval(HOLD_MS)
        self._hold.timeout.connect(self._ran_out)
        self._slow_until = 0.0  # no hold before then (`SLOW_S`)
        model.dataChanged.connect(self._landed)
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved):
            signal.connect(self._fit_rows)

    def _fit_rows(self, *_args: Any) -> None:
        """Rows lower than `row_px` when that many would overflow Qt's pixel
        count (100M rows: 21 px); beyond `MIN_ROW_PX` Qt cannot show them all."""
        rows = max(1, self._grid.rowCount())
        size = max(MIN_ROW_PX, min(self.row_px, (QT_MAX_PX - 2**16) // rows))
        header = self.verticalHeader()
        if header.defaultSectionSize() != size:
            header.setDefaultSectionSize(size)

    def row_menu(self, row: int) -> QMenu:
        """The context menu of a row: Open run N, when a run wrote it."""
        menu = QMenu(self)
        values = self._grid.row(row) or {}
        run_id = values.get("__runId")
        if run_id is None:
            action = menu.addAction("Written by a person, not a run")
            action.setEnabled(False)
        else:
            action = menu.addAction(f"Open run {run_id} in History (it wrote this row)")
            action.triggered.connect(lambda: self.run_requested.emit(int(run_id)))
        return menu

    def _on_context_menu(self, at: QPoint) -> None:
        index = self.indexAt(at)
        if index.isValid():
            self.row_menu(index.row()).exec(self.viewport().mapToGlobal(at))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        end = event.key() == Qt.Key.Key_End and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        )
        if end and not self._grid.go_to_end():
            self._end_pending = True  # the count is on its way; the end comes with it
        elif event.key() == Qt.Key.Key_Home:
            self._end_pending = False
        super().keyPressEvent(event)

    def go_to_last_row(self) -> None:
        last = self._grid.rowCount() - 1
        if last >= 0:
            column = max(0, self.currentIndex().column())
            self.setCurrentIndex(self._grid.index(last, column))
            self.scrollToBottom()

    def _on_tail(self) -> None:
        if self._end_pending:
            self.go_to_last_row()  # and again when the count has placed them

    def _on_count(self, _count: int, exact: bool) -> None:
        if self._end_pending and exact:
            self._end_pending = False
            self.go_to_last_row()

    def _rows_in_view(self) -> tuple[int, int]:
        top = max(0, self.rowAt(0))
        bottom = self.rowAt(self.viewport().height() - 1)
        return top, bottom if bottom >= 0 else self._grid.rowCount() - 1

    def _tell_visible(self, *_args: Any) -> None:
        if self._grid.set_visible(*self._rows_in_view()):
            if self._hold.isActive():
                self._release()  # back to rows already read (Ctrl+Home)
        elif not self._hold.isActive() and time.monotonic() >= self._slow_until:
            for part in self._held():
                part.setUpdatesEnabled(False)  # until the rows come, or HOLD_MS
            self._hold.start()  # from the first jump: a drag is never held longer

    def _held(self) -> tuple[QWidget, ...]:
        """What a jump holds: the cells and the row numbers beside them."""
        return self.viewport(), self.verticalHeader().viewport()

    @property
    def holding(self) -> bool:
        """Whether a jump is holding the paint for its rows (`HOLD_MS`)."""
        return self._hold.isActive()

    def _landed(self, *_args: Any) -> None:
        if self._hold.isActive() and self._grid.set_visible(*self._rows_in_view()):
            self._release()

    def _ran_out(self) -> None:
        self._slow_until = time.monotonic() + SLOW_S
        self._release()

    def _release(self) -> None:
        self._hold.stop()
        for part in self._held():
            part.setUpdatesEnabled(True)  # and paints them


def export_csv(browser: Browser, view: View, path: Path, progress: Progress) -> int:
    """Stream `view` (its sort and filter) to `path` as CSV, with progress
    and Cancel (`console.core.tables.export`)."""
    return write_csv(browser, view, path, cancel=progress.cancel, report=progress.report)
