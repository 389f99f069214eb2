"""Run records and their logs: retention removes what is old, never a run
still going or anything newer than the setting allows."""

from __future__ import annotations

from pathlib import Path

from console.app import open_services
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
