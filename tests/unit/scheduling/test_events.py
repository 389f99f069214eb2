"""The scheduler's events and notices: a listener that fails is logged,
never the scheduler's failure; a notice reaches the events and each listener."""

from __future__ import annotations

import pytest

from console.core.scheduling.events import Notices, held_notice, never_raising


def test_a_failing_event_callback_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def closed_terminal(_message: str) -> None:
        raise OSError("the terminal is gone")

    never_raising(closed_terminal)("scheduler started")
    assert "could not report: scheduler started" in caplog.text


def test_a_notice_is_an_event_and_reaches_every_listener() -> None:
    events: list[str] = []
    shown: list[str] = []
    notices = Notices(events.append)
    notices.listeners.append(shown.append)
    notices.listeners.append(lambda _m: 1 / 0)  # a broken listener stops nobody
    notices(held_notice("stock"))
    notices(held_notice(None))
    assert events == shown
    assert shown[0].startswith("waiting: the dry run of stock holds the database")
    assert shown[1] == "the dry run ended; scheduled runs go on"
