"""Dry runs and undo: a dry run of the 200k-insert job against its normal
run, and undo of a run that inserted many rows."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.common import Figure, fresh_home, median_time
from bench.jobs_bench import ROWS, bulk_script

UNDO_ROWS = 1_000_000


def _home(script: str) -> str:
    from console.app import open_services

    home = fresh_home()
    services = open_services(home)
    services.tables.create("Updates")
    services.jobs.create("bulk", script=script, timeout_s=600, memory_mb=2048)
    services.close()
    return str(home)


def dry_run() -> Figure:
    """`job run bulk --dry-run` (200,000 inserts, rolled back, diffed)
    against `job run bulk`, each in a fresh home."""
    script = bulk_script()

    def timed(*extra: str) -> float:
        homes = [_home(script) for _ in range(3)]

        def once() -> None:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "console",
                    "--home",
                    homes.pop(),
                    "job",
                    "run",
                    "bulk",
                    *extra,
                ],
                check=True,
                capture_output=True,
            )

        return median_time(once, 3)

    base_s, ours_s = timed(), timed("--dry-run")
    return Figure(
        "dry run of the 200k-insert job", ours_s, base_s, "s", "≤ 1.5x", ours_s <= 1.5 * base_s
    )


def undo() -> Figure:
    """Undo of a run that inserted 1,000,000 rows, on SQLite; the baseline
    is that run itself."""
    from console.app import open_services
    from console.core.jobs.undo import undo_run

    script = bulk_script().replace(f"range({ROWS})", f"range({UNDO_ROWS})")
    home = _home(script)
    services = open_services(home)
    started = time.perf_counter()
    run = services.runner.run("bulk")
    base_s = time.perf_counter() - started
    started = time.perf_counter()
    undo_run(services.runs, services.tables, run.id, "bench")
    ours_s = time.perf_counter() - started
    services.close()
    return Figure(
        f"undo of a {UNDO_ROWS:,}-insert run (SQLite)", ours_s, base_s, "s", "≤ 10 s", ours_s <= 10
    )
