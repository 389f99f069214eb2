"""History › a run › HTTP, Rows and Script, a Data row's way to the run
that wrote it, and the Debug pane as a DAP client of a job's debugged
child, in a real window offscreen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from console.core.jobs.job_store import Job
from console.gui.debug_pane import DebugPane
from console.gui.main_window import MainWindow
from console.gui.pages.data import DataPage
from console.gui.pages.scheduler import SchedulerPage
from tests.fakes.echo_site import EchoSite

FETCH = """import requests
def fetch():
    r = requests.get(URL + "/api?q=1")
    print("got", r.status_code)
"""

COUNTER = """def counter():
    total = 0
    for n in range(5):
        total += n
    words = "total is " + str(total)
    print(words)
"""


def open_job(window: MainWindow, job: Job) -> SchedulerPage:
    """The Scheduler page with `job` open, as a click in its list leaves it."""
    window.show_page("Scheduler")
    page = window.pages["Scheduler"]
    assert isinstance(page, SchedulerPage)
    page.open_job(job)
    return page


def press_f5(window: MainWindow, qtbot: Any, editor: Any) -> None:
    """F5 in the Script tab's editor, with the window active and the editor focused."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus, timeout=5000)
    qtbot.keyClick(editor, Qt.Key.Key_F5)


@pytest.fixture
def site() -> Iterator[EchoSite]:
    served = EchoSite()
    yield served
    served.stop()


def test_history_shows_a_runs_http_and_one_exchange(
    window: MainWindow, qtbot: Any, site: EchoSite
) -> None:
    services = window.services
    assert services is not None
    script = f"URL = {site.url('')!r}\n{FETCH}"
    job = services.jobs.create("fetch", interval=1, unit="hour", script=script)
    run = services.runner.run("fetch")
    assert run.status == "succeeded"
    page = open_job(window, job)
    page.job_view.tabs.setCurrentIndex(2)
    history = page.job_view.history
    history.run_tabs.setCurrentIndex(1)
    view = history.http_view
    qtbot.waitUntil(lambda: len(view.model.records()) == 1, timeout=10000)
    cells = [view.model.index(0, c).data() for c in range(view.model.columnCount())]
    assert [str(c) for c in cells[:3]] == ["GET", site.url("/api?q=1"), "200"]
    detail = view.detail.toPlainText()
    assert detail.startswith(f"GET {site.url('/api?q=1')}")
    assert "HTTP 200 OK" in detail and '"echo": "tok-9f8e7d6c"' in detail


def test_the_debug_pane_stops_shows_locals_evaluates_and_continues(
    window: MainWindow, qtbot: Any
) -> None:
    services = window.services
    assert services is not None
    job = services.jobs.create("counter", interval=1, unit="hour", script=COUNTER)
    pane = DebugPane(services, window.tasks)
    qtbot.addWidget(pane)
    lines: list[int] = []
    pane.current_line.connect(lines.append)
    ended: list[Any] = []
    pane.finished.connect(ended.append)
    assert pane.start(job, breakpoints=[5])
    qtbot.waitUntil(lambda: lines == [5], timeout=20000)
    assert pane.stack.item(0).text() == "counter  (line 5)"
    qtbot.waitUntil(lambda: pane.values().get("total") == "10", timeout=10000)
    pane.expression.setText("total * 2")
    pane.evaluate()
    qtbot.waitUntil(lambda: pane.result.text() == "20", timeout=10000)
    assert pane.buttons["Continue"].isEnabled()
    pane.buttons["Continue"].click()
    qtbot.waitUntil(lambda: bool(ended), timeout=20000)
    assert ended[0] is not None and ended[0].status == "succeeded"
    assert pane.status.text() == "The run succeeded."


