"""The periodic-task templates end to end: each job created from its
template and run in a real child process against a real database, with a
loopback HTTP server where it calls out."""

from __future__ import annotations

import io
import os
import random
import select
import signal
import sqlite3
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from console.app import Services, open_services
from console.core.jobs.job_store import template_names
from console.core.jobs.runs import Run
from console.core.running.log_writer import LogLine
from console.core.tables.api import open_table
from tests.fakes.static_site import StaticSite, rss

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def log_of(services: Services, run: Run) -> str:
    return "\n".join(e.message for e in services.runs.entries(run_id=run.id))


def job(services: Services, template: str, **settings: str) -> None:
    for key, value in settings.items():
        services.app_settings.set(key, value)
    services.jobs.create(template, interval=1, unit="hour", template=template)


def test_every_template_is_offered() -> None:
    offered = set(template_names())
    assert {"archiveOld", "removeDuplicates", "getFeed", "makeThumbnails"} <= offered


@pytest.mark.parametrize(
    ("template", "settings", "missing"),
    [
        ("archiveOld", {"ARCHIVE_AFTER_DAYS": "30"}, "ARCHIVE_TABLE"),
        ("archiveOld", {"ARCHIVE_TABLE": "Updates"}, "ARCHIVE_AFTER_DAYS"),
        ("removeDuplicates", {"DEDUPE_TABLE": "Updates"}, "DEDUPE_KEYS"),
        ("getFeed", {}, "FEED_URLS"),
        ("makeThumbnails", {}, "THUMBNAIL_TABLE"),
    ],
)
def test_a_missing_setting_fails_the_run_with_one_line_naming_it(
    services: Services, template: str, settings: dict[str, str], missing: str
) -> None:
    services.tables.create("Updates")
    job(services, template, **settings)
    run = services.runner.run(template)
    assert run.status == "failed"
    assert run.error is not None and missing in run.error and "\n" not in run.error
    assert "Traceback" not in log_of(services, run)


# -- archiveOld -------------------------------------------------------------


def aged(services: Services, table: str, count: int, old: int) -> None:
    """`count` rows, the first `old` of them created long ago."""
    services.tables.create(table)
    services.tables.clock = lambda: LONG_AGO
    open_table(services.tables, table).insert_many({"n": i, "word": f"w{i}"} for i in range(old))
    services.tables.clock = lambda: datetime.now(UTC)
    open_table(services.tables, table).insert_many({"n": i} for i in range(old, count))


def test_archive_old_moves_old_rows_with_their_ids(services: Services) -> None:
    aged(services, "Events", 250, 200)
    before = {r["id"]: r for r in open_table(services.tables, "Events").read()}
    job(services, "archiveOld", ARCHIVE_TABLE="events", ARCHIVE_AFTER_DAYS="30", ARCHIVE_BATCH="64")
    run = services.runner.run("archiveOld")
    assert run.status == "succeeded", log_of(services, run)
    archived = open_table(services.tables, "Events_archive").read()
    assert [r["id"] for r in archived] == list(range(1, 201))
    assert archived == [before[i] for i in range(1, 201)]  # same values, same system columns
    assert [r["id"] for r in open_table(services.tables, "Events").read()] == list(range(201, 251))
    assert "Archived 200 rows; 50 remain in Events" in log_of(services, run)
    assert services.runner.run("archiveOld").status == "succeeded"  # nothing more to move
    assert open_table(services.tables, "Events_archive").count() == 200


