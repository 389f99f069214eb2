"""The key at any position of a view sorted by an indexed column, by marks
stepped through the index: the row a full sort puts there."""

from __future__ import annotations

from typing import Any

import pytest

from console.core.store.database import Store
from console.core.tables.api import open_table
from console.core.tables.browse import Browser, View
from console.core.tables.catalogue import TableStore
from console.core.tables.positions import Marks


@pytest.fixture
def browser(db_url: str) -> Browser:
    tables = TableStore(Store(db_url))
    tables.create("Things")
    rows: list[dict[str, Any]] = [{"n": None if i % 6 == 0 else i % 9} for i in range(61)]
    open_table(tables, "Things").insert_many(rows)
    tables.set_index("Things", "n")
    return Browser(tables)


def in_order(browser: Browser, view: View) -> list[int]:
    rows = open_table(browser.tables, "Things").read()
    present = sorted(
        (r for r in rows if r["n"] is not None),
        key=lambda r: (r["n"], r["id"]),
        reverse=view.descending,
    )
    nulls = sorted(
        (r for r in rows if r["n"] is None), key=lambda r: r["id"], reverse=view.descending
    )
    return [r["id"] for r in present + nulls]


@pytest.mark.parametrize("descending", [False, True])
def test_every_position_by_marks_from_either_end_and_after_changes(
    browser: Browser, descending: bool
) -> None:
    view = View("Things", sort="n", descending=descending)
    want = in_order(browser, view)
    # Before the marks are gathered: each jump steps on from the nearer end's
    # marks and keeps them (up from the bottom, as after a sort, or anywhere).
    every = range(len(want))
    for order in (list(every), list(every)[::-1], [30, 59, 3, 45, 31, 17, 52, 0, 60, 29]):
        early = Marks(browser, view, step=7)
        assert [early.key_at(p, len(want))[2] for p in order] == [want[p] for p in order]  # type: ignore[index]
    # A count too high (an estimate) places a jump wrongly, but marks counted
    # back from the last row stay right for the exact count.
    early = Marks(browser, view, step=7)
    early.key_at(len(want) - 20, len(want) + 30)
    early.key_at(len(want) - 2, len(want) + 3)
    assert [early.key_at(p, len(want))[2] for p in every[::-1]] == want[::-1]  # type: ignore[index]
    marks = Marks(browser, view, step=7)
    assert marks.gather() == 9 and marks.complete
    assert [marks.key_at(p, None)[2] for p in range(len(want))] == want  # type: ignore[index]
    assert marks.key_at(len(want), None) is None
    table = open_table(browser.tables, "Things")
    table.delete_many(want[5:12])
    table.insert_many([{"n": 4}, {"n": None}, {"n": 0}])
    want = in_order(browser, view)
    marks = Marks(browser, view, step=7)
    marks.gather()
    assert [marks.key_at(p, None)[2] for p in range(len(want))] == want  # type: ignore[index]
    assert [r["id"] for r in browser.page_from(view, marks.key_at(20, None), 9)] == want[20:29]  # type: ignore[arg-type]
