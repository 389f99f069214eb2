"""A run's log when the database cannot take it: kept in one file in the
home, `log-spool.jsonl` (mode 0600 from its first byte), and stored when the
database is back.

It is the only file a log line may touch. Lines reach it masked, as they
would reach the database. Several consoles on one home share it under an
exclusive `flock`.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from console.core.store import schema
from console.core.store.database import Store

SPOOL_FILENAME = "log-spool.jsonl"


class Spool:
    """The spool file of one home."""

    def __init__(self, home: Path) -> None:
        self.path = home / SPOOL_FILENAME

    @contextmanager
    def _locked(self) -> Iterator[int]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)

    def _write(self, records: Sequence[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
        with self._locked() as fd:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]

    def add_lines(
        self, run_id: int, job_name: str, entries: Sequence[tuple[datetime, str, str]]
    ) -> None:
        self._write(
            [
                {
                    "t": "log",
                    "run": run_id,
                    "job": job_name,
                    "at": at.isoformat(),
                    "level": lv,
                    "msg": m,
                }
                for at, lv, m in entries
            ]
        )

    def add_finish(
        self,
        run_id: int,
        job_id: int,
        owner: str,
        status: str,
        error: str | None,
        rows: int,
        ended_at: datetime,
    ) -> None:
        self._write(
            [
                {
                    "t": "finish",
                    "run": run_id,
                    "job_id": job_id,
                    "owner": owner,
                    "status": status,
                    "error": error,
                    "rows": rows,
                    "at": ended_at.isoformat(),
                }
            ]
        )

    def pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    def replay(self, store: Store) -> int:
        """Store what the spool holds, in one transaction, then empty it.
        Returns how many records were stored; raises if the database still
        cannot take them (the spool is kept)."""
        if not self.pending():
            return 0
        with self._locked() as fd:
            with os.fdopen(os.dup(fd), "rb") as f:
                f.seek(0)
                raw = f.read()
            records = []
            for line in raw.splitlines():
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # a line cut by a full disk: the rest is still worth having
            if records:
                with store.write() as conn:
                    _store(conn, records)
            os.ftruncate(fd, 0)
        return len(records)


def _store(conn: sa.Connection, records: list[dict[str, Any]]) -> None:
    runs = schema.runs
    known = set(
        conn.execute(
            sa.select(runs.c.id).where(runs.c.id.in_({int(r["run"]) for r in records}))
        ).scalars()
    )
    logs = [
        {
            "run_id": r["run"] if r["run"] in known else None,
            "job_name": r["job"],
            "at": datetime.fromisoformat(r["at"]),
            "level": r["level"],
            "message": r["msg"],
        }
        for r in records
        if r.get("t") == "log"
    ]
    if logs:
        conn.execute(schema.log_entries.insert(), logs)
    for r in records:
        if r.get("t") != "finish":
            continue
        conn.execute(
            runs.update()
            .where(runs.c.id == r["run"], runs.c.status.in_(("running", "interrupted")))
            .values(
                status=r["status"],
                error=r["error"],
                rows_written=r["rows"],
                ended_at=datetime.fromisoformat(r["at"]),
            )
        )
        conn.execute(
            schema.leases.update()
            .where(schema.leases.c.job_id == r["job_id"], schema.leases.c.owner == r["owner"])
            .values(owner=None, expires_at=None, run_id=None)
        )
