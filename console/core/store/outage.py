"""The database going away and coming back, as a worker sees it: one line
when it goes, a growing wait between attempts, one line when it is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

FIRST_WAIT_S = 1.0
LONGEST_WAIT_S = 30.0


def is_unavailable(error: BaseException) -> bool:
    """The database cannot be reached (stopped, restarting, network gone),
    as opposed to a mistake in what was asked of it."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError)


class Outage:
    """Tracks one outage at a time; safe to call from any thread."""

    def __init__(self, say: Callable[[str], None], monotonic: Callable[[], float] = time.monotonic):
        self._say = say
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._since: float | None = None
        self._wait = FIRST_WAIT_S

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> float:
        """The database failed us: say so the first time; how long to wait
        before the next attempt (doubling up to `LONGEST_WAIT_S`)."""
        with self._lock:
            if self._since is None:
                self._since = self._monotonic()
                self._wait = FIRST_WAIT_S
                reason = str(getattr(error, "orig", None) or error).strip().splitlines()
                self._say(
                    f"database unavailable ({reason[0] if reason else type(error).__name__}); "
                    "retrying with backoff; no run starts until it is back"
                )
                return self._wait
            self._wait = min(self._wait * 2, LONGEST_WAIT_S)
            return self._wait

    def ok(self) -> None:
        """A round trip worked: if the database was gone, say it is back."""
        with self._lock:
            since, self._since = self._since, None
        if since is None:
            return
        gone = self._monotonic() - since
        self._say(f"database back after {gone:.0f} s; resuming")
