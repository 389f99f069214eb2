"""Dry Run from the window: beside Run Once (Ctrl+Shift+R), the job runs,
nothing is written, and the Dry run pane shows one grid per table."""

from __future__ import annotations

from typing import Any

from console.core.tables.api import open_table
from console.gui.dry_run_pane import row_colour
from console.gui.main_window import MainWindow
from console.gui.pages.job_history import HistoryTab
from console.gui.pages.scheduler import SchedulerPage


def stock_and_a_job(services: Any, more: str) -> None:
    """A Stock table of rows 1 and 2, and a job "work" that inserts a row,
    then does `more` with the table `t`."""
    services.tables.create("Stock")
    open_table(services.tables, "Stock").insert_many([{"n": 1}, {"n": 2}])
    services.jobs.create("work")
    services.jobs.set_script(
        "work", "def work():\n    t = tables.get_table('Stock')\n    t.insert({'n': 3})\n" + more
    )


def test_dry_run_shows_the_rows_and_writes_nothing(window: MainWindow, qtbot: Any) -> None:
    services = window.services
    stock_and_a_job(services, "    t.update({'id': 1, 'n': 10})\n    t.delete(2)\n")
    window.show_page("Scheduler")
    page = window.pages["Scheduler"]
    assert isinstance(page, SchedulerPage)
    page.open_job(services.jobs.get("work"))
    action = window.command_bar.actions_by_name["Dry Run"]
    assert action.shortcut().toString() == "Ctrl+Shift+R"

    action.trigger()

    pane = page.job_view.dry_run
    qtbot.waitUntil(lambda: pane.grid("Stock") is not None, timeout=20000)
    assert "1 inserted, 1 updated, 1 deleted" in pane.summary.text()
    grid = pane.grid("Stock")
    assert grid is not None
    kinds = [grid.item(r, 0).text() for r in range(grid.rowCount())]
    assert kinds == ["inserted", "updated", "deleted"]
    assert grid.item(0, 0).background().color() == row_colour("inserted")
    assert [r["n"] for r in open_table(services.tables, "Stock").read()] == [1, 2]
    qtbot.waitUntil(lambda: not page.control.is_running("work"), timeout=10000)
    assert services.runs.runs()[0].trigger == "dry run"
    # Tab reaches the pane's grid (made after the window) before the commands.
    chain, widget = [], window.nextInFocusChain()
    while widget is not window:
        chain.append(widget)
        widget = widget.nextInFocusChain()
    commands = [chain.index(b) for b in window.command_bar.buttons.values()]
    assert chain.index(page.job_view.tabs) < chain.index(grid) < min(commands)


def undo_from_history(window: MainWindow, qtbot: Any) -> HistoryTab:
    """Undo run 1 of "work" with History's Undo run button; its History pane
    once it says what it did."""
    window.show_page("Scheduler")
    page = window.pages["Scheduler"]
    assert isinstance(page, SchedulerPage)
    page.open_job(window.services.jobs.get("work"))
    history = page.job_view.history
    qtbot.waitUntil(lambda: history.runs.rowCount() == 1, timeout=10000)
    history.runs_view.setCurrentIndex(history.runs.index(0, 0))
    history.undo_button.click()
    qtbot.waitUntil(lambda: "Undid run" in history.undo_message.text(), timeout=10000)
    return history


def test_undo_run_from_history(window: MainWindow, qtbot: Any) -> None:
    services = window.services
    stock_and_a_job(services, "    t.update({'id': 1, 'n': 10})\n")
    assert services.runner.run("work").status == "succeeded"
    history = undo_from_history(window, qtbot)

    assert "1 deleted, 1 restored" in history.undo_message.text()
    assert [r["n"] for r in open_table(services.tables, "Stock").read()] == [1, 2]
    qtbot.waitUntil(lambda: history.runs.rowCount() == 2, timeout=10000)
    assert history.runs.record(0).trigger == "undo"


def test_a_scheduled_run_due_during_a_dry_run_waits_and_the_window_says_so(
    window: MainWindow, qtbot: Any, tmp_path: Any
) -> None:
    """On SQLite a dry run holds the write lock while it runs: a scheduled
    run due meanwhile starts when it ends, late but not failed, and the
    status bar says what waits."""
    from tests.integration.test_workers import make_due

    services = window.services
    go, holding = tmp_path / "go", tmp_path / "holding"
    stock_and_a_job(
        services,
        "    import os, time\n"
        f"    open({str(holding)!r}, 'w').close()\n"  # its insert holds the lock now
        f"    while not os.path.exists({str(go)!r}):\n"
        "        time.sleep(0.05)\n",
    )
    window.show_page("Scheduler")
    page = window.pages["Scheduler"]
    assert isinstance(page, SchedulerPage)
    page.open_job(services.jobs.get("work"))
    messages: list[str] = []
    window.scheduler_notice.connect(messages.append)
    # Due before the dry run takes the lock (nothing can be written after),
    # claimed only once it holds it.
    window.scheduler.pause()
    make_due(services, "ticker", "def ticker():\n    tables.get_table('Stock').insert({'n': 9})\n")
    window.command_bar.actions_by_name["Dry Run"].trigger()
    qtbot.waitUntil(holding.exists, timeout=20000)
    assert services.runner.holding == "work"
    window.scheduler.resume()
    qtbot.waitUntil(
        lambda: any("waiting: the dry run of work" in m for m in messages), timeout=10000
    )
    assert "waiting: the dry run of work" in window.statusBar().currentMessage()
    assert [r.job_name for r in services.runs.runs()] == ["work"]  # the tick waits
    go.touch()
    qtbot.waitUntil(
        lambda: (
            [(r.job_name, r.status) for r in services.runs.runs()][:1] == [("ticker", "succeeded")]
        ),
        timeout=20000,
    )
    assert "the dry run ended; scheduled runs go on" in messages
    assert sorted(r["n"] for r in open_table(services.tables, "Stock").read()) == [1, 2, 9]


def test_an_undo_that_leaves_rows_alone_names_a_few_and_counts_the_rest(
    window: MainWindow, qtbot: Any
) -> None:
    services = window.services
    services.tables.create("Stock")
    services.jobs.create("work")
    services.jobs.set_script(
        "work",
        "def work():\n    tables.get_table('Stock').insert_many([{'n': i} for i in range(8)])\n",
    )
    assert services.runner.run("work").status == "succeeded"
    stock = open_table(services.tables, "Stock")
    stock.where(n__lt=7).update(n=-1)  # a person's edit of 7 of its 8 rows
    history = undo_from_history(window, qtbot)

    said = history.undo_message.text()
    assert "1 deleted, 0 restored; 7 changed since, left alone: Stock 1, Stock 2" in said
    assert "Stock 5 and 2 more" in said and "Stock 6" not in said
    assert "run undo 1 --force" in said
    assert len(stock.read()) == 7
