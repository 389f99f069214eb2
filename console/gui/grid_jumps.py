"""How the Browse grid reads a page far from every page it holds, in a view
not shown by id (a scrollbar jump in a sorted or filtered view).

Sorted by an indexed column (no filter): the key at the page's first row
comes from the view's marks (`console.core.tables.positions`), gathered in
the background as soon as the view shows; the page is then one seek. Any
other view: anchors, the first key of every page, from one pass over the
view's keys on the first jump; the pass can take seconds on millions of
rows, so the read reports it (`passing`) and the user can cancel it.

Rows inserted or deleted move positions: `changed` drops the marks and the
anchors, and the next jump finds its rows where they are now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from console.core.tables.browse import Browser, Key, View
from console.core.tables.positions import Marks
from console.core.tables.values import ColumnInfo
from console.gui.grid_cells import PageRead
from console.gui.operations import Handle, Op, Operations, Progress

Read = Callable[[Progress], list[dict[str, Any]]]


class Jumps:
    """The marks or anchors of the view a grid shows."""

    def __init__(self, browser: Browser, ops: Operations, page_size: int) -> None:
        self._browser, self._ops, self._page = browser, ops, page_size
        self._view: View | None = None
        self._marks: Marks | None = None
        self._gathering: Handle | None = None
        # The anchors of the current view once a pass has gathered them; a
        # new list (not cleared) when they go stale, so a pass still running
        # fills the old one.
        self._anchors: list[list[Key]] = []
        #: The user cancelled a pass: no other until the view changes.
        self.refused = False

    def indexed(self) -> bool:
        """Whether jumps in the view are seeks (its sort column is indexed)."""
        return self._marks is not None

    def start(self, view: View | None, columns: list[ColumnInfo]) -> None:
        """A view is shown (or shown again): what the last one knew goes."""
        self.stop()
        self._view, self._anchors, self.refused = view, [], False
        sort = next((c for c in columns if view is not None and c.name == view.sort), None)
        usable = view is not None and view.sort != "id" and not view.filters
        self._marks = None
        if usable and sort is not None and sort.indexed and view is not None:
            self._marks = Marks(self._browser, view)
            self._gather()

    def changed(self) -> None:
        """Rows were inserted or deleted: positions moved."""
        self._anchors = []
        if self._marks is not None:
            self.stop()
            self._marks = Marks(self._browser, self._marks.view)
            self._gather()

    def stop(self) -> None:
        if self._gathering is not None:
            self._gathering.cancel()
            self._gathering = None

    def _gather(self) -> None:
        marks = self._marks
        assert marks is not None
        self._gathering = self._ops.run(
            Op(lambda progress: marks.gather(progress.cancel), failure=lambda _e: None)
        )

    def choose(
        self,
        view: View,
        page: int,
        pages: Mapping[int, list[dict[str, Any]]],
        count: int,
        ids: tuple[int, int],
    ) -> Read:
        """The read of `page`: from the end of the view (its last page), from a
        neighbour page's last or first key, by id in a table shown by id, or
        a jump. `ids`: the table's lowest and highest id."""
        browser, size = self._browser, self._page
        if page == (count - 1) // size and page > 0:
            return PageRead(browser.last_rows, view, count - page * size)
        if pages.get(page - 1):
            return PageRead(browser.page, view, size, after=browser.key(view, pages[page - 1][-1]))
        if pages.get(page + 1):
            return PageRead(browser.page, view, size, before=browser.key(view, pages[page + 1][0]))
        if view.sort == "id" and not view.filters:
            # A jump in a table shown by id: the id that would start the page.
            low, high = ids
            bound = high - page * size + 1 if view.descending else low + page * size - 1
            return PageRead(browser.page, view, size, after=(0, None, bound))
        return self.read(view, page, count)

    def read(self, view: View, page: int, rows: int | None) -> Read:
        """The read of `page` (`rows`: the view's row count; an estimate
        until counted, when the grid reads its pages again where they go)."""
        browser, size, marks = self._browser, self._page, self._marks
        if marks is not None:

            def seek(progress: Progress) -> list[dict[str, Any]]:
                with marks.jumping():
                    key = marks.key_at(page * size, rows, progress.cancel)
                    if key is None:
                        return []
                    return browser.page_from(view, key, size, progress.cancel)

            return seek
        holder, refused = self._anchors, self.refused

        def by_anchor(progress: Progress) -> list[dict[str, Any]]:
            if not holder:
                if refused:
                    return []
                progress.report(True)
                try:
                    holder.append(browser.page_anchors(view, size, progress.cancel))
                finally:
                    progress.report(False)
            anchors = holder[0]
            if page >= len(anchors):
                return []
            return browser.page_from(view, anchors[page], size, progress.cancel)

        return by_anchor
