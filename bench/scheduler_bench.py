"""Scheduler: start lateness with 100 enabled jobs; a worker's idle CPU."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

from bench.common import Figure, fresh_home

JOBS = 100


def lateness() -> Figure:
    """100 enabled jobs all due within two seconds; how late does the
    scheduler hand each to the runner (p99, milliseconds)."""
    from console.app import open_services
    from console.core.store import schema

    services = open_services(fresh_home())
    late: list[float] = []
    done = threading.Event()

    def dispatch(name: str, _note: str | None) -> None:
        due = dues[name]
        late.append((services.jobs.clock() - due).total_seconds() * 1000)
        job = services.jobs.get(name)
        services.runs.release(job.id, services.runner.owner)
        if len(late) == JOBS:
            done.set()

    dues = {}
    start = services.jobs.clock() + timedelta(seconds=3)
    for i in range(JOBS):
        name = f"job{i}"
        services.jobs.create(name, interval=1, unit="day", start_at=start)
        services.jobs.enable(name)
        due = start + timedelta(milliseconds=20 * i)
        dues[name] = due
        with services.store.write() as conn:
            conn.execute(
                schema.jobs.update().where(schema.jobs.c.name == name).values(next_run_at=due)
            )
    sched = services.scheduler(dispatch=dispatch)
    sched.start()
    done.wait(30)
    sched.stop()
    services.close()
    p99 = sorted(late)[int(0.99 * (len(late) - 1))]
    return Figure(
        f"scheduler start lateness p99 ({JOBS} jobs)", p99, None, "ms", "≤ 50 ms", p99 <= 50
    )


#: The issue's window for the idle figure; BENCH_IDLE_S shortens it for a try.
IDLE_S = float(os.environ.get("BENCH_IDLE_S", "60"))

#: The baseline: the least a heartbeat can be, a plain Python process that
#: wakes at the same interval and runs one UPDATE with the stdlib's sqlite3.
BARE_BEAT = """
import sqlite3, sys, threading
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("CREATE TABLE IF NOT EXISTS beat (name TEXT PRIMARY KEY, at REAL)")
db.execute("INSERT OR REPLACE INTO beat VALUES ('bare', 0)")
stop = threading.Event()
while not stop.wait(5.0):
    db.execute("UPDATE beat SET at = julianday('now') WHERE name = 'bare'")
"""


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children still running (the fork
    server a worker keeps is part of what it costs)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _idle_pct(process: subprocess.Popen[bytes]) -> float:
    time.sleep(3)  # started and settled
    before, wall = _tree_cpu(process.pid), time.monotonic()
    time.sleep(IDLE_S)
    used = (_tree_cpu(process.pid) - before) / (time.monotonic() - wall) * 100
    process.send_signal(signal.SIGTERM)
    process.wait(15)
    return used


def idle_cpu() -> Figure:
    """CPU used by a worker (and its fork server) with 10 enabled jobs, none
    due, over 60 s; beside a bare Python process beating the same way."""
    from console.app import open_services

    home = fresh_home()
    services = open_services(home)
    for i in range(10):
        services.jobs.create(f"job{i}", interval=1, unit="day")
        services.jobs.enable(f"job{i}")
    services.close()
    worker = subprocess.Popen(
        [sys.executable, "-m", "console", "--home", str(home), "worker"], stdout=subprocess.DEVNULL
    )
    used = _idle_pct(worker)
    bare = subprocess.Popen([sys.executable, "-c", BARE_BEAT, str(home / "bare.db")])
    base = _idle_pct(bare)
    return Figure(
        f"worker idle CPU (10 jobs enabled, {IDLE_S:g} s)", used, base, "%", "< 0.5 %", used < 0.5
    )
