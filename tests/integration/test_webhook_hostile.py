"""The failure web hook against hostile receivers on loopback: one that
never answers, one that drips its answer for minutes, one that sends a
gigabyte, one that redirects. Each costs at most the hook's timeout, and
the run's result stands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.app import Services
from tests.fakes.clock import FakeClock
from tests.fakes.hostile_site import HostileSite
from tests.integration.test_webhook import clock, console, flaky_job

__all__ = ["clock", "console"]  # the fixtures, shared with test_webhook


@pytest.fixture
def site() -> Iterator[HostileSite]:
    with HostileSite() as hostile:
        yield hostile


@pytest.mark.parametrize(
    ("path", "timeout", "line"),
    [
        ("/hook/hang", 0.5, "the failure web hook failed (no answer within 0.5 s)"),
        ("/hook/slow", 0.5, "the failure web hook failed (no answer within 0.5 s)"),
        ("/hook/huge", 5, "the failure web hook was told (failed)"),
        ("/hook/redirect", 5, "it redirects, and a redirect is not followed"),
    ],
)
def test_a_hostile_receiver_costs_at_most_the_hook_timeout(
    console: Services,
    clock: FakeClock,
    tmp_path: Path,
    site: HostileSite,
    path: str,
    timeout: float,
    line: str,
) -> None:
    console.settings.set("failure_webhook", site.url(path))
    console.webhook.timeout_s = timeout  # for each alert, its retry included
    flaky_job(console, clock, tmp_path)
    scheduler = console.scheduler()
    scheduler.step()
    assert scheduler.join_runs(60)  # the run ends whatever the hook does
    assert console.runs.runs()[0].status == "failed"
    assert console.webhook.drain(30)  # the receivers themselves would go on for minutes
    run = console.runs.runs()[0]
    assert run.status == "failed" and "Twitter blinked" in (run.error or "")  # unchanged
    hook_lines = [e.message for e in console.runs.entries(run_id=run.id) if "web hook" in e.message]
    assert len(hook_lines) == 1 and line in hook_lines[0], hook_lines
    assert site.sent[path] < 64_000_000  # of the gigabyte, what the socket buffers took
