"""The CPU one run costs the machine, forked from the fork server (issue 28,
goal 2): an empty job, and a job that opens a table and inserts one row,
each as a worker runs a claimed tick (the run recorded, the job and the
inputs read ahead), on SQLite and, when there is one, PostgreSQL.

Counted: the supervisor (this process, RUSAGE_SELF) and the fork server with
every child it reaped (its utime, stime, cutime and cstime in /proc: the
host, its guardian and the worker), over 30 runs after 2 warm ones. Not
counted: PostgreSQL's own backend for a run's connection (said beside).

Baselines, measured in the same run: a process with the fork server's
imports forking a child that exits at once (the least a forked run can
cost), and that child opening the driver's own connection and inserting one
row (psycopg or sqlite3, loaded ahead; no SQLAlchemy)."""

from __future__ import annotations

import json
import os
import resource
import sys

from sqlalchemy.engine import make_url

from bench.common import Figure, fresh_home, python
from bench.workers_bench import _fresh_postgres
from console.core.clock import utcnow
from console.core.jobs.runs import RunLog

RUNS = 30
EMPTY_GOAL_MS, ONE_ROW_GOAL_MS = 10.0, 25.0

BASELINE = """
import gc, json, os, resource, sys
from console.core.running.script_host import preload
sqlite_path, pg_dsn = {sqlite_path!r}, {pg_dsn!r}
preload("linked")  # the fork server's, with a table link
import sqlite3, psycopg  # the driver the baseline's insert uses
import requests, requests_oauthlib
import console.core.running.http_recording, console.core.running.http_redirects
gc.collect(); gc.freeze()

def insert():
    if sqlite_path:
        conn = sqlite3.connect(sqlite_path)
        conn.execute('INSERT INTO "Firsts" (job, "__createdAt", "__updatedAt", "__version") '
                     "VALUES (?, datetime('now'), datetime('now'), 1)", ("x",))
    else:
        conn = psycopg.connect(pg_dsn)
        conn.execute('INSERT INTO "Firsts" (job, "__createdAt", "__updatedAt", "__version") '
                     "VALUES (%s, now(), now(), 1)", ("x",))
    conn.commit()
    conn.close()

def cpu(body, n={runs}):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            body()
            os._exit(0)
        os.waitpid(pid, 0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return used / n * 1000

print(json.dumps([cpu(lambda: None), cpu(insert)]))
"""


def _server_cpu(pid: int) -> float:
    """A process's CPU seconds and its reaped children's, from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _cpu_per_run(url: str | None) -> tuple[float, float, float]:
    """Milliseconds of CPU a run costs: empty, one row; and the supervisor's
    share of the one-row run."""
    from console.app import open_services

    home = fresh_home()
    if url:
        _fresh_postgres(url)
    services = open_services(home, url) if url else open_services(home)
    services.tables.create("Firsts")
    services.tables.add_column("Firsts", "job", "string")
    scripts = {
        "empty": "def {}():\n    pass\n",
        "one": "def {}():\n    tables.get_table('Firsts').insert({{'job': 'x'}})\n",
    }
    for kind, script in scripts.items():
        for i in range(RUNS + 2):
            services.jobs.create(f"{kind}{i}", script=script.format(f"{kind}{i}"))
    runner = services.runner
    runner.use_fork_server()

    def tick(names: list[str]) -> None:
        """As a worker runs the ticks it claimed: all recorded (and their
        leases taken) in one transaction, the inputs read once, then each run."""
        jobs = [services.jobs.get(name) for name in names]
        with services.runs.store.write() as conn:
            runs = RunLog.start_many_in(
                conn, [(job, utcnow(), 1) for job in jobs], runner.owner, utcnow()
            )
        inputs = runner.inputs()
        for job, run in zip(jobs, runs, strict=True):
            ended = runner.run(job.name, trigger="schedule", run=run, job=job, inputs=inputs)
            assert ended.status == "succeeded", ended.error

    def me() -> float:
        used = resource.getrusage(resource.RUSAGE_SELF)
        return used.ru_utime + used.ru_stime

    figures = []
    for kind in scripts:
        tick([f"{kind}{RUNS}", f"{kind}{RUNS + 1}"])  # warm
        assert runner._forks is not None
        server = runner._forks.server().proc.pid
        mine, theirs = me(), _server_cpu(server)
        tick([f"{kind}{i}" for i in range(RUNS)])
        mine, theirs = me() - mine, _server_cpu(server) - theirs
        figures.append((mine + theirs) / RUNS * 1000)
        print(f"  {kind}: supervisor {mine / RUNS * 1000:.1f} ms a run", file=sys.stderr)
    services.close()
    return figures[0], figures[1], mine / RUNS * 1000


def run_cpu() -> list[Figure]:
    pg = os.environ.get("MOBILE_CONSOLE_TEST_PG")
    figures: list[Figure] = []
    for label, url in (("SQLite", None), ("PostgreSQL", pg)):
        if label == "PostgreSQL" and not pg:
            print("no PostgreSQL (make bench starts one): skipping its figure", file=sys.stderr)
            continue
        empty, one, supervisor = _cpu_per_run(url)
        db_url = url or f"sqlite:///{fresh_home() / 'bare.db'}"
        if url is None:  # the baseline's own file, with the table the run writes to
            from console.app import open_services

            bare = open_services(fresh_home(), db_url)
            bare.tables.create("Firsts")
            bare.tables.add_column("Firsts", "job", "string")
            bare.close()
        parsed = make_url(db_url)
        sqlite_path = parsed.database if parsed.get_backend_name() == "sqlite" else ""
        pg_dsn = "" if sqlite_path else parsed.set(drivername="postgresql").render_as_string(False)
        baseline = BASELINE.format(sqlite_path=sqlite_path, pg_dsn=pg_dsn, runs=RUNS)
        bare_fork, bare_insert = json.loads(python(baseline))
        print(
            f"{label}: empty run {empty:.1f} ms, one-row run {one:.1f} ms (its supervisor "
            f"{supervisor:.1f} ms); bare fork {bare_fork:.1f} ms, fork + driver insert "
            f"{bare_insert:.1f} ms",
            file=sys.stderr,
        )
        figures += [
            Figure(
                f"{label}: CPU of an empty forked run (baseline: a bare fork and exit)",
                empty,
                bare_fork,
                "ms",
                f"≤ {EMPTY_GOAL_MS:g} ms",
                empty <= EMPTY_GOAL_MS,
            ),
            Figure(
                f"{label}: CPU of a run inserting one row (baseline: fork, driver connect, insert)",
                one,
                bare_insert,
                "ms",
                f"≤ {ONE_ROW_GOAL_MS:g} ms",
                one <= ONE_ROW_GOAL_MS,
            ),
        ]
    return figures
