"""Which finished runs are failures or recoveries worth telling about."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.app import Services, open_services
from console.core.jobs.runs import Run
from console.core.scheduling.alerts import FAILED, RECOVERED, alert_for
from console.demo.memory_keyring import MemoryKeyring


@pytest.fixture
def console(home: Path) -> Iterator[Services]:
    services = open_services(home, keyring_backend=MemoryKeyring())
    services.jobs.create("job")
    yield services
    services.close()


def finished(console: Services, status: str, attempt: int = 1, attempts: int = 1) -> Run:
    job = console.jobs.get("job")
    run = console.runs.start(job.id, job.name, "schedule", "me", attempt=attempt, attempts=attempts)
    console.runs.finish(run.id, status, None if status == "succeeded" else "boom\nline 2", 0)
    return console.runs.get(run.id)


def kinds(console: Services, *outcomes: tuple[str, int, int]) -> list[str | None]:
    alerts = [alert_for(console.runs, finished(console, *o)) for o in outcomes]
    return [a.kind if a else None for a in alerts]


def test_a_failure_then_a_recovery(console: Services) -> None:
    assert kinds(console, ("succeeded", 1, 1), ("failed", 1, 1), ("succeeded", 1, 1)) == [
        None,
        FAILED,
        RECOVERED,
    ]


def test_a_success_made_good_by_a_retry_is_no_recovery(console: Services) -> None:
    outcomes = [("succeeded", 1, 1), ("failed", 1, 3), ("timed out", 2, 3), ("succeeded", 3, 3)]
    assert kinds(console, *outcomes)[-1] is None


def test_a_recovery_after_a_failed_chain(console: Services) -> None:
    outcomes = [("failed", 1, 2), ("failed", 2, 2), ("failed", 1, 2), ("succeeded", 2, 2)]
    assert kinds(console, *outcomes)[-1] == RECOVERED


def test_cancelled_runs_are_neither(console: Services) -> None:
    assert kinds(console, ("failed", 1, 1), ("cancelled", 1, 1), ("succeeded", 1, 1)) == [
        FAILED,
        None,
        RECOVERED,
    ]


def test_the_payload_and_the_error_line(console: Services) -> None:
    alert = alert_for(console.runs, finished(console, "timed out", 2, 3))
    assert alert is not None and alert.error_line == "boom"
    assert set(alert.payload()) == {"job", "run", "attempt", "status", "error", "started", "ended"}
    assert alert.payload()["attempt"] == 2
