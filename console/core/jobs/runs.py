"""Run records, their logs, and the lease that keeps one job from running twice
at once, across every console and worker on a database.

Over 500 lines, kept whole: `RunLog` is the only writer of the runs, log
entries and leases tables, and a run's start, lease and end are written in
the same transactions; split, the owner of those tables would be two.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from console.core.clock import Clock, utcnow
from console.core.jobs import owners
from console.core.jobs import versions as script_versions
from console.core.jobs.retry_policy import RETRIED
from console.core.jobs.run_statements import (
    ENDED,
    ENDED_LATE,
    LET_GO,
    OUTCOME_BEFORE,
    STILL_RUNNING,
    STORED_END,
)
from console.core.store import schema
from console.core.store.changes import Change
from console.core.store.database import Store

LEVELS = ("information", "warning", "error")
LEASE_TTL = timedelta(seconds=30)


@dataclass(frozen=True)
class Run:
    id: int
    job_id: int
    job_name: str
    trigger: str
    status: str
    owner: str
    started_at: datetime
    ended_at: datetime | None
    error: str | None
    rows_written: int
    #: Attempt k of N: a scheduled run and its retries (N = 1 + the job's retries).
    attempt: int = 1
    attempts: int = 1
    #: The scheduled tick a run was for (None for Run Once and retries).
    due_at: datetime | None = None
    #: The job's script version it started with (None: a run from before
    #: versions were recorded on runs).
    script_version: int | None = None
    #: Whether the job's last run before this run's chain of attempts failed
    #: or timed out (a recovery's question), as the run's end read it; None:
    #: not read (`RunLog.outcome_before` then).
    follows_failure: bool | None = None

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class LogEntry:
    id: int
    run_id: int | None
    job_name: str | None
    at: datetime
    level: str
    message: str


class RunLog:
    """Runs and log entries of one database."""

    def __init__(self, store: Store, clock: Clock = utcnow) -> None:
        self.store = store
        self.clock = clock

    # -- leases ----------------------------------------------------------

    @staticmethod
    def add_lease_in(conn: sa.Connection, job_id: int) -> None:
        """A new job's lease row, free (inside the job's creating transaction)."""
        conn.execute(schema.leases.insert().values(job_id=job_id))

    def acquire(self, job_id: int, owner: str, ttl: timedelta = LEASE_TTL) -> bool:
        """Take the job's lease if nobody holds a live one (an atomic UPDATE)."""
        with self.store.write() as conn:
            return self.acquire_in(conn, job_id, owner, self.clock(), ttl)

    @staticmethod
    def acquire_in(
        conn: sa.Connection, job_id: int, owner: str, now: datetime, ttl: timedelta = LEASE_TTL
    ) -> bool:
        lease = schema.leases
        free = sa.or_(lease.c.owner.is_(None), lease.c.expires_at < now)
        holder = conn.execute(sa.select(lease.c.owner).where(lease.c.job_id == job_id)).scalar()
        if holder is not None and RunLog.owner_gone_in(conn, holder):
            # Its console died on this machine: no need to wait for the lease to lapse.
            free = sa.or_(free, lease.c.owner == holder)
        taken = conn.execute(
            lease.update()
            .where(lease.c.job_id == job_id, free)
            .values(owner=owner, expires_at=now + ttl, heartbeat_at=now, run_id=None)
        ).rowcount
        return bool(taken)

    @staticmethod
    def leases_in(conn: sa.Connection, job_ids: Collection[int]) -> dict[int, Any]:
        """The jobs' leases (owner, expires_at, heartbeat_at), locked for the
        caller's claim: nobody takes or lets go of one until it commits."""
        lease = schema.leases
        rows = conn.execute(
            sa.select(lease.c.job_id, lease.c.owner, lease.c.expires_at, lease.c.heartbeat_at)
            .where(lease.c.job_id.in_(list(job_ids)))
            .with_for_update()
        ).all()
        return {row.job_id: row for row in rows}

    @staticmethod
    def lease_is_live_in(conn: sa.Connection, lease: Any, now: datetime) -> bool:
        """Whether a lease row (`leases_in`) is held by someone still running."""
        if lease is None or lease.owner is None or lease.expires_at < now:
            return False
        return not RunLog.owner_gone_in(conn, lease.owner)

    @classmethod
    def start_many_in(
        cls,
        conn: sa.Connection,
        starts: Sequence[tuple[Any, datetime, int]],
        owner: str,
        now: datetime,
    ) -> list[Run]:
        """Record scheduled runs as started, each with its job's lease taken
        and pointing at it, inside the caller's claim (whose `leases_in` found
        the leases free): (job, due, attempts) each. One statement for all."""
        if not starts:
            return []
        cls.fail_abandoned_in(conn, [job.id for job, _, _ in starts], now)
        versions = script_versions.current_in(conn, [job.id for job, _, _ in starts])
        rows = [
            {
                "job_id": job.id,
                "job_name": job.name,
                "trigger": "schedule",
                "status": "running",
                "owner": owner,
                "started_at": now,
                "rows_written": 0,
                "attempt": 1,
                "attempts": attempts,
                "due_at": due,
                "script_version": versions[job.id],
            }
            for job, due, attempts in starts
        ]
        ids = (
            conn.execute(
                schema.runs.insert().returning(schema.runs.c.id, sort_by_parameter_order=True),
                rows,
            )
            .scalars()
            .all()
        )
        lease = schema.leases
        taken = conn.execute(
            lease.update()
            .where(lease.c.job_id == sa.bindparam("j"))
            .values(
                owner=owner,
                expires_at=now + LEASE_TTL,
                heartbeat_at=now,
                run_id=sa.bindparam("r"),
            ),
            [{"j": job.id, "r": run_id} for (job, _, _), run_id in zip(starts, ids, strict=True)],
        ).rowcount
        if conn.dialect.supports_sane_multi_rowcount and taken != len(starts):
            raise RuntimeError(f"{len(starts) - taken} of the jobs' leases are missing")
        return [
            _run({**row, "id": run_id, "ended_at": None, "error": None})
            for row, run_id in zip(rows, ids, strict=True)
        ]

    @staticmethod
    def owner_gone_in(conn: sa.Connection, owner: str) -> bool:
        """True when the console or worker `owner` has surely ended: a worker
        that said goodbye, or whose process on this machine is gone (by the
        host and pid it registered, whatever its name), or a console of this
        machine whose process is gone. False when it cannot be told."""
        w = schema.workers
        worker = conn.execute(
            sa.select(w.c.host, w.c.pid, w.c.stopped_at).where(w.c.name == owner)
        ).one_or_none()
        if worker is None:
            return owners.gone(owner)
        return worker.stopped_at is not None or owners.process_gone(worker.host, worker.pid)

    def heartbeat(self, job_id: int, owner: str, run_id: int | None = None, rows: int = 0) -> bool:
        """Keep `owner`'s lease live, noting the `rows` run `run_id` wrote so far.
        False when the run is no longer `owner`'s (lease gone, or run abandoned)."""
        with self.store.write() as conn:
            if not self._beat_in(conn, job_id, owner, self.clock()):
                return False
            return run_id is None or bool(
                conn.execute(STILL_RUNNING, {"run": run_id, "rows": rows}).rowcount
            )

    @staticmethod
    def _beat_in(conn: sa.Connection, job_id: int, owner: str, now: datetime, **also: Any) -> bool:
        """Keep `owner`'s lease of the job live; `also`: more of the lease to
        set (the run it points at). False if `owner` does not hold it."""
        lease = schema.leases
        live = {"expires_at": now + LEASE_TTL, "heartbeat_at": now, **also}
        stmt = lease.update().where(lease.c.job_id == job_id, lease.c.owner == owner).values(live)
        return bool(conn.execute(stmt).rowcount)

    @staticmethod
    def live_holder_in(conn: sa.Connection, job_id: int, now: datetime) -> str | None:
        """Who runs the job now, if its lease is live and its holder alive."""
        lease = conn.execute(
            sa.select(schema.leases.c.owner, schema.leases.c.expires_at).where(
                schema.leases.c.job_id == job_id
            )
        ).one_or_none()
        if lease is None or lease.owner is None or lease.expires_at < now:
            return None
        return None if RunLog.owner_gone_in(conn, lease.owner) else str(lease.owner)

    def release(self, job_id: int, owner: str) -> None:
        with self.store.write() as conn:
            conn.execute(
                schema.leases.update()
                .where(schema.leases.c.job_id == job_id, schema.leases.c.owner == owner)
                .values(owner=None, expires_at=None, run_id=None)
            )

    # -- runs ------------------------------------------------------------

    def start(
        self,
        job_id: int,
        job_name: str,
        trigger: str,
        owner: str,
        *,
        attempt: int = 1,
        attempts: int = 1,
    ) -> Run:
        with self.store.write() as conn:
            now = self.clock()
            run = self.start_in(
                conn, job_id, job_name, trigger, owner, now, attempt=attempt, attempts=attempts
            )
            self.store.announce(conn, Change("runs", job_name))
        return run

    def begin_in(
        self,
        conn: sa.Connection,
        job: Any,
        trigger: str,
        owner: str,
        *,
        take_lease: bool,
        attempt: int,
        attempts: int,
    ) -> Run | None:
        """A run started by hand, in the caller's transaction: the job's lease
        taken (`take_lease`; None when someone holds a live one), the run
        recorded, and the lease pointing at it."""
        now = self.clock()
        if take_lease and not self.acquire_in(conn, job.id, owner, now):
            return None
        run = self.start_in(
            conn, job.id, job.name, trigger, owner, now, attempt=attempt, attempts=attempts
        )
        self._beat_in(conn, job.id, owner, now, run_id=run.id)
        self.store.announce(conn, Change("runs", job.name))
        return run

    @classmethod
    def start_in(
        cls,
        conn: sa.Connection,
        job_id: int,
        job_name: str,
        trigger: str,
        owner: str,
        now: datetime,
        *,
        attempt: int = 1,
        attempts: int = 1,
    ) -> Run:
        """Record a run as started, inside the caller's transaction (the
        scheduler's claim: a tick won is a run recorded, whatever happens next)."""
        cls.fail_abandoned_in(conn, job_id, now)
        version = script_versions.current_in(conn, [job_id])[job_id]
        run_id = conn.execute(
            schema.runs.insert()
            .values(
                job_id=job_id,
                job_name=job_name,
                trigger=trigger,
                status="running",
                owner=owner,
                started_at=now,
                rows_written=0,
                attempt=attempt,
                attempts=attempts,
                script_version=version,
            )
            .returning(schema.runs.c.id)
        ).scalar_one()
        return Run(
            run_id,
            job_id,
            job_name,
            trigger,
            "running",
            owner,
            now,
            None,
            None,
            0,
            attempt,
            attempts,
            script_version=version,
        )

    @staticmethod
    def abandoned_in(
        conn: sa.Connection, job_id: int | Collection[int] | None, now: datetime
    ) -> list[tuple[int, str]]:
        """The runs left `running` by a console or worker that went away (its
        lease lapsed, or its process is gone from this machine): (run id, the
        error saying which one and when it was last heard from). Every job's
        when `job_id` is None. Reads only."""
        runs, lease = schema.runs, schema.leases
        stmt = (
            sa.select(
                runs.c.id,
                runs.c.owner,
                lease.c.owner.label("holder"),
                lease.c.expires_at,
                lease.c.heartbeat_at,
            )
            .select_from(runs.outerjoin(lease, lease.c.job_id == runs.c.job_id))
            .where(runs.c.status == "running")
            .order_by(runs.c.id)  # one order for every writer: no deadlock between them
        )
        if isinstance(job_id, int):
            stmt = stmt.where(runs.c.job_id == job_id)
        elif job_id is not None:
            stmt = stmt.where(runs.c.job_id.in_(list(job_id)))
        gone: dict[str, bool] = {}  # asked once per owner: hundreds of runs, a few workers
        found = []
        for row in conn.execute(stmt).all():
            held = row.holder == row.owner and row.expires_at is not None
            if held and row.expires_at >= now:
                if row.owner not in gone:
                    gone[row.owner] = RunLog.owner_gone_in(conn, row.owner)
                if not gone[row.owner]:
                    continue  # live
            heard = row.heartbeat_at if row.holder == row.owner else None
            when = f"; last heard from at {heard:%Y-%m-%d %H:%M:%S} UTC" if heard else ""
            found.append(
                (row.id, f"interrupted: {row.owner}, which ran it, stopped before it ended{when}")
            )
        return found

    @staticmethod
    def fail_abandoned_in(
        conn: sa.Connection, job_id: int | Collection[int] | None, now: datetime
    ) -> int:
        """Mark `interrupted` the runs `abandoned_in` finds. Returns how many."""
        runs = schema.runs
        count = 0
        for run_id, error in RunLog.abandoned_in(conn, job_id, now):
            count += conn.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.status == "running")
                .values(status="interrupted", ended_at=now, error=error)
            ).rowcount
        return count

    def interrupt_abandoned(self) -> int:
        """`fail_abandoned_in` for every job, in its own transaction; read
        first, so that the usual case (none) writes nothing and takes no lock."""
        now = self.clock()
        with self.store.read() as conn:
            if not self.abandoned_in(conn, None, now):
                return 0
        with self.store.write() as conn:
            count = self.fail_abandoned_in(conn, None, now)
            if count:
                self.store.announce(conn, Change("runs"))
            return count

    def finish(self, run_id: int, status: str, error: str | None, rows_written: int) -> None:
        with self.store.write() as conn:
            conn.execute(
                schema.runs.update()
                .where(schema.runs.c.id == run_id)
                .values(
                    status=status, error=error, rows_written=rows_written, ended_at=self.clock()
                )
            )
            self.store.announce(conn, Change("runs"))

    def end(
        self,
        run: Run,
        status: str,
        error: str | None,
        rows_written: int,
        lines: Sequence[tuple[datetime, str, str]],
        owner: str,
    ) -> Run:
        """A run's end in one transaction: its last log lines, its outcome,
        and the job's lease released. Returns the run as ended."""
        now = self.clock()
        with self.store.write() as conn:
            # The lease before the run, as a claim that takes it for abandoned locks them.
            conn.execute(LET_GO, {"lease_job": run.job_id, "lease_owner": owner})
            ended = {"run": run.id, "end_at": now, "end_status": status, "end_error": error}
            ended |= {"end_rows": rows_written}
            if not conn.execute(ENDED, ended).rowcount:  # another console ended it first
                line, (status, error, rows_written, now) = self._end_late_in(conn, ended)
                lines = [*lines, line]
            # What an alert asks of a run, read here, not in a transaction of its own.
            before = conn.execute(
                OUTCOME_BEFORE, {"job": run.job_id, "below": run.id, "skip": run.attempt - 1}
            ).scalar()
            if lines:  # its NOTIFY with the run's, in one statement
                self._append_in(conn, run.id, run.job_name, lines, also=Change("runs"))
            else:
                self.store.announce(conn, Change("runs"))
        done: dict[str, Any] = {"status": status, "error": error, "rows_written": rows_written}
        return replace(run, **done, ended_at=now, follows_failure=before in RETRIED)

    @staticmethod
    def _end_late_in(conn: sa.Connection, ended: dict[str, Any]) -> tuple[Any, Any]:
        """A run another console took for abandoned (this one stopped, or cut
        off): its own end replaces that `interrupted`. The line for its log
        that says so, and the run's record as it then stands."""
        before = conn.execute(STORED_END, ended).one()
        why = (before.error or "").removeprefix(f"{before.status}: ")
        told = f"{before.status} at {before.ended_at:%H:%M:%S} UTC ({why})"
        if before.status == "interrupted" and ended["end_status"] != "interrupted":
            conn.execute(ENDED_LATE, ended)
            told = f"Another console had recorded this run as {told}; it went on, and ended here"
        else:
            told = f"The run was ended already, {told}; that record stands"
        line = (ended["end_at"], "warning", told)
        return line, tuple(conn.execute(STORED_END, ended).one())

    def get(self, run_id: int) -> Run:
        with self.store.read() as conn:
            row = conn.execute(sa.select(schema.runs).where(schema.runs.c.id == run_id)).one()
        return _run(row._mapping)

    def runs(self, job_id: int | None = None, limit: int = 50) -> list[Run]:
        """Newest first."""
        stmt = sa.select(schema.runs).order_by(schema.runs.c.id.desc()).limit(limit)
        if job_id is not None:
            stmt = stmt.where(schema.runs.c.job_id == job_id)
        with self.store.read() as conn:
            return [_run(r._mapping) for r in conn.execute(stmt)]

    def recent_by_job(self, limit: int = 20) -> dict[int, list[Run]]:
        """Each job's last `limit` runs by job id, oldest first (the sparklines)."""
        runs = schema.runs
        number = sa.func.row_number().over(partition_by=runs.c.job_id, order_by=runs.c.id.desc())
        ranked = sa.select(runs, number.label("recent")).subquery()
        stmt = sa.select(ranked).where(ranked.c.recent <= limit).order_by(ranked.c.id)
        found: dict[int, list[Run]] = {}
        with self.store.read() as conn:
            for row in conn.execute(stmt):
                run = _run(row._mapping)
                found.setdefault(run.job_id, []).append(run)
        return found

    def outcome_before(self, run: Run, *, skip: int = 0) -> str | None:
        """The status of the job's last run that ended before `run` (a run
        cancelled, or still going, does not count), passing over the `skip`
        latest; None if there is none."""
        with self.store.read() as conn:
            found = {"job": run.job_id, "below": run.id, "skip": skip}
            return conn.execute(OUTCOME_BEFORE, found).scalar()

    def runs_since(self, since: datetime) -> list[Run]:
        stmt = (
            sa.select(schema.runs)
            .where(schema.runs.c.started_at >= since)
            .order_by(schema.runs.c.id)
        )
        with self.store.read() as conn:
            return [_run(r._mapping) for r in conn.execute(stmt)]

    # -- log entries -----------------------------------------------------

    def append(
        self, run_id: int | None, job_name: str | None, entries: Sequence[tuple[datetime, str, str]]
    ) -> None:
        if not entries:
            return
        with self.store.write() as conn:
            self._append_in(conn, run_id, job_name, entries)

    def _append_in(
        self,
        conn: sa.Connection,
        run_id: int | None,
        job_name: str | None,
        entries: Sequence[tuple[datetime, str, str]],
        *,
        also: Change | None = None,
    ) -> None:
        """`also`: a change announced after the log's, in the same statement."""
        conn.execute(
            schema.log_entries.insert(),
            [
                {"run_id": run_id, "job_name": job_name, "at": at, "level": level, "message": m}
                for at, level, m in entries
            ],
        )
        logs = Change("logs", job_name or "")
        self.store.announce(conn, *([logs, also] if also else [logs]))

    def log(
        self, job_name: str | None, level: str, message: str, run_id: int | None = None
    ) -> None:
        self.append(run_id, job_name, [(self.clock(), level, message)])

    def entries(
        self,
        *,
        run_id: int | None = None,
        job_name: str | None = None,
        level: str | None = None,
        text: str | None = None,
        after_id: int | None = None,
        limit: int | None = 1000,
        newest_first: bool = False,
    ) -> list[LogEntry]:
        log = schema.log_entries
        stmt = sa.select(log)
        if run_id is not None:
            stmt = stmt.where(log.c.run_id == run_id)
        if job_name is not None:
            stmt = stmt.where(sa.func.lower(log.c.job_name) == job_name.lower())
        if level is not None:
            stmt = stmt.where(log.c.level == level)
        if text:
            stmt = stmt.where(log.c.message.contains(text, autoescape=True))
        if after_id is not None:
            stmt = stmt.where(log.c.id > after_id)
        stmt = stmt.order_by(log.c.id.desc() if newest_first else log.c.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.store.read() as conn:
            return [LogEntry(**r._mapping) for r in conn.execute(stmt)]

    def purge(self, older_than_days: int) -> int:
        """Remove log entries and finished runs older than the retention."""
        cutoff = self.clock() - timedelta(days=older_than_days)
        with self.store.write() as conn:
            removed = conn.execute(
                schema.log_entries.delete().where(schema.log_entries.c.at < cutoff)
            ).rowcount
            conn.execute(
                schema.runs.delete().where(
                    schema.runs.c.started_at < cutoff, schema.runs.c.status != "running"
                )
            )
            self.store.announce(conn, Change("logs"), Change("runs"))
        return int(removed)

    @staticmethod
    def forget_job_in(conn: sa.Connection, job_name: str) -> None:
        """A deleted job's log entries (its runs and lease go with the job's
        row, by their foreign keys), inside the deleting transaction."""
        conn.execute(schema.log_entries.delete().where(schema.log_entries.c.job_name == job_name))


def _run(row: Any) -> Run:
    """A run from its row (what only a run's end knows is left unread)."""
    return Run(**{f: row[f] for f in Run.__dataclass_fields__ if f in row})
