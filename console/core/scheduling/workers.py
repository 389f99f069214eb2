"""Workers you can see: every `mobile-console worker` on a database, by name.

This module owns the `workers` table. A worker registers under a name
(default `host:pid`), refreshes its heartbeat while it runs and says when it
stops; a worker whose heartbeat is older than `WORKER_TTL` is taken for dead
(killed, its machine gone), and its name is free again. The runs a worker
has in flight are the `running` runs it owns: the runner records each run
under the worker's name.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from console.core.clock import Clock, utcnow
from console.core.errors import ConsoleError
from console.core.jobs import owners
from console.core.store import schema
from console.core.store.changes import CHANNEL, Change
from console.core.store.database import Store

HEARTBEAT_S = 5.0
#: A worker not heard from for this long is dead. Equal to a run's lease TTL,
#: so a dead worker's name is free no sooner than the leases it held lapse.
WORKER_TTL = timedelta(seconds=30)
#: How long `workers` keeps showing a worker after it stopped or died.
RECENT = timedelta(hours=24)
MAX_NAME = 80


@dataclass(frozen=True)
class WorkerInfo:
    """A worker as `mobile-console workers` and the Dashboard show it."""

    name: str
    host: str
    pid: int
    max_runs: int | None
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    state: str  # "live", "stopped" (said goodbye) or "lost" (heartbeat lapsed, or process gone)
    running: tuple[str, ...]  # the jobs of its runs in flight

    @property
    def runs_in_flight(self) -> int:
        return len(self.running)


def default_name() -> str:
    """`host:pid`, cut to fit the name column."""
    pid = str(os.getpid())
    return f"{socket.gethostname()[: MAX_NAME - len(pid) - 1]}:{pid}"


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ConsoleError("a worker name cannot be empty")
    if len(name) > MAX_NAME:
        raise ConsoleError(f"a worker name has at most {MAX_NAME} characters")
    if not name.isprintable():
        raise ConsoleError("a worker name cannot hold control characters")
    return name


class WorkerRegistry:
    """The workers of one database."""

    def __init__(self, store: Store, clock: Clock = utcnow) -> None:
        self.store = store
        self.clock = clock
        self._beat: sa.Connection | None = None  # the heartbeat's own, opened at the first

    def register(self, name: str, *, max_runs: int | None = None) -> WorkerInfo:
        """Take `name` for this process; refused (ConsoleError) while a live
        worker has it. The take is one atomic UPDATE, or an INSERT that the
        primary key keeps single."""
        name = check_name(name)
        host, pid, now = socket.gethostname(), os.getpid(), self.clock()
        values = {
            "host": host,
            "pid": pid,
            "max_runs": max_runs,
            "started_at": now,
            "heartbeat_at": now,
            "stopped_at": None,
        }
        w = schema.workers
        try:
            with self.store.write() as conn:
                conn.execute(w.delete().where(w.c.heartbeat_at < now - RECENT))
                taken = conn.execute(
                    w.update()
                    .where(
                        w.c.name == name,
                        sa.or_(w.c.stopped_at.is_not(None), w.c.heartbeat_at < now - WORKER_TTL),
                    )
                    .values(**values)
                ).rowcount
                if not taken:
                    holder = conn.execute(sa.select(w).where(w.c.name == name)).one_or_none()
                    if holder is None:
                        conn.execute(w.insert().values(name=name, **values))
                    elif (
                        owners.process_gone(holder.host, holder.pid)
                        and conn.execute(
                            w.update()
                            .where(w.c.name == name, w.c.host == holder.host, w.c.pid == holder.pid)
                            .values(**values)
                        ).rowcount
                    ):
                        pass  # its holder was killed, on this machine: the name is ours now
                    else:
                        raise ConsoleError(
                            f"a worker named {name!r} is running already "
                            f"(on {holder.host}, pid {holder.pid}); stop it or give this one "
                            "another --name"
                        )
                self.store.announce(conn, Change("workers", name))
        except sa.exc.IntegrityError:  # another worker took the name at this very moment
            raise ConsoleError(f"a worker named {name!r} is running already") from None
        return self.get(name)

    def heartbeat(self, name: str) -> None:
        """Still here (after an outage too: a lapsed worker comes back live).

        One small statement and nothing else, on a connection kept for it in
        autocommit: no BEGIN, COMMIT or pool check-out per beat. On a VM the
        first milliseconds after an idle vCPU wakes are slow, so a beat's cost
        is counted in Python calls and round trips (docs/benchmarks.md). On
        PostgreSQL the NOTIFY that tells the other processes rides in the same
        statement."""
        w = schema.workers
        beat: sa.Executable = (
            w.update()
            .where(w.c.name == name, w.c.pid == os.getpid(), w.c.host == socket.gethostname())
            .values(heartbeat_at=self.clock(), stopped_at=None)
        )
        change = Change("workers", name)
        if self.store.dialect == "postgresql":
            done = beat.returning(w.c.name).cte("beat")  # type: ignore[attr-defined]
            payload = change.encode(self.store.changes.origin)
            beat = sa.select(sa.func.pg_notify(CHANNEL, payload)).select_from(done)
        conn = self._beat
        try:
            if conn is None:
                conn = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                self._beat = conn
            conn.execute(beat)
        except BaseException:
            self.close()  # a new connection at the next beat
            raise
        self.store.changes.publish(change)  # this process's listeners (no statement)

    def close(self) -> None:
        """Let go of the heartbeat's connection."""
        conn, self._beat = self._beat, None
        if conn is not None:
            try:
                conn.invalidate()  # never back to the pool in autocommit
                conn.close()
            except Exception:  # already broken: nothing to let go of
                pass

    def stop(self, name: str) -> None:
        """Said goodbye: the name is free at once."""
        self.close()
        w = schema.workers
        now = self.clock()
        with self.store.write() as conn:
            conn.execute(
                w.update()
                .where(w.c.name == name, w.c.pid == os.getpid(), w.c.host == socket.gethostname())
                .values(heartbeat_at=now, stopped_at=now)
            )
            self.store.announce(conn, Change("workers", name))

    def get(self, name: str) -> WorkerInfo:
        found = [w for w in self.all() if w.name == name]
        if not found:
            raise ConsoleError(f"no worker named {name!r}")
        return found[0]

    def all(self) -> list[WorkerInfo]:
        """Live workers first, then those gone in the last day, newest first."""
        now = self.clock()
        w, runs = schema.workers, schema.runs
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(w)
                .where(w.c.heartbeat_at >= now - RECENT)
                .order_by(w.c.started_at.desc(), w.c.name)
            ).all()
            names = [r.name for r in rows]
            running: dict[str, list[str]] = {n: [] for n in names}
            if names:
                for owner, job_name in conn.execute(
                    sa.select(runs.c.owner, runs.c.job_name)
                    .where(runs.c.status == "running", runs.c.owner.in_(names))
                    .order_by(runs.c.id)
                ):
                    running[owner].append(job_name)
        infos = []
        for r in rows:
            if r.stopped_at is not None:
                state = "stopped"
            elif r.heartbeat_at < now - WORKER_TTL or owners.process_gone(r.host, r.pid):
                state = "lost"  # not heard from, or its process on this machine has ended
            else:
                state = "live"
            infos.append(
                WorkerInfo(
                    r.name,
                    r.host,
                    r.pid,
                    r.max_runs,
                    r.started_at,
                    r.heartbeat_at,
                    r.stopped_at,
                    state,
                    tuple(running[r.name]),
                )
            )
        return sorted(infos, key=lambda i: i.state != "live")
