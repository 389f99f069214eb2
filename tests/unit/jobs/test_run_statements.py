"""The statements of a run's heartbeat and end (`run_statements`), as `RunLog`
uses them: a run another console took for abandoned while its own was stopped (a
paused process, a cut-off network): its heartbeat says so, and its own end,
when it comes, tells what happened instead of contradicting the record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.app import Services, open_services
from console.core.jobs.runs import Run
from console.demo.memory_keyring import MemoryKeyring
from tests.fakes.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def console(home: Path, db_url: str, clock: FakeClock) -> Iterator[Services]:
    services = open_services(home, db_url, clock=clock, keyring_backend=MemoryKeyring())
    services.jobs.create("job")
    yield services
    services.close()


def started(console: Services) -> Run:
    """A run of the job by "me", holding the job's lease, as a run begins."""
    job = console.jobs.get("job")
    assert console.runs.acquire(job.id, "me")
    return console.runs.start(job.id, job.name, "schedule", "me")


def taken(console: Services, clock: FakeClock) -> None:
    """The owner, "me", is not heard from past its lease; another console looks."""
    clock.advance(seconds=45)
    assert console.runs.interrupt_abandoned() == 1


def messages(console: Services, run: Run) -> list[str]:
    return [e.message for e in console.runs.entries(job_name="job") if e.run_id == run.id]


def test_a_heartbeat_keeps_what_the_run_wrote_so_far(console: Services, clock: FakeClock) -> None:
    run = started(console)
    assert console.runs.heartbeat(run.job_id, "me", run.id, 42)
    assert console.runs.get(run.id).rows_written == 42
    taken(console, clock)
    # Taken for abandoned, it still says what it had written by its last beat.
    stored = console.runs.get(run.id)
    assert (stored.status, stored.rows_written) == ("interrupted", 42)


def test_a_heartbeat_after_the_run_was_taken_says_so(console: Services, clock: FakeClock) -> None:
    run = started(console)
    assert console.runs.heartbeat(run.job_id, "me", run.id, 0)
    taken(console, clock)
    assert not console.runs.heartbeat(run.job_id, "me", run.id, 5)
    assert console.runs.get(run.id).status == "interrupted"  # the beat changed nothing of it


def test_the_runs_own_end_replaces_the_interrupted_and_says_so(
    console: Services, clock: FakeClock
) -> None:
    run = started(console)
    taken(console, clock)
    clock.advance(seconds=30)  # it goes on, and ends
    ended = console.runs.end(run, "succeeded", None, 7, [], "me")
    stored = console.runs.get(run.id)
    assert (ended.status, ended.rows_written, ended.error) == ("succeeded", 7, None)
    assert (stored.status, stored.rows_written, stored.ended_at) == (
        "succeeded",
        7,
        ended.ended_at,
    )
    (told,) = messages(console, run)
    assert told.startswith("Another console had recorded this run as interrupted at 10:00:45 UTC")
    assert "me, which ran it, stopped before it ended" in told
    assert told.endswith("it went on, and ended here")


def test_an_end_that_is_an_interruption_too_leaves_the_record(
    console: Services, clock: FakeClock
) -> None:
    run = started(console)
    taken(console, clock)
    before = console.runs.get(run.id)
    ended = console.runs.end(run, "interrupted", "interrupted: stopped here too", 3, [], "me")
    stored = console.runs.get(run.id)
    assert stored == before
    assert (ended.status, ended.error, ended.ended_at) == (
        "interrupted",
        before.error,
        before.ended_at,
    )
    (told,) = messages(console, run)
    assert told.startswith("The run was ended already, interrupted at 10:00:45 UTC")
    assert told.endswith("that record stands")