def test_the_debug_pane_refuses_a_javascript_job(window: MainWindow, qtbot: Any) -> None:
    services = window.services
    assert services is not None
    job = services.jobs.create(
        "js", interval=1, unit="hour", script="function js() {}\n", language="javascript"
    )
    pane = DebugPane(services, window.tasks)
    qtbot.addWidget(pane)
    assert not pane.start(job, breakpoints=[1])
    assert pane.error.text() == "js: debugging is for Python jobs for now"


FAILING = """def helper(items):
    limit = len(items)
    return items[limit]

def failing():
    return helper([1, 2, 3])
"""


def test_debug_this_run_stops_where_the_failed_run_raised(window: MainWindow, qtbot: Any) -> None:
    services = window.services
    assert services is not None
    job = services.jobs.create("failing", interval=1, unit="hour", script=FAILING)
    assert services.runner.run("failing").status == "failed"
    page = open_job(window, job)
    view = page.job_view
    view.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: view.history.debug_button.isEnabled(), timeout=10000)
    lines: list[int] = []
    view.debugger.current_line.connect(lines.append)
    view.history.debug_button.click()
    assert view.tabs.currentIndex() == 1 and view.debugger.isVisibleTo(view)
    qtbot.waitUntil(lambda: lines == [3], timeout=20000)
    qtbot.waitUntil(lambda: view.debugger.values().get("limit") == "3", timeout=10000)
    assert view.debugger.status.text().startswith("Paused")
    view.debugger.buttons["Stop"].click()
    qtbot.waitUntil(lambda: view.debugger.run_handle is None, timeout=20000)
    assert services.runs.runs(job.id)[0].status == "cancelled"


def test_f5_in_the_script_tab_runs_the_job_under_the_debugger(
    window: MainWindow, qtbot: Any
) -> None:

    services = window.services
    assert services is not None
    job = services.jobs.create("counter", interval=1, unit="hour", script=COUNTER)
    page = open_job(window, job)
    view = page.job_view
    view.tabs.setCurrentIndex(1)
    ended: list[Any] = []
    view.debugger.finished.connect(ended.append)
    press_f5(window, qtbot, view.script.editor)
    assert view.debugger.isVisibleTo(view)
    qtbot.waitUntil(lambda: bool(ended), timeout=20000)  # no breakpoint: it runs through
    assert ended[0].trigger == "debug" and ended[0].status == "succeeded"


def test_a_click_in_the_margin_sets_a_breakpoint_and_f5_stops_there(
    window: MainWindow, qtbot: Any
) -> None:
    from PySide6.QtCore import QPoint

    services = window.services
    assert services is not None
    job = services.jobs.create("counter", interval=1, unit="hour", script=COUNTER)
    page = open_job(window, job)
    view = page.job_view
    view.tabs.setCurrentIndex(1)
    editor = view.script.editor
    margin = editor._margin  # the line-number margin the user clicks
    line_5 = editor.document().findBlockByNumber(4)
    y = round(editor.blockBoundingGeometry(line_5).translated(editor.contentOffset()).center().y())
    qtbot.mouseClick(margin, Qt.MouseButton.LeftButton, pos=QPoint(6, y))
    assert editor.breakpoints == {5}
    ended: list[Any] = []
    view.debugger.finished.connect(ended.append)
    press_f5(window, qtbot, editor)
    qtbot.waitUntil(lambda: editor.debug_line == 5, timeout=20000)  # the stopped line, marked
    assert editor.textCursor().blockNumber() == 4
    continue_button = view.debugger.buttons["Continue"]
    qtbot.waitUntil(continue_button.isEnabled, timeout=10000)
    continue_button.click()
    qtbot.waitUntil(lambda: bool(ended), timeout=20000)
    assert ended[0].status == "succeeded"
    qtbot.waitUntil(lambda: editor.debug_line is None, timeout=5000)  # the mark goes with it
    qtbot.mouseClick(margin, Qt.MouseButton.LeftButton, pos=QPoint(6, y))
    assert editor.breakpoints == set()  # a second click clears it


