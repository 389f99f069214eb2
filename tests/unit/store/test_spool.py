"""The log spool: 0600 from its first byte, stored when the database is back."""

from __future__ import annotations

import stat
from pathlib import Path

from console.app import Services
from console.core.store.spool import Spool


def test_spooled_lines_and_the_end_are_stored_and_the_spool_emptied(
    services: Services, home: Path
) -> None:
    services.jobs.create("spooled", unit="none")
    job = services.jobs.get("spooled")
    assert services.runs.acquire(job.id, "me")
    run = services.runs.start(job.id, job.name, "run once", "me")
    spool = Spool(home)
    now = services.runs.clock()
    spool.add_lines(run.id, job.name, [(now, "information", "kept while away")])
    spool.add_finish(run.id, job.id, "me", "succeeded", None, 3, now)
    assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600
    assert spool.replay(services.store) == 2
    stored = services.runs.get(run.id)
    assert (stored.status, stored.rows_written) == ("succeeded", 3)
    assert [e.message for e in services.runs.entries(run_id=run.id)] == ["kept while away"]
    assert services.runs.acquire(job.id, "another")  # the lease was freed
    assert not spool.pending()
