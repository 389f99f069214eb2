"""Keyset pagination gives exactly the rows a full sort would, any direction."""

from __future__ import annotations

from typing import Any

import pytest

from console.core.store.database import Store
from console.core.tables.api import open_table
from console.core.tables.browse import Browser, Filter, View
from console.core.tables.catalogue import TableStore


@pytest.fixture
def browser(db_url: str) -> Browser:
    tables = TableStore(Store(db_url))
    tables.create("Things")
    rows: list[dict[str, Any]] = []
    for i in range(57):
        rows.append({"n": None if i % 7 == 0 else i % 5, "s": f"item {i % 11}"})
    open_table(tables, "Things").insert_many(rows)
    return Browser(tables)


def expected(browser: Browser, view: View) -> list[int]:
    rows = open_table(browser.tables, "Things").read()
    present = [r for r in rows if r[view.sort] is not None]
    present.sort(key=lambda r: (r[view.sort], r["id"]), reverse=view.descending)
    nulls = sorted(
        (r for r in rows if r[view.sort] is None), key=lambda r: r["id"], reverse=view.descending
    )
    return [r["id"] for r in present + nulls]


VIEWS = [
    View("Things"),
    View("Things", descending=True),
    View("Things", sort="n"),
    View("Things", sort="n", descending=True),
    View("Things", sort="s"),
]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: f"{v.sort}-{v.descending}")
def test_pages_forwards_backwards_and_by_anchor(browser: Browser, view: View) -> None:
    want = expected(browser, view)
    seen: list[int] = []
    after = None
    while page := browser.page(view, 10, after=after):
        seen += [r["id"] for r in page]
        after = browser.key(view, page[-1])
    assert seen == want
    back: list[int] = []
    page = browser.last_rows(view, 10)
    while page:
        back = [r["id"] for r in page] + back
        page = browser.page(view, 10, before=browser.key(view, page[0]))
    assert back == want
    anchors = browser.page_anchors(view, 10)
    assert len(anchors) == 6
    assert [r["id"] for r in browser.page_at_anchor(view, anchors[3], 10)] == want[30:40]


def test_filters_and_counts(browser: Browser) -> None:
    view = View("Things", filters=(Filter("n", "equals", "3"),))
    assert browser.count(view) == len([1 for i in range(57) if i % 7 and i % 5 == 3])
    contains = View("Things", filters=(Filter("s", "contains", "item 1"),))
    assert browser.count(contains) == len([1 for i in range(57) if str(i % 11).startswith("1")])
    less = View("Things", filters=(Filter("n", "less than", "2"),))
    assert all(r["n"] < 2 for r in browser.page(less, 100))
    assert browser.count_newer("Things", browser.max_id("Things") - 3) == 3
