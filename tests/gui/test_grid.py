"""The Browse grid: a lazy model checked by qtmodeltester, and the things a
user does with it."""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QObject

from console.app import open_services
from console.core.tables.api import open_table
from console.core.tables.browse import Filter, View
from console.gui.grid_view import GridView
from console.gui.main_window import MainWindow
from console.gui.operations import Operations
from console.gui.pages.data import DataPage
from console.gui.record_model import Column, RecordModel
from console.gui.table_model import LOADING, PAGE, GridModel


@pytest.fixture
def filled(home: Path) -> str:
    services = open_services(home)
    services.tables.create("Things")
    open_table(services.tables, "Things").insert_many(
        [{"n": i, "word": f"w{i % 10}", "flag": i % 2 == 0} for i in range(1, 1001)]
    )
    url = services.location.db_url
    services.close()
    return url


@pytest.fixture
def grid_model(filled: str) -> Iterator[Callable[[], GridModel]]:
    """A grid over the filled table, on the services and operations a window gives it."""
    services = open_services(db_url=filled)
    ops = Operations()
    made: list[GridModel] = []

    def make() -> GridModel:
        made.append(GridModel(services.tables, ops))
        return made[-1]

    yield make
    ops.shutdown()
    services.close()


def visible(model: GridModel, row: int, column: str) -> Any:
    names = [c.name for c in model.columns]
    return model.data(model.index(row, names.index(column)))


def load_all(qtbot: Any, model: GridModel, rows: list[int]) -> None:
    for row in rows:
        model.data(model.index(row, 0))
    qtbot.waitUntil(lambda: all(model.is_loaded(r) for r in rows), timeout=10000)


def test_grid_model_passes_qtmodeltester(
    qtbot: Any, qtmodeltester: Any, grid_model: Callable[[], GridModel]
) -> None:
    model = grid_model()
    model.set_view(View("Things"))
    qtbot.waitUntil(lambda: model.rowCount() == 1000, timeout=5000)
    load_all(qtbot, model, [0, 999])
    qtmodeltester.check(model, force_py=True)
    model.close()


def test_record_model_passes_qtmodeltester(qtmodeltester: Any) -> None:
    model = RecordModel[tuple[str, int]]([Column("A", lambda r: r[0]), Column("B", lambda r: r[1])])
    model.set_records([("x", 1), ("y", 2)])
    qtmodeltester.check(model, force_py=True)


def test_pages_load_lazily_and_the_last_row_directly(
    qtbot: Any, grid_model: Callable[[], GridModel]
) -> None:
    model = grid_model()
    model.set_view(View("Things"))
    qtbot.waitUntil(lambda: model.rowCount() == 1000, timeout=5000)
    assert model.data(model.index(500, 0)) == LOADING  # not fetched yet
    load_all(qtbot, model, [999])
    assert visible(model, 999, "n") == "1000"
    assert model.is_loaded(500) and not model.is_loaded(PAGE * 3 + 50)  # only what was asked
    load_all(qtbot, model, [450])  # far from any loaded page: by id
    assert visible(model, 450, "n") == "451"
    model.set_view(View("Things", sort="n", descending=True))
    qtbot.waitUntil(lambda: model.is_loaded(0), timeout=5000)
    load_all(qtbot, model, [650])  # by anchor: the first key of every page
    assert visible(model, 650, "n") == "350"
    model.close()


