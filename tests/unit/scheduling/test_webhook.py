"""The failure web hook on its own: what it posts, that a failing receiver
is retried once and logged with the URL masked, and that without a hook
nothing is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from console.app import Services
from console.core.config.masking import MASK
from console.core.scheduling.alerts import FAILED, Alert
from console.core.scheduling.webhook import KEY, FailureWebhook


class Receiver:
    """A loopback receiver answering `statuses` in turn (then `status`, with
    `reason`), keeping what it was sent."""

    def __init__(self) -> None:
        self.status = 204
        self.statuses: list[int] = []
        self.reason = "Nope"
        self.posts: list[tuple[dict[str, Any], str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((json.loads(body), self.headers["User-Agent"]))
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                self.send_response(status, None if status < 300 else receiver.reason)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/T0K3N-s3cr3t"

    @property
    def runs(self) -> list[int]:
        """The run ids posted, in order."""
        return [body["run"] for body, _agent in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.server.shutdown()
    started.server.server_close()


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


# -- the hook's own logic, with fake settings and run log -----------------------


@dataclass
class FakeSettings:
    values: dict[str, Any] = field(default_factory=dict)
    error: Exception | None = None

    def is_set(self, key: str) -> bool:
        return key in self.values or self.error is not None

    def get(self, key: str) -> Any:
        if self.error is not None:
            raise self.error
        return self.values[key]


@dataclass
class FakeRunLog:
    lines: list[tuple[str, str, int]] = field(default_factory=list)

    def log(self, job: str, level: str, message: str, run_id: int) -> None:
        self.lines.append((level, message, run_id))


@dataclass
class FakeAlert:
    run_id: int
    kind: str = "failed"

    @property
    def run(self) -> Any:
        return SimpleNamespace(job_name="nightly", id=self.run_id)

    def payload(self) -> dict[str, Any]:
        return {"run": self.run_id}


def _posted(settings: FakeSettings, *alerts: FakeAlert) -> FakeRunLog:
    runs = FakeRunLog()
    hook = FailureWebhook(settings, runs, retry_after_s=0.0)  # type: ignore[arg-type]
    for alert in alerts:
        hook(alert)  # type: ignore[arg-type]
    assert hook.drain()
    hook.close()
    return runs


def test_alerts_are_posted_in_the_order_they_came(receiver: Receiver) -> None:
    _posted(FakeSettings({KEY: receiver.url}), FakeAlert(1), FakeAlert(2), FakeAlert(3))
    assert receiver.runs == [1, 2, 3]


def test_a_receiver_that_echoes_the_url_has_it_masked_in_the_log(receiver: Receiver) -> None:
    receiver.statuses = [500, 500]
    receiver.reason = f"no hook at {receiver.url}"
    runs = _posted(FakeSettings({KEY: receiver.url}), FakeAlert(7))
    ((level, message, run_id),) = runs.lines
    assert (level, run_id) == ("warning", 7)
    assert "T0K3N-s3cr3t" not in message and MASK in message


def test_a_failure_then_a_success_is_told(receiver: Receiver) -> None:
    receiver.statuses = [503]
    runs = _posted(FakeSettings({KEY: receiver.url}), FakeAlert(7, "recovered"))
    assert receiver.runs == [7, 7]
    assert runs.lines == [("information", "the failure web hook was told (recovered)", 7)]


def test_a_redirect_is_a_failure_that_says_to_use_its_target(receiver: Receiver) -> None:
    receiver.statuses = [302, 302]
    receiver.reason = "Found"
    runs = _posted(FakeSettings({KEY: receiver.url}), FakeAlert(7))
    ((level, message, _),) = runs.lines
    assert level == "warning"
    assert "HTTP 302 Found: it redirects, and a redirect is not followed" in message


def test_an_unreadable_hook_url_is_a_warning_in_the_run_log() -> None:
    runs = _posted(FakeSettings(error=RuntimeError("the keyring is locked")), FakeAlert(7))
    assert runs.lines == [
        ("warning", "the failure web hook was not called: the keyring is locked", 7)
    ]


def test_an_unreachable_hook_is_a_warning_with_the_url_masked() -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{closed.server_address[1]}/T0K3N-s3cr3t"
    closed.server_close()  # nothing listens there now
    runs = _posted(FakeSettings({KEY: url}), FakeAlert(7))
    ((level, message, _),) = runs.lines
    assert level == "warning" and "T0K3N-s3cr3t" not in message


def test_after_close_alerts_are_dropped(receiver: Receiver) -> None:
    runs = FakeRunLog()
    hook = FailureWebhook(FakeSettings({KEY: receiver.url}), runs, retry_after_s=0.0)  # type: ignore[arg-type]
    hook(FakeAlert(1))  # type: ignore[arg-type]
    assert hook.drain()
    hook.close()
    hook(FakeAlert(2))  # type: ignore[arg-type]
    assert hook.drain()
    assert receiver.runs == [1]
