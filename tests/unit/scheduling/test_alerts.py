"""Which finished runs are failures or recoveries worth telling about."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.app import Services, open_services
from console.core.jobs.runs import Run
from console.core.scheduling.alerts import FAILED, RECOVERED, alert_for
from console.demo.memory_keyring import MemoryKeyring


@pytest.fixture
def console(home: Path, db_url: str) -> Iterator[Services]:
    services = open_services(home, db_url, keyring_backend=MemoryKeyring())
    services.jobs.create("job")
    yield services
    services.close()


Finished = Callable[..., Run]


@pytest.fixture(params=["its end", "read after"])
def finished(console: Services, request: pytest.FixtureRequest) -> Finished:
    """A finished run of the job; each test twice: the run as its end
    returns it (the end read the run before it, in its own transaction),
    and the run read back afterwards (`alert_for` then asks the run log)."""

    def finish(status: str, attempt: int = 1, attempts: int = 1) -> Run:
        job = console.jobs.get("job")
        run = console.runs.start(
            job.id, job.name, "schedule", "me", attempt=attempt, attempts=attempts
        )
        error = None if status == "succeeded" else "boom\nline 2"
        if request.param == "its end":
            ended = console.runs.end(run, status, error, 0, [], "me")
            assert ended.follows_failure is not None
            return ended
        console.runs.finish(run.id, status, error, 0)
        read = console.runs.get(run.id)
        assert read.follows_failure is None
        return read

    return finish


def kinds(
    console: Services, finished: Finished, *outcomes: tuple[str, int, int]
) -> list[str | None]:
    alerts = [alert_for(console.runs, finished(*o)) for o in outcomes]
    return [a.kind if a else None for a in alerts]


def test_a_failure_then_a_recovery(console: Services, finished: Finished) -> None:
    assert kinds(console, finished, ("succeeded", 1, 1), ("failed", 1, 1), ("succeeded", 1, 1)) == [
        None,
        FAILED,
        RECOVERED,
    ]


def test_a_success_made_good_by_a_retry_is_no_recovery(
    console: Services, finished: Finished
) -> None:
    outcomes = [("succeeded", 1, 1), ("failed", 1, 3), ("timed out", 2, 3), ("succeeded", 3, 3)]
    assert kinds(console, finished, *outcomes)[-1] is None


def test_a_recovery_after_a_failed_chain(console: Services, finished: Finished) -> None:
    outcomes = [("failed", 1, 2), ("failed", 2, 2), ("failed", 1, 2), ("succeeded", 2, 2)]
    assert kinds(console, finished, *outcomes)[-1] == RECOVERED


def test_cancelled_runs_are_neither(console: Services, finished: Finished) -> None:
    assert kinds(console, finished, ("failed", 1, 1), ("cancelled", 1, 1), ("succeeded", 1, 1)) == [
        FAILED,
        None,
        RECOVERED,
    ]


def test_the_payload_and_the_error_line(console: Services, finished: Finished) -> None:
    alert = alert_for(console.runs, finished("timed out", 2, 3))
    assert alert is not None and alert.error_line == "boom"
    assert set(alert.payload()) == {"job", "run", "attempt", "status", "error", "started", "ended"}
    assert alert.payload()["attempt"] == 2
