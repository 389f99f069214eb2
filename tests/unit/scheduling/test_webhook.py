"""The failure web hook on its own: what it posts, that a failing receiver
is retried once and logged with the URL masked, and that without a hook
nothing is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from console.app import Services
from console.core.scheduling.alerts import FAILED, Alert
from console.core.scheduling.webhook import FailureWebhook


class Receiver:
    """A loopback receiver answering `status`, keeping what it was sent."""

    def __init__(self) -> None:
        self.status = 204
        self.posts: list[tuple[dict[str, Any], str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((json.loads(body), self.headers["User-Agent"]))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/T0K3N-s3cr3t"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.server.shutdown()


def _failed_run(services: Services) -> Alert:
    script = "def nightly():\n    raise RuntimeError('Twitter blinked')\n"
    services.jobs.create("nightly", interval=1, unit="day", script=script)
    run = services.runner.run("nightly")
    assert run.status == "failed"
    return Alert(FAILED, run)


def _log(services: Services, run_id: int) -> list[str]:
    return [e.message for e in services.runs.entries(run_id=run_id, limit=None)]


def test_a_failure_is_posted_as_json(services: Services, receiver: Receiver) -> None:
    services.set_setting("failure_webhook", receiver.url)
    hook = FailureWebhook(services.settings, services.runs, retry_after_s=0.01)
    alert = _failed_run(services)
    hook(alert)
    assert hook.drain()
    hook.close()
    (body, agent), *_ = receiver.posts
    assert body["job"] == "nightly" and body["status"] == "failed"
    assert body["error"].startswith("RuntimeError: Twitter blinked") and agent.startswith(
        "mobile-console/"
    )
    assert "the failure web hook was told (failed)" in _log(services, alert.run.id)


def test_a_failing_receiver_is_tried_twice_and_logged_with_its_url_masked(
    services: Services, receiver: Receiver
) -> None:
    receiver.status = 500
    services.set_setting("failure_webhook", receiver.url)
    hook = FailureWebhook(services.settings, services.runs, retry_after_s=0.01)
    alert = _failed_run(services)
    hook(alert)
    assert hook.drain()
    hook.close()
    assert len(receiver.posts) == 2
    warning = [m for m in _log(services, alert.run.id) if "web hook failed" in m]
    assert warning and "T0K3N-s3cr3t" not in warning[0]
    assert "500" in warning[0] and "the run's result is unchanged" in warning[0]
    assert services.runs.get(alert.run.id).status == "failed"


def test_without_a_hook_nothing_is_sent(services: Services, receiver: Receiver) -> None:
    hook = FailureWebhook(services.settings, services.runs)
    alert = _failed_run(services)
    hook(alert)
    assert hook.drain()
    hook.close()
    assert receiver.posts == [] and not any("web hook" in m for m in _log(services, alert.run.id))
