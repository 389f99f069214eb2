"""Run records and their logs: retention removes what is old, never a run
still going or anything newer than the setting allows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from console.app import open_services
from console.core.store import schema
from console.demo.memory_keyring import MemoryKeyring
from tests.fakes.clock import FakeClock


def test_retention_removes_old_entries_and_finished_runs_only(home: Path) -> None:
    clock = FakeClock()
    services = open_services(home, clock=clock)
    services.jobs.create("tidy")
    services.jobs.create("slow")
    job, slow = services.jobs.get("tidy"), services.jobs.get("slow")
    runs = services.runs

    old = runs.start(job.id, "tidy", "run once", "me")
    runs.log("tidy", "information", "from long ago", run_id=old.id)
    runs.finish(old.id, "succeeded", None, 0)
    still_going = runs.start(slow.id, "slow", "schedule", "me")

    clock.advance(days=29)
    recent = runs.start(job.id, "tidy", "run once", "me")
    runs.log("tidy", "information", "from this month", run_id=recent.id)
    runs.finish(recent.id, "succeeded", None, 0)

    clock.advance(days=2)  # the first run is now 31 days old
    assert runs.purge(int(services.settings.get("log_retention_days"))) == 1

    assert [e.message for e in runs.entries(job_name="tidy")] == ["from this month"]
    assert [r.id for r in runs.runs(job.id)] == [recent.id]
    assert [r.status for r in runs.runs(slow.id)] == ["running"]
    assert still_going.id == runs.runs(slow.id)[0].id
    services.close()


def test_a_run_records_the_script_version_it_started_with(home: Path) -> None:
    services = open_services(home, keyring_backend=MemoryKeyring())
    try:
        jobs, runs = services.jobs, services.runs
        job = jobs.create(
            "versioned", interval=1, unit="hour", script="def versioned():\n    pass\n"
        )
        first = runs.start(job.id, job.name, "run once", "me")
        runs.end(first, "succeeded", None, 0, [], "me")
        jobs.set_script("versioned", "def versioned():\n    print(2)\n")
        second = runs.start(job.id, job.name, "run once", "me")
        jobs.set_script("versioned", "def versioned():\n    print(3)\n")  # saved while it runs
        assert (first.script_version, second.script_version) == (1, 2)
        assert [r.script_version for r in runs.runs(job.id)] == [2, 1]
        used, current = jobs.version_ran("versioned", second.started_at, second.script_version)
        assert (used.version, current.version) == (2, 3)
    finally:
        services.close()


def test_recent_by_job_gives_each_jobs_last_runs_oldest_first(home: Path) -> None:
    services = open_services(home)
    busy, quiet = services.jobs.create("busy"), services.jobs.create("quiet")
    runs = services.runs
    started = []
    for _ in range(4):
        run = runs.start(busy.id, "busy", "run once", "me")
        runs.finish(run.id, "succeeded", None, 0)
        started.append(run.id)
    once = runs.start(quiet.id, "quiet", "run once", "me")
    recent = runs.recent_by_job(limit=3)
    assert [r.id for r in recent[busy.id]] == started[1:]
    assert [r.id for r in recent[quiet.id]] == [once.id]
    services.close()


def test_a_run_begun_by_hand_takes_the_lease_or_writes_nothing(home: Path) -> None:
    services = open_services(home, keyring_backend=MemoryKeyring())
    try:
        job = services.jobs.create("once", interval=1, unit="hour")
        runs = services.runs

        def begin(owner: str) -> Any:
            with runs.store.write() as conn:
                return runs.begin_in(
                    conn, job, "run once", owner, take_lease=True, attempt=1, attempts=1
                )

        run = begin("me")
        assert run is not None and run.status == "running"
        with runs.store.read() as conn:  # the lease is the run's
            lease = conn.execute(sa.select(schema.leases).where(schema.leases.c.job_id == job.id))
            assert [(r.owner, r.run_id) for r in lease] == [("me", run.id)]
        # Held by a live run: a second one is not recorded.
        assert begin("you") is None
        assert [r.id for r in runs.runs(job.id)] == [run.id]
    finally:
        services.close()
