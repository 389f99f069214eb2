"""Where a row number is in a view sorted by an indexed column.

A jump in a sorted view needs the key of the row at a position. Without an
index that takes a pass over every key (`Browser.page_anchors`). With an
index on `(column, id)` it does not: `Marks` keeps the key of every
`step`-th row, each found from the one before by an index-only scan of
`step` entries; the key at any position is then the nearest mark and a scan
of fewer than `step` entries.

Marks are gathered from the first row on, in the background, as soon as the
view shows (10M rows take about a second). A jump before they reach its
position does not wait for them: it steps on from whichever end is nearer,
from the first row's marks or from marks counted back from the last row,
and keeps what it steps past, so the next jump near it is one short scan
(jumps up from the bottom right after a sort cost one step each, not a
count from the end each). The marks counted from the end are positions only
once the row count is exact; the grid reads its pages again when the exact
count lands.

Marks are positions: rows inserted or deleted move them, so the grid drops
them when its table changes and gathers them again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from console.core.store.cancel import Cancel
from console.core.tables.browse import Browser, Key, View

STEP = 20_000
PAUSE_S = 0.1  # the longest the gathering waits for jumps before its next step
BATCH = 25  # the gathering's steps in one read, unless a jump comes

Step = Callable[[Key | None, int, bool], Key | None]


class Marks:
    """The keys at positions 0, step, 2·step… of one view, and at step,
    2·step… rows before its last, found by `gather` on one thread and by
    `key_at` on others (each end's steps one at a time, under its lock)."""

    def __init__(self, browser: Browser, view: View, step: int = STEP) -> None:
        self.browser, self.view, self.step = browser, view, step
        self._keys: list[Key] = []  # the row at i·step
        self._back: list[Key] = []  # the row i·step before the last
        self._front_lock, self._back_lock = threading.Lock(), threading.Lock()
        self._complete = threading.Event()
        self._back_ended = False  # the marks from the end reached the first row
        self._jumping = 0  # jumps reading now: the gathering waits for them
        self._jumped = threading.Condition()

    @property
    def complete(self) -> bool:
        return self._complete.is_set()

    def gather(self, cancel: Cancel | None = None) -> int:
        """Step through the view to its end; the number of marks."""
        while True:
            with self._jumped:  # a jump's reads first (a step at most between them)
                self._jumped.wait_for(lambda: not self._jumping, PAUSE_S)
            with self.browser.stepping(self.view, cancel) as step:
                for _ in range(BATCH):
                    if not self._step_front(step):
                        return len(self._keys)
                    if self._jumping:
                        break

    @contextmanager
    def jumping(self) -> Iterator[None]:
        """A jump reads (its key, its page): the gathering pauses meanwhile,
        so the jump has the CPU on a busy machine."""
        with self._jumped:
            self._jumping += 1
        try:
            yield
        finally:
            with self._jumped:
                self._jumping -= 1
                self._jumped.notify_all()

    def _step_front(self, step: Step) -> bool:
        """One more mark from the first row on; False at the end."""
        with self._front_lock:
            if self.complete:
                return False
            keys = self._keys
            start, skip = (keys[-1], self.step) if keys else (None, 0)
            key = step(start, skip, False)
            if key is None:
                self._complete.set()
                return False
            keys.append(key)  # one append: a reader sees a whole key
            return True

    def _step_back(self, step: Step) -> bool:
        """One more mark counted back from the last row; False at the first."""
        with self._back_lock:
            if self._back_ended:
                return False
            back = self._back
            start, skip = (back[-1], self.step) if back else (None, 0)
            key = step(start, skip, True)
            if key is None:
                self._back_ended = True
                return False
            back.append(key)
            return True

    def key_at(self, position: int, rows: int | None, cancel: Cancel | None = None) -> Key | None:
        """The key of the row at `position` (0 the first), None past the
        end. `rows`: the view's row count, if known: before the marks reach
        a position, the nearer end's marks are stepped on to it (counted back
        from the last row by this count; the grid re-reads its pages if it
        was an estimate)."""
        with self.browser.stepping(self.view, cancel) as read:  # one read for every step
            return self._key_at(position, rows, read)

    def _key_at(self, position: int, rows: int | None, read: Step) -> Key | None:
        step, want = self.step, position // self.step
        while True:
            front = len(self._keys)
            if want < front or self.complete:
                mark = min(want, front - 1)
                start = self._keys[mark] if mark >= 0 else None
                return read(start, position - mark * step if mark >= 0 else position, False)
            behind = -1 if rows is None else rows - 1 - position  # rows after it
            if behind >= 0 and not self._back_ended:
                back_want = behind // step  # the nearest mark after it
                back = len(self._back)
                if back_want < back:
                    return read(self._back[back_want], behind - back_want * step, True)
                from_back = behind - (back - 1) * step if back else behind
                from_front = position - (front - 1) * step if front else position
                if from_back < from_front:
                    self._step_back(read)
                    continue
            self._step_front(read)