def test_sort_filter_edit_conflict_and_delete(
    qtbot: Any, grid_model: Callable[[], GridModel], home: Path
) -> None:
    from PySide6.QtCore import Qt

    model = grid_model()
    errors: list[str] = []
    model.error_raised.connect(errors.append)
    model.set_view(View("Things"))
    qtbot.waitUntil(lambda: model.rowCount() == 1000, timeout=5000)
    names = [c.name for c in model.columns]
    model.sort(names.index("n"), Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: model.rowCount() == 1000, timeout=5000)
    load_all(qtbot, model, [0])
    assert visible(model, 0, "n") == "1000"

    from console.core.tables.browse import Filter

    model.set_view(View("Things", filters=(Filter("word", "equals", "w3"),)))
    qtbot.waitUntil(lambda: model.rowCount() == 100, timeout=5000)
    load_all(qtbot, model, [0])
    assert visible(model, 0, "word") == "w3"

    # A bad value is refused beside the grid; nothing is written.
    n_column = [c.name for c in model.columns].index("n")
    assert not model.setData(model.index(0, n_column), "not a number")
    assert "is not a whole number" in errors[-1]
    id_column = [c.name for c in model.columns].index("id")
    assert not model.setData(model.index(0, id_column), "7")
    assert "system column" in errors[-1]

    # Someone else edits the row first: our edit is refused and the row reloaded.
    row_id = int(visible(model, 0, "id"))
    other = open_services(home)
    open_table(other.tables, "Things").update({"id": row_id, "n": -1})
    assert model.setData(model.index(0, n_column), "5")
    qtbot.waitUntil(lambda: any("changed by someone else" in e for e in errors), timeout=5000)
    load_all(qtbot, model, [0])
    assert visible(model, 0, "n") == "-1"
    assert model.setData(model.index(0, n_column), "5")
    qtbot.waitUntil(lambda: visible(model, 0, "n") == "5", timeout=5000)
    assert open_table(other.tables, "Things").where(id=row_id).read()[0]["n"] == 5

    model.delete_rows([0, 1])
    qtbot.waitUntil(lambda: model.rowCount() == 98, timeout=5000)
    assert open_table(other.tables, "Things").count() == 998
    other.close()
    model.close()


def show_table(window: MainWindow, qtbot: Any, name: str) -> DataPage:
    window.show_page("Data")
    page = window.pages["Data"]
    assert isinstance(page, DataPage)
    qtbot.waitUntil(lambda: page.tables.rowCount() >= 1, timeout=5000)
    page.open_table(name)
    return page


