"""A job's retries on its Configure tab."""

from __future__ import annotations

from typing import Any

from console.gui.main_window import MainWindow
from console.gui.pages.scheduler import SchedulerPage


def test_retries_are_set_on_the_configure_tab(window: MainWindow, qtbot: Any) -> None:
    assert window.services is not None
    window.services.jobs.create("flaky", retries=1, retry_delay_s=15)
    page = window.pages["Scheduler"]
    assert isinstance(page, SchedulerPage)
    window.show_page("Scheduler")
    page.open_job(window.services.jobs.get("flaky"))
    view = page.job_view
    assert (view.retries.value(), view.retry_delay.value()) == (1, 15)
    assert (view.retries.maximum(), view.retry_delay.minimum()) == (
        10,
        1,
    )  # 11 or 0 s: not typeable
    view.retries.setValue(4)
    view.retry_delay.setValue(30)
    window.command_bar.actions_by_name["Save"].trigger()
    qtbot.waitUntil(lambda: window.services.jobs.get("flaky").retries == 4, timeout=5000)
    assert window.services.jobs.get("flaky").retry_delay_s == 30
