"""Jobs: bulk inserts through a job, Run Once of an empty job, getUpdates."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.common import Figure, fresh_home, median_time, python

ROWS = 200_000


def bulk_script() -> str:
    """A job that stores 200,000 tweet-shaped rows in Updates with one insert_many."""
    return (
        "from datetime import UTC, datetime\n"
        "def bulk():\n"
        "    now = datetime.now(UTC)\n"
        f"    rows = [{{'twitterId': 2**62 + i, 'text': 'tweet number %d #mobileservices' % i,"
        f" 'author': 'author%d' % (i % 500), 'date': now}} for i in range({ROWS})]\n"
        "    tables.get_table('Updates').insert_many(rows)\n"
    )


def insert_many() -> Figure:
    """insert_many of 200,000 tweet-shaped rows through `job run`, against
    raw sqlite3 executemany of the same rows in a fresh process."""
    from console.app import open_services

    script = bulk_script()

    def prepared_home() -> str:
        home = fresh_home()
        services = open_services(home)
        services.tables.create("Updates")
        services.jobs.create("bulk", script=script, timeout_s=600)
        services.close()
        return str(home)

    homes = [prepared_home() for _ in range(3)]  # set up outside the timing

    def ours() -> None:
        subprocess.run(
            [sys.executable, "-m", "console", "--home", homes.pop(), "job", "run", "bulk"],
            check=True,
            capture_output=True,
        )

    def baseline() -> None:
        db = fresh_home() / "raw.db"
        # The raw sqlite3 baseline, run as its own program; nothing user-given in it.
        python(
            "import sqlite3, datetime\n"  # noqa: S608
            f"c = sqlite3.connect({str(db)!r}); c.execute('PRAGMA journal_mode=WAL')\n"
            "c.execute('CREATE TABLE u (id INTEGER PRIMARY KEY, ca TEXT, ua TEXT, v INTEGER,"
            " twitterId INTEGER, text TEXT, author TEXT, date TEXT)')\n"
            "now = datetime.datetime.now(datetime.UTC).isoformat()\n"
            f"rows = [(now, now, 1, 2**62 + i, 'tweet number %d #mobileservices' % i,"
            f" 'author%d' % (i % 500), now) for i in range({ROWS})]\n"
            "with c: c.executemany('INSERT INTO u (ca, ua, v, twitterId, text, author, date)"
            " VALUES (?,?,?,?,?,?,?)', rows)\n"
        )

    ours_s, base_s = median_time(ours, 3), median_time(baseline, 3)
    return Figure(
        "insert_many 200k rows via job run", ours_s, base_s, "s", "≤ 2.0x", ours_s <= 2.0 * base_s
    )


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
    import statistics

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
