"""A cancel flag that also stops what is running now.

`Cancel` is a `threading.Event` (the runner waits on one) that, when set,
calls the hooks registered for the work in progress: a query in flight is
interrupted (sqlite3's `Connection.interrupt()`, psycopg's `cancel()`)
instead of running to its end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Cancelled(Exception):
    """The work was cancelled before it finished."""


class Cancel(threading.Event):
    """Set once to cancel; `interrupts(fn)` registers what stops the work.

    A run's cancel is the user's (`set`: the run is "cancelled") or its
    console's or worker's as it stops (`interrupt`: the run is "interrupted",
    and says why)."""

    def __init__(self) -> None:
        super().__init__()
        self._hooks: list[Callable[[], None]] = []
        self._hooks_lock = threading.Lock()
        self.interrupted: str | None = None

    def interrupt(self, why: str) -> None:
        """Stop, not by the user's wish: `why` names what stopped it."""
        self.interrupted = why
        self.set()

    def set(self) -> None:
        super().set()
        with self._hooks_lock:
            hooks = list(self._hooks)
        for hook in hooks:
            _quietly(hook)

    def check(self) -> None:
        """Raise `Cancelled` if cancelled (between steps of long work)."""
        if self.is_set():
            raise Cancelled

    @contextmanager
    def interrupts(self, hook: Callable[[], None]) -> Iterator[None]:
        """While the block runs, a cancel calls `hook` (from the cancelling thread)."""
        with self._hooks_lock:
            self._hooks.append(hook)
        try:
            if self.is_set():
                _quietly(hook)
            yield
        finally:
            with self._hooks_lock:
                self._hooks.remove(hook)


def _quietly(hook: Callable[[], None]) -> None:
    try:
        hook()
    except Exception:  # an interrupt that comes too late has nothing to stop
        pass
