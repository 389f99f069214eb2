"""Where a row number is in a view sorted by an indexed column.

A jump in a sorted view needs the key of the row at a position. Without an
index that takes a pass over every key (`Browser.page_anchors`). With an
index on `(column, id)` it does not: `Marks` steps through the index once,
in the background, keeping the key of every `step`-th row (each step one
index-only scan of `step` entries: 10M rows take about half a second); the
key at any position is then the nearest mark and a scan of fewer than
`step` entries. Before the marks reach a position, it is counted from the
nearer end instead.

Marks are positions: rows inserted or deleted move them, so the grid drops
them when its table changes and gathers them again.
"""

from __future__ import annotations

import threading

from console.core.store.cancel import Cancel
from console.core.tables.browse import Browser, Key, View

STEP = 20_000


class Marks:
    """The keys at positions 0, step, 2·step… of one view, gathered by
    `gather` on one thread while `key_at` reads them on another."""

    def __init__(self, browser: Browser, view: View, step: int = STEP) -> None:
        self.browser, self.view, self.step = browser, view, step
        self._keys: list[Key] = []
        self._complete = threading.Event()

    @property
    def complete(self) -> bool:
        return self._complete.is_set()

    def gather(self, cancel: Cancel | None = None) -> int:
        """Step through the view to its end; the number of marks."""
        key = self.browser.key_at(self.view, None, 0, cancel=cancel)
        while key is not None:
            self._keys.append(key)  # one append: a reader sees a whole key
            key = self.browser.key_at(self.view, key, self.step, cancel=cancel)
        self._complete.set()
        return len(self._keys)

    def key_at(self, position: int, rows: int | None, cancel: Cancel | None = None) -> Key | None:
        """The key of the row at `position` (0 the first), None past the
        end. `rows`: the view's row count, if known: before the marks reach
        a position, a position nearer the end is counted back from the last
        row (the grid re-reads its pages if the count was an estimate)."""
        known = len(self._keys)
        mark = min(position // self.step, known - 1)
        ahead = position - mark * self.step if mark >= 0 else position
        if rows is not None and not self.complete and 0 <= rows - 1 - position < ahead:
            return self.browser.key_at(self.view, None, rows - 1 - position, True, cancel)
        start = self._keys[mark] if mark >= 0 else None
        return self.browser.key_at(self.view, start, ahead, cancel=cancel)
