"""Dry runs and undo: a dry run of the 200k-insert job against its normal
run, undo of a run that inserted many rows, what `__runId` costs inserts,
and the memory of a dry run updating many rows of a big table."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.common import Figure, fresh_home, median_time, python
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


def undo() -> list[Figure]:
    """Undo of a run that inserted 1,000,000 rows, on SQLite, and the undo
    of that undo (the rows put back); the baseline is that run itself."""
    from console.app import open_services
    from console.core.jobs.undo import undo_run

    script = bulk_script().replace(f"range({ROWS})", f"range({UNDO_ROWS})")
    home = _home(script)
    services = open_services(home)
    started = time.perf_counter()
    run = services.runner.run("bulk")
    base_s = time.perf_counter() - started
    started = time.perf_counter()
    undone = undo_run(services.runs, services.tables, run.id, "bench")
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    undo_run(services.runs, services.tables, undone.run.id, "bench")
    again_s = time.perf_counter() - started
    services.close()
    return [
        Figure(
            f"undo of a {UNDO_ROWS:,}-insert run (SQLite)",
            ours_s,
            base_s,
            "s",
            "≤ 10 s",
            ours_s <= 10,
        ),
        Figure(
            f"undo of that undo ({UNDO_ROWS:,} rows put back)",
            again_s,
            base_s,
            "s",
            "none (≤ 3x the run)",
            again_s <= 3 * base_s,
        ),
    ]


def _raw_inserts(db: str, *, run_id: bool, index: bool) -> float:
    """Seconds to insert the 200k-insert job's rows with raw sqlite3 into a
    table laid out as the console makes it, with or without `__runId` (and
    its index); measured in a fresh process."""
    run_column = ', "__runId" INTEGER' if run_id else ""
    run_value = ", 7" if run_id else ""
    create = (
        'CREATE TABLE u (id INTEGER PRIMARY KEY, "__createdAt" DATETIME, "__updatedAt" DATETIME,'
        f' "__version" INTEGER{run_column}, twitterId BIGINT, text TEXT, author TEXT,'
        " date DATETIME)"
    )
    lines = [
        "import sqlite3, datetime, time",
        f"c = sqlite3.connect({db!r}); c.execute('PRAGMA journal_mode=WAL')",
        f"c.execute({create!r})",
        "c.execute('CREATE INDEX ix ON u (\"__runId\")')" if index else "",
        "now = datetime.datetime.now(datetime.UTC).isoformat(' ')[:26]",
        f"rows = [(now, now, 1{run_value}, 2**62 + i, 'tweet number %d #mobileservices' % i,"
        f" 'author%d' % (i % 500), now) for i in range({ROWS})]",
        "marks = ','.join('?' * len(rows[0]))",
        "start = time.perf_counter()",
        "with c:",
        "    c.executemany(f'INSERT INTO u VALUES (NULL, {marks})', rows)",
        "print(time.perf_counter() - start)",
        "c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.close()",
    ]
    code = "\n".join(lines) + "\n"
    return float(python(code))


def lineage_cost() -> list[Figure]:
    """What `__runId` costs an insert-only job: the 200k-insert job's `job
    run` with the column's index against the same with the index dropped
    (the column itself cannot be left out of the product); and its 200,000
    rows inserted with raw sqlite3 into the console's table layout, with the
    column (and its index, as every user table has them) against the same
    table without them: insert time (median of 7) and the file's size."""
    import statistics

    kinds = {
        "none": {"run_id": False, "index": False},
        "column": {"run_id": True, "index": False},
        "indexed": {"run_id": True, "index": True},
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    sizes: dict[str, int] = {}
    for _ in range(7):  # interleaved, so a change in the machine's load falls on all three
        for key, kind in kinds.items():
            db = str(fresh_home() / "lineage.db")
            times[key].append(_raw_inserts(db, **kind))
            sizes[key] = os.path.getsize(db)

    def measure(key: str) -> tuple[float, int]:
        return statistics.median(times[key]), sizes[key]

    def job_run(drop_index: bool) -> float:
        import sqlite3
        from pathlib import Path

        home = _home(bulk_script())
        if drop_index:
            db = sqlite3.connect(Path(home) / "console.db")
            name = db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'Updates'"
            ).fetchone()[0]
            db.execute(f'DROP INDEX "{name}"')
            db.close()
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "console", "--home", home, "job", "run", "bulk"],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started

    # Interleaved, so a change in the machine's load falls on both sides.
    runs = [(job_run(drop_index=True), job_run(drop_index=False)) for _ in range(6)]
    unindexed_s = statistics.median(r[0] for r in runs)
    indexed_s = statistics.median(r[1] for r in runs)
    base_s, base_b = measure("none")
    column_s, column_b = measure("column")
    ours_s, ours_b = measure("indexed")
    mb = 1024 * 1024
    return [
        Figure(
            "job run of the 200k-insert job: with __runId's index vs without",
            indexed_s,
            unindexed_s,
            "s",
            "≤ 1.05x",
            indexed_s <= 1.05 * unindexed_s,
        ),
        Figure(
            "200k inserts: __runId and its index, time",
            ours_s,
            base_s,
            "s",
            "≤ 1.05x",
            ours_s <= 1.05 * base_s,
        ),
        Figure(
            "200k inserts: __runId and its index, file size",
            ours_b / mb,
            base_b / mb,
            "MB",
            "≤ 1.15x",
            ours_b <= 1.15 * base_b,
        ),
        Figure(
            "200k inserts: __runId without an index, time",
            column_s,
            base_s,
            "s",
            "≤ 1.05x",
            column_s <= 1.05 * base_s,
        ),
        Figure(
            "200k inserts: __runId without an index, file size",
            column_b / mb,
            base_b / mb,
            "MB",
            "≤ 1.15x",
            column_b <= 1.15 * base_b,
        ),
    ]


BIG_ROWS = int(os.environ.get("BENCH_BIG_ROWS", "10000000"))
BIG_UPDATED = BIG_ROWS // 10


def _big_home() -> str:
    """A home whose table Big holds BIG_ROWS rows (built in SQL, as if one
    run had inserted them), and a job updating the first tenth of them."""
    import sqlite3

    from console.app import open_services

    home = fresh_home()
    services = open_services(home)
    services.tables.create("Big")
    services.tables.add_column("Big", "n", "integer")
    services.tables.add_column("Big", "label", "string")
    script = f"def touch():\n    tables.get_table('Big').where(id__le={BIG_UPDATED}).update(n=0)\n"
    services.jobs.create("touch", script=script, timeout_s=3600, memory_mb=4096)
    services.close()
    db = sqlite3.connect(home / "console.db")
    with db:
        db.execute(  # the bench's own SQL, nothing user-given
            'INSERT INTO "Big" (id, "__createdAt", "__updatedAt", "__version", "__runId", n,'  # noqa: S608
            " label) WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k"
            f" WHERE i < {BIG_ROWS}) SELECT i, '2026-01-01 00:00:00.000000',"
            " '2026-01-01 00:00:00.000000', 1, NULL, i, 'row number ' || i FROM k"
        )
    db.close()
    return str(home)


def _peak_rss_mb(home: str, *extra: str) -> float:
    """The largest resident set of any process of `job run touch` (the
    command and the script host it waits for), in a fresh process."""
    code = (
        "import resource, subprocess, sys\n"
        f"subprocess.run([sys.executable, '-m', 'console', '--home', {home!r}, 'job', 'run',"
        f" 'touch', *{list(extra)!r}], check=True, capture_output=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    return float(python(code, timeout=7200))


def dry_run_memory() -> Figure:
    """Peak memory of a dry run updating a tenth of a BIG_ROWS-row table
    (default 10M: 1M rows updated) against the same job's normal run."""
    import shutil
    from pathlib import Path

    home = _big_home()
    copy = str(fresh_home() / "home")
    shutil.copytree(home, copy)
    base = _peak_rss_mb(copy)
    shutil.rmtree(Path(copy).parent)
    ours = _peak_rss_mb(home, "--dry-run")
    return Figure(
        f"dry run updating {BIG_UPDATED:,} rows of {BIG_ROWS:,}: peak memory",
        ours,
        base,
        "MB",
        "≤ +100 MB",
        ours <= base + 100,
    )


def update_images() -> Figure:
    """A run updating 200,000 rows another run wrote (each row's
    before-image kept, and noted as overwritten) against a person's same
    update (neither), each on a fresh table, in this process."""
    from console.app import open_services
    from console.core.tables.api import open_table
    from console.core.tables.catalogue import TableStore

    def timed(as_run: bool) -> float:
        services = open_services(fresh_home())
        services.jobs.create("w")
        services.tables.create("T")
        job = services.jobs.get("w")
        ids = []
        for _ in range(2):
            run = services.runs.start(job.id, job.name, "run once", "bench")
            services.runs.finish(run.id, "succeeded", None, 0)
            ids.append(run.id)
        writer = TableStore(services.store, run_id=ids[0])
        open_table(writer, "T").insert_many([{"n": i, "s": f"x{i}"} for i in range(ROWS)])
        updater = TableStore(services.store, run_id=ids[1] if as_run else None)
        started = time.perf_counter()
        open_table(updater, "T").where(n__ge=0).update(n=1)
        took = time.perf_counter() - started
        services.close()
        return took

    pairs = [(timed(False), timed(True)) for _ in range(3)]
    base_s = sorted(p[0] for p in pairs)[1]
    ours_s = sorted(p[1] for p in pairs)[1]
    return Figure(
        "a run's update of 200k rows another run wrote vs a person's",
        ours_s,
        base_s,
        "s",
        "none set",
        True,
    )


def undo_updates() -> Figure:
    """Undo of a run that updated 1,000,000 rows a person wrote (each put
    back from its before-image), on SQLite; the baseline is that update."""
    from console.app import open_services
    from console.core.jobs.undo import undo_run
    from console.core.tables.api import open_table
    from console.core.tables.catalogue import TableStore

    services = open_services(fresh_home())
    services.jobs.create("w")
    services.tables.create("T")
    job = services.jobs.get("w")
    rows = [{"n": i, "s": f"row {i}"} for i in range(UNDO_ROWS)]
    open_table(services.tables, "T").insert_many(rows)
    run = services.runs.start(job.id, job.name, "run once", "bench")
    services.runs.finish(run.id, "succeeded", None, 0)
    started = time.perf_counter()
    open_table(TableStore(services.store, run_id=run.id), "T").where(n__ge=0).update(n=-1)
    base_s = time.perf_counter() - started
    started = time.perf_counter()
    undo_run(services.runs, services.tables, run.id, "bench")
    ours_s = time.perf_counter() - started
    services.close()
    return Figure(
        f"undo of a run that updated {UNDO_ROWS:,} rows (SQLite)",
        ours_s,
        base_s,
        "s",
        "none set",
        True,
    )
