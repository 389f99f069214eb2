"""Retries of failed scheduled runs, with real runs and a fake clock; and the
failure and recovery alerts that follow them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.app import Services, open_services
from console.core.errors import ConsoleError
from console.core.jobs.runs import Run
from console.core.scheduling.alerts import Alert
from console.core.scheduling.retries import RetryQueue
from console.core.scheduling.scheduler import ConsoleScheduler
from console.demo.memory_keyring import MemoryKeyring
from tests.fakes.clock import FakeClock

FAILS = "def {name}():\n    raise RuntimeError('Twitter blinked')\n"
#: Fails the first time (leaving a marker file), succeeds after.
FAILS_ONCE = """import os

def {name}():
    if not os.path.exists({marker!r}):
        open({marker!r}, "w").close()
        raise RuntimeError("Twitter blinked")
    print("fine again")
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC))


@pytest.fixture
def console(home: Path, clock: FakeClock) -> Iterator[Services]:
    services = open_services(home, keyring_backend=MemoryKeyring(), clock=clock)
    yield services
    services.close()


class Alerts(list[Alert]):
    def __call__(self, alert: Alert) -> None:
        self.append(alert)


def start(console: Services, alerts: Alerts | None = None) -> ConsoleScheduler:
    return console.scheduler(on_alert=alerts)


def step(sched: ConsoleScheduler) -> float | None:
    """One look at what is due, then the runs it started, to their end;
    seconds until the retry now pending, if any."""
    sched.step()
    assert sched.join_runs(60)
    return sched.retries.idle_seconds()


def attempts(console: Services, name: str) -> list[tuple[int, int, str, str]]:
    runs = reversed(console.runs.runs(console.jobs.get(name).id))
    return [(r.attempt, r.attempts, r.status, f"{r.started_at:%H:%M:%S}") for r in runs]


def warnings(console: Services, name: str) -> list[str]:
    return [e.message for e in console.runs.entries(job_name=name, level="warning")]


def make_job(
    console: Services, clock: FakeClock, name: str, script: str, **options: object
) -> None:
    console.jobs.create(name, unit="hour", start_at=clock.now, script=script, **options)  # type: ignore[arg-type]
    with console.store.write() as conn:  # first tick due now
        from console.core.store import schema

        conn.execute(
            schema.jobs.update()
            .where(schema.jobs.c.name == name)
            .values(enabled=True, next_run_at=clock.now)
        )


def test_a_failing_run_is_retried_with_backoff_then_reported_once(
    console: Services, clock: FakeClock
) -> None:
    make_job(console, clock, "flaky", FAILS.format(name="flaky"), retries=2, retry_delay_s=10)
    alerts = Alerts()
    sched = start(console, alerts)
    assert step(sched) == 10  # the retry is the next thing due
    clock.advance(seconds=9)
    step(sched)
    assert len(attempts(console, "flaky")) == 1  # not early
    clock.advance(seconds=1)
    assert step(sched) == 20  # backed off: twice the delay
    clock.advance(seconds=20)
    step(sched)
    assert attempts(console, "flaky") == [
        (1, 3, "failed", "10:00:00"),
        (2, 3, "failed", "10:00:10"),
        (3, 3, "failed", "10:00:30"),
    ]
    assert [w for w in warnings(console, "flaky") if "retrying" in w] == [
        "retrying in 10 s, at " + f"{clock.now.replace(second=10).astimezone():%H:%M:%S}"
        " (attempt 2 of 3)",
        "retrying in 20 s, at " + f"{clock.now.replace(second=30).astimezone():%H:%M:%S}"
        " (attempt 3 of 3)",
    ]
    logs = [e.message for e in console.runs.entries(job_name="flaky")]
    assert "Run started (schedule, attempt 2 of 3)" in logs
    # Only the last attempt is a failure worth telling anyone about.
    assert [(a.kind, a.run.attempt, a.error_line) for a in alerts] == [
        ("failed", 3, "RuntimeError: Twitter blinked (line 2)")
    ]


def test_a_retry_that_succeeds_is_no_alert(
    console: Services, clock: FakeClock, tmp_path: Path
) -> None:
    script = FAILS_ONCE.format(name="blink", marker=str(tmp_path / "marker"))
    make_job(console, clock, "blink", script, retries=3, retry_delay_s=5)
    alerts = Alerts()
    sched = start(console, alerts)
    step(sched)
    clock.advance(seconds=5)
    assert step(sched) is None  # no retry left pending
    assert [a[:3] for a in attempts(console, "blink")] == [(1, 4, "failed"), (2, 4, "succeeded")]
    assert alerts == []


