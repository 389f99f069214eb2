"""Many workers on one database: 500 jobs due every minute, 4 `mobile-console
worker` processes on PostgreSQL (2 on SQLite), one killed with SIGKILL every
minute and started again. Every tick must run exactly once; how late do runs
start, and how many runs a second does the set sustain.

`make bench` runs 2 minutes of each; `BENCH_WORKERS_MINUTES=5 make bench`
(or `python -m bench workers_scale`) the full 5-minute run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Figure, fresh_home

JOBS = 500
SLEEPERS = 100  # of them sleep 1 s; one fails; the rest are empty
GOAL_P99_S = 5.0


def minutes() -> int:
    return int(os.environ.get("BENCH_WORKERS_MINUTES", "2"))


def _fresh_postgres(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


#: Each script's first line says when it began, by its own clock: the
#: start a user means, after the claim, the fork and the host's setup.
STARTED = "started at "


#: A first-write job's line after its first committed insert, as real jobs
#: write: `tables.get_table(...).insert(...)`, then this line by its own clock.
WROTE = "wrote at "


def _script(i: int) -> str:
    name = f"job{i:03d}"
    first = f"import time\ndef {name}():\n    print('{STARTED}%.3f' % time.time())\n"
    if i == 0:
        return first + "    raise RuntimeError('this one fails')\n"
    if i <= SLEEPERS:
        return first + "    time.sleep(1)\n"
    return first


def _first_write_script(i: int) -> str:
    name = f"job{i:03d}"
    return (
        f"import time\ndef {name}():\n"
        f"    tables.get_table('Firsts').insert({{'job': '{name}'}})\n"
        f"    print('{WROTE}%.3f' % time.time())\n"
    )


def _prepare(home: Path, db_url: str, first_tick: datetime, jobs: int, first_write: bool) -> None:
    from console.app import open_services

    services = open_services(home, db_url)
    script = _first_write_script if first_write else _script
    if first_write:
        services.tables.create("Firsts")
        services.tables.add_column("Firsts", "job", "string")
    for i in range(jobs):
        name = f"job{i:03d}"
        services.jobs.create(name, interval=1, unit="minute", start_at=first_tick, script=script(i))
        services.jobs.enable(name)
    services.close()


class Fleet:
    """The worker processes, each started again as soon as it is killed."""

    def __init__(self, home: Path, db_url: str, count: int, runner: str = "") -> None:
        self.home, self.db_url = home, db_url
        self.runner = {"MOBILE_CONSOLE_RUNNER": runner} if runner else {}
        self.console = [sys.executable, "-m", "console", "--home", str(home), "--db", db_url]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = home / "workers"
        self.logs.mkdir()
        self.started = 0
        self.slots = [self._start(i) for i in range(count)]

    def _start(self, slot: int) -> subprocess.Popen[bytes]:
        self.started += 1
        with open(self.logs / f"w{slot}-{self.started}.log", "wb") as log:
            proc = subprocess.Popen(
                [*self.console, "worker", "--name", f"bench{slot}-{self.started}"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={
                    **os.environ,
                    "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                    **self.runner,
                },
            )
        self.procs.append(proc)
        return proc

    def kill_and_restart(self, slot: int) -> None:
        self.slots[slot].kill()
        self.slots[slot].wait()
        self.slots[slot] = self._start(slot)

    def stop(self) -> None:
        for proc in self.slots:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _left_behind(status: str, error: str | None) -> bool:
    """A run its worker was killed during: still running, or marked so since."""
    return status in ("running", "interrupted") or "stopped before the run ended" in (error or "")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1) + 0.5))] if ordered else 0.0


def scale_run(
    db_url: str,
    workers: int,
    label: str,
    *,
    jobs: int = JOBS,
    first_write: bool = False,
    runner: str = "",
    goal_p99_s: float = GOAL_P99_S,
) -> list[Figure]:
    """Every tick of `jobs` jobs over `minutes()` minutes, a worker killed
    each minute. Lateness is to the script's first line, or with
    `first_write` to its first committed insert."""
    import sqlalchemy as sa

    from console.core.store import schema

    home = fresh_home()
    if db_url == "sqlite":
        db_url = f"sqlite:///{home / 'console.db'}"
    else:
        _fresh_postgres(db_url)
    ticks = minutes()
    now = datetime.now(UTC)
    first = (now + timedelta(seconds=40)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    mark = WROTE if first_write else STARTED
    _prepare(home, db_url, first, jobs, first_write)
    fleet = Fleet(home, db_url, workers, runner)
    rng = random.Random(17)
    # One worker killed (SIGKILL) and started again at a random moment of every minute.
    kills = [first + timedelta(minutes=k, seconds=rng.uniform(0, 60)) for k in range(ticks)]
    last_tick = first + timedelta(minutes=ticks - 1)
    end = last_tick + timedelta(seconds=45)  # late ticks (a dead worker's lease) run by then
    stop = threading.Event()
    try:
        for k, at in enumerate(kills):
            if stop.wait(max(0.0, (at - datetime.now(UTC)).total_seconds())):
                break
            if at < end:
                fleet.kill_and_restart(k % workers)
        stop.wait(max(0.0, (end - datetime.now(UTC)).total_seconds()))
    finally:
        fleet.stop()
    from console.core.store.database import Store

    store = Store(db_url, migrate=False)
    with store.read() as conn:
        runs = conn.execute(
            sa.select(
                schema.runs.c.id,
                schema.runs.c.job_name,
                schema.runs.c.due_at,
                schema.runs.c.started_at,
                schema.runs.c.ended_at,
                schema.runs.c.status,
                schema.runs.c.error,
            ).where(schema.runs.c.trigger == "schedule")
        ).all()
        began = {
            run_id: float(message[len(mark) :])
            for run_id, message in conn.execute(
                sa.select(schema.log_entries.c.run_id, schema.log_entries.c.message).where(
                    schema.log_entries.c.message.startswith(mark)
                )
            )
        }
    store.dispose()
    expected = Counter(
        (f"job{i:03d}", first + timedelta(minutes=k)) for i in range(jobs) for k in range(ticks)
    )
    ran = Counter((r.job_name, r.due_at) for r in runs if r.due_at is not None)
    duplicates = sum((ran - expected).values())  # a tick twice, or a tick never due
    misses = sum((expected - ran).values())
    # When did the script start? Its first line says, by its own clock. A run
    # its killed worker ended before that line counts from when it was
    # recorded (it ended when the job's next run found it).
    late = [
        began[r.id] - r.due_at.timestamp()
        if r.id in began
        else (r.started_at - r.due_at).total_seconds()
        for r in runs
        if r.due_at <= last_tick
    ]
    unstarted = sum(1 for r in runs if r.id not in began)
    # Where the time went: the tick won (the run recorded), and the run ended.
    claimed = [(r.started_at - r.due_at).total_seconds() for r in runs if r.due_at <= last_tick]
    ended = [
        (r.ended_at - r.due_at).total_seconds()
        - (not first_write and 1 <= int(r.job_name[3:]) <= SLEEPERS)
        for r in runs
        if r.due_at <= last_tick and r.ended_at is not None
    ]
    p50, p99 = _percentile(late, 0.50), _percentile(late, 0.99)
    per_second = len(runs) / (ticks * 60)
    outcome = Counter(
        "left by a killed worker" if _left_behind(r.status, r.error) else r.status for r in runs
    )
    print(
        f"{label}: {len(runs)} runs over {ticks} min, {fleet.started - workers} kills; "
        f"{dict(outcome)}; duplicates {duplicates}, misses {misses}; "
        f"lateness p50 {p50:.2f} s p99 {p99:.2f} s max {max(late, default=0):.2f} s; "
        f"{unstarted} runs ended before their first line; claimed p50 "
        f"{_percentile(claimed, 0.5):.2f} s p99 {_percentile(claimed, 0.99):.2f} s; ended "
        f"(less a sleeper's 1 s) p50 {_percentile(ended, 0.5):.2f} s "
        f"p99 {_percentile(ended, 0.99):.2f} s",
        file=sys.stderr,
    )
    exact = duplicates == 0 and misses == 0
    if first_write and outcome["failed"]:
        exact = False  # a job that failed to write has no first write to time
    what = "tick to first write" if first_write else "start lateness"
    return [
        Figure(
            f"{label}: ticks run twice / missed ({ticks}×{jobs})",
            duplicates + misses,
            None,
            "",
            "0 and 0",
            exact,
        ),
        Figure(f"{label}: {what} p50", p50, None, "s", "—", True),
        Figure(f"{label}: {what} p99", p99, None, "s", f"≤ {goal_p99_s:g} s", p99 <= goal_p99_s),
        Figure(
            f"{label}: runs/s sustained",
            per_second,
            None,
            "runs/s",
            f"≥ {jobs / 60:.1f} ({jobs}/min)",
            per_second >= jobs / 60 * 0.99,
        ),
    ]


def _cpu_per_run(fork: bool, runs: int = 40) -> float:
    """CPU seconds a run costs the machine (the runner, its hosts, their
    children), for an empty job run `runs` times in a row."""
    import resource

    from console.app import open_services

    services = open_services(fresh_home())
    services.jobs.create("empty", script="def empty():\n    pass\n")

    def used() -> float:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    before = used()
    if fork:
        services.runner.use_fork_server()
    else:
        services.runner.keep_warm()  # the worker before: a warm spare, a new interpreter a run
    for _ in range(runs):
        services.runner.run("empty")
    services.close()  # reaps the hosts (and the fork server's children with it)
    return (used() - before) / runs


def fork_cpu() -> Figure:
    """CPU a run costs: forked from the fork server, against a fresh
    interpreter a run (the warm spare the worker kept before)."""
    fresh = _cpu_per_run(fork=False)
    forked = _cpu_per_run(fork=True)
    return Figure(
        "CPU of an empty run, forked (baseline: a new interpreter)",
        forked * 1000,
        fresh * 1000,
        "ms",
        "≤ 0.2x",
        forked <= 0.2 * fresh,
    )


def workers_scale() -> list[Figure]:
    """PostgreSQL, 4 workers; then SQLite, 2 workers."""
    pg = os.environ.get("MOBILE_CONSOLE_TEST_PG")
    only = os.environ.get("BENCH_WORKERS_ONLY")  # "postgresql" or "sqlite": that one alone
    figures = [fork_cpu()]
    if only != "sqlite":
        if pg:
            figures += scale_run(pg, 4, "PostgreSQL, 4 workers")
        else:
            print("no PostgreSQL (make bench starts one): skipping its figure", file=sys.stderr)
    if only != "postgresql":
        figures += scale_run("sqlite", 2, "SQLite, 2 workers")
    return figures


def first_write_p99(runner: str = "") -> list[Figure]:
    """120 jobs due each minute on 3 PostgreSQL workers (one killed -9 a
    minute): from the tick to each job's first committed insert."""
    pg = os.environ.get("MOBILE_CONSOLE_TEST_PG")
    if not pg:
        print("no PostgreSQL (make bench starts one): skipping its figure", file=sys.stderr)
        return []
    label = "PostgreSQL, 3 workers, 120 jobs" + (f", {runner} runner" if runner else "")
    return scale_run(pg, 3, label, jobs=120, first_write=True, runner=runner, goal_p99_s=2.0)


def first_write() -> list[Figure]:
    """Issue 28's goal 2 for a burst: 120 jobs at once on 3 PostgreSQL
    workers (p99 ≤ 2 s), and 500 on 4 (p99 ≤ 5 s), one worker killed -9 a
    minute; from the tick to each job's first committed insert."""
    pg = os.environ.get("MOBILE_CONSOLE_TEST_PG")
    if not pg:
        print("no PostgreSQL (make bench starts one): skipping its figure", file=sys.stderr)
        return []
    return first_write_p99() + scale_run(
        pg, 4, "PostgreSQL, 4 workers, 500 jobs", jobs=500, first_write=True, goal_p99_s=5.0
    )
