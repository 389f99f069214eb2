"""The statements of a run's heartbeat and end (`RunLog`), built once: a
third of an end's CPU was building them."""

from __future__ import annotations

import sqlalchemy as sa

from console.core.store import schema

_L, _R, _p = schema.leases, schema.runs, sa.bindparam

#: The job's lease let go by its owner.
LET_GO = (
    _L.update()
    .where(_L.c.job_id == _p("lease_job"), _L.c.owner == _p("lease_owner"))
    .values(owner=None, expires_at=None, run_id=None)
)
#: The status of job `job`'s last run that ended before run `below` (a run
#: cancelled, or still going, does not count), passing over `skip` of them.
OUTCOME_BEFORE = (
    sa.select(_R.c.status)
    .where(_R.c.job_id == _p("job"), _R.c.id < _p("below"))
    .where(_R.c.status.not_in(("running", "cancelled")))
    .order_by(_R.c.id.desc())
    .limit(1)
    .offset(_p("skip"))
)


def _ended(status_before: str) -> sa.Update:
    return (
        _R.update()
        .where(_R.c.id == _p("run"), _R.c.status == status_before)
        .values(status=_p("end_status"), error=_p("end_error"), rows_written=_p("end_rows"))
        .values(ended_at=_p("end_at", type_=schema.UTCDateTime()))
    )


#: A run's end; no row when another console has ended it meanwhile (taken
#: for abandoned while its own was stopped or cut off: `RunLog.abandoned_in`).
ENDED = _ended("running")
#: A run's own end over the `interrupted` another console gave it: what
#: happened, told late.
ENDED_LATE = _ended("interrupted")
#: How a run is recorded now: for an end that finds it ended already.
STORED_END = sa.select(_R.c.status, _R.c.error, _R.c.rows_written, _R.c.ended_at).where(
    _R.c.id == _p("run")
)
#: What a live run has written so far, at each heartbeat (so a run taken for
#: abandoned keeps it); no row when another console has taken it so.
STILL_RUNNING = (
    _R.update()
    .where(_R.c.id == _p("run"), _R.c.status == "running")
    .values(rows_written=_p("rows"))
)