def test_archive_old_killed_midway_loses_and_doubles_nothing(services: Services) -> None:
    total = 20_000  # in batches of 2: the job is far from done when the first is reported
    aged(services, "Events", total, total)
    job(services, "archiveOld", ARCHIVE_TABLE="Events", ARCHIVE_AFTER_DAYS="1", ARCHIVE_BATCH="2")
    services.runner.keep_warm()
    host = services.runner.spare_pid
    assert host is not None
    db = services.location.db_url.removeprefix("sqlite:///")
    blocker = sqlite3.connect(db, timeout=60, isolation_level=None)

    killed = []

    def on_line(line: LogLine) -> None:
        if line.message.startswith("Moved ") and not killed:
            # Hold the database between two batches, so the job is stopped
            # midway for certain, and kill it there as a power cut would.
            blocker.execute("BEGIN IMMEDIATE")
            gone = os.pidfd_open(host)
            os.kill(host, signal.SIGKILL)
            select.select([gone], [], [], 30)  # readable once the process has ended
            os.close(gone)
            blocker.execute("ROLLBACK")
            killed.append(line.message)

    try:
        run = services.runner.run("archiveOld", on_line=on_line)
    finally:
        blocker.close()
    assert killed
    assert run.status == "failed" and "SIGKILL" in (run.error or "")
    kept = [r["n"] for r in open_table(services.tables, "Events").read()]
    moved = [r["n"] for r in open_table(services.tables, "Events_archive").read()]
    assert 0 < len(moved) < total and len(moved) % 2 == 0
    assert sorted(kept + moved) == list(range(total))  # every row once, in one table or the other
    services.app_settings.set("ARCHIVE_BATCH", "5000")
    assert services.runner.run("archiveOld").status == "succeeded"  # the next run finishes
    assert open_table(services.tables, "Events").count() == 0
    assert sorted(r["n"] for r in open_table(services.tables, "Events_archive").read()) == list(
        range(total)
    )


# -- removeDuplicates -----------------------------------------------------------


def test_remove_duplicates_keeps_the_oldest_of_each_group(services: Services) -> None:
    services.tables.create("Updates")
    rows: list[dict[str, Any]] = [
        {"author": "ana", "text": "hello", "n": 1},
        {"author": "ana", "text": "hello", "n": 2},
        {"author": "bo", "text": "hello", "n": 3},
        {"author": "ana", "text": "hello", "n": 4},
        {"author": "bo", "text": None, "n": 5},
        {"author": "bo", "text": None, "n": 6},
    ]
    open_table(services.tables, "Updates").insert_many(rows)
    job(services, "removeDuplicates", DEDUPE_TABLE="Updates", DEDUPE_KEYS="author, text")
    run = services.runner.run("removeDuplicates")
    assert run.status == "succeeded", log_of(services, run)
    assert [r["n"] for r in open_table(services.tables, "Updates").read()] == [1, 3, 5]
    assert "Removed 3 duplicate rows of 6 from Updates" in log_of(services, run)


def test_remove_duplicates_names_an_unknown_column(services: Services) -> None:
    services.tables.create("Updates")
    open_table(services.tables, "Updates").insert({"author": "ana"})
    job(services, "removeDuplicates", DEDUPE_TABLE="Updates", DEDUPE_KEYS="author,txet")
    run = services.runner.run("removeDuplicates")
    assert run.status == "failed" and "txet" in (run.error or "")
    assert open_table(services.tables, "Updates").count() == 1


# -- getFeed -----------------------------------------------------------------


def test_get_feed_stores_new_entries_and_spares_unchanged_feeds(services: Services) -> None:
    with StaticSite() as site:
        site.put("/a.xml", rss("A", [("a1", "http://x/a1", "One"), ("a2", None, "Two")]))
        site.put("/b.xml", rss("B", [(None, "http://x/b1", "B one")]))
        site.put("/broken.xml", b"<html><body>this is no feed", content_type="text/html")
        urls = f"{site.url('/a.xml')}, {site.url('/b.xml')} {site.url('/broken.xml')} ftp://x/f"
        job(services, "getFeed", FEED_URLS=urls)
        run = services.runner.run("getFeed")
        log = log_of(services, run)
        assert run.status == "succeeded", log
        rows = open_table(services.tables, "Feed").order_by("id").read()
        assert [(r["feed"], r["guid"], r["title"], r["link"]) for r in rows] == [
            (site.url("/a.xml"), "a1", "One", "http://x/a1"),
            (site.url("/a.xml"), "a2", "Two", None),
            (site.url("/b.xml"), None, "B one", "http://x/b1"),
        ]
        assert rows[0]["published"] == datetime(2026, 6, 1, 10, tzinfo=UTC)
        assert rows[0]["summary"] == "Entry 0 of A"
        assert f"{site.url('/broken.xml')}: not a feed" in log
        assert "ftp://x/f: not an http(s) URL" in log

        # Unchanged feeds answer 304; a changed one adds only its new entries.
        site.put("/b.xml", rss("B", [(None, "http://x/b1", "B one"), (None, "http://x/b2", "2")]))
        run = services.runner.run("getFeed")
        assert run.status == "succeeded", log_of(services, run)
        assert site.not_modified == 1  # a.xml
        assert open_table(services.tables, "Feed").count() == 4
        assert open_table(services.tables, "Feed").where(link="http://x/b2").count() == 1
        assert f"{site.url('/a.xml')}: not modified" in log_of(services, run)


