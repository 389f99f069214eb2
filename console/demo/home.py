"""The demo: a console on its own home with the tutorial's Updates table and
getUpdates job, pointed at a Twitter stand-in on loopback, so it all works
offline. Created on first use, reused later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from console.app import Services, open_services
from console.core import paths
from console.core.clock import Clock, utcnow
from console.core.errors import NotFoundError
from console.demo.history import DayOfRuns, seed_wanted
from console.demo.memory_keyring import MemoryKeyring
from console.demo.twitter_standin import TwitterStandIn

QUERY = "#mobileservices"
TWITTER_API = "https://api.twitter.com/"


@dataclass
class Demo:
    services: Services
    standin: TwitterStandIn
    #: Said in the window when the demo could not use the OS keyring.
    keyring_note: str | None
    #: A fresh demo's first day of runs, being made (`history`).
    history: DayOfRuns | None = None

    def close(self) -> None:
        if self.history is not None:
            self.history.stop()
        self.standin.stop()
        self.services.close()


def demo_home() -> Path:
    """`demo/` inside the console's home ($MOBILE_CONSOLE_HOME or the platform's
    user data folder): beside the user's own data, never in it."""
    return paths.resolve().home / "demo"


def start_demo(
    home: str | Path | None = None,
    db_url: str | None = None,
    *,
    publish_every_s: float = 20.0,
    clock: Clock = utcnow,
    history: bool = False,
) -> Demo:
    """The demo, prepared; with `history`, a home with no run yet fills with a
    day of them behind the window (`console.demo.history`)."""
    standin = TwitterStandIn().start()
    standin.publish(120, query=QUERY, spread=timedelta(hours=2))
    if publish_every_s > 0:
        standin.publish_every(publish_every_s)
    home = Path(home) if home else demo_home()
    # Without --db the demo keeps to its own file, even when MOBILE_CONSOLE_DB
    # names the user's real database: the demo writes made-up credentials.
    db_url = db_url or f"sqlite:///{home / paths.DB_FILENAME}"
    services = open_services(home, db_url, clock=clock)
    note = services.keyring.problem()
    if note:
        services.close()
        services = open_services(home, db_url, keyring_backend=MemoryKeyring(), clock=clock)
        note = f"{note}. The demo keeps its made-up Twitter credentials in memory only."
    _prepare(services, standin)
    day = DayOfRuns(services, standin).start() if history and seed_wanted(services) else None
    return Demo(services, standin, note, day)


def _prepare(services: Services, standin: TwitterStandIn) -> None:
    if "updates" not in {t.name.lower() for t in services.tables.all()}:
        services.tables.create("Updates")
    for name, template in (("getUpdates", "getUpdates"), ("getUpdatesJs", "getUpdates-js")):
        try:
            services.jobs.get(name)
        except NotFoundError:
            services.jobs.create(name, interval=1, unit="minute", template=template)
    # Both templates call https://api.twitter.com unchanged; a redirect sends
    # them to the stand-in (a new port each time).
    services.redirects.add(TWITTER_API, standin.search_url.split("1.1/")[0])
    credentials = standin.credentials
    settings = services.app_settings
    if "TWITTER_SEARCH_URL" in {s.name for s in settings.list()}:
        settings.delete("TWITTER_SEARCH_URL")  # an older demo's; the redirect does it now
    settings.set("TWITTER_QUERY", QUERY)
    settings.set("TWITTER_ACCESS_TOKEN", credentials.access_token, secret=True)
    settings.set("TWITTER_ACCESS_TOKEN_SECRET", credentials.access_token_secret, secret=True)
    settings.set_identity(credentials.consumer_key, credentials.consumer_secret)
