"""How a run ended, in the words History shows: from what the script host
said last (`done`), how its process ended, and whether the runner stopped it
(a cancel, an interruption, its timeout)."""

from __future__ import annotations

import signal
from typing import Any

from console.core.jobs.job_store import Job


def format_memory(mb: int) -> str:
    return f"{mb // 1024} GiB" if mb % 1024 == 0 else f"{mb} MiB"


def format_seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def outcome(
    job: Job, returncode: int, done: dict[str, Any] | None, stopped_for: str | None
) -> tuple[str, str | None]:
    """(status, error) of a run whose host ended with `returncode`."""
    if stopped_for == "cancelled":
        return "cancelled", "cancelled by the user"
    if stopped_for is not None and stopped_for.startswith("interrupted"):
        return "interrupted", stopped_for
    if stopped_for == "timed out":
        return "timed out", f"timed out after {job.timeout_s} s"
    if done is not None:
        if done.get("ok"):
            return "succeeded", None
        kind = done.get("kind")
        if kind == "memory":
            return "failed", f"ran out of memory (limit {format_memory(job.memory_mb)})"
        if kind == "exit":
            return "failed", f"exited early with code {done.get('code')}"
        return "failed", str(done.get("error") or "failed")
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return "failed", f"crashed: killed by {name}"
    return "failed", f"exited early with code {returncode}"
