"""How a run's end is worded in History."""

from __future__ import annotations

import signal
from datetime import UTC, datetime

from console.core.jobs.job_store import Job
from console.core.running.run_outcome import format_seconds, outcome


def job() -> Job:
    now = datetime.now(UTC)
    return Job(1, "j", 1, "hour", now, True, "", 60, 512, now, now, None, None)


def test_each_way_a_run_ends_is_said_in_one_line() -> None:
    assert outcome(job(), 0, {"ok": True}, None) == ("succeeded", None)
    assert outcome(job(), 0, {"ok": True}, "cancelled") == ("cancelled", "cancelled by the user")
    assert outcome(job(), 0, {"kind": "memory"}, None)[1] == "ran out of memory (limit 512 MiB)"
    assert outcome(job(), 3, {"kind": "exit", "code": 3}, None)[1] == "exited early with code 3"
    assert outcome(job(), -signal.SIGKILL, None, None)[1] == "crashed: killed by SIGKILL"
    assert format_seconds(2.345) == "2.3 s" and format_seconds(61.4) == "61 s"
