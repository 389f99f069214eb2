"""The periodic-task templates against hostile servers and odd settings:
each bad item fails alone with a log line, each bad setting is one line
naming it, and an endless answer is read no further than its limit."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from console.app import Services
from console.core.tables.api import open_table
from tests.fakes.static_site import StaticSite, rss
from tests.integration.test_templates import job, log_of, picture, png_header


class Stalling:
    """A loopback server that answers 200 with `size` bytes and no length,
    then keeps the connection open, sending nothing more, until closed: a
    reader that waits for more than the limit allows would wait forever."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}{path}"

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n")
                conn.sendall(picture(10, 10)[:16].ljust(self.size, b"\0"))
                self.done.wait()

    def close(self) -> None:
        self.done.set()
        self.listener.close()


@pytest.fixture
def stalling() -> Iterator[Stalling]:
    server = Stalling(100_001)
    yield server
    server.close()


def test_make_thumbnails_stops_reading_at_the_limit(services: Services, stalling: Stalling) -> None:
    services.tables.create("Photos")
    open_table(services.tables, "Photos").insert({"imageUrl": stalling.url("/endless.png")})
    job(services, "makeThumbnails", THUMBNAIL_TABLE="Photos", THUMBNAIL_MAX_BYTES="100000")
    run = services.runner.run("makeThumbnails")
    log = log_of(services, run)
    assert run.status == "failed"  # its only row failed
    assert "endless.png: over the 100,000-byte limit" in log


@pytest.mark.parametrize(
    ("template", "settings", "named"),
    [
        ("archiveOld", {"ARCHIVE_AFTER_DAYS": "1000000"}, "ARCHIVE_AFTER_DAYS"),
        ("archiveOld", {"ARCHIVE_AFTER_DAYS": "²"}, "ARCHIVE_AFTER_DAYS"),
        ("archiveOld", {"ARCHIVE_AFTER_DAYS": "nan"}, "ARCHIVE_AFTER_DAYS"),
        ("archiveOld", {"ARCHIVE_AFTER_DAYS": "1", "ARCHIVE_BATCH": "9" * 30}, "ARCHIVE_BATCH"),
        ("getFeed", {"FEED_URLS": "http://127.0.0.1:9/", "FEED_TIMEOUT": "soon"}, "FEED_TIMEOUT"),
        ("getFeed", {"FEED_URLS": "http://127.0.0.1:9/", "FEED_TIMEOUT": "0"}, "FEED_TIMEOUT"),
        ("makeThumbnails", {"THUMBNAIL_SIZE": "0"}, "THUMBNAIL_SIZE"),
        ("makeThumbnails", {"THUMBNAIL_MAX_BYTES": "lots"}, "THUMBNAIL_MAX_BYTES"),
    ],
)
def test_a_bad_number_setting_fails_the_run_with_one_line_naming_it(
    services: Services, template: str, settings: dict[str, str], named: str
) -> None:
    services.tables.create("Events")
    open_table(services.tables, "Events").insert({"imageUrl": "http://127.0.0.1:9/a.png"})
    base = {"ARCHIVE_TABLE": "Events", "THUMBNAIL_TABLE": "Events"}
    job(services, template, **base, **settings)
    run = services.runner.run(template)
    assert run.status == "failed"
    assert run.error is not None and named in run.error and "\n" not in run.error
    assert "Traceback" not in log_of(services, run)
    assert open_table(services.tables, "Events").count() == 1


def test_archive_old_of_an_empty_table_moves_nothing(services: Services) -> None:
    services.tables.create("Events")
    job(services, "archiveOld", ARCHIVE_TABLE="Events", ARCHIVE_AFTER_DAYS="0")
    run = services.runner.run("archiveOld")
    assert run.status == "succeeded", log_of(services, run)
    assert "Archived 0 rows; 0 remain in Events" in log_of(services, run)


