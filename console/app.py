"""The composition root: the core services for one home and database.

The window and the command line both start here; every service gets what it
needs through its constructor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.core import paths
from console.core.settings import Settings
from console.core.store import Store
from console.core.user_tables import TableStore


@dataclass
class Services:
    """Everything a console needs for one database."""

    location: paths.Location
    store: Store
    tables: TableStore
    settings: Settings

    @property
    def home(self) -> Path:
        return self.location.home

    def close(self) -> None:
        self.store.dispose()


def open_services(
    home: str | Path | None = None, db_url: str | None = None, **overrides: Any
) -> Services:
    """Open (creating and migrating as needed) the console at `home`/`db_url`."""
    location = paths.resolve(home, db_url)
    location.home.mkdir(parents=True, exist_ok=True)
    store = Store(location.db_url)
    return Services(
        location=location,
        store=store,
        tables=TableStore(store),
        settings=Settings(store),
    )
