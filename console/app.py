"""The composition root: the core services for one home and database.

The window and the command line both start here; every service gets what it
needs through its constructor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.core import paths
from console.core.clock import Clock, utcnow
from console.core.config.app_settings import AppSettings
from console.core.config.keyring import Keyring
from console.core.config.redirects import RedirectStore
from console.core.config.settings import Settings
from console.core.jobs.job_store import JobStore
from console.core.jobs.recordings import RecordingStore
from console.core.jobs.runs import RunLog
from console.core.running.runner import Runner
from console.core.scheduling.webhook import FailureWebhook
from console.core.scheduling.workers import WorkerRegistry
from console.core.store.changes import ChangeFeed
from console.core.store.database import Store, sqlite_file
from console.core.store.faults import FAULTS
from console.core.store.spool import Spool
from console.core.tables.catalogue import TableStore

if TYPE_CHECKING:
    from console.core.scheduling.scheduler import ConsoleScheduler


@dataclass
class Services:
    """Everything a console needs for one database."""

    location: paths.Location
    store: Store
    tables: TableStore
    settings: Settings
    jobs: JobStore
    runs: RunLog
    keyring: Keyring
    app_settings: AppSettings
    runner: Runner
    webhook: FailureWebhook
    redirects: RedirectStore
    workers: WorkerRegistry
    recordings: RecordingStore

    @property
    def home(self) -> Path:
        return self.location.home

    @property
    def warnings(self) -> list[str]:
        """What the user should know on opening (a home others can read)."""
        found = paths.looser_than_private(self.home, sqlite_file(self.location.db_url))
        return [found] if found else []

    @property
    def changes(self) -> ChangeFeed:
        """Where every write of these services says what it changed."""
        return self.store.changes

    def scheduler(self, **options: Any) -> ConsoleScheduler:
        """A scheduler over these services (not started); its failures and
        recoveries go to the failure web hook."""
        # loaded here: a command that schedules nothing (`job run`) does without it
        from console.core.scheduling.scheduler import ConsoleScheduler

        scheduler = ConsoleScheduler(
            self.store,
            self.jobs,
            self.runs,
            self.runner,
            self.settings,
            clock=self.jobs.clock,
            claims=Store(self.store.url, migrate=False, changes=self.store.changes, pool_size=2),
            **options,
        )
        scheduler.alert_listeners.append(self.webhook)
        return scheduler

    def set_setting(self, key: str, value: Any) -> Any:
        """Change a console setting (CLI `config`, the Configure page): the
        tier through the jobs, which check it against the enabled ones."""
        if key == "tier":
            return self.jobs.set_tier(value)
        return self.settings.set(key, value)

    def close(self) -> None:
        self.webhook.close()
        self.runner.close()
        self.workers.close()
        self.store.dispose()


def open_services(
    home: str | Path | None = None,
    db_url: str | None = None,
    *,
    keyring_backend: Any | None = None,
    clock: Clock = utcnow,
    owner: str | None = None,
) -> Services:
    """Open (creating and migrating as needed) the console at `home`/`db_url`.

    `keyring_backend` replaces the OS keyring (tests; the demo without one).
    """
    location = paths.resolve(home, db_url)
    paths.make_home(location.home)
    store = Store(location.db_url)
    # The keyring's service is named after the database's id, which the
    # settings table keeps; secret settings then live in that keyring.
    keyring = Keyring(Settings(store).install_id, keyring_backend)
    settings = Settings(store, keyring)
    jobs = JobStore(store, settings, clock)
    runs = RunLog(store, clock)
    app_settings = AppSettings(store, keyring)
    spool = Spool(location.home)
    if spool.pending():
        try:
            spool.replay(store)
        except FAULTS:
            pass  # kept for a later time; this console can still open
    redirects = RedirectStore(store, clock)
    recordings = RecordingStore(store)
    return Services(
        location=location,
        store=store,
        tables=TableStore(store, clock),
        settings=settings,
        jobs=jobs,
        runs=runs,
        keyring=keyring,
        app_settings=app_settings,
        runner=Runner(
            location.db_url,
            jobs,
            runs,
            app_settings,
            settings,
            owner=owner,
            clock=clock,
            spool=spool,
            redirects=redirects,
            recordings=recordings,
        ),
        webhook=FailureWebhook(settings, runs),
        redirects=redirects,
        workers=WorkerRegistry(store, clock),
        recordings=recordings,
    )
