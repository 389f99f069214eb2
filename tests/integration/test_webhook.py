"""The failure web hook against a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from console.app import Services, open_services
from console.core.errors import ConsoleError
from console.core.store import schema
from console.demo.memory_keyring import MemoryKeyring
from tests.conftest import need
from tests.fakes.clock import FakeClock

FIELDS = {"job", "run", "attempt", "status", "error", "started", "ended"}
FAILS_ONCE = """import os

def {name}():
    if not os.path.exists({marker!r}):
        open({marker!r}, "w").close()
        raise RuntimeError("Twitter blinked")
"""


class Receiver(ThreadingHTTPServer):
    """Records each POST's JSON body; answers 500 to the first `failures`;
    answers nothing at all until `release` is set."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self.failures = 0
        self.release = threading.Event()
        self.release.set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.bodies.append(json.loads(self.rfile.read(length)))
                outer.content_types.append(self.headers["Content-Type"])
                outer.release.wait(60)
                failing = outer.failures > 0
                outer.failures -= 1
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/T0SECRETTOKEN"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC))


@pytest.fixture
def console(home: Path, clock: FakeClock) -> Iterator[Services]:
    services = open_services(home, keyring_backend=MemoryKeyring(), clock=clock)
    services.webhook.retry_after_s = 0.05
    yield services
    services.close()


def flaky_job(console: Services, clock: FakeClock, tmp_path: Path) -> None:
    script = FAILS_ONCE.format(name="flaky", marker=str(tmp_path / "marker"))
    console.jobs.create("flaky", unit="hour", start_at=clock.now, script=script)
    with console.store.write() as conn:  # enabled, first tick due now
        conn.execute(schema.jobs.update().values(enabled=True, next_run_at=clock.now))


def run_ticks(console: Services, clock: FakeClock, ticks: int) -> None:
    sched = console.scheduler()
    for _ in range(ticks):
        sched.step()
        assert sched.join_runs(60)
        clock.advance(hours=1)
    assert console.webhook.drain()


def test_a_failure_and_the_recovery_are_posted(
    console: Services, clock: FakeClock, tmp_path: Path, receiver: Receiver
) -> None:
    console.settings.set("failure_webhook", receiver.url)
    flaky_job(console, clock, tmp_path)
    run_ticks(console, clock, 3)  # fails, recovers, succeeds again (no post)
    runs = list(reversed(console.runs.runs()))
    assert [set(b) for b in receiver.bodies] == [FIELDS, FIELDS]
    failed, recovered = receiver.bodies
    assert failed == {
        "job": "flaky",
        "run": runs[0].id,
        "attempt": 1,
        "status": "failed",
        "error": runs[0].error,
        "started": "2026-03-01T10:00:00+00:00",
        "ended": "2026-03-01T10:00:00+00:00",
    }
    assert "Twitter blinked" in failed["error"]
    assert (recovered["run"], recovered["status"], recovered["error"]) == (
        runs[1].id,
        "succeeded",
        None,
    )
    assert receiver.content_types == ["application/json"] * 2


def test_a_failing_hook_is_retried_once_then_logged_and_the_run_stands(
    console: Services, clock: FakeClock, tmp_path: Path, receiver: Receiver
) -> None:
    console.settings.set("failure_webhook", receiver.url)
    flaky_job(console, clock, tmp_path)
    receiver.failures = 1  # the retry gets through
    run_ticks(console, clock, 1)
    assert [b["status"] for b in receiver.bodies] == ["failed", "failed"]
    receiver.failures = 2  # both attempts fail
    run_ticks(console, clock, 1)  # the recovery
    assert [b["status"] for b in receiver.bodies][2:] == ["succeeded", "succeeded"]
    newest = console.runs.runs()[0]
    assert newest.status == "succeeded"  # unchanged by the hook
    warnings = [e.message for e in console.runs.entries(run_id=newest.id, level="warning")]
    assert warnings == [
        "the failure web hook failed (HTTP 500 Internal Server Error); "
        "the run's result is unchanged"
    ]
    every_line = " ".join(e.message for e in console.runs.entries(limit=None))
    assert "T0SECRETTOKEN" not in every_line


