"""Where a console keeps its data: the home directory and the database URL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

HOME_ENV = "MOBILE_CONSOLE_HOME"
DB_ENV = "MOBILE_CONSOLE_DB"
DB_FILENAME = "console.db"


@dataclass(frozen=True)
class Location:
    """A home directory and the database URL the console uses with it."""

    home: Path
    db_url: str


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("mobile-console", appauthor=False))


def resolve(home: str | os.PathLike[str] | None = None, db_url: str | None = None) -> Location:
    """Home from the argument, else MOBILE_CONSOLE_HOME, else the platform's
    user data directory; database from the argument, else MOBILE_CONSOLE_DB,
    else a SQLite file in the home."""
    chosen = Path(home or os.environ.get(HOME_ENV) or default_home()).expanduser().absolute()
    url = db_url or os.environ.get(DB_ENV) or f"sqlite:///{chosen / DB_FILENAME}"
    return Location(home=chosen, db_url=url)


def make_home(home: Path) -> None:
    """Create the home (0700: the logs and the database are the user's
    alone), or say in one line why it cannot be."""
    from console.core.errors import ConsoleError

    for above in [home, *home.parents]:
        if above.exists() and not above.is_dir():
            raise ConsoleError(f"the home {home} cannot be used: {above} is a file, not a folder")
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise ConsoleError(f"cannot create the home {home}: {e.strerror}") from None