def test_get_feed_survives_a_redirect_loop_and_a_bare_304(services: Services) -> None:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/loop":
                self.send_response(302)
                self.send_header("Location", "/loop")
            else:  # 304 though the job asked nothing conditional
                self.send_response(304)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with StaticSite() as site:
            site.put("/ok.xml", rss("A", [("a1", "http://x/a1", "One")]))
            job(services, "getFeed", FEED_URLS=f"{base}/loop {base}/same {site.url('/ok.xml')}")
            run = services.runner.run("getFeed")
    finally:
        server.shutdown()
        server.server_close()
    log = log_of(services, run)
    assert run.status == "succeeded", log
    assert f"{base}/loop: could not fetch it: TooManyRedirects" in log
    assert f"{base}/same: not modified" in log
    assert open_table(services.tables, "Feed").count() == 1


def test_make_thumbnails_refuses_image_bombs_by_their_header(services: Services) -> None:
    with StaticSite() as site:
        site.put("/warned.png", png_header(10_000, 10_000), "image/png")  # Pillow warns
        site.put("/bomb.png", png_header(20_000, 20_000), "image/png")  # Pillow refuses
        site.put("/ok.png", picture(30, 30), "image/png")
        services.tables.create("Photos")
        open_table(services.tables, "Photos").insert_many(
            {"imageUrl": site.url(path)} for path in ("/warned.png", "/bomb.png", "/ok.png")
        )
        job(services, "makeThumbnails", THUMBNAIL_TABLE="Photos")
        run = services.runner.run("makeThumbnails")
    log = log_of(services, run)
    assert run.status == "succeeded", log
    assert "warned.png: 10000×10000 pixels, over the 50,000,000-pixel limit" in log
    assert "bomb.png: over the 50,000,000-pixel limit" in log
    assert "Warning" not in log
    assert "Made 1 thumbnails in Photos; 2 failed" in log


class Answering:
    """A loopback server that answers every GET with one fixed JSON body."""

    def __init__(self, body: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/2/tweets/search/recent"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"TWITTER_MAX_PAGES": "many"}, "TWITTER_MAX_PAGES"),
        ({"TWITTER_TIMEOUT": "-1"}, "TWITTER_TIMEOUT"),
        ({"TWITTER_SEARCH_URL": "file:///etc/passwd"}, "TWITTER_SEARCH_URL"),
        ({"answer": '{"data": [{"text": "no id, no date"}]}'}, "malformed"),
        ({"answer": '{"data": [{"id": "1", "created_at": "soon"}]}'}, "malformed"),
        ({"answer": '{"data": [], "includes": {"users": [7]}}'}, "malformed"),
    ],
)
def test_get_updates_names_a_bad_setting_or_a_malformed_answer(
    services: Services, settings: dict[str, str], named: str
) -> None:
    server = Answering(settings.pop("answer", "{}").encode())
    try:
        services.app_settings.set("TWITTER_BEARER_TOKEN", "bearer-token", secret=True)
        for key, value in {"TWITTER_SEARCH_URL": server.url, **settings}.items():
            services.app_settings.set(key, value)
        services.tables.create("Updates")
        services.jobs.create("getUpdates", interval=1, unit="hour", template="getUpdates")
        run = services.runner.run("getUpdates")
    finally:
        server.close()
    assert run.status == "failed"
    assert run.error is not None and named in run.error and "\n" not in run.error
    assert open_table(services.tables, "Updates").count() == 0


def test_make_thumbnails_opens_only_the_webs_image_formats(services: Services) -> None:
    # An EPS would have Pillow run Ghostscript on a stranger's file.
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    tiff = io.BytesIO()
    Image.new("RGB", (20, 20)).save(tiff, "TIFF")
    with StaticSite() as site:
        site.put("/a.eps", eps, "application/postscript")
        site.put("/a.tiff", tiff.getvalue(), "image/tiff")
        site.put("/a.gif", picture(20, 20, "GIF"), "image/gif")
        services.tables.create("Photos")
        open_table(services.tables, "Photos").insert_many(
            {"imageUrl": site.url(path)} for path in ("/a.eps", "/a.tiff", "/a.gif")
        )
        job(services, "makeThumbnails", THUMBNAIL_TABLE="Photos")
        run = services.runner.run("makeThumbnails")
    log = log_of(services, run)
    assert "a.eps: not an image (PNG, JPEG, GIF, WEBP, BMP)" in log
    assert "a.tiff: not an image" in log
    assert "Made 1 thumbnails in Photos; 2 failed" in log