def test_history_replay_runs_the_script_offline_as_a_dry_run(
    window: MainWindow, qtbot: Any, site: EchoSite
) -> None:
    services = window.services
    assert services is not None
    script = (
        f"import requests\nURL = {site.url('')!r}\n"
        "def fetched():\n"
        "    answer = requests.get(URL + '/api?q=1').json()\n"
        "    tables.get_table('Answers', create=True).insert({'ok': answer['ok']})\n"
    )
    job = services.jobs.create("fetched", interval=1, unit="hour", script=script)
    first = services.runner.run("fetched")
    assert first.status == "succeeded"
    site.stop()  # offline from now on: only the recording can answer
    page = open_job(window, job)
    view = page.job_view
    view.tabs.setCurrentWidget(view.history)
    history = view.history
    qtbot.waitUntil(lambda: history.replay_button.isEnabled(), timeout=10000)
    qtbot.mouseClick(history.replay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.tabs.currentWidget() is view.dry_run, timeout=30000)
    assert "Answers" in view.dry_run.summary.text() and "1 inserted" in view.dry_run.summary.text()
    runs = services.runs.runs(job.id)
    assert runs[0].trigger == "dry run" and runs[0].status == "succeeded"
    from console.core.tables.api import open_table

    assert open_table(services.tables, "Answers").count() == 1  # only the first run's row


def test_history_shows_the_rows_a_run_wrote_and_its_script_since(
    window: MainWindow, qtbot: Any
) -> None:
    services = window.services
    assert services is not None
    script = "def writer():\n    tables.get_table('Notes', create=True).insert({'text': 'hi'})\n"
    job = services.jobs.create("writer", interval=1, unit="hour", script=script)
    run = services.runner.run("writer")
    assert run.status == "succeeded"
    services.jobs.set_script("writer", script.replace("'hi'", "'hello'"))  # saved since
    window.show_page("Data")
    data = window.pages["Data"]
    assert isinstance(data, DataPage)
    data.open_table("Notes")
    grid = data.table_view.grid
    qtbot.waitUntil(lambda: grid.model().is_loaded(0), timeout=10000)
    (action,) = grid.row_menu(0).actions()  # the row's context menu
    assert action.text() == f"Open run {run.id} in History (it wrote this row)"
    action.trigger()
    page = window.pages["Scheduler"]
    assert isinstance(page, SchedulerPage)
    history = page.job_view.history
    qtbot.waitUntil(lambda: page.job_view.tabs.currentWidget() is history, timeout=10000)
    assert page.job_view.job is not None and page.job_view.job.id == job.id
    qtbot.waitUntil(lambda: history.runs_view.currentIndex().isValid(), timeout=10000)
    assert history.runs.record(history.runs_view.currentIndex().row()).id == run.id
    history.run_tabs.setCurrentWidget(history.run_rows_view)
    qtbot.waitUntil(lambda: len(history.run_rows.records()) == 1, timeout=10000)
    cells = [history.run_rows.index(0, c).data() for c in range(3)]
    assert [str(c) for c in cells] == ["Notes", "1", "text=hi"]
    history.run_tabs.setCurrentWidget(history.script_diff)
    qtbot.waitUntil(lambda: "changed since" in history.script_diff.toPlainText(), timeout=10000)
    shown = history.script_diff.toPlainText()
    assert "This run ran version 1; the current script is version 2" in shown
    assert "-    tables.get_table('Notes', create=True).insert({'text': 'hi'})" in shown
    assert "+    tables.get_table('Notes', create=True).insert({'text': 'hello'})" in shown


def test_the_platform_is_the_one_asked_for(window: MainWindow) -> None:
    """tests/desktop/test_debug_window.py runs these tests on xcb, a real X
    display: it must not quietly fall back to drawing offscreen."""
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.platformName() == os.environ.get("QT_QPA_PLATFORM", "offscreen")
