"""A job's retry policy: how many retries, the wait before each, and which
ended runs earn one. Plain values and checks, shared by the job's own fields
(`job_store`), the scheduler's retry queue and the window's spin boxes.
"""

from __future__ import annotations

from datetime import timedelta

from console.core.errors import ConsoleError

MAX_RETRIES = 10
MIN_DELAY_S = 1
MAX_DELAY_S = 86_400
DEFAULT_DELAY_S = 60
#: Statuses worth another attempt; "cancelled" was the user's decision.
RETRIED = frozenset({"failed", "timed out"})


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise ConsoleError(f"{what} must be a whole number, not {value!r}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConsoleError(f"{what} must be a whole number, not {value!r}") from None


def check_retries(value: object) -> int:
    """A job's retry count: 0 to 10."""
    retries = _whole(value, "--retries")
    if not 0 <= retries <= MAX_RETRIES:
        raise ConsoleError(f"--retries must be from 0 to {MAX_RETRIES}, not {retries}")
    return retries


def check_retry_delay(value: object) -> int:
    """The wait before a job's first retry, in seconds: at least 1."""
    delay = _whole(value, "--retry-delay (seconds)")
    if not MIN_DELAY_S <= delay <= MAX_DELAY_S:
        raise ConsoleError(
            f"--retry-delay must be from {MIN_DELAY_S} to {MAX_DELAY_S:,} seconds, not {delay}"
        )
    return delay


def backoff(delay_s: int, failed_attempt: int) -> timedelta:
    """The wait after attempt `failed_attempt` (1 = the scheduled run) failed."""
    return timedelta(seconds=delay_s * 2 ** (failed_attempt - 1))


def format_wait(wait: timedelta) -> str:
    seconds = int(wait.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:.1f} h"


def retries_left(n: int) -> str:
    """How a log line says `n` remaining retries."""
    return f"{n} remaining retr{'y' if n == 1 else 'ies'}"
