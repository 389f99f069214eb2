"""A run stopped on time, whatever its supervisor is doing.

The supervisor's loop reads the run's output and stores its log; on SQLite
a log flush waits for the write lock, which the run's own table operation
may hold (an update of millions of rows, done by the supervisor's table
link or by the run itself). The timeout and the user's Cancel must not wait
behind it: they are what ends that operation. So a thread of the run's own
waits for its deadline or its cancel, then asks the run's process group to
end (SIGTERM), stops its table operation under way (`on_stop`: rolled
back), and kills the group `grace_s` later if it has not ended.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack

from console.core.running import runner_platform
from console.core.store.cancel import Cancel

#: How often a plain `threading.Event` cancel is looked at (a `Cancel` wakes
#: the thread itself).
POLL_S = 0.1


class RunStopper:
    """`send(sig)` sends a signal to the run's process group."""

    def __init__(
        self,
        send: Callable[[int], None],
        timeout_s: float,
        grace_s: float,
        cancel: threading.Event,
        on_stop: Callable[[], None] = lambda: None,
    ) -> None:
        self._send, self._grace_s, self._cancel, self._on_stop = send, grace_s, cancel, on_stop
        self._deadline = time.monotonic() + timeout_s
        self._paused_at: float | None = None
        self._ended = False
        self._wake = threading.Condition()
        #: Why the run was stopped ("timed out", "cancelled", "interrupted:
        #: …"), once it has been; None while it has not.
        self.stopped_for: str | None = None
        self._thread = threading.Thread(target=self._watch, name="run stopper", daemon=True)
        self._thread.start()

    def pause(self, paused: bool) -> None:
        """The run is paused (in the debugger) or goes on: its timeout holds
        while it is paused."""
        with self._wake:
            if paused and self._paused_at is None:
                self._paused_at = time.monotonic()
            elif not paused and self._paused_at is not None:
                self._deadline += time.monotonic() - self._paused_at
                self._paused_at = None
            self._wake.notify()

    def interrupt(self, reason: str) -> None:
        """Stop the run now, as `interrupted: reason`."""
        with self._wake:
            if self.stopped_for is None and not self._ended:
                self.stopped_for = f"interrupted: {reason}"
            self._wake.notify()

    def end(self) -> None:
        """The run has ended: nothing more to stop."""
        with self._wake:
            self._ended = True
            self._wake.notify()
        self._thread.join()

    def _poke(self) -> None:
        with self._wake:
            self._wake.notify()

    def _watch(self) -> None:
        with ExitStack() as hooks:
            if isinstance(self._cancel, Cancel):  # its set() wakes this thread
                hooks.enter_context(self._cancel.interrupts(self._poke))
                poll: float | None = None
            else:
                poll = POLL_S
            with self._wake:
                while not self._ended and self.stopped_for is None:
                    if self._cancel.is_set():
                        interrupted = getattr(self._cancel, "interrupted", None)
                        self.stopped_for = (
                            f"interrupted: {interrupted}" if interrupted else "cancelled"
                        )
                        break
                    now = time.monotonic()
                    if self._paused_at is None and now >= self._deadline:
                        self.stopped_for = "timed out"
                        break
                    waits = [poll] if poll else []
                    if self._paused_at is None:
                        waits.append(self._deadline - now)
                    self._wake.wait(min(waits, default=None))
                if self._ended:
                    return
        # Outside the lock: stopping the operation under way may take a moment.
        self._send(signal.SIGTERM)
        self._on_stop()
        with self._wake:
            if self._wake.wait_for(lambda: self._ended, self._grace_s):
                return  # it ended within its grace
        self._send(runner_platform.KILL)
