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


def idle_cpu() -> Figure:
    """CPU used by a worker with enabled jobs, none due, over 10 seconds."""
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
    time.sleep(3)  # started and settled
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        with open(f"/proc/{worker.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    before, wall = cpu(), time.monotonic()
    time.sleep(10)
    used = (cpu() - before) / (time.monotonic() - wall) * 100
    worker.send_signal(signal.SIGTERM)
    worker.wait(15)
    return Figure("worker idle CPU (10 jobs enabled)", used, None, "%", "< 0.5 %", used < 0.5)