def test_get_feed_fails_when_every_feed_fails(services: Services) -> None:
    job(services, "getFeed", FEED_URLS="file:///etc/passwd")
    run = services.runner.run("getFeed")
    assert run.status == "failed"
    assert "file:///etc/passwd: not an http(s) URL" in log_of(services, run)


# -- makeThumbnails ------------------------------------------------------------


def picture(width: int, height: int, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, kind)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """The start of a PNG as large as a decompression bomb: what the job
    reads before it decides (it never decodes the pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_make_thumbnails_fills_a_binary_column(services: Services) -> None:
    with StaticSite() as site:
        site.put("/big.jpg", picture(800, 400, "JPEG"), "image/jpeg")
        site.put("/small.png", picture(60, 90), "image/png")
        site.put("/notes.txt", b"not a picture at all", "text/plain")
        site.put("/huge.png", png_header(9000, 6000), "image/png")  # 54 megapixels
        noise = Image.frombytes("RGB", (200, 200), random.Random(3).randbytes(120_000))
        heavy = io.BytesIO()
        noise.save(heavy, "PNG")
        assert len(heavy.getvalue()) > 100_000
        site.put("/heavy.png", heavy.getvalue(), "image/png")
        services.tables.create("Photos")
        open_table(services.tables, "Photos").insert_many(
            [
                {"name": "big", "imageUrl": site.url("/big.jpg")},
                {"name": "small", "imageUrl": site.url("/small.png")},
                {"name": "text", "imageUrl": site.url("/notes.txt")},
                {"name": "huge", "imageUrl": site.url("/huge.png")},
                {"name": "heavy", "imageUrl": site.url("/heavy.png")},
                {"name": "local", "imageUrl": "file:///etc/hostname"},
                {"name": "none", "imageUrl": None},
            ]
        )
        job(services, "makeThumbnails", THUMBNAIL_TABLE="Photos", THUMBNAIL_MAX_BYTES="100000")
        run = services.runner.run("makeThumbnails")
        log = log_of(services, run)
        assert run.status == "succeeded", log
        photos = {r["name"]: r for r in open_table(services.tables, "Photos").read()}
        kinds = {c.name: c.kind for c in services.tables.info("Photos").columns}
        assert kinds["thumbnail"] == "binary"
        assert Image.open(io.BytesIO(photos["big"]["thumbnail"])).size == (128, 64)
        assert Image.open(io.BytesIO(photos["small"]["thumbnail"])).size == (60, 90)
        for name in ("text", "huge", "heavy", "local", "none"):
            assert photos[name]["thumbnail"] is None
        assert "notes.txt: not an image" in log
        assert "huge.png: 9000×6000 pixels, over the" in log
        assert "file:///etc/hostname: not an http(s) URL" in log
        assert "heavy.png: " in log and "over the 100,000" in log
        assert "Made 2 thumbnails in Photos; 4 failed" in log

        fetched = len(site.requests)
        run = services.runner.run("makeThumbnails")  # only the failed rows again
        assert run.status == "failed"  # every one of those failed
        assert len(site.requests) == fetched + 3  # text, huge, heavy; never the file: URL


@pytest.mark.postgres
def test_archive_and_dedupe_on_postgresql(home: Path, pg_url: str, memory_keyring: object) -> None:
    services = open_services(home, pg_url, keyring_backend=memory_keyring)
    try:
        aged(services, "Events", 30, 20)
        events = open_table(services.tables, "Events")
        events.insert_many([{"n": 0, "word": "w0"}, {"n": 1, "word": "w1"}])  # 2 duplicates
        job(services, "removeDuplicates", DEDUPE_TABLE="Events", DEDUPE_KEYS="n,word")
        job(services, "archiveOld", ARCHIVE_TABLE="Events", ARCHIVE_AFTER_DAYS="1")
        run = services.runner.run("removeDuplicates")
        assert run.status == "succeeded", log_of(services, run)
        assert events.count() == 30
        run = services.runner.run("archiveOld")
        assert run.status == "succeeded", log_of(services, run)
        archive = open_table(services.tables, "Events_archive")
        assert [r["id"] for r in archive.read()] == list(range(1, 21))
        assert [r["n"] for r in events.read()] == list(range(20, 30))
    finally:
        services.close()