def test_retries_never_overlap_the_next_tick(console: Services, clock: FakeClock) -> None:
    console.jobs.create(
        "minutely",
        unit="minute",
        start_at=clock.now,
        script=FAILS.format(name="minutely"),
        retries=3,
        retry_delay_s=40,
    )
    console.jobs.enable("minutely")  # first tick 10:01
    alerts = Alerts()
    sched = start(console, alerts)
    clock.advance(minutes=1)
    step(sched)  # attempt 1 fails at 10:01:00; retry at 10:01:40
    clock.advance(seconds=40)
    step(sched)  # attempt 2 fails; the next retry (10:03:00) would come after the tick at 10:02
    assert warnings(console, "minutely")[-1].startswith(
        "2 remaining retries dropped: attempt 3 of 4 would start at"
    )
    assert [a.run.attempt for a in alerts] == [2]  # the failure is reported as final
    clock.advance(seconds=20)
    step(sched)
    assert [a[:2] for a in attempts(console, "minutely")] == [(1, 4), (2, 4), (1, 4)]


def test_a_tick_due_with_a_retry_wins_and_the_retry_is_dropped(
    console: Services, clock: FakeClock
) -> None:
    console.jobs.create(
        "minutely",
        unit="minute",
        start_at=clock.now,
        script=FAILS.format(name="minutely"),
        retries=1,
        retry_delay_s=50,
    )
    console.jobs.enable("minutely")
    sched = start(console)
    clock.advance(minutes=1)
    step(sched)  # retry due at 10:01:50
    clock.advance(minutes=2)  # the machine slept through the retry and the tick
    step(sched)
    assert [a[:2] for a in attempts(console, "minutely")] == [(1, 2), (1, 2)]
    assert "1 remaining retry dropped: the next run came first" in warnings(console, "minutely")


def test_stopping_drops_a_pending_retry_and_says_so(console: Services, clock: FakeClock) -> None:
    make_job(console, clock, "flaky", FAILS.format(name="flaky"), retries=1, retry_delay_s=30)
    sched = start(console)
    step(sched)
    assert len(sched.retries.pending()) == 1
    sched.stop()
    assert warnings(console, "flaky")[-1] == ("retry 2 of 2 dropped: the console or worker stopped")


def test_a_paused_scheduler_claims_nothing_until_resumed(
    console: Services, clock: FakeClock
) -> None:
    make_job(console, clock, "flaky", FAILS.format(name="flaky"))
    sched = start(console)
    sched.pause()
    assert step(sched) is None
    assert attempts(console, "flaky") == []
    sched.resume()
    step(sched)
    assert [a[2] for a in attempts(console, "flaky")] == ["failed"]


def test_a_timeout_is_retried(console: Services, clock: FakeClock) -> None:
    script = "def slow():\n    while True:\n        pass\n"
    make_job(console, clock, "slow", script, retries=1, retry_delay_s=1, timeout_s=1)
    sched = start(console)
    step(sched)
    clock.advance(seconds=1)
    step(sched)
    assert [a[:3] for a in attempts(console, "slow")] == [(1, 2, "timed out"), (2, 2, "timed out")]


def test_a_recovery_after_a_reported_failure_is_an_alert(
    console: Services, clock: FakeClock, tmp_path: Path
) -> None:
    script = FAILS_ONCE.format(name="blink", marker=str(tmp_path / "marker"))
    make_job(console, clock, "blink", script)
    alerts = Alerts()
    sched = start(console, alerts)
    step(sched)
    clock.advance(hours=1)
    step(sched)
    assert [(a.kind, a.run.status) for a in alerts] == [
        ("failed", "failed"),
        ("recovered", "succeeded"),
    ]
    assert alerts[1].payload()["job"] == "blink"


def _run(status: str, attempt: int = 1, attempts: int = 3) -> Run:
    at = datetime(2026, 3, 1, 9, tzinfo=UTC)  # an hour before the next tick
    return Run(1, 1, "j", "schedule", status, "me", at, at, None, 0, attempt, attempts)


def test_a_cancelled_run_is_not_retried(console: Services, clock: FakeClock) -> None:
    make_job(console, clock, "j", FAILS.format(name="j"), retries=2)
    job = console.jobs.get("j")
    queue = RetryQueue(clock)
    assert queue.plan(job, _run("cancelled")) == (None, None)
    assert queue.plan(job, _run("succeeded")) == (None, None)
    assert queue.plan(job, _run("failed", attempt=3)) == (None, None)
    assert queue.plan(job, _run("timed out"))[0] is not None


@pytest.mark.parametrize(
    ("retries", "delay", "message"),
    [(11, 60, "from 0 to 10"), (-1, 60, "from 0 to 10"), (1, 0, "from 1 to"), ("x", 60, "whole")],
)
def test_bad_retries_are_refused_and_nothing_changes(
    console: Services, retries: object, delay: object, message: str
) -> None:
    with pytest.raises(ConsoleError, match=message):
        console.jobs.create("j", retries=retries, retry_delay_s=delay)
    assert console.jobs.all() == []
    console.jobs.create("k", retries=2, retry_delay_s=5)
    with pytest.raises(ConsoleError, match=message):
        console.jobs.configure("k", retries=retries, retry_delay_s=delay)
    assert (console.jobs.get("k").retries, console.jobs.get("k").retry_delay_s) == (2, 5)
