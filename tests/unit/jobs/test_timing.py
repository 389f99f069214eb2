"""Run times anchored to the start, across months and daylight saving."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from console.core.jobs.timing import late_note, missed_between, next_fire, occurrence

AMS = ZoneInfo("Europe/Amsterdam")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_minutes_are_anchored_to_the_start_not_to_the_last_run() -> None:
    start = utc(2026, 3, 1, 10, 0, 15)
    assert next_fire(start, 1, "minute", utc(2026, 3, 1, 9, 0)) == start  # ahead: the start
    assert next_fire(start, 1, "minute", start) == utc(2026, 3, 1, 10, 1, 15)
    # However late the last run finished, the next stays on the :15 grid.
    assert next_fire(start, 1, "minute", utc(2026, 3, 1, 10, 1, 59)) == utc(2026, 3, 1, 10, 2, 15)
    assert next_fire(start, 5, "minute", utc(2026, 3, 1, 10, 6)) == utc(2026, 3, 1, 10, 10, 15)


def test_on_demand_jobs_have_no_next_run() -> None:
    assert next_fire(utc(2026, 1, 1), 1, "none", utc(2026, 1, 2)) is None


def test_months_keep_the_day_and_fall_back_to_the_last_day() -> None:
    start = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    runs = [occurrence(start, 1, "month", k, UTC) for k in range(5)]
    assert [(r.month, r.day) for r in runs] == [(1, 31), (2, 28), (3, 31), (4, 30), (5, 31)]
    assert next_fire(start, 1, "month", utc(2026, 2, 28, 9, 0), UTC) == utc(2026, 3, 31, 9, 0)
    leap = occurrence(start, 1, "month", 37, UTC)
    assert (leap.year, leap.month, leap.day) == (2029, 2, 28)


def test_daily_jobs_keep_local_wall_time_across_daylight_saving() -> None:
    start = datetime(2026, 3, 27, 9, 0, tzinfo=AMS)  # Friday; DST starts Sunday 29 March
    runs = [occurrence(start, 1, "day", k, AMS).astimezone(AMS) for k in range(4)]
    assert [(r.day, r.hour) for r in runs] == [(27, 9), (28, 9), (29, 9), (30, 9)]


def test_a_daily_run_in_the_skipped_hour_runs_once_and_in_the_repeated_hour_once() -> None:
    spring = datetime(2026, 3, 28, 2, 30, tzinfo=AMS)  # 02:30 does not exist on 29 March
    runs = [occurrence(spring, 1, "day", k, AMS) for k in range(3)]
    assert len(set(runs)) == 3 and runs == sorted(runs)
    assert runs[1].astimezone(AMS).strftime("%H:%M") == "03:30"  # just after the gap
    assert runs[2].astimezone(AMS).strftime("%H:%M") == "02:30"
    autumn = datetime(2026, 10, 24, 2, 30, tzinfo=AMS)  # 02:30 happens twice on 25 October
    runs = [occurrence(autumn, 1, "day", k, AMS) for k in range(3)]
    assert runs[1] - runs[0] == timedelta(hours=24) and runs[2] - runs[1] == timedelta(hours=25)


def test_hourly_jobs_neither_skip_nor_double_when_clocks_change() -> None:
    start = utc(2026, 10, 24, 22, 0)  # through the autumn change in Amsterdam
    runs = [occurrence(start, 1, "hour", k, AMS) for k in range(8)]
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(runs))
    local_hours = [r.astimezone(AMS).strftime("%H:%M%z") for r in runs]
    assert local_hours.count("02:00+0200") == 1 and local_hours.count("02:00+0100") == 1


def test_missed_runs_are_counted() -> None:
    start = utc(2026, 3, 1, 10, 0)
    assert missed_between(start, 1, "hour", utc(2026, 3, 1, 11), utc(2026, 3, 1, 11, 30)) == 1
    assert missed_between(start, 1, "hour", utc(2026, 3, 1, 11), utc(2026, 3, 1, 15, 30)) == 5
    assert missed_between(start, 1, "hour", utc(2026, 3, 1, 11), utc(2026, 3, 1, 10, 30)) == 0


def _zone_in_a_process(tz: str) -> subprocess.CompletedProcess[str]:
    code = (
        "from console.core.jobs import timing\n"
        "from console.core.errors import ConsoleError\n"
        "try:\n    print(timing.local_zone_name())\n"
        "except ConsoleError as e:\n    print('refused:', e)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TZ": tz},
    )


def test_the_local_zone_is_the_platforms_and_a_bad_one_is_said_not_guessed() -> None:
    assert _zone_in_a_process("Asia/Tokyo").stdout.strip() == "Asia/Tokyo"
    bad = _zone_in_a_process("Nowhere/Atlantis").stdout
    assert bad.startswith("refused:") and "set TZ" in bad


def test_a_late_run_says_what_it_missed_or_how_late_it_is() -> None:
    start = utc(2026, 3, 1, 9)
    due = utc(2026, 3, 1, 10)
    on_time = late_note(start, 1, "hour", None, due, due + timedelta(seconds=5), waited=False)
    assert on_time is None
    late = late_note(start, 1, "hour", None, due, due + timedelta(minutes=5), waited=False)
    assert late is not None and late.startswith("running late: this run was due at")
    waited = late_note(start, 1, "hour", None, due, due + timedelta(seconds=5), waited=True)
    assert waited is not None and "lease of a worker that stopped answering" in waited
    missed = late_note(start, 1, "hour", None, due, due + timedelta(hours=3), waited=False)
    assert missed is not None and missed.startswith("missed 3 runs while no console or worker")
