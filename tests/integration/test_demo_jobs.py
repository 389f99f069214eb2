"""The demo's two getUpdates jobs, Python and JavaScript, run unchanged
against its stand-in through the redirect from https://api.twitter.com."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.core.tables.api import open_table
from console.demo import start_demo


def test_both_getupdates_templates_run_in_the_demo(home: Path) -> None:
    demo = start_demo(home, publish_every_s=0)
    try:
        services = demo.services
        assert [r.from_prefix for r in services.redirects.all()] == ["https://api.twitter.com/"]
        assert services.jobs.get("getUpdatesJs").language == "javascript"
        js = services.runner.run("getUpdatesJs")
        assert js.status == "succeeded", js.error
        stored = open_table(services.tables, "Updates").count()
        assert stored == js.rows_written > 0
        demo.standin.add_tweet("Fresh from the demo #mobileservices")
        py = services.runner.run("getUpdates")
        assert py.status == "succeeded", py.error
        assert open_table(services.tables, "Updates").count() == stored + 1
    finally:
        demo.close()


def test_a_fresh_demo_fills_with_a_day_of_runs_and_a_used_one_does_not(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.demo import history

    monkeypatch.setattr(history, "HOURS", 4)  # 2 runs of each job, every 2 hours back
    monkeypatch.setattr(history, "FAIL_EVERY", 2)  # two of the four answered 500
    demo = start_demo(home, publish_every_s=0, history=True)
    try:
        assert demo.history is not None
        demo.history.wait()
        runs = demo.services.runs.runs(limit=100)
        assert sorted({r.job_name for r in runs}) == ["getUpdates", "getUpdatesJs"]
        assert len(runs) == 4 and {r.status for r in runs} == {"succeeded", "failed"}
        now = datetime.now(UTC)
        ages = sorted((now - r.started_at).total_seconds() / 3600 for r in runs)
        assert ages[0] > 1.5 and ages[-1] < 4.6  # spread over the hours before now
        assert open_table(demo.services.tables, "Updates").count() > 0  # really fetched
    finally:
        demo.close()
    again = start_demo(home, publish_every_s=0, history=True)
    try:
        assert again.history is None  # it has runs already
    finally:
        again.close()
