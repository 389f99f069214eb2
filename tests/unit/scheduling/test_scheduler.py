"""The scheduler with a fake clock: anchoring, missed runs, overlap, claims."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.app import Services, open_services
from console.core.errors import ConsoleError
from console.core.scheduling.scheduler import ConsoleScheduler
from console.demo.memory_keyring import MemoryKeyring
from tests.fakes.clock import FakeClock


class Recorder:
    """Stands in for the runner's thread: records runs, finishes at once."""

    def __init__(self, services: Services, finish: bool = True) -> None:
        self.services, self.finish = services, finish
        self.runs: list[tuple[str, datetime, str | None]] = []
        self.event = threading.Event()

    def __call__(self, name: str, note: str | None) -> None:
        self.runs.append((name, self.services.jobs.clock(), note))
        if self.finish:
            job = self.services.jobs.get(name)
            self.services.runs.release(job.id, self.services.runner.owner)
        self.event.set()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC))


@pytest.fixture
def console(db_url: str, home: Path, clock: FakeClock) -> Iterator[Services]:
    services = open_services(home, db_url, keyring_backend=MemoryKeyring(), clock=clock)
    yield services
    services.close()


def scheduler(services: Services, dispatch: Recorder) -> ConsoleScheduler:
    return services.scheduler(dispatch=dispatch)


def test_runs_are_anchored_to_the_start_whatever_each_run_lasts(
    console: Services, clock: FakeClock
) -> None:
    console.jobs.create(
        "tick", interval=1, unit="minute", start_at=clock.now + timedelta(seconds=15)
    )
    console.jobs.enable("tick")
    rec = Recorder(console)
    sched = scheduler(console, rec)
    assert sched.step() == 15  # sleeps until the start time itself
    clock.advance(seconds=15)
    sched.step()
    clock.advance(seconds=47)  # the run took 47 s
    sched.step()
    clock.advance(seconds=13)  # 10:01:15
    sched.step()
    clock.advance(seconds=60)
    sched.step()
    assert [t.strftime("%H:%M:%S") for _, t, _ in rec.runs] == ["10:00:15", "10:01:15", "10:02:15"]
    assert console.jobs.get("tick").next_run_at == datetime(2026, 3, 1, 10, 3, 15, tzinfo=UTC)


def test_a_disabled_job_does_not_run(console: Services, clock: FakeClock) -> None:
    console.jobs.create("quiet", interval=1, unit="minute", start_at=clock.now)
    console.jobs.enable("quiet")
    console.jobs.disable("quiet")
    rec = Recorder(console)
    sched = scheduler(console, rec)
    clock.advance(minutes=5)
    assert sched.step() is None
    assert rec.runs == []


def test_missed_runs_run_once_and_say_so(console: Services, clock: FakeClock) -> None:
    console.jobs.create("hourly", interval=1, unit="hour", start_at=clock.now)
    console.jobs.enable("hourly")  # next run 11:00
    rec = Recorder(console)
    clock.set(datetime(2026, 3, 1, 15, 30, tzinfo=UTC))  # closed from 10:00 to 15:30
    sched = scheduler(console, rec)
    sched.step()
    sched.step()
    assert len(rec.runs) == 1
    assert rec.runs[0][2] is not None and "missed 4 runs" in rec.runs[0][2]
    assert console.jobs.get("hourly").next_run_at == datetime(2026, 3, 1, 16, tzinfo=UTC)


def test_a_tick_finding_the_previous_run_going_is_skipped_with_a_warning(
    console: Services, clock: FakeClock
) -> None:
    console.jobs.create("long", interval=1, unit="minute", start_at=clock.now)
    console.jobs.enable("long")
    rec = Recorder(console, finish=False)  # the first run never ends
    sched = scheduler(console, rec)
    job_id = console.jobs.get("long").id
    for _ in range(3):
        clock.advance(minutes=1)
        console.runs.heartbeat(job_id, console.runner.owner)  # as a live run does
        sched.step()
    assert len(rec.runs) == 1
    warnings = [e.message for e in console.runs.entries(job_name="long", level="warning")]
    assert len(warnings) == 2 and "previous run is still going" in warnings[0]


def test_two_instances_on_one_database_run_each_tick_once(
    db_url: str, home: Path, clock: FakeClock
) -> None:
    first = open_services(home, db_url, keyring_backend=MemoryKeyring(), clock=clock)
    second = open_services(home, db_url, keyring_backend=MemoryKeyring(), clock=clock)
    for i in range(5):
        first.jobs.create(f"job{i}", interval=1, unit="minute", start_at=clock.now)
        first.jobs.enable(f"job{i}")
    rec_a, rec_b = Recorder(first), Recorder(second)
    a, b = scheduler(first, rec_a), scheduler(second, rec_b)
    for _ in range(4):
        clock.advance(minutes=1)
        a.step()
        b.step()
    runs = sorted(name for name, _, _ in rec_a.runs + rec_b.runs)
    assert runs == sorted(f"job{i}" for i in range(5) for _ in range(4))