def test_export_writes_the_current_view(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    tables = window.services.tables
    tables.create("Things")
    open_table(tables, "Things").insert_many([{"n": i, "text": f"line, {i}"} for i in range(2500)])
    page = show_table(window, qtbot, "Things")
    grid = page.table_view
    qtbot.waitUntil(lambda: grid.model.rowCount() == 2500, timeout=5000)
    target = tmp_path / "things.csv"
    with qtbot.waitSignal(grid.exported, timeout=20000) as ended:
        grid.export_to(target)
    assert ended.args == ["exported 2,500 rows to things.csv"]
    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2500
    assert rows[7]["text"] == "line, 7"


def test_new_rows_from_a_job_show_without_losing_the_place(window: MainWindow, qtbot: Any) -> None:
    services = window.services
    services.tables.create("Things")
    open_table(services.tables, "Things").insert_many([{"n": i} for i in range(300)])
    page = show_table(window, qtbot, "Things")
    grid = page.table_view
    qtbot.waitUntil(lambda: grid.model.rowCount() == 300, timeout=5000)
    grid.grid.scrollToBottom()
    services.jobs.create(
        "adder",
        script="def adder():\n    tables.get_table('Things').insert_many("
        "[{'n': 1000 + i} for i in range(12)])\n",
    )
    assert services.runner.run("adder").status == "succeeded"
    qtbot.waitUntil(lambda: grid.new_rows.isVisible(), timeout=10000)
    assert grid.new_rows.text() == "12 new rows"
    assert grid.model.rowCount() == 300  # the user's view is untouched until asked
    grid.new_rows.click()
    qtbot.waitUntil(lambda: grid.model.rowCount() == 312, timeout=5000)
    assert not grid.new_rows.isVisible()


def test_sorted_jumps_show_the_right_rows_after_inserts_and_deletes(
    qtbot: Any, grid_model: Callable[[], GridModel], filled: str
) -> None:
    other = open_services(db_url=filled)
    table = open_table(other.tables, "Things")
    other.tables.set_index("Things", "word")  # a seek per jump; "n" keeps the pass
    table.insert_many([{"n": i, "word": f"w{i % 10}"} for i in range(1001, 2001)])

    def in_order(sort: str) -> list[int]:
        rows = table.read()
        return [r["id"] for r in sorted(rows, key=lambda r: (r[sort], r["id"]))]

    def shown(model: GridModel, first: int, last: int) -> list[int]:
        load_all(qtbot, model, [first])  # the jump
        load_all(qtbot, model, [*range(first, last, 50), last - 1])  # scrolling on
        return [int(visible(model, r, "id")) for r in range(first, last)]

    for sort in ("word", "n"):
        model = grid_model()
        model.set_view(View("Things", sort=sort))
        qtbot.waitUntil(lambda m=model: m.is_loaded(0), timeout=5000)  # type: ignore[misc]
        assert model.jumps_seek == (sort == "word")
        reading: list[bool] = []
        model.loading_changed.connect(reading.append)
        assert shown(model, 1400, 1460) == in_order(sort)[1400:1460]
        # the pass over the keys shows as the view's reading (busy, Cancel); a seek does not
        qtbot.waitUntil(lambda m=model: not m.loading, timeout=5000)  # type: ignore[misc]
        assert reading == ([] if sort == "word" else [True, False])
        # Another writer moves rows before and after the place jumped to.
        ids = in_order(sort)
        table.delete_many(ids[100:130] + ids[810:820])
        table.insert_many([{"n": 0, "word": "w0"}] * 25 + [{"n": 850, "word": "w4"}] * 15)
        model.check_new_rows()  # what the page does on the change event
        want = in_order(sort)
        assert shown(model, 800, 1100) == want[800:1100]  # no row twice, none missing
        model.close()
    other.close()


def test_a_jump_in_an_unindexed_sort_shows_its_rows_while_rows_arrive(
    qtbot: Any, grid_model: Callable[[], GridModel], filled: str
) -> None:
    other = open_services(db_url=filled)
    table = open_table(other.tables, "Things")
    model = grid_model()
    model.set_view(View("Things", sort="n"))  # "n" has no index: a jump is a pass
    qtbot.waitUntil(lambda: model.is_loaded(0) and not model.loading, timeout=5000)
    found: list[int] = []
    model.new_rows_found.connect(found.append)

    def rows_arrive(passing: bool) -> None:
        if passing:  # another writer adds rows (after the place jumped to) during the pass
            table.insert_many([{"n": 5000 + i} for i in range(3)])
            model.check_new_rows()  # what the page does on the change event

    model.loading_changed.connect(rows_arrive)
    model.set_visible(700, 730)  # the scrollbar jumped there
    load_all(qtbot, model, [700, 730])
    qtbot.waitUntil(lambda: not model.loading and found == [3], timeout=5000)
    assert [visible(model, r, "n") for r in (700, 730)] == ["701", "731"]
    other.close()


def test_the_rows_in_view_are_asked_for_before_any_paint(
    qtbot: Any, grid_model: Callable[[], GridModel]
) -> None:
    model = grid_model()
    model.set_view(View("Things"))
    qtbot.waitUntil(lambda: model.is_loaded(0), timeout=5000)
    assert not model.set_visible(700, 730)  # not read yet: asked for now, by no cell
    qtbot.waitUntil(lambda: model.is_loaded(700) and model.is_loaded(730), timeout=5000)
    assert model.set_visible(700, 730)
    assert visible(model, 730, "n") == "731"


class Paints(QObject):
    """Each paint of a grid: whether every row in view was loaded then."""

    def __init__(self, grid: GridView) -> None:
        super().__init__(grid)
        self.grid, self.loaded = grid, list[bool]()
        grid.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            top, bottom = self.grid._rows_in_view()
            model = self.grid.model()
            assert isinstance(model, GridModel)
            self.loaded.append(model.is_loaded(top) and model.is_loaded(bottom))
        return False


def data_jumps(window: MainWindow) -> Any:
    """The Data page grid's reads of the pages a jump lands on."""
    page = window.pages["Data"]
    assert isinstance(page, DataPage)
    return page.table_view.model._jumps


def jump_to_the_end(
    window: MainWindow, qtbot: Any, hold_ms: int | None = None
) -> tuple[GridView, Paints]:
    tables = window.services.tables
    tables.create("Things")
    open_table(tables, "Things").insert_many([{"n": i} for i in range(3000)])
    page = show_table(window, qtbot, "Things")
    grid, model = page.table_view.grid, page.table_view.model
    qtbot.waitUntil(lambda: model.rowCount() == 3000 and model.is_loaded(0), timeout=5000)
    qtbot.wait(50)  # the first rows painted
    paints = Paints(grid)
    if hold_ms is not None:
        grid._hold.setInterval(hold_ms)  # the logic, not this machine's speed, decides
    bar = grid.verticalScrollBar()
    bar.setValue(bar.maximum())
    return grid, paints


def test_a_jump_paints_its_rows_once_they_come_with_no_loading_frame(
    window: MainWindow, qtbot: Any
) -> None:
    grid, paints = jump_to_the_end(window, qtbot, hold_ms=20_000)
    assert grid.holding  # the last rows are not read yet: the grid waits for them
    qtbot.waitUntil(lambda: not grid.holding, timeout=5000)
    qtbot.waitUntil(lambda: bool(paints.loaded), timeout=5000)
    assert all(paints.loaded)  # never "loading…" in place of the rows
    assert grid.model().data(grid.model().index(2999, 1)) == "2999"


def test_a_jump_whose_rows_are_slow_shows_them_loading_after_the_hold(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    let_go = threading.Event()
    jumps = data_jumps(window)
    choose = jumps.choose

    def slow(*args: Any) -> Any:  # the database takes its time over this page
        read = choose(*args)
        return lambda progress: let_go.wait(10) and read(progress)

    monkeypatch.setattr(jumps, "choose", slow)
    grid, paints = jump_to_the_end(window, qtbot)
    bar = grid.verticalScrollBar()
    for k in range(1, 9):  # the thumb dragged on, over rows that do not come either
        qtbot.wait(20)
        bar.setValue(bar.maximum() - k * 100)
    assert paints.loaded[:1] == [False]  # shown loading during the drag, not after it
    qtbot.waitUntil(lambda: not grid.holding, timeout=5000)
    bar.setValue(bar.maximum() - 1000)  # the reads are slow now: the next jump is not held
    assert not grid.holding
    assert grid.model().data(grid.model().index(2999, 0)) == LOADING
    let_go.set()
    qtbot.waitUntil(lambda: paints.loaded[-1:] == [True], timeout=5000)


def test_back_to_rows_already_read_ends_the_hold_at_once(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    let_go = threading.Event()
    monkeypatch.setattr(
        data_jumps(window), "choose", lambda *_args: lambda _progress: let_go.wait(10) and []
    )
    grid, paints = jump_to_the_end(window, qtbot, hold_ms=20_000)
    assert grid.holding
    grid.verticalScrollBar().setValue(0)  # Ctrl+Home, while the last rows are still read
    assert not grid.holding
    qtbot.waitUntil(lambda: bool(paints.loaded), timeout=5000)
    assert paints.loaded[0]  # the first rows, painted at once
    let_go.set()


def test_rows_no_read_will_bring_are_not_waited_for(
    qtbot: Any, grid_model: Callable[[], GridModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = grid_model()
    model.set_view(View("Things"))
    qtbot.waitUntil(lambda: model.is_loaded(0), timeout=5000)
    monkeypatch.setattr(model._jumps, "choose", lambda *_args: lambda _progress: [])
    assert not model.set_visible(700, 730)  # asked, on its way
    qtbot.waitUntil(lambda: model.set_visible(700, 730), timeout=5000)  # read, and empty
    assert not model.is_loaded(700)


def test_another_sort_of_the_same_rows_keeps_the_exact_count_until_rows_change(
    qtbot: Any, grid_model: Callable[[], GridModel], filled: str
) -> None:
    model = grid_model()
    counts: list[tuple[int, bool]] = []
    model.count_changed.connect(lambda count, exact: counts.append((count, exact)))
    words = (Filter("word", "contains", "w"),)  # a filtered view is counted after its rows
    model.set_view(View("Things", filters=words))
    qtbot.waitUntil(lambda: model.exact, timeout=5000)
    assert counts[-2:] == [(200, False), (1000, True)]
    counts.clear()
    model.set_view(View("Things", sort="n", descending=True, filters=words))
    qtbot.waitUntil(lambda: model.is_loaded(0) and model.exact, timeout=5000)
    assert counts == [(1000, True)]  # at once: the same rows, sorted another way
    other = open_services(db_url=filled)
    open_table(other.tables, "Things").insert_many([{"n": 5000, "word": "w"}])
    other.close()
    model.check_new_rows()  # what the page does on the change event
    counts.clear()
    model.set_view(View("Things", sort="n", filters=words))
    qtbot.waitUntil(lambda: model.exact, timeout=5000)
    assert counts[-2:] == [(200, False), (1001, True)]
    model.close()
