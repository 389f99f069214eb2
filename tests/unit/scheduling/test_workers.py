"""Workers by name: one live worker per name, heartbeats, who runs what."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from console.app import Services, open_services
from console.core.errors import ConsoleError
from console.demo.memory_keyring import MemoryKeyring
from tests.fakes.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC))


@pytest.fixture
def console(db_url: str, home: Path, clock: FakeClock) -> Iterator[Services]:
    services = open_services(home, db_url, keyring_backend=MemoryKeyring(), clock=clock)
    yield services
    services.close()


def test_a_second_live_worker_with_the_same_name_is_refused(console: Services) -> None:
    console.workers.register("alpha", max_runs=4)
    with pytest.raises(ConsoleError, match="a worker named 'alpha' is running already"):
        console.workers.register("alpha")
    [alpha] = console.workers.all()
    assert (alpha.name, alpha.state, alpha.max_runs) == ("alpha", "live", 4)


def test_a_name_is_free_once_its_worker_stopped_or_fell_silent(
    console: Services, clock: FakeClock
) -> None:
    console.workers.register("alpha")
    console.workers.stop("alpha")
    assert console.workers.get("alpha").state == "stopped"
    console.workers.register("alpha")  # taken again at once
    clock.advance(seconds=20)
    console.workers.heartbeat("alpha")
    clock.advance(seconds=29)
    assert console.workers.get("alpha").state == "live"
    with pytest.raises(ConsoleError):
        console.workers.register("alpha")
    clock.advance(seconds=2)  # killed: 31 s without a heartbeat
    assert console.workers.get("alpha").state == "lost"
    console.workers.register("alpha")
    assert console.workers.get("alpha").state == "live"


def test_a_heartbeat_is_one_statement_and_keeps_its_worker_live(
    console: Services, clock: FakeClock
) -> None:
    """What the idle worker's CPU relies on (docs/benchmarks.md): each beat
    is a single statement, no BEGIN or COMMIT around it, and it still does
    what a heartbeat is for."""
    console.workers.register("alpha")
    console.workers.heartbeat("alpha")  # the first beat opens its connection
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    clock.advance(seconds=31)
    assert console.workers.get("alpha").state == "lost"  # lapsed
    sa.event.listen(console.store.engine, "before_cursor_execute", count)
    try:
        console.workers.heartbeat("alpha")
    finally:
        sa.event.remove(console.store.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert "UPDATE workers" in statements[0]
    assert console.workers.get("alpha").state == "live"  # back from the lapse
    clock.advance(seconds=29)
    console.workers.heartbeat("alpha")
    clock.advance(seconds=29)
    assert console.workers.get("alpha").state == "live"  # kept live by the beat
    clock.advance(seconds=2)
    assert console.workers.get("alpha").state == "lost"  # 31 s without one


def test_workers_show_their_runs_in_flight_and_go_from_the_list_after_a_day(
    console: Services, clock: FakeClock
) -> None:
    console.jobs.create("slow", interval=1, unit="hour")
    console.workers.register("alpha")
    console.workers.register("beta")
    job = console.jobs.get("slow")
    console.runs.start(job.id, "slow", "schedule", "beta")
    by_name = {w.name: w for w in console.workers.all()}
    assert by_name["beta"].running == ("slow",) and by_name["beta"].runs_in_flight == 1
    assert by_name["alpha"].runs_in_flight == 0
    assert console.runs.runs()[0].owner == "beta"  # History's Worker column
    console.workers.stop("alpha")
    clock.advance(hours=25)
    assert console.workers.all() == []


@pytest.mark.parametrize("bad", ["", "   ", "x" * 81, "tab\there"])
def test_bad_worker_names_are_refused(console: Services, bad: str) -> None:
    with pytest.raises(ConsoleError):
        console.workers.register(bad)
    assert console.workers.all() == []


def test_the_previous_tick_of_a_silent_worker_does_not_block_the_next(
    console: Services, clock: FakeClock
) -> None:
    """A worker killed mid-run: its lease still looks live for up to 30 s,
    but it has not heartbeaten since the next tick came due, so that tick
    waits for the lease to lapse and then runs, late, and says so, instead
    of being skipped as overlapping."""
    ran: list[tuple[str, str | None]] = []
    console.jobs.create("tick", interval=1, unit="minute", start_at=clock.now)
    console.jobs.enable("tick")
    job = console.jobs.get("tick")
    sched = console.scheduler(dispatch=lambda name, note: ran.append((name, note)))
    clock.advance(minutes=1)
    sched.step()  # 10:01 runs
    clock.advance(seconds=55)
    console.runs.heartbeat(job.id, console.runner.owner)  # 10:01:55, then it is killed
    clock.advance(seconds=5)  # 10:02: its lease runs to 10:02:25
    assert sched.step() == pytest.approx(25.001, abs=0.0001)  # sleeps until the lease lapses
    assert len(ran) == 1
    clock.advance(seconds=26)
    sched.step()
    assert len(ran) == 2 and ran[1][1] is not None and "stopped answering" in ran[1][1]
    assert console.jobs.get("tick").next_run_at == datetime(2026, 3, 1, 10, 3, tzinfo=UTC)
    assert not [e for e in console.runs.entries(level="warning") if "skipped" in e.message]
