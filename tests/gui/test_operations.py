"""The one way off the GUI thread: success, failure, progress and cancel come
back on the GUI thread; closing joins every worker and delivers nothing after."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThread

from console.app import open_services
from console.core.tables.browse import Browser, View
from console.gui.operations import Op, Operations, Progress


@pytest.fixture
def ops() -> Any:
    operations = Operations()
    yield operations
    operations.shutdown()


def on_gui_thread() -> bool:
    return QThread.currentThread() is QThread.currentThread().thread() and (
        threading.current_thread() is threading.main_thread()
    )


def test_success_and_progress_arrive_on_the_gui_thread(qtbot: Any, ops: Operations) -> None:
    seen: list[Any] = []
    threads: list[bool] = []

    def work(progress: Progress) -> str:
        threads.append(on_gui_thread())
        for step in range(3):
            progress.report(step)
        return "done"

    def progressed(step: int) -> None:
        threads.append(on_gui_thread())
        seen.append(step)

    with qtbot.waitCallback(timeout=5000) as finished:
        ops.run(Op(work, success=finished, progress=progressed))
    finished.assert_called_with("done")
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=5000)
    assert seen == [0, 1, 2]
    assert threads == [False, True, True, True]  # worked off it, reported on it


def test_a_failure_reaches_its_callback_or_the_window(qtbot: Any, ops: Operations) -> None:
    def work(_progress: Progress) -> None:
        raise ValueError("no such thing")

    with qtbot.waitCallback(timeout=5000) as failed:
        ops.run(Op(work, failure=failed))
    assert str(failed.args[0]) == "no such thing"
    with qtbot.waitSignal(ops.failed, timeout=5000) as told:
        ops.run(Op(work))  # nobody asked: said in one line (the window's status bar)
    assert told.args == ["ValueError: no such thing"]


def test_cancel_interrupts_a_running_query(
    qtbot: Any, ops: Operations, home: Path, db_url: str
) -> None:
    services = open_services(home, db_url)
    services.tables.create("Big")
    browser = Browser(services.tables)
    started = threading.Event()
    # An endless query: a recursive CTE that never stops, interrupted by the cancel.
    import sqlalchemy as sa

    def work(progress: Progress) -> int:
        with services.store.read(progress.cancel) as conn:
            started.set()
            endless = sa.text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                "SELECT count(*) FROM n"
            )
            return int(conn.execute(endless).scalar_one())

    results: list[str] = []
    with qtbot.waitCallback(timeout=10000) as cancelled:
        handle = ops.run(
            Op(work, success=lambda _n: results.append("success"), cancelled=cancelled)
        )
        assert started.wait(5)
        handle.cancel()
    assert results == []
    # The connection is usable again afterwards.
    assert browser.count(View("Big")) == 0
    services.close()


def test_a_lane_runs_in_order_and_drops_what_is_no_longer_wanted(
    qtbot: Any, ops: Operations
) -> None:
    gate = threading.Event()
    ran: list[int] = []
    dropped: list[int] = []
    wanted = {0, 2}
    ops.run(Op(lambda _p: gate.wait(5)), lane="pages")  # holds the lane
    for page in range(4):
        ops.run(
            Op(
                lambda _p, page=page: ran.append(page),
                cancelled=lambda page=page: dropped.append(page),
                wanted=lambda page=page: page in wanted,
            ),
            lane="pages",
        )
    wanted.add(3)  # scrolled to before it ran
    gate.set()
    qtbot.waitUntil(lambda: len(ran) + len(dropped) == 4, timeout=5000)
    assert ran == [0, 2, 3]
    assert dropped == [1]


def test_closing_joins_every_worker_and_delivers_nothing_after(qtbot: Any) -> None:
    ops = Operations()
    release = threading.Event()
    delivered: list[str] = []
    saved: list[str] = []
    running = threading.Event()

    def read(progress: Progress) -> str:
        running.set()
        while not progress.cancelled:
            release.wait(0.01)
        return "read"

    def save(_progress: Progress) -> str:
        release.wait(5)
        saved.append("saved")  # the user's work is finished, not dropped
        return "saved"

    before = {t.ident for t in threading.enumerate()}
    ops.run(Op(read, success=delivered.append, progress=delivered.append))
    ops.run(Op(save, success=delivered.append, finish_on_close=True), lane="saves")
    assert running.wait(5)
    threading.Timer(0.05, release.set).start()
    ops.shutdown()
    assert saved == ["saved"]
    workers = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert [t.name for t in workers if t.name.startswith(("op-", "lane-"))] == []
    qtbot.wait(50)  # let any queued delivery come: none may
    assert delivered == []
    handle = ops.run(Op(lambda _p: delivered.append("late")))
    assert handle.cancelled  # nothing new runs once closed
    ops.deleteLater()
