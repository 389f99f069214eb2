"""Failures and recoveries of scheduled runs: what the web hook and the
desktop notifications report.

A failure is a scheduled run that failed or timed out with no retry to
follow; a recovery is a success after such a failure. Attempts that a retry
then makes good are neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.core.jobs.retry_policy import RETRIED
from console.core.jobs.runs import Run, RunLog

FAILED, RECOVERED = "failed", "recovered"


@dataclass(frozen=True)
class Alert:
    """A run worth telling someone about."""

    kind: str  # FAILED or RECOVERED
    run: Run

    @property
    def error_line(self) -> str:
        """The first line of the run's error ("" for a recovery)."""
        return (self.run.error or "").strip().splitlines()[0] if self.run.error else ""

    def payload(self) -> dict[str, Any]:
        """The web hook's JSON body."""
        run = self.run
        return {
            "job": run.job_name,
            "run": run.id,
            "attempt": run.attempt,
            "status": run.status,
            "error": run.error,
            "started": run.started_at.isoformat(),
            "ended": run.ended_at.isoformat() if run.ended_at else None,
        }


def alert_for(runs: RunLog, run: Run) -> Alert | None:
    """The alert a finished run (with no retry to follow) deserves, if any."""
    if run.status in RETRIED:
        return Alert(FAILED, run)
    if run.status != "succeeded":
        return None
    # The outcome before this run's chain of attempts: its own earlier
    # attempts failed unreported, so they are skipped.
    after_failure = run.follows_failure  # as the run's end read it
    if after_failure is None:
        after_failure = runs.outcome_before(run, skip=run.attempt - 1) in RETRIED
    return Alert(RECOVERED, run) if after_failure else None
