"""A run's log on its way to the database: masked before anything else,
cut, capped per run with the rest counted, and spooled while the database
is away."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from console.app import Services
from console.core.clock import utcnow
from console.core.config.masking import MASK, Masker
from console.core.running import log_writer
from console.core.running.log_writer import MAX_LINE, LogLine, LogWriter
from console.core.store.spool import Spool


def _writer(services: Any, **kwargs: Any) -> tuple[LogWriter, Any, list[LogLine]]:
    job = services.jobs.create("hello", interval=1, unit="hour", template="hello")
    run = services.runs.start(job.id, job.name, "manual", "test")
    seen: list[LogLine] = []
    options: dict[str, Any] = {"max_lines": 100, "max_bytes": 1_000_000, **kwargs}
    writer = LogWriter(
        services.runs, run, Masker(["tok-s3cr3t-123"]), seen.append, clock=utcnow, **options
    )
    return writer, run, seen


def test_lines_are_masked_before_they_are_shown_or_stored(services: Services) -> None:
    writer, run, seen = _writer(services)
    writer.add("information", "token is tok-s3cr3t-123")
    writer.add("error", "x" * (MAX_LINE + 50))
    assert writer.flush() is None
    stored = [e.message for e in services.runs.entries(run_id=run.id, limit=None)]
    assert stored[0] == f"token is {MASK}" and seen[0].message == stored[0]
    assert stored[1].endswith("… (50 more characters)") and len(stored[1]) < MAX_LINE + 40


def test_past_the_cap_lines_are_counted_not_kept(services: Services) -> None:
    writer, run, _seen = _writer(services, max_lines=3)
    for i in range(10):
        writer.add("information", f"line {i}")
    writer.note_dropped()
    writer.flush()
    stored = [e.message for e in services.runs.entries(run_id=run.id, limit=None)]
    assert stored[:3] == ["line 0", "line 1", "line 2"]
    assert stored[3].startswith("7 more lines") and "at most 3 lines" in stored[3]


class _Gone:
    """A run log whose database went away."""

    def __init__(self, runs: Any) -> None:
        self.store = runs.store

    def append(self, *_args: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))


def test_while_the_database_is_away_the_lines_go_to_the_spool(
    services: Services, home: Path
) -> None:
    spool = Spool(home)
    job = services.jobs.create("hello", interval=1, unit="hour", template="hello")
    run = services.runs.start(job.id, job.name, "manual", "test")
    writer = LogWriter(
        _Gone(services.runs),  # type: ignore[arg-type]
        run,
        Masker(["tok-s3cr3t-123"]),
        None,
        100,
        1_000_000,
        utcnow,
        spool,
    )
    writer.add("information", "kept for later: tok-s3cr3t-123")
    why = writer.flush()
    assert why is not None and "locked" in why
    assert spool.pending()
    assert "tok-s3cr3t-123" not in (home / "log-spool.jsonl").read_text()
    assert spool.replay(services.runs.store) >= 1
    stored = [e.message for e in services.runs.entries(run_id=run.id, limit=None)]
    assert stored == [f"kept for later: {MASK}"]


def test_a_short_runs_lines_wait_for_its_end_then_flow(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's first lines are stored after `FIRST_FLUSH_S` (a short run's
    with its end, one transaction), then every `FLUSH_S`."""
    now = [1000.0]
    monkeypatch.setattr(log_writer, "time", SimpleNamespace(monotonic=lambda: now[0]))
    writer, run, seen = _writer(services)

    def stored() -> list[str]:
        return [e.message for e in services.runs.entries(run_id=run.id, limit=None)]

    writer.add("information", "early")
    now[0] += log_writer.FIRST_FLUSH_S - 0.01
    writer.flush_if_due()
    assert stored() == [] and [line.message for line in seen] == ["early"]
    now[0] += 0.02
    writer.flush_if_due()
    assert stored() == ["early"]
    writer.add("information", "later")
    writer.flush_if_due()
    assert stored() == ["early"]
    now[0] += log_writer.FLUSH_S
    writer.flush_if_due()
    assert stored() == ["early", "later"]
