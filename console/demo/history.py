"""A fresh demo's first day: its jobs really run against the Twitter
stand-in, on a clock set back, so the Dashboard opens on a day of runs
(some failed, when the stand-in answered 500) rather than an empty page.

It runs in a thread of its own behind the open window, on a console of its
own over the same database (its own clock); the window hears of each run as
it hears of another process's. `DayOfRuns.stop` ends it between two runs.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from console.app import Services, open_services
from console.core.clock import utcnow
from console.demo.twitter_standin import TwitterStandIn

#: Runs every `STEP_HOURS` over the last `HOURS`; one in `FAIL_EVERY` is
#: answered 500 by the stand-in.
HOURS, STEP_HOURS, FAIL_EVERY = 24, 2, 4
JOBS = ("getUpdates", "getUpdatesJs")


class ShiftedClock:
    """The wall clock set back by `behind`: a run made now is recorded as
    made then."""

    def __init__(self) -> None:
        self.behind = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() - self.behind


class DayOfRuns:
    """The seeding thread: `start` it once the demo is open."""

    def __init__(
        self, services: Services, standin: TwitterStandIn, hours: int | None = None
    ) -> None:
        self.hours = HOURS if hours is None else hours
        self._home, self._db_url = services.home, services.location.db_url
        self._keyring = services.keyring.backend()
        self._standin = standin
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-history", daemon=True)

    def start(self) -> DayOfRuns:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.wait()

    def wait(self, timeout: float = 30) -> None:
        """Until the day is made (or stopped)."""
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        clock = ShiftedClock()
        services = open_services(
            self._home, self._db_url, keyring_backend=self._keyring, clock=clock
        )
        try:
            for i, back in enumerate(range(self.hours, 0, -STEP_HOURS)):
                for name in JOBS:
                    if self._stop.is_set():
                        return
                    clock.behind = timedelta(hours=back, minutes=7 * (i % 5))
                    if (i + JOBS.index(name)) % FAIL_EVERY == FAIL_EVERY - 1:
                        self._standin.fail_next("500")
                    services.runner.run(name)
        finally:
            services.close()


def seed_wanted(services: Services) -> bool:
    """A demo home with no run yet gets a day of them."""
    return not services.runs.runs(limit=1)
