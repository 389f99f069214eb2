"""The portable runner (psutil, a watchdog thread, a warm spare; macOS and
Windows) beside the Linux one (guardian, subreaper, RLIMIT_AS), both on this
machine: Run Once of an empty job, 200k inserts through `job run`, and 120
jobs due at once on 3 PostgreSQL workers (p99 from the tick to each job's
first committed insert; `portable_workers`, about 8 minutes)."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.common import Figure, fresh_home, median_time, python
from bench.jobs_bench import bulk_script
from bench.workers_bench import first_write_p99

RUN_ONCE = """
import statistics, time
from console.app import open_services
services = open_services({home!r})
services.jobs.create("empty", script="def empty():\\n    pass\\n")
services.runner.run("empty")  # warm the file cache once
times = []
for _ in range(9):
    start = time.perf_counter()
    assert services.runner.run("empty").status == "succeeded"
    times.append(time.perf_counter() - start)
services.close()
print(statistics.median(times))
"""


def _run_once(runner: str) -> float:
    code = RUN_ONCE.format(home=str(fresh_home()))
    return float(python(code, env={"MOBILE_CONSOLE_RUNNER": runner}).strip())


def _inserts(runner: str) -> float:
    from console.app import open_services

    def prepared_home() -> str:
        home = fresh_home()
        services = open_services(home)
        services.tables.create("Updates")
        services.jobs.create("bulk", script=bulk_script(), timeout_s=600)
        services.close()
        return str(home)

    homes = [prepared_home() for _ in range(3)]
    env = {**os.environ, "MOBILE_CONSOLE_RUNNER": runner}

    def once() -> None:
        command = [sys.executable, "-m", "console", "--home", homes.pop(), "job", "run", "bulk"]
        subprocess.run(command, check=True, capture_output=True, env=env)

    return median_time(once, 3)


def portable_runner() -> list[Figure]:
    """Each figure: the portable runner, against the Linux runner."""
    once_p, once_l = _run_once("portable"), _run_once("linux")
    bulk_p, bulk_l = _inserts("portable"), _inserts("linux")
    return [
        Figure(
            "Run Once of an empty job, portable runner (vs Linux runner)",
            once_p,
            once_l,
            "s",
            "≤ 1.5x",
            once_p <= 1.5 * once_l,
        ),
        Figure(
            "insert_many 200k rows via job run, portable runner (vs Linux runner)",
            bulk_p,
            bulk_l,
            "s",
            "≤ 1.2x",
            bulk_p <= 1.2 * bulk_l,
        ),
    ]


def portable_workers() -> list[Figure]:
    """120 jobs on 3 PostgreSQL workers, one killed -9 a minute: the p99
    from the tick to the first write, portable runner against Linux's."""
    linux = first_write_p99("linux")
    portable = first_write_p99("portable")
    if not linux or not portable:
        return []
    ours, base = (next(f.ours for f in run if f.name.endswith("p99")) for run in (portable, linux))
    return [
        *linux,
        *portable,
        Figure(
            "120 jobs on 3 workers, tick to first write p99, portable (vs Linux runner)",
            ours,
            base,
            "s",
            "≤ 1.5x",
            ours <= 1.5 * base,
        ),
    ]
