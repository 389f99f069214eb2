"""The scheduler: decides *when* enabled jobs run; the runner does the running.

A job's next run comes from the database, where `timing` put it: anchored to
the job's start time, in its own zone, calendar months included. `schedule`
can express none of that through its public API (it times a run from when
the previous one finished, and has no months or start anchors; see
docs/architecture.md), so it keeps only what it does well here: the periodic
housekeeping, through `every().seconds.do()` and `run_pending()`. The thread
sleeps until the earliest due time or until `wake()`, claims each due tick
with an atomic UPDATE (so any number of consoles and workers on one database
run it exactly once), takes the job's lease (so runs never overlap), and
hands the run to a thread of its own. User code never runs in this thread.

Over 500 lines, kept whole: the claim, the thread's loop and the retries
share one instance's wait state (what is due, claimed, waited for);
split, they would hand it back and forth. Timing lives in `jobs.timing`.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import schedule
import sqlalchemy as sa

from console.core.clock import Clock, utcnow
from console.core.config.settings import Settings
from console.core.jobs import timing
from console.core.jobs.job_store import Job, JobStore
from console.core.jobs.runs import LEASE_TTL, Run, RunLog
from console.core.running.runner import RunInputs, Runner
from console.core.scheduling.alerts import Alert, alert_for
from console.core.scheduling.events import Notices, held_notice, never_raising
from console.core.scheduling.retries import Retry, RetryQueue
from console.core.store import faults, schema
from console.core.store.cancel import Cancel
from console.core.store.changes import Change
from console.core.store.database import Store
from console.core.store.outage import Outage, is_unavailable

log = logging.getLogger(__name__)

#: Longest sleep: bounds how late a change made by another process (or a
#: machine waking from sleep) is noticed. One wake-up per interval is no
#: measurable CPU.
MAX_SLEEP_S = 15.0
#: How often a scheduler waiting for this console's dry run looks again.
HELD_RECHECK_S = 0.5
PURGE_EVERY = timedelta(hours=6)
#: How many due ticks one claim (one transaction) takes at most.
CLAIM_BATCH = 16
#: How often a step looks for runs whose console or worker went away.
ABANDONED_EVERY = timedelta(seconds=5)

Dispatch = Callable[[str, str | None], None]


@dataclass
class Claim:
    """A due tick this instance won."""

    job_name: str
    due: datetime
    note: str | None
    run: Run | None = None
    job: Job | None = None  # as the claim read it


@dataclass
class _Active:
    thread: threading.Thread
    cancel: Cancel = field(default_factory=Cancel)


class ConsoleScheduler:
    """Runs enabled jobs on time, in the window or a worker."""

    def __init__(
        self,
        store: Store,
        jobs: JobStore,
        runs: RunLog,
        runner: Runner,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        dispatch: Dispatch | None = None,
        on_event: Callable[[str], None] | None = None,
        on_alert: Callable[[Alert], None] | None = None,
        max_runs: int | None = None,
        claims: Store | None = None,
    ) -> None:
        self.store, self.jobs, self.runs, self.runner, self.settings = (
            store,
            jobs,
            runs,
            runner,
            settings,
        )
        self.clock = clock
        # The thread's own connections: its claims never queue for a
        # connection behind the runs it started (a hundred at once, say).
        self._claims = claims or store
        self._dispatch = dispatch
        self._on_event = never_raising(on_event or (lambda _message: None))
        #: At most this many runs at once (`worker --max-runs`); None: no cap.
        self.max_runs = max_runs
        #: What a window shows of the events: the database gone or back, runs waiting.
        self.notices = Notices(self._on_event)
        self.outage = Outage(self.notices)
        self._held_by: str | None = None  # the dry run of this console's runs wait for
        #: Told of each failure and recovery of a scheduled run (web hook,
        #: desktop notifications); called on the run's thread, never blocking it long.
        self.alert_listeners: list[Callable[[Alert], None]] = (
            [on_alert] if on_alert is not None else []
        )
        self.retries = RetryQueue(clock)
        #: enabled job id -> its next due time (UTC), as the database says,
        #: for the jobs due before the thread wakes anyway (`_sync`)
        self._due: dict[int, datetime] = {}
        self._later: datetime | None = None  # the earliest due beyond those
        self._enabled = 0
        #: job id -> when a dead worker's lease on it lapses: its tick waits till then
        self._not_before: dict[int, datetime] = {}
        self._waited: set[int] = set()
        # Won this step, started together after it: while a step claims, no
        # run of its own competes with it for the interpreter.
        self._claimed: list[Claim] = []
        # Each instance takes the ticks due at one instant in its own order,
        # so several workers spread over them instead of queueing on each.
        self._shuffle = random.Random()
        self._abandoned_at: datetime | None = None  # when to look for abandoned runs next
        self._housekeeping = schedule.Scheduler()
        self._housekeeping.every(int(PURGE_EVERY.total_seconds())).seconds.do(self._purge)
        self._purged = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._paused = threading.Event()
        self._thread: threading.Thread | None = None
        self._active: dict[str, _Active] = {}
        self._active_lock = threading.Lock()
        self.errors = 0
        #: Why the scheduler stopped by itself (a database that will not come back).
        self.fatal: str | None = None

    # -- life cycle ------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Look again now: a job was enabled, disabled, edited or deleted."""
        self._wake.set()

    def stop(self, grace_s: float = 5.0, *, why: str = "the console stopped") -> None:
        """Stop claiming; let running jobs finish up to `grace_s`, then end
        them: they are "interrupted", and their log says `why`."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for retry in self.retries.drop_all():
            self.runs.log(
                retry.job_name,
                "warning",
                f"retry {retry.attempt} of {retry.attempts} dropped: the console or worker stopped",
                run_id=retry.after_run_id,
            )
        with self._active_lock:
            active = list(self._active.values())
        for item in active:
            item.thread.join(timeout=grace_s)
        for item in active:
            item.cancel.interrupt(f"{why} before the run ended")
        for item in active:
            item.thread.join(timeout=grace_s + 3)
        if self._claims is not self.store:
            self._claims.dispose()

    def pause(self) -> None:
        """Claim nothing (ticks nor retries) until `resume`; runs going go on."""
        self._paused.set()
        self._wake.set()

    def resume(self) -> None:
        """Claim again; a tick missed while paused runs once, late, and says so."""
        self._paused.clear()
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def scheduled_count(self) -> int:
        """How many enabled jobs this scheduler keeps (as of its last look)."""
        return self._enabled

    def join_runs(self, timeout: float = 60.0) -> bool:
        """Wait for the runs in progress (and what follows each: its retry
        planned, its alerts sent) to end; False if some still run."""
        with self._active_lock:
            threads = [item.thread for item in self._active.values()]
        for thread in threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in threads)

    def active_runs(self) -> list[str]:
        with self._active_lock:
            return list(self._active)

    # -- one step (the thread's loop, and tests with a fake clock) ---------

    def step(self) -> float | None:
        """Sync with the database, run what is due; seconds until the next due."""
        holder = self.runner.holding
        if holder != self._held_by:  # a SQLite dry run of this console holds the write lock
            self._held_by = holder
            self.notices(held_notice(holder))
        if holder is not None:
            return HELD_RECHECK_S  # late, never failed on the lock
        if self._abandoned_at is None or self.clock() >= self._abandoned_at:
            # Runs whose console or worker went away: a lease lapses in 30 s,
            # so a look every few seconds is soon enough (and a step comes
            # many times a second while hundreds of ticks are claimed).
            self.runs.interrupt_abandoned()
            self._abandoned_at = self.clock() + ABANDONED_EVERY
        self.runner.replay_spool()  # logs kept while the database was away
        self._sync()
        if self._paused.is_set():
            return None  # asleep until resumed (a wake)
        now = self.clock()
        due_now = [job_id for job_id in self._due if self._wake_at(job_id) <= now]
        self._shuffle.shuffle(due_now)
        due_now.sort(key=self._due.__getitem__)  # stable: the shuffle orders equal dues
        try:
            while due_now and not self._stopping.is_set():
                room = self.room()
                if room == 0:
                    break  # at --max-runs: the ticks are left to other workers, or to later
                batch = CLAIM_BATCH if room is None else min(room, CLAIM_BATCH)
                self._fire(due_now[:batch])
                del due_now[:batch]
        finally:  # the ticks won are runs recorded: they start now, whatever failed after
            self._start_claimed()
        self._run_due_retries()  # after the ticks: a tick due as well wins
        if not self._purged:  # once at start, then every PURGE_EVERY
            self._purged = True
            self._purge()
        self._housekeeping.run_pending()
        idle = [t for t in (self.idle_seconds(), self.retries.idle_seconds()) if t is not None]
        if not self.has_room() and any(t <= 0 for t in idle):
            return MAX_SLEEP_S  # at --max-runs: a run that ends wakes the loop
        return min(idle, default=None)

    def has_room(self) -> bool:
        """Below this instance's cap on concurrent runs (if it has one)."""
        return self.room() != 0

    def room(self) -> int | None:
        """How many more runs this instance may start (None: no cap)."""
        if self.max_runs is None:
            return None
        with self._active_lock:
            return max(0, self.max_runs - len(self._active) - len(self._claimed))

    def _wake_at(self, job_id: int) -> datetime:
        due, later = self._due[job_id], self._not_before.get(job_id)
        return due if later is None else max(due, later)

    def idle_seconds(self) -> float | None:
        """Seconds until the earliest due job (negative when late), None with none."""
        if not self._due:
            return None if self._later is None else (self._later - self.clock()).total_seconds()
        return (min(map(self._wake_at, self._due)) - self.clock()).total_seconds()

    def next_due(self) -> tuple[str, datetime] | None:
        """The enabled job that runs next, and when."""
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(schema.jobs.c.name, schema.jobs.c.next_run_at)
                .where(schema.jobs.c.enabled.is_(True), schema.jobs.c.next_run_at.is_not(None))
                .order_by(schema.jobs.c.next_run_at)
                .limit(1)
            ).one_or_none()
        return None if row is None else (row.name, row.next_run_at)

    def _loop(self) -> None:
        self._on_event("scheduler started")
        while not self._stopping.is_set():
            try:
                idle = self.step()
                self.outage.ok()
            except Exception as e:  # the scheduler outlives any error, and says so
                self.errors += 1
                if faults.is_fatal(e):  # the database is gone or corrupt: stop, say why
                    self.fatal = faults.describe(e)
                    self._on_event(f"stopping: {self.fatal}")
                    self._stopping.set()
                    break
                if is_unavailable(e):  # one line per outage, then quiet retries
                    idle = self.outage.failed(e)
                else:
                    log.exception("scheduler step failed")
                    idle = MAX_SLEEP_S
            wait = MAX_SLEEP_S if idle is None else max(0.0, min(idle, MAX_SLEEP_S))
            self._wake.wait(wait)
            self._wake.clear()
        self._on_event("scheduler stopped")

    def _sync(self) -> None:
        # Only the jobs due before the thread wakes anyway, and the earliest of
        # the rest: with hundreds of jobs, reading them all at every step is
        # most of a worker's CPU.
        jobs = schema.jobs
        enabled = (jobs.c.enabled.is_(True), jobs.c.next_run_at.is_not(None))
        horizon = self.clock() + timedelta(seconds=MAX_SLEEP_S)
        with self._claims.read() as conn:
            rows = conn.execute(
                sa.select(jobs.c.id, jobs.c.next_run_at).where(
                    *enabled, jobs.c.next_run_at <= horizon
                )
            ).all()
            self._enabled, self._later = conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.min(jobs.c.next_run_at).filter(jobs.c.next_run_at > horizon),
                ).where(*enabled)
            ).one()
        due = {r.id: r.next_run_at for r in rows}
        for job_id in list(self._not_before):
            if due.get(job_id) != self._due.get(job_id):  # claimed elsewhere, or edited
                del self._not_before[job_id]
                self._waited.discard(job_id)
        self._due = due

    def _still_due(self, job_ids: list[int]) -> list[int]:
        """Those of `job_ids` still due, as the database says now: while
        several workers share hundreds of due ticks, each would otherwise
        spend a claim (a write lock) on ticks another has already won."""
        jobs = schema.jobs
        with self._claims.read() as conn:
            due = set(
                conn.execute(
                    sa.select(jobs.c.id).where(
                        jobs.c.id.in_(job_ids),
                        jobs.c.enabled.is_(True),
                        jobs.c.next_run_at <= self.clock(),
                    )
                ).scalars()
            )
        return [job_id for job_id in job_ids if job_id in due]

    def _fire(self, job_ids: list[int]) -> None:
        due = self._still_due(job_ids)
        for job_id in set(job_ids) - set(due):  # the next sync, at once, says when it is due now
            self._not_before[job_id] = self.clock() + timedelta(milliseconds=1)
        if not due:
            return
        claims, moved = self.claim(due)
        for claim in claims:
            self._on_event(f"running {claim.job_name} (due {claim.due.astimezone():%H:%M:%S})")
            try:
                if self._dispatch is not None:
                    self._dispatch(claim.job_name, claim.note)
                else:  # started once every due tick is claimed (`_start_claimed`)
                    self._claimed.append(claim)
            except Exception:  # one job's failure never keeps the others due now from running
                self.errors += 1
                log.exception("could not start %s", claim.job_name)
                self._on_event(f"{claim.job_name} could not start; see the log")
        # Where each job's next tick is now (ours or another instance's claim
        # moved it on), except those waiting for a lease to lapse.
        unknown = [j for j in due if j not in moved and j not in self._not_before]
        if unknown:  # being claimed by another instance at this moment
            with self._claims.read() as conn:
                rows = conn.execute(
                    sa.select(schema.jobs.c.id, schema.jobs.c.next_run_at).where(
                        schema.jobs.c.id.in_(unknown)
                    )
                ).all()
            moved.update((row.id, row.next_run_at) for row in rows)
        for job_id in due:
            if job_id in self._not_before:
                continue  # waits for a lease to lapse; its due is unchanged
            following = moved.get(job_id)
            if following is None:
                self._due.pop(job_id, None)
            else:
                self._due[job_id] = following

    def claim(self, job_ids: list[int]) -> tuple[list[Claim], dict[int, datetime | None]]:
        """Win this instance the due ticks of `job_ids`, in one transaction.
        Returns the ticks won, and where each job's next tick now is, for the
        jobs that tells (those another instance is claiming at this moment
        are left out). A tick is not won when it is not due, another instance
        had it, or the previous run still holds the job's lease: skipped,
        with a warning in the log; or, when the holder has not been heard
        from since the tick came due (a dead worker, maybe), kept until its
        lease lapses. A tick won is a run recorded in the same transaction:
        it is never lost with its worker."""
        now = self.clock()
        claims: list[Claim] = []
        moved: dict[int, datetime | None] = {}
        skipped: list[tuple[str, datetime]] = []
        waits: dict[int, datetime] = {}  # job -> when a lease it waits for lapses
        with self._claims.write() as conn:
            locked = JobStore.lock_in(conn, job_ids)
            due_jobs = []
            for job in locked:
                if job.enabled and job.next_run_at is not None and job.next_run_at <= now:
                    due_jobs.append(job)
                else:  # claimed and committed by another instance, or disabled
                    moved[job.id] = job.next_run_at if job.enabled else None
            leases = RunLog.leases_in(conn, [job.id for job in due_jobs])
            advance: list[tuple[int, datetime, datetime | None, datetime | None]] = []
            starts: list[tuple[Job, datetime, int]] = []
            notes: dict[int, str | None] = {}
            for job in due_jobs:
                assert job.next_run_at is not None
                due = job.next_run_at
                lease: Any = leases.get(job.id)  # a row every job has (None: never mind)
                live = RunLog.lease_is_live_in(conn, lease, now)
                if live and (lease.heartbeat_at or lease.expires_at - LEASE_TTL) < due:
                    # Maybe a dead worker's lease: look again when it lapses. A
                    # live run will have heartbeaten by then, and the tick is
                    # skipped as before.
                    waits[job.id] = lease.expires_at + timedelta(milliseconds=1)
                    continue
                waited = job.id in self._waited
                following = job.next_fire(now)
                moved[job.id] = following
                if live:  # the previous run is still going
                    advance.append((job.id, due, following, None))
                    skipped.append((job.name, due))
                    continue
                advance.append((job.id, due, following, now))
                starts.append((job, due, job.retries + 1))
                notes[job.id] = timing.late_note(
                    job.start_at, job.interval, job.unit, job.zone, due, now, waited
                )
            JobStore.advance_in(conn, advance)
            runs = RunLog.start_many_in(conn, starts, self.runner.owner, now)
            for (job, due, _attempts), run in zip(starts, runs, strict=True):
                claims.append(Claim(job.name, due, notes[job.id], run, job))
            if advance:
                self._claims.announce(conn, Change("jobs"))  # their next runs moved
            if runs:
                self._claims.announce(conn, Change("runs"))
        # Committed: now what this instance waits for, and what it waited for.
        for job_id in moved:
            self._not_before.pop(job_id, None)
            self._waited.discard(job_id)
        self._not_before.update(waits)
        self._waited.update(waits)
        for name, due in skipped:
            self.runs.log(
                name,
                "warning",
                f"skipped the run due at {due.astimezone():%H:%M:%S}: "
                "the previous run is still going",
            )
        return claims, moved

    def _start_claimed(self) -> None:
        claimed, self._claimed = self._claimed, []
        if not claimed:
            return
        # Read once for them all: no run waits on the database to start.
        inputs: RunInputs | None
        try:
            inputs = self.runner.inputs()
        except Exception:  # each run reads for itself, and fails on its own if it must
            log.exception("could not read the runs' settings ahead")
            inputs = None
        for claim in claimed:
            try:
                self._start_run(claim.job_name, claim.note, claim=claim, inputs=inputs)
            except Exception:  # one job's failure never keeps the others from running
                self.errors += 1
                log.exception("could not start %s", claim.job_name)
                self._on_event(f"{claim.job_name} could not start; see the log")

    def _start_run(
        self,
        name: str,
        note: str | None,
        retry: Retry | None = None,
        claim: Claim | None = None,
        inputs: RunInputs | None = None,
    ) -> None:
        """Run the job on a thread of its own: a retry, or a tick this
        instance claimed (its run recorded, its job read) with the inputs
        read for it ahead."""
        item = _Active(
            threading.Thread(
                target=self._execute, args=(name, note, retry, claim, inputs), name=f"run-{name}"
            )
        )
        with self._active_lock:
            self._active[name] = item
        item.thread.start()

    def _execute(
        self,
        name: str,
        note: str | None,
        retry: Retry | None = None,
        claim: Claim | None = None,
        inputs: RunInputs | None = None,
    ) -> None:
        with self._active_lock:
            mine = self._active[name]
        cancel = mine.cancel
        try:
            run = self.runner.run(
                name,
                trigger="schedule",
                lease_held=True,
                note=note,
                cancel=cancel,
                attempt=retry.attempt if retry else 1,
                attempts=retry.attempts if retry else None,
                run=claim.run if claim else None,
                job=claim.job if claim else None,
                inputs=inputs,
            )
            self._on_event(f"{name} {run.status}" + (f": {run.error}" if run.error else ""))
            self._after_run(run)
        except Exception as e:  # a job's failure never stops the scheduler
            if is_unavailable(e):
                self.outage.failed(e)  # said once for the whole outage
            else:
                self._on_event(f"{name} could not run: {e}")
        finally:
            with self._active_lock:
                if self._active.get(name) is mine:  # not the retry it planned
                    self._active.pop(name)
            if self.max_runs is not None:
                self._wake.set()  # room for another run

    def _after_run(self, run: Run) -> None:
        """Plan a retry of a failed attempt, and tell the listeners of a
        failure (no retry follows) or a recovery."""
        retry, message = None, None
        if self.retries.may_retry(run):  # else no need to read the job again
            job = self.jobs.get_by_id(run.job_id)
            if job is not None:
                retry, message = self.retries.plan(job, run)
        if message:
            self.runs.log(run.job_name, "warning", message, run_id=run.id)
        if retry is not None:
            self._on_event(f"{run.job_name}: {message}")
            self._wake.set()
            return
        alert = alert_for(self.runs, run)
        if alert is None:
            return
        for listener in list(self.alert_listeners):
            try:
                listener(alert)
            except Exception:  # a listener's failure is never the run's
                log.exception("alert listener failed")

    def _run_due_retries(self) -> None:
        for retry in self.retries.pop_due():
            if self._stopping.is_set():
                return
            job = self.jobs.get_by_id(retry.job_id)
            why = self.retries.moot(retry, job)
            if why is None and not self.runs.acquire(retry.job_id, self.runner.owner):
                why = "retry skipped: the job is running already"
            if why is not None:
                if job is not None:
                    self.runs.log(job.name, "warning", why, run_id=retry.after_run_id)
                continue
            self._on_event(
                f"retrying {retry.job_name} (attempt {retry.attempt} of {retry.attempts})"
            )
            try:
                self._start_run(retry.job_name, None, retry)
            except Exception:
                self.errors += 1
                self.runs.release(retry.job_id, self.runner.owner)
                log.exception("could not retry %s", retry.job_name)

    def _purge(self) -> None:
        self.runs.purge(int(self.settings.get("log_retention_days")))
