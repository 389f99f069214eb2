"""Runs' HTTP recordings: the exchanges a run's script made, masked in the
script host (`running/http_recording.py`), stored here compressed beside the
run, one row a run. `RecordingStore` owns the `http_recordings` table; a
recording goes with its run (the run log's purge, a deleted job) by its
foreign key.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from console.core.errors import ConsoleError, NotFoundError
from console.core.store import schema
from console.core.store.changes import Change
from console.core.store.database import Store

Exchange = dict[str, Any]


def body_size(body: dict[str, Any] | None) -> int:
    """Bytes of a recorded body as it was sent or received."""
    if not body:
        return 0
    if "bytes" in body:
        return int(body["bytes"])
    if "text" in body:
        return len(str(body["text"]).encode("utf-8"))
    return len(str(body.get("base64", ""))) * 3 // 4


def exchange_size(exchange: Exchange) -> int:
    return body_size(exchange.get("request_body")) + body_size(exchange.get("response_body"))


def is_truncated(exchange: Exchange) -> bool:
    return any(
        bool((exchange.get(side) or {}).get("truncated"))
        for side in ("request_body", "response_body")
    )


@dataclass(frozen=True)
class Recording:
    """One run's exchanges, in the order they were made."""

    run_id: int
    exchanges: list[Exchange]
    bytes: int

    @property
    def incomplete(self) -> list[int]:
        """Numbers (from 1) of the exchanges that kept a body only as its digest."""
        return [i for i, e in enumerate(self.exchanges, 1) if is_truncated(e)]


class Collector:
    """A run's exchanges as they arrive from its script host, within the
    run's byte budget: past it, an exchange keeps its bodies as digests."""

    def __init__(self, run_limit: int) -> None:
        self.exchanges: list[Exchange] = []
        self.left = run_limit

    def add(self, exchange: Exchange) -> None:
        size = exchange_size(exchange)
        if size > self.left:
            for side in ("request_body", "response_body"):
                body = exchange.get(side)
                if body and not body.get("truncated"):
                    exchange[side] = {"sha256": "", "bytes": body_size(body), "truncated": True}
            size = 0
        self.left -= size
        self.exchanges.append(exchange)


class RecordingStore:
    """Stores and reads runs' HTTP recordings."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def save(self, run_id: int, exchanges: list[Exchange]) -> None:
        """Keep `run_id`'s exchanges (none: nothing is stored)."""
        if not exchanges:
            return
        data = zlib.compress(json.dumps(exchanges, ensure_ascii=False).encode("utf-8"), 6)
        row = {
            "run_id": run_id,
            "exchanges": len(exchanges),
            "bytes": sum(exchange_size(e) for e in exchanges),
            "truncated": sum(1 for e in exchanges if is_truncated(e)),
            "data": data,
        }
        with self.store.write() as conn:
            conn.execute(
                schema.http_recordings.delete().where(schema.http_recordings.c.run_id == run_id)
            )
            conn.execute(schema.http_recordings.insert().values(**row))
            self.store.announce(conn, Change("runs"))

    def get(self, run_id: int) -> Recording | None:
        """The run's recording, or None when it made no request (or recorded none)."""
        t = schema.http_recordings
        with self.store.read() as conn:
            row = conn.execute(sa.select(t.c.data, t.c.bytes).where(t.c.run_id == run_id)).first()
        if row is None:
            return None
        exchanges = json.loads(zlib.decompress(row.data).decode("utf-8"))
        return Recording(run_id, exchanges, int(row.bytes))

    def for_replay(self, run_id: int, job_id: int, job_name: str) -> Recording:
        """The recording a replay of `job_name` answers from; ConsoleError
        when the run is another job's or recorded nothing."""
        with self.store.read() as conn:
            run = conn.execute(
                sa.select(schema.runs.c.job_id, schema.runs.c.job_name).where(
                    schema.runs.c.id == run_id
                )
            ).first()
        if run is None:
            raise NotFoundError(f"no run {run_id}")
        if run.job_id != job_id:
            raise ConsoleError(
                f"run {run_id} is a run of {run.job_name}, not of {job_name}: "
                "replay a run of the same job"
            )
        recording = self.get(run_id)
        if recording is None:
            raise ConsoleError(f"run {run_id} has no HTTP recording to replay")
        return recording


def http_payload(limits: dict[str, Any], replay: Recording | None) -> dict[str, Any]:
    """What the script host needs to record (and, with `replay`, to replay)
    its run's HTTP: the `"http"` and `"replay_run"` payload fields."""
    payload: dict[str, Any] = {
        "http": {
            "record": bool(limits.get("record_http", True)),
            "body_bytes": int(limits.get("record_http_body_bytes", 256_000)),
            "run_bytes": int(limits.get("record_http_run_bytes", 10_000_000)),
        }
    }
    if replay is not None:
        payload["replay_run"] = {"run": replay.run_id, "exchanges": replay.exchanges}
    return payload


def replay_notes(recording: Recording) -> list[str]:
    """The lines a replay's log starts with: what it answers from, and
    which exchanges it cannot answer in full."""
    count = len(recording.exchanges)
    notes = [
        f"Replaying run {recording.run_id}: {count} recorded HTTP exchange{'s' * (count != 1)}"
    ]
    if recording.incomplete:
        numbers = ", ".join(map(str, recording.incomplete))
        notes.append(
            f"The recording of run {recording.run_id} is incomplete: exchange(s) {numbers} "
            "kept only a digest of their bodies (past the recording limits)"
        )
    return notes
