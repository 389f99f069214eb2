"""The templates against hostile data, served by one hostile server on
loopback: each bad answer fails the run with one line saying why, reads no
further than its limits, and leaves the target table as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.app import Services, open_services
from console.core.tables.api import open_table
from console.demo.memory_keyring import MemoryKeyring
from tests.fakes.hostile_site import HostileSite
from tests.integration.test_templates import LONG_AGO, job, log_of

CANARY = "CANARY-7f3a9c-never-read"
READ_AT_MOST = 64_000_000  # bytes the site got out before the client hung up: far below 1 GB


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileSite]:
    secret = tmp_path_factory.mktemp("outside") / "secret.txt"
    secret.write_text(CANARY)
    with HostileSite(secret) as hostile:
        yield hostile


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """One console for the module's cases, each a job of its own, with a
    script host kept warm: a run starts in milliseconds."""
    home = tmp_path_factory.mktemp("hostile")
    home.chmod(0o700)
    services = open_services(home, keyring_backend=MemoryKeyring())
    services.runner.keep_warm()
    yield services
    services.close()


def case_job(console: Services, template: str, **settings: str) -> str:
    """A job from `template` for one case (its settings are the app's)."""
    for key, value in settings.items():
        console.app_settings.set(key, value)
    name = f"{template}{len(console.jobs.all())}"
    console.jobs.create(name, interval=1, unit="hour", template=template)
    return name


def failed_with_one_line(services: Services, run: Any, reason: str) -> str:
    """The run failed, its error is one line holding `reason`, and the log
    shows no traceback; returns the log."""
    log = log_of(services, run)
    assert run.status == "failed", log
    assert run.error is not None and reason in run.error, log
    assert "\n" not in run.error
    assert "Traceback" not in log
    return log


# A small cap, so a "1 GB" answer stops after 1 MB; the drip is cut by a short
# timeout, set for it alone (on a busy machine 1 MB may take longer than that).
LIMITS = {"MAX_BODY_MB": "1", "FEED_TIMEOUT": "30", "THUMBNAIL_TIMEOUT": "30"}


def kept_table(console: Services, name: str, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The table `name` holding `row` (made once); its rows."""
    if name not in [t.name for t in console.tables.all()]:
        console.tables.create(name)
        open_table(console.tables, name).insert(row)
    return open_table(console.tables, name).read()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/feed/laughs.xml", "declares XML entities (an entity bomb or a file read); refused"),
        ("/feed/xxe.xml", "declares XML entities"),
        ("/feed/huge.xml", "larger than 1 MB (MAX_BODY_MB)"),
        ("/feed/drip.xml", "not received in full within 0.5 s (FEED_TIMEOUT)"),
        ("/feed/slow-headers.xml", "not received in full within 0.5 s (FEED_TIMEOUT)"),
        ("/feed/bad-encoding.xml", "not valid utf-8 (byte 116), the encoding it declares"),
    ],
)
def test_get_feed_refuses_a_hostile_feed(
    console: Services, site: HostileSite, path: str, reason: str
) -> None:
    before = kept_table(console, "Feed", {"feed": "http://example.org/", "guid": "g0"})
    endless = "drip" in path or "slow" in path
    limits = {**LIMITS, "FEED_TIMEOUT": "0.5"} if endless else LIMITS
    run = console.runner.run(case_job(console, "getFeed", FEED_URLS=site.url(path), **limits))
    log = failed_with_one_line(console, run, f"{site.url(path)}: {reason}")
    after = open_table(console.tables, "Feed").read()
    assert after == before
    assert open_table(console.tables, "Feed_sources").count() == 0
    assert CANARY not in log and CANARY not in str(after)  # the XXE's file was never read
    assert site.sent[path] < READ_AT_MOST


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/image/bomb.png", "over the 50,000,000-pixel limit"),
        ("/image/truncated.png", "not a readable image: image file is truncated"),
        ("/image/not-an-image.png", "not an image (PNG, JPEG, GIF, WEBP, BMP)"),
        ("/image/missing.png", "the server answered HTTP 404"),
        ("/image/huge.png", "over the 1,000,000-byte limit (MAX_BODY_MB)"),
    ],
)
def test_make_thumbnails_refuses_a_hostile_image(
    console: Services, site: HostileSite, path: str, reason: str
) -> None:
    table = "Photos" + path.split("/")[-1].split(".")[0].replace("-", "_")
    before = kept_table(console, table, {"imageUrl": site.url(path)})
    run = console.runner.run(case_job(console, "makeThumbnails", THUMBNAIL_TABLE=table, **LIMITS))
    failed_with_one_line(console, run, f"row 1: {site.url(path)}: {reason}")
    assert open_table(console.tables, table).read() == before  # no thumbnail, not even empty
    assert site.sent[path] < READ_AT_MOST


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (
            "/api/rate-limited",
            "Twitter answered HTTP 429: Too Many Requests. "
            "Rate limit exceeded; try again in 120 s (Retry-After)",
        ),
        ("/api/unavailable", "Twitter answered HTTP 503: <html><body>Service Unavailable"),
        ("/api/malformed", "Twitter's answer was not valid JSON (application/json)"),
        ("/api/not-json", "Twitter's answer was not valid JSON (text/html)"),
        ("/api/huge", "Twitter's answer was larger than 1 MB (MAX_BODY_MB)"),
    ],
)
def test_get_updates_refuses_a_hostile_api(
    console: Services, site: HostileSite, path: str, reason: str
) -> None:
    console.app_settings.set("TWITTER_BEARER_TOKEN", "bearer-token", secret=True)
    before = kept_table(console, "Updates", {"twitterId": 5, "text": "kept", "author": "ana"})
    asked = site.hits.count(path)
    name = case_job(console, "getUpdates", TWITTER_SEARCH_URL=site.url(path), **LIMITS)
    run = console.runner.run(name)
    failed_with_one_line(console, run, reason)
    assert open_table(console.tables, "Updates").read() == before
    assert site.hits.count(path) == asked + 1  # asked once: a 429 is not retried within the run
    assert site.sent[path] < READ_AT_MOST


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest, home: Path) -> Iterator[Services]:
    """The module's console (SQLite), or a fresh one on the test PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("console")
        return
    services = open_services(
        home, request.getfixturevalue("pg_url"), keyring_backend=MemoryKeyring()
    )
    yield services
    services.close()


@pytest.mark.parametrize(
    ("template", "settings", "reason"),
    [
        (
            "removeDuplicates",
            {"DEDUPE_KEYS": "author, txet, lang"},
            "{table} has no column 'txet', 'lang' (DEDUPE_KEYS); nothing was removed",
        ),
        (
            "archiveOld",
            {"ARCHIVE_AFTER_DAYS": "0", "ARCHIVE_DATE_COLUMN": "when"},
            "{table} has no column 'when' (ARCHIVE_DATE_COLUMN)",
        ),
        (
            "archiveOld",
            {"ARCHIVE_AFTER_DAYS": "0", "ARCHIVE_DATE_COLUMN": "author"},
            "{table}.author holds string values, not dates (ARCHIVE_DATE_COLUMN)",
        ),
    ],
)
def test_a_table_without_the_configured_columns_is_left_alone(
    any_db: Services, template: str, settings: dict[str, str], reason: str
) -> None:
    table = f"Events{len(any_db.tables.all())}"
    any_db.tables.create(table)
    events = open_table(any_db.tables, table)
    events.insert_many([{"author": "ana"}, {"author": "ana"}])  # duplicates, and all old enough
    before = events.read()
    tables = {t.name for t in any_db.tables.all()}
    name = case_job(any_db, template, DEDUPE_TABLE=table, ARCHIVE_TABLE=table, **settings)
    run = any_db.runner.run(name)
    failed_with_one_line(any_db, run, reason.format(table=table))
    assert events.read() == before
    assert {t.name for t in any_db.tables.all()} == tables  # no archive made


def test_archive_old_by_a_date_column_of_its_own(services: Services) -> None:
    services.tables.create("Feed")
    feed = open_table(services.tables, "Feed")
    feed.insert_many(
        [
            {"title": "old", "published": LONG_AGO},
            {"title": "new", "published": datetime.now(UTC)},
            {"title": "undated", "published": None},
        ]
    )
    job(services, "archiveOld", ARCHIVE_TABLE="Feed", ARCHIVE_AFTER_DAYS="30")
    services.app_settings.set("ARCHIVE_DATE_COLUMN", "published")
    run = services.runner.run("archiveOld")
    assert run.status == "succeeded", log_of(services, run)
    assert [r["title"] for r in open_table(services.tables, "Feed_archive").read()] == ["old"]
    assert [r["title"] for r in feed.read()] == ["new", "undated"]