def test_a_hook_that_hangs_never_holds_up_the_run(
    console: Services, clock: FakeClock, tmp_path: Path, receiver: Receiver
) -> None:
    console.settings.set("failure_webhook", receiver.url)
    console.webhook.timeout_s = 120  # longer than the run's thread is given below
    flaky_job(console, clock, tmp_path)
    receiver.release.clear()
    sched = console.scheduler()
    sched.step()
    assert sched.join_runs(30)  # the run ended (and its thread) with the hook unanswered
    assert console.runs.runs()[0].status == "failed"
    receiver.release.set()
    assert console.webhook.drain()
    assert [b["status"] for b in receiver.bodies] == ["failed"]


def test_a_dead_hook_never_holds_up_the_scheduler(
    console: Services, clock: FakeClock, tmp_path: Path
) -> None:
    console.settings.set("failure_webhook", "http://127.0.0.1:9/closed")  # discard port: refused
    flaky_job(console, clock, tmp_path)
    run_ticks(console, clock, 1)
    newest = console.runs.runs()[0]
    assert newest.status == "failed"
    warnings = [e.message for e in console.runs.entries(run_id=newest.id, level="warning")]
    assert len(warnings) == 1 and warnings[0].startswith("the failure web hook failed (")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "hooks.slack.com/x",
        "https://",
        "http://[::1/hook",
        "https://example.com:99999/hook",
        "https://example.com:port/hook",
        "https://example.com/a hook",
        "https://example.com/\x00",
    ],
)
def test_a_hook_that_is_not_an_http_url_is_refused(console: Services, url: str) -> None:
    console.settings.set("failure_webhook", "https://example.com/kept")
    with pytest.raises(ConsoleError, match=r"^failure_webhook must be an http:// or https:// URL"):
        console.settings.set("failure_webhook", url)
    assert console.settings.get("failure_webhook") == "https://example.com/kept"


def test_the_hook_url_is_kept_in_the_keyring_not_the_database(
    console: Services, home: Path
) -> None:
    console.settings.set("failure_webhook", "https://hooks.example.com/T0SECRETTOKEN")
    assert console.settings.get("failure_webhook") == "https://hooks.example.com/T0SECRETTOKEN"
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())  # and the WAL
    assert b"T0SECRETTOKEN" not in stored
    assert console.settings.all()["failure_webhook"] == "••••••"  # masked
    console.settings.set("failure_webhook", "")  # cleared
    assert not console.settings.is_set("failure_webhook")
    assert console.settings.get("failure_webhook") == ""


@pytest.mark.keyring
def test_the_hook_url_round_trips_through_the_real_keyring(
    home: Path, clock: FakeClock, tmp_path: Path, receiver: Receiver
) -> None:
    need(bool(os.environ.get("MOBILE_CONSOLE_TEST_KEYRING")), "no Secret Service session")
    services = open_services(home, clock=clock)  # the OS keyring
    try:
        need("SecretService" in services.keyring.backend_name, services.keyring.backend_name)
        services.settings.set("failure_webhook", receiver.url)
        assert services.keyring.get("console:failure_webhook") == receiver.url
        flaky_job(services, clock, tmp_path)
        run_ticks(services, clock, 1)
        assert [b["status"] for b in receiver.bodies] == ["failed"]
        services.settings.set("failure_webhook", "")
        assert services.keyring.get("console:failure_webhook") is None
    finally:
        services.close()


@pytest.mark.parametrize("code", [302, 307])
def test_a_hook_that_redirects_is_a_logged_failure_not_a_silent_get(
    console: Services, clock: FakeClock, tmp_path: Path, receiver: Receiver, code: int
) -> None:
    seen: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(f"POST {self.path}")
            self.send_response(code)
            self.send_header("Location", receiver.url)
            self.end_headers()

        def do_GET(self) -> None:
            seen.append(f"GET {self.path}")
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        console.settings.set("failure_webhook", f"http://127.0.0.1:{server.server_address[1]}/h")
        flaky_job(console, clock, tmp_path)
        run_ticks(console, clock, 1)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["POST /h", "POST /h"]  # tried twice, never followed
    assert receiver.bodies == []
    newest = console.runs.runs()[0]
    warnings = [e.message for e in console.runs.entries(run_id=newest.id, level="warning")]
    assert len(warnings) == 1 and "redirect is not followed" in warnings[0]
    told = [e.message for e in console.runs.entries(run_id=newest.id) if "was told" in e.message]
    assert told == []
