"""The periodic-task templates from the user's action (`mobile-console job
run NAME`), each against the same work hand-written in a fresh Python."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Figure, fresh_home, median_time, python
from console.core.tables.api import open_table

ROWS = 1_000_000
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _job_run(home: Path, name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), "job", "run", name],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"job run {name} failed:\n{done.stdout}\n{done.stderr}")


def _copies(home: Path, count: int) -> list[Path]:
    """Fresh copies of a prepared home, one per timed run (made untimed)."""
    return [Path(shutil.copytree(home, fresh_home() / "home")) for _ in range(count)]


def _prepared(table: str, rows: object, template: str, settings: dict[str, str]) -> Path:
    from console.app import open_services

    home = fresh_home()
    services = open_services(home)
    services.tables.create(table)
    target = open_table(services.tables, table)
    batch: list[dict[str, object]] = []
    for row in rows:  # type: ignore[attr-defined]
        batch.append(row)
        if len(batch) == 100_000:
            target.insert_many(batch)
            batch = []
    target.insert_many(batch)
    for key, value in settings.items():
        services.app_settings.set(key, value)
    services.jobs.create(template, template=template, timeout_s=3600)
    services.close()
    return home


def _in_fresh_python(function: str, home: Path) -> None:
    python(f"import bench.templates_bench as b; b.{function}({str(home)!r})")


def _raw_archive(home: str) -> None:
    """The baseline: archive every row created before 2025 by hand, in one
    transaction, into a table made with the same columns."""
    import sqlite3

    c = sqlite3.connect(f"{home}/console.db", isolation_level=None)
    ddl = c.execute("SELECT sql FROM sqlite_master WHERE name = 'Events'").fetchone()[0]
    cutoff = "2025-01-01 00:00:00.000000"  # the text SQLite holds; every row is older
    c.execute("BEGIN")
    c.execute(ddl.replace('"Events"', '"Events_archive"', 1))
    c.execute(
        'INSERT INTO "Events_archive" SELECT * FROM "Events" WHERE "__createdAt" < ?', (cutoff,)
    )
    c.execute('DELETE FROM "Events" WHERE "__createdAt" < ?', (cutoff,))
    c.execute("COMMIT")


def _raw_dedupe(home: str) -> None:
    """The baseline: the same DELETE of duplicates, by hand."""
    import sqlite3

    c = sqlite3.connect(f"{home}/console.db", isolation_level=None)
    c.execute("BEGIN")
    c.execute(
        'DELETE FROM "Posts" WHERE id NOT IN (SELECT min(id) FROM "Posts" GROUP BY author, text)'
    )
    c.execute("COMMIT")


def archive_old() -> Figure:
    """archiveOld moving 1,000,000 rows (10,000 a transaction) to Events_archive,
    against one hand-written INSERT … SELECT + DELETE in raw sqlite3."""
    from console.app import open_services

    home = fresh_home()
    services = open_services(home)
    services.tables.create("Events")
    services.tables.clock = lambda: LONG_AGO  # every row created long ago
    events = open_table(services.tables, "Events")
    for start in range(0, ROWS, 100_000):
        events.insert_many(
            {"n": i, "kind": f"kind{i % 50}", "payload": f"event number {i}"}
            for i in range(start, start + 100_000)
        )
    services.app_settings.set("ARCHIVE_TABLE", "Events")
    services.app_settings.set("ARCHIVE_AFTER_DAYS", "30")
    services.jobs.create("archiveOld", template="archiveOld", timeout_s=3600)
    services.close()

    ours_homes, base_homes = _copies(home, 3), _copies(home, 3)
    ours_s = median_time(lambda: _job_run(ours_homes.pop(), "archiveOld"), 3)
    base_s = median_time(lambda: _in_fresh_python("_raw_archive", base_homes.pop()), 3)
    shutil.rmtree(home, ignore_errors=True)
    return Figure(
        "archiveOld 1M rows via job run", ours_s, base_s, "s", "≤ 3x", ours_s <= 3 * base_s
    )


def remove_duplicates() -> Figure:
    """removeDuplicates on 1,000,000 rows of which 10% repeat an earlier
    (author, text), against the same DELETE hand-written in raw sqlite3."""
    rng = random.Random(5)
    unique = ROWS * 9 // 10

    def rows() -> object:
        for i in range(ROWS):
            j = i if i < unique else rng.randrange(unique)
            yield {"author": f"author{j % 1000}", "text": f"post number {j}", "n": i}

    home = _prepared(
        "Posts",
        rows(),
        "removeDuplicates",
        {"DEDUPE_TABLE": "Posts", "DEDUPE_KEYS": "author, text"},
    )
    ours_homes, base_homes = _copies(home, 3), _copies(home, 3)
    ours_s = median_time(lambda: _job_run(ours_homes.pop(), "removeDuplicates"), 3)
    base_s = median_time(lambda: _in_fresh_python("_raw_dedupe", base_homes.pop()), 3)
    shutil.rmtree(home, ignore_errors=True)
    return Figure(
        "removeDuplicates 1M rows (10% dupes) via job run",
        ours_s,
        base_s,
        "s",
        "≤ 2x",
        ours_s <= 2 * base_s,
    )


def get_feed() -> Figure:
    """getFeed of 20 feeds of 100 entries from a loopback server into an
    empty Feed table, against fetching and parsing them with bare requests
    and feedparser in a fresh Python."""
    from console.app import open_services
    from tests.fakes.static_site import StaticSite, rss

    with StaticSite() as site:
        urls = []
        for f in range(20):
            items = [
                (f"urn:feed{f}:entry{e}", f"http://example.org/{f}/{e}", f"Entry {e}")
                for e in range(100)
            ]
            site.put(f"/feed{f}.xml", rss(f"Feed {f}", items))
            urls.append(site.url(f"/feed{f}.xml"))

        def prepared() -> Path:
            home = fresh_home()
            services = open_services(home)
            services.app_settings.set("FEED_URLS", " ".join(urls))
            services.jobs.create("getFeed", template="getFeed")
            services.close()
            return home

        homes = [prepared() for _ in range(5)]
        ours_s = median_time(lambda: _job_run(homes.pop(), "getFeed"), 5)
        base_s = median_time(
            lambda: python(
                "import feedparser, requests\n"
                f"urls = {json.dumps(urls)}\n"
                "with requests.Session() as s:\n"
                "    for url in urls:\n"
                "        r = s.get(url, timeout=30)\n"
                "        assert len(feedparser.parse(r.content).entries) == 100\n"
            ),
            5,
        )
    return Figure(
        "getFeed 20 feeds × 100 entries via job run",
        ours_s,
        base_s,
        "s",
        "≤ 1.5x",
        ours_s <= 1.5 * base_s,
    )
