"""Jobs: bulk inserts through a job, Run Once of an empty job, getUpdates."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from bench.common import Figure, fresh_home, median_time, python

ROWS = 200_000
REPEATS = int(os.environ.get("BENCH_INSERT_REPEATS", "5"))
#: What the timed job and its baselines print: the insert's own time, by
#: their own clock, so that the figure can be split into the insert and the rest.
TOOK = "insert took "


def bulk_script(timed: bool = False) -> str:
    """A job that stores 200,000 tweet-shaped rows in Updates with one
    insert_many; `timed`: and prints how long the insert_many took."""
    start, took = (
        "t = time.perf_counter()\n    ",
        f"    print('{TOOK}%.6f' % (time.perf_counter() - t))\n",
    )
    return (
        "import time\n"
        "from datetime import UTC, datetime\n"
        "def bulk():\n"
        "    now = datetime.now(UTC)\n"
        f"    rows = [{{'twitterId': 2**62 + i, 'text': 'tweet number %d #mobileservices' % i,"
        f" 'author': 'author%d' % (i % 500), 'date': now}} for i in range({ROWS})]\n"
        f"    {start if timed else ''}tables.get_table('Updates').insert_many(rows)\n"
        f"{took if timed else ''}"
    )


def _took(output: str) -> float:
    return float(output.split(TOOK, 1)[1].split()[0])


def _interleaved(ours: Callable[[], str], baseline: Callable[[], str], repeats: int) -> list[float]:
    """Wall times and insert times of `ours` and `baseline` taken in turn (a
    shared machine's load falls on both alike), as medians: ours, baseline,
    ours' insert, baseline's insert."""
    times: list[list[float]] = [[], [], [], []]
    for _ in range(repeats):
        for action, wall, took in ((ours, times[0], times[2]), (baseline, times[1], times[3])):
            start = time.perf_counter()
            output = action()
            wall.append(time.perf_counter() - start)
            took.append(_took(output))
    return [statistics.median(t) for t in times]


def _job_run(home: str, db: str | None = None) -> str:
    """`mobile-console job run bulk`, as a user types it; its output."""
    where = ["--db", db] if db else []
    return subprocess.run(
        [sys.executable, "-m", "console", "--home", home, *where, "job", "run", "bulk"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _prepared_home(db: str | None = None) -> str:
    from console.app import open_services

    home = fresh_home()
    services = open_services(home, db)
    services.tables.create("Updates")
    services.jobs.create("bulk", script=bulk_script(timed=True), timeout_s=600)
    services.close()
    return str(home)


def insert_many() -> list[Figure]:
    """insert_many of 200,000 tweet-shaped rows through `job run`, against
    raw sqlite3 executemany of the same rows in a fresh process, taken in
    turn; beside it, the insert alone against the executemany alone."""
    homes = [_prepared_home() for _ in range(REPEATS)]  # set up outside the timing

    def baseline() -> str:
        db = fresh_home() / "raw.db"
        # The raw sqlite3 baseline, run as its own program; nothing user-given in it.
        return python(
            "import sqlite3, datetime, time\n"  # noqa: S608
            f"c = sqlite3.connect({str(db)!r}); c.execute('PRAGMA journal_mode=WAL')\n"
            "c.execute('CREATE TABLE u (id INTEGER PRIMARY KEY, ca TEXT, ua TEXT, v INTEGER,"
            " twitterId INTEGER, text TEXT, author TEXT, date TEXT)')\n"
            "now = datetime.datetime.now(datetime.UTC).isoformat()\n"
            f"rows = [(now, now, 1, 2**62 + i, 'tweet number %d #mobileservices' % i,"
            f" 'author%d' % (i % 500), now) for i in range({ROWS})]\n"
            "t = time.perf_counter()\n"
            "with c: c.executemany('INSERT INTO u (ca, ua, v, twitterId, text, author, date)"
            " VALUES (?,?,?,?,?,?,?)', rows)\n"
            f"print('{TOOK}%.6f' % (time.perf_counter() - t))\n"
        )

    ours_s, base_s, ours_insert, base_insert = _interleaved(
        lambda: _job_run(homes.pop()), baseline, REPEATS
    )
    floor_s = base_s + _import_cost("sqlalchemy")
    return [
        Figure(
            "insert_many 200k rows via job run",
            ours_s,
            base_s,
            "s",
            "≤ 1.3x",
            ours_s <= 1.3 * base_s,
        ),
        Figure(
            "insert_many 200k rows: the call alone (vs executemany alone; no goal)",
            ours_insert,
            base_insert,
            "s",
            "—",
            True,
        ),
        Figure(
            "insert_many 200k rows: the baseline plus SQLAlchemy's import (no goal)",
            floor_s,
            base_s,
            "s",
            "—",
            True,
        ),
    ]


def _import_cost(module: str) -> float:
    """What importing `module` adds to a fresh interpreter that imports
    sqlite3 (the baseline's), as medians of the two taken in turn."""
    times: list[list[float]] = [[], []]
    for _ in range(max(REPEATS, 5)):
        for code, took in ((f"import sqlite3, {module}", times[0]), ("import sqlite3", times[1])):
            start = time.perf_counter()
            python(code)
            took.append(time.perf_counter() - start)
    return statistics.median(times[0]) - statistics.median(times[1])


def insert_many_postgres() -> list[Figure]:
    """The same on PostgreSQL (BENCH_PG, else MOBILE_CONSOLE_TEST_PG, a URL;
    its public schema is emptied first): `job run --db URL` against
    psycopg's executemany of the same rows in a fresh process."""
    url = os.environ.get("BENCH_PG") or os.environ.get("MOBILE_CONSOLE_TEST_PG")
    if not url:
        print("insert_many_postgres: no BENCH_PG, skipped", file=sys.stderr)
        return []
    from bench.workers_bench import _fresh_postgres

    def ours() -> str:
        _fresh_postgres(url)  # outside the timing, as the SQLite homes are made
        return _job_run(_prepared_home(url), url)

    def baseline() -> str:
        _fresh_postgres(url)
        conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        # The raw psycopg baseline, run as its own program; nothing user-given in it.
        return python(
            "import datetime, time, psycopg\n"  # noqa: S608
            f"c = psycopg.connect({conninfo!r})\n"
            "c.execute('CREATE TABLE u (id BIGSERIAL PRIMARY KEY, ca TIMESTAMPTZ NOT NULL,"
            ' ua TIMESTAMPTZ NOT NULL, v INTEGER NOT NULL, "twitterId" BIGINT, text TEXT,'
            " author TEXT, date TIMESTAMPTZ)'); c.commit()\n"
            "now = datetime.datetime.now(datetime.UTC)\n"
            f"rows = [(now, now, 1, 2**62 + i, 'tweet number %d #mobileservices' % i,"
            f" 'author%d' % (i % 500), now) for i in range({ROWS})]\n"
            "t = time.perf_counter()\n"
            'with c.cursor() as cur: cur.executemany(\'INSERT INTO u (ca, ua, v, "twitterId",'
            " text, author, date) VALUES (%s, %s, %s, %s, %s, %s, %s)', rows)\n"
            "c.commit()\n"
            f"print('{TOOK}%.6f' % (time.perf_counter() - t))\n"
        )

    ours_s, base_s, ours_insert, base_insert = _interleaved(ours, baseline, REPEATS)
    return [
        Figure(
            "insert_many 200k rows via job run, PostgreSQL",
            ours_s,
            base_s,
            "s",
            "≤ 1.5x",
            ours_s <= 1.5 * base_s,
        ),
        Figure(
            "insert_many 200k rows, PostgreSQL: the call alone (vs executemany alone; no goal)",
            ours_insert,
            base_insert,
            "s",
            "—",
            True,
        ),
    ]


def run_once() -> Figure:
    """Run Once of an empty job (the runner, as the window calls it), against
    starting Python and importing sqlite3."""
    from console.app import open_services

    services = open_services(fresh_home())
    services.jobs.create("empty", script="def empty():\n    pass\n")
    services.runner.run("empty")  # warm the file cache once
    ours_s = median_time(lambda: services.runner.run("empty"), 9)
    base_s = median_time(
        lambda: subprocess.run([sys.executable, "-c", "import sqlite3"], check=True), 9
    )
    services.close()
    return Figure("Run Once of an empty job", ours_s, base_s, "s", "≤ 4x", ours_s <= 4 * base_s)


def get_updates() -> Figure:
    """getUpdates fetching 10 pages of 100 tweets from the stand-in and storing
    them, against the same signed requests with plain requests-oauthlib."""
    from console.app import open_services
    from console.demo.memory_keyring import MemoryKeyring
    from console.demo.twitter_standin import TwitterStandIn

    standin = TwitterStandIn().start()
    for i in range(1000):
        standin.add_tweet(f"tweet {i} #mobileservices")
    creds = standin.credentials

    def ours() -> None:
        services = open_services(fresh_home(), keyring_backend=MemoryKeyring())
        services.app_settings.set_identity(creds.consumer_key, creds.consumer_secret)
        services.app_settings.set("TWITTER_ACCESS_TOKEN", creds.access_token, secret=True)
        services.app_settings.set(
            "TWITTER_ACCESS_TOKEN_SECRET", creds.access_token_secret, secret=True
        )
        services.app_settings.set("TWITTER_SEARCH_URL", standin.search_url)
        services.tables.create("Updates")
        services.jobs.create("getUpdates", template="getUpdates")
        # As the window and the worker run it: a warm spare waits (docs/benchmarks.md).
        services.runner.keep_warm()
        time.sleep(1.5)  # the spare has loaded what scripts use
        start = time.perf_counter()
        run = services.runner.run("getUpdates")
        timings.append(time.perf_counter() - start)
        assert run.rows_written == 1000, run.error
        services.close()

    timings: list[float] = []
    for _ in range(5):
        ours()
    ours_s = statistics.median(timings)
    # The baseline in a fresh process too: the job pays for starting one.
    base_s = median_time(
        lambda: python(
            "import bench.jobs_bench as b; b._baseline_requests("
            + json.dumps(standin.search_url)
            + ")"
        ),
        5,
    )
    standin.stop()
    return Figure(
        "getUpdates 10 pages of 100", ours_s, base_s, "s", "≤ 1.5x", ours_s <= 1.5 * base_s
    )


def _baseline_requests(url: str) -> None:
    import requests
    from requests_oauthlib import OAuth1

    from console.demo.twitter_standin import Credentials

    creds = Credentials()
    auth = OAuth1(
        creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret
    )
    params: dict[str, object] = {"q": "#mobileservices", "count": 100, "result_type": "recent"}
    with requests.Session() as session:
        for _ in range(10):
            body = session.get(url, params=params, auth=auth, timeout=30).json()
            nxt = body["search_metadata"].get("next_results")
            if not nxt:
                break
            params = dict(p.split("=", 1) for p in nxt[1:].split("&"))
