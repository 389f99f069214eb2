"""Jobs: creation rules, limits, the tier, the job's own time zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.app import Services, open_services
from console.core.config.settings import JOB_MEMORY, JOB_TIMEOUT
from console.core.errors import ConflictError, ConsoleError, NotFoundError
from console.demo.memory_keyring import MemoryKeyring
from tests.fakes.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))  # Europe's DST starts on the 29th


@pytest.fixture
def console(home: Path, clock: FakeClock) -> Iterator[Services]:
    services = open_services(home, keyring_backend=MemoryKeyring(), clock=clock)
    yield services
    services.close()


def test_a_new_job_is_disabled_with_the_declared_default_limits(console: Services) -> None:
    job = console.jobs.create("tick", interval=5, unit="minute")
    assert (job.enabled, job.next_run_at, job.schedule_text) == (False, None, "every 5 minutes")
    assert (job.timeout_s, job.memory_mb) == (JOB_TIMEOUT.default, JOB_MEMORY.default)
    assert "def tick():" in job.script


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"unit": "week"}, "unit must be one of"),
        ({"interval": 0}, "the interval"),
        ({"timeout_s": JOB_TIMEOUT.maximum + 1}, "the timeout"),
        ({"memory_mb": JOB_MEMORY.minimum - 1}, "the memory limit"),
        ({"script": "def broken(:\n"}, "syntax error"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"template": "nope"}, "no template"),
    ],
)
def test_bad_jobs_are_refused_and_nothing_is_made(
    console: Services, options: dict[str, object], says: str
) -> None:
    with pytest.raises(ConsoleError, match=says):
        console.jobs.create("bad", **options)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        console.jobs.get("bad")


def test_names_are_unique_whatever_the_case(console: Services) -> None:
    console.jobs.create("getUpdates")
    with pytest.raises(ConsoleError, match="already exists"):
        console.jobs.create("GETUPDATES")
    assert console.jobs.get("getupdates").name == "getUpdates"


def test_the_tier_limits_enabled_jobs(console: Services) -> None:
    for name in ("a", "b"):
        console.jobs.create(name)
    console.set_setting("tier", "free")
    console.jobs.enable("a")
    with pytest.raises(ConsoleError, match="free tier allows 1"):
        console.jobs.enable("b")
    with pytest.raises(ConsoleError, match="runs on demand only"):
        console.jobs.enable(console.jobs.create("manual", unit="none").name)
    assert [j.name for j in console.jobs.all() if j.enabled] == ["a"]


def test_a_job_keeps_its_time_zone_and_days_count_in_it(
    console: Services, clock: FakeClock
) -> None:
    start = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # 10:00 in Paris (UTC+1 until the 29th)
    job = console.jobs.create(
        "daily", interval=1, unit="day", start_at=start, timezone="Europe/Paris"
    )
    assert job.timezone == "Europe/Paris"
    clock.advance(days=2)  # the 29th, 12:00 UTC: Paris is on summer time (UTC+2) now
    enabled = console.jobs.enable("daily")
    # 10:00 on the Paris wall clock, not 09:00 UTC + n days.
    assert enabled.next_run_at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    scheduled = console.scheduler(dispatch=lambda *_: None)
    clock.set(enabled.next_run_at + timedelta(seconds=1))
    scheduled.step()
    assert console.jobs.get("daily").next_run_at == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)


def test_a_new_job_stores_this_machines_zone(console: Services) -> None:
    from console.core.jobs import timing

    assert console.jobs.create("here").timezone == timing.local_zone_name()


def test_deleting_a_job_removes_its_runs_log_and_lease(console: Services) -> None:
    job = console.jobs.create("gone")
    run = console.runs.start(job.id, job.name, "run once", "me")
    console.runs.log(job.name, "information", "hello", run_id=run.id)
    console.jobs.delete("gone")
    assert console.runs.runs(job.id) == []
    assert console.runs.entries(job_name="gone") == []
    with pytest.raises(NotFoundError):
        console.jobs.get("gone")


def test_a_save_based_on_a_stale_read_is_refused_and_saves_nothing(console: Services) -> None:
    jobs = console.jobs
    opened = jobs.create("edited", interval=1, unit="hour", script="def edited():\n    pass\n")
    theirs = "def edited():\n    print('theirs')\n"
    jobs.set_script("edited", theirs)  # another window, or the CLI
    jobs.configure("edited", timeout_s=90)
    mine = "def edited():\n    print('mine')\n"
    with pytest.raises(ConflictError, match=r"changed elsewhere .*\(script, timeout s\)"):
        jobs.configure("edited", script=mine, timeout_s=opened.timeout_s, base=opened)
    assert (jobs.get("edited").script, jobs.get("edited").timeout_s) == (theirs, 90)
    # A field nobody else changed, or changed to the same value, is no conflict.
    jobs.enable("edited")
    jobs.configure("edited", retries=2, timeout_s=90, base=opened)
    # Saved again on the job as it is now: theirs is replaced, and kept.
    now = jobs.get("edited")
    assert jobs.configure("edited", script=mine, base=now).script == mine
    assert theirs in [v.script for v in jobs.versions("edited")]
