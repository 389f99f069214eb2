"""A cancel stops the query in flight, not only the next step."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from console.core.store.cancel import Cancel, Cancelled


def test_a_cancel_interrupts_a_running_sqlite_query() -> None:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    cancel = Cancel()
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )
    running = threading.Event()
    conn.set_progress_handler(running.set, 10_000)  # called once the query is under way
    failed: list[BaseException] = []

    def query() -> None:
        with cancel.interrupts(conn.interrupt):
            try:
                conn.execute(endless).fetchall()
            except sqlite3.OperationalError as e:
                failed.append(e)

    worker = threading.Thread(target=query, daemon=True)
    worker.start()
    assert running.wait(timeout=30)
    cancel.set()
    worker.join(timeout=30)
    assert not worker.is_alive()  # without the hook the query would never end
    assert failed and "interrupted" in str(failed[0])


def test_work_registered_after_the_cancel_is_stopped_at_once() -> None:
    cancel = Cancel()
    cancel.set()
    stopped: list[str] = []
    with cancel.interrupts(lambda: stopped.append("stopped")):
        pass
    assert stopped == ["stopped"]
    with pytest.raises(Cancelled):
        cancel.check()


def test_a_hook_that_fails_does_not_stop_the_others_or_the_cancel() -> None:
    cancel = Cancel()
    called: list[str] = []

    def too_late() -> None:
        raise RuntimeError("nothing left to stop")

    with cancel.interrupts(too_late), cancel.interrupts(lambda: called.append("second")):
        cancel.set()
    assert called == ["second"] and cancel.is_set()
