"""Retries of a failed scheduled run: how many, how long to wait, when to give up.

A job retries a scheduled run that failed or timed out (never one the user
cancelled) up to `retries` times, waiting `retry_delay_s` before the first
retry and twice as long before each next one. A retry never overlaps the
job's next scheduled run: when that comes first, the remaining retries are
dropped and the run's log says so. Pending retries live in the console or
worker that ran the failed attempt; the job's lease keeps them from
overlapping a run started anywhere else.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from console.core.clock import Clock
from console.core.jobs.retry_policy import RETRIED, backoff, format_wait, retries_left

if TYPE_CHECKING:
    from console.core.jobs.job_store import Job
    from console.core.jobs.runs import Run


@dataclass(frozen=True)
class Retry:
    """A retry waiting for its time."""

    job_id: int
    job_name: str
    attempt: int
    attempts: int
    due: datetime
    #: When the failed attempt started: a run of the job started since then
    #: (the next tick, a Run Once) makes this retry moot.
    after: datetime
    after_run_id: int
    #: The job's next scheduled run when the retry was planned: due by then,
    #: that run comes first.
    before: datetime | None = None


class RetryQueue:
    """The retries this console or worker owes, soonest first."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._pending: dict[int, Retry] = {}
        self._lock = threading.Lock()

    @staticmethod
    def may_retry(run: Run) -> bool:
        """Whether the ended run has attempts left that it may earn."""
        return run.status in RETRIED and run.attempt < run.attempts

    def plan(self, job: Job, run: Run) -> tuple[Retry | None, str | None]:
        """After a scheduled run ended: the retry it earns, if any, and the
        line for its log (a retry planned, or the retries dropped)."""
        if not self.may_retry(run):
            return None, None
        left = run.attempts - run.attempt
        if not job.enabled:
            return None, f"{retries_left(left)} dropped: the job is disabled"
        wait = backoff(job.retry_delay_s, run.attempt)
        due = (run.ended_at or self.clock()) + wait
        if job.next_run_at is not None and due >= job.next_run_at:
            return None, (
                f"{retries_left(left)} dropped: attempt {run.attempt + 1} of {run.attempts} would "
                f"start at {due.astimezone():%H:%M:%S}, not before the next scheduled run "
                f"at {job.next_run_at.astimezone():%H:%M:%S}"
            )
        retry = Retry(
            job.id,
            job.name,
            run.attempt + 1,
            run.attempts,
            due,
            run.started_at,
            run.id,
            job.next_run_at,
        )
        with self._lock:
            self._pending[job.id] = retry
        return retry, (
            f"retrying in {format_wait(wait)}, at {due.astimezone():%H:%M:%S} "
            f"(attempt {retry.attempt} of {retry.attempts})"
        )

    def pop_due(self) -> list[Retry]:
        now = self.clock()
        with self._lock:
            due = [r for r in self._pending.values() if r.due <= now]
            for retry in due:
                del self._pending[retry.job_id]
        return sorted(due, key=lambda r: r.due)

    def idle_seconds(self) -> float | None:
        """Seconds until the soonest retry, or None with none pending."""
        with self._lock:
            soonest = min((r.due for r in self._pending.values()), default=None)
        return None if soonest is None else (soonest - self.clock()).total_seconds()

    def drop_all(self) -> list[Retry]:
        """Forget every pending retry (the console is stopping); returns them."""
        with self._lock:
            dropped, self._pending = list(self._pending.values()), {}
        return dropped

    def pending(self) -> list[Retry]:
        with self._lock:
            return sorted(self._pending.values(), key=lambda r: r.due)

    def moot(self, retry: Retry, job: Job | None) -> str | None:
        """Why a due retry must not run now, or None when it should."""
        left = retry.attempts - retry.attempt + 1
        if job is None:
            return "the job was deleted"
        if not job.enabled:
            return f"{retries_left(left)} dropped: the job was disabled"
        came_first = retry.before is not None and self.clock() >= retry.before
        if came_first or (job.last_run_at is not None and job.last_run_at > retry.after):
            return f"{retries_left(left)} dropped: the next run came first"
        if job.next_run_at is not None and job.next_run_at <= retry.due:
            return f"{retries_left(left)} dropped: the next scheduled run is due first"
        return None