def test_a_job_another_instance_is_claiming_is_left_to_it_and_the_rest_run(
    db_url: str, home: Path, clock: FakeClock
) -> None:
    """PostgreSQL: a job whose row another worker has locked in its claim is
    skipped, not waited for; the other due jobs run now, and the locked one
    runs at the next step if that claim came to nothing."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's write lock serialises claims: nothing is ever skipped")
    import sqlalchemy as sa

    from console.core.store import schema

    services = open_services(home, db_url, keyring_backend=MemoryKeyring(), clock=clock)
    other = open_services(home, db_url, keyring_backend=MemoryKeyring(), clock=clock)
    try:
        for i in range(20):
            services.jobs.create(f"job{i:02d}", interval=1, unit="minute", start_at=clock.now)
            services.jobs.enable(f"job{i:02d}")
        clock.advance(minutes=1)
        rec = Recorder(services)
        sched = scheduler(services, rec)
        locked = services.jobs.get("job07")
        with other.store.write() as conn:  # another worker's claim, still open
            conn.execute(
                sa.select(schema.jobs.c.id).where(schema.jobs.c.id == locked.id).with_for_update()
            )
            sched.step()
        assert sorted(name for name, _, _ in rec.runs) == [
            f"job{i:02d}" for i in range(20) if i != 7
        ]
        assert (sched.idle_seconds() or 0) <= 0  # it looks again at once
        sched.step()  # that claim came to nothing: the tick is still due, and runs
        assert sorted(name for name, _, _ in rec.runs) == [f"job{i:02d}" for i in range(20)]
    finally:
        other.close()
        services.close()


def test_a_failing_event_listener_never_stops_the_scheduler(
    console: Services, clock: FakeClock
) -> None:
    """A worker reports each run on its terminal; a terminal that is gone
    makes that report fail, never the scheduling."""

    def gone(_message: str) -> None:
        raise OSError("the terminal is gone")

    console.jobs.create("tick", interval=1, unit="minute", start_at=clock.now)
    console.jobs.enable("tick")
    rec = Recorder(console)
    sched = console.scheduler(dispatch=rec, on_event=gone)
    clock.advance(minutes=1)
    sched.step()
    assert [name for name, _, _ in rec.runs] == ["tick"]


def test_the_tier_limit_applies_to_enabling(console: Services, clock: FakeClock) -> None:
    console.jobs.set_tier("free")
    console.jobs.create("one", interval=1, unit="hour")
    console.jobs.create("two", interval=1, unit="hour")
    console.jobs.enable("one")
    with pytest.raises(ConsoleError, match="free tier allows 1 enabled job"):
        console.jobs.enable("two")
    assert not console.jobs.get("two").enabled


def test_the_thread_wakes_when_a_job_is_enabled_and_survives_errors(
    home: Path,
) -> None:
    services = open_services(home, keyring_backend=MemoryKeyring())
    calls: list[str] = []
    done = threading.Event()

    def dispatch(name: str, note: str | None) -> None:
        calls.append(name)
        job = services.jobs.get(name)
        services.runs.release(job.id, services.runner.owner)
        if len(calls) == 1:
            raise RuntimeError("a dispatch that fails")
        done.set()

    sched = services.scheduler(dispatch=dispatch)
    sched.start()
    try:
        for name in ("first", "second"):
            past = services.jobs.clock() - timedelta(hours=1)
            services.jobs.create(name, interval=1, unit="day", start_at=past)
            services.jobs.enable(name)
            with services.store.write() as conn:  # due now
                from console.core.store import schema

                conn.execute(
                    schema.jobs.update()
                    .where(schema.jobs.c.name == name)
                    .values(next_run_at=services.jobs.clock())
                )
            sched.wake()
        assert done.wait(10)
        assert sorted(calls) == ["first", "second"]
        assert sched.running and sched.errors >= 1
    finally:
        sched.stop()
    assert not sched.running


def test_the_thread_outlives_a_failing_step(home: Path) -> None:
    services = open_services(home, keyring_backend=MemoryKeyring())
    done = threading.Event()

    def dispatch(name: str, note: str | None) -> None:
        job = services.jobs.get(name)
        services.runs.release(job.id, services.runner.owner)
        done.set()

    sched = services.scheduler(dispatch=dispatch)
    sync, failures = sched._sync, [OSError("the database went away")]

    def flaky_sync() -> None:
        if failures:
            raise failures.pop()
        sync()

    sched._sync = flaky_sync  # type: ignore[method-assign]
    services.jobs.create("daily", interval=1, unit="day")
    services.jobs.enable("daily")
    from console.core.store import schema

    with services.store.write() as conn:  # due now
        conn.execute(schema.jobs.update().values(next_run_at=services.jobs.clock()))
    sched.start()
    try:
        deadline = threading.Event()
        for _ in range(500):  # the failed step is counted
            if sched.errors:
                break
            deadline.wait(0.01)
        assert sched.errors == 1 and sched.running
        sched.wake()  # the next look succeeds and runs what is due
        assert done.wait(10)
    finally:
        sched.stop()
        services.close()


def test_a_job_disabled_while_the_scheduler_knows_it_is_dropped_cleanly(
    console: Services, clock: FakeClock
) -> None:
    console.jobs.create("soon", interval=1, unit="minute", start_at=clock.now)
    console.jobs.enable("soon")
    rec = Recorder(console)
    sched = scheduler(console, rec)
    assert sched.step() == 60
    console.jobs.disable("soon")
    assert sched.step() is None
    clock.advance(minutes=2)
    assert sched.step() is None
    assert rec.runs == []
