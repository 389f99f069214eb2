"""Every saved script of a job: the owner of `script_versions`.

A Save keeps the new script as the next version, inside the saving
transaction; the first Save of a job also keeps the script it had before
(its version 1). A job never saved has one version: its script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from console.core.errors import NotFoundError
from console.core.store import schema


@dataclass(frozen=True)
class ScriptVersion:
    version: int
    saved_at: datetime
    script: str


def keep(conn: Connection, job_id: int, old: str, old_at: datetime, new: str, at: datetime) -> int:
    """Inside the saving transaction: keep `new` as the job's next version
    (and `old` first, if none was kept yet); returns the new version."""
    table = schema.script_versions
    top = conn.execute(
        sa.select(sa.func.max(table.c.version)).where(table.c.job_id == job_id)
    ).scalar()
    if top is None:
        conn.execute(table.insert().values(job_id=job_id, version=1, script=old, saved_at=old_at))
        top = 1
    conn.execute(table.insert().values(job_id=job_id, version=top + 1, script=new, saved_at=at))
    return int(top) + 1


def current_in(conn: Connection, job_ids: Sequence[int]) -> dict[int, int]:
    """Each job's current script version (what a run starting now runs): its
    newest kept, or 1 (a job never saved has one version, its script)."""
    table = schema.script_versions
    found = dict(
        conn.execute(
            sa.select(table.c.job_id, sa.func.max(table.c.version))
            .where(table.c.job_id.in_(set(job_ids)))
            .group_by(table.c.job_id)
        ).all()
    )
    return {job_id: int(found.get(job_id) or 1) for job_id in job_ids}


def all_versions(
    conn: Connection, job_id: int, script: str, saved_at: datetime
) -> list[ScriptVersion]:
    """The job's versions, oldest first (`script` as of `saved_at`: the one
    version of a job never saved)."""
    table = schema.script_versions
    rows = conn.execute(
        sa.select(table.c.version, table.c.saved_at, table.c.script)
        .where(table.c.job_id == job_id)
        .order_by(table.c.version)
    ).all()
    if not rows:
        return [ScriptVersion(1, saved_at, script)]
    return [ScriptVersion(int(r.version), r.saved_at, r.script) for r in rows]


def one(
    conn: Connection, job_id: int, job_name: str, script: str, saved_at: datetime, n: int
) -> ScriptVersion:
    """Version `n` of the job's script (NotFoundError if there is none)."""
    for version in all_versions(conn, job_id, script, saved_at):
        if version.version == n:
            return version
    raise NotFoundError(f"{job_name} has no script version {n}")


def ran_at(versions: list[ScriptVersion], at: datetime) -> ScriptVersion:
    """Of a job's `versions` (oldest first), the one a run started at `at`
    ran: the newest saved by then (the oldest, if all are newer)."""
    used = versions[0]
    for version in versions:
        if version.saved_at <= at:
            used = version
    return used


def diff_text(used: ScriptVersion, current: ScriptVersion) -> str:
    """What changed from the version a run used to the current script, as
    a unified diff; empty if it is the current one."""
    if used.version == current.version:
        return ""
    import difflib  # here: every command that opens the console loads this module

    return "".join(
        difflib.unified_diff(
            used.script.splitlines(keepends=True),
            current.script.splitlines(keepends=True),
            f"version {used.version} (the run's)",
            f"version {current.version} (current)",
        )
    )
